// test-index-lan.cc — the content index on a real porchd (system service on test-LAN host 1,
// the porch command on host 2): it is built by an indexer running as the share's owner at
// idle priority, reported by `porch status`, kept current as files change (inotify), used by
// sessions for check-file while a file is unchanged and never after, and rebuilt when the
// database is damaged.
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include "test-util.h"
#include "testlan.h"

using namespace porch::test;

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr gsize kMiB = 1024 * 1024;

class IndexLanTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        PORCH_REQUIRE_TOOLS("sqlite3", "head", "cmp", "touch");
        std::string why_not;
        bool may_skip = false;
        lan_ = TestLan::Create(2, &why_not, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why_not;
            GTEST_FAIL() << "test LAN unavailable: " << why_not;
        }
        dir_ = lan_->host_dir(1);
        media_ = dir_ + "/media";
        state_ = dir_ + "/state";
        ASSERT_TRUE(MakeDirs(media_ + "/sub", 0755));
        // 20 MiB: three 8 MiB ranges, the last one short
        ASSERT_TRUE(Sh("head -c " + std::to_string(20 * kMiB) + " /dev/urandom > " + media_ +
                       "/big.bin"));
        ASSERT_TRUE(WriteFile(media_ + "/sub/small.txt", "small\n"));
        // the share belongs to nobody: its indexer runs as nobody
        ASSERT_TRUE(Sh("chown -R nobody: " + media_));
        // settled: files changed in the last seconds are hashed on a later pass
        ASSERT_TRUE(Sh("touch -d '-1 min' " + media_ + "/big.bin " + media_ + "/sub/small.txt"));
        conf_ = dir_ + "/porch.conf";
        ASSERT_TRUE(WriteFile(conf_, "[porch]\nname = Index Test\nlisten = " + lan_->address(1) +
                                             "\n\n[share Media]\npath = " + media_ +
                                             "\nread = guest\n"));
        xdg_ = lan_->host_dir(2) + "/xdg";
        ASSERT_TRUE(MakeDirs(xdg_ + "/porch", 0700));
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            for (int i = 1; i <= starts_; i++)
                fprintf(stderr, "---- porchd log %d ----\n%s\n", i,
                        ReadFile(dir_ + "/porchd-" + std::to_string(i) + ".log").c_str());
        lan_.reset();
    }

    static bool Sh(const std::string &cmd)
    {
        return TestLan::run_local({"sh", "-c", cmd}, 60).ok();
    }

    bool Start()
    {
        log_ = dir_ + "/porchd-" + std::to_string(++starts_) + ".log";
        porchd_ = lan_->spawn(
                1,
                {kPorchd, "--config", conf_, "--state-dir", state_, "--runtime-dir", dir_ + "/run"},
                log_);
        return PorchdStarted(lan_.get(), porchd_, log_);
    }

    void Stop()
    {
        lan_->stop(porchd_);
        porchd_ = -1;
    }

    // `porch status --json` on host 1 (as root, the system service's socket in dir_/run).
    JsonObject *Index()
    {
        RunResult r = lan_->run(
                1, {"env", "PORCH_SYSTEM_RUNTIME_DIR=" + dir_ + "/run", kPorch, "status", "--json"},
                30);
        if (!r.ok())
            return nullptr;
        parser_.reset(json_parser_new());
        if (!json_parser_load_from_data(parser_.get(), r.out.c_str(), -1, nullptr))
            return nullptr;
        JsonObject *o = json_node_get_object(json_parser_get_root(parser_.get()));
        return o && json_object_has_member(o, "index") ? json_object_get_object_member(o, "index")
                                                       : nullptr;
    }

    gint64 IndexInt(const char *member)
    {
        JsonObject *ix = Index();
        return ix ? json_object_get_int_member_with_default(ix, member, -1) : -1;
    }

    // Waits until the index holds @files files and nothing is being scanned.
    bool IndexHolds(gint64 files, double seconds = 30)
    {
        return WaitFor([&] { return IndexInt("files") == files && IndexInt("scanning") == 0; },
                       seconds);
    }

    // porch on host 2, as a guest.
    RunResult Remote(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(2, argv, 60);
    }

    RunResult Get(const std::string &path, const std::string &dest)
    {
        unlink(dest.c_str());
        return Remote({"get", lan_->address(1) + "/Media/" + path, dest});
    }

    std::string Sql(const std::string &sql)
    {
        RunResult r = TestLan::run_local({"sqlite3", state_ + "/index.sqlite", sql}, 30);
        return r.ok() ? r.out : "(sqlite3 failed: " + r.describe() + ")";
    }

    std::unique_ptr<TestLan> lan_;
    std::unique_ptr<JsonParser, decltype(&g_object_unref)> parser_{nullptr, g_object_unref};
    std::string dir_, media_, state_, conf_, xdg_, log_;
    pid_t porchd_ = -1;
    int starts_ = 0;
};

