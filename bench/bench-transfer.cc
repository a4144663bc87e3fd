// bench-transfer — porch against OpenSSH's sftp on one test LAN, in the same run: wall time
// and the CPU-seconds of each side (client and server), with the ratios. docs/performance.md
// says how to read it and what was measured with it.
//
//   sudo build/bench/bench-transfer [--rounds N] [--quick] [--only LIST] [--sshd-sftp server]
//                                   [--openssh-no-fsync] [--perf FILE] [--index-files N]
//                                   [--no-prime] [--tree-on-host]
//
// Host 1 runs porchd (port 4422) and OpenSSH's sshd (port 2222, its own host key and config,
// internal-sftp, in a mount namespace with a private /run); host 2 runs the clients. The
// contests (--only takes a comma-separated list of their names):
//   file   a 1 GiB random file, host 1 -> host 2: porch get (AES-GCM and chacha20-poly1305
//          forced with PORCH_CIPHERS) against sftp get with aes128-gcm and with OpenSSH's
//          default cipher (chacha20-poly1305); and porch get from a second porchd (port 4423)
//          that has no content index, whose sessions hash what check-file asks for (the
//          rounds start once the first porchd's index holds every file)
//   tree   2000 files of 4 KiB: porch get -r against sftp get -r, and a local `cp -r` of
//          the same tree on host 2 (the floor: what making those files costs this machine),
//          into a fresh ext4 file system with a journal, as Debian makes them, on a loop
//          device mounted in the bench's own mount namespace (--tree-on-host: into host 2's
//          folder instead; see TreeFs)
//   put    the 1 GiB file, host 2 -> host 1: porch put against sftp put
//   many   64 porch get of one 16 MiB file at once from one porchd, against one alone:
//          aggregate throughput, failures, porchd's peak anonymous memory
//   memory idle porchd's anonymous memory (RssAnon) per process, and per idle session
//   index  the content index's first build by a fresh porchd (port 4424) of --index-files
//          files of 1 KiB (100 000): its time and porchd's CPU-seconds, and how long
//          `porch status` takes to answer meanwhile and once it is built
// Before each run the bench touches and frees as much memory as the run will write
// (PrimeMemory(); --no-prime: not), so that every contender starts from the same state of
// the machine's free memory.
// Every contender makes what it wrote durable before its time stops, as porch does (a big
// file: fdatasync before the rename; a tree: syncfs): sftp get -f and put -f (fsync), and a
// tree followed by `sync -f`. --openssh-no-fsync leaves that out (to show what it costs);
// --sshd-sftp server runs sshd's sftp-server program instead of internal-sftp. --perf FILE
// runs porch's client under `perf record -g` (FILE.file, FILE.tree, FILE.put): its own CPU
// time then includes perf's; and the whole machine under `perf record -a -g` during each of
// those runs (FILE.put.all.ROUND...), for porchd's side: `perf report -i FILE.put.all.1
// --comm porchd-session`.
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
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "testlan.h"

#include "bench-util.h"
#include "test-util.h"

using Clock = std::chrono::steady_clock;
using porch::bench::ChildrenCpu;
using porch::bench::Median;
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
constexpr int kPorchPort = 4422, kSshdPort = 2222, kNoIndexPort = 4423, kIndexPort = 4424;

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
    std::string perf;         // record porch's client with `perf record -g` into PERF.<contest>
    int index_files = 100000; // the content index's first build: files of index_file_size
    int index_file_size = 1024;
    bool prime = true;         // PrimeMemory() before each run
    bool tree_on_host = false; // the tree contest writes into host 2's folder, not a TreeFs
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

struct Contender {
    Contender(std::string l, std::vector<std::string> a, pid_t s, bool o, bool f = false)
        : label(std::move(l)), argv(std::move(a)), server(s), openssh(o), floor(f)
    {
    }
    std::string label;
    std::vector<std::string> argv;                // run on host 2
    pid_t server;                                 // the root of the server's processes; -1: none
    bool openssh;                                 // a reference (OpenSSH), not porch
    bool floor;                                   // a local copy: what this machine's disk allows
    std::vector<double> wall, client, server_cpu; // NAN for a failed run
    std::string failure;                          // what the first failed run said
};

