// test-client.cc — `porch ls`, `porch get` and `porch put` as a user runs them: the real porch
// command on test-LAN host 2 against a real porchd on host 1, judged by the files on both
// disks, the exit status and the words on stderr.
//
//   FilesAndTreesRoundTripByteExact      empty, >100 MiB and UTF-8 files, a nested tree;
//                                        modes (u+w added) and mtimes kept by -r; no leftovers
//   ResumeContinuesAValidPartAnd...      get resumes a good NAME.part by default (as with
//                                        --resume), saying "resuming at"; a corrupted or too
//                                        long one is kept as NAME.part.1 (.2), and so is any
//                                        with --no-resume; a NAME.part another porch holds
//                                        (its lock): exit 1, "another porch is fetching ..."
//   ExistingDestinationNeedsForce        get and put refuse to overwrite without --force,
//                                        and a refused put leaves no temporary file; a file
//                                        put --force replaces keeps its mode
//   ChangedHostKeyIsRefused              a pin that differs, a porchd with a new host key, a
//                                        server that knows neither our key nor guests: exit 4
//   MismatchingAdvertisedFingerprint...  a display name whose mDNS fp= is not the key the
//                                        host shows: exit 4, nothing pinned
//   InterruptedUploadLeavesTheOldFile    SIGKILL of `porch put` midway over an existing file
//   ExitCodesAndMessages                 usage, unknown or unreachable host, no such file,
//                                        permission denied
//   DiskFullOnEitherSide                 a full share (put) and a full local disk (get: refused
//                                        before it starts)
//   LsListsSharesAndFolders              the root, a folder with -l and --json, as guest
//
// porchd serves these shares (host 1's folder of the LAN, so this process sees what every
// request did on disk): Work (the client's key may write), Docs (may read), Public (guests
// may read), Secret (another peer only) and Small (writable, on a 2 MiB tmpfs that only
// porchd's mount namespace has). Each test has its own $XDG_CONFIG_HOME holding the client's
// key, so its pins (known_peers) are its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib.h>

#include "testlan.h"
#include "test-util.h"

