// test-cli-ops.cc — `porch rm`, `porch mkdir`, `porch mv`, globs in remote paths, several
// sources in get and put, put --parents and `-` for standard input and output, as a user runs
// them: the real porch command on test-LAN host 2 against a real porchd on host 1, judged by
// the files on both disks, the exit status and the words on stderr.
//
//   MkdirMvRmForAWriter           each operation where the peer may write: mkdir [-p], mv
//                                 (rename, into a folder, several, --force), rm [-r] of files,
//                                 folders, several paths and a link (never followed); a share
//                                 itself, '..' and two shares refused
//   ReadOnlyPeerIsRefused         the same on a share the peer may only read: exit 1,
//                                 "Permission denied", nothing changed on the server
//   GlobsMatchOnTheListing        ls, get and rm with *, ? and [...] (a leading '.' not
//                                 matched), a glob in a middle component; no match: exit 1
//                                 naming the pattern, nothing done
//   SeveralSources                get A B DEST/ and put a b HOST/S/dir/; one failure does not
//                                 stop the others (exit 1); DEST must be a folder; --json gives
//                                 a line per path; one connection for all
//   StandardInputAndOutput        get FILE - and put - FILE byte-exact; put - never replaces
//                                 without --force; an interrupted put - leaves nothing anywhere
//   StandardInputThatStalls...    put - whose input stalls past porchd's idle-timeout
//   PutParents                    put --parents makes the missing folders (a file's, or the
//                                 folder a trailing '/' names); without it such a folder is
//                                 an error, and on a read-only share nothing is made
//
// porchd serves Work (the client's key may write) and Docs (may read), both folders of host
// 1's part of the LAN owned by an unprivileged user, so that only porch.conf's rights keep
// the client from changing Docs.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "testlan.h"
#include "test-util.h"

namespace
{

using porch::test::Contains;
using porch::test::ContainsNoCase;
using porch::test::Exists;
using porch::test::GiveToShareOwner;
using porch::test::Leftovers;
using porch::test::MakeDirs;
using porch::test::MakeKey;
using porch::test::MakeRandomFile;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::Sha256File;
using porch::test::TestLan;
using porch::test::WaitFor;
using porch::test::WriteFile;
namespace fs = std::filesystem;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr int kIdleTimeout = 5; // seconds: porchd closes a session that sends nothing as long

// What is under root: relative path -> "dir", "link TARGET" or "file SHA256".
std::map<std::string, std::string>
Snapshot(const std::string &root)
{
    std::map<std::string, std::string> t;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string path = it->path().string(), rel = path.substr(root.size() + 1);
        struct stat st;
        if (lstat(path.c_str(), &st) != 0)
            t[rel] = "gone";
        else if (S_ISDIR(st.st_mode))
            t[rel] = "dir";
        else if (S_ISLNK(st.st_mode))
            t[rel] = "link " + fs::read_symlink(path, ec).string();
        else
            t[rel] = "file " + Sha256File(path);
    }
    return t;
}

std::string
Describe(const std::map<std::string, std::string> &t)
{
    std::string s;
    for (const auto &[k, v] : t)
        s += "  " + k + ": " + v + "\n";
    return s;
}

// The lines `porch ls` printed, a folder's trailing '/' kept.
std::set<std::string>
Lines(const std::string &out)
{
    std::set<std::string> lines;
    std::stringstream in(out);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.insert(line);
    return lines;
}

