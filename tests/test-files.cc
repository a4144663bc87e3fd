// test-files.cc — a share's file operations (daemon/files.h): done in this process (direct)
// and asked of a real porchd-worker over its socket (remote). The worker runs as the share's
// owner: as root, the test makes the share belong to `nobody` and starts the worker as that
// user; otherwise the worker runs as the test's own user.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libssh/sftp.h>

#include "test-util.h"

extern "C" {
#include "fd-pass.h"
#include "files.h"
#include "porch-hash.h"
#include "porch-jail.h"
}

namespace
{

using porch::test::ReadFile;
using porch::test::WriteFile;

// The value of `key` in /proc/PID/status, "" when missing.
std::string
ProcStatus(pid_t pid, const std::string &key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ":", 0) == 0) {
            std::string v = line.substr(key.size() + 1);
            return v.substr(v.find_first_not_of(" \t"));
        }
    return "";
}

class Files : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *base = g_dir_make_tmp("porch-files-XXXXXX", nullptr);
        ASSERT_NE(base, nullptr);
        base_ = base;
        root_ = base_ + "/share";
        ASSERT_EQ(g_mkdir_with_parents((root_ + "/sub").c_str(), 0755), 0);
        ASSERT_TRUE(WriteFile(root_ + "/a.txt", "hello\n"));
        ASSERT_TRUE(WriteFile(base_ + "/outside.txt", "outside\n"));
        ASSERT_EQ(symlink("../outside.txt", (root_ + "/out").c_str()), 0);
        if (geteuid() == 0) {
            struct passwd *pw = getpwnam("nobody");
            ASSERT_NE(pw, nullptr);
            owner_ = pw->pw_uid;
            group_ = pw->pw_gid;
            ASSERT_EQ(chmod(base_.c_str(), 0755), 0);
            for (const char *p : {"", "/sub", "/a.txt"})
                ASSERT_EQ(lchown((root_ + p).c_str(), owner_, group_), 0);
            ASSERT_EQ(lchown((root_ + "/out").c_str(), owner_, group_), 0);
        } else {
            owner_ = geteuid();
            group_ = getegid();
        }
    }
    void TearDown() override
    {
        remote_.reset();
        if (control_ >= 0)
            close(control_);
        if (worker_ > 0) {
            int status;
            if (!porch::test::WaitFor([&] { return waitpid(worker_, &status, WNOHANG) == worker_; },
                                      5)) {
                kill(worker_, SIGKILL);
                waitpid(worker_, &status, 0);
            }
        }
        std::error_code ec;
        std::filesystem::remove_all(base_, ec);
    }
    // Starts porchd-worker on the share (as its owner) in `mode` (--write, --inbox, or nullptr:
    // read-only) and returns a client connection.
    PorchFiles *StartWorker(const char *mode = "--write")
    {
        int ctl[2], cli[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cli) != 0)
            return nullptr;
        std::string program = PORCH_PROGRAM_PORCHD_WORKER;
        // sanitizer builds let LeakSanitizer work in the worker's sandbox (porch-sandbox.c)
        g_auto(GStrv) env = g_get_environ();
        worker_ = fork();
        if (worker_ == 0) {
            dup2(ctl[1], 3);
            if (geteuid() == 0 &&
                (setgroups(0, nullptr) != 0 || setresgid(group_, group_, group_) != 0 ||
                 setresuid(owner_, owner_, owner_) != 0))
                _exit(127);
            const char *argv[] = {program.c_str(), "--root", root_.c_str(), mode, nullptr};
            execve(program.c_str(), (char **)argv, env);
            _exit(127);
        }
        close(ctl[1]);
        control_ = ctl[0];
        if (!SendClient(cli[1]))
            return nullptr;
        close(cli[1]);
        return porch_files_new_remote(cli[0]);
    }
    bool SendClient(int fd)
    {
        return porch_fd_send(control_, "c", 1, &fd, 1);
    }

    std::string base_, root_;
    uid_t owner_ = 0;
    gid_t group_ = 0;
    pid_t worker_ = -1;
    int control_ = -1;
    std::unique_ptr<PorchFiles, void (*)(PorchFiles *)> remote_{nullptr, porch_files_free};
};