namespace
{

using Clock = std::chrono::steady_clock;
using porch::test::Contains;
using porch::test::ContainsNoCase;
using porch::test::Exists;
using porch::test::GiveToShareOwner;
using porch::test::Leftovers;
using porch::test::MakeDirs;
using porch::test::MakeRandomFile;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::Sha256File;
using porch::test::TestLan;
using porch::test::WriteFile;
namespace fs = std::filesystem;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr const char *kDisplayName = "Alice's laptop";

// ---- files ---------------------------------------------------------------------------------

off_t
FileSize(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

ino_t
Inode(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool
SetMtime(const std::string &path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    return utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0;
}

// Polls pred every 20 ms for at most seconds; true as soon as it holds.
bool
WaitFor(const std::function<bool()> &pred, double seconds)
{
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        if (pred())
            return true;
        if (Clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// A file tree as a user would compare it: relative path -> "dir" or "file SIZE SHA256" and,
// with meta, " mode=OOOO mtime=T" for files. Never follows a link.
using Tree = std::map<std::string, std::string>;

Tree
Snapshot(const std::string &root, bool meta)
{
    Tree t;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string path = it->path().string(), rel = path.substr(root.size() + 1);
        struct stat st;
        if (lstat(path.c_str(), &st) != 0) {
            t[rel] = "gone";
        } else if (S_ISDIR(st.st_mode)) {
            t[rel] = "dir";
        } else if (S_ISREG(st.st_mode)) {
            char m[64] = "";
            if (meta)
                snprintf(m, sizeof m, " mode=%04o mtime=%lld", unsigned(st.st_mode & 07777),
                         (long long)st.st_mtim.tv_sec);
            t[rel] = "file " + std::to_string(st.st_size) + " " + Sha256File(path) + m;
        } else {
            t[rel] = "other";
        }
    }
    return t;
}

// What differs between two trees, one line per path; "" when they are equal.
std::string
Diff(const Tree &want, const Tree &got)
{
    std::string d;
    for (const auto &[path, v] : want) {
        auto it = got.find(path);
        if (it == got.end())
            d += "  missing " + path + " (" + v + ")\n";
        else if (it->second != v)
            d += "  changed " + path + ": " + v + " -> " + it->second + "\n";
    }
    for (const auto &[path, v] : got)
        if (!want.count(path))
            d += "  new     " + path + " (" + v + ")\n";
    return d;
}

std::string
Join(const std::vector<std::string> &v, const char *sep = "\n")
{
    std::string s;
    for (const std::string &x : v)
        s += (s.empty() ? "" : sep) + x;
    return s;
}

// The lines of text, without empty ones.
std::vector<std::string>
Lines(const std::string &text)
{
    std::vector<std::string> lines;
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

// The lines of a known_peers file that are pins (not comments).
std::vector<std::string>
PinLines(const std::string &text)
{
    std::vector<std::string> pins;
    for (const std::string &line : Lines(text))
        if (line[0] != '#')
            pins.push_back(line);
    return pins;
}

// text with every occurrence of `what` replaced by `with`.
std::string
Replace(std::string text, const std::string &what, const std::string &with)
{
    for (size_t at = 0; !what.empty() && (at = text.find(what, at)) != std::string::npos;
         at += with.size())
        text.replace(at, what.size(), with);
    return text;
}

// The names `porch ls` printed, one per line: a trailing '/' (a folder) dropped.
std::set<std::string>
ListedNames(const std::string &out)
{
    std::set<std::string> names;
    for (std::string line : Lines(out)) {
        while (!line.empty() && (line.back() == '/' || line.back() == '\r'))
            line.pop_back();
        names.insert(line);
    }
    return names;
}

// Makes an Ed25519 key pair at path (and path.pub); returns the public key line.
std::string
MakeKey(const std::string &path, const std::string &comment)
{
    RunResult r = TestLan::run_local(
            {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path});
    if (!r.ok())
        return "";
    std::string line = ReadFile(path + ".pub");
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.pop_back();
    return line;
}

// The second field (base64) of a public key line.
std::string
KeyBase64(const std::string &line)
{
    std::stringstream in(line);
    std::string type, b64;
    in >> type >> b64;
    return b64;
}

// "SHA256:..." of a key file (private or public), as ssh-keygen -l prints it.
std::string
Fingerprint(const std::string &key)
{
    RunResult r = TestLan::run_local({"ssh-keygen", "-l", "-E", "sha256", "-f", key});
    std::stringstream in(r.out);
    std::string bits, fp;
    in >> bits >> fp;
    return fp;
}

// Runs jq -c FILTER on json; its output without the final newline, or "jq failed: ...".
std::string
Jq(const std::string &dir, const std::string &json, const std::string &filter)
{
    std::string path = dir + "/jq-input.json";
    if (!g_file_set_contents(path.c_str(), json.c_str(), -1, nullptr))
        return "cannot write " + path;
    RunResult r = TestLan::run_local({"jq", "-c", filter, path});
    if (!r.ok())
        return "jq failed: " + r.describe();
    if (!r.out.empty() && r.out.back() == '\n')
        r.out.pop_back();
    return r.out;
}

// ---- the fixture: porchd on host 1, the porch command on host 2 ------------------------------

class ClientTest : public ::testing::Test
{
  protected:
    // One LAN and one porchd for every test of the suite (ctest runs each test in its own
    // process, so there each test brings up its own).
    static void SetUpTestSuite()
    {
        // porch get gives files the modes its umask lets them have: the modes compared
        // below are those of umask 022
        umask(022);
        std::string missing =
                TestLan::missing_tools({"ssh-keygen", "avahi-publish", "jq", "unshare", "sh"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing;
            may_skip_ = !TestLan::must_run();
            return;
        }
        lan_ = TestLan::Create(2, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        h1_ = lan_->host_dir(1);
        h2_ = lan_->host_dir(2);
        work_ = h1_ + "/work";
        docs_ = h1_ + "/docs";
        public_ = h1_ + "/public";
        secret_ = h1_ + "/secret";
        small_ = h1_ + "/small";
        state_ = h1_ + "/state";
        keys_ = h2_ + "/keys";
        for (const std::string &d : {work_, docs_, public_, secret_, small_, keys_})
            if (!MakeDirs(d)) {
                why_not_ = "cannot make " + d;
                return;
            }
        // porchd serves a folder as its owner, and root's as 'porch', who may write nothing in
        // them: the shares clients write in are an unprivileged user's (tests give that user
        // what they make there for the server to change), Small too (mounted as that user's)
        if (!GiveToShareOwner(work_)) {
            why_not_ = "cannot give " + work_ + " to the share owner";
            return;
        }
        const porch::test::Owner owner = porch::test::ShareOwner();
        my_key_ = MakeKey(keys_ + "/me", "me@host2");
        std::string carol = MakeKey(keys_ + "/carol", "carol@elsewhere");
        stranger_key_ = MakeKey(keys_ + "/stranger", "stranger@host2");
        if (my_key_.empty() || carol.empty() || stranger_key_.empty()) {
            why_not_ = "ssh-keygen failed";
            return;
        }
        std::string conf = "[porch]\nname = " + std::string(kDisplayName) +
                           "\nlisten = " + lan_->address(1) + "\n\n[peer me]\nkey = " + my_key_ +
                           "\n\n[peer carol]\nkey = " + carol +
                           "\n\n[share Work]\npath = " + work_ + "\nwrite = me\n" +
                           "\n[share Docs]\npath = " + docs_ + "\nread = me\n" +
                           "\n[share Public]\npath = " + public_ + "\nread = guest\n" +
                           "\n[share Secret]\npath = " + secret_ + "\nread = carol\n" +
                           "\n[share Small]\npath = " + small_ + "\nwrite = me\n";
        if (!WriteFile(h1_ + "/porch.conf", conf)) {
            why_not_ = "cannot write porch.conf";
            return;
        }
        // Small is a 2 MiB tmpfs in porchd's own mount namespace: the exec chain (ip netns exec
        // -> env -> unshare -> sh -> porchd) keeps the pid, so /proc/PID/root shows it.
        std::string log = h1_ + "/porchd.log";
        std::string small_options = "size=2m,mode=0755,uid=" + std::to_string(owner.uid) +
                                    ",gid=" + std::to_string(owner.gid);
        porchd_ = lan_->spawn(1,
                              {"unshare", "-m", "--propagation", "private", "sh", "-c",
                               "mount -t tmpfs -o \"$5\" porch-small \"$1\" && exec \"$2\" "
                               "--config \"$3\" --state-dir \"$4\"",
                               "sh", small_, kPorchd, h1_ + "/porch.conf", state_, small_options},
                              log);
        if (!PorchdStarted(lan_, porchd_, log)) {
            why_not_ = "porchd did not start; its log:\n" + ReadFile(log);
            may_skip_ = false;
            return;
        }
        ready_ = true;
    }

    static void TearDownTestSuite()
    {
        delete lan_;
        lan_ = nullptr;
        ready_ = false;
    }

    void SetUp() override
    {
        if (!lan_ || !ready_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_not_;
            GTEST_FAIL() << "test LAN unavailable: " << why_not_
                         << (TestLan::must_run() ? " (CI is set: LAN tests must run)" : "");
        }
        const ::testing::TestInfo *info = ::testing::UnitTest::GetInstance()->current_test_info();
        name_ = info->name();
        xdg_ = NewConfigHome(name_);
        ASSERT_FALSE(xdg_.empty());
        local_ = h2_ + "/" + name_;
        ASSERT_TRUE(MakeDirs(local_));
    }

    void TearDown() override
    {
        for (pid_t pid : spawned_)
            lan_->stop(pid, SIGKILL);
        spawned_.clear();
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log (tail) ----\n%s\n", Tail(h1_ + "/porchd.log").c_str());
    }

    static std::string Tail(const std::string &path, size_t max = 6000)
    {
        std::string s = ReadFile(path);
        return s.size() > max ? "..." + s.substr(s.size() - max) : s;
    }

    // A new $XDG_CONFIG_HOME with the client's key in porch/id_ed25519 (0600); "" on failure.
    static std::string NewConfigHome(const std::string &name)
    {
        static int serial = 0;
        std::string xdg = h2_ + "/xdg-" + name + "-" + std::to_string(++serial);
        std::string key = ReadFile(keys_ + "/me");
        if (!MakeDirs(xdg + "/porch", 0700) || key.empty() ||
            !WriteFile(xdg + "/porch/id_ed25519", key, 0600) ||
            !WriteFile(xdg + "/porch/id_ed25519.pub", my_key_ + "\n"))
            return "";
        return xdg;
    }

    // argv that runs porch with `args` as a user of host 2 with config home xdg.
    std::vector<std::string> PorchArgv(const std::vector<std::string> &args,
                                       const std::string &xdg = "") const
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                                         "XDG_CONFIG_HOME=" + (xdg.empty() ? xdg_ : xdg), kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    // Runs porch on host 2 (stdin not a terminal).
    RunResult Porch(const std::vector<std::string> &args, double timeout = 120,
                    const std::string &xdg = "")
    {
        return lan_->run(2, PorchArgv(args, xdg), timeout);
    }

    // For assertion messages.
    static std::string Say(const std::vector<std::string> &args, const RunResult &r)
    {
        std::string cmd = "porch";
        for (const std::string &a : args)
            cmd += " '" + a + "'";
        return cmd + "\n  -> " + r.describe() + (r.out.empty() ? "" : "\n  stdout: " + r.out);
    }

    // "10.88.0.1/" + path: a remote path on host 1's porchd by address.
    static std::string Remote(const std::string &path)
    {
        return lan_->address(1) + "/" + path;
    }

    // Waits until porchd's _porch._tcp record is visible from host 2 and `porch ls` by display
    // name works; false if not within 15 s.
    bool WaitDisplayName(RunResult *last)
    {
        return WaitFor(
                [&] {
                    *last = Porch({"ls", "--timeout", "5", kDisplayName}, 30);
                    return last->ok();
                },
                15);
    }

    // What porchd's mount namespace has at path (Small is only there).
    static std::string InPorchd(const std::string &path)
    {
        return "/proc/" + std::to_string(porchd_) + "/root" + path;
    }

    static TestLan *lan_;
    static std::string why_not_;
    static bool may_skip_, ready_;
    static pid_t porchd_;
    static std::string h1_, h2_, work_, docs_, public_, secret_, small_, state_, keys_;
    static std::string my_key_, stranger_key_;

    std::string name_;  // the current test's name
    std::string xdg_;   // its $XDG_CONFIG_HOME
    std::string local_; // a folder of its own on host 2
    std::vector<pid_t> spawned_;
};

TestLan *ClientTest::lan_ = nullptr;
std::string ClientTest::why_not_;
bool ClientTest::may_skip_ = false, ClientTest::ready_ = false;
pid_t ClientTest::porchd_ = -1;
std::string ClientTest::h1_, ClientTest::h2_, ClientTest::work_, ClientTest::docs_,
        ClientTest::public_, ClientTest::secret_, ClientTest::small_, ClientTest::state_,
        ClientTest::keys_;
std::string ClientTest::my_key_, ClientTest::stranger_key_;

// ---- round trips -----------------------------------------------------------------------------

TEST_F(ClientTest, FilesAndTreesRoundTripByteExact)
{
    // A tree on host 2: an empty file, a 120 MiB random one, a name with spaces and UTF-8 in a
    // folder of such a name, nested folders, an empty folder; modes and mtimes of every kind.
    const std::string src = local_ + "/src", album = src + "/Album";
    const std::string fotos = album + "/Fotos März";
    ASSERT_TRUE(MakeDirs(fotos) && MakeDirs(album + "/a/b/c") && MakeDirs(album + "/a/empty"));
    ASSERT_TRUE(WriteFile(album + "/empty", "", 0640));
    ASSERT_FALSE(MakeRandomFile(album + "/big.bin", (120 << 20) + 12345, 7, 0644).empty());
    ASSERT_FALSE(MakeRandomFile(fotos + "/été 1.jpg", 300000, 8, 0600).empty());
    ASSERT_TRUE(WriteFile(album + "/a/b/c/deep.sh", "#!/bin/sh\necho deep\n", 0755));
    ASSERT_TRUE(WriteFile(album + "/a/b/sibling.txt", "sibling\n", 0644));
    ASSERT_TRUE(WriteFile(album + "/a/readonly.txt", "read only\n", 0444));
    time_t t = 1622548800; // 2021-06-01, whole seconds: SFTP v3 carries no more
    for (const char *f : {"empty", "big.bin", "Fotos März/été 1.jpg", "a/b/c/deep.sh",
                          "a/b/sibling.txt", "a/readonly.txt"})
        ASSERT_TRUE(SetMtime(album + "/" + f, t += 3607)) << f;
    // A copy is always writable by its new owner, on the neighbour (put) as here (get):
    // porchd shows a read-only peer its files without write bits, which a copy must not keep.
    Tree want = Snapshot(album, true);
    want["a/readonly.txt"] = Replace(want["a/readonly.txt"], "mode=0444", "mode=0644");

    // put -r into an existing folder: Work/NAME/up/Album
    const std::string up = work_ + "/" + name_ + "/up";
    ASSERT_TRUE(MakeDirs(up) && GiveToShareOwner(work_ + "/" + name_));
    std::vector<std::string> args = {"put", "-r", "--quiet", album,
                                     Remote("Work/" + name_ + "/up")};
    RunResult r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Diff(want, Snapshot(up + "/Album", true)), "") << Say(args, r);
    EXPECT_EQ(Join(Leftovers(work_)), "");

    // get -r into an existing folder: back/Album
    const std::string back = local_ + "/back";
    ASSERT_TRUE(MakeDirs(back));
    args = {"get", "-r", "--quiet", Remote("Work/" + name_ + "/up/Album"), back};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Diff(want, Snapshot(back + "/Album", true)), "") << Say(args, r);
    EXPECT_EQ(Join(Leftovers(back)), "");

    // get -r to a name that does not exist yet: the folder is made as that name
    args = {"get", "-r", "--quiet", Remote("Work/" + name_ + "/up/Album/a"), local_ + "/as-a"};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    Tree want_a;
    for (const auto &[path, v] : want)
        if (path.rfind("a/", 0) == 0)
            want_a[path.substr(2)] = v;
    EXPECT_EQ(Diff(want_a, Snapshot(local_ + "/as-a", true)), "") << Say(args, r);

    // single files, both ways: as a new name, into a folder, and into "." by default
    const std::string single = local_ + "/single";
    ASSERT_TRUE(MakeDirs(single));
    struct {
        std::string local, remote;
    } files[] = {
            {album + "/empty", "Work/" + name_ + "/single empty"},
            {fotos + "/été 1.jpg", "Work/" + name_ + "/Fotos März été 1.jpg"},
            {album + "/big.bin", "Work/" + name_ + "/big copy.bin"},
    };
    for (const auto &f : files) {
        SCOPED_TRACE(f.remote);
        std::string base = f.remote.substr(f.remote.rfind('/') + 1);
        args = {"put", "--quiet", f.local, Remote(f.remote)};
        r = Porch(args);
        EXPECT_TRUE(r.ok()) << Say(args, r);
        EXPECT_EQ(Sha256File(work_ + "/" + name_ + "/" + base), Sha256File(f.local));
        EXPECT_EQ(FileSize(work_ + "/" + name_ + "/" + base), FileSize(f.local));
        args = {"get", "--quiet", Remote(f.remote), single};
        r = Porch(args);
        EXPECT_TRUE(r.ok()) << Say(args, r);
        EXPECT_EQ(Sha256File(single + "/" + base), Sha256File(f.local));
        EXPECT_EQ(FileSize(single + "/" + base), FileSize(f.local));
    }
    args = {"get", "--quiet", Remote("Work/" + name_ + "/up/Album/Fotos März/été 1.jpg"),
            single + "/renamed.jpg"};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Sha256File(single + "/renamed.jpg"), Sha256File(fotos + "/été 1.jpg"));

    const std::string cwd = local_ + "/cwd";
    ASSERT_TRUE(MakeDirs(cwd));
    std::vector<std::string> in_cwd = {"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", cwd};
    for (const std::string &a :
         PorchArgv({"get", "--quiet", Remote("Work/" + name_ + "/up/Album/big.bin")}))
        in_cwd.push_back(a);
    r = lan_->run(2, in_cwd, 120);
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(cwd + "/big.bin"), Sha256File(album + "/big.bin"));

    EXPECT_EQ(Join(Leftovers(work_)), "");
    EXPECT_EQ(Join(Leftovers(local_)), "");
}

// ---- resume ----------------------------------------------------------------------------------

TEST_F(ClientTest, ResumeContinuesAValidPartAndSetsAsideACorruptOne)
{
    const std::string remote_dir = work_ + "/" + name_;
    ASSERT_TRUE(MakeDirs(remote_dir));
    const std::string file = remote_dir + "/resume.bin";
    const off_t size = (64 << 20) + 777, have = 24 << 20;
    std::string sha = MakeRandomFile(file, size, 11);
    ASSERT_FALSE(sha.empty());
    std::string whole = ReadFile(file);
    ASSERT_EQ(off_t(whole.size()), size);
    const std::string dest = local_ + "/resume.bin", part = dest + ".part";
    // Writes part_data as NAME.part, fetches into `into` (the folder or the file itself) with
    // `option` ("": the default) and checks the file came whole and NAME.part went; returns
    // what porch said, for the rest.
    auto resume = [&](const std::string &part_data, const std::string &into,
                      const std::string &option = "") {
        std::vector<std::string> args = {"get", Remote("Work/" + name_ + "/resume.bin"), into};
        if (!option.empty())
            args.insert(args.begin() + 1, option);
        if (!WriteFile(part, part_data)) {
            ADD_FAILURE() << "cannot write " << part;
            return RunResult{};
        }
        RunResult r = Porch(args);
        EXPECT_TRUE(r.ok()) << Say(args, r);
        EXPECT_EQ(Sha256File(dest), sha);
        EXPECT_FALSE(Exists(part));
        r.err = Replace(r.err, local_, "DIR");
        return r;
    };

    {
        SCOPED_TRACE("a valid NAME.part, by default");
        ASSERT_TRUE(WriteFile(part, "")); // resume() truncates it: the inode stays
        ino_t ino = Inode(part);
        RunResult r = resume(whole.substr(0, have), local_);
        EXPECT_EQ(Inode(dest), ino) << "the .part file itself should have become the file";
        EXPECT_TRUE(Contains(r.err, "porch: DIR/resume.bin: resuming at 24.0 MiB: the " +
                                            std::to_string(have) +
                                            " bytes already here match the neighbour's file\n"))
                << r.err;
        EXPECT_FALSE(Contains(r.err, "kept as")) << r.err;
    }
    {
        // the rest starts mid-page: no O_DIRECT write lines up, every piece goes through the
        // page cache (in the writer thread, as a file this big does)
        SCOPED_TRACE("a valid NAME.part that ends mid-page, with --resume");
        ASSERT_EQ(unlink(dest.c_str()), 0);
        RunResult r = resume(whole.substr(0, have + 1234), dest, "--resume");
        EXPECT_TRUE(Contains(r.err, "resuming at 24.0 MiB")) << r.err;
    }
    std::string bad = whole.substr(0, have);
    {
        SCOPED_TRACE("a NAME.part with flipped bytes");
        ASSERT_EQ(unlink(dest.c_str()), 0);
        for (off_t at : {off_t(1 << 20), off_t(have - 100)})
            bad[at] = char(~bad[at]);
        RunResult r = resume(bad, dest);
        EXPECT_TRUE(Contains(r.err, "porch: DIR/resume.bin.part: does not match the neighbour's "
                                    "file; kept as resume.bin.part.1, fetching the file whole\n"))
                << r.err;
        EXPECT_EQ(ReadFile(part + ".1"), bad) << "set aside as it was";
    }
    {
        SCOPED_TRACE("a NAME.part longer than the file");
        ASSERT_EQ(unlink(dest.c_str()), 0);
        RunResult r = resume(whole + "trailing garbage", dest);
        EXPECT_TRUE(Contains(r.err, "is longer than the neighbour's file; kept as "
                                    "resume.bin.part.2"))
                << r.err;
        EXPECT_EQ(ReadFile(part + ".2"), whole + "trailing garbage");
    }
    {
        SCOPED_TRACE("a valid NAME.part with --no-resume");
        ASSERT_EQ(unlink(dest.c_str()), 0);
        RunResult r = resume(whole.substr(0, 4096), dest, "--no-resume");
        EXPECT_TRUE(Contains(r.err, "porch: DIR/resume.bin.part: was there already and is not "
                                    "resumed; kept as resume.bin.part.3"))
                << r.err;
        EXPECT_EQ(ReadFile(part + ".3"), whole.substr(0, 4096));
    }
    {
        // another porch fetching it: its lock on NAME.part, as porch takes it
        SCOPED_TRACE("a NAME.part another porch holds");
        ASSERT_EQ(unlink(dest.c_str()), 0);
        ASSERT_TRUE(WriteFile(part, whole.substr(0, 1000)));
        int fd = open(part.c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0) << strerror(errno);
        struct flock lock = {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &lock), 0) << strerror(errno);
        std::vector<std::string> args = {"get", Remote("Work/" + name_ + "/resume.bin"), local_};
        RunResult r = Porch(args);
        close(fd);
        EXPECT_EQ(r.exit_status, 1) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "porch: " + dest +
                                            ": another porch is fetching resume.bin "
                                            "into " +
                                            local_ + "\n"))
                << Say(args, r);
        EXPECT_EQ(ReadFile(part), whole.substr(0, 1000)) << "left alone";
        EXPECT_FALSE(Exists(dest));
        ASSERT_EQ(unlink(part.c_str()), 0);
    }
    for (int n = 1; n <= 3; n++)
        ASSERT_EQ(unlink((part + "." + std::to_string(n)).c_str()), 0);
    EXPECT_EQ(Join(Leftovers(local_)), "");
}

