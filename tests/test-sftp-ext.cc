// test-sftp-ext.cc — porchd on the wire, from test-LAN host 2 against porchd on host 1:
// its SFTP extensions and limits through a client written on libssh's channel API that
// speaks SFTP packets byte by byte (what the OpenSSH client never sends: check-file,
// limits, handle exhaustion, malformed requests), and its SSH side through the OpenSSH
// client (algorithms, unknown keys, failed-login limits).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <glib.h>
#include <libssh/libssh.h>

#include "raw-sftp.h"
#include "testlan.h"

#include "test-util.h"

extern "C" {
#include "porch-pending.h"
}

// GSSAPI as this process's libssh client sees it: it holds Kerberos credentials (it has
// none), so that ssh_userauth_gssapi() sends a gssapi-with-mic request with the Kerberos
// OID. These definitions take the place of libgssapi_krb5's for the client here; porchd and
// its sessions, other programs, use the real library. The types are RFC 2744's.
extern "C" {
typedef uint32_t OM_uint32;
struct FakeGssOid {
    OM_uint32 length;
    void *elements;
};
struct FakeGssOidSet {
    size_t count;
    FakeGssOid *elements;
};
static char fake_gss_creds;

// LeakSanitizer's switches, present in a sanitizer build only.
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

OM_uint32
gss_acquire_cred(OM_uint32 *minor, void *, OM_uint32, FakeGssOidSet *, int, void **creds,
                 FakeGssOidSet **actual, OM_uint32 *time_rec)
{
    static const unsigned char krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    // freed by the real gss_release_oid_set(), which uses free()
    auto *set = (FakeGssOidSet *)malloc(sizeof(FakeGssOidSet));
    set->count = 1;
    set->elements = (FakeGssOid *)malloc(sizeof(FakeGssOid));
    set->elements[0].length = sizeof krb5;
    set->elements[0].elements = malloc(sizeof krb5);
    memcpy(set->elements[0].elements, krb5, sizeof krb5);
    *minor = 0;
    *creds = &fake_gss_creds;
    if (actual != nullptr)
        *actual = set;
    if (time_rec != nullptr)
        *time_rec = 3600;
    return 0;
}

OM_uint32
gss_inquire_cred_by_mech(OM_uint32 *minor, void *, FakeGssOid *, void **, OM_uint32 *init_lifetime,
                         OM_uint32 *, int *)
{
    *minor = 0;
    if (init_lifetime != nullptr)
        *init_lifetime = 3600;
    return 0;
}

OM_uint32
gss_release_cred(OM_uint32 *minor, void **creds)
{
    *minor = 0;
    if (creds != nullptr)
        *creds = nullptr;
    return 0;
}
}

namespace
{

constexpr int kPort = 4422;

using namespace porch::test::sftp_names;
using porch::test::Contains;
using porch::test::Packet;
using porch::test::RawSftp;
using porch::test::ReadFile;

std::string
Sha256(const std::string &data)
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(c, (const guchar *)data.data(), (gssize)data.size());
    guint8 d[32];
    gsize len = sizeof d;
    g_checksum_get_digest(c, d, &len);
    g_checksum_free(c);
    return std::string((const char *)d, len);
}

class PorchdLan : public ::testing::Test
{
  protected:
    // A LAN of two hosts, porchd on host 1 sharing Files (read guest, a 1 MiB file) and
    // Drop (write guest); the client on host 2.
    void SetUp() override
    {
        lan_ = porch::test::TestLan::Create(2, &why_, &may_skip_);
        if (!lan_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_;
            GTEST_FAIL() << "test LAN unavailable: " << why_;
        }
        dir_ = lan_->host_dir(1);
        g_mkdir_with_parents((dir_ + "/files").c_str(), 0755);
        g_mkdir_with_parents((dir_ + "/drop").c_str(), 0755);
        g_mkdir_with_parents((dir_ + "/state").c_str(), 0700);
        content_.resize(1 << 20);
        for (size_t i = 0; i < content_.size(); i++)
            content_[i] = (char)(i * 7919 % 251);
        ASSERT_TRUE(g_file_set_contents((dir_ + "/files/big.bin").c_str(), content_.data(),
                                        (gssize)content_.size(), nullptr));
        ASSERT_TRUE(g_file_set_contents((dir_ + "/outside.txt").c_str(), "secret", -1, nullptr));
        // porchd serves a folder as its owner: Drop is an unprivileged user's, so that guests
        // may write in it (root's folders are served as 'porch', who may write nothing)
        ASSERT_TRUE(porch::test::GiveToShareOwner(dir_ + "/drop"));
        for (const char *who : {"bob", "eve"}) {
            std::string key = dir_ + "/" + who;
            ASSERT_TRUE(lan_->run(1, {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who,
                                      "-f", key})
                                .ok());
        }
        std::string conf = "[peer bob]\nkey = " + ReadFile(dir_ + "/bob.pub") +
                           "[porch]\nlisten = " + lan_->address(1) +
                           "\nport = " + std::to_string(kPort) + "\n[share Files]\npath = " + dir_ +
                           "/files\nread = guest\n[share Drop]\npath = " + dir_ +
                           "/drop\nwrite = guest\n";
        ASSERT_TRUE(g_file_set_contents((dir_ + "/porch.conf").c_str(), conf.c_str(), -1, nullptr));
        log_ = dir_ + "/porchd.log";
        porchd_ = lan_->spawn(1,
                              {PORCH_PROGRAM_PORCHD, "--config", dir_ + "/porch.conf",
                               "--state-dir", dir_ + "/state"},
                              log_);
        ASSERT_GT(porchd_, 0);
        for (int i = 0; i < 250 && Log().find("running") == std::string::npos; i++)
            g_usleep(20000);
        ASSERT_NE(Log().find("running"), std::string::npos) << Log();
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
    // The first line porchd sends to a TCP client on host `from` (host 1 connects to itself).
    std::string FirstLine(int from)
    {
        std::string line;
        std::string address = lan_->address(1);
        lan_->in_netns(from, [&] {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a = {};
            a.sin_family = AF_INET;
            a.sin_port = htons(kPort);
            inet_pton(AF_INET, address.c_str(), &a.sin_addr);
            if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
                char c;
                while (read(fd, &c, 1) == 1 && c != '\n')
                    line += c;
            }
            close(fd);
        });
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        return line;
    }
    // The OpenSSH sftp client on host 2 as `user` (with the key dir_/key if not empty),
    // running `batch`, with extra options.
    porch::test::RunResult Sftp(const std::string &user, const std::string &key,
                                const std::string &batch,
                                const std::vector<std::string> &options = {})
    {
        std::string script = dir_ + "/batch.txt";
        g_file_set_contents(script.c_str(), batch.c_str(), -1, nullptr);
        std::vector<std::string> argv = {"sftp",
                                         "-b",
                                         script,
                                         "-P",
                                         std::to_string(kPort),
                                         "-o",
                                         "StrictHostKeyChecking=no",
                                         "-o",
                                         "UserKnownHostsFile=/dev/null",
                                         "-o",
                                         "BatchMode=yes"};
        if (!key.empty())
            argv.insert(argv.end(), {"-i", dir_ + "/" + key, "-o", "IdentitiesOnly=yes"});
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back(user + "@" + lan_->address(1));
        return lan_->run(2, argv, 20);
    }
    // Runs fn with a connected client on host 2.
    void OnClient(const std::function<void(RawSftp &)> &fn)
    {
        std::string address = lan_->address(1);
        ASSERT_TRUE(lan_->in_netns(2, [&] {
            RawSftp c;
            std::string err = c.Connect(address);
            if (!err.empty()) {
                ADD_FAILURE() << err;
                return;
            }
            fn(c);
        }));
    }

