// test-multisource.cc — `porch get` of a large file from every neighbour that holds it: the
// same 300 MiB file on test-LAN hosts 1 and 3, fetched from host 2. Both serve part of it;
// host 1 killed, or gone silent off the network, mid-fetch leaves host 3 to finish; a host
// that claims the file but sends other bytes is dropped and named; --sources 1 keeps to one;
// --sha256 fetches by content alone; the origin alone serves a file of an odd size whole.
// Each result is checked byte for byte.
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test-util.h"
#include "testlan.h"

using namespace porch::test;

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr off_t kSize = 300ll << 20;

class MultiSourceTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        PORCH_REQUIRE_TOOLS("sqlite3", "touch", "tc", "cmp");
        std::string why_not;
        bool may_skip = false;
        lan_ = TestLan::Create(3, &why_not, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why_not;
            GTEST_FAIL() << "test LAN unavailable: " << why_not;
        }
        xdg_ = lan_->host_dir(2) + "/xdg";
        ASSERT_TRUE(MakeDirs(xdg_ + "/porch", 0700));
        for (int h : {1, 3}) {
            std::string dir = lan_->host_dir(h);
            ASSERT_TRUE(MakeDirs(dir + "/media", 0755));
            sha_ = MakeRandomFile(dir + "/media/big.bin", kSize, 7);
            ASSERT_FALSE(sha_.empty());
            ASSERT_TRUE(TestLan::run_local({"touch", "-d", "-1 min", dir + "/media/big.bin"}).ok());
        }
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            for (int h : {1, 3})
                fprintf(stderr, "---- porchd log, host %d ----\n%s\n", h,
                        ReadFile(lan_->host_dir(h) + "/porchd.log").c_str());
        lan_.reset();
    }

    // porchd on host @h, its share Media read by guests, its index holding big.bin (and
    // @files - 1 others).
    void StartPorchd(int h, int files = 1)
    {
        std::string dir = lan_->host_dir(h);
        std::string conf = dir + "/porch.conf", log = dir + "/porchd.log";
        ASSERT_TRUE(WriteFile(conf, "[porch]\nname = Source " + std::to_string(h) + "\nlisten = " +
                                            lan_->address(h) + "\n\n[share Media]\npath = " + dir +
                                            "/media\nread = guest\n"));
        pid_t pid = lan_->spawn(h,
                                {kPorchd, "--config", conf, "--state-dir", dir + "/state",
                                 "--runtime-dir", dir + "/run"},
                                log);
        ASSERT_TRUE(PorchdStarted(lan_.get(), pid, log)) << ReadFile(log);
        porchd_[h] = pid;
        ASSERT_TRUE(WaitFor(
                [&] {
                    return Sql(h, "SELECT count(*) FROM files") == std::to_string(files) + "\n";
                },
                60))
                << "host " << h << " did not index big.bin";
    }

    void StartBoth()
    {
        StartPorchd(1);
        StartPorchd(3);
        // host 2 pins both keys, as a first `porch ls` does
        for (int h : {1, 3}) {
            RunResult r = Porch({"ls", "Source " + std::to_string(h)});
            ASSERT_TRUE(r.ok()) << r.describe();
        }
    }

    std::string Sql(int h, const std::string &sql)
    {
        RunResult r =
                TestLan::run_local({"sqlite3", lan_->host_dir(h) + "/state/index.sqlite", sql}, 30);
        return r.ok() ? r.out : "(sqlite3: " + r.describe() + ")";
    }

    RunResult Porch(std::vector<std::string> args, double timeout = 120)
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(2, argv, timeout);
    }

    // What host @h's porchd sessions have read so far with read() and pread() (rchar of
    // /proc/PID/io): the file data they sent, bytes. (libssh sends with send(), which wchar
    // does not count.)
    long long SentBy(int h)
    {
        long long sum = 0;
        for (pid_t p : PorchdSessions(porchd_[h])) {
            std::string io = ReadFile("/proc/" + std::to_string(p) + "/io");
            size_t at = io.find("rchar:");
            if (at != std::string::npos)
                sum += std::strtoll(io.c_str() + at + 6, nullptr, 10);
        }
        return sum;
    }

    // Waits until the fetch into Dest() holds 40 MiB and host 3 has sent 4 MiB of it: data
    // flows from both (host 3 joins once its search answers, which took 2 s on a loaded
    // machine: by then host 1 alone had sent 40 MiB).
    bool DataFlowsFromBoth()
    {
        std::string part = Dest() + ".part";
        return WaitFor(
                [&] {
                    struct stat st = {};
                    return stat(part.c_str(), &st) == 0 && st.st_blocks * 512 > (40ll << 20) &&
                           SentBy(3) > (4ll << 20);
                },
                60);
    }

    // Slows what host @h sends to @mbit Mbit/s, so that a fetch lasts long enough to
    // interrupt.
    void Throttle(int h, int mbit)
    {
        RunResult r = lan_->run(h, {"tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate",
                                    std::to_string(mbit) + "mbit", "burst", "256kbit", "latency",
                                    "400ms"});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    std::string Dest()
    {
        return lan_->host_dir(2) + "/big.bin";
    }

    std::unique_ptr<TestLan> lan_;
    std::string xdg_, sha_;
    pid_t porchd_[4] = {-1, -1, -1, -1};
};

