// test-sftp-limits.cc — porchd's SFTP server against a hostile client on the test LAN: what
// a logged-in neighbour (a guest, here) can make a session hold or do. Requests over
// max-packet-size, unknown and malformed requests, idle sessions, max-handles, holes far past
// a file's end, links that lead outside, hidden shares in "/", client text in log lines, and
// the ownership of what a client creates. The client is tests/raw-sftp.h, on host 2.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "raw-sftp.h"
#include "test-util.h"
#include "testlan.h"

namespace
{

using porch::test::FX_BAD_MESSAGE;
using porch::test::FX_FAILURE;
using porch::test::FX_NO_SUCH_FILE;
using porch::test::FX_OK;
using porch::test::FX_OP_UNSUPPORTED;
using porch::test::FX_PERMISSION_DENIED;
using porch::test::FXF_CREAT;
using porch::test::FXF_READ;
using porch::test::FXF_WRITE;
using porch::test::Packet;
using porch::test::ProcStatusKiB;
using porch::test::RawSftp;
using porch::test::ReadFile;

constexpr int kPort = 4422;

// A prefix for porchd's command line where a test measures what a session holds. Under ASan,
// freed memory waits in a quarantine (up to 256 MiB) before it is used again: a session that
// frees what each incoming packet took would grow by that much (320 MiB for a 96 MiB request)
// however little it holds at once. Without the quarantine, ASan still checks every access.
std::vector<std::string>
WithoutAsanQuarantine()
{
#if defined(__SANITIZE_ADDRESS__)
    const char *now = getenv("ASAN_OPTIONS");
    std::string options = now != nullptr && *now != '\0' ? std::string(now) + ":" : "";
    return {"env", "ASAN_OPTIONS=" + options + "quarantine_size_mb=0"};
#else
    return {};
#endif
}

class SftpLimits : public ::testing::Test
{
  protected:
    // Host 1: porchd sharing Files (read guest), Drop (write guest) and Secret (read guest,
    // hidden), with `extra` in [porch]; optionally under strace. Host 2: the client.
    void Start(const std::string &extra = "", const std::vector<std::string> &wrap = {})
    {
        lan_ = porch::test::TestLan::Create(2, &why_, &may_skip_);
        if (!lan_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_;
            GTEST_FAIL() << "test LAN unavailable: " << why_;
        }
        dir_ = lan_->host_dir(1);
        for (const char *d : {"/files/sub", "/drop", "/secret", "/state"})
            ASSERT_EQ(g_mkdir_with_parents((dir_ + d).c_str(), 0755), 0);
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/files/big.bin", std::string(100000, 'x')));
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/files/sub/inside.txt", "inside\n"));
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/secret/s.txt", "hidden but readable\n"));
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/outside.txt", "TOP SECRET\n"));
        // links the share's owner made: down, up inside, up and out, absolute in and out
        ASSERT_EQ(symlink("inside.txt", (dir_ + "/files/sub/down").c_str()), 0);
        ASSERT_EQ(symlink("../big.bin", (dir_ + "/files/sub/up").c_str()), 0);
        ASSERT_EQ(symlink("../../outside.txt", (dir_ + "/files/sub/out").c_str()), 0);
        ASSERT_EQ(symlink((dir_ + "/files/big.bin").c_str(), (dir_ + "/files/abs-in").c_str()), 0);
        ASSERT_EQ(symlink((dir_ + "/outside.txt").c_str(), (dir_ + "/files/abs-out").c_str()), 0);
        // porchd serves a share as its folder's owner, and root's folders as 'porch', who may
        // write nothing in them: Drop, where guests write, is an unprivileged user's
        ASSERT_TRUE(porch::test::GiveToShareOwner(dir_ + "/drop"));
        std::string conf = "[porch]\nlisten = " + lan_->address(1) +
                           "\nport = " + std::to_string(kPort) + "\n" + extra +
                           "\n[share Files]\npath = " + dir_ +
                           "/files\nread = guest\n[share Drop]\npath = " + dir_ +
                           "/drop\nwrite = guest\n[share Secret]\npath = " + dir_ +
                           "/secret\nread = guest\nhidden = true\n";
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/porch.conf", conf));
        log_ = dir_ + "/porchd.log";
        std::vector<std::string> argv = wrap;
        for (const std::string &a :
             {std::string(PORCH_PROGRAM_PORCHD), std::string("--config"), dir_ + "/porch.conf",
              std::string("--state-dir"), dir_ + "/state"})
            argv.push_back(a);
        porchd_ = lan_->spawn(1, argv, log_);
        ASSERT_GT(porchd_, 0);
        ASSERT_TRUE(porch::test::WaitFor([&] { return Log().find("running") != std::string::npos; },
                                         10))
                << Log();
    }
    void TearDown() override
    {
        if (HasFailure() && lan_)
            std::cerr << "---- porchd's log ----\n" << Log();
    }
    std::string Log()
    {
        return ReadFile(log_);
    }
    // porchd_ is the launcher (root); its child, the network side (as 'porch'), starts the
    // sessions: these are its children. -1 / none when there is no network side.
    pid_t NetworkSide()
    {
        return porch::test::NetworkSide(porchd_);
    }
    std::vector<pid_t> Sessions()
    {
        pid_t network = NetworkSide();
        return network > 0 ? porch::test::ChildProcesses(network) : std::vector<pid_t>();
    }
    // Runs fn with a guest client on host 2.
    void OnClient(const std::function<void(RawSftp &)> &fn)
    {
        std::string address = lan_->address(1);
        ASSERT_TRUE(lan_->in_netns(2, [&] {
            RawSftp c;
            std::string err = c.Connect(address, kPort);
            if (!err.empty()) {
                ADD_FAILURE() << err;
                return;
            }
            fn(c);
        }));
    }
    // The names a listing of `path` shows.
    static std::set<std::string> List(RawSftp &c, const std::string &path)
    {
        std::set<std::string> names;
        Packet h = c.Request(porch::test::FXP_OPENDIR, Packet().str(path));
        EXPECT_EQ(h.type, porch::test::FXP_HANDLE) << path;
        std::string handle = h.get_str();
        for (;;) {
            Packet n = c.Request(porch::test::FXP_READDIR, Packet().str(handle));
            if (n.type != porch::test::FXP_NAME)
                break;
            for (uint32_t count = n.get_u32(); count > 0; count--) {
                names.insert(n.get_str());
                n.get_str(); // long name
                uint32_t flags = n.get_u32();
                n.at += (flags & 1 ? 8 : 0) + (flags & 2 ? 8 : 0) + (flags & 4 ? 4 : 0) +
                        (flags & 8 ? 8 : 0);
            }
        }
        c.Close(handle);
        return names;
    }

