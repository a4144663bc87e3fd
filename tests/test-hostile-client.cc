// test-hostile-client.cc — the real `porch` command against a hostile neighbour: a small SFTP
// server on 127.0.0.1 (tests/hostile-sftp-server.h) that breaks the protocol in one way per
// test. Each run of porch must end within a time bound, by itself (never killed by a signal),
// with the exit status porch(1) documents and a clear message on stderr, having used a
// bounded amount of memory (its peak RSS, from wait4()).
//
//   WellBehavedServerWorks          the double itself: ls, get and put work against it
//   VersionLengthNearTwoTo32        VERSION of length 0xFFFFFFFC..0xFFFFFFFF: exit 1
//   VersionWithBogusExtensions      a pair cut short, a name longer than the packet: exit 1
//   TrickledVersionTimesOut         VERSION a byte a second: exit 3 ("timed out") in ~30 s
//   TrickledReplyTimesOut           a reply a byte a second: exit 1 ("timed out") in ~30 s
//   HugeSizeNeedsTheSpace           8 TiB: "needs 8.0 TiB, ... free on /..." at once
//   SizeNoFileCanHave               2^63 and 2^64 - 1 bytes: refused
//   HugeFileIsFetchedInAWindow      8 TiB onto a 16 TiB tmpfs: memory stays small
//   EndlessListingIsCutOff          READDIR without end: refused after 1,000,000 entries
//   NameCountBeyondItsBytes         a NAME whose count exceeds its content: exit 1
//   AttrsClaimingEndlessExtensions  ATTRS claiming 2^32 - 1 extended pairs: exit 1
//   EndlesslyDeepTree               get -r of folders without end: stops at 256 levels
//   HostileNames                    "..", "a/b", "", NUL, escapes, 300 bytes: each refused,
//                                   the good ones fetched, nothing outside DEST
//   DataLongerThanAsked, ZeroLengthData, CheckFileOfTheWrongLength, ReplyToAnIdNeverSent,
//   PacketLengthOf4GiB              a broken reply: exit 1, nothing left behind
//   LongStatusMessage               a 200 KiB error message: 1 KiB of it is shown
//   GetAppliesTheUmask              modes as the umask lets them, a file always u+w
//   PutModes                        a new file gets the local mode with u+w; --force keeps
//                                   the mode of the file it replaces
//   TargetThatAppearsIsNotReplaced  a target that appears between put's check and its
//                                   rename: refused, "use --force", whether the server sends
//                                   SSH_FX_FILE_ALREADY_EXISTS (porch-wire.h) or FAILURE
//   FullDiskSaysSo                  WRITE fails for want of space: the server's words,
//                                   whether it sends code 14 or FAILURE
//
// Label unit: no root, nothing but loopback. PORCH_TEST_PORCH=PATH runs another porch binary
// (one built from an older commit, to see these tests fail there).
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "hostile-sftp-server.h"
#include "test-util.h"

namespace
{

using porch::test::Contains;
using porch::test::ContainsNoCase;
using porch::test::Exists;
using porch::test::HostileSftpServer;
using porch::test::Hostility;
using porch::test::ReadFile;
using porch::test::WriteFile;
namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// What porch may take. Its own buffers are a few MiB (an 8 MiB input buffer, 8 MiB of data
// with the writer thread); 64 MiB leaves room for libssh, GLib and the libraries, and is far
// below what a server could make an unbounded client take. A listing is held whole, up to
// PORCH_LIST_MAX_ENTRIES entries (porch-sftp-client.h): ~100 bytes each. ASan's shadow
// memory and quarantine (256 MiB at most) come on top under ASan.
constexpr long kMaxRssKiB = (kSanitized ? 64 + 320 : 64) * 1024;
constexpr long kMaxListingRssKiB = (kSanitized ? 160 + 320 : 160) * 1024;
constexpr double kTimeScale = kSanitized ? 3 : 1;

std::string
Hex(uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return b;
}

// How a run of porch ended.
struct Outcome {
    int exit_status = -1; // -1: killed by a signal, or never started
    int signal = 0;
    bool timed_out = false; // killed by us after the time bound
    long max_rss_kib = 0;
    double seconds = 0;
    std::string out, err;