// ---- existing destinations -------------------------------------------------------------------

TEST_F(ClientTest, ExistingDestinationNeedsForce)
{
    const std::string remote_dir = work_ + "/" + name_;
    ASSERT_TRUE(MakeDirs(remote_dir));
    ASSERT_TRUE(WriteFile(remote_dir + "/there.txt", "the server's new text\n"));
    ASSERT_TRUE(WriteFile(local_ + "/there.txt", "my old text\n"));
    ASSERT_TRUE(WriteFile(local_ + "/mine.txt", "my new text\n"));
    ASSERT_TRUE(WriteFile(remote_dir + "/target.txt", "the server's old text\n"));
    ASSERT_TRUE(GiveToShareOwner(remote_dir)); // put --force replaces target.txt

    std::vector<std::string> args = {"get", Remote("Work/" + name_ + "/there.txt"), local_};
    RunResult r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "there.txt")) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "porch: ")) << Say(args, r);
    EXPECT_EQ(ReadFile(local_ + "/there.txt"), "my old text\n");

    args = {"get", "--force", Remote("Work/" + name_ + "/there.txt"), local_ + "/there.txt"};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ReadFile(local_ + "/there.txt"), "the server's new text\n");

    // (several times: the temporary file a refused put may have made must go every time)
    for (int i = 0; i < 5; i++) {
        args = {"put", local_ + "/mine.txt", Remote("Work/" + name_ + "/target.txt")};
        r = Porch(args);
        EXPECT_EQ(r.exit_status, 1) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "target.txt")) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "/target.txt: exists (use --force to replace it)\n"))
                << Say(args, r);
        EXPECT_EQ(ReadFile(remote_dir + "/target.txt"), "the server's old text\n");
        EXPECT_EQ(Join(Leftovers(remote_dir)), "") << "after refused put #" << i + 1 << "\n"
                                                   << Say(args, r);
        if (HasFailure())
            break;
    }

    // --force: the file replaced keeps its own mode, not the local one (0644)
    ASSERT_EQ(chmod((remote_dir + "/target.txt").c_str(), 0640), 0);
    args = {"put", "--force", local_ + "/mine.txt", Remote("Work/" + name_ + "/target.txt")};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ReadFile(remote_dir + "/target.txt"), "my new text\n");
    struct stat st;
    ASSERT_EQ(stat((remote_dir + "/target.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);

    // into an existing folder, where a file of that name is
    args = {"put", local_ + "/there.txt", Remote("Work/" + name_)};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_EQ(ReadFile(remote_dir + "/there.txt"), "the server's new text\n");

    EXPECT_EQ(Join(Leftovers(remote_dir)), "");
    EXPECT_EQ(Join(Leftovers(local_)), "");
}

// ---- host keys -------------------------------------------------------------------------------

TEST_F(ClientTest, ChangedHostKeyIsRefused)
{
    const std::string pins = xdg_ + "/porch/known_peers";
    ASSERT_TRUE(WriteFile(docs_ + "/" + name_ + ".txt", "docs\n"));

    // First contact pins the key without asking (stdin is not a terminal)...
    std::vector<std::string> args = {"ls", Remote("Docs")};
    RunResult r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    std::vector<std::string> lines = PinLines(ReadFile(pins));
    ASSERT_EQ(lines.size(), 1u) << ReadFile(pins);
    RunResult host_pub =
            TestLan::run_local({"ssh-keygen", "-y", "-f", state_ + "/ssh_host_ed25519_key"});
    ASSERT_TRUE(host_pub.ok()) << host_pub.describe();
    std::stringstream fields(lines[0]);
    std::string pin_name, pin_type, pin_b64;
    fields >> pin_name >> pin_type >> pin_b64;
    EXPECT_EQ(pin_type, "ssh-ed25519") << lines[0];
    EXPECT_EQ(pin_b64, KeyBase64(host_pub.out)) << "the pin is porchd's host key";
    // ...and a second contact uses the pin quietly
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(PinLines(ReadFile(pins)), lines);

    {
        SCOPED_TRACE("the pin names another key");
        std::string forged = pin_name + " " + pin_type + " " + KeyBase64(stranger_key_) + "\n";
        ASSERT_TRUE(WriteFile(pins, forged, 0600));
        r = Porch(args);
        EXPECT_EQ(r.exit_status, 4) << Say(args, r);
        EXPECT_TRUE(ContainsNoCase(r.err, "changed")) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "known_peers")) << Say(args, r);
        EXPECT_EQ(ReadFile(pins), forged) << "the pin must stay as it was";
        EXPECT_EQ(r.out, "") << "nothing listed from a host that is not the one pinned";
    }

    // A second porchd on host 1 (port 4423) that comes back with a new host key.
    const std::string d2 = h1_ + "/second", log2 = d2 + "/porchd.log";
    ASSERT_TRUE(MakeDirs(d2 + "/share"));
    std::string conf2 = "[porch]\nname = Second\nport = 4423\nlisten = " + lan_->address(1) +
                        "\n[peer me]\nkey = " + my_key_ + "\n[share Two]\npath = " + d2 +
                        "/share\nread = me\n";
    ASSERT_TRUE(WriteFile(d2 + "/porch.conf", conf2));
    auto start2 = [&]() -> pid_t {
        size_t before = ReadFile(log2).size();
        pid_t pid = lan_->spawn(
                1, {kPorchd, "--config", d2 + "/porch.conf", "--state-dir", d2 + "/state"}, log2);
        spawned_.push_back(pid);
        bool up = WaitFor(
                [&] {
                    return ReadFile(log2).find(" running: ", before) != std::string::npos ||
                           !lan_->running(pid);
                },
                15);
        EXPECT_TRUE(up && lan_->running(pid)) << ReadFile(log2);
        return pid;
    };
    const std::string xdg2 = NewConfigHome(name_ + "-second"), pins2 = xdg2 + "/porch/known_peers";
    ASSERT_FALSE(xdg2.empty());
    pid_t second = start2();
    args = {"ls", lan_->address(1) + ":4423/Two"};
    r = Porch(args, 60, xdg2);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    std::string pinned = ReadFile(pins2);
    ASSERT_FALSE(pinned.empty());
    {
        SCOPED_TRACE("porchd restarted with a new host key");
        lan_->stop(second, SIGTERM);
        ASSERT_EQ(unlink((d2 + "/state/ssh_host_ed25519_key").c_str()), 0);
        unlink((d2 + "/state/ssh_host_ed25519_key.pub").c_str());
        second = start2();
        r = Porch(args, 60, xdg2);
        EXPECT_EQ(r.exit_status, 4) << Say(args, r);
        EXPECT_TRUE(ContainsNoCase(r.err, "changed")) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "known_peers")) << Say(args, r);
        EXPECT_EQ(ReadFile(pins2), pinned) << "the pin must stay as it was";
    }
    {
        SCOPED_TRACE("a server that knows neither our key nor guests");
        // A fresh config home: no pin, so only the authentication can refuse.
        const std::string xdg3 = NewConfigHome(name_ + "-auth");
        ASSERT_FALSE(xdg3.empty());
        args = {"ls", "--identity", keys_ + "/stranger", lan_->address(1) + ":4423/Two"};
        r = Porch(args, 60, xdg3);
        EXPECT_EQ(r.exit_status, 4) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "porch: ")) << Say(args, r);
        EXPECT_EQ(r.out, "");
    }
    lan_->stop(second, SIGTERM);
}