    std::unique_ptr<porch::test::TestLan> lan_;
    std::string why_, dir_, log_, content_;
    bool may_skip_ = false;
    pid_t porchd_ = -1;
};

TEST_F(PorchdLan, VersionOffersTheExtensions)
{
    OnClient([](RawSftp &c) {
        EXPECT_EQ(c.version, 3u);
        EXPECT_EQ(c.extensions["posix-rename@openssh.com"], "1");
        EXPECT_EQ(c.extensions["statvfs@openssh.com"], "2");
        EXPECT_EQ(c.extensions["fsync@openssh.com"], "1");
        EXPECT_EQ(c.extensions["limits@openssh.com"], "1");
        EXPECT_EQ(c.extensions["check-file-handle"], "sha256");
        EXPECT_EQ(c.extensions["check-file-name"], "sha256");
        EXPECT_EQ(c.extensions.count("hardlink@openssh.com"), 0u)
                << "hard links are not offered: one could not be checked against the jail";
    });
}

TEST_F(PorchdLan, LimitsMatchWhatTheOpenSshClientAccepts)
{
    OnClient([](RawSftp &c) {
        Packet r = c.Extended("limits@openssh.com", Packet());
        ASSERT_EQ(r.type, FXP_EXTENDED_REPLY);
        EXPECT_EQ(r.get_u64(), 256u * 1024) << "max packet";
        EXPECT_EQ(r.get_u64(), 255u * 1024) << "max read";
        EXPECT_EQ(r.get_u64(), 255u * 1024) << "max write";
        EXPECT_EQ(r.get_u64(), 256u) << "max open handles";
    });
}

TEST_F(PorchdLan, StatvfsDescribesTheSharesFileSystemAndRights)
{
    struct statvfs v;
    ASSERT_EQ(statvfs((dir_ + "/files").c_str(), &v), 0);
    OnClient([&](RawSftp &c) {
        Packet ro = c.Extended("statvfs@openssh.com", Packet().str("/Files"));
        ASSERT_EQ(ro.type, FXP_EXTENDED_REPLY);
        EXPECT_EQ(ro.get_u64(), v.f_bsize);
        EXPECT_EQ(ro.get_u64(), v.f_frsize);
        EXPECT_EQ(ro.get_u64(), v.f_blocks);
        for (int i = 0; i < 6; i++)
            ro.get_u64(); // bfree .. fsid
        EXPECT_EQ(ro.get_u64() & 1, 1u) << "read-only for a guest who may only read";
        EXPECT_EQ(ro.get_u64(), v.f_namemax);

        Packet rw = c.Extended("statvfs@openssh.com", Packet().str("/Drop"));
        ASSERT_EQ(rw.type, FXP_EXTENDED_REPLY);
        for (int i = 0; i < 9; i++)
            rw.get_u64();
        EXPECT_EQ(rw.get_u64() & 1, 0u) << "writable where the guest may write";

        EXPECT_EQ(RawSftp::Status(c.Extended("statvfs@openssh.com", Packet().str("/Nope"))),
                  FX_NO_SUCH_FILE);
        EXPECT_EQ(RawSftp::Status(c.Extended("statvfs@openssh.com", Packet().str("/"))),
                  FX_PERMISSION_DENIED);
    });
}

TEST_F(PorchdLan, CheckFileHashesWholeFilesRangesAndBlocks)
{
    const std::string &data = content_;
    OnClient([&](RawSftp &c) {
        Packet h = c.Open("/Files/big.bin", FXF_READ);
        ASSERT_EQ(h.type, FXP_HANDLE);
        std::string handle = h.get_str();

        auto check = [&](uint64_t start, uint64_t length, uint32_t block) {
            return c.Extended(
                    "check-file-handle",
                    Packet().str(handle).str("md5,sha256").u64(start).u64(length).u32(block));
        };
        Packet whole = check(0, 0, 0);
        ASSERT_EQ(whole.type, FXP_EXTENDED_REPLY);
        EXPECT_EQ(whole.get_str(), "check-file");
        EXPECT_EQ(whole.get_str(), "sha256");
        EXPECT_EQ(whole.rest(), Sha256(data));

        Packet range = check(1000, 5000, 0);
        range.get_str();
        range.get_str();
        EXPECT_EQ(range.rest(), Sha256(data.substr(1000, 5000)));

        Packet past_end = check(data.size() - 10, 1000, 0);
        past_end.get_str();
        past_end.get_str();
        EXPECT_EQ(past_end.rest(), Sha256(data.substr(data.size() - 10)));

        Packet blocks = check(0, 0, 256 * 1024);
        blocks.get_str();
        blocks.get_str();
        std::string want;
        for (size_t at = 0; at < data.size(); at += 256 * 1024)
            want += Sha256(data.substr(at, 256 * 1024));
        EXPECT_EQ(blocks.rest(), want);

        EXPECT_EQ(RawSftp::Status(
                          c.Extended("check-file-handle",
                                     Packet().str(handle).str("md5,sha1").u64(0).u64(0).u32(0))),
                  FX_OP_UNSUPPORTED);
        EXPECT_EQ(RawSftp::Status(check(0, 0, 100)), FX_BAD_MESSAGE) << "blocks below 256";

        Packet by_name =
                c.Extended("check-file-name",
                           Packet().str("/Files/big.bin").str("sha256").u64(0).u64(0).u32(0));
        by_name.get_str();
        by_name.get_str();
        EXPECT_EQ(by_name.rest(), Sha256(data));
        EXPECT_EQ(RawSftp::Status(
                          c.Extended("check-file-name", Packet().str("/Files/../../outside.txt")
                                                                .str("sha256")
                                                                .u64(0)
                                                                .u64(0)
                                                                .u32(0))),
                  FX_NO_SUCH_FILE)
                << "'..' stops at the root: there is no share called outside.txt";
        EXPECT_EQ(RawSftp::Status(c.Close(handle)), FX_OK);
    });
}

