// test-engine.cc — the client's engine (shared/porch-sftp-client.c, porch-transfer.c) against
// porchd's real SFTP server: a porchd-session on the other end of a socketpair, its file
// operations done by a file worker serving a temporary folder (tests/local-session.h). No
// root, no test LAN, no sshd: label unit.
//
//   ListsTheSharesAndAFolder        "/" lists the shares the peer may read, a folder its
//                                   entries sorted, with types and sizes; a guest sees less
//   GetsASmallFile                  content, mode and mtime; nothing left behind
//   GetsAMultiMiBFileVerified       12 MiB and a bit, every range checked against the
//                                   server's SHA-256 (check-file)
//   ResumesAPart                    with PORCH_TRANSFER_RESUME a good NAME.part is resumed
//                                   ("resuming at 3.0 MiB"); one that does not match the file,
//                                   or is longer, is set aside as NAME.part.1 (.2), intact
//   SetsAsideAPartWithoutResume     without PORCH_TRANSFER_RESUME a NAME.part is set aside,
//                                   never overwritten
//   ALockedPartIsAnotherFetch       a NAME.part locked by another fetch: that file fails at
//                                   once ("another porch is fetching NAME into DIR"), the part
//                                   untouched, the others of a tree arrive; the engine holds
//                                   the lock while it fetches
//   GetsATreeRecursively            get -r of a small tree: folders, files, an empty folder
//   PutsRefusesWithoutForceReplacesWithForce
//                                   put of a new file, refused onto an existing one without
//                                   --force (which is left as it was), replaced with it;
//                                   put -r of a small tree; no temporary file left
//   ErrorsArriveAsTheirStatus       no such file (get, list, stat, share), permission denied
//                                   (a share the peer may only read, a guest's write); the
//                                   connection goes on after each
//   ManySourcesEngineVerifiesEveryRange
//                                   porch-multiget.c with two sessions as its sources: a file
//                                   of 20 MiB and 4097 bytes (whole ranges written with
//                                   O_DIRECT where the disk takes it, the odd last one through
//                                   the page cache) lands whole, every byte counted once; with
//                                   a range hash that is not the file's, the fetch fails and
//                                   keeps NAME.part
//   MultigetPace.AsksOthersOnlyWhileTheyCanHelp
//                                   more sources are looked for unless the origin's pace
//                                   finishes the file within PORCH_MULTIGET_JOIN_S
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib.h>

#include "local-session.h"
#include "test-util.h"

extern "C" {
#include "porch-identity.h"
#include "porch-multiget.h"
#include "porch-sftp-client-private.h"
#include "porch-transfer.h"
#include "session.h"
}

namespace
{

using porch::test::Contains;
using porch::test::Exists;
using porch::test::Leftovers;
using porch::test::LocalSession;
using porch::test::MakeDirs;
using porch::test::MakeRandomFile;
using porch::test::ReadFile;
using porch::test::Sha256File;
using porch::test::WriteFile;
namespace fs = std::filesystem;

constexpr const char *kPeer = "alice";

// What a transfer reported through its callbacks.
struct Outcome {
    struct Failure {
        std::string path;
        GQuark domain;
        int code;
        std::string message;
    };
    std::vector<Failure> failed;
    std::vector<std::string> notices; // "PATH: MESSAGE"
    PorchProgress last = {};

    static void OnFailed(const char *path, const GError *e, gpointer data)
    {
        static_cast<Outcome *>(data)->failed.push_back({path, e->domain, e->code, e->message});
    }
    static void OnNotice(const char *path, const char *message, gpointer data)
    {
        static_cast<Outcome *>(data)->notices.push_back(std::string(path) + ": " + message);
    }
    static void OnProgress(const PorchProgress *p, gpointer data)
    {
        Outcome *o = static_cast<Outcome *>(data);
        o->last = *p;
        o->last.current = nullptr;
    }
    PorchTransferCallbacks Callbacks()
    {
        return {OnProgress, OnFailed, OnNotice, nullptr, this};
    }
    std::string Notices() const
    {
        std::string s;
        for (const std::string &n : notices)
            s += n + "\n";
        return s;
    }
};

// A file tree: relative path -> "dir", or "file MODE SIZE SHA256".
using Tree = std::map<std::string, std::string>;

Tree
Snapshot(const std::string &root)
{
    Tree t;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string path = it->path().string(), rel = path.substr(root.size() + 1);
        struct stat st;
        if (lstat(path.c_str(), &st) != 0)
            t[rel] = "gone";
        else if (S_ISDIR(st.st_mode))
            t[rel] = "dir";
        else if (S_ISREG(st.st_mode))
            t[rel] = "file " + std::to_string(st.st_mode & 0777) + " " +
                     std::to_string(st.st_size) + " " + Sha256File(path);
        else
            t[rel] = "other";
    }
    return t;
}