// mDNS has no authentication: a record that names a display name and an fp= is a claim. When
// the host it leads to shows another key, porch refuses (exit 4) and pins nothing.
TEST_F(ClientTest, MismatchingAdvertisedFingerprintIsRefused)
{
    // The real one works by display name (resolved through host 2's avahi-daemon).
    RunResult r;
    ASSERT_TRUE(WaitDisplayName(&r)) << "porch ls \"" << kDisplayName << "\": " << r.describe();
    EXPECT_EQ(ListedNames(r.out), (std::set<std::string>{"Docs", "Public", "Small", "Work"}))
            << r.out;

    // A fake: host name porchfake.local for host 1's address, and a _porch._tcp service on it
    // (porchd's port) that advertises another key's fingerprint. Published by host 1's
    // avahi-daemon under a host name of its own, so it is a neighbour of its own, not a second
    // claim on porchd's host (which would make the browser believe neither).
    std::string fake_fp = Fingerprint(keys_ + "/stranger.pub");
    ASSERT_EQ(fake_fp.rfind("SHA256:", 0), 0u) << fake_fp;
    pid_t addr = lan_->spawn(1, {"avahi-publish", "-a", "-R", "porchfake.local", lan_->address(1)});
    spawned_.push_back(addr);
    pid_t svc = lan_->spawn(1, {"avahi-publish", "-s", "-H", "porchfake.local", "Mallory's laptop",
                                "_porch._tcp", "4422", "v=1", "fp=" + fake_fp.substr(7)});
    spawned_.push_back(svc);
    for (pid_t p : {addr, svc})
        ASSERT_TRUE(
                WaitFor([&] { return Contains(ReadFile(lan_->spawn_log(p)), "Established"); }, 10))
                << ReadFile(lan_->spawn_log(p));

    // No pins at all: only the advertised fingerprint can make porch refuse.
    const std::string xdg = NewConfigHome(name_ + "-fresh"), pins = xdg + "/porch/known_peers";
    ASSERT_FALSE(xdg.empty());
    std::vector<std::string> args = {"ls", "--timeout", "5", "Mallory's laptop"};
    ASSERT_TRUE(WaitFor(
            [&] {
                r = Porch(args, 30, xdg);
                return r.exit_status != 3;
            },
            15))
            << "the fake record never became visible: " << Say(args, r);
    EXPECT_EQ(r.exit_status, 4) << Say(args, r);
    EXPECT_TRUE(ContainsNoCase(r.err, "advertis")) << Say(args, r);
    EXPECT_EQ(r.out, "") << "nothing listed from a host that is not the one advertised";
    EXPECT_FALSE(Contains(ReadFile(pins), "ssh-ed25519")) << "nothing may be pinned:\n"
                                                          << ReadFile(pins);
    args = {"get", "--timeout", "5", "Mallory's laptop/Public/x", local_};
    r = Porch(args, 30, xdg);
    EXPECT_EQ(r.exit_status, 4) << Say(args, r);
}