    std::unique_ptr<porch::test::TestLan> lan_;
    std::string why_, dir_, log_;
    bool may_skip_ = false;
    pid_t porchd_ = -1;
};

// A request longer than max-packet-size is answered with FAILURE as soon as its header is in,
// and its bytes are skipped as they come: the session never holds it (libssh's own server
// buffered up to 256 MiB per request), and the next request is served.
TEST_F(SftpLimits, ARequestOverMaxPacketSizeIsRefusedUnbufferedAndTheSessionGoesOn)
{
    Start("max-packet-size = 64K\n", WithoutAsanQuarantine());
    const size_t big = 96u << 20;
    OnClient([&](RawSftp &c) {
        Packet h = c.Open("/Drop/big.bin", FXF_READ | FXF_WRITE | FXF_CREAT);
        ASSERT_EQ(h.type, porch::test::FXP_HANDLE);
        std::string handle = h.get_str();

        // at the limit: served
        // the length field counts the type, the id, the handle, the offset and the data
        std::string fits(65536 - 1 - 4 - (4 + handle.size()) - 8 - 4, 'a');
        EXPECT_EQ(RawSftp::Status(c.Write(handle, 0, fits)), FX_OK);

        // one byte more: refused, with the request's own id
        std::string over(fits.size() + 1, 'b');
        EXPECT_EQ(RawSftp::Status(c.Write(handle, 0, over)), FX_FAILURE);

        // 96 MiB in one WRITE, sent a MiB at a time
        std::vector<pid_t> sessions = Sessions();
        ASSERT_EQ(sessions.size(), 1u);
        long before = ProcStatusKiB(sessions[0], "VmHWM");
        uint32_t id = c.next_id();
        Packet head;
        head.u32((uint32_t)(1 + 4 + 4 + handle.size() + 8 + 4 + big)).u8(porch::test::FXP_WRITE);
        head.u32(id).str(handle).u64(0).u32((uint32_t)big);
        ASSERT_TRUE(c.SendRaw(head.body));
        std::string mib(1 << 20, 'z');
        for (size_t sent = 0; sent < big; sent += mib.size())
            ASSERT_TRUE(c.SendRaw(mib));
        Packet r = c.Receive();
        ASSERT_EQ(r.type, porch::test::FXP_STATUS);
        EXPECT_EQ(r.get_u32(), id);
        EXPECT_EQ(r.get_u32(), FX_FAILURE);
        EXPECT_NE(r.get_str().find("at most 65536"), std::string::npos);

        long after = ProcStatusKiB(sessions[0], "VmHWM");
        std::cout << "the session's peak RSS grew by " << after - before << " KiB for a "
                  << (big >> 20) << " MiB request\n";
        EXPECT_GT(before, 0);
        EXPECT_LT(after - before, 16 * 1024)
                << "the session's peak RSS grew by that many KiB: the request was buffered";

        // the session goes on, and the file holds only what was accepted
        Packet d = c.Read(handle, 0, 10);
        ASSERT_EQ(d.type, porch::test::FXP_DATA);
        EXPECT_EQ(d.get_str(), "aaaaaaaaaa");
        EXPECT_EQ(RawSftp::Status(c.Close(handle)), FX_OK);
    });
    EXPECT_EQ(ReadFile(dir_ + "/drop/big.bin").size(), 65536 - 1 - 4 - 8 - 8 - 4u);
    EXPECT_NE(Log().find("more than max-packet-size"), std::string::npos);
}

// Unknown request types, malformed requests and paths holding a NUL byte get their status;
// the session is not ended (libssh's parser ended it on each).
TEST_F(SftpLimits, UnknownAndMalformedRequestsAreAnsweredAndTheSessionGoesOn)
{
    Start();
    OnClient([&](RawSftp &c) {
        EXPECT_EQ(RawSftp::Status(c.Request(99, Packet().str("whatever"))), FX_OP_UNSUPPORTED);
        EXPECT_EQ(RawSftp::Status(c.Request(21, Packet().str("/Drop/a").str("/Drop/b").u8(1))),
                  FX_OP_UNSUPPORTED)
                << "SSH_FXP_LINK of later drafts is not SFTP v3";
        EXPECT_EQ(RawSftp::Status(c.Request(porch::test::FXP_OPEN, Packet().str("/Files/big"))),
                  FX_BAD_MESSAGE)
                << "an OPEN cut short after its path";
        EXPECT_EQ(
                RawSftp::Status(c.Request(porch::test::FXP_OPEN, Packet().u32(1000).str("/Files"))),
                FX_BAD_MESSAGE)
                << "a string longer than the packet";
        EXPECT_EQ(RawSftp::Status(c.Open(std::string("/Files/big.bin\0.txt", 18), FXF_READ)),
                  FX_BAD_MESSAGE)
                << "a NUL in a path is not cut off: the path is refused";
        EXPECT_EQ(RawSftp::Status(c.Request(porch::test::FXP_SETSTAT,
                                            Packet().str("/Drop/x").u32(0x80000000).u32(1u << 30))),
                  FX_BAD_MESSAGE)
                << "more extended attributes than the packet holds";
        Packet h = c.Open("/Files/big.bin", FXF_READ);
        ASSERT_EQ(h.type, porch::test::FXP_HANDLE) << "the session still serves";
        EXPECT_EQ(c.Read(h.get_str(), 0, 3).get_str(), "xxx");
    });
}

// A session that sends nothing for idle-timeout is closed; one that keeps asking is not.
TEST_F(SftpLimits, IdleSessionsAreClosedAndBusyOnesAreNot)
{
    Start("idle-timeout = 2s\n");
    OnClient([&](RawSftp &c) {
        for (int i = 0; i < 5; i++) {
            g_usleep(800 * 1000);
            EXPECT_EQ(c.Request(porch::test::FXP_REALPATH, Packet().str("/Files")).type,
                      porch::test::FXP_NAME)
                    << "a session asking every 0.8 s is busy, after " << i << " requests";
        }
        g_usleep(3500 * 1000);
        EXPECT_EQ(c.Receive(1000).type, 0);
        EXPECT_FALSE(c.open()) << "an idle session was kept";
    });
    EXPECT_NE(Log().find("idle for 2 s; disconnecting"), std::string::npos);
    ASSERT_GT(NetworkSide(), 0) << "porchd's network side is gone";
    EXPECT_TRUE(porch::test::WaitFor([&] { return Sessions().empty(); }, 5))
            << "the session process did not end";
    EXPECT_GT(NetworkSide(), 0) << "porchd's network side is gone";
}

TEST_F(SftpLimits, HandlesAndPacketsFollowTheConfiguredLimits)
{
    Start("max-handles = 8\nmax-packet-size = 128K\n");
    OnClient([&](RawSftp &c) {
        Packet l = c.Extended("limits@openssh.com", Packet());
        ASSERT_EQ(l.type, porch::test::FXP_EXTENDED_REPLY);
        EXPECT_EQ(l.get_u64(), 128u * 1024) << "max packet";
        EXPECT_EQ(l.get_u64(), 127u * 1024) << "max read";
        EXPECT_EQ(l.get_u64(), 127u * 1024) << "max write";
        EXPECT_EQ(l.get_u64(), 8u) << "max open handles";
        for (int i = 0; i < 8; i++)
            ASSERT_EQ(c.Open("/Files/big.bin", FXF_READ).type, porch::test::FXP_HANDLE) << i;
        EXPECT_EQ(RawSftp::Status(c.Open("/Files/big.bin", FXF_READ)), FX_FAILURE);
    });
}

// One SETSTAT, or one WRITE far past the end, would make a file of terabytes that holds
// nothing (a hole): growth is bounded by the free space, as writing the bytes would be.
TEST_F(SftpLimits, AFileCannotGrowByMoreThanTheFreeSpace)
{
    Start();
    const uint64_t huge = 8ull << 40; // 8 TiB
    OnClient([&](RawSftp &c) {
        Packet h = c.Open("/Drop/sparse.bin", FXF_WRITE | FXF_CREAT);
        ASSERT_EQ(h.type, porch::test::FXP_HANDLE);
        std::string handle = h.get_str();
        EXPECT_EQ(RawSftp::Status(c.Write(handle, 0, "start")), FX_OK);
        EXPECT_EQ(RawSftp::Status(c.Request(porch::test::FXP_SETSTAT,
                                            Packet().str("/Drop/sparse.bin").u32(1).u64(huge))),
                  FX_FAILURE)
                << "SETSTAT to 8 TiB";
        EXPECT_EQ(RawSftp::Status(
                          c.Request(10 /* FSETSTAT */, Packet().str(handle).u32(1).u64(huge))),
                  FX_FAILURE)
                << "FSETSTAT to 8 TiB";
        EXPECT_EQ(RawSftp::Status(c.Write(handle, huge, "end")), FX_FAILURE) << "a WRITE at 8 TiB";
        EXPECT_EQ(RawSftp::Status(c.Write(handle, UINT64_MAX - 1, "end")), FX_FAILURE)
                << "a WRITE past any offset";
        EXPECT_EQ(RawSftp::Status(c.Request(porch::test::FXP_SETSTAT,
                                            Packet().str("/Drop/sparse.bin").u32(1).u64(1 << 20))),
                  FX_OK)
                << "growing by a MiB is fine";
        EXPECT_EQ(RawSftp::Status(c.Close(handle)), FX_OK);
    });
    struct stat st;
    ASSERT_EQ(stat((dir_ + "/drop/sparse.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 1 << 20);
}

// READLINK shows a link's target only when it leads inside the share, counted from the
// link's folder; an absolute one inside is shown in the share's terms.
TEST_F(SftpLimits, ReadlinkNeverShowsATargetOutsideTheShare)
{
    Start();
    OnClient([&](RawSftp &c) {
        auto readlink = [&](const std::string &path) {
            return c.Request(porch::test::FXP_READLINK, Packet().str(path));
        };
        Packet down = readlink("/Files/sub/down");
        ASSERT_EQ(down.type, porch::test::FXP_NAME);
        down.get_u32();
        EXPECT_EQ(down.get_str(), "inside.txt");
        Packet up = readlink("/Files/sub/up");
        ASSERT_EQ(up.type, porch::test::FXP_NAME);
        up.get_u32();
        EXPECT_EQ(up.get_str(), "../big.bin");
        Packet abs_in = readlink("/Files/abs-in");
        ASSERT_EQ(abs_in.type, porch::test::FXP_NAME);
        abs_in.get_u32();
        EXPECT_EQ(abs_in.get_str(), "/Files/big.bin");
        EXPECT_EQ(RawSftp::Status(readlink("/Files/sub/out")), FX_PERMISSION_DENIED)
                << "../../outside.txt climbs out of the share";
        EXPECT_EQ(RawSftp::Status(readlink("/Files/abs-out")), FX_PERMISSION_DENIED);
    });
}

// A hidden share is not listed in "/", to guests neither, but is served by its name.
// A batch of requests sent at once, as a pipelining client sends them: porchd opens the files
// of a batch ahead, but each request still sees what those before it did.
TEST_F(SftpLimits, PipelinedOpensSeeWhatCameBeforeThem)
{
    Start();
    ASSERT_TRUE(porch::test::WriteFile(dir_ + "/drop/gone.txt", "to be removed\n"));
    ASSERT_TRUE(porch::test::WriteFile(dir_ + "/drop/kept.txt", "kept\n"));
    porch::test::GiveToShareOwner(dir_ + "/drop");
    OnClient([&](RawSftp &c) {
        // opens only: all of them served, each its own file, a refused one refused
        std::string batch;
        std::vector<uint32_t> ids;
        for (const char *path : {"/Files/big.bin", "/Files/sub/inside.txt", "/Drop/kept.txt",
                                 "/Files/../../outside.txt", "/Files/sub/inside.txt"}) {
            Packet p;
            p.type = porch::test::FXP_OPEN;
            ids.push_back(c.next_id());
            p.u32(ids.back()).str(path).u32(FXF_READ).u32(0);
            batch += RawSftp::Wire(p);
        }
        ASSERT_TRUE(c.SendRaw(batch));
        std::vector<std::string> handles;
        for (size_t i = 0; i < ids.size(); i++) {
            Packet r = c.Receive();
            EXPECT_EQ(r.get_u32(), ids[i]);
            if (i == 3) {
                EXPECT_EQ(r.type, porch::test::FXP_STATUS) << "'..' stops at /: no share there";
                continue;
            }
            ASSERT_EQ(r.type, porch::test::FXP_HANDLE) << i;
            handles.push_back(r.get_str());
        }
        EXPECT_EQ(c.Read(handles[1], 0, 100).get_str(), "inside\n");
        EXPECT_EQ(c.Read(handles[2], 0, 100).get_str(), "kept\n");
        EXPECT_EQ(c.Read(handles[3], 0, 100).get_str(), "inside\n");
        for (const std::string &h : handles)
            c.Close(h);

        // a remove, then an open of the same file, in one batch: the open finds nothing
        Packet rm, open;
        uint32_t rm_id = c.next_id(), open_id = c.next_id();
        rm.type = 13; // SSH_FXP_REMOVE
        rm.u32(rm_id).str("/Drop/gone.txt");
        open.type = porch::test::FXP_OPEN;
        open.u32(open_id).str("/Drop/gone.txt").u32(FXF_READ).u32(0);
        ASSERT_TRUE(c.SendRaw(RawSftp::Wire(rm) + RawSftp::Wire(open)));
        Packet r1 = c.Receive(), r2 = c.Receive();
        EXPECT_EQ(r1.get_u32(), rm_id);
        EXPECT_EQ(r1.get_u32(), FX_OK);
        EXPECT_EQ(r2.type, porch::test::FXP_STATUS) << "an open ahead of the remove";
        EXPECT_EQ(r2.get_u32(), open_id);
        EXPECT_EQ(r2.get_u32(), porch::test::FX_NO_SUCH_FILE);
    });
}

TEST_F(SftpLimits, HiddenSharesAreNotListedButServedByName)
{
    Start();
    OnClient([&](RawSftp &c) {
        EXPECT_EQ(List(c, "/"), (std::set<std::string>{"Drop", "Files"}));
        EXPECT_EQ(List(c, "/Secret"), (std::set<std::string>{"s.txt"}));
    });
}

// A client's path in a log line cannot start a line of its own.
TEST_F(SftpLimits, ClientTextCannotForgeLogLines)
{
    Start();
    const std::string forged = "porchd-session[1]: 10.88.0.9: bob logged in";
    OnClient([&](RawSftp &c) {
        EXPECT_EQ(RawSftp::Status(c.Open("/Nope\n" + forged, FXF_READ)), FX_NO_SUCH_FILE);
        EXPECT_EQ(RawSftp::Status(c.Open("/Files/\x1b[2J" + forged, FXF_WRITE | FXF_CREAT)),
                  FX_PERMISSION_DENIED);
    });
    std::stringstream lines(Log());
    for (std::string line; std::getline(lines, line);)
        EXPECT_NE(line.rfind("porchd-session[1]", 0), 0u) << "a forged log line: " << line;
    EXPECT_EQ(Log().find('\x1b'), std::string::npos) << "a terminal escape in the log";
    EXPECT_NE(Log().find("\\x1b[2J"), std::string::npos) << Log();
}

// What a client creates belongs to the share's owner, and no owner is ever changed by name: a
// name can be swapped for a hard link to another file (/etc/shadow, say) between a creation
// and a chown, and root would give that file away. porchd's file worker runs as the share's
// owner and creates what clients ask for as that user, so that nothing has to be given away
// afterwards: the workers, the sessions and the network side change no owner at all. The one
// owner porchd changes is the launcher's (root's): at start it gives its state folder, whose
// parent is root's, to the network side's user, walking it by descriptor.
TEST_F(SftpLimits, OwnersAreChangedThroughDescriptorsNeverByName)
{
    std::string missing = porch::test::TestLan::missing_tools({"strace"});
    if (!missing.empty()) {
        if (porch::test::TestLan::must_run())
            GTEST_FAIL() << "not installed: " << missing;
        GTEST_SKIP() << "not installed: " << missing;
    }
    const porch::test::Owner owner = porch::test::ShareOwner(),
                             service = porch::test::ServiceUser();
    ASSERT_NE(service.uid, uid_t(-1)) << "no user 'porch' (scripts/dev deps makes it)";
    std::string trace = "/tmp/porch-chown-trace-" + std::to_string(getpid());
    Start("", {"strace", "-f", "-qq", "-s", "4096", "-e",
               "trace=execve,chown,lchown,fchown,fchownat", "-o", trace});
    OnClient([&](RawSftp &c) {
        EXPECT_EQ(RawSftp::Status(c.Request(14 /* MKDIR */, Packet().str("/Drop/d").u32(0))),
                  FX_OK);
        EXPECT_EQ(RawSftp::Status(c.Request(20 /* SYMLINK */, Packet().str("d").str("/Drop/link"))),
                  FX_OK);
        Packet h = c.Open("/Drop/f.txt", FXF_WRITE | FXF_CREAT);
        ASSERT_EQ(h.type, porch::test::FXP_HANDLE);
        EXPECT_EQ(RawSftp::Status(c.Close(h.get_str())), FX_OK);
    });
    for (const char *name : {"/drop/d", "/drop/link", "/drop/f.txt"}) {
        struct stat st;
        ASSERT_EQ(lstat((dir_ + name).c_str(), &st), 0) << name;
        EXPECT_EQ(st.st_uid, owner.uid) << name << " does not belong to the share's owner";
        EXPECT_EQ(st.st_gid, owner.gid) << name << " is not in the share's owner's group";
    }
    std::string calls = ReadFile(trace);
    unlink(trace.c_str());

    // What each traced process runs, from its last execve(): the first is the launcher
    // (porchd, which becomes porchd-launcher in the same process).
    std::map<pid_t, std::string> program;
    pid_t launcher = -1;
    std::stringstream in(calls);
    for (std::string line; std::getline(in, line);) {
        size_t at = line.find("execve(\"");
        if (at == std::string::npos)
            continue;
        pid_t pid = (pid_t)atol(line.c_str());
        std::string path = line.substr(at + 8, line.find('"', at + 8) - (at + 8));
        std::string name = path.substr(path.rfind('/') + 1);
        if (name == "porchd" && line.find("\"--network-side\"") != std::string::npos)
            name = "porchd --network-side";
        program[pid] = name;
        if (launcher < 0)
            launcher = pid;
    }
    auto runs = [&](const std::string &name) {
        for (const auto &[pid, what] : program)
            if (what == name)
                return true;
        return false;
    };
    ASSERT_TRUE(launcher > 0 && program[launcher] == "porchd-launcher") << calls;
    EXPECT_TRUE(runs("porchd --network-side")) << calls;
    EXPECT_TRUE(runs("porchd-session")) << calls;
    EXPECT_TRUE(runs("porchd-worker")) << "the share's worker was not traced\n" << calls;

    const std::string state = dir_ + "/state",
                      ids = std::to_string(service.uid) + ", " + std::to_string(service.gid) + ")";
    in = std::stringstream(calls);
    for (std::string line; std::getline(in, line);) {
        if (line.find("chown") == std::string::npos || line.find("resumed>") != std::string::npos)
            continue;
        pid_t pid = (pid_t)atol(line.c_str());
        EXPECT_EQ(pid, launcher) << "an owner changed by " << program[pid] << ": " << line;
        bool by_descriptor = line.find("fchown(") != std::string::npos ||
                             (line.find("fchownat(") != std::string::npos &&
                              line.find("\"\"") != std::string::npos &&
                              line.find("AT_EMPTY_PATH") != std::string::npos);
        // the launcher's hand-over of the state folder (its parent is root's: the name cannot
        // be swapped by anyone else)
        bool state_folder =
                pid == launcher &&
                (line.find("chown(\"" + state + "\", " + ids) != std::string::npos ||
                 line.find("fchownat(AT_FDCWD, \"" + state + "\", " + ids) != std::string::npos);
        EXPECT_TRUE(by_descriptor || state_folder) << "an owner changed by name: " << line;
    }
}

} // namespace