bool
SetMtime(const std::string &path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    return utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0;
}

// Opens @path (made when missing) and takes the lock a fetch takes on NAME.part (an OFD write
// lock on all of it): the descriptor, which holds it until closed, or -1 when another holds it.
int
LockPart(const std::string &path)
{
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (fd >= 0 && fcntl(fd, F_OFD_SETLK, &lock) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// How many pages of @path's bytes [@from, @from + @len) are in the page cache.
size_t
CachedPages(const std::string &path, off_t from, off_t len)
{
    const long page = sysconf(_SC_PAGESIZE);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SIZE_MAX;
    void *map = mmap(nullptr, (size_t)(from + len), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return SIZE_MAX;
    std::vector<unsigned char> in((size_t)((from + len + page - 1) / page));
    size_t n = 0;
    if (mincore(map, (size_t)(from + len), in.data()) == 0)
        for (size_t i = (size_t)(from / page); i < in.size(); i++)
            n += in[i] & 1;
    else
        n = SIZE_MAX;
    munmap(map, (size_t)(from + len));
    return n;
}

time_t
Mtime(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_mtim.tv_sec : -1;
}

// Two shares in a temporary folder: Work, which the peer alice (our key) may write, and
// Public, which anyone may read, guests too; a folder for the client's side; porchd's state.
class Engine : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        // modes are compared across both sides: the umask of a usual session, whatever ours
        umask(022);
        g_autofree char *base = g_dir_make_tmp("porch-engine-XXXXXX", nullptr);
        ASSERT_NE(base, nullptr) << "$TMPDIR must be writable";
        base_ = base;
        work_ = base_ + "/work";
        pub_ = base_ + "/pub";
        local_ = base_ + "/local";
        for (const std::string &d : {work_, pub_, local_})
            ASSERT_TRUE(MakeDirs(d));
        ASSERT_TRUE(MakeDirs(base_ + "/state", 0700));
        g_autoptr(GError) error = nullptr;
        key_ = porch_identity_load_or_create((base_ + "/id_ed25519").c_str(), &error);
        ASSERT_NE(key_, nullptr) << error->message;
        g_autofree char *line = porch_key_public_line(key_, kPeer);
        ASSERT_TRUE(WriteFile(base_ + "/porch.conf",
                              std::string("[porch]\n\n[peer ") + kPeer + "]\nkey = " + line +
                                      "\n\n[share Work]\npath = " + work_ + "\nwrite = " + kPeer +
                                      "\n\n[share Public]\npath = " + pub_ + "\nread = guest\n"));
    }
    void TearDown() override
    {
        // A last round trip first, so that no reply (to a CLOSE sent without waiting) is on
        // its way when the client hangs up: porchd-session ends with status 1 when it cannot
        // send one.
        for (auto &c : clients_) {
            g_autoptr(PorchRemoteFile) root = porch_client_stat(c.get(), "/", nullptr, nullptr);
        }
        clients_.clear();
        // each session ends once its client has gone, having served it
        for (auto &s : sessions_)
            EXPECT_EQ(s->Wait(10), 0) << "porchd-session's exit status";
        sessions_.clear();
        if (key_ != nullptr)
            ssh_key_free(key_);
        std::error_code ec;
        fs::remove_all(base_, ec);
    }

    // A client connected to a new porchd-session: as the peer (our key) or as a guest.
    PorchClient *Connect(bool as_peer = true)
    {
        std::string why;
        auto session = LocalSession::Start(base_ + "/porch.conf", base_ + "/state", &why);
        EXPECT_NE(session, nullptr) << why;
        if (session == nullptr)
            return nullptr;
        std::string known = base_ + "/known_peers";
        PorchConnectOptions o = {};
        o.address = "engine-test";
        o.known_peers = known.c_str();
        o.identity = as_peer ? key_ : nullptr;
        o.user = kPeer;
        o.timeout_seconds = 10;
        g_autoptr(GError) error = nullptr;
        PorchClient *c =
                porch_client_connect_socket(&o, session->TakeClientSocket(), nullptr, &error);
        EXPECT_NE(c, nullptr) << error->message;
        sessions_.push_back(std::move(session));
        if (c != nullptr)
            clients_.emplace_back(c, porch_client_free);
        return c;
    }

    // Names of a listing, with "/" after folders.
    static std::vector<std::string> Names(GPtrArray *files)
    {
        std::vector<std::string> names;
        for (guint i = 0; i < files->len; i++) {
            auto *f = static_cast<PorchRemoteFile *>(files->pdata[i]);
            names.push_back(std::string(f->name) + (f->type == PORCH_REMOTE_DIRECTORY ? "/" : ""));
        }
        return names;
    }

    bool Get(PorchClient *c, const std::string &remote, const std::string &local, Outcome *o,
             int flags = 0, GError **error = nullptr)
    {
        PorchTransferCallbacks cb = o->Callbacks();
        return porch_transfer_get(c, remote.c_str(), local.c_str(), (PorchTransferFlags)flags, &cb,
                                  nullptr, error);
    }
    bool Put(PorchClient *c, const std::string &local, const std::string &remote, Outcome *o,
             int flags = 0, GError **error = nullptr)
    {
        PorchTransferCallbacks cb = o->Callbacks();
        return porch_transfer_put(c, local.c_str(), remote.c_str(), (PorchTransferFlags)flags, &cb,
                                  nullptr, error);
    }

    std::string base_, work_, pub_, local_;
    ssh_key key_ = nullptr;
    std::vector<std::unique_ptr<LocalSession>> sessions_;
    std::vector<std::unique_ptr<PorchClient, void (*)(PorchClient *)>> clients_;
};

TEST_F(Engine, ListsTheSharesAndAFolder)
{
    ASSERT_TRUE(WriteFile(work_ + "/b.txt", "bee\n"));
    ASSERT_TRUE(WriteFile(work_ + "/a.txt", "a\n"));
    ASSERT_TRUE(MakeDirs(work_ + "/sub"));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(porch_client_is_guest(c));
    EXPECT_TRUE(c->has_check_file) << "porchd offers check-file with sha256";

    g_autoptr(GError) error = nullptr;
    g_autoptr(GPtrArray) root = porch_client_list(c, "/", nullptr, &error);
    ASSERT_NE(root, nullptr) << error->message;
    EXPECT_EQ(Names(root), (std::vector<std::string>{"Public/", "Work/"}));

    g_autoptr(GPtrArray) work = porch_client_list(c, "/Work", nullptr, &error);
    ASSERT_NE(work, nullptr) << error->message;
    EXPECT_EQ(Names(work), (std::vector<std::string>{"a.txt", "b.txt", "sub/"}));
    auto *b = static_cast<PorchRemoteFile *>(work->pdata[1]);
    EXPECT_EQ(b->type, PORCH_REMOTE_FILE);
    EXPECT_EQ(b->size, 4u);
    EXPECT_EQ(b->mode, 0644u);
    EXPECT_EQ(b->mtime, Mtime(work_ + "/b.txt"));

    g_autoptr(PorchRemoteFile) st = porch_client_stat(c, "/Work/a.txt", nullptr, &error);
    ASSERT_NE(st, nullptr) << error->message;
    EXPECT_EQ(st->size, 2u);

    // porchd was asked for the login, then for the worker of each share ("/" shows their
    // folders' attributes), once each
    EXPECT_EQ(sessions_[0]->Requests(),
              (std::vector<std::string>{"login peer alice", "files Work", "files Public"}));

    // a guest sees the share guests may read, and nothing else
    PorchClient *guest = Connect(false);
    ASSERT_NE(guest, nullptr);
    EXPECT_TRUE(porch_client_is_guest(guest));
    g_autoptr(GPtrArray) guest_root = porch_client_list(guest, "/", nullptr, &error);
    ASSERT_NE(guest_root, nullptr) << error->message;
    EXPECT_EQ(Names(guest_root), (std::vector<std::string>{"Public/"}));
}

TEST_F(Engine, GetsASmallFile)
{
    ASSERT_TRUE(WriteFile(work_ + "/hello.txt", "hello, porch\n", 0640));
    ASSERT_TRUE(SetMtime(work_ + "/hello.txt", 1700000000));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Get(c, "/Work/hello.txt", local_, &o, 0, &error)) << error->message;
    EXPECT_TRUE(o.failed.empty());
    EXPECT_EQ(ReadFile(local_ + "/hello.txt"), "hello, porch\n");
    EXPECT_EQ(Mtime(local_ + "/hello.txt"), 1700000000);
    EXPECT_EQ(Snapshot(local_), Snapshot(work_)) << "mode 0640 too";
    EXPECT_EQ(o.last.done_files, 1u);
    EXPECT_EQ(o.last.done_bytes, 13u);
    EXPECT_TRUE(Leftovers(local_).empty());
}