TEST_F(IndexLanTest, BuiltByTheOwnersIndexerAtIdlePriorityAndReported)
{
    ASSERT_TRUE(Start());
    ASSERT_TRUE(IndexHolds(2)) << "index files: " << IndexInt("files");
    EXPECT_EQ(IndexInt("bytes"), (gint64)(20 * kMiB + 6));
    EXPECT_GT(IndexInt("database_bytes"), 0);
    EXPECT_GT(IndexInt("hash_rate"), 0);
    EXPECT_EQ(IndexInt("shares"), 1);
    RunResult text =
            lan_->run(1, {"env", "PORCH_SYSTEM_RUNTIME_DIR=" + dir_ + "/run", kPorch, "status"});
    EXPECT_TRUE(Contains(text.out, "content index: 2 files")) << text.describe();

    // Three range hashes for big.bin, one for small.txt, as the client's 8 MiB ranges.
    EXPECT_EQ(Sql("SELECT path, length(ranges) / 32, range_size FROM files ORDER BY path"),
              "big.bin|3|8388608\nsub/small.txt|1|8388608\n");

    // The indexer: porchd-worker --index, a child of the launcher, as nobody (the share's
    // owner), at nice 19.
    bool found = false;
    for (pid_t p : Indexers(porchd_)) {
        std::string proc = "/proc/" + std::to_string(p);
        std::string cmdline = ReadFile(proc + "/cmdline");
        found = true;
        EXPECT_NE(cmdline.find(media_), std::string::npos) << cmdline;
        struct stat st = {};
        ASSERT_EQ(stat(proc.c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, ShareOwner().uid);
        // field 19 of /proc/PID/stat, after the command in parentheses
        std::string fields = ReadFile(proc + "/stat");
        fields = fields.substr(fields.rfind(')') + 2);
        std::vector<std::string> f;
        for (size_t at = 0, sp; at < fields.size(); at = sp + 1) {
            sp = fields.find(' ', at);
            if (sp == std::string::npos)
                sp = fields.size();
            f.push_back(fields.substr(at, sp - at));
        }
        ASSERT_GT(f.size(), 16u);
        EXPECT_EQ(f[16], "19") << "nice of the indexer";
    }
    EXPECT_TRUE(found) << "no porchd-worker --index under the launcher";
}

TEST_F(IndexLanTest, CheckFileAnswersFromTheIndexOnlyWhileTheFileIsUnchanged)
{
    ASSERT_TRUE(Start());
    ASSERT_TRUE(IndexHolds(2));
    std::string dest = lan_->host_dir(2) + "/big.bin";
    RunResult r = Get("big.bin", dest);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Sh("cmp " + media_ + "/big.bin " + dest));

    // Proof that the session answers from the index: a record whose range hashes are wrong
    // (but whose stat still matches the file) makes the client's verification fail.
    Sql("UPDATE files SET ranges = zeroblob(96) WHERE path = 'big.bin'");
    r = Get("big.bin", dest);
    EXPECT_FALSE(r.ok()) << "verified against hashes the index never had: " << r.describe();

    // The file changes (same size, same mtime: only its ctime tells): the record no longer
    // applies, the session hashes the file itself, and the fetch is verified.
    ASSERT_TRUE(Sh("head -c " + std::to_string(20 * kMiB) + " /dev/urandom > " + dir_ +
                   "/new.bin && touch -r " + media_ + "/big.bin " + dir_ +
                   "/new.bin && dd if=" + dir_ + "/new.bin of=" + media_ +
                   "/big.bin conv=notrunc status=none && touch -r " + dir_ + "/new.bin " + media_ +
                   "/big.bin"));
    r = Get("big.bin", dest);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Sh("cmp " + dir_ + "/new.bin " + dest));

    // And the indexer hashes it again on its own (inotify), with the right hashes.
    EXPECT_TRUE(WaitFor(
            [&] {
                return Sql("SELECT hex(substr(ranges, 1, 4)) FROM files WHERE path = 'big.bin'") !=
                       "00000000\n";
            },
            20));
    r = Get("big.bin", dest);
    EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(IndexLanTest, KeptCurrentAsFilesComeAndGo)
{
    ASSERT_TRUE(Start());
    ASSERT_TRUE(IndexHolds(2));
    ASSERT_TRUE(MakeDirs(media_ + "/new/deeper", 0755));
    ASSERT_TRUE(WriteFile(media_ + "/new/deeper/a.txt", "a\n"));
    ASSERT_TRUE(WriteFile(media_ + "/b.txt", "bb\n"));
    // written just now: hashed once settled, a few seconds later
    EXPECT_TRUE(IndexHolds(4, 30)) << IndexInt("files");
    EXPECT_EQ(Sql("SELECT path FROM files ORDER BY path"),
              "b.txt\nbig.bin\nnew/deeper/a.txt\nsub/small.txt\n");
    // a folder removed, a file removed, a folder renamed
    ASSERT_TRUE(Sh("rm -r " + media_ + "/new && rm " + media_ + "/b.txt && mv " + media_ + "/sub " +
                   media_ + "/moved"));
    EXPECT_TRUE(WaitFor(
            [&] {
                return Sql("SELECT path FROM files ORDER BY path") == "big.bin\nmoved/small.txt\n";
            },
            30))
            << Sql("SELECT path FROM files ORDER BY path");
}

