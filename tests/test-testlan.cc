// Proof that the test LAN harness gives what LAN tests rely on: mDNS crosses from host to host,
// hosts are isolated from the machine, nothing runs in the machine's own network namespace,
// and everything is removed afterwards — also what a killed test process left behind.
#include "testlan.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using porch::test::RunResult;
using porch::test::TestLan;
using Clock = std::chrono::steady_clock;

namespace
{

std::vector<std::string>
split(const std::string &s, char sep)
{
    std::vector<std::string> parts;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, sep);)
        parts.push_back(part);
    return parts;
}

// Names of the network namespaces on the machine, as `ip netns list` shows them.
std::vector<std::string>
netns_names()
{
    std::vector<std::string> names;
    for (const std::string &line : split(TestLan::run_local({"ip", "netns", "list"}).out, '\n'))
        if (!line.empty())
            names.push_back(split(line, ' ')[0]);
    return names;
}

bool
has_netns(const std::string &name)
{
    for (const std::string &n : netns_names())
        if (n == name)
            return true;
    return false;
}

bool
exists(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

bool
alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

// The namespace link of a process ("net:[4026531840]"), "" if it cannot be read.
std::string
ns_link(const std::string &pid, const char *kind)
{
    char buf[64] = "";
    ssize_t n = readlink(("/proc/" + pid + "/ns/" + kind).c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, n) : "";
}

// The namespace link a namespace file under /run/netns stands for.
std::string
netns_file_link(const std::string &name)
{
    struct stat st;
    if (stat(("/run/netns/" + name).c_str(), &st) != 0)
        return "";
    return "net:[" + std::to_string(st.st_ino) + "]";
}

// The first `avahi-browse -p` line on host that starts with `kind` ("+", "=") for the IPv4
// instance of _porchtest._tcp, split at ';'; empty if there is none.
std::vector<std::string>
browse_ipv4(TestLan &lan, int host, const char *kind, RunResult *last)
{
    *last = lan.run(host, {"avahi-browse", "-rpt", "-k", "_porchtest._tcp"}, 5);
    for (const std::string &line : split(last->out, '\n')) {
        std::vector<std::string> f = split(line, ';');
        if (f.size() >= 6 && f[0] == kind && f[2] == "IPv4")
            return f;
    }
    return {};
}

std::string
read_file(const std::string &path)
{
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

} // namespace

TEST(Lan, ServicePublishedOnHost1ResolvesOnHost2)
{
    PORCH_REQUIRE_TOOLS("avahi-publish", "avahi-browse");
    PORCH_REQUIRE_LAN(lan, 2);
    pid_t publisher = lan->spawn(
            1, {"avahi-publish", "-s", "Porch LAN check", "_porchtest._tcp", "4422", "v=1"});
    ASSERT_GT(publisher, 0);

    RunResult last;
    std::vector<std::string> seen;
    for (auto end = Clock::now() + std::chrono::seconds(10); seen.empty() && Clock::now() < end;)
        if ((seen = browse_ipv4(*lan, 2, "=", &last)).empty())
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(seen.size(), 10u) << "no resolved IPv4 line on host 2 within 10 s; last browse: "
                                << last.describe() << "\n"
                                << last.out << "publisher log:\n"
                                << read_file(lan->spawn_log(publisher));
    EXPECT_EQ(seen[1], "eth0");
    EXPECT_EQ(seen[3], "Porch\\032LAN\\032check");
    EXPECT_EQ(seen[4], "_porchtest._tcp");
    EXPECT_EQ(seen[6], "porchtl1.local");
    EXPECT_EQ(seen[7], "10.88.0.1");
    EXPECT_EQ(seen[8], "4422");
    EXPECT_EQ(seen[9], "\"v=1\"");

    // Withdrawn from host 2 once the publisher stops (measured: ~1 s).
    EXPECT_EQ(lan->stop(publisher), 0);
    bool gone = false;
    for (auto end = Clock::now() + std::chrono::seconds(10); !gone && Clock::now() < end;)
        gone = browse_ipv4(*lan, 2, "+", &last).empty() && last.ok();
    EXPECT_TRUE(gone) << "still listed on host 2 10 s after the publisher stopped:\n" << last.out;
}

TEST(Lan, HostsAreIsolatedAndCleanedUp)
{
    auto t0 = Clock::now();
    std::string prefix, state;
    std::vector<pid_t> daemons;
    {
        PORCH_REQUIRE_LAN(lan, 2);
        double up = std::chrono::duration<double>(Clock::now() - t0).count();
        prefix = lan->ns(1).substr(0, lan->ns(1).rfind('-') + 1);
        state = lan->state_dir();
        for (int i = 1; i <= lan->size(); i++) {
            daemons.push_back(lan->avahi_pid(i));
            daemons.push_back(lan->bus_pid(i));
        }
        ASSERT_TRUE(exists(state + "/h1/bus.sock"));
        for (pid_t pid : daemons)
            ASSERT_TRUE(alive(pid)) << pid;

        // Each host has only lo and eth0, with its own addresses.
        RunResult links = lan->run(1, {"ip", "-o", "link", "show"});
        ASSERT_TRUE(links.ok()) << links.describe();
        EXPECT_EQ(split(links.out, '\n').size(), 2u) << links.out;
        RunResult addrs = lan->run(2, {"ip", "-o", "addr", "show", "dev", "eth0"});
        EXPECT_NE(addrs.out.find("inet 10.88.0.2/24"), std::string::npos) << addrs.out;
        EXPECT_NE(addrs.out.find("inet6 fe80::88:2/64"), std::string::npos) << addrs.out;
        // The machine's own network namespace has neither the bridge nor its ports.
        RunResult root_links = TestLan::run_local({"ip", "-o", "link", "show"});
        for (const char *name : {": br0:", ": v1@", ": v2@"})
            EXPECT_EQ(root_links.out.find(name), std::string::npos) << name;

        // Host 1 reaches host 2 over TCP; 10.88.0.2 is an address of host 2 only.
        sockaddr_in to = {};
        to.sin_family = AF_INET;
        inet_pton(AF_INET, lan->address(2).c_str(), &to.sin_addr);
        int listener = -1, here = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        EXPECT_NE(bind(here, reinterpret_cast<sockaddr *>(&to), sizeof to), 0)
                << "10.88.0.2 is an address of the machine's own namespace";
        close(here);
        ASSERT_TRUE(lan->in_netns(2, [&] {
            socklen_t len = sizeof to;
            listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (bind(listener, reinterpret_cast<sockaddr *>(&to), sizeof to) != 0 ||
                listen(listener, 1) != 0 ||
                getsockname(listener, reinterpret_cast<sockaddr *>(&to), &len) != 0) {
                close(listener);
                listener = -1;
            }
        }));
        ASSERT_GE(listener, 0) << "cannot listen on 10.88.0.2 in host 2";
        int connected = -1;
        ASSERT_TRUE(lan->in_netns(1, [&] {
            int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            connected = connect(s, reinterpret_cast<sockaddr *>(&to), sizeof to) == 0 ? 0 : errno;
            close(s);
        }));
        close(listener);
        EXPECT_EQ(connected, 0) << "host 1 cannot connect to host 2: " << strerror(connected);
        if (!TestLan::missing_tools({"ping"}).empty())
            std::printf("[ note     ] ping not installed (iputils-ping): ICMP check skipped\n");
        else {
            RunResult ping = lan->run(1, {"ping", "-c1", "-W2", lan->address(2)});
            EXPECT_TRUE(ping.ok()) << ping.describe() << ping.out;
        }
        t0 = Clock::now();
        lan.reset();
        std::printf("[ timing   ] 2-host LAN up in %.2f s, down in %.2f s\n", up,
                    std::chrono::duration<double>(Clock::now() - t0).count());
    }
    for (const std::string &name : netns_names())
        EXPECT_NE(name.rfind(prefix, 0), 0u) << name << " outlived its LAN";
    EXPECT_FALSE(exists(state)) << state;
    for (pid_t pid : daemons)
        EXPECT_FALSE(alive(pid)) << "daemon " << pid << " outlived its LAN";
}

TEST(Lan, NothingRunsInRootNamespace)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string root_net = ns_link("1", "net"), own_net = ns_link("self", "net");
    ASSERT_FALSE(own_net.empty());
    if (root_net.empty()) // pid 1 may be out of reach (a sandbox's init is not dumpable)
        std::printf("[ note     ] /proc/1/ns/net unreadable: comparing with this process's\n");
    for (int i = 1; i <= lan->size(); i++) {
        for (pid_t pid : {lan->avahi_pid(i), lan->bus_pid(i)}) {
            std::string net = ns_link(std::to_string(pid), "net");
            if (!root_net.empty()) {
                EXPECT_NE(net, root_net) << "pid " << pid;
            }
            EXPECT_NE(net, own_net) << "pid " << pid;
            EXPECT_EQ(net, netns_file_link(lan->ns(i))) << "pid " << pid << " of host " << i;
        }
        // avahi-daemon has its own mount namespace, and its /run/avahi-daemon is seen there only.
        std::string avahi = std::to_string(lan->avahi_pid(i));
        EXPECT_NE(ns_link(avahi, "mnt"), ns_link("self", "mnt"));
        RunResult pidfile = lan->run_in_avahi_ns(i, {"cat", "/run/avahi-daemon/pid"});
        EXPECT_EQ(pidfile.out, avahi + "\n") << pidfile.describe();
        EXPECT_NE(read_file("/run/avahi-daemon/pid"), avahi + "\n");
    }
}

