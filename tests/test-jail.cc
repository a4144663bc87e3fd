// test-jail.cc — ways out of a share root, each tried against both resolvers: openat2()
// with RESOLVE_BENEATH and the fallback walk (PORCH_JAIL_FALLBACK=1). Modelled on systemd's
// src/test/test-chase.c. Every test builds this tree in a fresh temporary directory:
//
//   BASE/outside/secret                  what no path may ever reach
//   BASE/root/                           the jail
//     file, a/b/c/deep, dir/             plain files and directories
//     link-file -> file                  symlinks that stay inside
//     link-dir -> a/b
//     up-inside -> a/..
//     a/b/c/3up -> ../../..              (the root itself)
//     6dots -> ../../..                  symlinks that try to leave
//     a/b/6dots -> ../../..
//     abs -> /etc
//     abs-secret -> BASE/outside/secret, abs-out -> BASE/outside
//     rel-secret -> ../outside/secret
//     out-dir -> ../outside
//     hop1 -> a/hop2, a/hop2 -> ../../outside   (out in two hops)
//     loop1 -> loop2, loop2 -> loop1, self -> self
//     proc-root -> /proc/self/root
//     dangling-rel -> ../outside/new, dangling-abs -> BASE/outside/new
//     fifo, fifo-link -> fifo, sock       not regular files
//
// After each test the outside must hold exactly what it held before, BASE nothing new, and
// the process no more descriptors than before.
#include "porch-jail.h"

#include <gio/gio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

enum class Mode { kOpenat2, kFallback };

std::string
ModeName(Mode m)
{
    return m == Mode::kOpenat2 ? "openat2" : "fallback";
}

void
PrintTo(Mode m, std::ostream *os)
{
    *os << ModeName(m);
}

std::string
ReadAll(int fd)
{
    std::string s;
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        s.append(buf, n);
    return s;
}

// Where descriptor @fd points, for failure messages.
std::string
FdPath(int fd)
{
    char proc[64], buf[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, buf, sizeof buf - 1);
    return n < 0 ? "?" : std::string(buf, n);
}

std::set<std::string>
List(const std::string &dir)
{
    std::set<std::string> names;
    DIR *d = opendir(dir.c_str());
    if (d == nullptr)
        return names;
    while (struct dirent *e = readdir(d))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names.insert(e->d_name);
    closedir(d);
    return names;
}

size_t
CountFds()
{
    return List("/proc/self/fd").size();
}

