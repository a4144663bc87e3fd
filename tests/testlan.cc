// The test LAN harness: see testlan.h for the contract.
//
// Layout of LAN k of test process P:
//   namespaces  ptlP-k-br (bridge br0, ports v1..vN)  ptlP-k-h1..hN (lo, eth0)
//   state       /tmp/porch-testlan-P-k/{netns,bridge}.batch
//               /tmp/porch-testlan-P-k/hI/{bus.conf,bus.sock,net.batch,avahi/,*.log}
//               /tmp/porch-testlan-P-k/hI/cups/ (a private cupsd, when a test starts one)
// Teardown is written with async-signal-safe calls only (no malloc, no stdio), so the signal
// handlers and the sweep of dead processes' leftovers share it with the destructor.
#include "testlan.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

namespace porch::test
{
namespace
{

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char *kNetnsDir = "/run/netns";
constexpr const char *kStateParent = "/tmp";
constexpr int kMaxLans = 16;
constexpr int kNameMax = 48;

// ---- Async-signal-safe teardown ----

// What a signal handler needs to tear a live LAN down.
struct Record {
    bool in_use = false; // guarded by g_records_mutex
    std::atomic<bool> live{false};
    pid_t owner = 0; // a forked child (a death test) must not tear down its parent's LAN
    int n_ns = 0;
    char ns[TestLan::kMaxHosts + 1][kNameMax];
    char state[kNameMax]; // folder name under kStateParent
};
Record g_records[kMaxLans];
std::mutex g_records_mutex;

struct NsId {
    dev_t dev;
    ino_t ino;
};

// dst = a + b + c, truncated to fit n bytes.
void
join3(char *dst, size_t n, const char *a, const char *b, const char *c = "")
{
    size_t k = 0;
    for (const char *s : {a, b, c})
        for (; *s && k + 1 < n; s++)
            dst[k++] = *s;
    dst[k] = 0;
}

void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
}

// Calls f(name) for each entry of the directory fd but "." and "..", from its start.
template <typename F>
void
each_entry(int fd, F f)
{
    alignas(struct dirent64) char buf[4096];
    ssize_t n;
    lseek(fd, 0, SEEK_SET);
    while ((n = getdents64(fd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            auto *d = reinterpret_cast<struct dirent64 *>(buf + off);
            off += d->d_reclen;
            if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
                f(d->d_name);
        }
    }
}

// Sends sig (0: none) to every other process whose network namespace is one of ids[0..n).
// Returns how many such processes there are (zombies have none and do not count).
int
signal_netns(const NsId *ids, int n, int sig)
{
    int proc = n > 0 ? open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (proc < 0)
        return 0;
    int found = 0;
    each_entry(proc, [&](const char *name) {
        pid_t pid = 0;
        for (const char *s = name; *s; s++) {
            if (*s < '0' || *s > '9')
                return;
            pid = pid * 10 + (*s - '0');
        }
        char path[64];
        struct stat st;
        join3(path, sizeof path, name, "/ns/net");
        if (pid == getpid() || fstatat(proc, path, &st, 0) != 0)
            return;
        for (int i = 0; i < n; i++) {
            if (st.st_dev == ids[i].dev && st.st_ino == ids[i].ino) {
                found++;
                if (sig != 0)
                    kill(pid, sig);
                break;
            }
        }
    });
    close(proc);
    return found;
}

// Waits at most ms milliseconds until no process is left in the namespaces ids[0..n).
bool
wait_netns_empty(const NsId *ids, int n, int ms)
{
    for (int t = 0; signal_netns(ids, n, 0) > 0; t += 10) {
        if (t >= ms)
            return false;
        sleep_ms(10);
    }
    return true;
}

// Removes `name` under the directory `parent`: a file, or a directory with all it holds. Never
// follows a symbolic link nor descends into another file system. True if it is gone.
bool
remove_tree_at(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return unlinkat(parent, name, 0) == 0 || errno == ENOENT;
    struct stat st, pst;
    if (fstat(fd, &st) == 0 && fstat(parent, &pst) == 0 && st.st_dev == pst.st_dev) {
        // Entries removed while reading may shift the rest: read again until nothing goes.
        for (bool again = true; again;) {
            again = false;
            each_entry(fd, [&](const char *child) { again |= remove_tree_at(fd, child); });
        }
    }
    close(fd);
    return unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}

// Stops every process in the namespaces names[0..n) (SIGTERM, then SIGKILL after grace_ms),
// deletes the namespaces and removes kStateParent/state (unless state is null).
void
teardown(const char *const *names, int n, const char *state, int grace_ms)
{
    NsId ids[TestLan::kMaxHosts + 1] = {};
    char path[128];
    int k = 0;
    struct stat st;
    for (int i = 0; i < n && k < TestLan::kMaxHosts + 1; i++) {
        join3(path, sizeof path, kNetnsDir, "/", names[i]);
        if (stat(path, &st) == 0)
            ids[k++] = {st.st_dev, st.st_ino};
    }
    if (signal_netns(ids, k, SIGTERM) > 0 && !wait_netns_empty(ids, k, grace_ms)) {
        signal_netns(ids, k, SIGKILL);
        wait_netns_empty(ids, k, 2000);
    }
    for (int i = 0; i < n; i++) {
        join3(path, sizeof path, kNetnsDir, "/", names[i]);
        umount2(path, MNT_DETACH);
        unlink(path);
    }
    int dir = state ? open(kStateParent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dir >= 0) {
        remove_tree_at(dir, state);
        close(dir);
    }
}

void
teardown_all_live()
{
    for (Record &r : g_records)
        if (r.owner == getpid() && r.live.exchange(false)) {
            const char *names[TestLan::kMaxHosts + 1];
            for (int i = 0; i < r.n_ns; i++)
                names[i] = r.ns[i];
            teardown(names, r.n_ns, r.state, 1000);
        }
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT};
struct sigaction g_old_actions[32];

// Tears down every live LAN, then lets the signal do what it did before the harness came.
void
on_fatal_signal(int sig)
{
    int saved = errno;
    teardown_all_live();
    sigaction(sig, &g_old_actions[sig], nullptr);
    raise(sig);
    errno = saved;
}

void
install_handlers_once()
{
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa = {};
        sa.sa_handler = on_fatal_signal;
        sigfillset(&sa.sa_mask);
        for (int sig : kSignals)
            if (sigaction(sig, &sa, &g_old_actions[sig]) == 0 &&
                g_old_actions[sig].sa_handler == SIG_IGN)
                sigaction(sig, &g_old_actions[sig], nullptr); // ignored (nohup): leave it so
        std::atexit(teardown_all_live);
    });
}

