// test-transfer-log.cc — porchd's log says which peer fetched or changed what, one line per
// transfer (a 64 MiB fetch is one line, not one per read), from the system service (launcher,
// network side, sessions) and from the per-user service; and `porchd --reload`, systemd's
// ExecReload, waits for the running porchd's verdict: exit 0 when it took the new porch.conf,
// 1 with the loader's file:line message when it refused it (the old rules still serve), 1
// when no porchd runs or none answers. porchd on test-LAN host 1; porch and OpenSSH's sftp on
// host 2.
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test-util.h"
#include "testlan.h"

using namespace porch::test;

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;

// The lines of text that contain needle.
std::vector<std::string>
LinesWith(const std::string &text, const std::string &needle)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line =
                text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (Contains(line, needle))
            out.push_back(line);
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return out;
}

// Whether line ends with suffix.
bool
EndsWith(const std::string &line, const std::string &suffix)
{
    return line.size() >= suffix.size() &&
           line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class TransferLogTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        PORCH_REQUIRE_TOOLS("ssh-keygen", "sftp", "setpriv", "sh");
        std::string why_not;
        bool may_skip = false;
        lan_ = TestLan::Create(2, &why_not, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why_not;
            GTEST_FAIL() << "test LAN unavailable: " << why_not;
        }
        h1_ = lan_->host_dir(1);
        h2_ = lan_->host_dir(2);
        box_ = h1_ + "/box";
        conf_ = h1_ + "/porch.conf";
        state_ = h1_ + "/state";
        log_ = h1_ + "/porchd.log";
        xdg_ = h2_ + "/xdg";
        ASSERT_TRUE(MakeDirs(box_) && MakeDirs(h1_ + "/extra") && MakeDirs(xdg_ + "/porch", 0700));
        ASSERT_TRUE(WriteFile(box_ + "/small.txt", "small file\n"));
        ASSERT_TRUE(WriteFile(box_ + "/evil\n\x1b[31mname.txt", "escaped\n"));
        ASSERT_FALSE(MakeRandomFile(box_ + "/big.bin", 64 << 20, 17).empty());
        ASSERT_FALSE(MakeRandomFile(box_ + "/mid.bin", 1 << 20, 18).empty());
        // the service serves a root-owned folder as 'porch', who may not write there
        ASSERT_TRUE(GiveToShareOwner(box_));
        bob_key_ = MakeKey(h2_ + "/bob", "bob");
        ASSERT_FALSE(bob_key_.empty());
        ASSERT_TRUE(WriteFile(h2_ + "/up.txt", std::string(3000, 'u')));
        ASSERT_TRUE(WriteFile(conf_, Config("")));
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log ----\n%s\n", ReadFile(log_).c_str());
        lan_.reset();
    }

    // porch.conf on host 1: bob reads and writes Box, guests read it; then @more.
    std::string Config(const std::string &more) const
    {
        return "[porch]\nlisten = " + lan_->address(1) + "\n\n[peer bob]\nkey = " + bob_key_ +
               "\n\n[share Box]\npath = " + box_ + "\nread = guest\nwrite = bob\n" + more;
    }

    // porchd as root, the system service: a launcher, its network side and the sessions.
    bool StartPorchd()
    {
        porchd_ = lan_->spawn(1, {kPorchd, "--config", conf_, "--state-dir", state_}, log_);
        return PorchdStarted(lan_.get(), porchd_, log_);
    }

    // porch on host 2, as bob (@as_bob) or as a guest.
    RunResult Porch(const std::vector<std::string> &args, bool as_bob = true)
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        if (as_bob)
            argv.insert(argv.begin() + 5, {"--identity", h2_ + "/bob"});
        return lan_->run(2, argv, 120);
    }

    // OpenSSH's sftp on host 2 running @batch, as bob (@user "bob") or as a guest.
    RunResult Sftp(const std::string &user, const std::string &batch, const std::string &port = "")
    {
        std::string script = h2_ + "/batch.txt";
        EXPECT_TRUE(WriteFile(script, batch));
        std::vector<std::string> argv = {"sftp",
                                         "-b",
                                         script,
                                         "-P",
                                         port.empty() ? "4422" : port,
                                         "-o",
                                         "StrictHostKeyChecking=no",
                                         "-o",
                                         "UserKnownHostsFile=/dev/null",
                                         "-o",
                                         "BatchMode=yes"};
        if (user == "bob")
            argv.insert(argv.end(), {"-i", h2_ + "/bob", "-o", "IdentitiesOnly=yes"});
        argv.push_back(user + "@" + lan_->address(1));
        return lan_->run(2, argv, 60);
    }

    // Waits until the log has exactly one line holding @needle (and a moment more, to see
    // that no second one comes); that line, or "" when there is none or more than one.
    std::string OneLine(const std::string &needle, const std::string &log = "")
    {
        const std::string &file = log.empty() ? log_ : log;
        WaitFor([&] { return !LinesWith(ReadFile(file), needle).empty(); }, 10);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::vector<std::string> lines = LinesWith(ReadFile(file), needle);
        return lines.size() == 1 ? lines[0] : "";
    }

    // porchd --reload (with @args) run by root on this machine: it only reads the state
    // folder and signals.
    static RunResult Reload(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {kPorchd, "--reload"};
        argv.insert(argv.end(), args.begin(), args.end());
        return TestLan::run_local(argv, 30);
    }

    std::unique_ptr<TestLan> lan_;
    pid_t porchd_ = -1;
    std::string h1_, h2_, box_, conf_, state_, log_, xdg_, bob_key_;
};