// Reads are served whole up to the max-read that limits@openssh.com announces, and every
// reply stays below the 256 KiB the OpenSSH client accepts. (A request for more is ended by
// Debian's libssh 0.10.6 itself, which parses the requests: the client was told the limit.)
TEST_F(PorchdLan, ReadsAreServedUpToTheAnnouncedLimit)
{
    OnClient([&](RawSftp &c) {
        std::string handle = c.Open("/Files/big.bin", FXF_READ).get_str();
        Packet d = c.Read(handle, 0, 255 * 1024);
        ASSERT_EQ(d.type, FXP_DATA);
        std::string got = d.get_str();
        EXPECT_EQ(got.size(), 255u * 1024);
        EXPECT_EQ(got, content_.substr(0, got.size()));
        Packet tail = c.Read(handle, content_.size() - 100, 255 * 1024);
        ASSERT_EQ(tail.type, FXP_DATA);
        EXPECT_EQ(tail.get_str(), content_.substr(content_.size() - 100))
                << "a short read at the end";
        EXPECT_EQ(RawSftp::Status(c.Read(handle, content_.size(), 100)), FX_EOF);
        c.Close(handle);
    });
}

TEST_F(PorchdLan, FsyncOnAnUploadHandle)
{
    OnClient([&](RawSftp &c) {
        Packet h = c.Open("/Drop/new.txt", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
        ASSERT_EQ(h.type, FXP_HANDLE);
        std::string handle = h.get_str();
        EXPECT_EQ(RawSftp::Status(c.Extended("fsync@openssh.com", Packet().str(handle))), FX_OK);
        EXPECT_EQ(RawSftp::Status(c.Close(handle)), FX_OK);
    });
    EXPECT_TRUE(g_file_test((dir_ + "/drop/new.txt").c_str(), G_FILE_TEST_IS_REGULAR));
}

TEST_F(PorchdLan, BadRequestsAreAnsweredAndTheSessionGoesOn)
{
    OnClient([&](RawSftp &c) {
        EXPECT_EQ(RawSftp::Status(c.Extended("copy-data", Packet().str("x"))), FX_OP_UNSUPPORTED);
        EXPECT_EQ(RawSftp::Status(c.Extended("hardlink@openssh.com",
                                             Packet().str("/Drop/a").str("/Drop/b"))),
                  FX_OP_UNSUPPORTED);
        EXPECT_EQ(RawSftp::Status(c.Extended("check-file-handle", Packet().str("zzzz"))), 9)
                << "SSH_FX_INVALID_HANDLE";
        std::string handle = c.Open("/Files/big.bin", FXF_READ).get_str();
        // a check-file request cut short after its handle
        EXPECT_EQ(RawSftp::Status(c.Extended("check-file-handle", Packet().str(handle))),
                  FX_BAD_MESSAGE);
        EXPECT_EQ(RawSftp::Status(c.Extended("statvfs@openssh.com", Packet())), FX_BAD_MESSAGE);
        // and the session still serves
        Packet d = c.Read(handle, 0, 10);
        ASSERT_EQ(d.type, FXP_DATA);
        EXPECT_EQ(d.get_str(), content_.substr(0, 10));
    });
}

TEST_F(PorchdLan, OpenHandlesAreCapped)
{
    OnClient([&](RawSftp &c) {
        std::vector<std::string> handles;
        for (int i = 0; i < 256; i++) {
            Packet h = c.Open("/Files/big.bin", FXF_READ);
            ASSERT_EQ(h.type, FXP_HANDLE) << "handle " << i;
            handles.push_back(h.get_str());
        }
        Packet over = c.Open("/Files/big.bin", FXF_READ);
        EXPECT_EQ(RawSftp::Status(over), FX_FAILURE);
        // the session goes on, and a closed handle makes room
        EXPECT_EQ(RawSftp::Status(c.Close(handles.back())), FX_OK);
        Packet again = c.Open("/Files/big.bin", FXF_READ);
        EXPECT_EQ(again.type, FXP_HANDLE);
        // a stale handle is refused, never confused with its successor
        EXPECT_EQ(RawSftp::Status(c.Read(handles.back(), 0, 10)), 9) << "SSH_FX_INVALID_HANDLE";
    });
}

TEST_F(PorchdLan, ClientLinksPointDownOnlyAndTheShareRootStaysAsItIs)
{
    struct stat before;
    ASSERT_EQ(stat((dir_ + "/drop").c_str(), &before), 0);
    auto r = Sftp("guest", "",
                  "mkdir /Drop/d\nput /etc/hostname /Drop/x\n"
                  "-ln -s ../x /Drop/d/up\n"
                  "ln -s x /Drop/down\n"
                  "-ln -s . /Drop/me\n"
                  "-chmod 700 /Drop/me\n"
                  "ls /Drop\n");
    EXPECT_TRUE(r.ok()) << r.describe();
    char buf[64] = "";
    EXPECT_LT(readlink((dir_ + "/drop/d/up").c_str(), buf, sizeof buf), 0)
            << "a link with '..' could be moved to lead outside";
    ASSERT_GT(readlink((dir_ + "/drop/down").c_str(), buf, sizeof buf), 0);
    EXPECT_STREQ(buf, "x");
    struct stat after;
    ASSERT_EQ(stat((dir_ + "/drop").c_str(), &after), 0);
    EXPECT_EQ(after.st_mode, before.st_mode) << "the share's own folder was changed";
}

TEST_F(PorchdLan, AnUploadIsNotCompletedAfterTheWriteRightIsGone)
{
    OnClient([&](RawSftp &c) {
        Packet h = c.Open("/Drop/late.txt", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
        ASSERT_EQ(h.type, FXP_HANDLE);
        std::string handle = h.get_str();
        EXPECT_EQ(RawSftp::Status(c.Write(handle, 0, "half")), FX_OK);
        // the owner takes write away and reloads
        std::string conf = ReadFile(dir_ + "/porch.conf");
        conf.replace(conf.find("write = guest"), 13, "read = guest");
        g_file_set_contents((dir_ + "/porch.conf").c_str(), conf.c_str(), -1, nullptr);
        kill(porchd_, SIGHUP);
        for (int i = 0; i < 100 && Log().find("reloaded") == std::string::npos; i++)
            g_usleep(20000);
        g_usleep(300000); // the session gets porchd's SIGHUP after the log line
        EXPECT_EQ(RawSftp::Status(c.Close(handle)), FX_PERMISSION_DENIED);
    });
    EXPECT_FALSE(g_file_test((dir_ + "/drop/late.txt").c_str(), G_FILE_TEST_EXISTS));
}

TEST_F(PorchdLan, KeysAndGuestsLogIn)
{
    auto bob = Sftp("bob", "bob", "ls /\n");
    EXPECT_TRUE(bob.ok()) << bob.describe();
    EXPECT_NE(bob.out.find("Files"), std::string::npos);
    auto anyname = Sftp("robert", "bob", "ls /\n");
    EXPECT_TRUE(anyname.ok()) << "the user name is informational: " << anyname.describe();
    auto guest = Sftp("guest", "", "ls /\n");
    EXPECT_TRUE(guest.ok()) << guest.describe();
    auto not_guest = Sftp("alice", "", "ls /\n");
    EXPECT_FALSE(not_guest.ok()) << "no key and not 'guest': no login";
    EXPECT_NE(Log().find("bob (SHA256:"), std::string::npos) << Log();
}

TEST_F(PorchdLan, OnlyModernAlgorithmsAreNegotiated)
{
    const std::vector<std::vector<std::string>> refused = {
            {"-o", "Ciphers=aes128-cbc"},
            {"-o", "KexAlgorithms=diffie-hellman-group14-sha1"},
            {"-o", "KexAlgorithms=diffie-hellman-group1-sha1"},
            {"-o", "MACs=hmac-sha1", "-o", "Ciphers=aes128-ctr"},
            {"-o", "HostKeyAlgorithms=rsa-sha2-256,ecdsa-sha2-nistp256"},
    };
    for (const auto &opts : refused) {
        auto r = Sftp("bob", "bob", "ls /\n", opts);
        EXPECT_FALSE(r.ok()) << opts[1] << " was accepted";
    }
    const std::vector<std::vector<std::string>> accepted = {
            {"-o", "Ciphers=chacha20-poly1305@openssh.com"},
            {"-o", "Ciphers=aes256-gcm@openssh.com"},
            {"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com"},
            {"-o", "KexAlgorithms=curve25519-sha256"},
    };
    for (const auto &opts : accepted) {
        auto r = Sftp("bob", "bob", "ls /\n", opts);
        EXPECT_TRUE(r.ok()) << opts[1] << ": " << r.describe();
    }
}

TEST_F(PorchdLan, UnknownKeyIsRefusedAndRecordedForPorchPeers)
{
    auto eve = Sftp("eve", "eve", "ls /\n");
    EXPECT_FALSE(eve.ok());
    EXPECT_NE(eve.err.find("Permission denied (publickey)"), std::string::npos) << eve.err;
    // recorded when the connection has ended without a login
    std::string state = dir_ + "/state";
    EXPECT_TRUE(porch::test::WaitFor(
            [&] {
                g_autoptr(GPtrArray) l = porch_pending_list(state.c_str(), 0);
                return l->len > 0;
            },
            5));
    g_autoptr(GPtrArray) pending = porch_pending_list((dir_ + "/state").c_str(), 0);
    ASSERT_EQ(pending->len, 1u);
    auto *p = (PorchPendingPeer *)pending->pdata[0];
    EXPECT_STREQ(p->name, "eve");
    EXPECT_STREQ(p->address, lan_->address(2).c_str());
    EXPECT_EQ(std::string(p->key).substr(0, 80), ReadFile(dir_ + "/eve.pub").substr(0, 80));
    auto fp = lan_->run(1, {"ssh-keygen", "-lf", dir_ + "/eve.pub"});
    EXPECT_NE(fp.out.find(p->fingerprint), std::string::npos) << fp.out << " vs " << p->fingerprint;
}

TEST_F(PorchdLan, RepeatedFailedLoginsAreTurnedAway)
{
    for (int i = 0; i < 10; i++)
        EXPECT_FALSE(Sftp("eve", "eve", "ls /\n").ok());
    // porchd counts a failed session when its process has ended: give it a moment
    g_usleep(300000);
    auto r = Sftp("guest", "", "ls /\n");
    EXPECT_FALSE(r.ok()) << "this address is blocked for a while, guests too";
    EXPECT_NE(r.err.find("Connection closed"), std::string::npos) << r.err;
    EXPECT_NE(Log().find(lan_->address(2) + ": turned away: too many failed logins"),
              std::string::npos)
            << Log();
    // What the server says, before any SSH: one line (OpenSSH's client shows it with -v).
    EXPECT_EQ(FirstLine(2), "Porch: too many failed logins from this address; try again later");
    EXPECT_EQ(FirstLine(1).substr(0, 8), "SSH-2.0-") << "other addresses are served";
    g_autoptr(GPtrArray) pending = porch_pending_list((dir_ + "/state").c_str(), 0);
    ASSERT_EQ(pending->len, 1u) << "one request per key, however often it knocks";
    EXPECT_EQ(((PorchPendingPeer *)pending->pdata[0])->attempts, 10u);
}

// porchd alone on host 1 with `conf`, its log in the host's folder; when `mount` is given,
// porchd runs in a mount namespace of its own where that command ran first. Returns the
// log's path, "" if porchd did not start.
std::string
StartPorchd(porch::test::TestLan *lan, const std::string &conf, const std::string &mount = "")
{
    std::string d = lan->host_dir(1);
    std::string log = d + "/porchd.log";
    g_file_set_contents((d + "/porch.conf").c_str(), conf.c_str(), -1, nullptr);
    std::string porchd = "exec " PORCH_PROGRAM_PORCHD " --config " + d +
                         "/porch.conf --state-dir " + d + "/state";
    if (mount.empty())
        lan->spawn(1, {"sh", "-c", porchd}, log);
    else
        lan->spawn(
                1,
                {"unshare", "-m", "--propagation", "private", "sh", "-c", mount + " && " + porchd},
                log);
    for (int i = 0; i < 250 && ReadFile(log).find("running") == std::string::npos; i++)
        g_usleep(20000);
    return ReadFile(log).find("running") == std::string::npos ? "" : log;
}

porch::test::RunResult
GuestSftp(porch::test::TestLan *lan, const std::string &host, const std::string &batch)
{
    std::string script = lan->host_dir(2) + "/batch.txt";
    g_file_set_contents(script.c_str(), batch.c_str(), -1, nullptr);
    return lan->run(2,
                    {"sftp", "-b", script, "-P", std::to_string(kPort), "-o",
                     "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                     "BatchMode=yes", "guest@" + host},
                    20);
}

TEST(PorchdNet, ListensOnIpv6AloneWhenToldSo)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    ASSERT_EQ(g_mkdir_with_parents((d + "/pub").c_str(), 0755), 0);
    std::string log = StartPorchd(lan.get(), "[porch]\nlisten = ::\n[share Pub]\npath = " + d +
                                                     "/pub\nread = guest\n");
    ASSERT_FALSE(log.empty());
    auto v6 = GuestSftp(lan.get(), "[" + lan->address6(1) + "%eth0]", "ls /\n");
    EXPECT_TRUE(v6.ok()) << v6.describe();
    EXPECT_NE(v6.out.find("Pub"), std::string::npos) << v6.out;
    auto v4 = GuestSftp(lan.get(), lan->address(1), "ls /\n");
    EXPECT_FALSE(v4.ok()) << "'::' is IPv6 only; IPv4 needs 0.0.0.0 in listen too";
}

TEST(PorchdNet, AFullDiskIsAClearErrorAndLosesNothing)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1), c = lan->host_dir(2);
    ASSERT_EQ(g_mkdir_with_parents((d + "/small").c_str(), 0755), 0);
    // a 1 MiB file system that only porchd sees
    std::string log =
            StartPorchd(lan.get(),
                        "[porch]\nlisten = " + lan->address(1) + "\n[share Small]\npath = " + d +
                                "/small\nwrite = guest\n",
                        "mount -t tmpfs -o size=1m tmpfs " + d + "/small");
    ASSERT_FALSE(log.empty());
    std::string old_text(300 * 1024, 'o'), big(2 * 1024 * 1024, 'n');
    ASSERT_TRUE(g_file_set_contents((c + "/old.txt").c_str(), old_text.data(),
                                    (gssize)old_text.size(), nullptr));
    ASSERT_TRUE(
            g_file_set_contents((c + "/big.txt").c_str(), big.data(), (gssize)big.size(), nullptr));
    auto first = GuestSftp(lan.get(), lan->address(1), "put " + c + "/old.txt /Small/f.txt\n");
    ASSERT_TRUE(first.ok()) << first.describe();

    auto full = GuestSftp(lan.get(), lan->address(1), "put " + c + "/big.txt /Small/f.txt\n");
    EXPECT_FALSE(full.ok());
    // OpenSSH's client shows the status ("Failure"); the reason is in the log, and on the
    // wire for clients that show it
    EXPECT_NE(full.err.find("Failure"), std::string::npos) << full.err;
    // the transfer log's one line for it
    std::string line = ReadFile(log);
    size_t at = line.find("guest (" + lan->address(2) + ") upload of Small/f.txt abandoned after ");
    ASSERT_NE(at, std::string::npos) << line;
    line = line.substr(at, line.find('\n', at) - at);
    EXPECT_NE(line.find(" bytes, the file is left as it was: No space left on device"),
              std::string::npos)
            << line;

    // the old file is there as it was, and no temporary file takes up the space
    auto back =
            GuestSftp(lan.get(), lan->address(1),
                      "get /Small/f.txt " + c + "/back.txt\nput " + c + "/old.txt /Small/g.txt\n");
    EXPECT_TRUE(back.ok()) << back.describe();
    EXPECT_EQ(ReadFile(c + "/back.txt"), old_text);
}

