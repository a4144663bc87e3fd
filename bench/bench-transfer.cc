// bench-transfer — how fast `porch get` fetches from porchd, against OpenSSH's sftp client
// fetching from OpenSSH's sshd (internal-sftp), measured in the same run on the same test LAN.
//
//   sudo build/bench/bench-transfer [--rounds N]
//
// Host 1 runs porchd (port 4422) and sshd (port 2222, its own host key and config, in a mount
// namespace with a private /run); host 2 fetches, into a folder on disk in the LAN's state
// folder — every contender writes a file of the same kind on the same file system, and the
// output is removed (and the disk synced) before the next run:
//   (a) a 1 GiB random file:      porch get    vs  sftp get     (and sftp get from porchd, and
//                                 sftp get followed by `sync -d`: porch get makes a big file
//                                 durable before renaming it; OpenSSH's client does not)
//   (b) 2000 files of 4 KiB each: porch get -r vs  sftp get -r  (and sftp get -r from porchd)
// OpenSSH's client is told to use aes128-gcm@openssh.com, its fastest cipher with AES-NI.
// Each round runs every contender once, in turn; the figures are the medians. The ratio is
// OpenSSH's median time over porch's ("porch is R× as fast"), printed with the project's
// targets (≥ 2.0× for the file, ≥ 3× for the tree). Figures, not a test: exits 0 whatever they
// are; 77 when it cannot run here (not root, a tool missing).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <glib.h>

#include "testlan.h"
#include "test-util.h"

using Clock = std::chrono::steady_clock;
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
constexpr const char *kCipher = "aes128-gcm@openssh.com";
constexpr int kPorchPort = 4422, kSshdPort = 2222;
constexpr off_t kBigSize = off_t(1) << 30;
constexpr int kTreeFiles = 2000, kTreeFileSize = 4096;

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
    Contender(std::string l, std::vector<std::string> a) : label(std::move(l)), argv(std::move(a))
    {
    }
    std::string label;
    std::vector<std::string> argv; // run on host 2
    std::vector<double> seconds;   // NAN for a failed run
    std::string failure;           // what the first failed run said
};

// One contest: contenders that fetch the same thing to `out` on host 2.
struct Contest {
    std::string title;
    std::string out;     // what the fetch makes on host 2 (cleared before each run)
    uintmax_t bytes = 0; // what it must hold
    int files = 0;       //
    std::string sha;     // of the file, for (a); "" for the tree
    std::string source;  // the tree fetched, on host 1, for (b); "" for the file
    std::vector<Contender> contenders;
};

// Clears the way for the next run of c. A tree is moved aside (into `attic`, removed at the
// end), not removed: ext4 does not hand out the inodes of files deleted a moment ago, and
// after each removal of 2000 files the next 2000 creations spent most of their time
// skipping them (`recently_deleted` in the kernel's profile; the same fetch took 0.4 s on
// a fresh file system and 1.3-1.8 s right after a removal), whoever ran next.
void
Clear(const Contest &c, const std::string &attic)
{
    static int moved;
    std::error_code ec;
    if (c.files > 1 && fs::exists(c.out, ec)) {
        fs::create_directories(attic, ec);
        fs::rename(c.out, attic + "/" + std::to_string(++moved), ec);
    }
    fs::remove_all(c.out, ec);
    sync();
}

// Runs c once for each contender, in turn.
void
RunRound(TestLan &lan, Contest &c, int round, const std::string &attic)
{
    for (Contender &k : c.contenders) {
        Clear(c, attic);
        auto t0 = Clock::now();
        RunResult r = lan.run(2, k.argv, 600);
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        auto [bytes, files] = Measure(c.out);
        std::string wrong;
        if (!r.ok())
            wrong = r.describe();
        else if (bytes != c.bytes || files != c.files)
            wrong = "fetched " + std::to_string(files) + " files, " + std::to_string(bytes) +
                    " bytes; expected " + std::to_string(c.files) + ", " + std::to_string(c.bytes);
        else if (round == 0 && !c.sha.empty() && Sha256File(c.out) != c.sha)
            wrong = "the fetched file differs from the original";
        else if (round == 0 && !c.source.empty())
            wrong = TreeDiffers(c.source, c.out);
        wrong.erase(wrong.find_last_not_of(" \n") + 1);
        if (!wrong.empty() && k.failure.empty())
            k.failure = wrong;
        k.seconds.push_back(wrong.empty() ? s : NAN);
        char took[32];
        std::snprintf(took, sizeof took, "%.3f s", s);
        std::string what = wrong.empty() ? took : "FAILED: " + wrong;
        std::printf("  round %d  %-34s %s\n", round + 1, k.label.c_str(), what.c_str());
        std::fflush(stdout);
    }
    Clear(c, attic);
}

