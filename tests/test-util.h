// test-util.h — small helpers every test program shares.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <unistd.h>

#include <glib.h>

namespace porch::test
{

// The whole content of the file at path (binary-safe), "" when it cannot be read.
inline std::string
ReadFile(const std::string &path)
{
    g_autofree char *s = nullptr;
    gsize len = 0;
    if (!g_file_get_contents(path.c_str(), &s, &len, nullptr))
        return "";
    return std::string(s, len);
}

// Polls pred every 50 ms for at most seconds; true as soon as it holds.
inline bool
WaitFor(const std::function<bool()> &pred, double seconds)
{
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        if (pred())
            return true;
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// A regular executable file named `name` below build_dir (outside CMakeFiles), "" if none.
inline std::string
FindBuilt(const std::string &build_dir, const std::string &name)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(build_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && it->path().filename() == "CMakeFiles") {
            it.disable_recursion_pending();
            continue;
        }
        if (it->path().filename() == name && it->is_regular_file(ec) &&
            access(it->path().c_str(), X_OK) == 0)
            return it->path().string();
    }
    return "";
}

// Makes an Ed25519 key pair at path (and path.pub) with ssh-keygen; returns the public key
// line, "" on failure.
inline std::string
MakeKey(const std::string &path, const std::string &comment)
{
    const char *argv[] = {"ssh-keygen", "-q",    "-t", "ed25519", "-N",   "",
                          "-C",         nullptr, "-f", nullptr,   nullptr};
    int status = 0;
    argv[7] = comment.c_str();
    argv[9] = path.c_str();
    if (!g_spawn_sync(nullptr, (char **)argv, nullptr,
                      (GSpawnFlags)(G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL),
                      nullptr, nullptr, nullptr, nullptr, &status, nullptr) ||
        !g_spawn_check_wait_status(status, nullptr))
        return "";
    std::string line = ReadFile(path + ".pub");
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.pop_back();
    return line;
}

} // namespace porch::test