// Connects from `from` to host 1's porchd and returns the socket (or -1), left open.
int
OpenTcp(porch::test::TestLan *lan, int from)
{
    int fd = -1;
    std::string address = lan->address(1);
    lan->in_netns(from, [&] {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {};
        a.sin_family = AF_INET;
        a.sin_port = htons(kPort);
        inet_pton(AF_INET, address.c_str(), &a.sin_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            fd = -1;
        }
    });
    return fd;
}

std::string
ReadLine(int fd)
{
    std::string line;
    char c;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (read(fd, &c, 1) == 1 && c != '\n')
        line += c;
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

// porch.conf for porchd on host 1 sharing Pub (read guest), with `extra` in [porch].
std::string
PubShare(porch::test::TestLan *lan, const std::string &extra)
{
    std::string d = lan->host_dir(1);
    g_mkdir_with_parents((d + "/pub").c_str(), 0755);
    return "[porch]\n" + extra + "listen = " + lan->address(1) + "\n[share Pub]\npath = " + d +
           "/pub\nread = guest\n";
}

// A connection from `from` to host 1's porchd that reads the first line and stays silent.
struct SilentClient {
    int fd = -1;
    std::string first_line;
    SilentClient(porch::test::TestLan *lan, int from)
    {
        fd = OpenTcp(lan, from);
        if (fd >= 0)
            first_line = ReadLine(fd);
    }
    ~SilentClient()
    {
        if (fd >= 0)
            close(fd);
    }
};

TEST(PorchdNet, OneNeighbourCannotTakeEverySession)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    ASSERT_EQ(g_mkdir_with_parents((d + "/pub").c_str(), 0755), 0);
    std::string log = StartPorchd(
            lan.get(), "[porch]\nmax-sessions-per-address = 3\nlisten = " + lan->address(1) +
                               "\n[share Pub]\npath = " + d + "/pub\nread = guest\n");
    ASSERT_FALSE(log.empty());
    // three connections that say nothing hold the address's three places...
    std::vector<std::unique_ptr<SilentClient>> idle;
    for (int i = 0; i < 3; i++) {
        idle.push_back(std::make_unique<SilentClient>(lan.get(), 2));
        EXPECT_EQ(idle.back()->first_line, "SSH-2.0-Porch");
    }
    // ...and the fourth from the same address is turned away, while another address is served
    int fourth = OpenTcp(lan.get(), 2);
    EXPECT_EQ(ReadLine(fourth), "Porch: too many sessions from this address; try again later");
    close(fourth);
    SilentClient other(lan.get(), 1);
    EXPECT_EQ(other.first_line, "SSH-2.0-Porch");
    EXPECT_TRUE(Contains(ReadFile(log), lan->address(2) + ": turned away: too many sessions from "
                                                          "this address (3, "
                                                          "max-sessions-per-address)"))
            << ReadFile(log);
}