// ---- Ordinary helpers ----

bool
pid_dead(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

// The pid in a name "<prefix><pid>-<k>" followed by "-br" or "-h<i>" (for a namespace) or by
// nothing (for a state folder); 0 if the name is not of that form.
pid_t
owner_of(const char *name, const char *prefix, bool netns)
{
    auto digits = [](const char *p) -> const char * {
        const char *q = p;
        while (*q >= '0' && *q <= '9')
            q++;
        return q > p ? q : nullptr;
    };
    size_t n = strlen(prefix);
    const char *pid = name + n, *k, *rest, *end;
    if (strncmp(name, prefix, n) != 0 || !(k = digits(pid)) || k - pid > 9 || *k != '-' ||
        !(rest = digits(k + 1)))
        return 0;
    bool ok = netns ? strcmp(rest, "-br") == 0 ||
                              (strncmp(rest, "-h", 2) == 0 && (end = digits(rest + 2)) && !*end)
                    : !*rest;
    return ok ? atoi(pid) : 0;
}

// Tears down what test processes that no longer exist left behind: namespaces
// "ptl<pid>-<k>-{br,h<i>}" and folders /tmp/porch-testlan-<pid>-<k>. Touches nothing else.
void
sweep_dead_owners()
{
    auto stale = [](const char *dir_path, const char *prefix, bool netns) {
        std::vector<std::string> names;
        int dir = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
            return names;
        each_entry(dir, [&](const char *name) {
            pid_t owner = owner_of(name, prefix, netns);
            if (owner > 0 && pid_dead(owner))
                names.push_back(name);
        });
        close(dir);
        return names;
    };
    for (const std::string &name : stale(kNetnsDir, "ptl", true)) {
        const char *names[] = {name.c_str()};
        teardown(names, 1, nullptr, 1000);
    }
    for (const std::string &name : stale(kStateParent, "porch-testlan-", false))
        teardown(nullptr, 0, name.c_str(), 0);
}

// Host i's interfaces: its IPv6 link-local address is fixed and usable at once (no DAD).
const char *const kHostBatch = R"(link set lo up
link set eth0 addrgenmode none
addr add @IP4@/24 dev eth0
addr add @IP6@/64 dev eth0 nodad
link set eth0 up
)";