class CliOpsTest : public ::testing::Test
{
  protected:
    static void SetUpTestSuite()
    {
        umask(022);
        std::string missing = TestLan::missing_tools({"ssh-keygen", "sh", "head"});
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
        const std::string keys = h2_ + "/keys";
        if (!MakeDirs(work_) || !MakeDirs(docs_) || !MakeDirs(keys) || !GiveToShareOwner(work_) ||
            !GiveToShareOwner(docs_)) {
            why_not_ = "cannot make the shares";
            return;
        }
        key_path_ = keys + "/me";
        my_key_ = MakeKey(key_path_, "me@host2");
        if (my_key_.empty()) {
            why_not_ = "ssh-keygen failed";
            return;
        }
        // a short idle-timeout: put - keeps its connection while standard input stalls
        std::string conf = "[porch]\nname = Ops test\nlisten = " + lan_->address(1) +
                           "\nidle-timeout = " + std::to_string(kIdleTimeout) +
                           "s\n\n[peer me]\nkey = " + my_key_ +
                           "\n\n[share Work]\npath = " + work_ +
                           "\nwrite = me\n\n[share Docs]\npath = " + docs_ + "\nread = me\n";
        std::string log = h1_ + "/porchd.log";
        if (!WriteFile(h1_ + "/porch.conf", conf)) {
            why_not_ = "cannot write porch.conf";
            return;
        }
        porchd_ = lan_->spawn(
                1, {kPorchd, "--config", h1_ + "/porch.conf", "--state-dir", h1_ + "/state"}, log);
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
        name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        xdg_ = h2_ + "/xdg-" + name_;
        local_ = h2_ + "/" + name_;
        tmp_ = h2_ + "/tmp-" + name_;
        ASSERT_TRUE(MakeDirs(xdg_ + "/porch", 0700) && MakeDirs(local_) && MakeDirs(tmp_, 0700));
        ASSERT_TRUE(WriteFile(xdg_ + "/porch/id_ed25519", ReadFile(key_path_), 0600));
        ASSERT_TRUE(WriteFile(xdg_ + "/porch/id_ed25519.pub", my_key_ + "\n"));
        // this test's folders on both shares
        ASSERT_TRUE(MakeDirs(work_ + "/" + name_) && MakeDirs(docs_ + "/" + name_));
        ASSERT_TRUE(GiveToShareOwner(work_ + "/" + name_) && GiveToShareOwner(docs_ + "/" + name_));
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log ----\n%s\n", ReadFile(h1_ + "/porchd.log").c_str());
    }