// The same operations, done here and by the worker, give the same results.
TEST_F(Files, TheWorkerDoesWhatTheDirectOperationsDo)
{
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchFiles) direct = porch_files_new_direct(root_.c_str(), &error);
    ASSERT_NE(direct, nullptr) << error->message;
    remote_.reset(StartWorker());
    ASSERT_NE(remote_, nullptr);

    for (PorchFiles *f : {remote_.get(), (PorchFiles *)direct}) {
        SCOPED_TRACE(f == direct ? "direct" : "remote");
        int fd = porch_files_open(f, "a.txt", O_RDONLY, 0, 0);
        ASSERT_GE(fd, 0);
        char buf[16] = {};
        EXPECT_EQ(pread(fd, buf, sizeof buf, 0), 6);
        EXPECT_STREQ(buf, "hello\n");
        close(fd);
        EXPECT_EQ(porch_files_open(f, "../outside.txt", O_RDONLY, 0, 0), -EXDEV);
        EXPECT_EQ(porch_files_open(f, "out", O_RDONLY, 0, 0), -EXDEV);
        EXPECT_EQ(porch_files_open(f, "a.txt", O_RDONLY | O_NOFOLLOW, 0, 0), -EINVAL)
                << "flags the jail does not take";

        struct stat st;
        ASSERT_EQ(porch_files_stat(f, "a.txt", &st, 0), 0);
        EXPECT_EQ(st.st_size, 6);
        EXPECT_TRUE(S_ISREG(st.st_mode));
        ASSERT_EQ(porch_files_stat(f, "out", &st, PORCH_JAIL_NOFOLLOW), 0);
        EXPECT_TRUE(S_ISLNK(st.st_mode));
        EXPECT_EQ(porch_files_stat(f, "nope", &st, 0), -ENOENT);

        EXPECT_EQ(porch_files_mkdir(f, "d", 0700), 0);
        EXPECT_EQ(porch_files_mkdir(f, "d", 0700), -EEXIST);
        EXPECT_EQ(porch_files_mkdir(f, "", 0700), -EEXIST);
        EXPECT_EQ(porch_files_symlink(f, "../a.txt", "d/up"), -EPERM) << "'..' in a new link";
        EXPECT_EQ(porch_files_symlink(f, "a.txt", "link"), 0);
        g_autofree char *target = nullptr;
        EXPECT_EQ(porch_files_readlink(f, "link", &target), 0);
        EXPECT_STREQ(target, "a.txt");
        EXPECT_EQ(porch_files_rename(f, "link", "d/link2", FALSE), 0);
        EXPECT_EQ(porch_files_rename(f, "a.txt", "d/link2", FALSE), -EEXIST);
        EXPECT_EQ(porch_files_remove(f, "d"), -EISDIR);
        EXPECT_EQ(porch_files_remove(f, "d/link2"), 0);
        EXPECT_EQ(porch_files_rmdir(f, "d"), 0);

        // an upload that replaces a file: nothing changes until the commit
        int parent = -1;
        char *name = nullptr;
        gboolean in_place = TRUE;
        fd = porch_files_replace(f, "a.txt", ".porch-upload.t", O_WRONLY, 0600, TRUE, &parent,
                                 &name, &in_place);
        ASSERT_GE(fd, 0);
        EXPECT_FALSE(in_place);
        EXPECT_STREQ(name, "a.txt");
        EXPECT_EQ(pwrite(fd, "new\n", 4, 0), 4);
        EXPECT_EQ(ReadFile(root_ + "/a.txt"), "hello\n");
        EXPECT_EQ(porch_files_commit(f, parent, ".porch-upload.t", name), 0);
        EXPECT_EQ(ReadFile(root_ + "/a.txt"), "new\n");
        EXPECT_EQ(porch_files_commit(f, parent, "../x", name), -EINVAL);
        close(fd);
        close(parent);
        g_free(name);
        ASSERT_TRUE(WriteFile(root_ + "/a.txt", "hello\n"));

        // a symlink is written through, in place
        fd = porch_files_replace(f, "out", ".porch-upload.u", O_WRONLY, 0600, TRUE, &parent, &name,
                                 &in_place);
        EXPECT_EQ(fd, 0);
        EXPECT_TRUE(in_place);

        // attributes, never on the root; no hole bigger than the free space
        PorchWireAttrs a = {};
        a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
        a.permissions = 04755;
        EXPECT_EQ(porch_files_setstat(f, "a.txt", &a), 0);
        ASSERT_EQ(stat((root_ + "/a.txt").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0755u) << "no set-id bits from a client";
        EXPECT_EQ(porch_files_setstat(f, "", &a), -EPERM);
        a.flags = SSH_FILEXFER_ATTR_SIZE;
        a.size = 8ull << 40;
        EXPECT_EQ(porch_files_setstat(f, "a.txt", &a), -ENOSPC);
        a.size = 3;
        fd = porch_files_open(f, "a.txt", O_WRONLY, 0, 0);
        ASSERT_GE(fd, 0);
        EXPECT_EQ(porch_files_fsetstat(f, fd, &a), 0);
        close(fd);
        EXPECT_EQ(ReadFile(root_ + "/a.txt"), "hel");
        ASSERT_TRUE(WriteFile(root_ + "/a.txt", "hello\n"));

        // listings
        guint32 id = 0;
        ASSERT_EQ(porch_files_opendir(f, "", &id), 0);
        g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(PorchFilesEntry));
        std::set<std::string> names;
        int n;
        while ((n = porch_files_readdir(f, id, entries)) > 0)
            ;
        EXPECT_EQ(n, 0);
        for (guint i = 0; i < entries->len; i++)
            names.insert(g_array_index(entries, PorchFilesEntry, i).name);
        porch_files_entries_clear(entries);
        EXPECT_EQ(names, (std::set<std::string>{"a.txt", "out", "sub"}));
        EXPECT_EQ(porch_files_closedir(f, id), 0);
        EXPECT_EQ(porch_files_readdir(f, id, entries), -EBADF);

        EXPECT_EQ(porch_files_unlink_in(f, "sub", ".."), -EINVAL);
        ASSERT_TRUE(WriteFile(root_ + "/sub/left", "x"));
        EXPECT_EQ(porch_files_unlink_in(f, "sub", "left"), 0);
    }
}

