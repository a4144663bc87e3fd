// bench-transfer — porch against OpenSSH's sftp on one test LAN, in the same run: wall time
// and the CPU-seconds of each side (client and server), with the ratios. docs/performance.md
// says how to read it and what was measured with it.
//
//   sudo build/bench/bench-transfer [--rounds N] [--quick] [--only LIST] [--sshd-sftp server]
//                                   [--openssh-no-fsync] [--perf FILE]
//
// Host 1 runs porchd (port 4422) and OpenSSH's sshd (port 2222, its own host key and config,
// internal-sftp, in a mount namespace with a private /run); host 2 runs the clients. The
// contests (--only takes a comma-separated list of their names):
//   file   a 1 GiB random file, host 1 -> host 2: porch get (AES-GCM and chacha20-poly1305
//          forced with PORCH_CIPHERS) against sftp get with aes128-gcm and with OpenSSH's
//          default cipher (chacha20-poly1305)
//   tree   2000 files of 4 KiB: porch get -r against sftp get -r
//   put    the 1 GiB file, host 2 -> host 1: porch put against sftp put
//   many   64 porch get of one 16 MiB file at once from one porchd, against one alone:
//          aggregate throughput, failures, porchd's peak anonymous memory
//   memory idle porchd's anonymous memory (RssAnon) per process, and per idle session
// Every contender makes what it wrote durable before its time stops, as porch does (a big
// file: fdatasync before the rename; a tree: syncfs): sftp get -f and put -f (fsync), and a
// tree followed by `sync -f`. --openssh-no-fsync leaves that out (to show what it costs);
// --sshd-sftp server runs sshd's sftp-server program instead of internal-sftp. --perf FILE
// runs porch's client under `perf record -g` (FILE.file, FILE.tree, FILE.put): its own CPU
// time then includes perf's.
//
// CPU-seconds: the client's from getrusage(RUSAGE_CHILDREN) around the command (all of its
// processes: sftp and its ssh); the server's from /proc/PID/stat (utime + stime + cutime +
// cstime) of every process of the server's tree — porchd's launcher, network side, sessions
// and workers; sshd and its per-connection children — before and after, once the
// connection's server processes are gone. Each round runs every contender once, in turn; the
// figures are medians over rounds. Figures, not a test: exits 0 whatever they are; 77 when it
// cannot run here (not root, a tool missing). --quick (1 round, 256 MiB, 500 files, 64 x 2
// MiB) is for checking that the bench itself works.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>

#include "testlan.h"
#include "test-util.h"

using Clock = std::chrono::steady_clock;
using porch::test::GiveToShareOwner;
using porch::test::MakeRandomFile;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::Sha256File;
using porch::test::TestLan;
namespace fs = std::filesystem;

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr const char *kSshd = "/usr/sbin/sshd";
constexpr const char *kGcm = "aes128-gcm@openssh.com";
constexpr int kPorchPort = 4422, kSshdPort = 2222;

struct Options {
    int rounds = 3;
    bool quick = false;
    std::set<std::string> only;
    bool sftp_server = false; // sshd runs sftp-server instead of internal-sftp
    bool openssh_fsync = true;
    off_t big = off_t(1) << 30;
    int tree_files = 2000, tree_file_size = 4096;
    int many_clients = 64;
    off_t many_size = off_t(16) << 20;
    int idle_sessions = 8;
    std::string perf; // record porch's client with `perf record -g` into PERF.<contest>
    bool wants(const std::string &contest) const
    {
        return only.empty() || only.count(contest) > 0;
    }
};

bool
WriteText(const std::string &path, const std::string &text, mode_t mode = 0644)
{
    return g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr) &&
           chmod(path.c_str(), mode) == 0;
}

// Reads a file or every file of a tree once, so that every contender finds it cached.
void
Warm(const std::string &path)
{
    TestLan::run_local({"sh", "-c", "find \"$1\" -type f -exec cat {} + >/dev/null", "sh", path},
                       120);
}

// ---- a server's processes, from /proc ----

struct Proc {
    pid_t pid, ppid;
    char state;
    double cpu;       // utime + stime + cutime + cstime, seconds
    long rss_anon_kb; // RssAnon, KiB
    std::string comm;
};