TEST_F(Engine, GetsAMultiMiBFileVerified)
{
    // past two of the engine's 8 MiB ranges, each verified by its own check-file
    const off_t size = (12 << 20) + 4321;
    std::string sum = MakeRandomFile(work_ + "/big.bin", size, 15);
    ASSERT_FALSE(sum.empty());
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Get(c, "/Work/big.bin", local_ + "/copy.bin", &o, 0, &error)) << error->message;
    EXPECT_EQ(Sha256File(local_ + "/copy.bin"), sum);
    EXPECT_EQ(o.last.done_bytes, (guint64)size);
    EXPECT_TRUE(Leftovers(local_).empty());
}

TEST_F(Engine, ResumesAPart)
{
    const off_t size = (10 << 20) + 77;
    std::string sum = MakeRandomFile(work_ + "/big.bin", size, 7);
    ASSERT_FALSE(sum.empty());
    std::string whole = ReadFile(work_ + "/big.bin");
    const size_t have = (3 << 20) + 123;
    ASSERT_TRUE(WriteFile(local_ + "/big.bin.part", whole.substr(0, have)));
    // and one that went wrong: a byte in it differs from the file
    std::string bad = whole.substr(0, 1 << 20);
    bad[4096] ^= 0x5a;
    ASSERT_TRUE(WriteFile(local_ + "/other.bin.part", bad));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Get(c, "/Work/big.bin", local_ + "/big.bin", &o, PORCH_TRANSFER_RESUME, &error))
            << error->message;
    EXPECT_EQ(Sha256File(local_ + "/big.bin"), sum);
    EXPECT_EQ(o.Notices(), local_ + "/big.bin: resuming at 3.0 MiB: the " + std::to_string(have) +
                                   " bytes already here match the neighbour's file\n");
    EXPECT_EQ(o.last.done_bytes, (guint64)size);

    // set aside, whole, under a name of its own; the file fetched whole
    Outcome o2;
    ASSERT_TRUE(Get(c, "/Work/big.bin", local_ + "/other.bin", &o2, PORCH_TRANSFER_RESUME, &error))
            << error->message;
    EXPECT_EQ(Sha256File(local_ + "/other.bin"), sum);
    EXPECT_EQ(o2.Notices(), local_ + "/other.bin.part: does not match the neighbour's file; kept "
                                     "as other.bin.part.1, fetching the file whole\n");
    EXPECT_EQ(ReadFile(local_ + "/other.bin.part.1"), bad);

    // longer than the file: not the file's start either; .1 is taken, so .2
    ASSERT_EQ(unlink((local_ + "/other.bin").c_str()), 0);
    ASSERT_TRUE(WriteFile(local_ + "/other.bin.part", whole + "more"));
    Outcome o3;
    ASSERT_TRUE(Get(c, "/Work/big.bin", local_ + "/other.bin", &o3, PORCH_TRANSFER_RESUME, &error))
            << error->message;
    EXPECT_EQ(Sha256File(local_ + "/other.bin"), sum);
    EXPECT_TRUE(Contains(o3.Notices(), "/other.bin.part: is longer than the neighbour's file; "
                                       "kept as other.bin.part.2"))
            << o3.Notices();
    EXPECT_EQ(ReadFile(local_ + "/other.bin.part.2"), whole + "more");
    EXPECT_EQ(ReadFile(local_ + "/other.bin.part.1"), bad);
    EXPECT_TRUE(Leftovers(local_).empty());
}

