// test-util.h — small helpers every test program shares.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

// The value of `key` (e.g. "VmHWM", "RssAnon") in /proc/PID/status, in KiB; -1 when
// unreadable.
inline long
ProcStatusKiB(pid_t pid, const std::string &key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ":", 0) == 0)
            return std::stol(line.substr(key.size() + 1));
    return -1;
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

// Writes data to path (created or truncated) and gives it mode; false on failure.
inline bool
WriteFile(const std::string &path, const std::string &data, mode_t mode = 0644)
{
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f << data;
        if (!f.flush())
            return false;
    }
    return chmod(path.c_str(), mode) == 0;
}

// Creates path and its parents; path gets mode. False on failure.
inline bool
MakeDirs(const std::string &path, mode_t mode = 0755)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    return !ec && chmod(path.c_str(), mode) == 0;
}

// Whether anything (a dangling link too) is at path.
inline bool
Exists(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

inline bool
Contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

// Contains, ignoring case (UTF-8 casefolded).
inline bool
ContainsNoCase(const std::string &haystack, const std::string &needle)
{
    g_autofree char *h = g_utf8_casefold(haystack.c_str(), -1);
    g_autofree char *n = g_utf8_casefold(needle.c_str(), -1);
    return strstr(h, n) != nullptr;
}

// SHA-256 of a file's content (hex), "" when it cannot be read.
inline std::string
Sha256File(const std::string &path)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "";
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    std::vector<guchar> buf(1 << 20);
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0)
        g_checksum_update(sum, buf.data(), n);
    close(fd);
    std::string hex = n == 0 ? g_checksum_get_string(sum) : "";
    g_checksum_free(sum);
    return hex;
}

// Writes `bytes` pseudo-random bytes determined by seed (xorshift: as good as random to a
// compressor or a hash) with mode; returns their SHA-256, "" on failure.
inline std::string
MakeRandomFile(const std::string &path, off_t bytes, uint64_t seed, mode_t mode = 0644)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return "";
    std::vector<uint64_t> block((1 << 20) / sizeof(uint64_t));
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    bool ok = true;
    for (off_t left = bytes; left > 0 && ok;) {
        for (uint64_t &w : block) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w = x;
        }
        size_t n = std::min<off_t>(left, 1 << 20);
        ok = write(fd, block.data(), n) == ssize_t(n);
        left -= n;
    }
    close(fd);
    return ok && fchmodat(AT_FDCWD, path.c_str(), mode, 0) == 0 ? Sha256File(path) : "";
}

// ---- porchd run as root: the system service (daemon/launcher.h) ----
//
// The launcher serves each share as its folder's owner, and a folder that belongs to root as
// the system user 'porch', who may write nothing in it: a test whose clients change a share
// (upload, mkdir, rename, remove, setstat) gives the share to an unprivileged owner before
// porchd starts, and so does it with what it creates there later that a client must change.
// That owner is 'nobody', which every system has.
struct Owner {
    uid_t uid;
    gid_t gid;
};

inline Owner
ShareOwner()
{
    struct passwd *pw = getpwnam("nobody");
    return pw ? Owner{pw->pw_uid, pw->pw_gid} : Owner{65534, 65534};
}

// Gives path and, for a folder, everything beneath it to ShareOwner(); links themselves, never
// what they point to. False on failure.
inline bool
GiveToShareOwner(const std::string &path)
{
    namespace fs = std::filesystem;
    const Owner o = ShareOwner();
    std::error_code ec;
    if (lchown(path.c_str(), o.uid, o.gid) != 0)
        return false;
    if (!fs::is_directory(fs::symlink_status(path, ec)))
        return true;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (lchown(it->path().c_str(), o.uid, o.gid) != 0)
            return false;
    return !ec;
}

// The system user porchd's network side runs as ('porch'; scripts/dev deps makes it).
inline Owner
ServiceUser()
{
    struct passwd *pw = getpwnam("porch");
    return pw ? Owner{pw->pw_uid, pw->pw_gid} : Owner{uid_t(-1), gid_t(-1)};
}