    std::string Describe() const
    {
        std::string s = timed_out ? "did not end within its time bound (killed)"
                        : signal  ? std::string("killed by signal ") + strsignal(signal)
                                  : "exit status " + std::to_string(exit_status);
        s += ", " + std::to_string(max_rss_kib / 1024) + " MiB peak RSS, " +
             std::to_string(seconds).substr(0, 5) + " s";
        if (!err.empty())
            s += "\n  stderr: " + (err.size() > 3000 ? err.substr(0, 3000) + "..." : err);
        return s;
    }
};

// ---- running porch ---------------------------------------------------------------------------
//
// ru_maxrss counts the memory of the process porch was forked from: Linux keeps a process's
// peak across exec, and a forked child starts with its parent's pages. So porch is not forked
// from this test program, which the tests before may have grown (walking a deep tree to
// remove it takes hundreds of MiB), but from a spawner forked at the first run, while the
// program is small, which runs each porch, kills it after its time bound and says how it
// ended.
class Spawner
{
  public:
    static Spawner &Get()
    {
        static Spawner spawner;
        return spawner;
    }

    Outcome Run(const std::vector<std::string> &argv, const std::vector<std::string> &env,
                const std::string &out_path, const std::string &err_path, mode_t mask,
                double seconds)
    {
        Outcome o;
        Result res = {};
        std::vector<std::string> fields = {out_path, err_path, std::to_string(mask),
                                           std::to_string(seconds), std::to_string(argv.size())};
        fields.insert(fields.end(), argv.begin(), argv.end());
        fields.insert(fields.end(), env.begin(), env.end());
        if (fd_ < 0 || !WriteStrings(fd_, fields) || !ReadAll(fd_, &res, sizeof res)) {
            ADD_FAILURE() << "the spawner is gone";
            return o;
        }
        o.exit_status = res.exit_status;
        o.signal = res.signal;
        o.timed_out = res.timed_out;
        o.max_rss_kib = res.max_rss_kib;
        o.seconds = res.seconds;
        o.out = ReadFile(out_path);
        o.err = ReadFile(err_path);
        return o;
    }

    ~Spawner()
    {
        if (pid_ > 0) {
            close(fd_);
            kill(pid_, SIGKILL);
            while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR)
                ;
        }
    }

  private:
    struct Result {
        int exit_status, signal;
        bool timed_out;
        long max_rss_kib;
        double seconds;
    };

    Spawner()
    {
        int sv[2];
        pid_t parent = getpid();
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return;
        pid_ = fork();
        if (pid_ == 0) {
            close(sv[0]);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            Serve(sv[1]);
        }
        close(sv[1]);
        fd_ = pid_ > 0 ? sv[0] : -1;
    }