TEST_F(Engine, SetsAsideAPartWithoutResume)
{
    ASSERT_TRUE(WriteFile(work_ + "/f.txt", "the file\n"));
    ASSERT_TRUE(WriteFile(local_ + "/f.txt.part", "the file"));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Get(c, "/Work/f.txt", local_, &o, 0, &error)) << error->message;
    EXPECT_EQ(ReadFile(local_ + "/f.txt"), "the file\n");
    EXPECT_EQ(o.Notices(), local_ + "/f.txt.part: was there already and is not resumed; kept as "
                                    "f.txt.part.1, fetching the file whole\n");
    EXPECT_EQ(ReadFile(local_ + "/f.txt.part.1"), "the file");
    EXPECT_TRUE(Leftovers(local_).empty());
}

// Tries to take a NAME.part's lock at every notice ("resuming at ...") and progress call of a
// transfer, while it is there: whether it ever could.
struct LockProbe {
    std::string part;
    int probed = 0;
    bool lockable = false;

    void Probe()
    {
        int fd = open(part.c_str(), O_RDWR | O_CLOEXEC);
        struct flock lock = {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        if (fd < 0)
            return; /* not there (yet, or any more) */
        probed++;
        if (fcntl(fd, F_OFD_SETLK, &lock) == 0)
            lockable = true;
        close(fd);
    }
    static void OnProgress(const PorchProgress *, gpointer data)
    {
        static_cast<LockProbe *>(data)->Probe();
    }
    static void OnNotice(const char *, const char *, gpointer data)
    {
        static_cast<LockProbe *>(data)->Probe();
    }
};

TEST_F(Engine, ALockedPartIsAnotherFetch)
{
    const off_t size = (6 << 20) + 5;
    std::string sum = MakeRandomFile(work_ + "/big.bin", size, 21);
    ASSERT_FALSE(sum.empty());
    ASSERT_TRUE(MakeDirs(work_ + "/tree"));
    ASSERT_TRUE(WriteFile(work_ + "/tree/a.txt", "a\n"));
    ASSERT_TRUE(WriteFile(work_ + "/tree/b.txt", "b\n"));
    ASSERT_TRUE(MakeDirs(local_ + "/tree"));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    // another fetch holds big.bin.part, with a start of the file in it
    std::string whole = ReadFile(work_ + "/big.bin");
    ASSERT_TRUE(WriteFile(local_ + "/big.bin.part", whole.substr(0, 1000)));
    int held = LockPart(local_ + "/big.bin.part");
    ASSERT_GE(held, 0) << strerror(errno);
    Outcome o;
    g_autoptr(GError) error = nullptr;
    EXPECT_FALSE(Get(c, "/Work/big.bin", local_, &o, PORCH_TRANSFER_RESUME, &error));
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED))
            << error->message;
    g_clear_error(&error);
    ASSERT_EQ(o.failed.size(), 1u);
    EXPECT_EQ(o.failed[0].path, local_ + "/big.bin");
    EXPECT_EQ(o.failed[0].code, G_IO_ERROR_BUSY);
    EXPECT_EQ(o.failed[0].message, "another porch is fetching big.bin into " + local_);
    EXPECT_EQ(ReadFile(local_ + "/big.bin.part"), whole.substr(0, 1000)) << "left as it was";
    EXPECT_FALSE(Exists(local_ + "/big.bin"));

    // per file in a tree: the one held fails, the others arrive
    int held_a = LockPart(local_ + "/tree/a.txt.part");
    ASSERT_GE(held_a, 0) << strerror(errno);
    Outcome tree;
    EXPECT_FALSE(Get(c, "/Work/tree", local_, &tree, PORCH_TRANSFER_RECURSIVE, &error));
    g_clear_error(&error);
    ASSERT_EQ(tree.failed.size(), 1u);
    EXPECT_EQ(tree.failed[0].message, "another porch is fetching a.txt into " + local_ + "/tree");
    EXPECT_EQ(ReadFile(local_ + "/tree/b.txt"), "b\n");
    EXPECT_FALSE(Exists(local_ + "/tree/a.txt"));
    close(held_a);
    unlink((local_ + "/tree/a.txt.part").c_str());

    // once the other has let go, the same fetch resumes it; the engine holds the lock meanwhile
    close(held);
    LockProbe probe{local_ + "/big.bin.part"};
    PorchTransferCallbacks cb = {LockProbe::OnProgress, nullptr, LockProbe::OnNotice, nullptr,
                                 &probe};
    ASSERT_TRUE(porch_transfer_get(c, "/Work/big.bin", local_.c_str(), PORCH_TRANSFER_RESUME, &cb,
                                   nullptr, &error))
            << error->message;
    EXPECT_EQ(Sha256File(local_ + "/big.bin"), sum);
    EXPECT_GT(probe.probed, 0);
    EXPECT_FALSE(probe.lockable) << "NAME.part could be locked during the fetch";
    EXPECT_TRUE(Leftovers(local_).empty());
}