TEST(PorchdNet, ConnectionsNotLoggedInAreCappedByMaxStartups)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    ASSERT_EQ(g_mkdir_with_parents((d + "/pub").c_str(), 0755), 0);
    std::string log =
            StartPorchd(lan.get(), "[porch]\nmax-startups = 2\nlisten = " + lan->address(1) +
                                           "\n[share Pub]\npath = " + d + "/pub\nread = guest\n");
    ASSERT_FALSE(log.empty());
    std::string address = lan->address(1);
    // a guest who logged in does not count...
    RawSftp guest;
    lan->in_netns(2, [&] { EXPECT_EQ(guest.Connect(address), ""); });
    // ...two connections that say nothing do...
    SilentClient a(lan.get(), 2), b(lan.get(), 2);
    EXPECT_EQ(a.first_line, "SSH-2.0-Porch");
    EXPECT_EQ(b.first_line, "SSH-2.0-Porch");
    // ...and the third is turned away, from any address
    int third = OpenTcp(lan.get(), 1);
    EXPECT_EQ(ReadLine(third), "Porch: too many connections are logging in; try again later");
    close(third);
    EXPECT_TRUE(Contains(ReadFile(log), "2 connections are logging in already (max-startups)"))
            << ReadFile(log);
    // the guest is served all the same
    EXPECT_EQ(guest.Open("/Pub/none", FXF_READ).type, FXP_STATUS);
    // one silent connection goes: the next one is served
    close(a.fd);
    a.fd = -1;
    EXPECT_TRUE(porch::test::WaitFor(
            [&] { return SilentClient(lan.get(), 1).first_line == "SSH-2.0-Porch"; }, 5));
}

