// test-offline-shares.cc — a share whose folder is missing (an unplugged disk, an undone bind
// mount) is offline: porchd starts, reloads and restarts with it, serves every other share,
// leaves it out of the SFTP root and of mDNS, refuses it by name, and serves it again within
// 5 s of its folder coming back. porchd on test-LAN host 1, the porch command and avahi-browse
// on host 2.
#include <set>
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
constexpr const char *kName = "Offline Test";

// The names of a `porch ls` listing, a folder's trailing '/' dropped.
std::set<std::string>
Names(const std::string &out)
{
    std::set<std::string> names;
    size_t start = 0;
    while (start < out.size()) {
        size_t end = out.find('\n', start);
        std::string line =
                out.substr(start, end == std::string::npos ? std::string::npos : end - start);
        while (!line.empty() && (line.back() == '/' || line.back() == '\r'))
            line.pop_back();
        if (!line.empty())
            names.insert(line);
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return names;
}

// How many times needle occurs in haystack.
size_t
Count(const std::string &haystack, const std::string &needle)
{
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1))
        n++;
    return n;
}

class OfflineSharesTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        std::string why_not;
        bool may_skip = false;
        std::string missing = TestLan::missing_tools({"unshare", "nsenter", "mount", "umount"});
        if (!missing.empty()) {
            if (TestLan::must_run())
                GTEST_FAIL() << "missing tools: " << missing;
            GTEST_SKIP() << "missing tools: " << missing;
        }
        lan_ = TestLan::Create(2, &why_not, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why_not;
            GTEST_FAIL() << "test LAN unavailable: " << why_not;
        }
        h1_ = lan_->host_dir(1);
        disk_ = h1_ + "/disk";   // what the "USB disk" holds
        media_ = h1_ + "/media"; // where it is mounted, in porchd's mount namespace only
        usb_ = media_ + "/Photos";
        pub_ = h1_ + "/public";
        conf_ = h1_ + "/porch.conf";
        state_ = h1_ + "/state";
        log_ = h1_ + "/porchd.log";
        xdg_ = lan_->host_dir(2) + "/xdg";
        ASSERT_TRUE(MakeDirs(disk_ + "/Photos") && MakeDirs(media_) && MakeDirs(pub_) &&
                    MakeDirs(xdg_ + "/porch", 0700));
        ASSERT_TRUE(WriteFile(disk_ + "/Photos/beach.jpg", "sand\n"));
        ASSERT_TRUE(WriteFile(pub_ + "/notes.txt", "public\n"));
        ASSERT_TRUE(WriteFile(conf_, "[porch]\nname = " + std::string(kName) + "\nlisten = " +
                                             lan_->address(1) + "\n\n[share Usb]\npath = " + usb_ +
                                             "\nread = guest\n\n[share Public]\npath = " + pub_ +
                                             "\nread = guest\n"));
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log ----\n%s\n", ReadFile(log_).c_str());
        lan_.reset();
    }

    // Starts porchd on host 1 in a mount namespace of its own (the exec chain keeps the pid,
    // so nsenter -t porchd_ -m reaches it); true once it logs that it runs.
    bool StartPorchd()
    {
        size_t before = Count(ReadFile(log_), " running: ");
        porchd_ = lan_->spawn(1,
                              {"unshare", "-m", "--propagation", "private", "sh", "-c",
                               "exec \"$1\" --config \"$2\" --state-dir \"$3\"", "sh", kPorchd,
                               conf_, state_},
                              log_);
        return porchd_ > 0 &&
               WaitFor(
                       [&] {
                           return Count(ReadFile(log_), " running: ") > before ||
                                  !lan_->running(porchd_);
                       },
                       15) &&
               lan_->running(porchd_);
    }

    // Runs a mount command in porchd's mount namespace (no network involved).
    RunResult InPorchd(const std::vector<std::string> &argv)
    {
        std::vector<std::string> full = {"nsenter", "-t", std::to_string(porchd_), "-m"};
        full.insert(full.end(), argv.begin(), argv.end());
        return TestLan::run_local(full);
    }

    // porch on host 2 as a guest (no key in its configuration).
    RunResult Porch(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(2, argv, 60);
    }

    std::set<std::string> Root()
    {
        RunResult r = Porch({"ls", lan_->address(1)});
        return r.ok() ? Names(r.out) : std::set<std::string>{"(ls failed: " + r.describe() + ")"};
    }

    // Whether `porch get HOST/SHARE/FILE` gives `expect`.
    bool Fetches(const std::string &share, const std::string &file, const std::string &expect)
    {
        static int serial = 0;
        std::string to = lan_->host_dir(2) + "/got-" + std::to_string(++serial);
        RunResult r = Porch({"get", "--quiet", lan_->address(1) + "/" + share + "/" + file, to});
        return r.ok() && ReadFile(to) == expect;
    }

    // The share instances host 2 browses on the LAN (avahi-browse -p lines: a space is \032).
    std::string Browsed()
    {
        return lan_->run(2, {"avahi-browse", "-ptk", "_sftp-ssh._tcp"}, 15).out;
    }

    std::unique_ptr<TestLan> lan_;
    pid_t porchd_ = -1;
    std::string h1_, disk_, media_, usb_, pub_, conf_, state_, log_, xdg_;
};