TEST_F(MultiSourceTest, TwoSourcesShareTheWorkAndTheResultIsVerified)
{
    StartBoth();
    // the origin starts at once and the other joins once found: slow enough links that the
    // other one has something left to serve when it joins
    Throttle(1, 200);
    Throttle(3, 200);
    RunResult r = Porch({"get", "Source 1/Media/big.bin", Dest()});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(Dest()), sha_);
    EXPECT_TRUE(Contains(r.err, "from 2 sources")) << r.err;
    // each served part of it: the transfer logs of both porchds name big.bin
    for (int h : {1, 3})
        EXPECT_TRUE(Contains(ReadFile(lan_->host_dir(h) + "/porchd.log"), "fetched Media/big.bin"))
                << "host " << h << " served nothing";

    // --sources 1: the origin alone, the ordinary get
    unlink(Dest().c_str());
    Throttle(1, 2000);
    r = Porch({"get", "--sources", "1", "Source 1/Media/big.bin", Dest()});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Contains(r.err, "sources")) << r.err;
    EXPECT_EQ(Sha256File(Dest()), sha_);
}

TEST_F(MultiSourceTest, OriginKilledMidFetchTheOtherFinishes)
{
    StartBoth();
    Throttle(1, 200);
    Throttle(3, 200);
    pid_t get = lan_->spawn(2, {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch, "get",
                                "Source 1/Media/big.bin", Dest()});
    ASSERT_GT(get, 0);
    // once data flows from both, host 1's porchd is killed
    ASSERT_TRUE(DataFlowsFromBoth()) << ReadFile(lan_->spawn_log(get));
    lan_->stop(porchd_[1], SIGKILL);
    EXPECT_TRUE(WaitFor([&] { return !lan_->running(get); }, 120));
    EXPECT_EQ(lan_->stop(get), 0) << ReadFile(lan_->spawn_log(get));
    EXPECT_EQ(Sha256File(Dest()), sha_);
    EXPECT_TRUE(Contains(ReadFile(lan_->spawn_log(get)), "Source 1 dropped"))
            << ReadFile(lan_->spawn_log(get));
}

