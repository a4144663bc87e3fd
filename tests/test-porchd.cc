// test-porchd.cc — porchd as an administrator meets it: --check-config, --version, start-up
// with a bad file, and a running daemon reloading on SIGHUP and stopping on SIGTERM.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include "test-util.h"

namespace
{

constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;

struct ProcResult {
    int status = -1;
    std::string out, err;
};

ProcResult
Porchd(const std::vector<std::string> &args)
{
    std::vector<const char *> argv = {kPorchd};
    for (const std::string &a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    ProcResult r;
    g_autofree char *out = nullptr;
    g_autofree char *err = nullptr;
    g_autoptr(GError) error = nullptr;
    int wait_status = 0;
    EXPECT_TRUE(g_spawn_sync(nullptr, (char **)argv.data(), nullptr, G_SPAWN_DEFAULT, nullptr,
                             nullptr, &out, &err, &wait_status, &error))
            << (error ? error->message : "");
    r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    r.out = out ? out : "";
    r.err = err ? err : "";
    return r;
}

using porch::test::ReadFile;

// A TCP port free on 127.0.0.1 right now: porchd under test listens on loopback only.
int
FreePort()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

class PorchdTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("porchd-test-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        // porchd run as root is the system service: its network side runs as 'porch' and must
        // reach porch.conf, the state folder and the shares in this (0700) temporary folder
        ASSERT_EQ(g_chmod(dir_.c_str(), 0755), 0);
        conf_ = dir_ + "/porch.conf";
        state_ = dir_ + "/state/sub";
        log_ = dir_ + "/porchd.log";
        ASSERT_EQ(g_mkdir(ShareDir().c_str(), 0755), 0);
    }
    void TearDown() override
    {
        if (pid_ > 0) {
            // its process group: the launcher's network side, sessions and workers too (the
            // network side does not end with a launcher killed by SIGKILL)
            kill(-pid_, SIGKILL);
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    std::string ShareDir() const
    {
        return dir_ + "/Photos";
    }
    // Starts porchd with the written configuration and @session (a script) as its
    // porchd-session: porchd starts the porchd-session beside it, so a copy of porchd goes
    // beside the stand-in (and of porchd-launcher, which porchd becomes as root). ASSERTs;
    // check HasFatalFailure() after.
    void StartWithStandIn(const char *session)
    {
        std::string bin = dir_ + "/bin";
        std::string launcher = std::string(kPorchd);
        launcher = launcher.substr(0, launcher.rfind('/')) + "/porchd-launcher";
        ASSERT_EQ(g_mkdir(bin.c_str(), 0755), 0);
        ASSERT_TRUE(porch::test::WriteFile(bin + "/porchd", ReadFile(kPorchd), 0755));
        ASSERT_TRUE(porch::test::WriteFile(bin + "/porchd-session", session, 0755));
        ASSERT_TRUE(porch::test::WriteFile(bin + "/porchd-launcher", ReadFile(launcher), 0755));
        pid_ = fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            setpgid(0, 0);
            FILE *f = freopen(log_.c_str(), "w", stderr);
            (void)f;
            std::string porchd = bin + "/porchd";
            execl(porchd.c_str(), porchd.c_str(), "--config", conf_.c_str(), "--state-dir",
                  state_.c_str(), (char *)nullptr);
            _exit(127);
        }
        setpgid(pid_, pid_);
        ASSERT_TRUE(WaitForLog("running")) << ReadFile(log_);
    }
    // The [porch] section: loopback and a free port.
    std::string Porch(const std::string &extra = "")
    {
        if (port_ == 0)
            port_ = FreePort();
        return "[porch]\nlisten = 127.0.0.1\nport = " + std::to_string(port_) + "\n" + extra;
    }
    void Write(const std::string &text)
    {
        ASSERT_TRUE(g_file_set_contents(conf_.c_str(), text.c_str(), -1, nullptr));
    }
    // Starts porchd in the background, its stderr (GLib's log) going to log_; with LC_ALL set
    // to @lc_all when it is not null.
    void Start(const char *lc_all = nullptr)
    {
        pid_ = fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            setpgid(0, 0);
            if (lc_all != nullptr)
                setenv("LC_ALL", lc_all, 1);
            FILE *f = freopen(log_.c_str(), "w", stderr);
            (void)f;
            execl(kPorchd, kPorchd, "--config", conf_.c_str(), "--state-dir", state_.c_str(),
                  (char *)nullptr);
            _exit(127);
        }
        setpgid(pid_, pid_);
    }
    // Waits up to 10 s for the log to contain `text` `count` times.
    bool WaitForLog(const std::string &text, int count = 1)
    {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            std::string log = ReadFile(log_);
            int n = 0;
            for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
                n++;
            if (n >= count)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    // Sends SIGTERM and returns the exit status, -1 if it did not exit within 10 s.
    int Stop()
    {
        kill(pid_, SIGTERM);
        for (int i = 0; i < 500; i++) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }
    bool Alive()
    {
        return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0;
    }

    std::string dir_, conf_, state_, log_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// A connection to porchd on 127.0.0.1:port; -1 on failure.
int
Connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

// Everything the peer sends until it closes the connection (or 10 s pass).
std::string
ReadAll(int fd)
{
    std::string s;
    char buf[512];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        s.append(buf, (size_t)n);
    return s;
}

// A stand-in for porchd-session, for porchd to start beside a copy of itself: it reads a
// word from the client, sends porchd what that word names on the control socket (fd 4),
// tells the client each answer, and waits for the client to hang up.
constexpr const char *kFakeSession = R"(#!/usr/bin/perl
use strict;
use warnings;
use IO::Handle;
use IO::Select;
alarm(20);
open(my $in, '<&=', 3) or die "fd 3: $!";
open(my $conn, '>&=', 3) or die "fd 3: $!";
open(my $ctl, '+<&=', 4) or die "fd 4: $!";
$conn->autoflush(1);
$in->blocking(1); # porchd's sockets are non-blocking, and so is the copy it hands on
my $kind = <$in> // '';
$kind =~ s/\s+$//;
my %messages = (
    guest   => ['login guest'],
    twice   => ['login guest', 'login guest'],
    huge    => ['login guest' . ('x' x 5000)],
    unknown => ['hello porchd'],
    badname => ["login peer b\x1b[2Jb"],
    # a sender that asks for the inbox's files while its offer still waits for the owner
    offerpeek => ['login guest', 'offer ' . ('ab' x 32) . ' 1 10 Drop', 'files Drop'],
);
for my $m (@{$messages{$kind} // []}) {
    send($ctl, $m, 0);
    my $answer = 'timeout';
    if (IO::Select->new($ctl)->can_read(3)) {
        my $buf = '';
        recv($ctl, $buf, 1000, 0);
        $answer = length($buf) ? $buf : 'EOF';
    }
    print $conn "answer: $answer\n";
}
print $conn "done\n";
my $rest = <$in>;
)";

TEST_F(PorchdTest, CheckConfigPrintsOkForAGoodFile)
{
    Write("[porch]\nname = Test\n[share Photos]\npath = " + ShareDir() + "\nread = guest\n");
    ProcResult r = Porchd({"--check-config", "--config", conf_});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "OK\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(PorchdTest, CheckConfigPrintsTheErrorAndFails)
{
    Write("[porch]\n\n[share Photos]\npath = " + ShareDir() + "\nread = bob\n");
    ProcResult r = Porchd({"--check-config", "--config", conf_});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, conf_ + ":5: [share Photos] read: peer 'bob' is not defined (no [peer bob] "
                             "section)\n");
}

TEST_F(PorchdTest, CheckConfigOfAMissingFileFails)
{
    ProcResult r = Porchd({"--check-config", "--config", dir_ + "/nope.conf"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(dir_ + "/nope.conf"), std::string::npos) << r.err;
}

TEST(Porchd, VersionAndBadUsage)
{
    ProcResult v = Porchd({"--version"});
    EXPECT_EQ(v.status, 0);
    EXPECT_EQ(v.out, std::string("porchd ") + PORCH_VERSION + "\n");
    ProcResult bad = Porchd({"--no-such-option"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--no-such-option"), std::string::npos);
    ProcResult extra = Porchd({"serve"});
    EXPECT_EQ(extra.status, 2);
    EXPECT_NE(extra.err.find("'serve'"), std::string::npos);
}

TEST_F(PorchdTest, StartWithABadFileFailsWithTheReason)
{
    Write(Porch() + "[share Photos]\npath = " + dir_ + "/missing\nread = bob\n");
    Start();
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    EXPECT_NE(ReadFile(log_).find("[share Photos] read: peer 'bob' is not defined"),
              std::string::npos)
            << ReadFile(log_);
}

// porchd follows the locale of its environment: its log is in the locale's character set
// (GLib's log handler writes "?" for what the C locale's ASCII cannot show).
TEST_F(PorchdTest, LogsInTheCharacterSetOfItsLocale)
{
    Write(Porch("name = Café\n") + "[share Photos]\npath = " + ShareDir() + "\nread = guest\n");
    Start("C.UTF-8");
    ASSERT_TRUE(WaitForLog("running")) << ReadFile(log_);
    EXPECT_NE(ReadFile(log_).find("name \"Café\""), std::string::npos) << ReadFile(log_);
    EXPECT_EQ(Stop(), 0);

    ASSERT_EQ(unlink(log_.c_str()), 0) << "the next log only";
    Start("C");
    ASSERT_TRUE(WaitForLog("running")) << ReadFile(log_);
    EXPECT_EQ(ReadFile(log_).find("Café"), std::string::npos) << ReadFile(log_);
    EXPECT_NE(ReadFile(log_).find("name \"Caf"), std::string::npos) << ReadFile(log_);
    EXPECT_EQ(Stop(), 0);
}

TEST_F(PorchdTest, RunsCreatesItsStateDirAndHostKeyAndStopsOnSigterm)
{
    Write(Porch() + "[share Photos]\npath = " + ShareDir() + "\nread = guest\n");
    Start();
    ASSERT_TRUE(WaitForLog("running")) << ReadFile(log_);
    struct stat st;
    ASSERT_EQ(stat(state_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u) << "the state dir holds the host key";
    std::string key = state_ + "/ssh_host_ed25519_key";
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(ReadFile(key).find("BEGIN OPENSSH PRIVATE KEY"), std::string::npos);

    // The fingerprint it logs is the key's, as ssh-keygen computes it.
    g_autofree char *out = nullptr;
    std::string cmd = "ssh-keygen -lf " + key;
    ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, nullptr, nullptr));
    std::string fp = std::string(out).substr(std::string(out).find("SHA256:"));
    fp = fp.substr(0, fp.find(' '));
    EXPECT_NE(ReadFile(log_).find("host key " + fp), std::string::npos) << ReadFile(log_);
    EXPECT_EQ(Stop(), 0);
    EXPECT_NE(ReadFile(log_).find("stopping"), std::string::npos);
}

TEST_F(PorchdTest, SighupAppliesAGoodFileAndRefusesABadOne)
{
    Write(Porch() + "[share Photos]\npath = " + ShareDir() + "\nread = guest\n");
    Start();
    ASSERT_TRUE(WaitForLog("running")) << ReadFile(log_);
    ASSERT_TRUE(WaitForLog(", 1 shares"));

    // A good change is applied.
    Write(Porch() + "[share Photos]\npath = " + ShareDir() + "\n[share Tmp]\npath = " + dir_ +
          "\n");
    kill(pid_, SIGHUP);
    ASSERT_TRUE(WaitForLog(", 2 shares")) << ReadFile(log_);

    // A bad one is refused with the reason, and the daemon goes on.
    Write(Porch() + "max-sessions = lots\n");
    kill(pid_, SIGHUP);
    ASSERT_TRUE(WaitForLog("reload refused")) << ReadFile(log_);
    EXPECT_NE(ReadFile(log_).find(conf_ + ":4: [porch] max-sessions: 'lots' is not a number"),
              std::string::npos)
            << ReadFile(log_);
    EXPECT_TRUE(Alive());

    // Mended, it is applied again.
    Write(Porch());
    kill(pid_, SIGHUP);
    ASSERT_TRUE(WaitForLog(", 0 shares")) << ReadFile(log_);
    EXPECT_EQ(Stop(), 0);
}

TEST_F(PorchdTest, AnAddressInUseIsAClearStartError)
{
    int port = FreePort();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(fd, 1), 0);
    port_ = port;
    Write(Porch());
    Start();
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    close(fd);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    EXPECT_NE(ReadFile(log_).find("cannot listen: [127.0.0.1]:" + std::to_string(port)),
              std::string::npos)
            << ReadFile(log_);
}

// porchd counts sessions by what they say on their control socket: one that says anything
// else is logged and ended, and porchd goes on counting right.
TEST_F(PorchdTest, ASessionThatWritesGarbageOnItsControlSocketIsEnded)
{
    Write(Porch("max-sessions = 2\n") + "[share Photos]\npath = " + ShareDir() +
          "\nread = guest\n");
    StartWithStandIn(kFakeSession);
    if (HasFatalFailure())
        return;

    int n = 0;
    for (const char *kind : {"huge", "unknown", "badname", "twice"}) {
        int fd = Connect(port_);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, kind, strlen(kind)), (ssize_t)strlen(kind));
        ASSERT_EQ(write(fd, "\n", 1), 1);
        // the stand-in waits for us to hang up: only porchd's SIGTERM ends it this soon
        gint64 start = g_get_monotonic_time();
        std::string said = ReadAll(fd);
        close(fd);
        EXPECT_LT(g_get_monotonic_time() - start, 5 * G_USEC_PER_SEC) << kind << ": not ended";
        if (std::string(kind) == "twice")
            EXPECT_EQ(said.rfind("answer: ok\n", 0), 0u) << said;
        else
            EXPECT_FALSE(porch::test::Contains(said, "answer: ok")) << kind << ": " << said;
        EXPECT_TRUE(WaitForLog("unexpected message on its control socket", ++n)) << kind << "\n"
                                                                                 << ReadFile(log_);
        EXPECT_TRUE(Alive());
    }
    EXPECT_EQ(ReadFile(log_).find("\x1b"), std::string::npos) << "a session's bytes in the log";

    // the counts are right: max-sessions 2, so one guest at a time
    int first = Connect(port_), second = Connect(port_);
    ASSERT_TRUE(first >= 0 && second >= 0);
    ASSERT_EQ(write(first, "guest\n", 6), 6);
    std::string ok;
    for (char c; ok.find("done\n") == std::string::npos && read(first, &c, 1) == 1;)
        ok += c;
    EXPECT_EQ(ok, "answer: ok\ndone\n");
    ASSERT_EQ(write(second, "guest\n", 6), 6);
    std::string refused;
    for (char c; refused.find("done\n") == std::string::npos && read(second, &c, 1) == 1;)
        refused += c;
    EXPECT_EQ(refused, "answer: refused Porch: too many guests are logged in; try again later\n"
                       "done\n");
    close(first);
    close(second);
    EXPECT_EQ(Stop(), 0);
    if (HasFailure())
        std::cerr << ReadFile(log_);
}

// A session is given an inbox's file worker only for an offer the owner accepted: one whose
// offer still waits is told there is no such share, and no worker is started for it.
TEST_F(PorchdTest, NoInboxWorkerWhileTheSessionsOfferWaits)
{
    std::string drop = dir_ + "/Drop";
    ASSERT_EQ(g_mkdir(drop.c_str(), 0755), 0);
    Write(Porch() + "[inbox Drop]\npath = " + drop + "\nask = guest\n");
    StartWithStandIn(kFakeSession);
    if (HasFatalFailure())
        return;

    int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "offerpeek\n", 10), 10);
    std::string said;
    for (char c; said.find("done\n") == std::string::npos && read(fd, &c, 1) == 1;)
        said += c;
    close(fd);
    EXPECT_TRUE(porch::test::Contains(said, "answer: ok\nanswer: wait 1 ")) << said;
    EXPECT_TRUE(porch::test::Contains(said, " Drop\nanswer: refused no such share\ndone\n"))
            << said;
    EXPECT_TRUE(WaitForLog("offer 1 waits for")) << ReadFile(log_);
    // the launcher logs each worker it starts (without root there is no launcher, and the
    // refusal above is what shows no worker was given)
    if (geteuid() == 0) {
        EXPECT_FALSE(porch::test::Contains(ReadFile(log_), "share Drop: file worker"))
                << ReadFile(log_);
    }
    EXPECT_EQ(Stop(), 0);
    if (HasFailure())
        std::cerr << ReadFile(log_);
}

} // namespace
