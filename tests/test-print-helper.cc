// test-print-helper.cc — porchd-print (daemon/print-main.c), the process that runs a session's
// exec command, driven here as porchd's network side starts it: its connection on fd 3, the
// peer the session logged in as on its command line, and this process in the session's place
// (daemon/print-relay.h). The commands that need no cupsd; test-print.cc prints through it.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>
#include <string>
#include <vector>

#include <gio/gio.h>

#include "test-util.h"

extern "C" {
#include "porch-identity.h"
#include "print-relay.h"
}

namespace fs = std::filesystem;
using porch::test::Contains;
using porch::test::MakeDirs;
using porch::test::WriteFile;

namespace
{

struct Result {
    int exit_status = -1;
    std::vector<std::string> packets; // as porchd-print sent them, type byte first
    std::string Out(char type) const
    {
        std::string all;
        for (const std::string &p : packets)
            if (!p.empty() && p[0] == type)
                all += p.substr(1);
        return all;
    }
    std::string Describe() const
    {
        std::string d = "exit " + std::to_string(exit_status) + ";";
        for (const std::string &p : packets)
            d += " [" + p + "]";
        return d;
    }
};

class PrintHelper : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *base = g_dir_make_tmp("porch-print-helper-XXXXXX", nullptr);
        ASSERT_NE(base, nullptr) << "$TMPDIR must be writable";
        base_ = base;
        ASSERT_TRUE(MakeDirs(base_ + "/state", 0700));
        ASSERT_TRUE(MakeDirs(base_ + "/docs"));
        std::string conf = "[porch]\nname = Helper test\n\n";
        for (const char *name : {"alice", "bob"}) {
            g_autoptr(GError) error = nullptr;
            ssh_key k = porch_identity_load_or_create((base_ + "/" + name).c_str(), &error);
            ASSERT_NE(k, nullptr) << error->message;
            g_autofree char *line = porch_key_public_line(k, name);
            g_autofree char *fp = porch_key_fingerprint(k);
            fingerprint_[name] = fp;
            conf += std::string("[peer ") + name + "]\nkey = " + line + "\n\n";
            ssh_key_free(k);
        }
        conf += "[share Docs]\npath = " + base_ +
                "/docs\nread = alice\n\n"
                "[printer Office]\nprint = alice\n";
        ASSERT_TRUE(WriteFile(base_ + "/running.conf", conf));
    }
    void TearDown() override
    {
        std::error_code ec;
        fs::remove_all(base_, ec);
    }

    // Runs porchd-print for `peer` ("" for a guest), sends it `packets` and reads what it
    // says until its exit status, or until it closes its end.
    Result Run(const std::string &peer, const std::vector<std::string> &packets,
               int read_after_ms = 0)
    {
        Result res;
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            return res;
        std::vector<const char *> argv = {PORCH_PROGRAM_PORCHD_PRINT,
                                          "--config",
                                          nullptr,
                                          "--state-dir",
                                          nullptr,
                                          "--address",
                                          "10.0.0.5"};
        std::string config = base_ + "/running.conf", state = base_ + "/state";
        argv[2] = config.c_str();
        argv[4] = state.c_str();
        if (!peer.empty()) {
            argv.push_back("--peer");
            argv.push_back(peer.c_str());
        }
        argv.push_back(nullptr);
        g_autoptr(GSubprocessLauncher) launcher =
                g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        g_subprocess_launcher_take_fd(launcher, pair[1], PORCH_PRINT_RELAY_FD);
        g_autoptr(GError) error = nullptr;
        g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv(launcher, argv.data(), &error);
        EXPECT_NE(proc, nullptr) << (error ? error->message : "");
        g_clear_object(&launcher); // it holds the child's end until it goes
        if (proc == nullptr) {
            close(pair[0]);
            return res;
        }
        for (const std::string &p : packets)
            if (send(pair[0], p.data(), p.size(), MSG_NOSIGNAL) != ssize_t(p.size()))
                break;
        std::this_thread::sleep_for(std::chrono::milliseconds(read_after_ms));
        for (;;) {
            struct pollfd pfd = {pair[0], POLLIN, 0};
            if (poll(&pfd, 1, 10000) <= 0)
                break;
            std::string buf(1 + PORCH_PRINT_RELAY_MAX, '\0');
            ssize_t n = recv(pair[0], buf.data(), buf.size(), 0);
            if (n <= 0)
                break;
            res.packets.push_back(buf.substr(0, size_t(n)));
            if (buf[0] == PORCH_PRINT_RELAY_EXIT)
                break; // the last; the session closes its end then, and porchd-print ends
        }
        close(pair[0]);
        if (g_subprocess_wait(proc, nullptr, nullptr) && g_subprocess_get_if_exited(proc))
            res.exit_status = g_subprocess_get_exit_status(proc);
        return res;
    }
    std::string Command(const std::string &key, const std::string &line)
    {
        return "c" + (key.empty() ? "" : fingerprint_[key]) + "\n" + line;
    }

    std::string base_;
    std::map<std::string, std::string> fingerprint_;
};

