// test-tray.cc — porch-tray on a real X server (Xvfb, started here): the window a user
// opens with --window is there and its title says Porch. No network: nothing leaves the
// process group this test starts and ends.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "test-util.h"

namespace
{

constexpr const char *kTray = PORCH_PROGRAM_PORCH_TRAY;

std::string
Which(const char *tool)
{
    g_autofree char *p = g_find_program_in_path(tool);
    return p ? p : "";
}

// Skips (or fails under CI, which must run every test) when a tool is not installed.
#define REQUIRE_TOOL(tool)                                                                         \
    do {                                                                                           \
        if (Which(tool).empty()) {                                                                 \
            if (g_getenv("CI"))                                                                    \
                FAIL() << tool << " is not installed (Debian: xvfb, x11-utils, dbus)";             \
            GTEST_SKIP() << tool << " is not installed (Debian: xvfb, x11-utils, dbus)";           \
        }                                                                                          \
    } while (0)

// Runs argv (with extra environment) in a process group of its own; returns its pid.
pid_t
Spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        for (const std::string &e : env)
            putenv(strdup(e.c_str()));
        std::vector<char *> a;
        for (const std::string &s : argv)
            a.push_back(const_cast<char *>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid);
    return pid;
}

// Ends the process group led by pid and reaps the leader.
void
StopGroup(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, nullptr, WNOHANG) == pid)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
}

class Xvfb
{
  public:
    // Starts Xvfb on a display of its own (porch::test::StartXvfb), local connections only,
    // and checks that it answers.
    bool Start()
    {
        g_autofree char *path =
                g_build_filename(g_get_tmp_dir(), "porch-test-xvfb-XXXXXX", nullptr);
        int tmp = g_mkstemp(path);
        if (tmp < 0)
            return false;
        close(tmp);
        log_ = path;
        pid_ = porch::test::StartXvfb("1024x768x24", log_, false, &display_);
        return pid_ > 0 && WindowTreeOk();
    }
    ~Xvfb()
    {
        StopGroup(pid_);
        if (!log_.empty())
            unlink(log_.c_str());
    }
    // What Xvfb wrote to stderr, for failure messages.
    std::string Log() const
    {
        g_autofree char *text = nullptr;
        g_file_get_contents(log_.c_str(), &text, nullptr, nullptr);
        return text ? text : "";
    }
    const std::string &display() const
    {
        return display_;
    }
    // True when the X server answers.
    bool WindowTreeOk() const
    {
        std::string env = "DISPLAY=" + display_;
        const char *argv[] = {"xwininfo", "-root", nullptr};
        const char *envp[] = {env.c_str(), nullptr};
        int status = -1;
        return g_spawn_sync(nullptr, (char **)argv, (char **)envp,
                            (GSpawnFlags)(G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                          G_SPAWN_STDERR_TO_DEV_NULL),
                            nullptr, nullptr, nullptr, nullptr, &status, nullptr) &&
               WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

  private:
    pid_t pid_ = -1;
    std::string display_;
    std::string log_;
};

std::string
WindowTree(const std::string &display)
{
    std::string env = "DISPLAY=" + display;
    const char *argv[] = {"xwininfo", "-root", "-tree", nullptr};
    const char *envp[] = {env.c_str(), nullptr};
    g_autofree char *out = nullptr;
    g_spawn_sync(nullptr, (char **)argv, (char **)envp, G_SPAWN_SEARCH_PATH, nullptr, nullptr, &out,
                 nullptr, nullptr, nullptr);
    return out ? out : "";
}

TEST(Tray, VersionNeedsNoDisplay)
{
    const char *argv[] = {kTray, "--version", nullptr};
    const char *envp[] = {"PATH=/usr/bin:/bin", nullptr};
    g_autofree char *out = nullptr;
    int status = -1;
    ASSERT_TRUE(g_spawn_sync(nullptr, (char **)argv, (char **)envp, G_SPAWN_DEFAULT, nullptr,
                             nullptr, &out, nullptr, &status, nullptr));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(std::string(out), std::string("porch-tray ") + PORCH_VERSION + "\n");
}

TEST(Tray, WindowOptionOpensAWindowTitledPorch)
{
    REQUIRE_TOOL("Xvfb");
    REQUIRE_TOOL("xwininfo");
    REQUIRE_TOOL("dbus-run-session");
    Xvfb x;
    ASSERT_TRUE(x.Start()) << "Xvfb did not start";
    EXPECT_EQ(WindowTree(x.display()).find("\"Porch\""), std::string::npos);

    // A session bus of its own, ended with the process group.
    pid_t tray = Spawn({"dbus-run-session", "--", kTray, "--window"},
                       {"DISPLAY=" + x.display(), "NO_AT_BRIDGE=1"});
    ASSERT_GT(tray, 0);
    std::string tree;
    for (int i = 0; i < 250 && tree.find("\"Porch\"") == std::string::npos; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
        tree = WindowTree(x.display());
    }
    StopGroup(tray);
    EXPECT_NE(tree.find("\"Porch\": (\"porch-tray\""), std::string::npos)
            << "windows on " << x.display() << ":\n"
            << tree << "Xvfb said:\n"
            << x.Log();
}

} // namespace