// The worker runs as the share's owner, confined; what the owner cannot read is not served,
// and what it creates is the owner's.
TEST_F(Files, TheWorkerHasTheOwnersRightsAndNoMore)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root, to make a file the share's owner cannot read";
    ASSERT_TRUE(WriteFile(root_ + "/roots-own", "root's\n"));
    ASSERT_EQ(chmod((root_ + "/roots-own").c_str(), 0600), 0);
    ASSERT_TRUE(WriteFile(root_ + "/owners-own", "owner's\n"));
    ASSERT_EQ(chown((root_ + "/owners-own").c_str(), owner_, group_), 0);
    ASSERT_EQ(chmod((root_ + "/owners-own").c_str(), 0600), 0);
    remote_.reset(StartWorker());
    ASSERT_NE(remote_, nullptr);

    EXPECT_EQ(porch_files_open(remote_.get(), "roots-own", O_RDONLY, 0, 0), -EACCES);
    int fd = porch_files_open(remote_.get(), "owners-own", O_RDONLY, 0, 0);
    EXPECT_GE(fd, 0);
    if (fd >= 0)
        close(fd);
    fd = porch_files_open(remote_.get(), "new.txt", O_WRONLY | O_CREAT, 0644, 0);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_EQ(porch_files_mkdir(remote_.get(), "newdir", 0755), 0);
    for (const char *p : {"/new.txt", "/newdir"}) {
        struct stat st;
        ASSERT_EQ(stat((root_ + p).c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, owner_) << p;
    }

    EXPECT_EQ(ProcStatus(worker_, "Uid").substr(0, std::to_string(owner_).size()),
              std::to_string(owner_));
    EXPECT_EQ(ProcStatus(worker_, "CapEff"), "0000000000000000");
    EXPECT_EQ(ProcStatus(worker_, "NoNewPrivs"), "1");
    EXPECT_EQ(ProcStatus(worker_, "Seccomp"), "2");
}

// A read-only share's worker cannot write, whatever it is asked.
TEST_F(Files, AReadOnlyWorkerWritesNothing)
{
    remote_.reset(StartWorker(nullptr));
    ASSERT_NE(remote_, nullptr);
    int fd = porch_files_open(remote_.get(), "a.txt", O_RDONLY, 0, 0);
    EXPECT_GE(fd, 0);
    if (fd >= 0)
        close(fd);
    EXPECT_EQ(porch_files_open(remote_.get(), "a.txt", O_WRONLY, 0, 0), -EACCES);
    EXPECT_EQ(porch_files_mkdir(remote_.get(), "d", 0755), -EACCES);
    EXPECT_EQ(porch_files_remove(remote_.get(), "a.txt"), -EACCES);
    EXPECT_EQ(ReadFile(root_ + "/a.txt"), "hello\n");
}