// The living (not zombie) processes whose parent is `parent`, named `comm` unless it is "".
inline std::vector<pid_t>
ChildProcesses(pid_t parent, const std::string &comm = "")
{
    std::vector<pid_t> found;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d != nullptr && (e = readdir(d)) != nullptr;) {
        char *end = nullptr;
        long p = strtol(e->d_name, &end, 10);
        if (p <= 0 || *end != '\0')
            continue;
        std::string stat = ReadFile(std::string("/proc/") + e->d_name + "/stat");
        size_t open_paren = stat.find('('), close_paren = stat.rfind(')');
        if (open_paren == std::string::npos || close_paren == std::string::npos)
            continue;
        std::string name = stat.substr(open_paren + 1, close_paren - open_paren - 1);
        char state = 0;
        int ppid = 0;
        if (sscanf(stat.c_str() + close_paren + 1, " %c %d", &state, &ppid) == 2 &&
            ppid == parent && state != 'Z' && (comm.empty() || name == comm))
            found.push_back(pid_t(p));
    }
    if (d != nullptr)
        closedir(d);
    return found;
}

// Whether @pid is a share's indexer (porchd-worker --index) rather than its file worker.
inline bool
IsIndexer(pid_t pid)
{
    return ReadFile("/proc/" + std::to_string(pid) + "/cmdline")
                   .find(std::string("--index\0", 8)) != std::string::npos;
}

// The shares' indexers (porchd-worker --index) under the porchd launcher `launcher`.
inline std::vector<pid_t>
Indexers(pid_t launcher)
{
    std::vector<pid_t> found;
    for (pid_t p : ChildProcesses(launcher, "porchd-worker"))
        if (IsIndexer(p))
            found.push_back(p);
    return found;
}

// The network side of the porchd launcher `launcher` (its child porchd --network-side, which
// runs the listener and is the parent of the sessions), -1 when there is none (yet).
inline pid_t
NetworkSide(pid_t launcher)
{
    for (pid_t c : ChildProcesses(launcher)) {
        std::string cmdline = ReadFile("/proc/" + std::to_string(c) + "/cmdline");
        if (cmdline.find(std::string("--network-side\0", 15)) != std::string::npos)
            return c;
    }
    return -1;
}

// porchd's sessions (porchd-session processes) under the launcher `launcher`.
inline std::vector<pid_t>
PorchdSessions(pid_t launcher)
{
    pid_t network = NetworkSide(launcher);
    return network > 0 ? ChildProcesses(network, "porchd-session") : std::vector<pid_t>();
}

// Starts Xvfb (local connections only, screen @screen such as "1280x900x24") on a display
// it chooses itself (-displayfd): picking a number here and hoping nobody else takes it
// raced when tests ran in parallel. Xvfb writes the number once it accepts connections.
// Returns its pid (in a process group of its own, killed with this process when
// @die_with_parent) and sets *@display to ":N"; -1 when it did not start within 10 s.
// Its stderr goes to @log (a path) or to /dev/null when @log is empty.
inline pid_t
StartXvfb(const std::string &screen, const std::string &log, bool die_with_parent,
          std::string *display)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    // everything the child needs, made before fork(): only async-signal-safe calls there
    std::string fd = std::to_string(fds[1]);
    const char *err = log.empty() ? "/dev/null" : log.c_str();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (die_with_parent)
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        dup2(e, STDOUT_FILENO);
        dup2(e, STDERR_FILENO);
        fcntl(fds[1], F_SETFD, 0);
        execlp("Xvfb", "Xvfb", "-displayfd", fd.c_str(), "-nolisten", "tcp", "-screen", "0",
               screen.c_str(), (char *)nullptr);
        _exit(127);
    }
    close(fds[1]);
    std::string number;
    bool done = false;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (pid > 0 && !done && std::chrono::steady_clock::now() < until) {
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        char c;
        ssize_t n = read(fds[0], &c, 1);
        if (n <= 0)
            break; // Xvfb exited without a display
        if (c == '\n')
            done = !number.empty();
        else if (c >= '0' && c <= '9' && number.size() < 6)
            number += c;
    }
    close(fds[0]);
    if (pid > 0 && !done) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return -1;
    }
    *display = ":" + number;
    return pid;
}

// Files a transfer must not leave behind anywhere under root: NAME.part (get) and hidden
// temporary names (put: ".porch-...").
inline std::vector<std::string>
Leftovers(const std::string &root)
{
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if ((name.size() > 5 && name.compare(name.size() - 5, 5, ".part") == 0) ||
            name.rfind(".porch", 0) == 0)
            found.push_back(it->path().string());
    }
    return found;
}

} // namespace porch::test