TEST_F(TransferLogTest, EachTransferAndChangeIsOneLine)
{
    ASSERT_TRUE(StartPorchd());
    std::string peer = "bob (" + lan_->address(2) + ") ";
    std::string guest = "guest (" + lan_->address(2) + ") ";

    // porch get: fetched, with the bytes
    RunResult r = Porch({"get", "--quiet", lan_->address(1) + "/Box/small.txt", h2_ + "/got"});
    ASSERT_TRUE(r.ok()) << r.describe();
    std::string line = OneLine("Box/small.txt");
    EXPECT_TRUE(EndsWith(line, peer + "fetched Box/small.txt (11 bytes)")) << ReadFile(log_);

    // OpenSSH's sftp put: uploaded; then a rename, a new folder and removals
    r = Sftp("bob", "put " + h2_ +
                            "/up.txt /Box/up.txt\nrename /Box/up.txt /Box/moved.txt\n"
                            "mkdir /Box/new\nrm /Box/moved.txt\nrmdir /Box/new\n");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(EndsWith(OneLine("Box/up.txt ("), peer + "uploaded Box/up.txt (3000 bytes)"))
            << ReadFile(log_);
    EXPECT_TRUE(EndsWith(OneLine(" renamed "), peer + "renamed Box/up.txt to Box/moved.txt"))
            << ReadFile(log_);
    EXPECT_TRUE(EndsWith(OneLine("created folder"), peer + "created folder Box/new"))
            << ReadFile(log_);
    EXPECT_TRUE(EndsWith(OneLine("removed Box/moved.txt"), peer + "removed Box/moved.txt"))
            << ReadFile(log_);
    EXPECT_TRUE(EndsWith(OneLine("removed folder"), peer + "removed folder Box/new"))
            << ReadFile(log_);

    // porch put writes a temporary file and renames it: one line, under the final name
    r = Porch({"put", "--quiet", h2_ + "/up.txt", lan_->address(1) + "/Box/put.txt"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(EndsWith(OneLine("Box/put.txt"), peer + "uploaded Box/put.txt (3000 bytes)"))
            << ReadFile(log_);
    EXPECT_TRUE(LinesWith(ReadFile(log_), ".porch-put-").empty()) << ReadFile(log_);

    // a guest, and a name from the network escaped: one line, no control character in it
    r = Porch({"get", "--quiet", lan_->address(1) + "/Box/evil\n\x1b[31mname.txt", h2_ + "/evil"},
              false);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(EndsWith(OneLine("fetched Box/evil"),
                         guest + "fetched Box/evil\\n\\x1b[31mname.txt (8 bytes)"))
            << ReadFile(log_);
    EXPECT_FALSE(Contains(ReadFile(log_), "\x1b")) << ReadFile(log_);

    // a partial read (sftp's reget resumes after what is there already)
    std::string mid = ReadFile(box_ + "/mid.bin");
    ASSERT_TRUE(WriteFile(h2_ + "/mid.bin", mid.substr(0, 600000)));
    r = Sftp("bob", "reget /Box/mid.bin " + h2_ + "/mid.bin\n");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(EndsWith(OneLine("Box/mid.bin"),
                         peer + "fetched Box/mid.bin (read 448576 of 1048576 bytes)"))
            << ReadFile(log_);
}

// 64 MiB, fetched with many reads in flight: one line.
TEST_F(TransferLogTest, ABigFetchIsOneLine)
{
    ASSERT_TRUE(StartPorchd());
    RunResult r = Porch({"get", "--quiet", lan_->address(1) + "/Box/big.bin", h2_ + "/big"});
    ASSERT_TRUE(r.ok()) << r.describe();
    ASSERT_EQ(Sha256File(h2_ + "/big"), Sha256File(box_ + "/big.bin"));
    EXPECT_TRUE(EndsWith(OneLine("big.bin"),
                         "bob (" + lan_->address(2) + ") fetched Box/big.bin (67108864 bytes)"))
            << ReadFile(log_);
}

// systemctl reload: porchd --reload waits for the verdict of the system service.
TEST_F(TransferLogTest, ReloadReportsTheVerdict)
{
    ASSERT_TRUE(StartPorchd());
    auto root = [&] {
        RunResult ls = Porch({"ls", lan_->address(1)}, false);
        return ls.ok() ? ls.out : "(ls failed: " + ls.describe() + ")";
    };
    ASSERT_EQ(root(), "Box/\n");

    // a valid edit: taken, in force when --reload returns
    ASSERT_TRUE(
            WriteFile(conf_, Config("\n[share Extra]\npath = " + h1_ + "/extra\nread = guest\n")));
    RunResult r = Reload({"--state-dir", state_});
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_TRUE(Contains(r.out, "reloaded its configuration")) << r.out;
    EXPECT_EQ(root(), "Box/\nExtra/\n");

    // a broken file: exit 1 with the loader's message; the rules before it still serve
    ASSERT_TRUE(WriteFile(conf_, Config("bogus = 1\n")));
    r = Reload({"--state-dir", state_});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "reload refused, the previous configuration stays in force: " +
                                        conf_ + ":11: [share Box] bogus: unknown key"))
            << r.err;
    EXPECT_EQ(root(), "Box/\nExtra/\n");
    r = Porch({"get", "--quiet", lan_->address(1) + "/Box/small.txt", h2_ + "/still"});
    EXPECT_TRUE(r.ok()) << r.describe();

    // fixed again: taken
    ASSERT_TRUE(WriteFile(conf_, Config("")));
    r = Reload({"--state-dir", state_, "--config", conf_});
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_EQ(root(), "Box/\n");

    // once porchd has stopped: no daemon
    EXPECT_EQ(lan_->stop(porchd_), 0);
    r = Reload({"--state-dir", state_});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no porchd is running with its state in " + state_)) << r.err;
}