TEST_F(PrintHelper, StatusShowsWhatTheLoggedInPeerMayUse)
{
    Result r = Run("alice", {Command("alice", "status"), "e"});
    EXPECT_EQ(r.exit_status, 0) << r.Describe();
    EXPECT_TRUE(Contains(r.Out('o'), "name\tHelper test\n")) << r.Describe();
    EXPECT_TRUE(Contains(r.Out('o'), "share\tDocs\n")) << r.Describe();
    EXPECT_TRUE(Contains(r.Out('o'), "printer\tOffice\n")) << r.Describe();
    ASSERT_FALSE(r.packets.empty());
    EXPECT_EQ(r.packets.back(), "x0") << "the exit status comes last";
}

// status reads no stdin: the 'e' stays unread. A socket closed with packets unread resets
// its other end, whose recv() then fails before the packets still waiting for it (Linux), so
// porchd-print must not close before the session read its answer and closed first.
TEST_F(PrintHelper, TheAnswerWaitsForASessionSlowToReadIt)
{
    Result r = Run("alice", {Command("alice", "status"), "dunread input", "e"}, 500);
    EXPECT_TRUE(Contains(r.Out('o'), "name\tHelper test\n")) << r.Describe();
    ASSERT_FALSE(r.packets.empty());
    EXPECT_EQ(r.packets.back(), "x0") << r.Describe();
}

TEST_F(PrintHelper, RefusalIsAnsweredOnStderrWithItsStatus)
{
    // bob may not print on Office: refused before CUPS is asked (there is none here)
    Result r = Run("bob", {Command("bob", "print Office"), "d%!PS\n", "e"});
    EXPECT_EQ(r.exit_status, 0) << r.Describe();
    EXPECT_EQ(r.Out('r'), "not allowed to print on Office\n") << r.Describe();
    ASSERT_FALSE(r.packets.empty());
    EXPECT_EQ(r.packets.back(), "x77") << r.Describe(); // EX_NOPERM
    EXPECT_EQ(r.Out('o'), "");
}

TEST_F(PrintHelper, AnOverlongCommandIsRefusedAsTooLong)
{
    // the session cuts a command to 4097 bytes; that is still too long
    Result r = Run("alice", {Command("alice", "jobs " + std::string(4092, 'x')), "e"});
    EXPECT_TRUE(Contains(r.Out('r'), "longer than 4096 bytes")) << r.Describe();
    ASSERT_FALSE(r.packets.empty());
    EXPECT_EQ(r.packets.back(), "x64") << r.Describe(); // EX_USAGE
}

TEST_F(PrintHelper, ASessionCannotActAsAnotherPeer)
{
    // logged in as alice (the network side says so), the session names bob's key
    Result r = Run("alice", {Command("bob", "jobs"), "e"});
    EXPECT_EQ(r.exit_status, 1) << r.Describe();
    EXPECT_TRUE(r.packets.empty()) << r.Describe();
    // a guest names a key
    r = Run("", {Command("alice", "jobs"), "e"});
    EXPECT_EQ(r.exit_status, 1) << r.Describe();
    EXPECT_TRUE(r.packets.empty()) << r.Describe();
    // a peer's session names none
    r = Run("alice", {Command("", "status"), "e"});
    EXPECT_EQ(r.exit_status, 1) << r.Describe();
    EXPECT_TRUE(r.packets.empty()) << r.Describe();
}

TEST_F(PrintHelper, AGuestSeesWhatGuestsMay)
{
    Result r = Run("", {Command("", "status"), "e"});
    EXPECT_EQ(r.exit_status, 0) << r.Describe();
    EXPECT_TRUE(Contains(r.Out('o'), "name\tHelper test\n")) << r.Describe();
    EXPECT_FALSE(Contains(r.Out('o'), "Docs")) << r.Describe();
    EXPECT_FALSE(Contains(r.Out('o'), "Office")) << r.Describe();
}

TEST_F(PrintHelper, NoCommandFirstEndsIt)
{
    Result r = Run("alice", {"d%!PS\n"});
    EXPECT_EQ(r.exit_status, 1) << r.Describe();
    EXPECT_TRUE(r.packets.empty()) << r.Describe();
}

} // namespace