    // argv that runs porch as a user of host 2 (its own config home and TMPDIR).
    std::vector<std::string> PorchArgv(const std::vector<std::string> &args) const
    {
        std::vector<std::string> argv = {"env",
                                         "LANG=C.UTF-8",
                                         "LC_ALL=C.UTF-8",
                                         "TMPDIR=" + tmp_,
                                         "XDG_CONFIG_HOME=" + xdg_,
                                         kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    RunResult Porch(const std::vector<std::string> &args, double timeout = 60)
    {
        return lan_->run(2, PorchArgv(args), timeout);
    }

    // porch with its standard input from `in` ("" keeps /dev/null) and its standard output
    // to `out` ("" keeps it in RunResult::out).
    RunResult PorchRedirected(const std::vector<std::string> &args, const std::string &in,
                              const std::string &out)
    {
        std::vector<std::string> argv = {"sh",
                                         "-c",
                                         "in=$1 out=$2; shift 2; "
                                         "if [ -n \"$in\" ]; then exec <\"$in\"; fi; "
                                         "if [ -n \"$out\" ]; then exec >\"$out\"; fi; "
                                         "exec \"$@\"",
                                         "sh",
                                         in,
                                         out};
        for (const std::string &a : PorchArgv(args))
            argv.push_back(a);
        return lan_->run(2, argv, 60);
    }

    static std::string Say(const std::vector<std::string> &args, const RunResult &r)
    {
        std::string cmd = "porch";
        for (const std::string &a : args)
            cmd += " '" + a + "'";
        return cmd + "\n  -> " + r.describe() + (r.out.empty() ? "" : "\n  stdout: " + r.out);
    }

    // "10.88.0.1/SHARE/<test name>/path"
    std::string Remote(const std::string &share, const std::string &path = "") const
    {
        return lan_->address(1) + "/" + share + "/" + name_ + (path.empty() ? "" : "/" + path);
    }

    // Runs porch and expects the exit status `exit` and each of `says` in its stderr.
    void Expect(const std::vector<std::string> &args, int exit,
                const std::vector<std::string> &says = {})
    {
        RunResult r = Porch(args);
        EXPECT_EQ(r.exit_status, exit) << Say(args, r);
        for (const std::string &s : says)
            EXPECT_TRUE(ContainsNoCase(r.err, s)) << "\"" << s << "\" expected\n" << Say(args, r);
    }

    static TestLan *lan_;
    static std::string why_not_;
    static bool may_skip_, ready_;
    static pid_t porchd_;
    static std::string h1_, h2_, work_, docs_, key_path_, my_key_;

    std::string name_, xdg_, local_, tmp_;
};

TestLan *CliOpsTest::lan_ = nullptr;
std::string CliOpsTest::why_not_;
bool CliOpsTest::may_skip_ = false, CliOpsTest::ready_ = false;
pid_t CliOpsTest::porchd_ = -1;
std::string CliOpsTest::h1_, CliOpsTest::h2_, CliOpsTest::work_, CliOpsTest::docs_,
        CliOpsTest::key_path_, CliOpsTest::my_key_;

// ---- rm, mkdir, mv ---------------------------------------------------------------------------

TEST_F(CliOpsTest, MkdirMvRmForAWriter)
{
    const std::string w = work_ + "/" + name_;
    ASSERT_TRUE(WriteFile(w + "/one.txt", "one\n") && WriteFile(w + "/two.txt", "two\n") &&
                WriteFile(w + "/three.txt", "three\n"));
    ASSERT_TRUE(MakeDirs(w + "/tree/a/b") && WriteFile(w + "/tree/a/b/deep.txt", "deep\n") &&
                WriteFile(w + "/tree/top.txt", "top\n"));
    ASSERT_TRUE(MakeDirs(w + "/kept") && WriteFile(w + "/kept/precious.txt", "precious\n"));
    ASSERT_EQ(symlink("kept", (w + "/link").c_str()), 0);
    ASSERT_TRUE(GiveToShareOwner(w));

    // mkdir, mkdir -p
    Expect({"mkdir", Remote("Work", "new")}, 0);
    EXPECT_TRUE(fs::is_directory(w + "/new"));
    Expect({"mkdir", Remote("Work", "new")}, 1, {"new", "exists"});
    Expect({"mkdir", Remote("Work", "x/y/z")}, 1, {"x/y/z", "No such file"});
    EXPECT_FALSE(Exists(w + "/x"));
    Expect({"mkdir", "-p", Remote("Work", "x/y/z"), Remote("Work", "new")}, 0);
    EXPECT_TRUE(fs::is_directory(w + "/x/y/z"));
    Expect({"mkdir", "-p", Remote("Work", "one.txt/sub")}, 1, {"one.txt", "not a folder"});

    // mv: a rename, into a folder, several into a folder, never over a file without --force
    Expect({"mv", Remote("Work", "one.txt"), Remote("Work", "uno.txt")}, 0);
    EXPECT_FALSE(Exists(w + "/one.txt"));
    EXPECT_EQ(ReadFile(w + "/uno.txt"), "one\n");
    Expect({"mv", Remote("Work", "uno.txt"), Remote("Work", "new")}, 0);
    EXPECT_EQ(ReadFile(w + "/new/uno.txt"), "one\n");
    Expect({"mv", Remote("Work", "two.txt"), Remote("Work", "three.txt")}, 1,
           {"three.txt", "exists", "--force"});
    EXPECT_EQ(ReadFile(w + "/two.txt"), "two\n");
    EXPECT_EQ(ReadFile(w + "/three.txt"), "three\n");
    Expect({"mv", "--force", Remote("Work", "two.txt"), Remote("Work", "three.txt")}, 0);
    EXPECT_FALSE(Exists(w + "/two.txt"));
    EXPECT_EQ(ReadFile(w + "/three.txt"), "two\n");
    Expect({"mv", Remote("Work", "three.txt"), Remote("Work", "new/uno.txt"), Remote("Work", "x")},
           0);
    EXPECT_EQ(ReadFile(w + "/x/three.txt"), "two\n");
    EXPECT_EQ(ReadFile(w + "/x/uno.txt"), "one\n");
    Expect({"mv", Remote("Work", "x/three.txt"), Remote("Work", "x/uno.txt"),
            Remote("Work", "nowhere")},
           1, {"nowhere", "no such folder"});
    EXPECT_TRUE(Exists(w + "/x/three.txt") && Exists(w + "/x/uno.txt"));
    Expect({"mv", Remote("Work", "nope.txt"), Remote("Work", "x")}, 1, {"nope.txt", "No such"});

    // rm: a file, a folder only with -r, several paths, a link (not what it points to)
    Expect({"rm", Remote("Work", "x/uno.txt")}, 0);
    EXPECT_FALSE(Exists(w + "/x/uno.txt"));
    Expect({"rm", Remote("Work", "tree")}, 1, {"tree", "is a folder", "-r"});
    EXPECT_TRUE(Exists(w + "/tree/a/b/deep.txt"));
    Expect({"rm", "-r", Remote("Work", "tree"), Remote("Work", "x"), Remote("Work", "link")}, 0);
    EXPECT_FALSE(Exists(w + "/tree"));
    EXPECT_FALSE(Exists(w + "/x"));
    EXPECT_FALSE(Exists(w + "/link"));
    EXPECT_EQ(ReadFile(w + "/kept/precious.txt"), "precious\n") << "rm followed a link";
    // one missing path does not stop the others
    Expect({"rm", Remote("Work", "nope.txt"), Remote("Work", "kept/precious.txt")}, 1,
           {"nope.txt", "No such"});
    EXPECT_FALSE(Exists(w + "/kept/precious.txt"));

    // refused before anything is done: a share itself, '..', two shares, no share
    const std::string share = lan_->address(1) + "/Work";
    Expect({"rm", "-r", share}, 2, {"is a share"});
    Expect({"rm", "-r", Remote("Work", "kept"), share + "/"}, 2, {"is a share"});
    EXPECT_TRUE(fs::is_directory(w + "/kept"));
    Expect({"rm", "-r", Remote("Work", "kept/..")}, 2, {"'..'"});
    Expect({"mv", Remote("Work", "kept"), Remote("Docs", "kept")}, 2, {"same share"});
    Expect({"mkdir", lan_->address(1)}, 2, {"names no share"});
    Expect({"rm"}, 2);
    EXPECT_TRUE(fs::is_directory(w + "/kept"));
    EXPECT_TRUE(Leftovers(w).empty());
}

TEST_F(CliOpsTest, ReadOnlyPeerIsRefused)
{
    const std::string d = docs_ + "/" + name_;
    ASSERT_TRUE(WriteFile(d + "/file.txt", "file\n") && MakeDirs(d + "/folder/sub") &&
                WriteFile(d + "/folder/sub/inner.txt", "inner\n") &&
                WriteFile(d + "/a.jpg", "a\n"));
    ASSERT_TRUE(WriteFile(local_ + "/up.txt", "up\n"));
    ASSERT_TRUE(GiveToShareOwner(d)); // only porch.conf's rights stand in the way
    const auto before = Snapshot(d);

    const std::vector<std::vector<std::string>> refused = {
            {"rm", Remote("Docs", "file.txt")},
            {"rm", "-r", Remote("Docs", "folder")},
            {"rm", Remote("Docs", "*.jpg")},
            {"mkdir", Remote("Docs", "new")},
            {"mkdir", "-p", Remote("Docs", "new/deeper")},
            {"mv", Remote("Docs", "file.txt"), Remote("Docs", "renamed.txt")},
            {"mv", Remote("Docs", "file.txt"), Remote("Docs", "folder")},
            {"put", "--parents", local_ + "/up.txt", Remote("Docs", "p/q/up.txt")},
            {"put", "-", Remote("Docs", "stdin.txt")},
    };
    for (const auto &args : refused) {
        RunResult r = Porch(args);
        EXPECT_EQ(r.exit_status, 1) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, "Permission denied")) << Say(args, r);
        EXPECT_TRUE(Contains(r.err, lan_->address(1) + "/Docs/" + name_)) << Say(args, r);
    }
    const auto after = Snapshot(d);
    EXPECT_EQ(after, before) << "before:\n" << Describe(before) << "after:\n" << Describe(after);
    EXPECT_TRUE(Leftovers(d).empty());
}