// ---- an interrupted upload -------------------------------------------------------------------

TEST_F(ClientTest, InterruptedUploadLeavesTheOldFile)
{
    const std::string remote_dir = work_ + "/" + name_;
    ASSERT_TRUE(MakeDirs(remote_dir));
    const std::string target = remote_dir + "/big.bin", source = local_ + "/big.bin";
    std::string old_sha = MakeRandomFile(target, 5 << 20, 21);
    std::string new_sha = MakeRandomFile(source, 300 << 20, 22);
    ASSERT_FALSE(old_sha.empty() || new_sha.empty());
    ASSERT_TRUE(GiveToShareOwner(remote_dir)); // the upload replaces big.bin

    pid_t client = lan_->spawn(
            2,
            PorchArgv({"put", "--force", "--quiet", source, Remote("Work/" + name_ + "/big.bin")}),
            local_ + "/put.log");
    ASSERT_GT(client, 0);
    spawned_.push_back(client);
    // Kill it once a hidden temporary file beside the target holds more than 16 MiB.
    std::string temp;
    auto growing = [&] {
        std::error_code ec;
        for (const auto &e : fs::directory_iterator(remote_dir, ec)) {
            std::string n = e.path().filename().string();
            if (n[0] == '.' && FileSize(e.path().string()) > (16 << 20)) {
                temp = n;
                return true;
            }
        }
        return !lan_->running(client);
    };
    auto end = Clock::now() + std::chrono::seconds(60);
    while (!growing() && Clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_FALSE(temp.empty()) << "no growing temporary file; porch said:\n"
                               << ReadFile(local_ + "/put.log");
    EXPECT_EQ(lan_->stop(client, SIGKILL), 128 + SIGKILL) << "the upload ended before the kill";
    EXPECT_EQ(Sha256File(target), old_sha) << "the old file must be intact";
    // once porchd has seen the connection drop, still the old file
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(Sha256File(target), old_sha);
    // porchd journals porch put's new file, so the session's end removes it: only the
    // old file remains
    std::vector<std::string> names;
    for (int i = 0; i < 100; i++) {
        names.clear();
        for (const auto &e : fs::directory_iterator(remote_dir))
            names.push_back(e.path().filename().string());
        if (names.size() == 1)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(names, std::vector<std::string>{"big.bin"}) << "the temporary file " << temp;

    // and a complete upload replaces it
    std::vector<std::string> args = {"put", "--force", "--quiet", source,
                                     Remote("Work/" + name_ + "/big.bin")};
    RunResult r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Sha256File(target), new_sha);
}

// ---- exit codes and messages -----------------------------------------------------------------

TEST_F(ClientTest, ExitCodesAndMessages)
{
    ASSERT_TRUE(MakeDirs(work_ + "/" + name_));
    ASSERT_TRUE(WriteFile(secret_ + "/" + name_ + ".txt", "carol's\n"));
    ASSERT_TRUE(WriteFile(local_ + "/mine.txt", "mine\n"));
    struct Case {
        std::vector<std::string> args;
        int exit;
        std::vector<std::string> says; // each must be in stderr (case-insensitive)
    };
    const std::string no_rights = "Secret/" + name_ + ".txt";
    const std::vector<Case> cases = {
            {{"get"}, 2, {}},
            {{"ls", "--no-such-option", Remote("")}, 2, {}},
            {{"put", local_ + "/mine.txt"}, 2, {}},
            {{"get", "-r", Remote("Work/" + name_ + "/nope.txt"), local_},
             1,
             {"porch: ", "nope.txt", "No such file"}},
            {{"ls", Remote("Work/" + name_ + "/nope")}, 1, {"porch: ", "nope", "No such file"}},
            {{"put", local_ + "/nope.txt", Remote("Work/" + name_ + "/x.txt")},
             1,
             {"porch: ", "nope.txt", "No such file"}},
            {{"put", local_ + "/mine.txt", Remote("Docs/" + name_ + ".txt")},
             1,
             {"porch: ", "Docs/" + name_ + ".txt", "Permission denied"}},
            {{"get", Remote(no_rights), local_}, 1, {"porch: ", no_rights, "Permission denied"}},
            {{"ls", "--timeout", "5", lan_->address(1) + ":4499"}, 3, {"porch: "}},
    };
    for (const Case &c : cases) {
        RunResult r = Porch(c.args, 60);
        EXPECT_EQ(r.exit_status, c.exit) << Say(c.args, r);
        for (const std::string &s : c.says)
            EXPECT_TRUE(ContainsNoCase(r.err, s)) << "\"" << s << "\" expected\n" << Say(c.args, r);
    }
    EXPECT_FALSE(Exists(docs_ + "/" + name_ + ".txt"));
    EXPECT_FALSE(Exists(local_ + "/" + name_ + ".txt"));
    EXPECT_EQ(Join(Leftovers(local_)), "");
    EXPECT_EQ(Join(Leftovers(docs_)), "");

    // An unknown display name: exit 3, and the names that are there.
    RunResult r;
    ASSERT_TRUE(WaitDisplayName(&r)) << r.describe();
    std::vector<std::string> args = {"ls", "--timeout", "3", "Nobody's laptop"};
    r = Porch(args, 30);
    EXPECT_EQ(r.exit_status, 3) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "Nobody's laptop")) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, kDisplayName)) << "the visible names should be listed\n"
                                               << Say(args, r);
}