const char *const kAvahiConf = R"([server]
host-name=porchtl@I@
use-ipv4=yes
use-ipv6=yes
deny-interfaces=lo
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
)";

// A system bus that lets everyone own and call everything: tests run servers as any user.
const char *const kBusConf = R"(<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=@DIR@/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
)";

// A cupsd that listens on its own socket only and never browses or advertises. Without the
// Location blocks, root's lpadmin over the socket is refused as Unauthorized.
const char *const kCupsdConf = R"(LogLevel debug
Listen @D@/run/cups.sock
Browsing No
BrowseLocalProtocols none
DefaultShared No
WebInterface No
<Location />
  Order allow,deny
</Location>
<Location /admin>
  Order allow,deny
</Location>
)";

// Every path of its own; what a backend needs to reach host i's porch state and avahi.
const char *const kCupsFilesConf = R"(ServerRoot @D@/etc
RequestRoot @D@/spool
TempDir @D@/spool/tmp
CacheDir @D@/cache
StateDir @D@/state
ServerBin @D@/serverbin
AccessLog @D@/log/access_log
ErrorLog @D@/log/error_log
PageLog @D@/log/page_log
Printcap @D@/state/printcap
FileDevice Yes
SystemGroup root
User lp
Group lp
CreateSelfSignedCerts no
SetEnv PORCH_STATE_DIR @PORCH_STATE@
SetEnv DBUS_SYSTEM_BUS_ADDRESS @BUS@
)";

// text with every key of `vars` replaced by its value.
std::string
subst(std::string text, const std::vector<std::pair<std::string, std::string>> &vars)
{
    for (const auto &[key, value] : vars)
        for (size_t at; (at = text.find(key)) != std::string::npos;)
            text.replace(at, key.size(), value);
    return text;
}