// ---- globs -----------------------------------------------------------------------------------

TEST_F(CliOpsTest, GlobsMatchOnTheListing)
{
    const std::string w = work_ + "/" + name_;
    ASSERT_TRUE(WriteFile(w + "/a.jpg", "a\n") && WriteFile(w + "/b.jpg", "b\n") &&
                WriteFile(w + "/c.txt", "c\n") && WriteFile(w + "/.hidden.jpg", "h\n") &&
                WriteFile(w + "/ab.jpg", "ab\n") && MakeDirs(w + "/sub") &&
                WriteFile(w + "/sub/d.jpg", "d\n") && MakeDirs(w + "/sun") &&
                WriteFile(w + "/sun/d.txt", "no\n"));
    ASSERT_TRUE(GiveToShareOwner(w));

    struct Case {
        std::string pattern;
        std::set<std::string> lines;
    };
    const std::vector<Case> cases = {
            {"*.jpg", {"a.jpg", "ab.jpg", "b.jpg"}}, // not .hidden.jpg
            {"?.jpg", {"a.jpg", "b.jpg"}},
            {"[ac]*", {"a.jpg", "ab.jpg", "c.txt"}},
            {".*", {".hidden.jpg"}},
            {"su?", {"sub/", "sun/"}},
            {"su*/d.jpg", {"sub/d.jpg"}},
            {"*/d.*", {"sub/d.jpg", "sun/d.txt"}},
    };
    for (const Case &c : cases) {
        std::vector<std::string> args = {"ls", Remote("Work", c.pattern)};
        RunResult r = Porch(args);
        EXPECT_TRUE(r.ok()) << Say(args, r);
        EXPECT_EQ(Lines(r.out), c.lines) << Say(args, r);
    }

    // get and rm take the matches
    std::vector<std::string> args = {"get", Remote("Work", "*.jpg"), local_ + "/"};
    RunResult r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    const std::map<std::string, std::string> fetched = {
            {"a.jpg", "file " + Sha256File(w + "/a.jpg")},
            {"ab.jpg", "file " + Sha256File(w + "/ab.jpg")},
            {"b.jpg", "file " + Sha256File(w + "/b.jpg")}};
    EXPECT_EQ(Snapshot(local_), fetched) << Describe(Snapshot(local_));
    Expect({"rm", Remote("Work", "?.jpg"), Remote("Work", "*/d.jpg")}, 0);
    EXPECT_FALSE(Exists(w + "/a.jpg") || Exists(w + "/b.jpg") || Exists(w + "/sub/d.jpg"));
    EXPECT_TRUE(Exists(w + "/ab.jpg") && Exists(w + "/.hidden.jpg") && Exists(w + "/c.txt") &&
                Exists(w + "/sun/d.txt"));

    // no match: an error naming the pattern, and nothing done
    const auto before = Snapshot(w);
    for (const std::string cmd : {"ls", "get", "rm"}) {
        std::vector<std::string> a = {cmd, Remote("Work", "*.png")};
        if (cmd == "get")
            a.push_back(local_);
        RunResult rr = Porch(a);
        EXPECT_EQ(rr.exit_status, 1) << Say(a, rr);
        EXPECT_TRUE(Contains(rr.err, name_ + "/*.png")) << Say(a, rr);
        EXPECT_TRUE(Contains(rr.err, "no match")) << Say(a, rr);
    }
    // a folder that is not there is said as such
    Expect({"ls", Remote("Work", "nope/*.jpg")}, 1, {"nope/*.jpg", "No such"});
    EXPECT_EQ(Snapshot(w), before);
}