// `root` and every process beneath it.
std::vector<Proc>
ProcTree(pid_t root)
{
    static const double tick = double(sysconf(_SC_CLK_TCK));
    std::map<pid_t, Proc> all;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d != nullptr && (e = readdir(d)) != nullptr;) {
        char *end = nullptr;
        long p = strtol(e->d_name, &end, 10);
        if (p <= 0 || *end != '\0')
            continue;
        std::string stat = ReadFile(std::string("/proc/") + e->d_name + "/stat");
        size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos)
            continue;
        Proc pr{pid_t(p), 0, 0, 0, 0, stat.substr(open + 1, close - open - 1)};
        unsigned long long ut = 0, st = 0;
        long long cut = 0, cst = 0;
        int ppid = 0;
        // fields 3..17: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime
        if (sscanf(stat.c_str() + close + 1,
                   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &pr.state,
                   &ppid, &ut, &st, &cut, &cst) != 6)
            continue;
        pr.ppid = ppid;
        pr.cpu = double(ut + st + cut + cst) / tick;
        all[pr.pid] = pr;
    }
    if (d != nullptr)
        closedir(d);
    std::vector<Proc> tree;
    std::set<pid_t> in = {root};
    for (bool grew = true; grew;) {
        grew = false;
        for (auto &[pid, pr] : all)
            if (!in.count(pid) && in.count(pr.ppid)) {
                in.insert(pid);
                grew = true;
            }
    }
    for (pid_t pid : in) {
        auto it = all.find(pid);
        if (it == all.end())
            continue;
        std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
        size_t at = status.find("RssAnon:");
        if (at != std::string::npos)
            it->second.rss_anon_kb = strtol(status.c_str() + at + 8, nullptr, 10);
        tree.push_back(it->second);
    }
    return tree;
}

double
TreeCpu(const std::vector<Proc> &tree)
{
    double s = 0;
    for (const Proc &p : tree)
        s += p.cpu;
    return s;
}

long
TreeRssAnonKb(const std::vector<Proc> &tree)
{
    long kb = 0;
    for (const Proc &p : tree)
        kb += p.rss_anon_kb;
    return kb;
}

// Waits (at most 5 s) until the server `root` is back to `procs` processes: the processes a
// connection had are gone and reaped, their CPU time counted in their parent's cutime/cstime.
std::vector<Proc>
SettledTree(pid_t root, size_t procs)
{
    std::vector<Proc> tree = ProcTree(root);
    for (int i = 0; i < 250 && tree.size() > procs; i++) {
        g_usleep(20000);
        tree = ProcTree(root);
    }
    return tree;
}

double
ChildrenCpu()
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- contests ----

// Total size and number of regular files under path (a file or a folder).
std::pair<uintmax_t, int>
Measure(const std::string &path)
{
    std::error_code ec;
    if (fs::is_regular_file(path, ec))
        return {fs::file_size(path, ec), 1};
    uintmax_t bytes = 0;
    int files = 0;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) {
            bytes += it->file_size(ec);
            files++;
        }
    return {bytes, files};
}

// "" when the tree `got` holds exactly the files of `want`, byte for byte; else what differs
// first.
std::string
TreeDiffers(const std::string &want, const std::string &got)
{
    std::error_code ec;
    int n = 0;
    for (auto it = fs::recursive_directory_iterator(want, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec))
            continue;
        std::string rel = it->path().string().substr(want.size());
        if (ReadFile(got + rel) != ReadFile(it->path().string()))
            return "the fetched " + rel.substr(1) + " differs from the original";
        n++;
    }
    return ec       ? "cannot list " + want + ": " + ec.message()
           : n == 0 ? "nothing to compare in " + want
                    : "";
}