TEST_F(Engine, GetsATreeRecursively)
{
    ASSERT_TRUE(MakeDirs(work_ + "/tree/sub/deeper"));
    ASSERT_TRUE(MakeDirs(work_ + "/tree/empty"));
    ASSERT_TRUE(WriteFile(work_ + "/tree/a.txt", "a\n"));
    ASSERT_TRUE(WriteFile(work_ + "/tree/sub/run.sh", "#!/bin/sh\n", 0755));
    ASSERT_FALSE(MakeRandomFile(work_ + "/tree/sub/b.bin", 300 * 1024, 3).empty());
    ASSERT_TRUE(WriteFile(work_ + "/tree/sub/deeper/c.txt", ""));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Get(c, "/Work/tree", local_, &o, PORCH_TRANSFER_RECURSIVE, &error))
            << error->message;
    EXPECT_TRUE(o.failed.empty());
    EXPECT_EQ(Snapshot(local_ + "/tree"), Snapshot(work_ + "/tree"));
    EXPECT_EQ(o.last.done_files, 4u);
    EXPECT_TRUE(o.last.listing_done);
    EXPECT_TRUE(Leftovers(local_).empty());
}

// porchd's network side hears of a file being fetched (for porch status) unless it is small
// (64 KiB at most) and sent whole by one reply: such files cost it no note, so that a tree of
// small files does not wake it twice per file.
TEST_F(Engine, SmallFilesSentWholeAreNotNotedToPorchd)
{
    ASSERT_TRUE(MakeDirs(work_ + "/notes"));
    for (int i = 0; i < 20; i++)
        ASSERT_TRUE(WriteFile(work_ + "/notes/small" + std::to_string(i) + ".txt",
                              std::string(100 + i, 'x')));
    // more than one read: the client asks less than 256 KiB at a time
    ASSERT_FALSE(MakeRandomFile(work_ + "/notes/big.bin", 2 << 20, 5).empty());
    // one read, but one that can take seconds on a slow link
    ASSERT_FALSE(MakeRandomFile(work_ + "/notes/mid.bin", 100 << 10, 6).empty());
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Get(c, "/Work/notes", local_, &o, PORCH_TRANSFER_RECURSIVE, &error))
            << error->message;
    EXPECT_EQ(Snapshot(local_ + "/notes"), Snapshot(work_ + "/notes"));

    // "transfer ID get SIZE DONE PATH" and "transfer-end ID"
    auto notes = [&](const char *about) {
        std::vector<std::string> found;
        for (const std::string &r : sessions_[0]->Requests())
            if (g_str_has_prefix(r.c_str(), "transfer") && r.find(about) != std::string::npos)
                found.push_back(r);
        return found;
    };
    // the big and the middle file's: notes with their path and size, and their ends once
    // they are closed
    EXPECT_TRUE(
            porch::test::WaitFor([&] { return notes(PORCH_CONTROL_TRANSFER_END).size() >= 2; }, 5));
    std::vector<std::string> big = notes(" Work/notes/big.bin");
    ASSERT_FALSE(big.empty());
    EXPECT_TRUE(g_str_has_prefix(big[0].c_str(), PORCH_CONTROL_TRANSFER)) << big[0];
    EXPECT_NE(big[0].find(" get 2097152 "), std::string::npos) << big[0];
    std::vector<std::string> mid = notes(" Work/notes/mid.bin");
    ASSERT_EQ(mid.size(), 1u);
    EXPECT_NE(mid[0].find(" get 102400 102400 "), std::string::npos) << mid[0];
    EXPECT_EQ(notes(PORCH_CONTROL_TRANSFER_END).size(), 2u);
    // and none of the small files'
    EXPECT_EQ(notes("small").size(), 0u);
}

