// A test LAN on one machine, for GoogleTest: N hosts, each a network namespace with its own
// D-Bus system bus and avahi-daemon, on one bridge. What crosses the network in a test (mDNS,
// SSH/SFTP, IPP) travels between these hosts exactly as on a home network, and nowhere else.
//
//     TEST(Publish, ShareIsBrowsable)
//     {
//         PORCH_REQUIRE_LAN(lan, 2);   // skips when not root (fails under CI=...)
//         pid_t d = lan->spawn(1, {PORCH_PROGRAM_PORCHD, "--config", conf});
//         auto r = lan->run(2, {"avahi-browse", "-rpt", "_sftp-ssh._tcp"});
//         ...
//     }
//
// Needs root (network namespaces) and the tools of Debian's iproute2, dbus-daemon, avahi-daemon,
// util-linux and mount. Safe on a shared machine: nothing is created in the machine's own network
// namespace, every name carries the owning process's pid, and everything is removed when the
// TestLan is destroyed, when the process is killed by SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGABRT or
// exits, or (after SIGKILL) by the next Create() on the machine.
#pragma once

#include "test-util.h"

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include <gtest/gtest.h>

namespace porch::test
{

// What a command run by the harness did.
struct RunResult {
    int exit_status = -1;   // the exit code; -1 when it timed out or died of a signal
    bool timed_out = false; // true when the harness killed it at its deadline
    int term_signal = 0;    // the signal that ended it, if any
    std::string out;        // everything it wrote to stdout
    std::string err;        // everything it wrote to stderr
    // True when the command exited with status 0.
    bool ok() const
    {
        return exit_status == 0;
    }
    // One line for assertion messages: how it ended, then its stderr.
    std::string describe() const;
};

// One LAN; not thread-safe. Every process it starts gets PR_SET_PDEATHSIG(SIGKILL), so call
// Create() and spawn() from a thread that outlives the LAN (a TEST body does).
class TestLan
{
  public:
    static constexpr int kMaxHosts = 64;

    // Brings up n_hosts (1..kMaxHosts) hosts: host i is the network namespace ns(i) with
    // address(i)/24 and address6(i) on eth0 and lo up, a private dbus-daemon on bus_address(i)
    // and an avahi-daemon (host name "porchtl<i>"; on every interface but lo: eth0, and any a
    // test adds with `ip` through run()) that has reached its running state. Sweeps first what
    // dead test processes left behind.
    // Returns the LAN, or nullptr with the reason in *why_not. *may_skip (if given) is set to
    // true when the reason is a missing precondition (not root, a tool not installed) and the
    // environment variable CI is unset — a test should then skip; otherwise it should fail.
    static std::unique_ptr<TestLan> Create(int n_hosts, std::string *why_not,
                                           bool *may_skip = nullptr);

    // Stops every process in the LAN's namespaces (SIGTERM, SIGKILL after a bounded wait),
    // reaps the children it spawned, deletes the namespaces and the state folder. When the
    // current test has failed, first prints the tail of every daemon and spawn log to stderr.
    ~TestLan();
    TestLan(const TestLan &) = delete;
    TestLan &operator=(const TestLan &) = delete;

    // True when CI is set in the environment: every LAN test must then run, not skip.
    static bool must_run();
    // The tools of `tools` that are not found in PATH (or /usr/sbin, /sbin), space-separated;
    // "" when all are there.
    static std::string missing_tools(const std::vector<std::string> &tools);

    // Number of hosts.
    int size() const
    {
        return static_cast<int>(hosts_.size());
    }
    // Name of host i's network namespace (i is 1-based, like every host index below).
    std::string ns(int i) const;
    // Host i's IPv4 address, "10.88.0.<i>".
    std::string address(int i) const;
    // Host i's IPv6 link-local address on eth0 (without "%eth0"), "fe80::88:<i>".
    std::string address6(int i) const;
    // D-Bus address of host i's private system bus, "unix:path=...".
    std::string bus_address(int i) const;
    // The LAN's state folder (removed at teardown) and host i's folder inside it, where tests
    // may put configuration, shares and logs.
    std::string state_dir() const;
    std::string host_dir(int i) const;
    // Pids of host i's avahi-daemon and dbus-daemon (children of this process).
    pid_t avahi_pid(int i) const;
    pid_t bus_pid(int i) const;
    // Stops host i's avahi-daemon if it still runs (SIGTERM, then reaped; a test may have
    // stopped it already) and starts a new one as Create() did; waits at most 20 s for it to
    // reach its running state. avahi_pid(i) then names the new daemon. False if it did not.
    bool restart_avahi(int i);