// A porchd that does not answer (here a process called porchd that ignores SIGHUP): --reload
// gives up after --timeout, and says so.
TEST_F(TransferLogTest, ReloadGivesUpOnASilentPorchd)
{
    std::string dir = h1_ + "/silent", fake = dir + "/porchd";
    ASSERT_TRUE(MakeDirs(dir + "/state", 0700));
    ASSERT_TRUE(WriteFile(fake, "#!/bin/sh\ntrap '' HUP\nsleep 60\n", 0755));
    pid_t pid = lan_->spawn(1, {fake});
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(WaitFor(
            [&] { return ReadFile("/proc/" + std::to_string(pid) + "/comm") == "porchd\n"; }, 5));
    ASSERT_TRUE(WriteFile(dir + "/state/porchd.pid", std::to_string(pid) + "\n"));
    auto t0 = std::chrono::steady_clock::now();
    RunResult r = Reload({"--state-dir", dir + "/state", "--timeout", "1"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(
            Contains(r.err, "porchd (pid " + std::to_string(pid) + ") gave no verdict within 1 s"))
            << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_TRUE(lan_->running(pid));
}

// The per-user service (no launcher: porchd runs as the user and starts its sessions): the
// transfer lines reach its log, and porchd --reload finds it by the user's own state folder.
TEST_F(TransferLogTest, PerUserServiceLogsAndReloads)
{
    std::string home = h1_ + "/home", conf_dir = home + "/.config/porch";
    std::string user_log = h1_ + "/user.log";
    for (std::string p = h1_; p != "/" && p.size() > 1; p = p.substr(0, p.rfind('/')))
        chmod(p.c_str(), 0755);
    ASSERT_TRUE(MakeDirs(conf_dir));
    std::string conf = conf_dir + "/porch.conf";
    std::string text = "[porch]\nlisten = " + lan_->address(1) +
                       "\nport = 4423\n\n[share Box]\npath = " + box_ + "\nread = guest\n";
    ASSERT_TRUE(WriteFile(conf, text));
    ASSERT_TRUE(GiveToShareOwner(home));
    Owner nobody = ShareOwner();
    std::vector<std::string> as_nobody = {"setpriv",
                                          "--reuid=" + std::to_string(nobody.uid),
                                          "--regid=" + std::to_string(nobody.gid),
                                          "--clear-groups",
                                          "env",
                                          "HOME=" + home,
                                          "XDG_CONFIG_HOME=" + home + "/.config",
                                          "XDG_STATE_HOME=" + home + "/.local/state",
                                          "USER=nobody",
                                          kPorchd};
    pid_t pid = lan_->spawn(1, as_nobody, user_log);
    ASSERT_TRUE(PorchdStarted(lan_.get(), pid, user_log)) << ReadFile(user_log);

    RunResult r = Sftp("guest", "get /Box/small.txt " + h2_ + "/u.txt\n", "4423");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(EndsWith(OneLine("Box/small.txt", user_log),
                         "guest (" + lan_->address(2) + ") fetched Box/small.txt (11 bytes)"))
            << ReadFile(user_log);

    // the user's porchd --reload, with the defaults of the user's environment
    as_nobody.push_back("--reload");
    ASSERT_TRUE(WriteFile(conf, text + "hidden = maybe\n"));
    r = TestLan::run_local(as_nobody, 30);
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, conf + ":8: [share Box] hidden:")) << r.err;
    ASSERT_TRUE(WriteFile(conf, text + "hidden = yes\n"));
    r = TestLan::run_local(as_nobody, 30);
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    r = Sftp("guest", "ls /\n", "4423");
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Contains(r.out, "Box")) << r.out;
}

} // namespace