// An inbox's worker (--inbox) does what a send does, and nothing else: a session that reads the
// network cannot read, change, remove or list what arrived in the inbox before.
TEST_F(Files, AnInboxWorkerDoesASendsOperationsOnly)
{
    ASSERT_TRUE(WriteFile(root_ + "/.porch-send-old-0", "stale"));
    if (geteuid() == 0) {
        ASSERT_EQ(lchown((root_ + "/.porch-send-old-0").c_str(), owner_, group_), 0);
    }
    remote_.reset(StartWorker("--inbox"));
    ASSERT_NE(remote_, nullptr);
    PorchFiles *f = remote_.get();

    // a send: its hidden file made, written, read back, stat'ed, then named
    const std::string temp = ".porch-send-0123-0";
    int fd = porch_files_open(f, temp.c_str(), O_RDWR | O_CREAT, 0600, PORCH_JAIL_NOFOLLOW);
    ASSERT_GE(fd, 0) << g_strerror(-fd);
    ASSERT_EQ(write(fd, "sent\n", 5), 5);
    char back[5];
    EXPECT_EQ(pread(fd, back, 5, 0), 5);
    close(fd);
    struct stat st;
    EXPECT_EQ(porch_files_stat(f, temp.c_str(), &st, PORCH_JAIL_NOFOLLOW), 0);
    EXPECT_EQ(st.st_size, 5);
    // never over a file that is there, never to a hidden name, never replacing
    EXPECT_EQ(porch_files_rename(f, temp.c_str(), "a.txt", FALSE), -EEXIST);
    EXPECT_EQ(porch_files_rename(f, temp.c_str(), "a.txt", TRUE), -EPERM);
    EXPECT_EQ(porch_files_rename(f, temp.c_str(), ".hidden", FALSE), -EPERM);
    EXPECT_EQ(porch_files_rename(f, temp.c_str(), "sub/x.txt", FALSE), -EPERM);
    EXPECT_EQ(porch_files_rename(f, temp.c_str(), "sent.txt", FALSE), 0);
    EXPECT_EQ(ReadFile(root_ + "/sent.txt"), "sent\n");
    EXPECT_EQ(porch_files_remove(f, ".porch-send-old-0"), 0);

    // the folder: its free space, and a listing of the send files alone; never a descriptor
    // of it (getdents would list it all)
    guint64 avail = 0;
    EXPECT_EQ(porch_files_free_space(f, "", &avail), 0);
    EXPECT_GT(avail, 0u);
    EXPECT_EQ(porch_files_free_space(f, "sub", &avail), -EPERM);
    EXPECT_EQ(porch_files_open(f, ".", O_RDONLY | O_DIRECTORY, 0, 0), -EPERM);
    EXPECT_EQ(porch_files_open(f, "", O_PATH | O_DIRECTORY, 0, 0), -EPERM);
    ASSERT_TRUE(WriteFile(root_ + "/.porch-send-more-1", ""));
    guint32 id = 0;
    ASSERT_EQ(porch_files_opendir(f, "", &id), 0);
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(PorchFilesEntry));
    std::set<std::string> listed;
    for (int n; (n = porch_files_readdir(f, id, entries)) > 0;) {
        for (guint i = 0; i < entries->len; i++)
            listed.insert(g_array_index(entries, PorchFilesEntry, i).name);
        porch_files_entries_clear(entries);
    }
    EXPECT_EQ(porch_files_closedir(f, id), 0);
    EXPECT_EQ(listed, std::set<std::string>{".porch-send-more-1"});

    // what arrived before, and anything but a send's files: refused
    EXPECT_EQ(porch_files_open(f, "a.txt", O_RDONLY, 0, 0), -EPERM);
    EXPECT_EQ(porch_files_open(f, "sent.txt", O_RDONLY, 0, 0), -EPERM);
    EXPECT_EQ(porch_files_open(f, "new.txt", O_WRONLY | O_CREAT, 0644, 0), -EPERM);
    EXPECT_EQ(porch_files_open(f, "sub/.porch-send-x-0", O_RDWR | O_CREAT, 0600, 0), -EPERM);
    EXPECT_EQ(porch_files_stat(f, "a.txt", &st, 0), -EPERM);
    EXPECT_EQ(porch_files_remove(f, "a.txt"), -EPERM);
    EXPECT_EQ(porch_files_rename(f, "a.txt", "b.txt", FALSE), -EPERM);
    EXPECT_EQ(porch_files_mkdir(f, "d", 0755), -EPERM);
    EXPECT_EQ(porch_files_rmdir(f, "sub"), -EPERM);
    EXPECT_EQ(porch_files_symlink(f, "a.txt", "link"), -EPERM);
    EXPECT_EQ(porch_files_opendir(f, "sub", &id), -EPERM);
    EXPECT_EQ(ReadFile(root_ + "/a.txt"), "hello\n");
    EXPECT_TRUE(std::filesystem::is_directory(root_ + "/sub"));
    EXPECT_FALSE(std::filesystem::exists(root_ + "/d"));

    // and the connection goes on after each refusal
    EXPECT_EQ(porch_files_stat(f, ".", &st, 0), 0);
}