// Once the index has had nothing to do for a few seconds, the network side gives back the
// database pages SQLite cached while it was built (about the whole database for a small
// share, up to 2 MiB for a big one), instead of holding them while porchd idles.
TEST_F(IndexLanTest, QuietIndexGivesItsCachedPagesBack)
{
    ASSERT_TRUE(MakeDirs(media_ + "/many", 0755));
    ASSERT_TRUE(Sh("cd " + media_ + "/many && for i in $(seq 3000); do echo $i > f$i; done && " +
                   "chown -R nobody: . && touch -d '-1 min' . f*"));
    log_ = dir_ + "/porchd-" + std::to_string(++starts_) + ".log";
    porchd_ = lan_->spawn(1,
                          {"env", "G_MESSAGES_DEBUG=porchd", kPorchd, "--config", conf_,
                           "--state-dir", state_, "--runtime-dir", dir_ + "/run"},
                          log_);
    ASSERT_TRUE(PorchdStarted(lan_.get(), porchd_, log_));
    pid_t network = NetworkSide(porchd_);
    ASSERT_GT(network, 0);
    auto rss_anon = [&] { return ProcStatusKiB(network, "RssAnon"); };
    // the most the network side held while the index was built and just after
    long peak = 0;
    ASSERT_TRUE(WaitFor(
            [&] {
                peak = std::max(peak, rss_anon());
                return IndexInt("files") == 3002 && IndexInt("scanning") == 0;
            },
            60))
            << IndexInt("files");
    const std::string said = "bytes of cached pages given back";
    ASSERT_TRUE(WaitFor(
            [&] {
                peak = std::max(peak, rss_anon());
                return Contains(ReadFile(log_), said);
            },
            30));
    std::string log = ReadFile(log_);
    size_t at = log.find(said);
    size_t start = log.rfind(' ', at - 2) + 1;
    long freed = std::atol(log.c_str() + start);
    // 3000 records, each with its range hash: well over 256 KiB of pages
    EXPECT_GT(freed, 256 * 1024) << log.substr(start, at - start + said.size());
    long after = rss_anon();
#if defined(__SANITIZE_ADDRESS__)
    // ASan's allocator keeps what is freed (its quarantine) and ignores malloc_trim()
    (void)after;
#else
    EXPECT_LT(after, peak - 200) << "RssAnon of the network side: " << peak << " KiB at most, "
                                 << after << " KiB after";
#endif
    // and the index still answers
    EXPECT_TRUE(IndexHolds(3002));
    EXPECT_EQ(Sql("SELECT count(*) FROM files WHERE path LIKE 'many/%'"), "3000\n");
}