TEST(Lan, LeftoversOfDeadProcessAreSwept)
{
    if (geteuid() != 0) {
        if (TestLan::must_run())
            GTEST_FAIL() << "needs root for network namespaces (CI is set)";
        GTEST_SKIP() << "needs root for network namespaces";
    }
    pid_t dead = 4194000 - getpid() % 1000;
    while (alive(dead))
        dead--;
    std::string id = std::to_string(dead) + "-0";
    std::string stale = "ptl" + id + "-h1", stale_dir = "/tmp/porch-testlan-" + id;
    std::string mine = "ptl" + std::to_string(getpid()) + "-999-h1";         // owner alive
    std::string other = "porchtl-other-" + std::to_string(getpid()) + "-h1"; // not ours
    std::string canary = "/tmp/porch-testlan-canary-" + std::to_string(getpid());
    struct Cleanup {
        std::vector<std::string> names;
        std::string canary;
        pid_t sleeper = -1;
        ~Cleanup()
        {
            for (const std::string &n : names)
                TestLan::run_local({"ip", "netns", "del", n});
            TestLan::run_local({"rm", "-rf", canary});
            if (sleeper > 0 && kill(sleeper, SIGKILL) == 0)
                waitpid(sleeper, nullptr, 0);
        }
    } cleanup{{stale, mine, other}, canary};
    for (const std::string &name : {mine, other}) {
        RunResult r = TestLan::run_local({"ip", "netns", "add", name});
        ASSERT_TRUE(r.ok()) << name << ": " << r.describe();
    }
    // The stale state folder, with a link out of it that the sweep must not follow.
    ASSERT_EQ(mkdir(canary.c_str(), 0755), 0) << canary;
    std::ofstream(canary + "/keep") << "keep\n";
    ASSERT_EQ(mkdir(stale_dir.c_str(), 0755), 0) << stale_dir;
    ASSERT_EQ(mkdir((stale_dir + "/h1").c_str(), 0755), 0);
    std::ofstream(stale_dir + "/h1/avahi.log") << "left behind\n";
    ASSERT_EQ(symlink(canary.c_str(), (stale_dir + "/h1/link").c_str()), 0);

    // The stale namespace, with a process still in it as an orphaned avahi-daemon would be. A
    // test process running in parallel may sweep the namespace before the process is in: retry.
    pid_t sleeper = -1;
    for (int attempt = 0; attempt < 5 && sleeper < 0; attempt++) {
        TestLan::run_local({"ip", "netns", "add", stale});
        pid_t pid = fork();
        if (pid == 0) {
            execlp("ip", "ip", "netns", "exec", stale.c_str(), "sleep", "300", (char *)nullptr);
            _exit(127);
        }
        ASSERT_GT(pid, 0);
        bool reaped = false;
        for (auto end = Clock::now() + std::chrono::seconds(5);
             sleeper < 0 && !reaped && Clock::now() < end;) {
            std::string net = ns_link(std::to_string(pid), "net");
            if (!net.empty() && net == netns_file_link(stale))
                sleeper = pid;
            else if (!(reaped = waitpid(pid, nullptr, WNOHANG) == pid))
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (sleeper < 0 && !reaped && kill(pid, SIGKILL) == 0)
            waitpid(pid, nullptr, 0);
    }
    cleanup.sleeper = sleeper;
    ASSERT_GT(sleeper, 0) << "no process could be started in " << stale;

    {
        PORCH_REQUIRE_LAN(lan, 1);
    }
    int status = 0;
    pid_t reaped = 0;
    for (auto end = Clock::now() + std::chrono::seconds(5); reaped == 0 && Clock::now() < end;)
        if ((reaped = waitpid(sleeper, &status, WNOHANG)) == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (reaped == sleeper)
        cleanup.sleeper = -1;
    EXPECT_TRUE(reaped == sleeper && WIFSIGNALED(status)) << "the stale namespace's process lived";
    EXPECT_FALSE(has_netns(stale)) << stale;
    EXPECT_FALSE(exists(stale_dir)) << stale_dir;
    EXPECT_TRUE(exists(canary + "/keep")) << "the sweep followed a symbolic link";
    EXPECT_TRUE(has_netns(mine)) << "swept the namespace of a live process";
    EXPECT_TRUE(has_netns(other)) << "swept a namespace without the harness's prefix";
}