// Eight idle guests used to hold all eight places: a configured peer was turned away.
TEST(PorchdNet, GuestsLeavePlacesForPeers)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1), c = lan->host_dir(2);
    ASSERT_EQ(g_mkdir_with_parents((d + "/pub").c_str(), 0755), 0);
    std::string bob = porch::test::MakeKey(c + "/bob", "bob");
    ASSERT_FALSE(bob.empty());
    std::string address = lan->address(1);
    std::string log = StartPorchd(lan.get(), "[porch]\nmax-sessions = 8\nlisten = " + address +
                                                     "\n[peer bob]\nkey = " + bob +
                                                     "\n[share Pub]\npath = " + d +
                                                     "/pub\nread = guest;bob\n");
    ASSERT_FALSE(log.empty());
    // max-guest-sessions is half of max-sessions: four guests get in...
    std::vector<std::unique_ptr<RawSftp>> guests;
    auto guest = [&] {
        auto g = std::make_unique<RawSftp>();
        std::string err;
        lan->in_netns(2, [&] { err = g->Connect(address); });
        if (err.empty())
            guests.push_back(std::move(g));
        return err;
    };
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(guest(), "") << "guest " << i + 1;
    // ...the fifth is refused, and the OpenSSH client shows why...
    auto fifth = GuestSftp(lan.get(), address, "ls /\n");
    EXPECT_FALSE(fifth.ok());
    EXPECT_TRUE(Contains(fifth.err, "Porch: too many guests are logged in; try again later"))
            << fifth.err;
    // ...and so are three more
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(guest(), "guest login refused");
    EXPECT_EQ(guests.size(), 4u);
    EXPECT_TRUE(Contains(ReadFile(log), "guest refused: 4 guest sessions already "
                                        "(max-guest-sessions)"))
            << ReadFile(log);

    // bob, a configured peer, logs in while the four guests stay
    std::string script = c + "/batch.txt";
    g_file_set_contents(script.c_str(), "ls /\n", -1, nullptr);
    auto b = lan->run(2,
                      {"sftp", "-b", script, "-P", std::to_string(kPort), "-o",
                       "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                       "BatchMode=yes", "-i", c + "/bob", "-o", "IdentitiesOnly=yes",
                       "bob@" + address},
                      20);
    EXPECT_TRUE(b.ok()) << b.describe();
    EXPECT_TRUE(Contains(b.out, "Pub")) << b.out;
    for (auto &g : guests)
        EXPECT_EQ(g->Open("/Pub/none", FXF_READ).type, FXP_STATUS) << "the guests are served";
}

TEST(PorchdNet, SilentClientsAreDroppedAfterTheGraceTime)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    ASSERT_EQ(g_mkdir_with_parents((d + "/pub").c_str(), 0755), 0);
    std::string address = lan->address(1);
    std::string log =
            StartPorchd(lan.get(), "[porch]\nlogin-grace-time = 3\nlisten = " + address +
                                           "\n[share Pub]\npath = " + d + "/pub\nread = guest\n");
    ASSERT_FALSE(log.empty());
    int fd = OpenTcp(lan.get(), 2);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(ReadLine(fd).substr(0, 8), "SSH-2.0-");
    // say nothing: within the 3 s login grace time (and a margin) porchd hangs up
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    gint64 start = g_get_monotonic_time();
    char ch;
    ssize_t n = read(fd, &ch, 1);
    double waited = (g_get_monotonic_time() - start) / 1e6;
    EXPECT_EQ(n, 0) << "the connection is closed, not timed out on our side";
    EXPECT_GT(waited, 2.0);
    EXPECT_LT(waited, 6.0);
    close(fd);

    // the same after the key exchange: a client that does not authenticate is dropped
    lan->in_netns(2, [&] {
        ssh_session s = ssh_new();
        int port = kPort;
        ssh_options_set(s, SSH_OPTIONS_HOST, address.c_str());
        ssh_options_set(s, SSH_OPTIONS_PORT, &port);
        ASSERT_EQ(ssh_connect(s), SSH_OK) << ssh_get_error(s);
        // read (and drop) what comes until porchd hangs up
        gint64 t0 = g_get_monotonic_time();
        struct pollfd p = {ssh_get_fd(s), POLLIN, 0};
        char buf[4096];
        while (poll(&p, 1, 15000) == 1 && recv(p.fd, buf, sizeof buf, 0) > 0)
            ;
        double after = (g_get_monotonic_time() - t0) / 1e6;
        EXPECT_GT(after, 1.5);
        EXPECT_LT(after, 6.0) << "the grace time covers authentication too";
        ssh_disconnect(s);
        ssh_free(s);
    });
    EXPECT_TRUE(Contains(ReadFile(log), "no login after 0 failures or 3 s")) << ReadFile(log);
}

// The line of a turned-away client reaches it even when it spoke first (as the OpenSSH
// client does): porchd reads what it sent and ends the connection in order, no reset.
TEST(PorchdNet, ATurnedAwayClientReadsWhyEvenWhenItSpokeFirst)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string log = StartPorchd(lan.get(), PubShare(lan.get(), ""));
    ASSERT_FALSE(log.empty());
    // ten connections that hang up before logging in: failed logins, host 2 is turned away
    for (int i = 0; i < 10; i++) {
        SilentClient quitter(lan.get(), 2);
        ASSERT_EQ(quitter.first_line.substr(0, 8), "SSH-2.0-");
    }
    g_usleep(300000); // porchd counts a failure once it has reaped the session

    int fd = OpenTcp(lan.get(), 2);
    ASSERT_GE(fd, 0);
    const char hello[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    ASSERT_EQ(write(fd, hello, sizeof hello - 1), (ssize_t)sizeof hello - 1);
    g_usleep(500000); // porchd has long written its line and dealt with the connection
    EXPECT_EQ(ReadLine(fd), "Porch: too many failed logins from this address; try again later");
    char ch;
    errno = 0;
    EXPECT_EQ(read(fd, &ch, 1), 0) << "an end of file, not a reset: " << g_strerror(errno);
    // porchd's loop goes on meanwhile: another address is served at once
    SilentClient other(lan.get(), 1);
    EXPECT_EQ(other.first_line.substr(0, 8), "SSH-2.0-");
    close(fd);

    // what the OpenSSH client shows (at -v)
    std::string script = lan->host_dir(2) + "/batch.txt";
    g_file_set_contents(script.c_str(), "ls /\n", -1, nullptr);
    auto r = lan->run(2,
                      {"sftp", "-v", "-b", script, "-P", std::to_string(kPort), "-o",
                       "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                       "BatchMode=yes", "guest@" + lan->address(1)},
                      20);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.err, "Porch: too many failed logins from this address")) << r.err;
    EXPECT_FALSE(Contains(r.err, "reset by peer")) << r.err;
}