// ---- full disks ------------------------------------------------------------------------------

TEST_F(ClientTest, DiskFullOnEitherSide)
{
    struct statfs sfs;
    ASSERT_EQ(statfs(InPorchd(small_).c_str(), &sfs), 0) << strerror(errno);
    ASSERT_EQ(sfs.f_type, TMPFS_MAGIC) << "Small should be porchd's own tmpfs";
    const std::string small_dir = InPorchd(small_);

    // (a) put into a share on a 2 MiB file system: over a file, and as a new file
    ASSERT_TRUE(WriteFile(small_dir + "/f.bin", std::string(512 << 10, 'o')));
    ASSERT_TRUE(GiveToShareOwner(small_dir + "/f.bin")); // the share owner's, as the tmpfs is
    ASSERT_FALSE(MakeRandomFile(local_ + "/big.bin", 4 << 20, 31).empty());
    std::vector<std::string> args = {"put", "--force", local_ + "/big.bin", Remote("Small/f.bin")};
    RunResult r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "f.bin")) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "/Small/f.bin: No space left on the server's disk\n"))
            << Say(args, r);
    EXPECT_EQ(ReadFile(small_dir + "/f.bin"), std::string(512 << 10, 'o'));
    args = {"put", local_ + "/big.bin", Remote("Small/new.bin")};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "/Small/new.bin: No space left on the server's disk\n"))
            << Say(args, r);
    EXPECT_FALSE(Exists(small_dir + "/new.bin"));
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(small_dir))
        names.push_back(e.path().filename().string());
    EXPECT_EQ(Join(names, " "), "f.bin") << "no temporary file may stay";

    // (b) get onto a full local disk: a 1 MiB tmpfs in a mount namespace of the client's. The
    // 4 MiB file is refused before anything is written, saying what it needs and what is free
    const std::string remote_dir = work_ + "/" + name_;
    ASSERT_TRUE(MakeDirs(remote_dir) && MakeDirs(local_ + "/tiny"));
    ASSERT_FALSE(MakeRandomFile(remote_dir + "/big.bin", 4 << 20, 32).empty());
    std::vector<std::string> argv = {
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount -t tmpfs -o size=1m porch-tiny \"$1\" || exit 99; shift; \"$@\"; rc=$?; "
            "echo \"left: $(ls -A \"$TINY\")\"; exit $rc",
            "sh",
            local_ + "/tiny"};
    argv.insert(argv.begin(), {"env", "TINY=" + local_ + "/tiny"});
    for (const std::string &a :
         PorchArgv({"get", Remote("Work/" + name_ + "/big.bin"), local_ + "/tiny"}))
        argv.push_back(a);
    r = lan_->run(2, argv, 120);
    EXPECT_EQ(r.exit_status, 1) << r.describe() << "\nstdout: " << r.out;
    EXPECT_TRUE(Contains(r.err, "big.bin")) << r.describe();
    EXPECT_TRUE(Contains(r.err, "needs 4.0 MiB, 1.0 MiB free on " + local_ + "/tiny"))
            << r.describe();
    EXPECT_FALSE(Contains(r.out, "left: big.bin\n"))
            << "no partial file under the final name: " << r.out;
    EXPECT_TRUE(Contains(r.out, "left: \n")) << "nothing written at all: " << r.out;
}