// One contest: contenders that make the same thing at `out`.
struct Contest {
    std::string name, title;
    std::string out;        // what each run makes (cleared before each run)
    std::string attic;      // where Clear() moves a tree: on out's file system
    bool move_aside = true; // a tree made before is moved into attic; false: removed
    uintmax_t bytes = 0;    // what it must hold
    int files = 0;          //
    std::string sha;        // of the file; "" for a tree
    std::string source;     // the tree fetched, for a tree; "" for a file
    double target = 0;      // porch's wall-time ratio to the first OpenSSH contender
    std::vector<Contender> contenders;
    bool prime = true;       // PrimeMemory() before each run (--no-prime: not)
    std::string server_perf; // --perf: `perf record -a -g` around porch's runs, into this file
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

// Touches `bytes` of fresh memory and frees it, so that what the next run writes into the page
// cache lands in memory the machine has just used. In a virtual machine that gives free memory
// back to its host (virtio-balloon's free page reporting, on the reference machine), memory
// free for more than a few seconds costs a fault in the host at its next use: writing 1 GiB
// into the page cache cost 1.9 s of system time when the memory had been free a while, 0.4 s
// right after 1 GiB of page cache had been freed. Without this, whoever ran right after
// another contender's file was removed wrote for less CPU (docs/performance.md).
void
PrimeMemory(size_t bytes)
{
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p != MAP_FAILED)
        munmap(p, bytes);
}

void
RunRound(TestLan &lan, Contest &c, int round)
{
    for (Contender &k : c.contenders) {
        Clear(c.out, c.files > 1 && c.move_aside, c.attic);
        if (c.prime)
            PrimeMemory(size_t(c.bytes) + (size_t(256) << 20));
        std::vector<Proc> before = SettledTree(k.server, SIZE_MAX);
        // --perf: the whole machine, for porchd's side (perf report --comm porchd-session)
        pid_t perf = -1;
        if (&k == &c.contenders[0] && !c.server_perf.empty()) {
            perf = lan.spawn(1, {"perf", "record", "-q", "-a", "-g", "-F", "999", "-o",
                                 c.server_perf + "." + std::to_string(round + 1)});
            g_usleep(500000);
        }
        double cpu0 = ChildrenCpu();
        auto t0 = Clock::now();
        RunResult r = lan.run(2, k.argv, 600);
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        double client = ChildrenCpu() - cpu0;
        if (perf > 0) // after the client's CPU time is read: perf's is not the client's
            lan.stop(perf, SIGINT);
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
    Clear(c.out, c.files > 1 && c.move_aside, c.attic);
}

// The lowest median wall time of the contest's OpenSSH contenders; NAN when none has one.
double
BestOpenSsh(const Contest &c)
{
    double best = NAN;
    for (const Contender &k : c.contenders) {
        double w = Median(k.wall);
        if (k.openssh && !std::isnan(w) && (std::isnan(best) || w < best))
            best = w;
    }
    return best;
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
    for (const Contender &k : c.contenders) {
        if (!k.floor)
            continue;
        double w = Median(k.wall);
        std::printf("  %s / %s (the floor): ", porch.label.c_str(), k.label.c_str());
        if (std::isnan(pw) || std::isnan(w))
            std::printf("n/a\n");
        else
            std::printf("%.2fx its time; %.1fx OpenSSH's best would be %.3f s\n", pw / w, c.target,
                        BestOpenSsh(c) / c.target);
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

// The content index of the porchd whose control socket is in `runtime_dir` on host 1, from
// `porch status --json`: {files, scanning}, {-1, -1} when it does not answer; and how long
// the command took, seconds.
struct IndexStatus {
    long long files = -1, scanning = -1;
    double seconds = 0;
};

IndexStatus
GetIndexStatus(TestLan &lan, const std::string &runtime_dir)
{
    IndexStatus st;
    auto t0 = Clock::now();
    RunResult r = lan.run(
            1, {"env", "PORCH_SYSTEM_RUNTIME_DIR=" + runtime_dir, kPorch, "status", "--json"}, 60);
    st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!r.ok())
        return st;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, r.out.c_str(), -1, nullptr))
        return st;
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
    JsonObject *ix = o && json_object_has_member(o, "index")
                             ? json_object_get_object_member(o, "index")
                             : nullptr;
    if (ix == nullptr)
        return st;
    st.files = json_object_get_int_member_with_default(ix, "files", -1);
    st.scanning = json_object_get_int_member_with_default(ix, "scanning", -1);
    return st;
}