TEST_F(Engine, PutsRefusesWithoutForceReplacesWithForce)
{
    ASSERT_TRUE(WriteFile(local_ + "/up.txt", "first\n", 0600));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);

    Outcome o;
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(Put(c, local_ + "/up.txt", "/Work", &o, 0, &error)) << error->message;
    EXPECT_EQ(ReadFile(work_ + "/up.txt"), "first\n");

    // onto the file that is there now: refused, and the file stays as it was
    ASSERT_TRUE(WriteFile(local_ + "/up.txt", "second, longer\n", 0600));
    Outcome refused;
    EXPECT_FALSE(Put(c, local_ + "/up.txt", "/Work/up.txt", &refused, 0, &error));
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED))
            << error->message;
    g_clear_error(&error);
    ASSERT_EQ(refused.failed.size(), 1u);
    EXPECT_EQ(refused.failed[0].domain, G_IO_ERROR);
    EXPECT_EQ(refused.failed[0].code, G_IO_ERROR_EXISTS) << refused.failed[0].message;
    EXPECT_EQ(ReadFile(work_ + "/up.txt"), "first\n");

    Outcome forced;
    ASSERT_TRUE(Put(c, local_ + "/up.txt", "/Work/up.txt", &forced, PORCH_TRANSFER_FORCE, &error))
            << error->message;
    EXPECT_EQ(ReadFile(work_ + "/up.txt"), "second, longer\n");

    // a small tree, and a file of a few MiB in it: ranges verified as for a get
    ASSERT_TRUE(MakeDirs(local_ + "/docs/inner"));
    ASSERT_TRUE(WriteFile(local_ + "/docs/one.txt", "one\n"));
    ASSERT_FALSE(MakeRandomFile(local_ + "/docs/inner/two.bin", (3 << 20) + 5, 9).empty());
    Outcome tree;
    ASSERT_TRUE(Put(c, local_ + "/docs", "/Work", &tree, PORCH_TRANSFER_RECURSIVE, &error))
            << error->message;
    EXPECT_EQ(Snapshot(work_ + "/docs"), Snapshot(local_ + "/docs"));
    EXPECT_TRUE(Leftovers(work_).empty());
}