std::string
find_tool(const std::string &name)
{
    if (name.find('/') != std::string::npos)
        return access(name.c_str(), X_OK) == 0 ? name : "";
    const char *env = getenv("PATH");
    std::stringstream path(std::string(env ? env : "") + ":/usr/sbin:/sbin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(path, dir, ':')) {
        std::string candidate = dir + "/" + name;
        if (!dir.empty() && access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return "";
}

bool
write_file(const std::string &path, const std::string &text)
{
    std::ofstream f(path);
    f << text;
    return static_cast<bool>(f.flush());
}

// The last `max` bytes of a file, "" if it cannot be read.
std::string
tail(const std::string &path, size_t max = 4096)
{
    std::ifstream f(path, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return s.size() > max ? "..." + s.substr(s.size() - max) : s;
}

// An argv for execv(), built before fork() so that the child only makes system calls.
struct Argv {
    std::vector<std::string> s;
    std::vector<char *> p;
    explicit Argv(std::vector<std::string> v) : s(std::move(v))
    {
        for (std::string &x : s)
            p.push_back(x.data());
        p.push_back(nullptr);
    }
};

// In a fresh child: own process group, killed with its parent, stdin from /dev/null.
void
child_setup(pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(null, 0);
}

// Waits at most ms milliseconds for the child pid; true (and *status) if it was reaped.
bool
reap(pid_t pid, int *status, int ms)
{
    for (int t = 0;; t += 10) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        if (t >= ms)
            return false;
        sleep_ms(10);
    }
}

struct ConnUnref {
    void operator()(GDBusConnection *c) const
    {
        g_dbus_connection_close_sync(c, nullptr, nullptr);
        g_object_unref(c);
    }
};
using Conn = std::unique_ptr<GDBusConnection, ConnUnref>;

Conn
bus_connect(const std::string &address)
{
    return Conn(g_dbus_connection_new_for_address_sync(
            address.c_str(),
            GDBusConnectionFlags(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
            nullptr, nullptr, nullptr));
}

// avahi-daemon's server state (AVAHI_SERVER_RUNNING is 2), or -1 if it does not answer.
int
avahi_state(GDBusConnection *c)
{
    GVariant *v = g_dbus_connection_call_sync(
            c, "org.freedesktop.Avahi", "/", "org.freedesktop.Avahi.Server", "GetState", nullptr,
            G_VARIANT_TYPE("(i)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 1000, nullptr, nullptr);
    if (!v)
        return -1;
    int state = -1;
    g_variant_get(v, "(i)", &state);
    g_variant_unref(v);
    return state;
}

} // namespace

std::string
RunResult::describe() const
{
    std::string how = timed_out     ? "timed out"
                      : term_signal ? "killed by signal " + std::to_string(term_signal)
                                    : "exit status " + std::to_string(exit_status);
    return how + (err.empty() ? "" : ", stderr: " + err);
}

bool
TestLan::must_run()
{
    const char *ci = getenv("CI");
    return ci && *ci;
}

std::string
TestLan::missing_tools(const std::vector<std::string> &tools)
{
    std::string missing;
    for (const std::string &t : tools)
        if (find_tool(t).empty())
            missing += (missing.empty() ? "" : " ") + t;
    return missing;
}

std::unique_ptr<TestLan>
TestLan::Create(int n_hosts, std::string *why_not, bool *may_skip)
{
    auto fail = [&](const std::string &why, bool precondition) {
        if (why_not)
            *why_not = why;
        if (may_skip)
            *may_skip = precondition && !must_run();
        return std::unique_ptr<TestLan>();
    };
    if (geteuid() != 0)
        return fail("needs root for network namespaces", true);
    std::string missing =
            missing_tools({"ip", "dbus-daemon", "avahi-daemon", "unshare", "nsenter", "mount"});
    if (!missing.empty())
        return fail("missing tools: " + missing +
                            " (Debian: iproute2 dbus-daemon avahi-daemon util-linux mount)",
                    true);
    if (n_hosts < 1 || n_hosts > kMaxHosts)
        return fail("host count " + std::to_string(n_hosts) + " is not in 1.." +
                            std::to_string(kMaxHosts),
                    false);
    install_handlers_once();
    sweep_dead_owners();
    std::unique_ptr<TestLan> lan(new TestLan());
    std::string why;
    if (!lan->bring_up(n_hosts, &why))
        return fail(why, false); // lan's destructor removes whatever was brought up
    if (may_skip)
        *may_skip = false;
    return lan;
}

bool
TestLan::bring_up(int n, std::string *why_not)
{
    static std::atomic<int> counter{0};
    std::string id = std::to_string(getpid()) + "-" + std::to_string(counter++);
    prefix_ = "ptl" + id;
    state_ = std::string(kStateParent) + "/porch-testlan-" + id;
    bridge_ns_ = prefix_ + "-br";
    for (int i = 1; i <= n; i++)
        hosts_.push_back({prefix_ + "-h" + std::to_string(i), state_ + "/h" + std::to_string(i)});

    // Register the names first, so a signal during bring-up removes them too.
    {
        std::lock_guard<std::mutex> lock(g_records_mutex);
        for (int s = 0; s < kMaxLans && slot_ < 0; s++)
            if (!g_records[s].in_use)
                slot_ = s;
        if (slot_ < 0) {
            *why_not = "more than " + std::to_string(kMaxLans) + " test LANs at once";
            return false;
        }
        Record &r = g_records[slot_];
        r.in_use = true;
        r.owner = getpid();
        r.n_ns = n + 1;
        join3(r.ns[0], kNameMax, bridge_ns_.c_str(), "");
        for (int i = 0; i < n; i++)
            join3(r.ns[i + 1], kNameMax, hosts_[i].ns.c_str(), "");
        join3(r.state, kNameMax, state_.substr(strlen(kStateParent) + 1).c_str(), "");
        r.live = true;
    }

    // A folder of the same name can only be left by an earlier process with this pid.
    teardown(nullptr, 0, g_records[slot_].state, 0);
    std::string netns = "netns add " + bridge_ns_ + "\n";
    std::string bridge = "link add br0 type bridge forward_delay 0 mcast_snooping 0\n"
                         "link set br0 addrgenmode none up\n";
    bool ok = mkdir(state_.c_str(), 0755) == 0;
    for (int i = 1; i <= n && ok; i++) {
        const std::string &dir = hosts_[i - 1].dir, v = "v" + std::to_string(i);
        netns += "netns add " + ns(i) + "\n";
        bridge += "link add " + v + " type veth peer name eth0 netns " + ns(i) + "\n" +
                  "link set " + v + " master br0 addrgenmode none up\n";
        ok = mkdir(dir.c_str(), 0755) == 0 && mkdir((dir + "/avahi").c_str(), 0755) == 0 &&
             mkdir((dir + "/avahi/services").c_str(), 0755) == 0 &&
             write_file(dir + "/net.batch",
                        subst(kHostBatch, {{"@IP4@", address(i)}, {"@IP6@", address6(i)}})) &&
             write_file(dir + "/avahi/avahi-daemon.conf",
                        subst(kAvahiConf, {{"@I@", std::to_string(i)}})) &&
             write_file(dir + "/bus.conf", subst(kBusConf, {{"@DIR@", dir}}));
    }
    ok = ok && write_file(state_ + "/netns.batch", netns) &&
         write_file(state_ + "/bridge.batch", bridge);
    if (!ok) {
        *why_not = "cannot write the state folder " + state_ + ": " + strerror(errno);
        return false;
    }

    // Namespaces, bridge and links: one `ip -batch` per namespace.
    std::string ip = find_tool("ip");
    std::vector<std::vector<std::string>> cmds = {
            {ip, "-b", state_ + "/netns.batch"},
            {ip, "-n", bridge_ns_, "-b", state_ + "/bridge.batch"}};
    for (const Host &h : hosts_)
        cmds.push_back({ip, "-n", h.ns, "-b", h.dir + "/net.batch"});
    for (const auto &cmd : cmds) {
        RunResult r = run_local(cmd, 10);
        if (!r.ok()) {
            *why_not = cmd.back() + ": " + r.describe();
            return false;
        }
    }

    // One system bus per host; avahi-daemon needs it from its start.
    auto deadline = Clock::now() + std::chrono::seconds(20);
    std::vector<Conn> buses;
    for (Host &h : hosts_)
        h.bus = start({ip, "netns", "exec", h.ns, find_tool("dbus-daemon"),
                       "--config-file=" + h.dir + "/bus.conf", "--nofork", "--nopidfile",
                       "--nosyslog"},
                      h.dir + "/dbus.log");
    // Polls ready() until it is true; false with *why_not if the deadline passes or the
    // daemon `pid` (logging to `log`) exits first.
    auto wait_ready = [&](pid_t pid, const std::string &what, const std::string &log,
                          const std::function<bool()> &ready) {
        Child *c = find_child(pid);
        for (;;) {
            if (c && ready())
                return true;
            std::string end;
            if (!c || c->reaped || (c->reaped = reap(pid, &c->status, 0)))
                end = " exited";
            else if (Clock::now() > deadline)
                end = " not ready after 20 s";
            if (!end.empty()) {
                *why_not = what + end + "; its log:\n" + tail(log);
                return false;
            }
            sleep_ms(10);
        }
    };
    for (int i = 1; i <= n; i++) {
        const Host &h = hosts_[i - 1];
        buses.emplace_back();
        if (!wait_ready(h.bus, "dbus-daemon of host " + std::to_string(i), h.dir + "/dbus.log",
                        [&] { return bool(buses.back() = bus_connect(bus_address(i))); }))
            return false;
    }

    for (int i = 1; i <= n; i++)
        hosts_[i - 1].avahi = start_avahi(i);
    for (int i = 1; i <= n; i++) {
        const Host &h = hosts_[i - 1];
        GDBusConnection *bus = buses[i - 1].get();
        if (!wait_ready(h.avahi, "avahi-daemon of host " + std::to_string(i), h.dir + "/avahi.log",
                        [&] { return avahi_state(bus) == 2; }))
            return false;
    }
    return true;
}

// avahi-daemon in its own mount namespace: private /run/avahi-daemon, own /etc/avahi. The exec
// chain keeps the pid: ip -> env -> unshare -> sh -> avahi-daemon.
pid_t
TestLan::start_avahi(int i)
{
    const char *script = "mkdir -p /run/avahi-daemon && "
                         "mount -t tmpfs -o mode=0755 porch-testlan /run/avahi-daemon && "
                         "mount --bind \"$1\" /etc/avahi && "
                         "exec \"$2\" --no-chroot --no-drop-root --no-rlimits";
    const Host &h = hosts_.at(i - 1);
    return start({find_tool("ip"), "netns", "exec", h.ns, "env",
                  "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address(i), find_tool("unshare"), "-m",
                  "--propagation", "private", "sh", "-c", script, "sh", h.dir + "/avahi",
                  find_tool("avahi-daemon")},
                 h.dir + "/avahi.log");
}

bool
TestLan::restart_avahi(int i)
{
    Host &h = hosts_.at(i - 1);
    stop(h.avahi);
    h.avahi = start_avahi(i);
    Conn bus = bus_connect(bus_address(i));
    for (auto end = Clock::now() + std::chrono::seconds(20); bus && running(h.avahi);
         sleep_ms(10)) {
        if (avahi_state(bus.get()) == 2)
            return true;
        if (Clock::now() > end)
            break;
    }
    return false;
}

TestLan::~TestLan()
{
    if (::testing::Test::HasFailure())
        dump_logs();
    std::vector<NsId> ids;
    std::vector<const char *> names;
    if (slot_ >= 0) {
        Record &r = g_records[slot_];
        for (int i = 0; i < r.n_ns; i++) {
            struct stat st;
            names.push_back(r.ns[i]);
            if (stat((std::string(kNetnsDir) + "/" + r.ns[i]).c_str(), &st) == 0)
                ids.push_back({st.st_dev, st.st_ino});
        }
    }
    // SIGTERM everything in the namespaces and every spawned process group; then SIGKILL.
    for (int sig : {SIGTERM, SIGKILL}) {
        signal_netns(ids.data(), ids.size(), sig);
        for (Child &c : kids_)
            if (!c.reaped)
                kill(-c.pid, sig);
        bool done = false;
        for (auto end = Clock::now() + milliseconds(sig == SIGTERM ? 3000 : 2000);
             !done && Clock::now() < end; sleep_ms(10)) {
            done = signal_netns(ids.data(), ids.size(), 0) == 0;
            for (Child &c : kids_)
                if (!c.reaped)
                    done &= c.reaped = reap(c.pid, &c.status, 0);
        }
        if (done)
            break;
    }
    if (slot_ >= 0) {
        teardown(names.data(), names.size(), g_records[slot_].state, 0);
        std::lock_guard<std::mutex> lock(g_records_mutex);
        g_records[slot_].live = false;
        g_records[slot_].in_use = false;
    }
}

std::string
TestLan::ns(int i) const
{
    return hosts_.at(i - 1).ns;
}

std::string
TestLan::address(int i) const
{
    return "10.88.0." + std::to_string(i);
}

std::string
TestLan::address6(int i) const
{
    return "fe80::88:" + std::to_string(i);
}

std::string
TestLan::bus_address(int i) const
{
    return "unix:path=" + hosts_.at(i - 1).dir + "/bus.sock";
}

std::string
TestLan::state_dir() const
{
    return state_;
}

std::string
TestLan::host_dir(int i) const
{
    return hosts_.at(i - 1).dir;
}

pid_t
TestLan::avahi_pid(int i) const
{
    return hosts_.at(i - 1).avahi;
}

pid_t
TestLan::bus_pid(int i) const
{
    return hosts_.at(i - 1).bus;
}

RunResult
TestLan::run_local(const std::vector<std::string> &argv, double timeout_s)
{
    RunResult r;
    std::string path = argv.empty() ? "" : find_tool(argv[0]);
    int out[2], err[2];
    if (path.empty()) {
        r.exit_status = 127;
        r.err = (argv.empty() ? "(empty command)" : argv[0]) + ": not found\n";
        return r;
    }
    if (pipe2(out, O_CLOEXEC) != 0)
        return r;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        return r;
    }
    Argv a(argv);
    a.p[0] = path.data();
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        child_setup(parent);
        dup2(out[1], 1);
        dup2(err[1], 2);
        execv(a.p[0], a.p.data());
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string *dst[2] = {&r.out, &r.err};
    char buf[4096];
    int status = 0;
    if (pid > 0) {
        setpgid(pid, pid);
        auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
        for (;;) {
            auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                r.timed_out = true;
                break;
            }
            poll(fds, 2, std::min<int>(left.count(), 20));
            for (int i = 0; i < 2; i++) {
                if (fds[i].fd < 0 || !fds[i].revents)
                    continue;
                ssize_t got = read(fds[i].fd, buf, sizeof buf);
                if (got > 0)
                    dst[i]->append(buf, got);
                else if (got == 0 || errno != EINTR) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                }
            }
            if (waitpid(pid, &status, WNOHANG) == pid)
                break;
        }
    }
    // What was written before the exit is still in the pipes; a grandchild may keep them open.
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd < 0)
            continue;
        fcntl(fds[i].fd, F_SETFL, O_NONBLOCK);
        for (ssize_t got; (got = read(fds[i].fd, buf, sizeof buf)) > 0;)
            dst[i]->append(buf, got);
        close(fds[i].fd);
    }
    if (pid < 0)
        r.err = std::string("fork: ") + strerror(errno);
    else if (r.timed_out)
        r.term_signal = SIGKILL;
    else if (WIFEXITED(status))
        r.exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r.term_signal = WTERMSIG(status);
    return r;
}