// Prints the contest's figures; the ratio of contender `base` (OpenSSH) to contender 0
// (porch) against the target, and (when synced > 0) the ratio to contender `synced` for
// reference.
void
Report(const Contest &c, size_t base, double target, size_t synced = 0)
{
    std::printf("\n%s\n", c.title.c_str());
    for (const Contender &k : c.contenders) {
        double m = Median(k.seconds);
        std::printf("  %-34s", k.label.c_str());
        for (double s : k.seconds) {
            if (std::isnan(s))
                std::printf("   failed");
            else
                std::printf(" %8.3f", s);
        }
        if (std::isnan(m))
            std::printf("   median   n/a\n");
        else
            std::printf("   median %7.3f s  %8.1f MB/s\n", m, double(c.bytes) / 1e6 / m);
        if (!k.failure.empty())
            std::printf("    (failed: %s)\n", k.failure.c_str());
    }
    double porch = Median(c.contenders[0].seconds), ssh = Median(c.contenders[base].seconds);
    if (std::isnan(porch) || std::isnan(ssh)) {
        std::printf("  porch / OpenSSH: n/a (a contender failed every round)   target >= %.1fx  "
                    "MISS\n",
                    target);
        return;
    }
    double ratio = ssh / porch;
    std::printf("  porch / OpenSSH: %.2fx as fast (%.3f s against %.3f s)   target >= %.1fx  %s\n",
                ratio, porch, ssh, target, ratio >= target ? "PASS" : "MISS");
    double with_sync = synced > 0 ? Median(c.contenders[synced].seconds) : NAN;
    if (!std::isnan(with_sync))
        std::printf("  porch / (OpenSSH + fdatasync): %.2fx as fast (reference, no target)\n",
                    with_sync / porch);
}

int
Usage()
{
    std::fprintf(stderr, "usage: bench-transfer [--rounds N]\n");
    return 2;
}

} // namespace