// ---- several sources -------------------------------------------------------------------------

TEST_F(CliOpsTest, SeveralSources)
{
    const std::string w = work_ + "/" + name_;
    std::string sha_a = MakeRandomFile(w + "/a.bin", 300000, 1);
    std::string sha_b = MakeRandomFile(w + "/b.bin", 5 << 20, 2);
    ASSERT_FALSE(sha_a.empty() || sha_b.empty());
    ASSERT_TRUE(MakeDirs(w + "/in") && GiveToShareOwner(w));

    // get A B DEST/, one failure among them
    const std::string dest = local_ + "/dest";
    ASSERT_TRUE(MakeDirs(dest));
    Expect({"get", Remote("Work", "a.bin"), Remote("Work", "nope.bin"), Remote("Work", "b.bin"),
            dest},
           1, {"nope.bin", "No such"});
    EXPECT_EQ(Sha256File(dest + "/a.bin"), sha_a);
    EXPECT_EQ(Sha256File(dest + "/b.bin"), sha_b);
    // DEST must be a folder
    Expect({"get", Remote("Work", "a.bin"), Remote("Work", "b.bin"), local_ + "/no-folder"}, 1,
           {"no-folder", "not a folder"});
    EXPECT_FALSE(Exists(local_ + "/no-folder"));

    // --json: a line per source path
    ASSERT_TRUE(MakeDirs(local_ + "/json"));
    std::vector<std::string> args = {"get", "--json", Remote("Work", "a.bin"),
                                     Remote("Work", "b.bin"), local_ + "/json"};
    RunResult r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    std::vector<std::string> json_lines;
    std::stringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        json_lines.push_back(line);
    ASSERT_EQ(json_lines.size(), 2u) << Say(args, r);
    EXPECT_TRUE(Contains(json_lines[0], "\"status\":\"ok\"") && Contains(json_lines[0], sha_a))
            << json_lines[0];
    EXPECT_TRUE(Contains(json_lines[1], "\"status\":\"ok\"") && Contains(json_lines[1], sha_b))
            << json_lines[1];

    // put a b HOST/S/dir/, one failure among them
    std::string sha_x = MakeRandomFile(local_ + "/x.bin", 1 << 20, 3);
    std::string sha_y = MakeRandomFile(local_ + "/y.bin", 2 << 20, 4);
    ASSERT_FALSE(sha_x.empty() || sha_y.empty());
    Expect({"put", local_ + "/x.bin", local_ + "/missing.bin", local_ + "/y.bin",
            Remote("Work", "in/")},
           1, {"missing.bin", "No such"});
    EXPECT_EQ(Sha256File(w + "/in/x.bin"), sha_x);
    EXPECT_EQ(Sha256File(w + "/in/y.bin"), sha_y);
    // the folder must be there
    Expect({"put", local_ + "/x.bin", local_ + "/y.bin", Remote("Work", "nodir")}, 1,
           {"nodir", "no such folder"});
    Expect({"put", local_ + "/x.bin", Remote("Work", "nodir/")}, 1, {"nodir", "no such folder"});
    EXPECT_FALSE(Exists(w + "/nodir"));
    EXPECT_TRUE(Leftovers(w).empty());
    EXPECT_TRUE(Leftovers(local_).empty());

    // one connection for every path of a host: porchd logs one session more
    auto sessions = [&] {
        std::string log = ReadFile(h1_ + "/porchd.log");
        size_t n = 0;
        for (size_t at = 0; (at = log.find(": connection, session ", at)) != std::string::npos;
             at++)
            n++;
        return n;
    };
    size_t before = sessions();
    ASSERT_TRUE(MakeDirs(local_ + "/again"));
    Expect({"get", Remote("Work", "a.bin"), Remote("Work", "b.bin"), Remote("Work", "in/*.bin"),
            local_ + "/again"},
           0);
    EXPECT_EQ(Sha256File(local_ + "/again/y.bin"), sha_y);
    EXPECT_TRUE(WaitFor([&] { return sessions() >= before + 1; }, 5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(sessions(), before + 1) << ReadFile(h1_ + "/porchd.log");
}

// ---- '-' -------------------------------------------------------------------------------------

TEST_F(CliOpsTest, StandardInputAndOutput)
{
    const std::string w = work_ + "/" + name_;
    std::string sha = MakeRandomFile(w + "/f.bin", (3 << 20) + 7, 5);
    ASSERT_FALSE(sha.empty());
    ASSERT_TRUE(GiveToShareOwner(w));

    // get FILE -: the bytes on standard output, nothing else there
    std::vector<std::string> args = {"get", Remote("Work", "f.bin"), "-"};
    RunResult r = PorchRedirected(args, "", local_ + "/out.bin");
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Sha256File(local_ + "/out.bin"), sha);
    r = Porch({"get", Remote("Work", "f.bin"), "-"});
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.out.size(), size_t((3 << 20) + 7));
    Expect({"get", Remote("Work", "nope.bin"), "-"}, 1, {"nope.bin", "No such"});
    Expect({"get", Remote("Work", "f.bin"), Remote("Work", "f.bin"), "-"}, 2);
    Expect({"get", "-r", Remote("Work", "f.bin"), "-"}, 2);
    Expect({"get", "--json", Remote("Work", "f.bin"), "-"}, 2);

    // put - FILE: what was read, under its name only once whole
    std::string in_sha = MakeRandomFile(local_ + "/in.bin", (4 << 20) + 3, 6);
    args = {"put", "-", Remote("Work", "from-stdin.bin")};
    r = PorchRedirected(args, local_ + "/in.bin", "");
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(Sha256File(w + "/from-stdin.bin"), in_sha);
    // never over a file without --force; with it, replaced
    ASSERT_TRUE(WriteFile(local_ + "/small.txt", "small\n"));
    r = PorchRedirected(args, local_ + "/small.txt", "");
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(ContainsNoCase(r.err, "exists")) << Say(args, r);
    EXPECT_EQ(Sha256File(w + "/from-stdin.bin"), in_sha);
    args = {"put", "--force", "-", Remote("Work", "from-stdin.bin")};
    r = PorchRedirected(args, local_ + "/small.txt", "");
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ReadFile(w + "/from-stdin.bin"), "small\n");
    // an empty standard input is an empty file
    args = {"put", "-", Remote("Work", "empty.txt")};
    r = PorchRedirected(args, "/dev/null", "");
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_TRUE(Exists(w + "/empty.txt") && ReadFile(w + "/empty.txt").empty());
    // a folder needs the file's name, and the folder must be there before anything is read
    Expect({"put", "-", Remote("Work", "")}, 1, {"is a folder"});
    args = {"put", "-", Remote("Work", "nodir/x.bin")};
    r = PorchRedirected(args, local_ + "/in.bin", "");
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "nodir: no such folder")) << Say(args, r);
    EXPECT_FALSE(Exists(w + "/nodir"));
    Expect({"put", "-", local_ + "/small.txt", Remote("Work", "")}, 2);

    // Ctrl-C while standard input is still coming: exit 130, nothing on the share, nothing
    // left in TMPDIR
    const std::string log = local_ + "/interrupted.log";
    std::vector<std::string> sh = {
            "sh", "-c", "{ head -c 1000000 \"$0\"; sleep 30; } | exec \"$@\"", local_ + "/in.bin"};
    for (const std::string &a : PorchArgv({"put", "-", Remote("Work", "interrupted.bin")}))
        sh.push_back(a);
    pid_t pid = lan_->spawn(2, sh, log);
    ASSERT_GT(pid, 0);
    // once porch has connected and read what came (its private folder in TMPDIR is there)
    ASSERT_TRUE(WaitFor(
            [&] {
                std::error_code ec;
                for (const auto &e : fs::directory_iterator(tmp_, ec))
                    for (const auto &f : fs::directory_iterator(e.path(), ec))
                        if (fs::file_size(f.path(), ec) == 1000000)
                            return true;
                return false;
            },
            20))
            << ReadFile(log);
    EXPECT_EQ(lan_->stop(pid, SIGINT), 128 + SIGINT) << ReadFile(log);
    EXPECT_FALSE(Exists(w + "/interrupted.bin"));
    EXPECT_TRUE(WaitFor([&] { return Leftovers(w).empty(); }, 5));
    EXPECT_TRUE(fs::is_empty(tmp_)) << "porch left its spool behind";
}