RunResult
TestLan::run_ns(int host, std::vector<std::string> prefix, const std::vector<std::string> &argv,
                double timeout_s)
{
    prefix.push_back("env");
    prefix.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + bus_address(host));
    prefix.insert(prefix.end(), argv.begin(), argv.end());
    return run_local(prefix, timeout_s);
}

RunResult
TestLan::run(int host, const std::vector<std::string> &argv, double timeout_s)
{
    return run_ns(host, {"ip", "netns", "exec", ns(host)}, argv, timeout_s);
}

RunResult
TestLan::run_in_avahi_ns(int host, const std::vector<std::string> &argv, double timeout_s)
{
    return run_ns(host, {"nsenter", "-t", std::to_string(avahi_pid(host)), "-m", "-n"}, argv,
                  timeout_s);
}

pid_t
TestLan::start(const std::vector<std::string> &argv, const std::string &log_path)
{
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0)
        return -1;
    Argv a(argv);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        child_setup(parent);
        dup2(log, 1);
        dup2(log, 2);
        execv(a.p[0], a.p.data());
        _exit(127);
    }
    close(log);
    if (pid < 0)
        return -1;
    setpgid(pid, pid);
    kids_.push_back({pid, log_path, false, 0});
    return pid;
}

pid_t
TestLan::spawn(int host, const std::vector<std::string> &argv, const std::string &log_path)
{
    if (argv.empty())
        return -1;
    std::string log = log_path;
    if (log.empty())
        log = host_dir(host) + "/" + argv[0].substr(argv[0].rfind('/') + 1) + "-" +
              std::to_string(++spawn_count_) + ".log";
    std::vector<std::string> cmd = {
            find_tool("ip"), "netns", "exec",
            ns(host),        "env",   "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address(host)};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    return start(cmd, log);
}

TestLan::Child *
TestLan::find_child(pid_t pid)
{
    for (Child &c : kids_)
        if (c.pid == pid)
            return &c;
    return nullptr;
}

std::string
TestLan::spawn_log(pid_t pid) const
{
    for (const Child &c : kids_)
        if (c.pid == pid)
            return c.log;
    return "";
}

bool
TestLan::running(pid_t pid)
{
    Child *c = find_child(pid);
    if (c && !c->reaped)
        c->reaped = reap(pid, &c->status, 0);
    return c && !c->reaped;
}

int
TestLan::stop(pid_t pid, int sig)
{
    Child *c = find_child(pid);
    if (!c)
        return -1;
    if (!c->reaped) {
        if (kill(-pid, sig) != 0)
            kill(pid, sig);
        if (!reap(pid, &c->status, 5000)) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            reap(pid, &c->status, 2000);
        }
        c->reaped = true;
    }
    return WIFEXITED(c->status)     ? WEXITSTATUS(c->status)
           : WIFSIGNALED(c->status) ? 128 + WTERMSIG(c->status)
                                    : -1;
}