int
main(int argc, char **argv)
{
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else if (strncmp(argv[i], "--rounds=", 9) == 0)
            rounds = std::atoi(argv[i] + 9);
        else
            return Usage();
    }
    if (rounds < 1)
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
    const std::string data = h1 + "/data", sshd_dir = h1 + "/sshd", out = h2 + "/out";
    const std::string xdg = h2 + "/xdg", key = xdg + "/porch/id_ed25519";
    g_mkdir_with_parents((data + "/tree").c_str(), 0755);
    g_mkdir_with_parents(sshd_dir.c_str(), 0700);
    g_mkdir_with_parents((xdg + "/porch").c_str(), 0700);
    g_mkdir_with_parents(out.c_str(), 0755);

    // The data: 1 GiB, and 2000 × 4 KiB
    std::printf("bench-transfer: writing 1 GiB and %d files of %d bytes on host 1...\n", kTreeFiles,
                kTreeFileSize);
    std::fflush(stdout);
    std::string big_sha = MakeRandomFile(data + "/big.bin", kBigSize, 1);
    if (big_sha.empty()) {
        std::printf("bench-transfer: cannot write %s/big.bin\n", data.c_str());
        return 1;
    }
    for (int i = 0; i < kTreeFiles; i++) {
        char name[32];
        std::snprintf(name, sizeof name, "/tree/f%04d.bin", i);
        if (MakeRandomFile(data + name, kTreeFileSize, 100 + i).empty()) {
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

    // porchd on host 1
    std::string conf = "[porch]\nname = Bench\nport = " + std::to_string(kPorchPort) +
                       "\nlisten = " + lan->address(1) + "\n[peer bench]\nkey = " + pub +
                       "\n[share Bench]\npath = " + data + "\nread = bench\n";
    WriteText(h1 + "/porch.conf", conf);
    std::string porchd_log = h1 + "/porchd.log";
    pid_t porchd = lan->spawn(
            1, {kPorchd, "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"}, porchd_log);

    // sshd on host 1: its own config, host key and authorized_keys; a private /run (for its
    // privilege separation folder /run/sshd) in a mount namespace of its own
    std::string sshd_conf = "Port " + std::to_string(kSshdPort) + "\nListenAddress " +
                            lan->address(1) + "\nHostKey " + sshd_dir +
                            "/host_key\nAuthorizedKeysFile " + sshd_dir +
                            "/authorized_keys\nStrictModes no\nUsePAM no\n"
                            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                            "PermitRootLogin prohibit-password\nPidFile none\n"
                            "Subsystem sftp internal-sftp\n";
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
    auto porch = [&](std::vector<std::string> args) {
        std::vector<std::string> a = {"env", "XDG_CONFIG_HOME=" + xdg, kPorch};
        a.insert(a.end(), args.begin(), args.end());
        return a;
    };
    int serial = 0;
    auto sftp = [&](const std::string &user, int port, const std::string &command) {
        std::string batch = h2 + "/batch-" + std::to_string(++serial) + ".txt";
        WriteText(batch, command + "\n");
        return std::vector<std::string>{"sftp",
                                        "-F",
                                        "/dev/null",
                                        "-q",
                                        "-b",
                                        batch,
                                        "-P",
                                        std::to_string(port),
                                        "-i",
                                        key,
                                        "-o",
                                        "IdentitiesOnly=yes",
                                        "-o",
                                        "IdentityAgent=none",
                                        "-o",
                                        "StrictHostKeyChecking=no",
                                        "-o",
                                        "UserKnownHostsFile=/dev/null",
                                        "-o",
                                        "BatchMode=yes",
                                        "-o",
                                        "LogLevel=ERROR",
                                        "-o",
                                        std::string("Ciphers=") + kCipher,
                                        user + "@" + lan->address(1)};
    };
    const std::string a1 = lan->address(1);
    const std::string big_out = out + "/big.bin", tree_out = out + "/tree";
    const std::string attic = h2 + "/attic";

    Contest file;
    file.title = "(a) 1 GiB random file, host 1 -> a file on host 2";
    file.out = big_out;
    file.bytes = uintmax_t(kBigSize);
    file.files = 1;
    file.sha = big_sha;
    file.contenders = {
            {"porch get (porchd)", porch({"get", "--quiet", a1 + "/Bench/big.bin", big_out})},
            {"OpenSSH sftp get (sshd)",
             sftp("root", kSshdPort, "get " + data + "/big.bin " + big_out)},
            {"OpenSSH sftp get (porchd), ref.",
             sftp("bench", kPorchPort, "get /Bench/big.bin " + big_out)},
            {"OpenSSH sftp get (sshd) + fdatasync", {}},
    };
    // porch get makes a big file durable (fdatasync) before it gets its name; OpenSSH's
    // client does not. The same fetch followed by `sync -d FILE` shows what that costs.
    file.contenders.back().argv = {"sh", "-c", "out=$1; shift; \"$@\" && exec sync -d \"$out\"",
                                   "sh", big_out};
    for (const std::string &a : file.contenders[1].argv)
        file.contenders.back().argv.push_back(a);
    Contest tree;
    tree.title = "(b) " + std::to_string(kTreeFiles) + " files of " +
                 std::to_string(kTreeFileSize) + " bytes, host 1 -> a folder on host 2";
    tree.out = tree_out;
    tree.bytes = uintmax_t(kTreeFiles) * kTreeFileSize;
    tree.files = kTreeFiles;
    tree.source = data + "/tree";
    tree.contenders = {
            {"porch get -r (porchd)", porch({"get", "-r", "--quiet", a1 + "/Bench/tree", out})},
            {"OpenSSH sftp get -r (sshd)",
             sftp("root", kSshdPort, "get -r " + data + "/tree " + tree_out)},
            {"OpenSSH sftp get -r (porchd), ref.",
             sftp("bench", kPorchPort, "get -r /Bench/tree " + tree_out)},
    };

    // One untimed fetch per server: pins porchd's key, and warms both servers' caches.
    Warm(data);
    RunResult first = lan->run(2, porch({"ls", a1 + "/Bench"}), 60);
    if (!first.ok())
        std::printf("bench-transfer: porch ls failed: %s\n", first.describe().c_str());

    std::printf("bench-transfer: %d round(s) on a test LAN of 2 hosts (one machine, %ld cores); "
                "OpenSSH with %s\n",
                rounds, sysconf(_SC_NPROCESSORS_ONLN), kCipher);
    for (int r = 0; r < rounds; r++) {
        RunRound(*lan, file, r, attic);
        RunRound(*lan, tree, r, attic);
    }
    Report(file, 1, 2.0, 3);
    Report(tree, 1, 3.0);
    bool failed = false;
    for (const Contest *c : {&file, &tree})
        for (const Contender &each : c->contenders)
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