// porchd --check-config warns about a missing folder and still says OK.
TEST_F(OfflineSharesTest, CheckConfigWarnsAndSucceeds)
{
    RunResult r = TestLan::run_local({kPorchd, "--check-config", "--config", conf_});
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_EQ(r.out, "OK\n");
    EXPECT_TRUE(Contains(r.err, "warning: [share Usb] path: folder " + usb_ + " missing")) << r.err;
    EXPECT_FALSE(Contains(r.err, "Public")) << r.err;
}

TEST_F(OfflineSharesTest, MissingFolderIsOfflineAndComesBack)
{
    // porchd starts with Usb's folder missing: Public is served, Usb is not there
    ASSERT_TRUE(StartPorchd());
    EXPECT_TRUE(Contains(ReadFile(log_), "share Usb offline: folder " + usb_ + " missing"));
    EXPECT_EQ(Root(), (std::set<std::string>{"Public"}));
    EXPECT_TRUE(Fetches("Public", "notes.txt", "public\n"));
    RunResult r = Porch({"ls", lan_->address(1) + "/Usb"});
    EXPECT_FALSE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no share 'Usb'")) << r.err;
    EXPECT_FALSE(Fetches("Usb", "beach.jpg", "sand\n"));
    ASSERT_TRUE(WaitFor([&] { return Contains(Browsed(), "Public\\032on"); }, 15)) << Browsed();
    EXPECT_FALSE(Contains(Browsed(), "Usb\\032on")) << Browsed();

    // the disk is plugged in (a bind mount in porchd's namespace): back within 5 s
    ASSERT_TRUE(InPorchd({"mount", "--bind", disk_, media_}).ok());
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(WaitFor([&] { return Root().count("Usb") == 1; }, 5)) << Root().size();
    EXPECT_LE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(6));
    EXPECT_TRUE(Fetches("Usb", "beach.jpg", "sand\n"));
    EXPECT_TRUE(WaitFor([&] { return Contains(Browsed(), "Usb\\032on"); }, 10)) << Browsed();

    // it is unplugged while porchd runs (and its worker holds the folder open: lazily, as a
    // yanked disk goes): Usb goes offline, logged once, and Public stays fetchable
    ASSERT_TRUE(InPorchd({"umount", "-l", media_}).ok());
    EXPECT_TRUE(WaitFor(
            [&] {
                return Count(ReadFile(log_), "share Usb offline") == 2 &&
                       Root() == std::set<std::string>{"Public"};
            },
            5));
    r = Porch({"get", "--quiet", lan_->address(1) + "/Usb/beach.jpg",
               lan_->host_dir(2) + "/refused"});
    EXPECT_FALSE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no share 'Usb'")) << r.err;
    EXPECT_TRUE(Fetches("Public", "notes.txt", "public\n"));
    EXPECT_TRUE(WaitFor([&] { return !Contains(Browsed(), "Usb\\032on"); }, 10)) << Browsed();
    std::this_thread::sleep_for(std::chrono::seconds(5)); // two more looks: still logged once
    EXPECT_EQ(Count(ReadFile(log_), "share Usb offline"), 2u);

    // porchd restarts while the disk is away
    EXPECT_EQ(lan_->stop(porchd_), 0);
    ASSERT_TRUE(StartPorchd());
    EXPECT_EQ(Root(), (std::set<std::string>{"Public"}));
    EXPECT_TRUE(Fetches("Public", "notes.txt", "public\n"));

    // and a reload with it missing is no failure
    ASSERT_EQ(kill(porchd_, SIGHUP), 0);
    EXPECT_TRUE(WaitFor([&] { return Contains(ReadFile(log_), "reloaded"); }, 10));
    EXPECT_FALSE(Contains(ReadFile(log_), "reload refused"));

    // plugged in again: back within 5 s, with the new porchd
    ASSERT_TRUE(InPorchd({"mount", "--bind", disk_, media_}).ok());
    EXPECT_TRUE(WaitFor([&] { return Root().count("Usb") == 1; }, 5));
    EXPECT_TRUE(Fetches("Usb", "beach.jpg", "sand\n"));
    EXPECT_TRUE(Fetches("Public", "notes.txt", "public\n"));
}

} // namespace