    static bool ReadAll(int fd, void *buf, size_t len)
    {
        for (size_t at = 0; at < len;) {
            ssize_t n = read(fd, static_cast<char *>(buf) + at, len - at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            at += size_t(n);
        }
        return true;
    }

    static bool WriteAll(int fd, const void *buf, size_t len)
    {
        for (size_t at = 0; at < len;) {
            ssize_t n = write(fd, static_cast<const char *>(buf) + at, len - at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            at += size_t(n);
        }
        return true;
    }

    static bool WriteStrings(int fd, const std::vector<std::string> &v)
    {
        uint32_t n = uint32_t(v.size());
        if (!WriteAll(fd, &n, sizeof n))
            return false;
        for (const std::string &s : v) {
            uint32_t len = uint32_t(s.size());
            if (!WriteAll(fd, &len, sizeof len) || !WriteAll(fd, s.data(), len))
                return false;
        }
        return true;
    }

    static bool ReadStrings(int fd, std::vector<std::string> *v)
    {
        uint32_t n;
        if (!ReadAll(fd, &n, sizeof n))
            return false;
        v->resize(n);
        for (std::string &s : *v) {
            uint32_t len;
            if (!ReadAll(fd, &len, sizeof len))
                return false;
            s.resize(len);
            if (!ReadAll(fd, s.data(), len))
                return false;
        }
        return true;
    }

    [[noreturn]] static void Serve(int fd)
    {
        std::vector<std::string> f;
        while (ReadStrings(fd, &f) && f.size() >= 5) {
            Result res = {-1, 0, false, 0, 0};
            size_t argc = std::stoul(f[4]);
            std::vector<char *> argv, env;
            for (size_t i = 5; i < 5 + argc && i < f.size(); i++)
                argv.push_back(f[i].data());
            argv.push_back(nullptr);
            for (size_t i = 5 + argc; i < f.size(); i++)
                env.push_back(f[i].data());
            env.push_back(nullptr);
            auto start = std::chrono::steady_clock::now();
            auto deadline = start + std::chrono::duration<double>(std::stod(f[3]));
            pid_t pid = fork();
            if (pid == 0) {
                int in = open("/dev/null", O_RDONLY);
                int out = open(f[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                int err = open(f[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
                    dup2(err, 2) < 0)
                    _exit(126);
                setpgid(0, 0);
                umask(mode_t(std::stoul(f[2])));
                if (!kSanitized) {
                    // a porch that allocates without bound fails here, not on the machine
                    struct rlimit rl = {4ull << 30, 4ull << 30};
                    setrlimit(RLIMIT_AS, &rl);
                }
                execvpe(argv[0], argv.data(), env.data());
                _exit(127);
            }
            int status = 0;
            struct rusage ru = {};
            while (pid > 0) {
                pid_t r = wait4(pid, &status, WNOHANG, &ru);
                if (r == pid || (r < 0 && errno != EINTR))
                    break;
                if (std::chrono::steady_clock::now() > deadline && !res.timed_out) {
                    res.timed_out = true;
                    kill(-pid, SIGKILL);
                    kill(pid, SIGKILL);
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            res.seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            res.max_rss_kib = ru.ru_maxrss;
            if (WIFEXITED(status))
                res.exit_status = WEXITSTATUS(status);
            else if (WIFSIGNALED(status))
                res.signal = WTERMSIG(status);
            if (!WriteAll(fd, &res, sizeof res))
                break;
        }
        _exit(0);
    }

    pid_t pid_ = -1;
    int fd_ = -1;
};

class HostileClientTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autoptr(GError) error = nullptr;
        char *tmp = g_dir_make_tmp("porch-hostile-XXXXXX", &error);
        ASSERT_NE(tmp, nullptr) << error->message;
        tmp_ = tmp;
        g_free(tmp);
        dest_ = tmp_ + "/dest";
        for (const char *d : {"/home", "/config", "/state", "/dest"})
            ASSERT_EQ(mkdir((tmp_ + d).c_str(), 0755), 0) << strerror(errno);
        const char *other = getenv("PORCH_TEST_PORCH");
        porch_ = other != nullptr && *other ? other : PORCH_PROGRAM_PORCH_CLI;
        ASSERT_EQ(access(porch_.c_str(), X_OK), 0) << porch_ << ": " << strerror(errno);
    }

    void TearDown() override
    {
        server_.reset(); // killed and reaped
        std::error_code ec;
        // what a test left read-only must still go
        for (auto it = fs::recursive_directory_iterator(tmp_, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_directory(ec))
                chmod(it->path().c_str(), 0700);
        fs::remove_all(tmp_, ec);
    }

    void StartServer(Hostility h, uint64_t value = 0, bool status_codes = false)
    {
        std::string error;
        server_.reset();
        log_ = tmp_ + "/server.log";
        server_ = HostileSftpServer::Start({h, value, log_, status_codes}, &error);
        ASSERT_TRUE(server_) << error;
    }

    // HOST/PATH of the server: 127.0.0.1:PORT/PATH
    std::string Remote(const std::string &path) const
    {
        return "127.0.0.1:" + std::to_string(server_->port()) + path;
    }

    // Runs porch with args (stdin /dev/null: a first host key is pinned without asking), in a
    // home, config and state of the test's own, with `mask` as its umask; killed after
    // `seconds` (times kTimeScale). `prefix` goes before porch (e.g. unshare).
    Outcome Porch(const std::vector<std::string> &args, double seconds = 20, mode_t mask = 022,
                  const std::vector<std::string> &prefix = {})
    {
        std::vector<std::string> argv = prefix;
        std::vector<std::string> env = {
                "HOME=" + tmp_ + "/home",
                "XDG_CONFIG_HOME=" + tmp_ + "/config",
                "XDG_STATE_HOME=" + tmp_ + "/state",
                "XDG_CACHE_HOME=" + tmp_ + "/home/.cache",
                "XDG_DATA_HOME=" + tmp_ + "/home/.local",
                "LANG=C.UTF-8",
                "LC_ALL=C.UTF-8",
        };
        for (const char *pass : {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "G_DEBUG",
                                 "G_MESSAGES_DEBUG"})
            if (const char *v = getenv(pass))
                env.push_back(std::string(pass) + "=" + v);
        argv.push_back(porch_);
        argv.insert(argv.end(), args.begin(), args.end());
        return Spawner::Get().Run(argv, env, tmp_ + "/porch.out", tmp_ + "/porch.err", mask,
                                  seconds * kTimeScale);
    }

    // porch ended by itself, with `status` and every one of `says` on stderr, within the
    // memory bound.
    static void ExpectFailedCleanly(const Outcome &o, int status,
                                    std::initializer_list<std::string> says,
                                    long max_rss_kib = kMaxRssKiB)
    {
        EXPECT_FALSE(o.timed_out) << o.Describe();
        EXPECT_EQ(o.signal, 0) << o.Describe();
        EXPECT_EQ(o.exit_status, status) << o.Describe();
        EXPECT_LT(o.max_rss_kib, max_rss_kib) << o.Describe();
        EXPECT_TRUE(Contains(o.err, "porch: ")) << o.Describe();
        for (const std::string &s : says)
            EXPECT_TRUE(ContainsNoCase(o.err, s)) << "\"" << s << "\" expected\n" << o.Describe();
    }

    // The names in a folder.
    static std::set<std::string> Names(const std::string &dir)
    {
        std::set<std::string> names;
        std::error_code ec;
        for (const auto &e : fs::directory_iterator(dir, ec))
            names.insert(e.path().filename().string());
        return names;
    }

    static mode_t Mode(const std::string &path)
    {
        struct stat st;
        return stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
    }

    std::string tmp_, dest_, porch_, log_;
    std::unique_ptr<HostileSftpServer> server_;
};

// The double, well-behaved: what the other tests break works here, so that their failures
// are porch's refusals and not the double's bugs.
TEST_F(HostileClientTest, WellBehavedServerWorks)
{
    StartServer(Hostility::kNone);
    Outcome o = Porch({"ls", Remote("/Share")});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_TRUE(Contains(o.out, "hello.txt\n")) << o.out;
    EXPECT_TRUE(Contains(o.out, "tree/\n")) << o.out;
    EXPECT_LT(o.max_rss_kib, kMaxRssKiB) << o.Describe();

    o = Porch({"get", "-r", Remote("/Share/tree"), dest_});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_EQ(ReadFile(dest_ + "/tree/a.txt"), "a\n");
    EXPECT_EQ(ReadFile(dest_ + "/tree/sub/b.txt"), "b\n");

    ASSERT_TRUE(WriteFile(tmp_ + "/up.txt", "uploaded\n"));
    o = Porch({"put", tmp_ + "/up.txt", Remote("/Share/up.txt")});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    o = Porch({"get", Remote("/Share/up.txt"), dest_});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_EQ(ReadFile(dest_ + "/up.txt"), "uploaded\n");
}

// ---- VERSION ---------------------------------------------------------------------------------

// The length check used to wrap (int arithmetic): the extension loop read past the 8 MiB
// buffer and memmove got a size near 2^64 (SIGSEGV).
TEST_F(HostileClientTest, VersionLengthNearTwoTo32)
{
    for (uint64_t len = 0xFFFFFFFCull; len <= 0xFFFFFFFFull; len++) {
        SCOPED_TRACE("VERSION length " + Hex(len));
        StartServer(Hostility::kVersionLength, len);
        Outcome o = Porch({"ls", Remote("/Share")});
        ExpectFailedCleanly(o, 1, {"SFTP VERSION", std::to_string(len) + " bytes"});
        EXPECT_EQ(o.out, "");
    }
}

TEST_F(HostileClientTest, VersionWithBogusExtensions)
{
    for (Hostility h : {Hostility::kVersionExtensionCut, Hostility::kVersionExtensionOverlong}) {
        SCOPED_TRACE(h == Hostility::kVersionExtensionCut ? "a pair cut short"
                                                          : "a name longer than the packet");
        StartServer(h);
        Outcome o = Porch({"ls", Remote("/Share")});
        ExpectFailedCleanly(o, 1, {"malformed SFTP VERSION"});
        EXPECT_EQ(o.out, "");
    }
}

// ---- hangs -------------------------------------------------------------------------------------

// Any byte used to restart the 30 s timeout: a byte every 29 s held porch for ever.
TEST_F(HostileClientTest, TrickledVersionTimesOut)
{
    StartServer(Hostility::kTrickleVersion);
    Outcome o = Porch({"ls", Remote("/Share")}, 45);
    ExpectFailedCleanly(o, 3, {"timed out"});
    EXPECT_GT(o.seconds, 25) << o.Describe();
}

TEST_F(HostileClientTest, TrickledReplyTimesOut)
{
    StartServer(Hostility::kTrickleReply);
    Outcome o = Porch({"ls", Remote("/Share")}, 45);
    ExpectFailedCleanly(o, 1, {"timed out"});
    EXPECT_GT(o.seconds, 25) << o.Describe();
}

// ---- sizes
// ---------------------------------------------------------------------------------------

// A claimed size used to size the ranges of a file at once: 388 MB for 8 TiB.
TEST_F(HostileClientTest, HugeSizeNeedsTheSpace)
{
    StartServer(Hostility::kHugeSize, 8ull << 40);
    Outcome o = Porch({"get", Remote("/Share/big"), dest_});
    ExpectFailedCleanly(o, 1, {"big", "needs 8.0 TiB", "GiB free on /"});
    EXPECT_LT(o.seconds, 10) << o.Describe();
    EXPECT_EQ(Names(dest_), std::set<std::string>{}) << "nothing may be left behind";
}

TEST_F(HostileClientTest, SizeNoFileCanHave)
{
    for (uint64_t size : {1ull << 63, ~0ull}) {
        SCOPED_TRACE("size " + Hex(size));
        StartServer(Hostility::kHugeSize, size);
        Outcome o = Porch({"get", Remote("/Share/big"), dest_});
        ExpectFailedCleanly(o, 1, {"big", std::to_string(size), "more than a file can have"});
        EXPECT_EQ(Names(dest_), std::set<std::string>{});
    }
}

// With the room for it (a 16 TiB tmpfs in a user and mount namespace of porch's own), an
// 8 TiB file is fetched range after range: what porch holds does not grow with the size.
// The server serves 24 MiB of it and then says it ended: porch says it shrank.
TEST_F(HostileClientTest, HugeFileIsFetchedInAWindow)
{
    const std::string big = tmp_ + "/bigfs";
    ASSERT_EQ(mkdir(big.c_str(), 0755), 0);
    if (system(("unshare -Urm sh -c 'mount -t tmpfs -o size=16T porch-big \"" + big +
                "\"' >/dev/null 2>&1")
                       .c_str()) != 0)
        GTEST_SKIP() << "no user and mount namespace here (unshare -Urm) for a 16 TiB tmpfs";
    StartServer(Hostility::kHugeSize, 8ull << 40);
    Outcome o = Porch({"get", Remote("/Share/big"), big}, 60, 022,
                      {"unshare", "-Urm", "sh", "-c",
                       "mount -t tmpfs -o size=16T porch-big \"$1\" && shift && exec \"$@\"", "sh",
                       big});
    ExpectFailedCleanly(o, 1, {"big", "shrank while it was being fetched"});
}

// ---- listings --------------------------------------------------------------------------------

TEST_F(HostileClientTest, EndlessListingIsCutOff)
{
    StartServer(Hostility::kEndlessReaddir);
    Outcome o = Porch({"ls", Remote("/Share/many")}, 60);
    ExpectFailedCleanly(o, 1, {"Share/many", "more than 1000000 entries"}, kMaxListingRssKiB);
    EXPECT_EQ(o.out, "");

    o = Porch({"get", "-r", Remote("/Share/many"), dest_}, 60);
    ExpectFailedCleanly(o, 1, {"Share/many", "more than 1000000 entries"}, kMaxListingRssKiB);
}

TEST_F(HostileClientTest, NameCountBeyondItsBytes)
{
    for (uint64_t count : {2ull, 1000ull, 0xFFFFFFFFull}) {
        SCOPED_TRACE("a NAME claiming " + std::to_string(count) + " entries, holding one");
        StartServer(Hostility::kNameCountExceeds, count);
        Outcome o = Porch({"ls", Remote("/Share/tree")});
        ExpectFailedCleanly(o, 1, {"Share/tree", "malformed listing"});
        EXPECT_EQ(o.out, "");
    }
}

TEST_F(HostileClientTest, AttrsClaimingEndlessExtensions)
{
    StartServer(Hostility::kAttrsExtendedCount);
    Outcome o = Porch({"ls", Remote("/Share/hello.txt")});
    ExpectFailedCleanly(o, 1, {"hello.txt", "malformed attributes"});
}

TEST_F(HostileClientTest, EndlesslyDeepTree)
{
    StartServer(Hostility::kDeepTree);
    Outcome o = Porch({"get", "-r", Remote("/Share/deep"), dest_}, 60);
    ExpectFailedCleanly(o, 1, {"nested more than 256 deep"});
    // 257 folders were made: deep (0) and 256 levels beneath it
    std::string path = dest_ + "/deep";
    int levels = 0;
    while (Exists(path + "/d")) {
        path += "/d";
        levels++;
    }
    EXPECT_EQ(levels, 256);
}

// Names from the server become local names: "..", "." and the empty name never, one holding
// '/' or NUL never (a failure each), one longer than NAME_MAX a failure; control characters
// are a file's business, but never reach the terminal as they are.
TEST_F(HostileClientTest, HostileNames)
{
    StartServer(Hostility::kHostileNames);
    Outcome o = Porch({"get", "-r", Remote("/Share/names"), dest_});
    ExpectFailedCleanly(o, 1,
                        {"Share/names/a/b: the neighbour listed a name holding '/'",
                         "the neighbour listed an empty name", "a name of 300 bytes, longer than",
                         "files failed"});
    EXPECT_FALSE(Contains(o.err, "\x1b")) << "an escape sequence reached the terminal";
    EXPECT_FALSE(Contains(o.err, "\x07")) << "a BEL reached the terminal";
    EXPECT_EQ(Names(dest_ + "/names"),
              (std::set<std::string>{"ok.txt", "\x1b[31mred\x1b[0m", "bell\x07"}));
    EXPECT_EQ(ReadFile(dest_ + "/names/ok.txt"), "ok\n");
    EXPECT_EQ(Names(dest_), std::set<std::string>{"names"});
    const std::set<std::string> ours = {"config",    "dest",       "home", "porch.err",
                                        "porch.out", "server.log", "state"};
    for (const std::string &n : Names(tmp_))
        EXPECT_TRUE(ours.count(n)) << n << " appeared beside DEST";

    o = Porch({"ls", Remote("/Share/names")});
    EXPECT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_TRUE(Contains(o.out, "ok.txt\n")) << o.out;
    EXPECT_TRUE(Contains(o.out, "?[31mred?[0m\n")) << o.out;
    EXPECT_FALSE(Contains(o.out, "\x1b")) << o.out;
    EXPECT_FALSE(Contains(o.out, "a/b")) << o.out;
}

// ---- broken replies ----------------------------------------------------------------------------

TEST_F(HostileClientTest, DataLongerThanAsked)
{
    StartServer(Hostility::kDataLonger);
    Outcome o = Porch({"get", Remote("/Share/hello.txt"), dest_});
    ExpectFailedCleanly(o, 1, {"hello.txt", "malformed DATA"});
    EXPECT_EQ(Names(dest_), std::set<std::string>{}) << "nothing may be left behind";
}

TEST_F(HostileClientTest, ZeroLengthData)
{
    StartServer(Hostility::kDataEmpty);
    Outcome o = Porch({"get", Remote("/Share/hello.txt"), dest_});
    ExpectFailedCleanly(o, 1, {"hello.txt", "malformed DATA"});
    EXPECT_EQ(Names(dest_), std::set<std::string>{});
}

TEST_F(HostileClientTest, CheckFileOfTheWrongLength)
{
    for (uint64_t len : {0ull, 31ull, 33ull, 64ull}) {
        SCOPED_TRACE(std::to_string(len) + " bytes of hash");
        StartServer(Hostility::kCheckFileLength, len);
        Outcome o = Porch({"get", Remote("/Share/hello.txt"), dest_});
        ExpectFailedCleanly(o, 1, {"hello.txt", "malformed check-file reply"});
        EXPECT_EQ(Names(dest_), std::set<std::string>{});
    }
}

TEST_F(HostileClientTest, ReplyToAnIdNeverSent)
{
    StartServer(Hostility::kReplyToUnsentId);
    Outcome o = Porch({"ls", Remote("/Share/hello.txt")});
    ExpectFailedCleanly(o, 1, {"hello.txt", "a reply to no request"});
    o = Porch({"get", Remote("/Share/hello.txt"), dest_});
    ExpectFailedCleanly(o, 1, {"hello.txt", "a reply to no request"});
    EXPECT_EQ(Names(dest_), std::set<std::string>{});
}

// A message is a line for people: at most 1 KiB of it, and never an escape sequence.
TEST_F(HostileClientTest, LongStatusMessage)
{
    StartServer(Hostility::kLongStatus);
    Outcome o = Porch({"ls", Remote("/Share/hello.txt")});
    ExpectFailedCleanly(o, 1, {"hello.txt", "?[2JAAAA", "AAAA…"});
    EXPECT_LT(o.err.size(), 2048u) << o.Describe();
    EXPECT_FALSE(Contains(o.err, "\x1b")) << "an escape sequence reached the terminal";
}

TEST_F(HostileClientTest, PacketLengthOf4GiB)
{
    StartServer(Hostility::kPacketLength4GiB);
    Outcome o = Porch({"ls", Remote("/Share/hello.txt")});
    ExpectFailedCleanly(o, 1, {"hello.txt", "an SFTP packet of 4294967295 bytes"});
}

// ---- modes
// ---------------------------------------------------------------------------------------

TEST_F(HostileClientTest, GetAppliesTheUmask)
{
    StartServer(Hostility::kNone);
    // 0777 under umask 077: 0700
    Outcome o = Porch({"get", Remote("/Share/all.txt"), dest_}, 20, 077);
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_EQ(Mode(dest_ + "/all.txt"), 0700u);
    // 0444 (as porchd shows a read-only peer its files): its new owner may write it
    o = Porch({"get", Remote("/Share/ro.txt"), dest_}, 20, 022);
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_EQ(Mode(dest_ + "/ro.txt"), 0644u);
    // a tree under umask 027: folders 0777 -> 0750, files 0666 -> 0640, 0644 -> 0640
    o = Porch({"get", "-r", Remote("/Share/tree"), dest_}, 20, 027);
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_EQ(Mode(dest_ + "/tree"), 0750u);
    EXPECT_EQ(Mode(dest_ + "/tree/a.txt"), 0640u);
    EXPECT_EQ(Mode(dest_ + "/tree/sub"), 0750u);
    EXPECT_EQ(Mode(dest_ + "/tree/sub/b.txt"), 0640u);
}

TEST_F(HostileClientTest, PutModes)
{
    StartServer(Hostility::kNone);
    ASSERT_TRUE(WriteFile(tmp_ + "/mine.txt", "mine\n", 0444));
    // a new file: the local mode, writable by its owner
    Outcome o = Porch({"put", tmp_ + "/mine.txt", Remote("/Share/new.txt")});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_TRUE(Contains(ReadFile(log_), "renamed /Share/new.txt mode=0644\n")) << ReadFile(log_);
    // --force over an existing file: that file's mode stays
    o = Porch({"put", "--force", tmp_ + "/mine.txt", Remote("/Share/all.txt")});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_TRUE(Contains(ReadFile(log_), "renamed /Share/all.txt mode=0777\n")) << ReadFile(log_);
    o = Porch({"put", "--force", tmp_ + "/mine.txt", Remote("/Share/hello.txt")});
    ASSERT_EQ(o.exit_status, 0) << o.Describe();
    EXPECT_TRUE(Contains(ReadFile(log_), "renamed /Share/hello.txt mode=0644\n")) << ReadFile(log_);
}

// A target that appears after put looked for it: the rename without --force finds it and the
// file is not replaced. A server that knows the extended status codes says so with
// SSH_FX_FILE_ALREADY_EXISTS; one that does not (OpenSSH's says FAILURE, "Failure") with
// FAILURE: the user is told to use --force either way.
TEST_F(HostileClientTest, TargetThatAppearsIsNotReplaced)
{
    ASSERT_TRUE(WriteFile(tmp_ + "/mine.txt", "mine\n"));
    for (bool codes : {true, false}) {
        SCOPED_TRACE(codes ? "SSH_FX_FILE_ALREADY_EXISTS" : "SSH_FX_FAILURE");
        StartServer(Hostility::kTargetAppears, 0, codes);
        Outcome o = Porch({"put", tmp_ + "/mine.txt", Remote("/Share/hello.txt")});
        ExpectFailedCleanly(o, 1, {"/Share/hello.txt: ", "exists (use --force to replace it)\n"});
        EXPECT_FALSE(Contains(ReadFile(log_), "renamed /Share/hello.txt")) << ReadFile(log_);
    }
}

// A server whose disk is full: its words reach the user, whatever the code.
TEST_F(HostileClientTest, FullDiskSaysSo)
{
    ASSERT_TRUE(WriteFile(tmp_ + "/mine.txt", "mine\n"));
    for (bool codes : {true, false}) {
        SCOPED_TRACE(codes ? "code 14" : "SSH_FX_FAILURE");
        StartServer(Hostility::kDiskFull, 0, codes);
        Outcome o = Porch({"put", tmp_ + "/mine.txt", Remote("/Share/new.txt")});
        ExpectFailedCleanly(o, 1, {"/Share/new.txt: No space left on device\n"});
        EXPECT_FALSE(Contains(ReadFile(log_), "renamed")) << ReadFile(log_);
    }
}

} // namespace