// A malformed request ends that connection (the worker goes on for the others), and the worker
// ends when its control socket closes and no client is left.
TEST_F(Files, AMalformedRequestEndsItsConnectionOnly)
{
    remote_.reset(StartWorker());
    ASSERT_NE(remote_, nullptr);
    int bad[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, bad), 0);
    ASSERT_TRUE(SendClient(bad[1]));
    close(bad[1]);
    for (const std::string &junk :
         {std::string("\0\0\0\1", 4), std::string("x"), std::string("\0\0\0\1\0\0\0\xff", 8)}) {
        ASSERT_EQ(send(bad[0], junk.data(), junk.size(), 0), (ssize_t)junk.size());
        char reply[64];
        ssize_t n = recv(bad[0], reply, sizeof reply, 0);
        EXPECT_EQ(n, 0) << "the connection should have ended";
        break;
    }
    close(bad[0]);
    struct stat st;
    EXPECT_EQ(porch_files_stat(remote_.get(), "a.txt", &st, 0), 0) << "the others go on";

    remote_.reset();
    close(control_);
    control_ = -1;
    int status = 0;
    EXPECT_TRUE(
            porch::test::WaitFor([&] { return waitpid(worker_, &status, WNOHANG) == worker_; }, 5));
    worker_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

} // namespace

// An indexer's hash of a file: all of it, and each range of it, at the sizes around a range's
// and the read buffer's bounds (1 MiB), checked against GLib's SHA-256 of the same bytes.
TEST_F(Files, HashesEveryRangeOfFilesOfEverySize)
{
    const guint32 range = 64 * 1024;
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchFiles) f = porch_files_new_direct(root_.c_str(), &error);
    ASSERT_NE(f, nullptr) << error->message;
    porch_files_set_indexer(f, TRUE);

    for (size_t size : {size_t(0), size_t(1), size_t(4095), size_t(range), size_t(range) + 1,
                        size_t(1) << 20, (size_t(1) << 20) + 3, size_t(2621440) + 17}) {
        SCOPED_TRACE("size " + std::to_string(size));
        std::string data(size, '\0');
        for (size_t i = 0; i < size; i++)
            data[i] = char((i * 7919 + size) >> 3);
        ASSERT_TRUE(WriteFile(root_ + "/h.bin", data));

        struct stat st;
        guint8 sha[PORCH_SHA256_LEN];
        g_autoptr(GBytes) ranges = nullptr;
        ASSERT_EQ(porch_files_hash(f, "h.bin", range, &st, sha, &ranges), 0);
        EXPECT_EQ(size_t(st.st_size), size);

        auto hex = [](const guint8 *p) {
            char out[PORCH_SHA256_HEX_LEN + 1];
            porch_sha256_to_hex(p, out);
            return std::string(out);
        };
        auto sum = [](const std::string &bytes) {
            g_autofree char *h = g_compute_checksum_for_data(
                    G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(bytes.data()),
                    bytes.size());
            return std::string(h);
        };
        EXPECT_EQ(hex(sha), sum(data));
        gsize len = 0;
        auto *r = static_cast<const guint8 *>(g_bytes_get_data(ranges, &len));
        ASSERT_EQ(len, PORCH_SHA256_LEN * ((size + range - 1) / range));
        for (size_t i = 0; i * range < size; i++)
            EXPECT_EQ(hex(r + PORCH_SHA256_LEN * i), sum(data.substr(i * range, range)))
                    << "range " << i;
    }
}