// An indexer that dies (killed here; a crash would do the same) is started again on its own
// within seconds, not at the next reload, and keeps the index current; one that keeps dying
// is started again later each time.
TEST_F(IndexLanTest, IndexerThatDiesIsStartedAgain)
{
    ASSERT_TRUE(Start());
    ASSERT_TRUE(IndexHolds(2));
    // kills the indexer @old; the one that takes its place, or -1 when none did in @seconds
    auto kill_and_await_next = [&](pid_t old, double seconds) {
        pid_t next = -1;
        if (kill(old, SIGKILL) != 0)
            return next;
        WaitFor(
                [&] {
                    std::vector<pid_t> now = Indexers(porchd_);
                    next = now.size() == 1 && now[0] != old ? now[0] : -1;
                    return next > 0;
                },
                seconds);
        return next;
    };
    std::vector<pid_t> first = Indexers(porchd_);
    ASSERT_EQ(first.size(), 1u);
    pid_t second = kill_and_await_next(first[0], 15);
    ASSERT_GT(second, 0) << ReadFile(log_);
    EXPECT_TRUE(Contains(ReadFile(log_), "index Media: the share's indexer went away"))
            << ReadFile(log_);
    // the launcher's line on the new indexer can come before the network side's
    EXPECT_TRUE(WaitFor(
            [&] {
                return Contains(ReadFile(log_),
                                "index Media: the share's indexer is started again (1 time after");
            },
            5))
            << ReadFile(log_);
    // the new one watches the share: a new file is indexed
    ASSERT_TRUE(WriteFile(media_ + "/after.txt", "after\n"));
    ASSERT_TRUE(Sh("chown nobody: " + media_ + "/after.txt"));
    EXPECT_TRUE(IndexHolds(3)) << IndexInt("files");
    EXPECT_EQ(IndexInt("shares"), 1);

    // killed again at once: started again after a longer wait (4 s, then 8 s)
    gint64 killed = g_get_monotonic_time();
    ASSERT_GT(kill_and_await_next(second, 20), 0) << ReadFile(log_);
    EXPECT_GE(g_get_monotonic_time() - killed, 3 * G_USEC_PER_SEC) << "no back-off";
    EXPECT_TRUE(
            WaitFor([&] { return Contains(ReadFile(log_), "is started again (2 times after"); }, 5))
            << ReadFile(log_);
    EXPECT_TRUE(IndexHolds(3));
    EXPECT_EQ(kill(porchd_, 0), 0) << "porchd itself went on";
}

TEST_F(IndexLanTest, DamagedDatabaseIsRebuiltNotTrusted)
{
    ASSERT_TRUE(Start());
    ASSERT_TRUE(IndexHolds(2));
    Stop();
    std::string junk(16384, 'x');
    ASSERT_TRUE(
            WriteFile(state_ + "/index.sqlite", "SQLite format 3" + std::string(1, '\0') + junk));
    unlink((state_ + "/index.sqlite-wal").c_str());
    unlink((state_ + "/index.sqlite-shm").c_str());
    ASSERT_TRUE(Start());
    EXPECT_TRUE(Contains(ReadFile(log_), "building it again")) << ReadFile(log_);
    EXPECT_TRUE(IndexHolds(2));
    std::string dest = lan_->host_dir(2) + "/small.txt";
    RunResult r = Get("sub/small.txt", dest);
    EXPECT_TRUE(r.ok()) << r.describe();
}

} // namespace