// porchd closes a session that sends nothing for idle-timeout seconds: while standard input
// stalls for longer, put - keeps the connection it made with a request now and then.
TEST_F(CliOpsTest, StandardInputThatStallsKeepsTheConnection)
{
    const std::string w = work_ + "/" + name_;
    std::string sha = MakeRandomFile(local_ + "/in.bin", 1000000, 9);
    ASSERT_FALSE(sha.empty());
    std::vector<std::string> sh = {
            "sh", "-c",
            "s=$1; shift; { head -c 400000 \"$0\"; sleep $s; tail -c +400001 \"$0\"; } | "
            "exec \"$@\"",
            local_ + "/in.bin", std::to_string(kIdleTimeout + 3)};
    for (const std::string &a : PorchArgv({"put", "-", Remote("Work", "slow.bin")}))
        sh.push_back(a);
    RunResult r = lan_->run(2, sh, 60);
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(w + "/slow.bin"), sha);
}

// ---- put --parents ---------------------------------------------------------------------------

TEST_F(CliOpsTest, PutParents)
{
    const std::string w = work_ + "/" + name_;
    ASSERT_TRUE(WriteFile(local_ + "/f.txt", "f\n") && WriteFile(local_ + "/g.txt", "g\n"));

    Expect({"put", local_ + "/f.txt", Remote("Work", "p/q/r.txt")}, 1, {"No such"});
    EXPECT_FALSE(Exists(w + "/p"));
    Expect({"put", "--parents", local_ + "/f.txt", Remote("Work", "p/q/r.txt")}, 0);
    EXPECT_EQ(ReadFile(w + "/p/q/r.txt"), "f\n");
    // a trailing '/' names a folder: made whole, and the file goes into it
    Expect({"put", "-p", local_ + "/f.txt", local_ + "/g.txt", Remote("Work", "m/n/")}, 0);
    EXPECT_EQ(ReadFile(w + "/m/n/f.txt"), "f\n");
    EXPECT_EQ(ReadFile(w + "/m/n/g.txt"), "g\n");
    // folders that are there already are fine
    Expect({"put", "--parents", "--force", local_ + "/g.txt", Remote("Work", "p/q/r.txt")}, 0);
    EXPECT_EQ(ReadFile(w + "/p/q/r.txt"), "g\n");
    // a file in the way
    Expect({"put", "--parents", local_ + "/f.txt", Remote("Work", "p/q/r.txt/s.txt")}, 1,
           {"r.txt", "not a folder"});
    EXPECT_TRUE(Leftovers(w).empty());
}

} // namespace