// The identification names no library and version; no compression is offered.
TEST(PorchdNet, IdentificationAndKexinitOfferNoVersionNorCompression)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    ASSERT_EQ(g_mkdir_with_parents((d + "/pub").c_str(), 0755), 0);
    std::string log =
            StartPorchd(lan.get(), "[porch]\nlisten = " + lan->address(1) +
                                           "\n[share Pub]\npath = " + d + "/pub\nread = guest\n");
    ASSERT_FALSE(log.empty());
    int fd = OpenTcp(lan.get(), 2);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(ReadLine(fd), "SSH-2.0-Porch");
    const char hello[] = "SSH-2.0-PorchTest\r\n";
    ASSERT_EQ(write(fd, hello, sizeof hello - 1), (ssize_t)sizeof hello - 1);
    // the server's KEXINIT, in the clear: length, padding length, type 20, cookie, lists
    auto read_exact = [&](size_t n) {
        std::string b(n, '\0');
        size_t got = 0;
        while (got < n) {
            ssize_t r = read(fd, &b[got], n - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        b.resize(got);
        return b;
    };
    Packet head;
    head.body = read_exact(4);
    uint32_t len = head.get_u32();
    ASSERT_GT(len, 20u);
    ASSERT_LT(len, 35000u);
    Packet kexinit;
    kexinit.body = read_exact(len);
    ASSERT_EQ(kexinit.body.size(), len);
    kexinit.at = 1; // padding length
    ASSERT_EQ((uint8_t)kexinit.body[kexinit.at++], 20) << "SSH_MSG_KEXINIT";
    kexinit.at += 16; // cookie
    std::vector<std::string> lists;
    for (int i = 0; i < 10; i++)
        lists.push_back(kexinit.get_str());
    EXPECT_EQ(lists[6], "none") << "compression client to server";
    EXPECT_EQ(lists[7], "none") << "compression server to client";
    EXPECT_EQ(lists[1], "ssh-ed25519");
    close(fd);
}

// libssh hands a gssapi-with-mic request to the GSSAPI library (Kerberos: the keytab, the
// host's name) even when the server offers only publickey. porchd-session refuses it before
// that, and counts it as a failed attempt, as it does password and keyboard-interactive.
TEST(PorchdNet, AuthMethodsNotOfferedAreRefusedUnprocessed)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    std::string trace = d + "/krb5.trace";
    // KRB5_TRACE makes the Kerberos library create this file when a session uses it
    std::string log = d + "/porchd.log";
    ASSERT_TRUE(g_file_set_contents((d + "/porch.conf").c_str(), PubShare(lan.get(), "").c_str(),
                                    -1, nullptr));
    lan->spawn(1,
               {"env", "KRB5_TRACE=" + trace, "KRB5_KTNAME=FILE:" + d + "/no.keytab",
                PORCH_PROGRAM_PORCHD, "--config", d + "/porch.conf", "--state-dir", d + "/state"},
               log);
    ASSERT_TRUE(porch::test::WaitFor([&] { return Contains(ReadFile(log), "running"); }, 5))
            << ReadFile(log);
    std::string address = lan->address(1);
    auto attempt = [&](const std::function<int(ssh_session)> &auth, int times) {
        std::vector<int> results;
        lan->in_netns(2, [&] {
            // libssh's client keeps what gss_import_name() and its GSSAPI context
            // allocated when the method fails: its leak, not porchd's
            if (__lsan_disable != nullptr)
                __lsan_disable();
            ssh_session s = ssh_new();
            int port = kPort;
            ssh_options_set(s, SSH_OPTIONS_HOST, address.c_str());
            ssh_options_set(s, SSH_OPTIONS_PORT, &port);
            ssh_options_set(s, SSH_OPTIONS_USER, "guest");
            if (ssh_connect(s) != SSH_OK)
                ADD_FAILURE() << ssh_get_error(s);
            else
                for (int i = 0; i < times; i++) {
                    results.push_back(auth(s));
                    if (results.back() == SSH_AUTH_ERROR)
                        break;
                }
            ssh_disconnect(s);
            ssh_free(s);
            if (__lsan_enable != nullptr)
                __lsan_enable();
        });
        return results;
    };
    auto gssapi = [](ssh_session s) { return ssh_userauth_gssapi(s); };
    auto password = [](ssh_session s) { return ssh_userauth_password(s, nullptr, "guest"); };
    auto kbdint = [](ssh_session s) { return ssh_userauth_kbdint(s, nullptr, nullptr); };

    EXPECT_EQ(attempt(gssapi, 1), std::vector<int>{SSH_AUTH_DENIED});
    EXPECT_EQ(attempt(password, 1), std::vector<int>{SSH_AUTH_DENIED});
    EXPECT_EQ(attempt(kbdint, 1), std::vector<int>{SSH_AUTH_DENIED});
    g_usleep(300000);
    EXPECT_FALSE(porch::test::Exists(trace)) << "a session used the Kerberos library:\n"
                                             << ReadFile(trace);
    // each is a failed attempt: after six the session hangs up
    std::vector<int> many = attempt(gssapi, 10);
    EXPECT_EQ(many.size(), 7u);
    EXPECT_EQ(many.back(), SSH_AUTH_ERROR);
    EXPECT_TRUE(Contains(ReadFile(log), "no login after 6 failures")) << ReadFile(log);
    // and a guest still logs in
    RawSftp guest;
    lan->in_netns(2, [&] { EXPECT_EQ(guest.Connect(address), ""); });
}

// ---- requests for access ----------------------------------------------------------------