// The tree contest's destination: a fresh ext4 file system on a loop device, mounted in the
// bench's own mount namespace (made private at the start: nothing of it is seen outside, and
// it goes when the bench ends, however it ends). Why: ext4 without a journal (as the
// reference virtual machine's root is: /proc/fs/jbd2 is empty) does not hand out the inodes
// of files deleted in the last minutes (up to five), and each creation then reads past them
// (`recently_deleted` in the kernel's profile). Making 2000 files there took 0.05 s or 0.65 s
// depending on what the machine had deleted minutes before, for every contender alike: the tree's
// figures swung more than the differences between them. A fresh file system with a journal, as
// Debian's installer makes them, has neither the swing nor the cost.
struct TreeFs {
    std::string dir; // mounted here; "" when not mounted
    std::string image;

    // Makes and mounts it at `at` (an image file of `size` bytes beside it); "" or what failed.
    std::string Mount(const std::string &at, off_t size)
    {
        std::string img = at + ".img";
        int fd = open(img.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, size) != 0) {
            if (fd >= 0)
                close(fd);
            return "cannot make " + img + ": " + strerror(errno);
        }
        close(fd);
        image = img;
        g_mkdir_with_parents(at.c_str(), 0755);
        // its inode tables and journal written now, not by a kernel thread during the rounds
        RunResult r = TestLan::run_local(
                {"mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img},
                120);
        if (!r.ok())
            return "mkfs.ext4: " + r.describe();
        r = TestLan::run_local({"mount", "-o", "loop", img, at}, 60);
        if (!r.ok())
            return "mount -o loop: " + r.describe();
        dir = at;
        return "";
    }
    ~TreeFs()
    {
        if (!dir.empty())
            umount2(dir.c_str(), MNT_DETACH); // the loop device goes with it (autoclear)
        if (!image.empty())
            unlink(image.c_str());
    }
};