    // Runs argv inside host i (ip netns exec, DBUS_SYSTEM_BUS_ADDRESS set to its bus) with
    // stdin from /dev/null, waits for it at most timeout_s seconds (then kills its process
    // group) and returns what it did. argv[0] is looked up in PATH.
    RunResult run(int host, const std::vector<std::string> &argv, double timeout_s = 10);
    // Like run(), but also inside host i's avahi mount namespace (nsenter -t avahi_pid(i) -m
    // -n), where /run/avahi-daemon/socket is that host's avahi: nss-mdns resolves .local there.
    RunResult run_in_avahi_ns(int host, const std::vector<std::string> &argv,
                              double timeout_s = 10);
    // Runs argv in this process's own namespaces, like run(). For tests that need the machine's
    // view (ip netns list, ...).
    static RunResult run_local(const std::vector<std::string> &argv, double timeout_s = 10);

    // Starts argv in the background inside host i (same environment as run()), in its own
    // process group, stdout and stderr appended to log_path (default: a new file in
    // host_dir(i)). Returns its pid, or -1 if it could not be started. It is stopped and reaped
    // at teardown at the latest, and killed (SIGKILL) if the thread that spawned it exits.
    pid_t spawn(int host, const std::vector<std::string> &argv, const std::string &log_path = "");
    // The log file of a process started by spawn(), "" if pid is not one.
    std::string spawn_log(pid_t pid) const;
    // True while a process started by spawn() has not exited.
    bool running(pid_t pid);
    // Sends sig to the process group of a process started by spawn(), waits for it at most 5 s
    // (then SIGKILL) and reaps it; if it had already exited, only reports. Returns its exit
    // code, 128 + signal if a signal ended it, or -1 if spawn() did not start pid.
    int stop(pid_t pid, int sig = SIGTERM);

    // Calls fn on a new thread that has joined host i's network namespace, and waits for it.
    // Sockets fn creates stay in that namespace. fn must not throw. False if joining failed.
    bool in_netns(int host, const std::function<void()> &fn);

    // ---- A private CUPS scheduler per host ----
    //
    // Host i's cupsd keeps everything under cups_dir(i): etc/ (ServerRoot: cupsd.conf,
    // cups-files.conf, printers.conf, ppd/), spool/, cache/, state/, log/ (error_log, ...),
    // run/cups.sock (its only listener: no TCP port, no browsing, no DNS-SD) and serverbin/
    // (links to /usr/lib/cups/{daemon,driver,filter,notifier}; backend/ a real folder of links
    // to /usr/lib/cups/backend/* and, if asked for, a root-owned 0700 copy of Porch's backend
    // named "porch"). FileDevice is on, so file:///PATH queues work; output files are created
    // by cupsd (root, 0600) and truncated per job.
    //
    // Every client of it (lpadmin, lp, lpstat, porchd, porch printer add) must get
    // CUPS_SERVER=cups_server(i) in its environment: without it libcups falls back to
    // /run/cups/cups.sock, the machine's own cupsd.
    struct CupsdOptions {
        // A file to install as the backend "porch" (e.g. the built porch-backend); ""
        // for none.
        std::string porch_backend;
        // PORCH_STATE_DIR that cupsd passes to backends (SetEnv): where the porch backend finds
        // the host key and its known_peers (shared/porch-state.h). "": cups_dir(i) +
        // "/porch-state".
        // Created (0700) if missing.
        std::string porch_state_dir;
    };
    // Starts host i's cupsd in its network namespace (again, after stop_cupsd(): the queues
    // and jobs it saved are kept) and waits at most 15 s until it answers on its socket
    // (`lpstat -r`). Backends it runs get DBUS_SYSTEM_BUS_ADDRESS=bus_address(i), so they
    // resolve names through host i's avahi-daemon. Returns cups_server(i), or "" with the
    // reason in *why_not (cupsd not installed, it exited: the tail of its error_log). It is
    // stopped at teardown like every spawned process.
    std::string start_cupsd(int host, std::string *why_not, const CupsdOptions &options = {});
    // The path of host i's cupsd socket: the CUPS_SERVER for its clients. Defined whether or
    // not the cupsd runs (a client then finds nobody there, never the machine's cupsd).
    std::string cups_server(int host) const;
    // Host i's cupsd folder, host_dir(i) + "/cups".
    std::string cups_dir(int host) const;
    // The pid of host i's cupsd, -1 when start_cupsd() did not start one.
    pid_t cupsd_pid(int host) const;
    // Stops host i's cupsd (SIGTERM: it saves its queues and jobs; reaped). Returns its exit
    // code as stop() does, -1 if none was started.
    int stop_cupsd(int host);
    // Like run(), with CUPS_SERVER=cups_server(i) in the environment: for lpadmin, lp, lpstat,
    // cupsenable, ... on host i's cupsd.
    RunResult run_cups(int host, const std::vector<std::string> &argv, double timeout_s = 10);