TEST_F(Engine, ErrorsArriveAsTheirStatus)
{
    ASSERT_TRUE(WriteFile(pub_ + "/notice.txt", "read me\n"));
    ASSERT_TRUE(WriteFile(local_ + "/up.txt", "up\n"));
    PorchClient *c = Connect();
    ASSERT_NE(c, nullptr);
    g_autoptr(GError) error = nullptr;

    // no such file: a get fails that file, a listing or stat the call
    Outcome missing;
    EXPECT_FALSE(Get(c, "/Work/missing.txt", local_, &missing, 0, &error));
    g_clear_error(&error);
    ASSERT_EQ(missing.failed.size(), 1u);
    EXPECT_EQ(missing.failed[0].code, G_IO_ERROR_NOT_FOUND) << missing.failed[0].message;
    EXPECT_FALSE(Exists(local_ + "/missing.txt"));
    EXPECT_TRUE(Leftovers(local_).empty());
    EXPECT_EQ(porch_client_list(c, "/Work/nothing", nullptr, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) << error->message;
    g_clear_error(&error);
    EXPECT_EQ(porch_client_list(c, "/NoSuchShare", nullptr, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) << error->message;
    g_clear_error(&error);
    EXPECT_EQ(porch_client_stat(c, "/Work/missing.txt", nullptr, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) << error->message;
    g_clear_error(&error);

    // permission denied: Public is the peer's to read only
    Outcome denied;
    EXPECT_FALSE(Put(c, local_ + "/up.txt", "/Public/up.txt", &denied, 0, &error));
    g_clear_error(&error);
    ASSERT_EQ(denied.failed.size(), 1u);
    EXPECT_EQ(denied.failed[0].code, G_IO_ERROR_PERMISSION_DENIED) << denied.failed[0].message;
    EXPECT_EQ(Snapshot(pub_).size(), 1u) << "nothing was made in Public";

    // and the connection goes on
    g_autoptr(GPtrArray) pub = porch_client_list(c, "/Public", nullptr, &error);
    ASSERT_NE(pub, nullptr) << error->message;
    EXPECT_EQ(Names(pub), (std::vector<std::string>{"notice.txt"}));

    // a guest may read Public, and nothing more
    PorchClient *guest = Connect(false);
    ASSERT_NE(guest, nullptr);
    EXPECT_EQ(porch_client_list(guest, "/Work", nullptr, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) << error->message;
    g_clear_error(&error);
    Outcome guest_put;
    EXPECT_FALSE(Put(guest, local_ + "/up.txt", "/Public", &guest_put, 0, &error));
    g_clear_error(&error);
    ASSERT_EQ(guest_put.failed.size(), 1u);
    EXPECT_EQ(guest_put.failed[0].code, G_IO_ERROR_PERMISSION_DENIED)
            << guest_put.failed[0].message;
    Outcome guest_get;
    ASSERT_TRUE(Get(guest, "/Public/notice.txt", local_, &guest_get, 0, &error)) << error->message;
    EXPECT_EQ(ReadFile(local_ + "/notice.txt"), "read me\n");
}

TEST_F(Engine, ManySourcesEngineVerifiesEveryRange)
{
    const off_t size = (20 << 20) + 4097;
    std::string sum = MakeRandomFile(work_ + "/big.bin", size, 21);
    ASSERT_FALSE(sum.empty());
    PorchClient *a = Connect(), *b = Connect();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GBytes) ranges =
            porch_multiget_range_hashes(a, "/Work/big.bin", (guint64)size, nullptr, &error);
    ASSERT_NE(ranges, nullptr) << error->message;
    ASSERT_EQ(g_bytes_get_size(ranges), 3u * PORCH_SHA256_LEN);

    PorchMultigetSource sources[2] = {{a, "a", "/Work/big.bin", 0, nullptr},
                                      {b, "b", "/Work/big.bin", 0, nullptr}};
    PorchMultigetPlan plan = {};
    plan.size = (guint64)size;
    plan.ranges = ranges;
    plan.mtime = -1;
    std::string local = local_ + "/copy.bin";
    ASSERT_TRUE(porch_multiget(sources, 2, &plan, local.c_str(), nullptr, nullptr, &error))
            << error->message;
    // The whole ranges went past the page cache where the disk takes O_DIRECT: none of their
    // pages is cached yet (nothing has read the copy), the odd last range's are.
    struct statfs fs = {};
    ASSERT_EQ(statfs(local_.c_str(), &fs), 0);
    if (fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC ||
        fs.f_type == BTRFS_SUPER_MAGIC) {
        EXPECT_EQ(CachedPages(local, 0, 16 << 20), 0u) << "whole ranges written through the cache";
        EXPECT_GT(CachedPages(local, 16 << 20, size - (16 << 20)), 0u);
    } else {
        std::cerr << "(" << local_ << " is on a file system without O_DIRECT writes: the "
                  << "page-cache check is left out)\n";
    }
    EXPECT_EQ(Sha256File(local), sum);
    EXPECT_EQ(sources[0].bytes + sources[1].bytes, (guint64)size);
    EXPECT_EQ(sources[0].dropped, nullptr);
    EXPECT_EQ(sources[1].dropped, nullptr);
    EXPECT_FALSE(Exists(local + ".part"));

    // the origin's hash of the last range is not the file's: every source sends "wrong" bytes
    // for it and is dropped; what was verified stays in NAME.part for a resume
    std::string bad(static_cast<const char *>(g_bytes_get_data(ranges, nullptr)),
                    g_bytes_get_size(ranges));
    bad[bad.size() - 1] ^= 1;
    g_autoptr(GBytes) wrong = g_bytes_new(bad.data(), bad.size());
    plan.ranges = wrong;
    PorchMultigetSource again[2] = {{a, "a", "/Work/big.bin", 0, nullptr},
                                    {b, "b", "/Work/big.bin", 0, nullptr}};
    std::string other = local_ + "/other.bin";
    g_clear_error(&error);
    EXPECT_FALSE(porch_multiget(again, 2, &plan, other.c_str(), nullptr, nullptr, &error));
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(Contains(error->message, "every source failed")) << error->message;
    EXPECT_FALSE(Exists(other));
    EXPECT_TRUE(Exists(other + ".part"));
    for (PorchMultigetSource &s : again) {
        ASSERT_NE(s.dropped, nullptr);
        EXPECT_TRUE(Contains(s.dropped, "sent wrong data for bytes 16777216-20975616"))
                << s.dropped;
        g_free(s.dropped);
    }
}

TEST(MultigetPace, AsksOthersOnlyWhileTheyCanHelp)
{
    const guint64 mib = 1 << 20;
    // nothing yet: ask
    EXPECT_TRUE(porch_multiget_worth_more_sources(0, 512 * mib, 1500000));
    // 512 MiB whole: no
    EXPECT_FALSE(porch_multiget_worth_more_sources(512 * mib, 512 * mib, 1300000));
    // 400 of 512 MiB in 1.5 s: the rest in 0.42 s, less than a join takes
    EXPECT_FALSE(porch_multiget_worth_more_sources(400 * mib, 512 * mib, 1500000));
    // 70 of 512 MiB in 1.5 s (a 400 Mbit/s link): 9.5 s to go
    EXPECT_TRUE(porch_multiget_worth_more_sources(70 * mib, 512 * mib, 1500000));
    // exactly PORCH_MULTIGET_JOIN_S to go is still worth it
    EXPECT_TRUE(porch_multiget_worth_more_sources(100 * mib, 200 * mib,
                                                  (gint64)(PORCH_MULTIGET_JOIN_S * 1e6)));
}

} // namespace