double
Median(std::vector<double> v)
{
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Contender {
    Contender(std::string l, std::vector<std::string> a, pid_t s, bool o)
        : label(std::move(l)), argv(std::move(a)), server(s), openssh(o)
    {
    }
    std::string label;
    std::vector<std::string> argv;                // run on host 2
    pid_t server;                                 // the root of the server's processes
    bool openssh;                                 // a reference (OpenSSH), not porch
    std::vector<double> wall, client, server_cpu; // NAN for a failed run
    std::string failure;                          // what the first failed run said
};

// One contest: contenders that make the same thing at `out`.
struct Contest {
    std::string name, title;
    std::string out;     // what each run makes (cleared before each run)
    uintmax_t bytes = 0; // what it must hold
    int files = 0;       //
    std::string sha;     // of the file; "" for a tree
    std::string source;  // the tree fetched, for a tree; "" for a file
    double target = 0;   // porch's wall-time ratio to the first OpenSSH contender
    std::vector<Contender> contenders;
};

// Clears the way for the next run of c. A tree is moved aside (into `attic`, removed at the
// end), not removed: ext4 does not hand out the inodes of files deleted a moment ago, and
// after each removal of 2000 files the next 2000 creations spent most of their time
// skipping them (`recently_deleted` in the kernel's profile; the same fetch took 0.4 s on
// a fresh file system and 1.3-1.8 s right after a removal), whoever ran next.
void
Clear(const std::string &out, bool tree, const std::string &attic)
{
    static int moved;
    std::error_code ec;
    if (tree && fs::exists(out, ec)) {
        fs::create_directories(attic, ec);
        fs::rename(out, attic + "/" + std::to_string(++moved), ec);
    }
    fs::remove_all(out, ec);
    sync();
}

void
RunRound(TestLan &lan, Contest &c, int round, const std::string &attic)
{
    for (Contender &k : c.contenders) {
        Clear(c.out, c.files > 1, attic);
        std::vector<Proc> before = SettledTree(k.server, SIZE_MAX);
        double cpu0 = ChildrenCpu();
        auto t0 = Clock::now();
        RunResult r = lan.run(2, k.argv, 600);
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        double client = ChildrenCpu() - cpu0;
        double server = TreeCpu(SettledTree(k.server, before.size())) - TreeCpu(before);
        auto [bytes, files] = Measure(c.out);
        std::string wrong;
        if (!r.ok())
            wrong = r.describe();
        else if (bytes != c.bytes || files != c.files)
            wrong = "made " + std::to_string(files) + " files, " + std::to_string(bytes) +
                    " bytes; expected " + std::to_string(c.files) + ", " + std::to_string(c.bytes);
        else if (round == 0 && !c.sha.empty() && Sha256File(c.out) != c.sha)
            wrong = "the copy differs from the original";
        else if (round == 0 && !c.source.empty())
            wrong = TreeDiffers(c.source, c.out);
        wrong.erase(wrong.find_last_not_of(" \n") + 1);
        if (!wrong.empty() && k.failure.empty())
            k.failure = wrong;
        k.wall.push_back(wrong.empty() ? s : NAN);
        k.client.push_back(wrong.empty() ? client : NAN);
        k.server_cpu.push_back(wrong.empty() ? server : NAN);
        if (wrong.empty())
            std::printf("  round %d  %-40s %7.3f s   CPU-s client %6.3f  server %6.3f\n", round + 1,
                        k.label.c_str(), s, client, server);
        else
            std::printf("  round %d  %-40s FAILED: %s\n", round + 1, k.label.c_str(),
                        wrong.c_str());
        std::fflush(stdout);
    }
    Clear(c.out, c.files > 1, attic);
}

// The contest's medians, and porch's ratios (contender 0) to each OpenSSH contender: wall
// time (OpenSSH's over porch's: "porch is R× as fast") and CPU-seconds (porch's, client +
// server, as a share of OpenSSH's).
void
Report(const Contest &c)
{
    std::printf("\n%s\n", c.title.c_str());
    std::printf("  %-40s %9s %9s %9s %9s %9s\n", "medians", "wall s", "MB/s", "client", "server",
                "CPU-s");
    for (const Contender &k : c.contenders) {
        double w = Median(k.wall), cl = Median(k.client), sv = Median(k.server_cpu);
        if (std::isnan(w))
            std::printf("  %-40s failed every round\n", k.label.c_str());
        else
            std::printf("  %-40s %9.3f %9.1f %9.3f %9.3f %9.3f\n", k.label.c_str(), w,
                        double(c.bytes) / 1e6 / w, cl, sv, cl + sv);
        if (!k.failure.empty())
            std::printf("    (failed: %s)\n", k.failure.c_str());
    }
    const Contender &porch = c.contenders[0];
    double pw = Median(porch.wall), pc = Median(porch.client) + Median(porch.server_cpu);
    bool first = true;
    for (const Contender &k : c.contenders) {
        if (!k.openssh)
            continue;
        double w = Median(k.wall), cpu = Median(k.client) + Median(k.server_cpu);
        std::printf("  %s / %s: ", porch.label.c_str(), k.label.c_str());
        if (std::isnan(pw) || std::isnan(w))
            std::printf("n/a");
        else
            std::printf("%.2fx as fast, %.0f %% of its CPU-seconds", w / pw, 100 * pc / cpu);
        if (first && c.target > 0)
            std::printf("   target >= %.1fx  %s", c.target,
                        !std::isnan(pw) && !std::isnan(w) && w / pw >= c.target ? "PASS" : "MISS");
        std::printf("\n");
        first = false;
    }
}

// Prints the anonymous memory of each process of porchd's tree; returns the total, KiB.
long
PrintMemory(pid_t porchd, const char *when)
{
    std::vector<Proc> tree = ProcTree(porchd);
    std::printf("  %s:", when);
    for (const Proc &p : tree) {
        std::string cmd = ReadFile("/proc/" + std::to_string(p.pid) + "/cmdline");
        std::string role = cmd.find(std::string("--network-side\0", 15)) != std::string::npos
                                   ? "network side"
                           : p.pid == porchd ? "launcher"
                                             : p.comm;
        std::printf(" %s %ld KiB;", role.c_str(), p.rss_anon_kb);
    }
    long kb = TreeRssAnonKb(tree);
    std::printf(" total %ld KiB (%zu processes)\n", kb, tree.size());
    return kb;
}

int
Usage()
{
    std::fprintf(stderr, "usage: bench-transfer [--rounds N] [--quick] [--only "
                         "file,tree,put,many,memory] [--sshd-sftp internal|server] "
                         "[--openssh-no-fsync] [--perf FILE]\n");
    return 2;
}

} // namespace