  private:
    struct Child {
        pid_t pid;
        std::string log;
        bool reaped;
        int status;
    };
    struct Host {
        std::string ns, dir;
        pid_t bus = -1, avahi = -1, cupsd = -1;
    };
    TestLan() = default;
    bool bring_up(int n_hosts, std::string *why_not);
    RunResult run_ns(int host, std::vector<std::string> prefix,
                     const std::vector<std::string> &argv, double timeout_s);
    Child *find_child(pid_t pid);
    pid_t start(const std::vector<std::string> &argv, const std::string &log_path);
    pid_t start_avahi(int i);
    void dump_logs() const;

    int slot_ = -1;           // index in the registry the signal handlers tear down
    std::string prefix_;      // "ptl<pid>-<k>"
    std::string state_;       // "/tmp/porch-testlan-<pid>-<k>"
    std::string bridge_ns_;   // "<prefix>-br"
    std::vector<Host> hosts_; // hosts_[i - 1] is host i
    std::vector<Child> kids_; // every process this LAN started in the background
    int spawn_count_ = 0;
};

// Waits until the porchd @pid (started by lan->spawn(), its log in @log) has written its
// " running: " line: false when it was not started, exited first, or did not within @seconds.
inline bool
PorchdStarted(TestLan *lan, pid_t pid, const std::string &log, double seconds = 15)
{
    return pid > 0 &&
           WaitFor([&] { return Contains(ReadFile(log), " running: ") || !lan->running(pid); },
                   seconds) &&
           lan->running(pid);
}

} // namespace porch::test

// In a TEST body: declares `std::unique_ptr<porch::test::TestLan> var` with n hosts, or ends
// the test — skipped, with the reason, when a precondition is missing and CI is unset; failed
// otherwise.
#define PORCH_REQUIRE_LAN(var, n)                                                                  \
    std::string var##_why_not;                                                                     \
    bool var##_may_skip = false;                                                                   \
    std::unique_ptr<::porch::test::TestLan> var =                                                  \
            ::porch::test::TestLan::Create((n), &var##_why_not, &var##_may_skip);                  \
    if (!var) {                                                                                    \
        if (var##_may_skip)                                                                        \
            GTEST_SKIP() << "test LAN unavailable: " << var##_why_not;                             \
        else                                                                                       \
            GTEST_FAIL() << "test LAN unavailable: " << var##_why_not                              \
                         << (::porch::test::TestLan::must_run()                                    \
                                     ? " (CI is set: LAN tests must run)"                          \
                                     : "");                                                        \
    }

// In a TEST body: ends the test unless every named tool is installed — skipped with the list
// of missing tools, or failed when CI is set.
#define PORCH_REQUIRE_TOOLS(...)                                                                   \
    do {                                                                                           \
        std::string porch_missing_ = ::porch::test::TestLan::missing_tools({__VA_ARGS__});         \
        if (!porch_missing_.empty()) {                                                             \
            if (::porch::test::TestLan::must_run())                                                \
                GTEST_FAIL() << "missing tools (CI is set): " << porch_missing_;                   \
            else                                                                                   \
                GTEST_SKIP() << "missing tools: " << porch_missing_;                               \
        }                                                                                          \
    } while (0)