// ---- ls --------------------------------------------------------------------------------------

TEST_F(ClientTest, LsListsSharesAndFolders)
{
    const std::string dir = docs_ + "/" + name_;
    ASSERT_TRUE(MakeDirs(dir + "/sub"));
    ASSERT_TRUE(WriteFile(dir + "/report.txt", std::string(12345, 'r'), 0640));
    ASSERT_TRUE(WriteFile(dir + "/sub/inner.txt", "inner\n"));
    ASSERT_TRUE(WriteFile(public_ + "/" + name_ + ".txt", "public\n"));

    std::vector<std::string> args = {"ls", lan_->address(1)};
    RunResult r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ListedNames(r.out), (std::set<std::string>{"Docs", "Public", "Small", "Work"}))
            << Say(args, r);

    args = {"ls", Remote("Docs/" + name_)};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ListedNames(r.out), (std::set<std::string>{"report.txt", "sub"})) << Say(args, r);

    args = {"ls", Remote("Docs/" + name_ + "/sub")};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ListedNames(r.out), (std::set<std::string>{"inner.txt"})) << Say(args, r);

    // -l: one line per entry with its size in bytes; a folder marked as one
    args = {"ls", "-l", Remote("Docs/" + name_)};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    std::vector<std::string> lines = Lines(r.out);
    std::string report_line, sub_line;
    for (const std::string &l : lines) {
        if (Contains(l, "report.txt"))
            report_line = l;
        if (Contains(l, "sub"))
            sub_line = l;
    }
    EXPECT_TRUE(Contains(report_line, "12345")) << Say(args, r);
    // the mode as ls -l shows it (the write bit may show what this peer may do: Docs is
    // read-only to it)
    EXPECT_TRUE(report_line.rfind("-rw-r----- ", 0) == 0 ||
                report_line.rfind("-r--r----- ", 0) == 0)
            << Say(args, r);
    EXPECT_EQ(sub_line.substr(0, 1), "d") << Say(args, r);

    // --json: names, sizes and types a script can read
    args = {"ls", "--json", Remote("Docs/" + name_)};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Jq(local_, r.out, "[.. | objects | select(has(\"name\")) | .name] | sort"),
              "[\"report.txt\",\"sub\"]")
            << r.out;
    EXPECT_EQ(
            Jq(local_, r.out, "[.. | objects | select(.name? == \"report.txt\") | .size] | first"),
            "12345")
            << r.out;

    args = {"ls", "--json", lan_->address(1)};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Jq(local_, r.out, "[.. | objects | select(has(\"name\")) | .name] | sort"),
              "[\"Docs\",\"Public\",\"Small\",\"Work\"]")
            << r.out;

    // a key porchd does not know: guest, who sees the guest share only
    const std::string xdg = NewConfigHome(name_ + "-stranger");
    ASSERT_FALSE(xdg.empty());
    args = {"ls", "--identity", keys_ + "/stranger", lan_->address(1)};
    r = Porch(args, 60, xdg);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ListedNames(r.out), (std::set<std::string>{"Public"})) << Say(args, r);
    args = {"ls", "--identity", keys_ + "/stranger", Remote("Docs/" + name_)};
    r = Porch(args, 60, xdg);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
}

} // namespace