namespace
{

// `porch search` from host 2 across hosts 1 and 3: names found on both, each neighbour
// answering only with the shares the asker may read (a guest, then the peer bob), hidden
// shares only for who may read them, and the pattern never in porchd's log.
TEST(IndexSearchLan, FindsNamesOnEveryNeighbourOnlyWhereTheAskerMayRead)
{
    PORCH_REQUIRE_TOOLS("sqlite3", "touch");
    PORCH_REQUIRE_LAN(lan, 3);
    std::string key = lan->host_dir(2) + "/bob";
    std::string bob = MakeKey(key, "bob");
    ASSERT_FALSE(bob.empty());
    std::string xdg = lan->host_dir(2) + "/xdg";
    ASSERT_TRUE(MakeDirs(xdg + "/porch", 0700));

    struct Host {
        int n;
        std::string name, conf, log;
        std::vector<std::pair<std::string, std::string>> files; // share folder, file
        pid_t pid = -1;
    };
    std::vector<Host> hosts = {
            {1,
             "Index One",
             "",
             "",
             {{"media", "beach.jpg"},
              {"private", "beach-private.jpg"},
              {"secret", "beach-secret.jpg"},
              {"media", "notes.txt"}}},
            {3, "Index Three", "", "", {{"photos", "Beach House.PNG"}, {"photos", "dune.txt"}}},
    };
    for (Host &h : hosts) {
        std::string dir = lan->host_dir(h.n);
        for (auto &[folder, file] : h.files) {
            ASSERT_TRUE(MakeDirs(dir + "/" + folder, 0755));
            ASSERT_TRUE(WriteFile(dir + "/" + folder + "/" + file, file + "\n"));
            ASSERT_TRUE(
                    TestLan::run_local({"touch", "-d", "-1 min", dir + "/" + folder + "/" + file})
                            .ok());
        }
        std::string conf = "[porch]\nname = " + h.name + "\nlisten = " + lan->address(h.n) +
                           "\n\n[peer bob]\nkey = " + bob + "\n";
        if (h.n == 1)
            conf += "\n[share Media]\npath = " + dir +
                    "/media\nread = guest\n"
                    "\n[share Private]\npath = " +
                    dir +
                    "/private\nread = bob\n"
                    "\n[share Secret]\npath = " +
                    dir + "/secret\nread = bob\nhidden = yes\n";
        else
            conf += "\n[share Photos]\npath = " + dir + "/photos\nread = guest\n";
        h.conf = dir + "/porch.conf";
        h.log = dir + "/porchd.log";
        ASSERT_TRUE(WriteFile(h.conf, conf));
        h.pid = lan->spawn(h.n,
                           {kPorchd, "--config", h.conf, "--state-dir", dir + "/state",
                            "--runtime-dir", dir + "/run"},
                           h.log);
        ASSERT_TRUE(PorchdStarted(lan.get(), h.pid, h.log)) << ReadFile(h.log);
    }
    for (Host &h : hosts) {
        std::string db = lan->host_dir(h.n) + "/state/index.sqlite";
        EXPECT_TRUE(WaitFor(
                [&] {
                    RunResult r = TestLan::run_local({"sqlite3", db, "SELECT count(*) FROM files"});
                    return r.ok() && r.out == std::to_string(h.files.size()) + "\n";
                },
                30))
                << h.name << ": " << ReadFile(h.log);
    }
    auto porch = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan->run(2, argv, 60);
    };

    // Nothing is asked of a neighbour whose key is not pinned yet.
    RunResult r = porch({"search", "beach"});
    EXPECT_EQ(r.exit_status, 3) << r.describe();
    EXPECT_TRUE(Contains(r.err, "not pinned")) << r.describe();
    for (Host &h : hosts)
        ASSERT_TRUE(porch({"ls", h.name}).ok());

    // A guest: the guest shares of both hosts, as they answer.
    r = porch({"search", "beach"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "Index One/Media/beach.jpg")) << r.describe();
    EXPECT_TRUE(Contains(r.out, "Index Three/Photos/Beach House.PNG")) << r.describe();
    EXPECT_FALSE(Contains(r.out, "private")) << r.describe();
    EXPECT_FALSE(Contains(r.out, "secret")) << r.describe();

    // bob: his shares too, the hidden one included; JSON, one object a line.
    r = porch({"search", "--json", "--identity", key, "BEACH"});
    ASSERT_TRUE(r.ok()) << r.describe();
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1)
        lines.push_back(r.out.substr(at, nl - at));
    EXPECT_EQ(lines.size(), 4u) << r.describe();
    for (const std::string &line : lines) {
        g_autoptr(JsonParser) p = json_parser_new();
        ASSERT_TRUE(json_parser_load_from_data(p, line.c_str(), -1, nullptr)) << line;
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        ASSERT_NE(o, nullptr);
        EXPECT_TRUE(json_object_has_member(o, "host") && json_object_has_member(o, "sha256"));
        EXPECT_EQ(json_object_get_string_member(o, "sha256") != nullptr
                          ? strlen(json_object_get_string_member(o, "sha256"))
                          : 0u,
                  64u);
    }
    EXPECT_TRUE(Contains(r.out, "\"Secret\"")) << r.describe();
    EXPECT_TRUE(Contains(r.out, "\"Private\"")) << r.describe();

    // A glob; and nothing found is exit status 1.
    r = porch({"search", "*.txt"});
    EXPECT_TRUE(Contains(r.out, "Index One/Media/notes.txt") &&
                Contains(r.out, "Index Three/Photos/dune.txt"))
            << r.describe();
    r = porch({"search", "zzz-nothing"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();

    // The pattern itself is not in porchd's log (only at debug level).
    EXPECT_FALSE(Contains(ReadFile(hosts[0].log), "beach")) << ReadFile(hosts[0].log);
    EXPECT_TRUE(Contains(ReadFile(hosts[0].log), "search: ")) << ReadFile(hosts[0].log);
}

} // namespace