TEST_F(MultiSourceTest, SilentSourceIsDroppedWithinSeconds)
{
    StartBoth();
    Throttle(1, 200);
    Throttle(3, 200);
    pid_t get = lan_->spawn(2, {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch, "get",
                                "Source 1/Media/big.bin", Dest()});
    ASSERT_GT(get, 0);
    ASSERT_TRUE(DataFlowsFromBoth()) << ReadFile(lan_->spawn_log(get));
    // host 3 drops off the network: no reset, no FIN, nothing
    ASSERT_TRUE(lan_->run(3, {"ip", "link", "set", "eth0", "down"}).ok());
    gint64 down = g_get_monotonic_time();
    EXPECT_TRUE(WaitFor([&] { return !lan_->running(get); }, 120));
    EXPECT_EQ(lan_->stop(get), 0) << ReadFile(lan_->spawn_log(get));
    EXPECT_EQ(Sha256File(Dest()), sha_);
    std::string out = ReadFile(lan_->spawn_log(get));
    EXPECT_TRUE(Contains(out, "Source 3 dropped")) << out;
    // and the fetch did not wait out the 30 s reply timeout to drop it
    EXPECT_LT((g_get_monotonic_time() - down) / G_USEC_PER_SEC, 25) << out;
}

TEST_F(MultiSourceTest, SourceSendingWrongBytesIsDroppedAndNamed)
{
    // host 3's copy differs in one byte in its seventh range, and its index claims the
    // original (a neighbour that lies): every range is checked against the origin's hashes.
    // Host 1, slowed to 40 Mbit/s, needs some 8 s to come to that range (ranges are taken
    // in order); host 3 joins within a few seconds and takes it first. In the third range it
    // was a race under ASan: host 1 had taken it before host 3 had logged in.
    std::string three = lan_->host_dir(3) + "/media/big.bin";
    ASSERT_TRUE(TestLan::run_local({"sh", "-c",
                                    "printf X | dd of='" + three +
                                            "' bs=1 seek=50332648 conv=notrunc status=none && "
                                            "touch -d '-1 min' '" +
                                            three + "'"})
                        .ok());
    StartBoth();
    // host 1 slow: host 3 takes the ranges after the first, the one that differs among them
    Throttle(1, 40);
    std::string one_sha = Sql(1, "SELECT hex(sha256) FROM files");
    ASSERT_EQ(one_sha.size(), 65u) << one_sha;
    Sql(3, "UPDATE files SET sha256 = X'" + one_sha.substr(0, 64) + "'");
    // once host 3 is dropped, host 1 sends the rest at 40 Mbit/s: about a minute
    RunResult r = Porch({"get", "Source 1/Media/big.bin", Dest()}, 300);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(Dest()), sha_);
    EXPECT_TRUE(Contains(r.err, "Source 3 dropped as a source: sent wrong data")) << r.err;
}

TEST_F(MultiSourceTest, TheOriginAloneServesAFileOfAnOddSizeWhole)
{
    // no other holder: the engine runs with the origin alone. 70 MiB and 4097 bytes: eight
    // whole ranges written past the page cache (O_DIRECT on this disk), and a last one whose
    // length no block size divides, written through it
    std::string odd = lan_->host_dir(1) + "/media/odd.bin";
    std::string sha = MakeRandomFile(odd, (70ll << 20) + 4097, 11);
    ASSERT_FALSE(sha.empty());
    ASSERT_TRUE(TestLan::run_local({"touch", "-d", "-1 min", odd}).ok());
    StartPorchd(1, 2);
    ASSERT_TRUE(Porch({"ls", "Source 1"}).ok());
    std::string dest = lan_->host_dir(2) + "/odd.bin";
    RunResult r = Porch({"get", "Source 1/Media/odd.bin", dest});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.err, "verified, from 1 source")) << r.err;
    EXPECT_EQ(Sha256File(dest), sha);
    struct stat st = {};
    ASSERT_EQ(stat(dest.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, (70ll << 20) + 4097);
    EXPECT_FALSE(Exists(dest + ".part"));
}

TEST_F(MultiSourceTest, BySha256FromWhoeverHasIt)
{
    StartBoth();
    RunResult r = Porch({"get", "--sha256", sha_, Dest()});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(Dest()), sha_);
    EXPECT_TRUE(Contains(r.err, "from 2 sources")) << r.err;
    unlink(Dest().c_str());
    r = Porch({"get", "--sha256", std::string(64, '0'), Dest()});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_FALSE(Exists(Dest()));
}

} // namespace