int
Usage()
{
    std::fprintf(stderr, "usage: bench-transfer [--rounds N] [--quick] [--only "
                         "file,tree,put,many,memory,index] [--sshd-sftp internal|server] "
                         "[--openssh-no-fsync] [--perf FILE] [--index-files N] [--no-prime] "
                         "[--tree-on-host]\n");
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
            o.index_files = 5000;
        } else if ((v = value("--index-files"))) {
            o.index_files = std::atoi(v);
        } else if (a == "--no-prime") {
            o.prime = false;
        } else if (a == "--tree-on-host") {
            o.tree_on_host = true;
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
    if (o.rounds < 1 || o.index_files < 1)
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
    if (o.wants("tree") && !o.tree_on_host &&
        !TestLan::missing_tools({"mkfs.ext4", "mount"}).empty()) {
        std::printf("bench-transfer: no mkfs.ext4 or mount (Debian: e2fsprogs mount): the tree "
                    "contest writes into host 2's folder\n");
        o.tree_on_host = true;
    }
    // A mount namespace of the bench's own for TreeFs, before any thread exists (unshare
    // refuses CLONE_NEWNS to a process whose threads share its file system information)
    if (o.wants("tree") && !o.tree_on_host &&
        (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr))) {
        std::printf("bench-transfer: no mount namespace of its own (%s): the tree contest "
                    "writes into host 2's folder\n",
                    strerror(errno));
        o.tree_on_host = true;
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
    pid_t porchd = lan->spawn(1,
                              {kPorchd, "--config", h1 + "/porch.conf", "--state-dir",
                               h1 + "/state", "--runtime-dir", h1 + "/run"},
                              porchd_log);
    // The same shares from a second porchd without a content index (its state folder's
    // index database cannot be opened: porchd then shares without one, and its sessions hash
    // on demand), for the file contest's "no content index" contender.
    pid_t porchd_noindex = -1;
    std::string noindex_log = h1 + "/porchd-noindex.log";
    if (o.wants("file")) {
        std::string conf2 = conf;
        conf2.replace(conf2.find("name = Bench\nport = " + std::to_string(kPorchPort)),
                      std::string("name = Bench\nport = " + std::to_string(kPorchPort)).size(),
                      "name = Bench-noindex\nport = " + std::to_string(kNoIndexPort));
        WriteText(h1 + "/porch-noindex.conf", conf2);
        g_mkdir_with_parents((h1 + "/state-noindex/index.sqlite").c_str(), 0700);
        porchd_noindex = lan->spawn(1,
                                    {kPorchd, "--config", h1 + "/porch-noindex.conf", "--state-dir",
                                     h1 + "/state-noindex", "--runtime-dir", h1 + "/run-noindex"},
                                    noindex_log);
    }

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
    if (porchd_noindex > 0 && !wait_log(porchd_noindex, noindex_log, " running: ")) {
        std::printf("bench-transfer: the second porchd did not start:\n%s\n",
                    ReadFile(noindex_log).c_str());
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
    // porch for the porchd without index: the same key, its own pinned host keys
    const std::string xdg_noindex = h2 + "/xdg-noindex";
    auto porch_noindex = [&](std::vector<std::string> args) {
        g_mkdir_with_parents((xdg_noindex + "/porch").c_str(), 0700);
        for (const char *f : {"/porch/id_ed25519", "/porch/id_ed25519.pub"})
            WriteText(xdg_noindex + f, ReadFile(xdg + f), 0600);
        std::vector<std::string> a = {"env", "XDG_CONFIG_HOME=" + xdg_noindex, "PORCH_CIPHERS=aes",
                                      kPorch};
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
    TreeFs treefs; // after lan: unmounted before the test LAN removes its folders
    if (o.wants("tree") && !o.tree_on_host) {
        std::string e = treefs.Mount(h2 + "/treefs", off_t(2) << 30);
        if (!e.empty()) {
            std::printf("bench-transfer: %s: the tree contest writes into host 2's folder\n",
                        e.c_str());
            o.tree_on_host = true;
        }
    }

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
                {"porch get (porchd without index)",
                 porch_noindex({"get", "--quiet",
                                a1 + ":" + std::to_string(kNoIndexPort) + "/Bench/big.bin", c.out}),
                 porchd_noindex, false},
        };
        contests.push_back(c);
    }
    if (o.wants("tree")) {
        Contest c;
        c.name = "tree";
        c.title = "(tree) " + std::to_string(o.tree_files) + " files of " +
                  std::to_string(o.tree_file_size) + " bytes, host 1 -> host 2";
        const std::string into = o.tree_on_host ? out : treefs.dir;
        c.out = into + "/tree";
        c.attic = into + "/attic";
        // a file system with a journal reuses freed inodes at once: the trees of earlier runs
        // are removed rather than kept until they fill its inode table
        c.move_aside = o.tree_on_host;
        c.bytes = uintmax_t(o.tree_files) * uintmax_t(o.tree_file_size);
        c.files = o.tree_files;
        c.source = data + "/tree";
        c.target = 5.0;
        std::string get = "get -r " + data + "/tree " + c.out;
        c.contenders = {
                {"porch get -r", porch("", {"get", "-r", "--quiet", a1 + "/Bench/tree", into}),
                 porchd, false},
                {"sftp get -r (aes128-gcm)", then_syncfs(sftp(kGcm, "root", kSshdPort, get), into),
                 sshd, true},
                {"sftp get -r (default)", then_syncfs(sftp("", "root", kSshdPort, get), into), sshd,
                 true},
                // no network, no encryption, no verifying: the time this machine's file system
                // takes to make the same files, made durable as porch makes them
                {"cp -r on host 2 (local copy)",
                 {"sh", "-c", "cp -r \"$1\" \"$2\" && exec sync -f \"$2\"", "sh", data + "/tree",
                  c.out},
                 -1,
                 false,
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
    if (porchd_noindex > 0) {
        RunResult r = lan->run(
                2, porch_noindex({"ls", a1 + ":" + std::to_string(kNoIndexPort) + "/Bench"}), 60);
        if (!r.ok())
            std::printf("bench-transfer: porch ls (porchd without index) failed: %s\n",
                        r.describe().c_str());
    }
    // The rounds start once porchd's content index holds every file of the data (a fetch of
    // an unchanged file then costs porchd no hashing); its build is not counted in them.
    {
        long long want = 2 + o.tree_files;
        auto t0 = Clock::now();
        IndexStatus st;
        bool held = porch::test::WaitFor(
                [&] {
                    st = GetIndexStatus(*lan, h1 + "/run");
                    return st.files >= want && st.scanning == 0;
                },
                600);
        std::printf("\nporchd's content index: %lld files, %s after %.1f s\n", st.files,
                    held ? "up to date" : "NOT up to date",
                    std::chrono::duration<double>(Clock::now() - t0).count());
    }

    std::printf("\nbench-transfer: %d round(s) on a test LAN of 2 hosts (one machine, %ld "
                "cores); sshd with %s; OpenSSH %s\n",
                o.rounds, sysconf(_SC_NPROCESSORS_ONLN),
                o.sftp_server ? "sftp-server" : "internal-sftp",
                o.openssh_fsync ? "makes its copies durable (get -f / put -f / sync -f)"
                                : "does not make its copies durable");
    if (o.wants("tree"))
        std::printf("the tree is fetched into %s\n",
                    o.tree_on_host ? "host 2's folder (--tree-on-host)"
                                   : "a fresh ext4 file system with a journal (loop device)");
    // --perf: porch's client (contender 0) in each contest under perf record
    for (Contest &c : contests)
        if (!o.perf.empty()) {
            std::vector<std::string> &a = c.contenders[0].argv;
            a.insert(a.begin(), {"perf", "record", "-q", "-g", "-F", "999", "-o",
                                 o.perf + "." + c.name, "--"});
            c.server_perf = o.perf + "." + c.name + ".all";
        }
    for (Contest &c : contests) {
        c.prime = o.prime;
        if (c.attic.empty())
            c.attic = attic;
    }
    for (int r = 0; r < o.rounds; r++)
        for (Contest &c : contests)
            RunRound(*lan, c, r);
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
        // idle: porchd lets a share's worker go once it has had no session for 10 s
        // (daemon/workers.c)
        g_usleep(12 * G_USEC_PER_SEC);
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
        std::printf("  idle porchd: %ld KiB just started, %ld KiB with its worker after one "
                    "session, %ld KiB 12 s after every contest (target <= 2048 KiB)  %s\n",
                    idle_kb, idle_worker_kb, now_kb, now_kb <= 2048 ? "PASS" : "MISS");
        for (pid_t p : idle)
            lan->stop(p, SIGTERM);
    }

    bool index_failed = false;
    if (o.wants("index")) {
        std::printf("\n(index) the content index's first build: %d files of %d bytes, a fresh "
                    "porchd\n",
                    o.index_files, o.index_file_size);
        std::fflush(stdout);
        const std::string small = h1 + "/small";
        std::string block(size_t(o.index_file_size), '\0');
        for (size_t i = 0; i < block.size(); i++)
            block[i] = char(g_random_int());
        for (int i = 0; i < o.index_files; i++) {
            std::string dir = small + "/d" + std::to_string(i / 1000);
            if (i % 1000 == 0)
                g_mkdir_with_parents(dir.c_str(), 0755);
            std::string text = std::to_string(i) + block.substr(std::to_string(i).size());
            if (!g_file_set_contents((dir + "/f" + std::to_string(i)).c_str(), text.data(),
                                     gssize(text.size()), nullptr)) {
                std::printf("bench-transfer: cannot write in %s\n", dir.c_str());
                return 1;
            }
        }
        sync();
        // their times must be over SETTLE_SECONDS old, or the indexer leaves them for later
        g_usleep(2500000);
        std::string conf3 = "[porch]\nname = Bench-index\nport = " + std::to_string(kIndexPort) +
                            "\nlisten = " + a1 + "\n[peer bench]\nkey = " + pub +
                            "\n[share Small]\npath = " + small + "\nread = bench\n";
        WriteText(h1 + "/porch-index.conf", conf3);
        std::string log3 = h1 + "/porchd-index.log";
        auto t0 = Clock::now();
        pid_t porchd3 = lan->spawn(1,
                                   {kPorchd, "--config", h1 + "/porch-index.conf", "--state-dir",
                                    h1 + "/state-index", "--runtime-dir", h1 + "/run-index"},
                                   log3);
        std::vector<double> busy, idle;
        IndexStatus st;
        bool built = false;
        while (std::chrono::duration<double>(Clock::now() - t0).count() < 1800 &&
               lan->running(porchd3)) {
            st = GetIndexStatus(*lan, h1 + "/run-index");
            if (st.files >= o.index_files && st.scanning == 0) {
                built = true;
                break;
            }
            if (st.files >= 0)
                busy.push_back(st.seconds);
            g_usleep(200000);
        }
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        double cpu = TreeCpu(ProcTree(porchd3));
        for (int i = 0; i < 10; i++) {
            IndexStatus after = GetIndexStatus(*lan, h1 + "/run-index");
            if (after.files >= 0)
                idle.push_back(after.seconds);
            g_usleep(100000);
        }
        if (!built) {
            index_failed = true;
            std::printf("  FAILED: the index holds %lld files, scanning %lld, after %.1f s\n",
                        st.files, st.scanning, s);
        } else {
            std::printf("  built in %.1f s (from porchd's start): %.0f files/s; porchd's "
                        "CPU-seconds %.2f (%.1f per 10 000 files)\n",
                        s, o.index_files / s, cpu, cpu * 10000 / o.index_files);
        }
        auto max = [](const std::vector<double> &v) {
            return v.empty() ? NAN : *std::max_element(v.begin(), v.end());
        };
        std::printf("  `porch status` while it builds: %zu answers, median %.0f ms, max %.0f "
                    "ms; once built: median %.0f ms, max %.0f ms\n",
                    busy.size(), 1000 * Median(busy), 1000 * max(busy), 1000 * Median(idle),
                    1000 * max(idle));
        if (built) {
            // the network side's index thread gives its cached database pages back once it
            // has had nothing to do for 5 s (daemon/indexer.c)
            PrintMemory(porchd3, "porchd's memory just built");
            g_usleep(8 * G_USEC_PER_SEC);
            PrintMemory(porchd3, "porchd's memory quiet for 8 s");
        }
        std::fflush(stdout);
        lan->stop(porchd3, SIGTERM);
        std::error_code ec;
        fs::remove_all(small, ec);
    }

    bool failed = many_failed || index_failed;
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
    if (porchd_noindex > 0)
        lan->stop(porchd_noindex, SIGTERM);
    return 0;
}