// A libssh client on host 2 that offers `key` (a private key file) as `user` and, like the
// porch client, falls back to guest when asked to; it hangs up before returning.
// Returns "peer", "guest" or "refused".
std::string
KeyLogin(porch::test::TestLan *lan, const std::string &key, const std::string &user,
         bool then_guest)
{
    std::string outcome = "refused";
    std::string address = lan->address(1);
    lan->in_netns(2, [&] {
        ssh_session s = ssh_new();
        ssh_key k = nullptr;
        int port = kPort;
        ssh_options_set(s, SSH_OPTIONS_HOST, address.c_str());
        ssh_options_set(s, SSH_OPTIONS_PORT, &port);
        if (ssh_connect(s) != SSH_OK ||
            ssh_pki_import_privkey_file(key.c_str(), nullptr, nullptr, nullptr, &k) != SSH_OK) {
            ADD_FAILURE() << ssh_get_error(s);
        } else if (ssh_userauth_publickey(s, user.c_str(), k) == SSH_AUTH_SUCCESS) {
            outcome = "peer";
        } else if (then_guest && ssh_userauth_none(s, "guest") == SSH_AUTH_SUCCESS) {
            outcome = "guest";
            ssh_channel ch = ssh_channel_new(s);
            if (ssh_channel_open_session(ch) != SSH_OK ||
                ssh_channel_request_subsystem(ch, "sftp") != SSH_OK)
                ADD_FAILURE() << "no sftp for the guest";
            ssh_channel_close(ch);
            ssh_channel_free(ch);
        }
        ssh_key_free(k);
        ssh_disconnect(s);
        ssh_free(s);
    });
    return outcome;
}

// The requests recorded in host 1's state folder once porchd's sessions have ended.
std::vector<std::string>
PendingNames(porch::test::TestLan *lan, size_t expected)
{
    std::vector<std::string> names;
    std::string state = lan->host_dir(1) + "/state";
    porch::test::WaitFor(
            [&] {
                g_autoptr(GPtrArray) list = porch_pending_list(state.c_str(), 0);
                names.clear();
                for (guint i = 0; i < list->len; i++)
                    names.push_back(((PorchPendingPeer *)list->pdata[i])->name);
                return names.size() >= expected;
            },
            3);
    g_usleep(200000); // and nothing more comes
    g_autoptr(GPtrArray) list = porch_pending_list(state.c_str(), 0);
    names.clear();
    for (guint i = 0; i < list->len; i++)
        names.push_back(((PorchPendingPeer *)list->pdata[i])->name);
    return names;
}

// The porch client offers its key, then logs in as guest: a listing of a share guests may
// read is no request for access.
TEST(PorchdNet, AGuestListingLeavesNoRequest)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string c = lan->host_dir(2);
    ASSERT_FALSE(porch::test::MakeKey(c + "/carol", "carol").empty());
    ASSERT_FALSE(StartPorchd(lan.get(), PubShare(lan.get(), "")).empty());
    EXPECT_EQ(KeyLogin(lan.get(), c + "/carol", "carol", true), "guest");
    EXPECT_EQ(PendingNames(lan.get(), 1).size(), 0u) << "the guest's key was recorded";
    // without the guest login, the same key asks for access
    EXPECT_EQ(KeyLogin(lan.get(), c + "/carol", "carol", false), "refused");
    EXPECT_EQ(PendingNames(lan.get(), 1), std::vector<std::string>{"carol"});
}

TEST(PorchdNet, ThrowawayKeysFromOneAddressTakeFewRequests)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string c = lan->host_dir(2);
    std::string log = StartPorchd(lan.get(), PubShare(lan.get(), ""));
    ASSERT_FALSE(log.empty());
    for (int i = 0; i < 7; i++) {
        std::string key = c + "/throwaway" + std::to_string(i);
        ASSERT_FALSE(porch::test::MakeKey(key, "x").empty());
        EXPECT_EQ(KeyLogin(lan.get(), key, "bob" + std::to_string(i), false), "refused");
        if (i == 0) // the first is the oldest by a second
            g_usleep(1100000);
    }
    // max-pending-per-address (4): the oldest went first, the newest is there
    std::vector<std::string> names = PendingNames(lan.get(), 4);
    EXPECT_EQ(names.size(), 4u);
    EXPECT_EQ(std::count(names.begin(), names.end(), "bob0"), 0);
    EXPECT_EQ(std::count(names.begin(), names.end(), "bob6"), 1);
}

TEST(PorchdNet, AFullTableOfRequestsIsLoggedNotSilent)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string c = lan->host_dir(2);
    std::string log = StartPorchd(lan.get(), PubShare(lan.get(), "max-pending = 2\n"));
    ASSERT_FALSE(log.empty());
    std::vector<std::string> fingerprints;
    for (int i = 0; i < 3; i++) {
        std::string key = c + "/k" + std::to_string(i);
        ASSERT_FALSE(porch::test::MakeKey(key, "x").empty());
        EXPECT_EQ(KeyLogin(lan.get(), key, "k" + std::to_string(i), false), "refused");
        EXPECT_EQ(PendingNames(lan.get(), std::min(i + 1, 2)).size(), (size_t)std::min(i + 1, 2));
        auto fp = lan->run(1, {"ssh-keygen", "-lf", key + ".pub"});
        size_t at = fp.out.find("SHA256:");
        ASSERT_NE(at, std::string::npos) << fp.out;
        fingerprints.push_back(fp.out.substr(at, fp.out.find(' ', at) - at));
    }
    EXPECT_TRUE(Contains(ReadFile(log), "WARNING") &&
                Contains(ReadFile(log), lan->address(2) + ": request for access of key " +
                                                fingerprints[2] +
                                                " not recorded: 2 requests "
                                                "are pending already"))
            << ReadFile(log);
}

TEST(PorchdNet, ExpiredRequestsGoWhenANewOneIsRecorded)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string c = lan->host_dir(2), state = lan->host_dir(1) + "/state";
    // a request last seen two minutes ago, by an earlier porchd (written as it wrote it
    // then); this one's launcher gives the state folder to the network side's user at start
    PorchPendingLimits limits = {64, 4, 60};
    gint64 then = g_get_real_time() / G_USEC_PER_SEC - 120;
    ASSERT_TRUE(porch_pending_record(state.c_str(), &limits, "old", "ssh-ed25519 AAAA old",
                                     "SHA256:old", "10.88.0.9", then, nullptr));
    std::string log = StartPorchd(lan.get(), PubShare(lan.get(), "pending-expiry = 60s\n"));
    ASSERT_FALSE(log.empty());
    ASSERT_EQ(PendingNames(lan.get(), 1), std::vector<std::string>{"old"})
            << "the earlier run's request is there";
    ASSERT_FALSE(porch::test::MakeKey(c + "/new", "new").empty());
    EXPECT_EQ(KeyLogin(lan.get(), c + "/new", "new", false), "refused");
    EXPECT_EQ(PendingNames(lan.get(), 1), std::vector<std::string>{"new"})
            << "the old request is removed";
}

} // namespace