bool
SameFile(const struct stat &a, const struct stat &b)
{
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The tree above, a jail on BASE/root in the mode GetMode() names, and the checks after.
class TreeTest : public ::testing::Test
{
  protected:
    virtual Mode GetMode() const = 0;

    void SetUp() override
    {
        // $TMPDIR when set: the tests also run as an unprivileged user, who may not write /tmp
        g_autofree char *base = g_dir_make_tmp("porch-jail-XXXXXX", nullptr);
        ASSERT_NE(base, nullptr) << strerror(errno);
        base_ = base;
        root_ = base_ + "/root";
        outside_ = base_ + "/outside";

        for (const char *d : {"root", "outside", "root/a", "root/a/b", "root/a/b/c", "root/dir"})
            ASSERT_EQ(mkdir(At(d).c_str(), 0755), 0) << d;
        Write("outside/secret", "secret");
        Write("root/file", "inside");
        Write("root/a/b/c/deep", "deep");
        const std::vector<std::pair<std::string, std::string>> links = {
                {"link-file", "file"},
                {"link-dir", "a/b"},
                {"up-inside", "a/.."},
                {"a/b/c/3up", "../../.."},
                {"6dots", "../../.."},
                {"a/b/6dots", "../../.."},
                {"abs", "/etc"},
                {"abs-secret", outside_ + "/secret"},
                {"abs-out", outside_},
                {"rel-secret", "../outside/secret"},
                {"out-dir", "../outside"},
                {"hop1", "a/hop2"},
                {"a/hop2", "../../outside"},
                {"loop1", "loop2"},
                {"loop2", "loop1"},
                {"self", "self"},
                {"proc-root", "/proc/self/root"},
                {"dangling-rel", "../outside/new"},
                {"dangling-abs", outside_ + "/new"},
                {"fifo-link", "fifo"},
        };
        for (const auto &[name, target] : links)
            ASSERT_EQ(symlink(target.c_str(), At("root/" + name).c_str()), 0) << name;
        ASSERT_EQ(mkfifo(At("root/fifo").c_str(), 0666), 0);

        struct sockaddr_un sun = {};
        sun.sun_family = AF_UNIX;
        std::string sock = At("root/sock");
        ASSERT_LT(sock.size(), sizeof sun.sun_path);
        memcpy(sun.sun_path, sock.c_str(), sock.size() + 1);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(s, 0);
        ASSERT_EQ(bind(s, (struct sockaddr *)&sun, sizeof sun), 0) << strerror(errno);
        close(s);

        ASSERT_EQ(stat(At("outside/secret").c_str(), &secret_st_), 0);
        ASSERT_EQ(stat(root_.c_str(), &root_st_), 0);

        jail_ = NewJail();
        ASSERT_NE(jail_, nullptr);
        if (GetMode() == Mode::kOpenat2 && !porch_jail_uses_openat2(jail_))
            GTEST_SKIP() << "this kernel has no openat2()";
        ASSERT_EQ(porch_jail_uses_openat2(jail_), GetMode() == Mode::kOpenat2);
        fds_before_ = CountFds();
    }

    void TearDown() override
    {
        if (jail_ != nullptr) {
            EXPECT_EQ(CountFds(), fds_before_) << "descriptors leaked";
            porch_jail_free(jail_);
        }
        if (base_.empty())
            return;
        EXPECT_EQ(List(outside_), std::set<std::string>{"secret"}) << "the outside changed";
        EXPECT_EQ(Read("outside/secret"), "secret");
        EXPECT_EQ(List(base_), (std::set<std::string>{"outside", "root"}));
        nftw(
                base_.c_str(),
                [](const char *p, const struct stat *, int, struct FTW *) { return remove(p); }, 16,
                FTW_DEPTH | FTW_PHYS);
    }

    PorchJail *NewJail()
    {
        GError *error = nullptr;
        if (GetMode() == Mode::kFallback)
            setenv("PORCH_JAIL_FALLBACK", "1", 1);
        PorchJail *jail = porch_jail_new(root_.c_str(), &error);
        unsetenv("PORCH_JAIL_FALLBACK");
        if (jail == nullptr) {
            ADD_FAILURE() << error->message;
            g_error_free(error);
        }
        return jail;
    }

    std::string At(const std::string &rel) const
    {
        return base_ + "/" + rel;
    }

    void Write(const std::string &rel, const std::string &data)
    {
        FILE *f = fopen(At(rel).c_str(), "w");
        ASSERT_NE(f, nullptr) << rel;
        fputs(data.c_str(), f);
        fclose(f);
    }

    std::string Read(const std::string &rel)
    {
        int fd = open(At(rel).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return "<" + std::string(strerror(errno)) + ">";
        std::string s = ReadAll(fd);
        close(fd);
        return s;
    }

    // porch_jail_open() on another thread: an open that blocks (a FIFO opened for I/O)
    // fails the test instead of hanging it, and is released by opening the FIFO here.
    int Open(const char *path, int flags, unsigned jail_flags = 0)
    {
        auto f = std::async(std::launch::async,
                            [=] { return porch_jail_open(jail_, path, flags, 0600, jail_flags); });
        if (f.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
            ADD_FAILURE() << path << ": porch_jail_open() blocked";
            int fd = open(At("root/fifo").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
            int r = f.get();
            if (r >= 0)
                close(r);
            close(fd);
            return -ETIMEDOUT;
        }
        return f.get();
    }

    // Expects @path to be refused with @err; a descriptor that comes back fails the test,
    // saying where it points.
    void ExpectRefused(const char *path, int flags, unsigned jail_flags, int err)
    {
        int fd = Open(path, flags, jail_flags);
        if (fd >= 0) {
            ADD_FAILURE() << "'" << path << "' gave a descriptor of " << FdPath(fd);
            close(fd);
            return;
        }
        EXPECT_EQ(fd, -err) << "'" << path << "': " << strerror(-fd) << " instead of "
                            << strerror(err);
    }

    // Opens @path read-only and returns its contents, or "<error>".
    std::string JailRead(const char *path, unsigned jail_flags = 0)
    {
        int fd = porch_jail_open(jail_, path, O_RDONLY, 0, jail_flags);
        if (fd < 0)
            return "<" + std::string(strerror(-fd)) + ">";
        std::string s = ReadAll(fd);
        close(fd);
        return s;
    }

    std::string base_, root_, outside_;
    struct stat secret_st_ = {}, root_st_ = {};
    PorchJail *jail_ = nullptr;
    size_t fds_before_ = 0;
};

class Jail : public TreeTest, public ::testing::WithParamInterface<Mode>
{
  protected:
    Mode GetMode() const override
    {
        return GetParam();
    }
};

std::string
ModeParamName(const ::testing::TestParamInfo<Mode> &p)
{
    return ModeName(p.param);
}

// ---- the attacks --------------------------------------------------------------------

struct Attack {
    const char *name;
    const char *path;
    int flags;
    unsigned jail_flags;
    int err; // the same in both modes
};

void
PrintTo(const Attack &a, std::ostream *os)
{
    *os << a.name << " ('" << a.path << "')";
}

constexpr int kCreate = O_CREAT | O_WRONLY;

const Attack kAttacks[] = {
        // ".." above the root, at every depth and however spelt
        {"DotDot", "..", O_RDONLY, 0, EXDEV},
        {"DotDotSlash", "../", O_RDONLY, 0, EXDEV},
        {"DotDotSecret", "../outside/secret", O_RDONLY, 0, EXDEV},
        {"DotSlashDotDot", "./../outside/secret", O_RDONLY, 0, EXDEV},
        {"DownAndUpTwice", "a/../../outside/secret", O_RDONLY, 0, EXDEV},
        {"UpFromEveryDepth", "a/b/c/../../../..", O_RDONLY, 0, EXDEV},
        {"UpFromEveryDepthSlash", "a/b/c/../../../../", O_RDONLY, 0, EXDEV},
        {"DeepThenOut", "a/b/c/../../../../outside/secret", O_RDONLY, 0, EXDEV},
        {"DotsAndSlashes", "a/./b//..///../../outside", O_RDONLY, 0, EXDEV},
        {"DotDotOPath", "../outside/secret", O_PATH, 0, EXDEV},
        {"DotDotDirectory", "..", O_PATH | O_DIRECTORY, 0, EXDEV},
        // absolute paths are refused, never read as relative
        {"Absolute", "/etc/passwd", O_RDONLY, 0, EXDEV},
        {"DoubleSlashAbsolute", "//etc/passwd", O_RDONLY, 0, EXDEV},
        {"Slash", "/", O_RDONLY, 0, EXDEV},
        {"AbsoluteToSecret", "@OUT@/secret", O_RDONLY, 0, EXDEV},
        {"AbsoluteOPath", "@OUT@", O_PATH, 0, EXDEV},
        // symlinks out: absolute, relative, in hops, magic
        {"AbsSymlinkDir", "abs/passwd", O_RDONLY, 0, EXDEV},
        {"AbsSymlink", "abs", O_RDONLY | O_DIRECTORY, 0, EXDEV},
        {"AbsSymlinkOPath", "abs", O_PATH, 0, EXDEV},
        {"AbsSymlinkToSecret", "abs-secret", O_RDONLY, 0, EXDEV},
        {"SixDots", "6dots", O_RDONLY, 0, EXDEV},
        {"SixDotsSlash", "6dots/", O_RDONLY, 0, EXDEV},
        {"SixDotsThrough", "6dots/outside/secret", O_RDONLY, 0, EXDEV},
        {"SixDotsDeep", "a/b/6dots/outside/secret", O_RDONLY, 0, EXDEV},
        {"RelSymlinkToSecret", "rel-secret", O_RDONLY, 0, EXDEV},
        {"DirSymlinkOut", "out-dir/secret", O_RDONLY, 0, EXDEV},
        {"TwoHops", "hop1/secret", O_RDONLY, 0, EXDEV},
        {"UpThroughDirSymlink", "link-dir/../../../outside/secret", O_RDONLY, 0, EXDEV},
        {"UpFromSymlinkedDepth", "link-dir/c/../../../..", O_RDONLY, 0, EXDEV},
        {"ProcSelfRoot", "proc-root/etc/passwd", O_RDONLY, 0, EXDEV},
        {"Loop", "loop1", O_RDONLY, 0, ELOOP},
        {"SelfLoop", "self/x", O_RDONLY, 0, ELOOP},
        {"FileAsDirectory", "file/../../outside/secret", O_RDONLY, 0, ENOTDIR},
        // NOFOLLOW: a link is never opened for I/O, inside or not
        {"NoFollowOut", "rel-secret", O_RDONLY, PORCH_JAIL_NOFOLLOW, ELOOP},
        {"NoFollowInside", "link-file", O_RDWR, PORCH_JAIL_NOFOLLOW, ELOOP},
        {"NoFollowStillFollowsDirs", "6dots/", O_PATH, PORCH_JAIL_NOFOLLOW, EXDEV},
        // not regular files: refused without being opened (nothing blocks)
        {"FifoRead", "fifo", O_RDONLY, 0, EACCES},
        {"FifoWrite", "fifo", O_WRONLY, 0, EACCES},
        {"FifoThroughSymlink", "fifo-link", O_RDWR, 0, EACCES},
        {"FifoCreate", "fifo", kCreate, 0, EACCES},
        {"FifoTruncate", "fifo", kCreate | O_TRUNC, 0, EACCES},
        {"Socket", "sock", O_RDWR, 0, EACCES},
        // creating outside
        {"CreateAbove", "../outside/new", kCreate, 0, EXDEV},
        {"CreateThroughDirSymlink", "out-dir/new", kCreate, 0, EXDEV},
        {"CreateThroughSixDots", "6dots/outside/new", kCreate, 0, EXDEV},
        {"CreateInAbsoluteDir", "abs-out/new", kCreate, 0, EXDEV},
        {"CreateDanglingRel", "dangling-rel", kCreate, 0, EXDEV},
        {"CreateDanglingAbs", "dangling-abs", kCreate | O_TRUNC, 0, EXDEV},
        {"CreateExclDanglingRel", "dangling-rel", kCreate | O_EXCL, 0, EEXIST},
        {"CreateExclDanglingAbs", "dangling-abs", kCreate | O_EXCL, 0, EEXIST},
        {"CreateAbsolute", "@OUT@/new", kCreate, 0, EXDEV},
};

class JailAttack : public TreeTest, public ::testing::WithParamInterface<std::tuple<Mode, Attack>>
{
  protected:
    Mode GetMode() const override
    {
        return std::get<0>(GetParam());
    }
};

TEST_P(JailAttack, IsRefused)
{
    const Attack &a = std::get<1>(GetParam());
    std::string path = a.path;
    if (path.rfind("@OUT@", 0) == 0) // an absolute path to BASE/outside
        path.replace(0, 5, outside_);
    ExpectRefused(path.c_str(), a.flags, a.jail_flags, a.err);
    // stat never follows where open would not go either
    if (!(a.flags & O_CREAT) && a.err != EACCES && a.jail_flags == 0) {
        struct stat st = {};
        st.st_ino = 4242;
        EXPECT_EQ(porch_jail_stat(jail_, path.c_str(), &st, 0), -a.err) << path;
        EXPECT_EQ(st.st_ino, 4242u) << "*ret_st was set on failure";
    }
}

std::string
AttackParamName(const ::testing::TestParamInfo<std::tuple<Mode, Attack>> &p)
{
    return ModeName(std::get<0>(p.param)) + "_" + std::get<1>(p.param).name;
}

INSTANTIATE_TEST_SUITE_P(Both, JailAttack,
                         ::testing::Combine(::testing::Values(Mode::kOpenat2, Mode::kFallback),
                                            ::testing::ValuesIn(kAttacks)),
                         AttackParamName);

// ---- what must work -------------------------------------------------------------------

TEST_P(Jail, RootItself)
{
    for (const char *path : {"", ".", "./", "a/..", "a/b/../..", "up-inside", "link-dir/../..",
                             "a/b/c/3up", "a/b/c/3up/a/b/c/3up/."}) {
        int fd = porch_jail_open(jail_, path, O_RDONLY | O_DIRECTORY, 0, 0);
        ASSERT_GE(fd, 0) << "'" << path << "': " << strerror(-fd);
        struct stat st;
        ASSERT_EQ(fstat(fd, &st), 0);
        EXPECT_TRUE(SameFile(st, root_st_)) << path;
        close(fd);
    }
}

TEST_P(Jail, FilesInside)
{
    EXPECT_EQ(JailRead("file"), "inside");
    EXPECT_EQ(JailRead("./file"), "inside");
    EXPECT_EQ(JailRead("link-file"), "inside");
    EXPECT_EQ(JailRead("a/b/c/deep"), "deep");
    EXPECT_EQ(JailRead("a//b///c/./deep"), "deep");
    EXPECT_EQ(JailRead("link-dir/c/deep"), "deep");
    EXPECT_EQ(JailRead("up-inside/file"), "inside");
    EXPECT_EQ(JailRead("a/b/c/3up/file"), "inside");
    EXPECT_EQ(JailRead("dir/../a/../file"), "inside");
    EXPECT_EQ(JailRead("link-dir/../../file"), "inside"); // physical "..": a/b/.. is a
    EXPECT_EQ(JailRead("file", PORCH_JAIL_NOFOLLOW), "inside");
}

TEST_P(Jail, FlagsAndFileTypes)
{
    int fd = porch_jail_open(jail_, "a", O_RDONLY | O_DIRECTORY, 0, 0);
    EXPECT_GE(fd, 0);
    close(fd);
    EXPECT_EQ(porch_jail_open(jail_, "file", O_RDONLY | O_DIRECTORY, 0, 0), -ENOTDIR);
    EXPECT_EQ(porch_jail_open(jail_, "file/", O_RDONLY, 0, 0), -ENOTDIR);
    EXPECT_EQ(porch_jail_open(jail_, "a", O_WRONLY, 0, 0), -EISDIR);
    EXPECT_EQ(porch_jail_open(jail_, "missing", O_RDONLY, 0, 0), -ENOENT);
    EXPECT_EQ(porch_jail_open(jail_, "a/missing/x", O_RDONLY, 0, 0), -ENOENT);

    // flags outside the contract
    EXPECT_EQ(porch_jail_open(jail_, "file", O_RDONLY | O_NOFOLLOW, 0, 0), -EINVAL);
    EXPECT_EQ(porch_jail_open(jail_, "file", O_RDONLY | O_NONBLOCK, 0, 0), -EINVAL);
    EXPECT_EQ(porch_jail_open(jail_, "file", O_ACCMODE, 0, 0), -EINVAL);
    EXPECT_EQ(porch_jail_open(jail_, "file", O_PATH | O_CREAT, 0600, 0), -EINVAL);
    EXPECT_EQ(porch_jail_open(jail_, "file", O_RDONLY, 0, 1u << 5), -EINVAL);

    // the descriptor: close-on-exec, blocking, the access mode asked for
    fd = porch_jail_open(jail_, "file", O_RDWR | O_APPEND, 0, 0);
    ASSERT_GE(fd, 0) << strerror(-fd);
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int fl = fcntl(fd, F_GETFL);
    EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
    EXPECT_TRUE(fl & O_APPEND);
    EXPECT_FALSE(fl & O_NONBLOCK);
    EXPECT_EQ(write(fd, "+", 1), 1);
    close(fd);
    EXPECT_EQ(Read("root/file"), "inside+");
}

TEST_P(Jail, NoFollowGivesTheLinkItself)
{
    int fd = porch_jail_open(jail_, "abs", O_PATH, 0, PORCH_JAIL_NOFOLLOW);
    ASSERT_GE(fd, 0) << strerror(-fd);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    char buf[64] = "";
    EXPECT_EQ(readlinkat(fd, "", buf, sizeof buf - 1), 4);
    EXPECT_STREQ(buf, "/etc");
    close(fd);

    EXPECT_EQ(porch_jail_open(jail_, "abs", O_PATH | O_DIRECTORY, 0, PORCH_JAIL_NOFOLLOW),
              -ENOTDIR);
    EXPECT_EQ(porch_jail_stat(jail_, "rel-secret", &st, PORCH_JAIL_NOFOLLOW), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(porch_jail_stat(jail_, "rel-secret", &st, 0), -EXDEV);
    EXPECT_EQ(porch_jail_stat(jail_, "link-file", &st, 0), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(porch_jail_stat(jail_, "link-dir", &st, PORCH_JAIL_NOFOLLOW), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(porch_jail_stat(jail_, "link-dir/", &st, PORCH_JAIL_NOFOLLOW), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << "a trailing slash follows";
}

TEST_P(Jail, StatSeesSpecialFilesWithoutOpeningThem)
{
    struct stat st;
    ASSERT_EQ(porch_jail_stat(jail_, "fifo", &st, 0), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    ASSERT_EQ(porch_jail_stat(jail_, "sock", &st, 0), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    ASSERT_EQ(porch_jail_stat(jail_, "", &st, 0), 0);
    EXPECT_TRUE(SameFile(st, root_st_));
}

TEST_P(Jail, DeviceNodeIsRefused)
{
    if (mknod(At("root/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) < 0)
        GTEST_SKIP() << "mknod() needs CAP_MKNOD (tests run as root in CI): " << strerror(errno);
    ExpectRefused("null", O_RDWR, 0, EACCES);
    ExpectRefused("null", O_RDONLY, 0, EACCES);
    ExpectRefused("null", kCreate | O_TRUNC, 0, EACCES);
    struct stat st;
    ASSERT_EQ(porch_jail_stat(jail_, "null", &st, 0), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_P(Jail, Create)
{
    mode_t old = umask(022);
    int fd = porch_jail_open(jail_, "new", kCreate, 0640, 0);
    umask(old);
    ASSERT_GE(fd, 0) << strerror(-fd);
    EXPECT_EQ(write(fd, "n", 1), 1);
    close(fd);
    struct stat st;
    ASSERT_EQ(stat(At("root/new").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(Read("root/new"), "n");

    EXPECT_EQ(porch_jail_open(jail_, "new", kCreate | O_EXCL, 0600, 0), -EEXIST);
    fd = porch_jail_open(jail_, "new", kCreate | O_TRUNC, 0600, 0); // exists: truncated
    ASSERT_GE(fd, 0) << strerror(-fd);
    close(fd);
    EXPECT_EQ(Read("root/new"), "");

    fd = porch_jail_open(jail_, "link-dir/c/made", kCreate | O_EXCL, 0600, 0);
    ASSERT_GE(fd, 0) << strerror(-fd);
    close(fd);
    EXPECT_EQ(access(At("root/a/b/c/made").c_str(), F_OK), 0);

    // an existing symlink inside is followed without O_EXCL, and refused with it
    fd = porch_jail_open(jail_, "link-file", kCreate | O_APPEND, 0600, 0);
    ASSERT_GE(fd, 0) << strerror(-fd);
    EXPECT_EQ(write(fd, "!", 1), 1);
    close(fd);
    EXPECT_EQ(Read("root/file"), "inside!");
    EXPECT_EQ(porch_jail_open(jail_, "link-file", kCreate | O_EXCL, 0600, 0), -EEXIST);

    EXPECT_EQ(porch_jail_open(jail_, "a", O_CREAT | O_RDONLY, 0600, 0), -EISDIR);
    EXPECT_EQ(porch_jail_open(jail_, ".", O_CREAT | O_RDONLY, 0600, 0), -EISDIR);
    EXPECT_EQ(porch_jail_open(jail_, "newdir/", kCreate, 0600, 0), -EISDIR);
    EXPECT_EQ(porch_jail_open(jail_, "missing/new", kCreate, 0600, 0), -ENOENT);
    EXPECT_EQ(porch_jail_open(jail_, "file/new", kCreate, 0600, 0), -ENOTDIR);
    EXPECT_EQ(List(root_).count("newdir"), 0u);
}

TEST_P(Jail, LongPaths)
{
    std::string long_path;
    while (long_path.size() < PATH_MAX + 10)
        long_path += "a/";
    EXPECT_EQ(porch_jail_open(jail_, long_path.c_str(), O_RDONLY, 0, 0), -ENAMETOOLONG);
    EXPECT_EQ(porch_jail_open(jail_, std::string(NAME_MAX + 1, 'x').c_str(), O_RDONLY, 0, 0),
              -ENAMETOOLONG);
    EXPECT_EQ(porch_jail_open(jail_, std::string(NAME_MAX + 1, 'x').c_str(), kCreate, 0600, 0),
              -ENAMETOOLONG);

    // just below PATH_MAX, with many components, is fine
    std::string dots;
    while (dots.size() < PATH_MAX - 100)
        dots += "./a/../";
    EXPECT_EQ(JailRead((dots + "file").c_str()), "inside");
    EXPECT_EQ(JailRead((dots + "../outside/secret").c_str()),
              "<" + std::string(strerror(EXDEV)) + ">");

    // a symlink target of nearly PATH_MAX bytes that ends up outside
    std::string target;
    while (target.size() < PATH_MAX - 100)
        target += "a/../";
    target += "../outside/secret";
    ASSERT_EQ(symlink(target.c_str(), At("root/long-link").c_str()), 0);
    ExpectRefused("long-link", O_RDONLY, 0, EXDEV);
}

// The fallback walk holds one descriptor per level and stops at 256 levels; openat2() has
// no such limit. (Deeper trees are unusual; the limit bounds what one request may hold.)
TEST_P(Jail, VeryDeepTree)
{
    std::string path = "deep";
    ASSERT_EQ(mkdir(At("root/deep").c_str(), 0755), 0);
    for (int i = 0; i < 300; i++) {
        path += "/d";
        ASSERT_EQ(mkdirat(porch_jail_get_root_fd(jail_), path.c_str(), 0755), 0) << i;
    }
    int fd = porch_jail_open(jail_, path.c_str(), O_RDONLY | O_DIRECTORY, 0, 0);
    if (GetParam() == Mode::kOpenat2) {
        EXPECT_GE(fd, 0) << strerror(-fd);
        close(fd);
    } else {
        EXPECT_EQ(fd, -ENAMETOOLONG);
    }
}

// ---- open_parent ------------------------------------------------------------------------

TEST_P(Jail, OpenParent)
{
    struct Case {
        const char *path;
        int ret;            // 0 or -errno
        const char *parent; // expected directory, relative to BASE/root
        const char *name;
    };
    const std::string too_long = "a/" + std::string(NAME_MAX + 1, 'x');
    const Case cases[] = {
            {"", -EPERM, nullptr, nullptr},
            {".", -EPERM, nullptr, nullptr},
            {"./", -EPERM, nullptr, nullptr},
            {".//.", -EPERM, nullptr, nullptr},
            {"..", -EINVAL, nullptr, nullptr},
            {"a/..", -EINVAL, nullptr, nullptr},
            {"a/b/../..", -EINVAL, nullptr, nullptr},
            {"../x", -EXDEV, nullptr, nullptr},
            {"/etc/passwd", -EXDEV, nullptr, nullptr},
            {"//", -EXDEV, nullptr, nullptr},
            {"6dots/x", -EXDEV, nullptr, nullptr},
            {"out-dir/secret", -EXDEV, nullptr, nullptr},
            {"abs/passwd", -EXDEV, nullptr, nullptr},
            {"file/x", -ENOTDIR, nullptr, nullptr},
            {"missing/x", -ENOENT, nullptr, nullptr},
            {too_long.c_str(), -ENAMETOOLONG, nullptr, nullptr},
            {"x", 0, ".", "x"},
            {"a/b/", 0, "a", "b"},
            {"a/b/.", 0, "a", "b"},
            {"a//b//", 0, "a", "b"},
            {"a/./b/./", 0, "a", "b"},
            {"./a", 0, ".", "a"},
            {"link-dir/c", 0, "a/b", "c"},
            {"rel-secret", 0, ".", "rel-secret"}, // the name itself is not followed
            {"6dots", 0, ".", "6dots"},
            {"a/b/c/3up/file", 0, ".", "file"},
            {"a/../dir/new", 0, "dir", "new"},
    };
    for (const Case &c : cases) {
        char *sentinel = (char *)"untouched";
        char *name = sentinel;
        int fd = porch_jail_open_parent(jail_, c.path, &name);
        if (c.ret < 0) {
            EXPECT_EQ(fd, c.ret) << "'" << c.path << "': " << strerror(-fd);
            EXPECT_EQ(name, sentinel) << c.path;
            if (fd >= 0)
                close(fd);
            continue;
        }
        ASSERT_GE(fd, 0) << "'" << c.path << "': " << strerror(-fd);
        struct stat st, want;
        ASSERT_EQ(fstat(fd, &st), 0);
        ASSERT_EQ(stat((root_ + "/" + c.parent).c_str(), &want), 0);
        EXPECT_TRUE(SameFile(st, want)) << c.path;
        EXPECT_STREQ(name, c.name) << c.path;
        EXPECT_EQ(fcntl(fd, F_GETFL) & O_PATH, O_PATH);
        g_free(name);
        close(fd);
    }
}

// ---- races ----------------------------------------------------------------------------

// A thread keeps swapping "swap", a real directory holding its own "secret", with a
// symlink to ../outside (renameat2(RENAME_EXCHANGE) is atomic) while opens of
// "swap/secret" run: each must give the inside file or fail, never the outside one.
TEST_P(Jail, SwapDirectoryWithSymlinkRace)
{
    const int root_fd = porch_jail_get_root_fd(jail_);
    ASSERT_EQ(mkdirat(root_fd, "swap", 0755), 0);
    Write("root/swap/secret", "inside-swap");
    ASSERT_EQ(symlinkat("../outside", root_fd, "swap-alt"), 0);

    std::atomic<bool> stop{false};
    std::thread swapper([&] {
        while (!stop)
            renameat2(root_fd, "swap", root_fd, "swap-alt", RENAME_EXCHANGE);
    });
    int escapes = 0, inside = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        int fd = porch_jail_open(jail_, "swap/secret", i % 2 ? O_RDONLY : O_PATH, 0, 0);
        if (fd < 0) {
            refused++;
            continue;
        }
        struct stat st;
        ASSERT_EQ(fstat(fd, &st), 0);
        if (SameFile(st, secret_st_))
            escapes++;
        else
            inside++;
        close(fd);
    }
    stop = true;
    swapper.join();
    EXPECT_EQ(escapes, 0);
    RecordProperty("inside", inside);
    RecordProperty("refused", refused);
    printf("    %d inside, %d refused, %d escapes\n", inside, refused, escapes);
}

// A thread keeps moving m/n up to the root and back while "m/n/../../outside/secret" is
// opened: a resolver that counted levels, and followed ".." on the directory it stands in,
// would climb from a moved n above the root.
TEST_P(Jail, MoveDirectoryUpRace)
{
    const int root_fd = porch_jail_get_root_fd(jail_);
    ASSERT_EQ(mkdirat(root_fd, "m", 0755), 0);
    ASSERT_EQ(mkdirat(root_fd, "m/n", 0755), 0);

    std::atomic<bool> stop{false};
    std::thread mover([&] {
        while (!stop) {
            renameat(root_fd, "m/n", root_fd, "n");
            renameat(root_fd, "n", root_fd, "m/n");
        }
    });
    int escapes = 0;
    std::set<int> errors;
    for (int i = 0; i < 20000; i++) {
        int fd = porch_jail_open(jail_, "m/n/../../outside/secret", O_RDONLY, 0, 0);
        if (fd < 0) {
            errors.insert(-fd);
            continue;
        }
        escapes++;
        close(fd);
    }
    stop = true;
    mover.join();
    EXPECT_EQ(escapes, 0);
    for (int e : errors)
        EXPECT_TRUE(e == ENOENT || e == EXDEV || e == EAGAIN) << strerror(e);
}

// ---- without /proc --------------------------------------------------------------------

// In a child with a mount namespace of its own and /proc unmounted, O_PATH descriptors
// cannot be reopened: the jail opens again with O_NONBLOCK and checks the type.
TEST_P(Jail, WithoutProc)
{
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        alarm(20); // a blocked open kills the child, and fails the test
        if (unshare(CLONE_NEWNS) < 0 ||
            mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
            _exit(77);
        if (umount2("/proc", MNT_DETACH) < 0 || access("/proc/self/fd", F_OK) == 0)
            _exit(77);
        PorchJail *jail = NewJail();
        if (jail == nullptr)
            _exit(1);
        int bad = 0, bit = 2;
        auto check = [&](bool ok) {
            if (!ok)
                bad |= bit;
            bit <<= 1;
        };
        check(porch_jail_open(jail, "fifo", O_RDONLY, 0, 0) == -EACCES);
        check(porch_jail_open(jail, "fifo", O_WRONLY, 0, 0) == -EACCES);
        check(porch_jail_open(jail, "fifo-link", kCreate, 0600, 0) == -EACCES);
        check(porch_jail_open(jail, "sock", O_RDWR, 0, 0) == -EACCES);
        check(porch_jail_open(jail, "rel-secret", O_RDONLY, 0, 0) == -EXDEV);
        check(porch_jail_open(jail, "link-file", O_RDONLY, 0, PORCH_JAIL_NOFOLLOW) == -ELOOP);
        int fd = porch_jail_open(jail, "link-file", O_RDWR | O_APPEND, 0, 0);
        check(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK) && write(fd, "+", 1) == 1);
        if (fd >= 0)
            close(fd);
        fd = porch_jail_open(jail, "a/b", O_RDONLY | O_DIRECTORY, 0, 0);
        check(fd >= 0);
        if (fd >= 0)
            close(fd);
        porch_jail_free(jail);
        _exit(bad);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal " << WTERMSIG(status);
    if (WEXITSTATUS(status) == 77)
        GTEST_SKIP() << "cannot unmount /proc in a mount namespace (needs CAP_SYS_ADMIN)";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "failed checks (bits from 2 up)";
    EXPECT_EQ(Read("root/file"), "inside+");
}

INSTANTIATE_TEST_SUITE_P(Both, Jail, ::testing::Values(Mode::kOpenat2, Mode::kFallback),
                         ModeParamName);

// ---- lexical check of symlink targets -----------------------------------------------------

TEST(JailSymlinkTarget, TruthTable)
{
    struct Case {
        const char *link;
        const char *target;
        bool inside;
    };
    const Case cases[] = {
            {"link", "a", true},
            {"link", "a/b/c", true},
            {"link", ".", true},
            {"link", "./", true},
            {"link", "...", true}, // a name, not ".."
            {"link", "..x/..", true},
            {"link", "a/../x", true},
            {"link", "..", false},
            {"link", "../x", false},
            {"link", "a/../../x", false},
            {"link", "a/b/../../..", false},
            {"d/link", "../x", true},
            {"d/link", "..", true},
            {"d/link", "../../x", false},
            {"d/e/link", "../../x", true},
            {"d//link", "..//x", true},
            {"d/./link", "../x", true},
            {"d/link/", "../x", true},
            {"d/../link", "../x", false}, // the link is at the root
            {"link", "/abs", false},
            {"d/link", "/d/x", false},
            {"link", "", false},
            {"../link", "x", false}, // the link itself would be outside
            {"/link", "x", false},
            {"", "x", false},
            {"d/..", "x", false},
            {"d/.", "x", false},
    };
    for (const Case &c : cases)
        EXPECT_EQ(porch_jail_symlink_target_inside(c.link, c.target), c.inside)
                << "'" << c.link << "' -> '" << c.target << "'";
    EXPECT_FALSE(porch_jail_symlink_target_inside("link", std::string(PATH_MAX, 'x').c_str()));
}

// ---- porch_jail_new ---------------------------------------------------------------------

TEST(JailNew, Errors)
{
    struct Case {
        const char *root;
        int code;
    };
    const Case cases[] = {
            {"relative/dir", G_IO_ERROR_INVALID_ARGUMENT},
            {"", G_IO_ERROR_INVALID_ARGUMENT},
            {"/nonexistent-porch-jail", G_IO_ERROR_NOT_FOUND},
            {"/etc/passwd", G_IO_ERROR_NOT_DIRECTORY},
    };
    for (const Case &c : cases) {
        GError *error = nullptr;
        PorchJail *jail = porch_jail_new(c.root, &error);
        EXPECT_EQ(jail, nullptr) << c.root;
        ASSERT_NE(error, nullptr) << c.root;
        EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, c.code)) << c.root << ": " << error->message;
        g_error_free(error);
    }
}

TEST(JailNew, RootDescriptor)
{
    g_autoptr(PorchJail) jail = porch_jail_new("/tmp", nullptr);
    ASSERT_NE(jail, nullptr);
    int fd = porch_jail_get_root_fd(jail);
    struct stat st, want;
    ASSERT_EQ(fstat(fd, &st), 0);
    ASSERT_EQ(stat("/tmp", &want), 0);
    EXPECT_TRUE(SameFile(st, want));
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_PATH, O_PATH);
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

} // namespace