int
main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](const char *name) -> const char * {
            size_t n = strlen(name);
            if (a == name && i + 1 < argc)
                return argv[++i];
            if (a.compare(0, n, name) == 0 && a.size() > n && a[n] == '=')
                return argv[i] + n + 1;
            return nullptr;
        };
        const char *v;
        if (a == "--quick") {
            o.quick = true;
            o.rounds = 1;
            o.big = off_t(256) << 20;
            o.tree_files = 500;
            o.many_size = off_t(2) << 20;
        } else if (a == "--openssh-no-fsync") {
            o.openssh_fsync = false;
        } else if ((v = value("--rounds"))) {
            o.rounds = std::atoi(v);
        } else if ((v = value("--perf"))) {
            o.perf = v;
        } else if ((v = value("--only"))) {
            gchar **names = g_strsplit(v, ",", -1);
            for (gchar **n = names; *n; n++)
                o.only.insert(*n);
            g_strfreev(names);
        } else if ((v = value("--sshd-sftp"))) {
            if (strcmp(v, "server") != 0 && strcmp(v, "internal") != 0)
                return Usage();
            o.sftp_server = strcmp(v, "server") == 0;
        } else {
            return Usage();
        }
    }
    if (o.rounds < 1)
        return Usage();
    if (geteuid() != 0) {
        std::printf("bench-transfer: needs root (it runs a test LAN of network namespaces); "
                    "skipped\n");
        return 77;
    }
    std::string missing = TestLan::missing_tools({kSshd, "sftp", "ssh-keygen", "unshare"});
    if (!missing.empty()) {
        std::printf("bench-transfer: missing %s (Debian: openssh-server openssh-client "
                    "coreutils util-linux); skipped\n",
                    missing.c_str());
        return 77;
    }
    for (const char *p : {kPorch, kPorchd})
        if (access(p, X_OK) != 0) {
            std::printf("bench-transfer: %s is not built; skipped\n", p);
            return 77;
        }
    std::string why;
    bool may_skip = false;
    auto lan = TestLan::Create(2, &why, &may_skip);
    if (!lan) {
        std::printf("bench-transfer: no test LAN: %s\n", why.c_str());
        return may_skip ? 77 : 1;
    }
    const std::string h1 = lan->host_dir(1), h2 = lan->host_dir(2);
    const std::string data = h1 + "/data", up = h1 + "/up", sshd_dir = h1 + "/sshd";
    const std::string out = h2 + "/out", xdg = h2 + "/xdg", key = xdg + "/porch/id_ed25519";
    for (const std::string &dir : {data + "/tree", up, out + "/many", xdg + "/porch"})
        g_mkdir_with_parents(dir.c_str(), 0755);
    g_mkdir_with_parents(sshd_dir.c_str(), 0700);
    chmod((xdg + "/porch").c_str(), 0700);
    GiveToShareOwner(up); // the launcher serves it as its owner; a root folder would be read-only

    // The data: the big file, the tree, the file of the many sessions
    // (only what the contests asked for need be there)
    if (!o.wants("file") && !o.wants("put"))
        o.big = 4096;
    if (!o.wants("many"))
        o.many_size = 4096;
    if (!o.wants("tree"))
        o.tree_files = 1;
    std::printf("bench-transfer: writing %lld MiB, %d files of %d bytes and %lld MiB on host "
                "1...\n",
                (long long)(o.big >> 20), o.tree_files, o.tree_file_size,
                (long long)(o.many_size >> 20));
    std::fflush(stdout);
    std::string big_sha = MakeRandomFile(data + "/big.bin", o.big, 1);
    std::string many_sha = MakeRandomFile(data + "/many.bin", o.many_size, 2);
    if (big_sha.empty() || many_sha.empty()) {
        std::printf("bench-transfer: cannot write in %s\n", data.c_str());
        return 1;
    }
    for (int i = 0; i < o.tree_files; i++) {
        char name[32];
        std::snprintf(name, sizeof name, "/tree/f%04d.bin", i);
        if (MakeRandomFile(data + name, o.tree_file_size, 100 + i).empty()) {
            std::printf("bench-transfer: cannot write %s%s\n", data.c_str(), name);
            return 1;
        }
    }
    sync(); // its writeback is over before round 1, not competing with it

    // Keys: the client's (porch's default place; sftp uses the same file), sshd's host key
    RunResult k = TestLan::run_local(
            {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench@host2", "-f", key});
    RunResult hk = TestLan::run_local(
            {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshd_dir + "/host_key"});
    if (!k.ok() || !hk.ok()) {
        std::printf("bench-transfer: ssh-keygen failed: %s %s\n", k.describe().c_str(),
                    hk.describe().c_str());
        return 1;
    }
    std::string pub = ReadFile(key + ".pub");
    pub.erase(pub.find_last_not_of("\r\n") + 1);
    WriteText(sshd_dir + "/authorized_keys", pub + "\n", 0600);

    // porchd on host 1: limits that let 64 sessions from one address in at once
    const std::string a1 = lan->address(1);
    int sessions = std::max(64, o.many_clients + o.idle_sessions + 4);
    std::string conf = "[porch]\nname = Bench\nport = " + std::to_string(kPorchPort) +
                       "\nlisten = " + a1 + "\nmax-sessions = " + std::to_string(sessions) +
                       "\nmax-sessions-per-address = " + std::to_string(sessions) +
                       "\nmax-startups = " + std::to_string(sessions) +
                       "\n[peer bench]\nkey = " + pub + "\n[share Bench]\npath = " + data +
                       "\nread = bench\n[share Up]\npath = " + up +
                       "\nread = bench\nwrite = bench\n";
    WriteText(h1 + "/porch.conf", conf);
    std::string porchd_log = h1 + "/porchd.log";
    pid_t porchd = lan->spawn(
            1, {kPorchd, "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"}, porchd_log);

    // sshd on host 1: its own config, host key and authorized_keys; a private /run (for its
    // privilege separation folder /run/sshd) in a mount namespace of its own
    std::string sshd_conf =
            "Port " + std::to_string(kSshdPort) + "\nListenAddress " + a1 + "\nHostKey " +
            sshd_dir + "/host_key\nAuthorizedKeysFile " + sshd_dir +
            "/authorized_keys\nStrictModes no\nUsePAM no\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nPidFile none\nMaxStartups 100\n"
            "Subsystem sftp " +
            std::string(o.sftp_server ? "/usr/lib/openssh/sftp-server" : "internal-sftp") + "\n";
    WriteText(sshd_dir + "/sshd_config", sshd_conf);
    std::string sshd_log = h1 + "/sshd.log";
    pid_t sshd = lan->spawn(1,
                            {"unshare", "-m", "--propagation", "private", "sh", "-c",
                             "mount -t tmpfs -o mode=0755 bench-run /run && mkdir -m 0755 "
                             "/run/sshd && exec \"$1\" -D -e -f \"$2\"",
                             "sh", kSshd, sshd_dir + "/sshd_config"},
                            sshd_log);

    auto wait_log = [&](pid_t pid, const std::string &log, const std::string &needle) {
        for (int i = 0; i < 750; i++) {
            if (ReadFile(log).find(needle) != std::string::npos)
                return true;
            if (!lan->running(pid))
                break;
            g_usleep(20000);
        }
        return false;
    };
    if (!wait_log(porchd, porchd_log, " running: ")) {
        std::printf("bench-transfer: porchd did not start:\n%s\n", ReadFile(porchd_log).c_str());
        return 1;
    }
    if (!wait_log(sshd, sshd_log, "Server listening on")) {
        std::printf("bench-transfer: sshd did not start:\n%s\n", ReadFile(sshd_log).c_str());
        return 1;
    }

    // The commands, run on host 2
    auto porch = [&](const char *ciphers, std::vector<std::string> args) {
        std::vector<std::string> a = {"env", "XDG_CONFIG_HOME=" + xdg,
                                      std::string("PORCH_CIPHERS=") + ciphers, kPorch};
        a.insert(a.end(), args.begin(), args.end());
        return a;
    };
    int serial = 0;
    // sftp with a batch of commands; cipher "" is OpenSSH's default (chacha20-poly1305)
    auto sftp = [&](const std::string &cipher, const std::string &user, int port,
                    const std::string &commands) {
        std::string batch = h2 + "/batch-" + std::to_string(++serial) + ".txt";
        WriteText(batch, commands + "\n");
        std::vector<std::string> a = {"sftp", "-F", "/dev/null",          "-q", "-b",
                                      batch,  "-P", std::to_string(port), "-i", key};
        for (const char *opt :
             {"IdentitiesOnly=yes", "IdentityAgent=none", "StrictHostKeyChecking=no",
              "UserKnownHostsFile=/dev/null", "BatchMode=yes", "LogLevel=ERROR"}) {
            a.push_back("-o");
            a.push_back(opt);
        }
        if (!cipher.empty()) {
            a.push_back("-o");
            a.push_back("Ciphers=" + cipher);
        }
        a.push_back(user + "@" + a1);
        return a;
    };
    // a command followed by `sync -f DIR` (syncfs), when OpenSSH makes its copies durable
    auto then_syncfs = [&](std::vector<std::string> cmd, const std::string &dir) {
        if (!o.openssh_fsync)
            return cmd;
        std::vector<std::string> a = {"sh", "-c", "dir=$1; shift; \"$@\" && exec sync -f \"$dir\"",
                                      "sh", dir};
        a.insert(a.end(), cmd.begin(), cmd.end());
        return a;
    };
    const std::string fsync_flag = o.openssh_fsync ? "-f " : "";
    const std::string mib = std::to_string(o.big >> 20) + " MiB";
    const std::string attic = h2 + "/attic";
    std::vector<Contest> contests;

    if (o.wants("file")) {
        Contest c;
        c.name = "file";
        c.title = "(file) a " + mib + " random file, host 1 -> host 2";
        c.out = out + "/big.bin";
        c.bytes = uintmax_t(o.big);
        c.files = 1;
        c.sha = big_sha;
        c.target = 2.0;
        std::string get = "get " + fsync_flag + data + "/big.bin " + c.out;
        c.contenders = {
                {"porch get (AES-GCM)",
                 porch("aes", {"get", "--quiet", a1 + "/Bench/big.bin", c.out}), porchd, false},
                {"sftp get (aes128-gcm)", sftp(kGcm, "root", kSshdPort, get), sshd, true},
                {"sftp get (default: chacha20)", sftp("", "root", kSshdPort, get), sshd, true},
                {"porch get (chacha20 forced)",
                 porch("chacha20", {"get", "--quiet", a1 + "/Bench/big.bin", c.out}), porchd,
                 false},
        };
        contests.push_back(c);
    }
    if (o.wants("tree")) {
        Contest c;
        c.name = "tree";
        c.title = "(tree) " + std::to_string(o.tree_files) + " files of " +
                  std::to_string(o.tree_file_size) + " bytes, host 1 -> host 2";
        c.out = out + "/tree";
        c.bytes = uintmax_t(o.tree_files) * uintmax_t(o.tree_file_size);
        c.files = o.tree_files;
        c.source = data + "/tree";
        c.target = 5.0;
        std::string get = "get -r " + data + "/tree " + c.out;
        c.contenders = {
                {"porch get -r", porch("", {"get", "-r", "--quiet", a1 + "/Bench/tree", out}),
                 porchd, false},
                {"sftp get -r (aes128-gcm)", then_syncfs(sftp(kGcm, "root", kSshdPort, get), out),
                 sshd, true},
                {"sftp get -r (default)", then_syncfs(sftp("", "root", kSshdPort, get), out), sshd,
                 true},
        };
        contests.push_back(c);
    }
    if (o.wants("put")) {
        Contest c;
        c.name = "put";
        c.title = "(put) the " + mib + " file, host 2 -> host 1";
        c.out = up + "/big.bin";
        c.bytes = uintmax_t(o.big);
        c.files = 1;
        c.sha = big_sha;
        c.target = 1.5;
        std::string put = "put " + fsync_flag + data + "/big.bin " + c.out;
        c.contenders = {
                {"porch put", porch("", {"put", "--quiet", data + "/big.bin", a1 + "/Up/big.bin"}),
                 porchd, false},
                {"sftp put (aes128-gcm)", sftp(kGcm, "root", kSshdPort, put), sshd, true},
                {"sftp put (default)", sftp("", "root", kSshdPort, put), sshd, true},
        };
        contests.push_back(c);
    }

    // One untimed fetch: pins porchd's key, starts the share's worker, warms the caches.
    Warm(data);
    std::printf("\nporchd's anonymous memory (RssAnon of each of its processes)\n");
    long idle_kb = PrintMemory(porchd, "idle, just started");
    RunResult first = lan->run(2, porch("", {"ls", a1 + "/Bench"}), 60);
    if (!first.ok())
        std::printf("bench-transfer: porch ls failed: %s\n", first.describe().c_str());
    g_usleep(300000);
    long idle_worker_kb = PrintMemory(porchd, "idle, after one session (share worker up)");

    std::printf("\nbench-transfer: %d round(s) on a test LAN of 2 hosts (one machine, %ld "
                "cores); sshd with %s; OpenSSH %s\n",
                o.rounds, sysconf(_SC_NPROCESSORS_ONLN),
                o.sftp_server ? "sftp-server" : "internal-sftp",
                o.openssh_fsync ? "makes its copies durable (get -f / put -f / sync -f)"
                                : "does not make its copies durable");
    // --perf: porch's client (contender 0) in each contest under perf record
    for (Contest &c : contests)
        if (!o.perf.empty()) {
            std::vector<std::string> &a = c.contenders[0].argv;
            a.insert(a.begin(), {"perf", "record", "-q", "-g", "-F", "999", "-o",
                                 o.perf + "." + c.name, "--"});
        }
    for (int r = 0; r < o.rounds; r++)
        for (Contest &c : contests)
            RunRound(*lan, c, r, attic);
    for (const Contest &c : contests)
        Report(c);

    // many: one session alone, then many at once, alternated by round
    bool many_failed = false;
    if (o.wants("many")) {
        std::printf("\n(many) %d porch get of one %lld MiB file at once, from one porchd\n",
                    o.many_clients, (long long)(o.many_size >> 20));
        std::vector<double> one, all, client, server;
        long peak_kb = 0;
        size_t peak_procs = 0;
        int failures = 0;
        std::string first_failure;
        for (int r = 0; r < o.rounds; r++) {
            std::string one_out = out + "/one.bin";
            Clear(one_out, false, attic);
            auto t0 = Clock::now();
            RunResult alone = lan->run(
                    2, porch("", {"get", "--quiet", a1 + "/Bench/many.bin", one_out}), 120);
            double s1 = std::chrono::duration<double>(Clock::now() - t0).count();
            one.push_back(alone.ok() ? s1 : NAN);
            Clear(one_out, false, attic);

            Clear(out + "/many", true, attic);
            g_mkdir_with_parents((out + "/many").c_str(), 0755);
            std::vector<Proc> before = SettledTree(porchd, SIZE_MAX);
            double cpu0 = ChildrenCpu();
            std::vector<pid_t> kids;
            t0 = Clock::now();
            for (int i = 0; i < o.many_clients; i++)
                kids.push_back(lan->spawn(2,
                                          porch("", {"get", "--quiet", a1 + "/Bench/many.bin",
                                                     out + "/many/" + std::to_string(i) + ".bin"}),
                                          h2 + "/many-" + std::to_string(i) + ".log"));
            for (;;) {
                std::vector<Proc> tree = ProcTree(porchd);
                peak_kb = std::max(peak_kb, TreeRssAnonKb(tree));
                peak_procs = std::max(peak_procs, tree.size());
                bool any = false;
                for (pid_t p : kids)
                    any |= lan->running(p);
                if (!any || std::chrono::duration<double>(Clock::now() - t0).count() > 300)
                    break;
                g_usleep(20000);
            }
            double s = std::chrono::duration<double>(Clock::now() - t0).count();
            int failed = 0;
            for (size_t i = 0; i < kids.size(); i++) {
                std::string file = out + "/many/" + std::to_string(i) + ".bin";
                int status = lan->stop(kids[i], SIGTERM);
                std::string got =
                        status == 0 && r == 0 ? Sha256File(file) : (status == 0 ? many_sha : "");
                if (status != 0 || got != many_sha ||
                    Measure(file).first != uintmax_t(o.many_size)) {
                    failed++;
                    if (first_failure.empty())
                        first_failure = "client " + std::to_string(i) + ": exit " +
                                        std::to_string(status) + ": " +
                                        ReadFile(h2 + "/many-" + std::to_string(i) + ".log");
                }
            }
            double cl = ChildrenCpu() - cpu0;
            double sv = TreeCpu(SettledTree(porchd, before.size())) - TreeCpu(before);
            failures += failed;
            all.push_back(failed == 0 ? s : NAN);
            client.push_back(cl);
            server.push_back(sv);
            std::printf("  round %d  one alone %.3f s; %d at once %.3f s (%d failed)   CPU-s "
                        "client %.3f  server %.3f\n",
                        r + 1, s1, o.many_clients, s, failed, cl, sv);
            std::fflush(stdout);
        }
        Clear(out + "/many", true, attic);
        double m1 = Median(one), mall = Median(all);
        double mb = double(o.many_size) / 1e6;
        std::printf("  one session: median %.3f s, %.1f MB/s\n", m1, mb / m1);
        std::printf("  %d sessions: median %.3f s, %.1f MB/s aggregate; CPU-s client %.3f "
                    "server %.3f; %d failed runs\n",
                    o.many_clients, mall, mb * o.many_clients / mall, Median(client),
                    Median(server), failures);
        double share = (mb * o.many_clients / mall) / (mb / m1);
        std::printf("  aggregate / one session: %.0f %%   target >= 80 %% and no failure  %s\n",
                    100 * share, share >= 0.8 && failures == 0 ? "PASS" : "MISS");
        // the processes above the idle ones at the peak are sessions
        size_t idle_procs = ProcTree(porchd).size();
        std::printf(
                "  porchd's peak: %ld KiB anonymous memory in %zu processes (%.0f KiB per "
                "session above idle, %zu sessions at once)\n",
                peak_kb, peak_procs,
                double(peak_kb - idle_worker_kb) /
                        double(std::max<size_t>(1, peak_procs - std::min(peak_procs, idle_procs))),
                peak_procs - std::min(peak_procs, idle_procs));
        if (!first_failure.empty())
            std::printf("    (first failure: %s)\n", first_failure.c_str());
        many_failed = failures > 0;
    }

    if (o.wants("memory")) {
        std::printf("\n(memory) porchd idle, then with %d idle SFTP sessions (sftp waiting for "
                    "commands)\n",
                    o.idle_sessions);
        long now_kb = PrintMemory(porchd, "idle");
        std::vector<pid_t> idle;
        for (int i = 0; i < o.idle_sessions; i++) {
            std::vector<std::string> s = sftp("", "bench", kPorchPort, "");
            // the batch file is "-": commands from stdin, which `sleep` holds open and idle
            auto b = std::find(s.begin(), s.end(), "-b");
            *(b + 1) = "-";
            std::vector<std::string> a = {"sh", "-c", "sleep 60 | \"$@\"", "sh"};
            a.insert(a.end(), s.begin(), s.end());
            idle.push_back(lan->spawn(2, a, h2 + "/idle-" + std::to_string(i) + ".log"));
        }
        porch::test::WaitFor(
                [&] {
                    return porch::test::PorchdSessions(porchd).size() >= size_t(o.idle_sessions);
                },
                20);
        g_usleep(500000);
        size_t n = porch::test::PorchdSessions(porchd).size();
        long with_kb = PrintMemory(porchd, "with idle sessions");
        std::printf("  %zu idle sessions: %.0f KiB each (target <= 1024 KiB)  %s\n", n,
                    double(with_kb - now_kb) / std::max<size_t>(1, n),
                    n > 0 && with_kb - now_kb <= long(n) * 1024 ? "PASS" : "MISS");
        std::printf("  idle porchd: %ld KiB just started, %ld KiB with its worker (target <= "
                    "2048 KiB)  %s\n",
                    idle_kb, now_kb, now_kb <= 2048 ? "PASS" : "MISS");
        for (pid_t p : idle)
            lan->stop(p, SIGTERM);
    }

    bool failed = many_failed;
    for (const Contest &c : contests)
        for (const Contender &each : c.contenders)
            failed |= !each.failure.empty();
    if (failed) {
        std::string log = ReadFile(porchd_log);
        std::printf("\nporchd's log (last 3000 bytes):\n%s\n",
                    log.substr(log.size() > 3000 ? log.size() - 3000 : 0).c_str());
    }
    lan->stop(sshd, SIGTERM);
    lan->stop(porchd, SIGTERM);
    return 0;
}