bool
TestLan::in_netns(int host, const std::function<void()> &fn)
{
    int fd = open((std::string(kNetnsDir) + "/" + ns(host)).c_str(), O_RDONLY | O_CLOEXEC);
    bool joined = false;
    if (fd < 0)
        return false;
    std::thread t([&] {
        joined = setns(fd, CLONE_NEWNET) == 0;
        if (joined)
            fn();
    });
    t.join();
    close(fd);
    return joined;
}

std::string
TestLan::cups_dir(int host) const
{
    return host_dir(host) + "/cups";
}

std::string
TestLan::cups_server(int host) const
{
    return cups_dir(host) + "/run/cups.sock";
}

pid_t
TestLan::cupsd_pid(int host) const
{
    return hosts_.at(host - 1).cupsd;
}

RunResult
TestLan::run_cups(int host, const std::vector<std::string> &argv, double timeout_s)
{
    std::vector<std::string> cmd = {"env", "CUPS_SERVER=" + cups_server(host)};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    return run(host, cmd, timeout_s);
}

int
TestLan::stop_cupsd(int host)
{
    Host &h = hosts_.at(host - 1);
    return h.cupsd > 0 ? stop(h.cupsd, SIGTERM) : -1;
}

std::string
TestLan::start_cupsd(int host, std::string *why_not, const CupsdOptions &options)
{
    namespace fs = std::filesystem;
    auto fail = [&](const std::string &why) {
        if (why_not)
            *why_not = why;
        return std::string();
    };
    Host &h = hosts_.at(host - 1);
    if (h.cupsd > 0 && running(h.cupsd))
        return fail("host " + std::to_string(host) + "'s cupsd is running already");
    std::string missing = missing_tools({"cupsd", "lpstat"});
    if (!missing.empty())
        return fail("missing tools: " + missing + " (Debian: cups)");
    const std::string d = cups_dir(host), sock = cups_server(host);
    const std::string state =
            options.porch_state_dir.empty() ? d + "/porch-state" : options.porch_state_dir;
    const std::string stock = "/usr/lib/cups";
    std::error_code ec;
    for (const char *sub :
         {"etc/ppd", "spool/tmp", "cache", "state", "log", "run", "serverbin/backend"}) {
        fs::create_directories(d + "/" + sub, ec);
        if (ec)
            return fail("cannot make " + d + "/" + sub + ": " + ec.message());
    }
    // The backend folder: cupsd runs a backend as root only if neither it nor its folder is
    // writable by others than root.
    const std::string backends = d + "/serverbin/backend";
    if (chmod((d + "/serverbin").c_str(), 0755) != 0 || chmod(backends.c_str(), 0755) != 0)
        return fail("cannot chmod " + backends + ": " + strerror(errno));
    if (!fs::exists(state)) {
        fs::create_directories(state, ec);
        if (ec || chmod(state.c_str(), 0700) != 0)
            return fail("cannot make " + state);
    }
    for (const char *sub : {"daemon", "driver", "filter", "notifier"}) {
        std::string link = d + "/serverbin/" + sub;
        struct stat st;
        if (lstat(link.c_str(), &st) != 0 &&
            symlink((stock + "/" + sub).c_str(), link.c_str()) != 0)
            return fail("cannot link " + link + ": " + strerror(errno));
    }
    for (const auto &e : fs::directory_iterator(stock + "/backend", ec)) {
        std::string link = backends + "/" + e.path().filename().string();
        struct stat st;
        if (lstat(link.c_str(), &st) != 0 && symlink(e.path().c_str(), link.c_str()) != 0)
            return fail("cannot link " + link + ": " + strerror(errno));
    }
    if (ec)
        return fail("cannot list " + stock + "/backend: " + ec.message());
    if (!options.porch_backend.empty()) {
        const std::string porch = backends + "/porch";
        unlink(porch.c_str());
        if (!fs::copy_file(options.porch_backend, porch, ec) || chown(porch.c_str(), 0, 0) != 0 ||
            chmod(porch.c_str(), 0700) != 0)
            return fail("cannot install " + options.porch_backend + " as " + porch + ": " +
                        (ec ? ec.message() : strerror(errno)));
    }
    const std::vector<std::pair<std::string, std::string>> vars = {
            {"@D@", d}, {"@PORCH_STATE@", state}, {"@BUS@", bus_address(host)}};
    if (!write_file(d + "/etc/cupsd.conf", subst(kCupsdConf, vars)) ||
        !write_file(d + "/etc/cups-files.conf", subst(kCupsFilesConf, vars)))
        return fail("cannot write " + d + "/etc: " + strerror(errno));
    unlink(sock.c_str());

    h.cupsd = spawn(host,
                    {find_tool("cupsd"), "-f", "-c", d + "/etc/cupsd.conf", "-s",
                     d + "/etc/cups-files.conf"},
                    d + "/log/cupsd.out");
    if (h.cupsd < 0)
        return fail("cannot start cupsd");
    for (auto end = Clock::now() + std::chrono::seconds(15);; sleep_ms(20)) {
        if (!running(h.cupsd))
            return fail("cupsd of host " + std::to_string(host) + " exited; its log:\n" +
                        tail(d + "/log/cupsd.out") + tail(d + "/log/error_log"));
        if (access(sock.c_str(), F_OK) == 0) {
            RunResult r = run_cups(host, {"lpstat", "-r"}, 5);
            if (r.ok() && r.out.find("scheduler is running") != std::string::npos)
                return sock;
        }
        if (Clock::now() > end)
            return fail("cupsd of host " + std::to_string(host) +
                        " does not answer after 15 s; its log:\n" + tail(d + "/log/error_log"));
    }
}

void
TestLan::dump_logs() const
{
    std::string text = "---- test LAN " + prefix_ + " (" + state_ + ") ----\n";
    for (const Child &c : kids_)
        text += "---- " + c.log + " ----\n" + tail(c.log) + "\n";
    for (int i = 1; i <= size(); i++)
        if (hosts_[i - 1].cupsd > 0) {
            std::string log = cups_dir(i) + "/log/error_log";
            text += "---- " + log + " ----\n" + tail(log) + "\n";
        }
    fputs(text.c_str(), stderr);
}

} // namespace porch::test
