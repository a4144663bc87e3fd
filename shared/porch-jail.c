/* porch-jail.c — resolve an untrusted path beneath a share root through file descriptors. */
#include "porch-jail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <gio/gio.h>

/* The kernel's own limit (MAXSYMLINKS), which chase() uses too. */
#define MAX_SYMLINKS 40
/* openat2() says EAGAIN when a rename may have raced with a ".." lookup. */
#define MAX_EAGAIN_RETRIES 32
/* The fallback walk holds one descriptor per directory level it stands in. */
#define MAX_DEPTH 256

/* What callers may ask for (porch-jail.h); O_PATH takes only O_DIRECTORY. */
#define OPEN_FLAGS                                                                                 \
    (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_CLOEXEC | O_NOCTTY)
#define PATH_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOCTTY)

struct _PorchJail {
    int root_fd; /* O_PATH|O_DIRECTORY */
    dev_t root_dev;
    ino_t root_ino;
    gboolean use_openat2;
    gboolean have_proc; /* /proc/self/fd is procfs: O_PATH descriptors can be reopened */
};

static gboolean
openat2_works(int root_fd)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    long fd = syscall(SYS_openat2, root_fd, ".", &how, sizeof how);

    if (fd >= 0) {
        close((int)fd);
        return TRUE;
    }
    /* ENOSYS: Linux before 5.6; EPERM: a seccomp filter that does not know the call. */
    return errno != ENOSYS && errno != EPERM;
}

PorchJail *
porch_jail_new(const char *root, GError **error)
{
    PorchJail *jail = NULL;
    struct statfs sfs;
    struct stat st;
    int fd = -1;

    g_return_val_if_fail(root != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!g_path_is_absolute(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: the root of a jail must be an absolute path", root);
        goto out;
    }
    fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int errsv = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s", root,
                    g_strerror(errsv));
        goto out;
    }

    /* success */
    jail = g_new0(PorchJail, 1);
    jail->root_fd = fd;
    fd = -1;
    jail->root_dev = st.st_dev;
    jail->root_ino = st.st_ino;
    jail->use_openat2 =
            g_strcmp0(g_getenv("PORCH_JAIL_FALLBACK"), "1") != 0 && openat2_works(jail->root_fd);
    jail->have_proc = statfs("/proc/self/fd", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
out:
    if (fd >= 0)
        close(fd);
    return jail;
}

void
porch_jail_free(PorchJail *jail)
{
    if (jail == NULL)
        return;
    close(jail->root_fd);
    g_free(jail);
}

int
porch_jail_get_root_fd(const PorchJail *jail)
{
    g_return_val_if_fail(jail != NULL, -1);
    return jail->root_fd;
}

gboolean
porch_jail_uses_openat2(const PorchJail *jail)
{
    g_return_val_if_fail(jail != NULL, FALSE);
    return jail->use_openat2;
}

/* TRUE if the @n bytes at @s are "." or "..". */
static gboolean
is_dots(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* ---- the fallback walk, for kernels without openat2() ------------------------------- */

/* TRUE if @rest, what follows a component, names nothing more: only "/" and ".". */
static gboolean
is_last(const char *rest)
{
    for (;;) {
        rest += strspn(rest, "/");
        if (*rest == '\0')
            return TRUE;
        if (rest[0] != '.' || (rest[1] != '/' && rest[1] != '\0'))
            return FALSE;
        rest++;
    }
}

/* Returns 0 if directory @fd lies beneath the root, found by walking ".." up to it, else
 * -EXDEV (or another -errno).
 *
 * The walk below never climbs above the root by itself: its ".." pops a stack of the
 * descriptors it came down through, so renaming directories inside the root cannot fool
 * it. What it cannot prevent is a directory it stands in being renamed out of the root
 * meanwhile (by someone who may write on both sides); lookups in it then see the outside.
 * This check, run before the last component is opened or created, catches that unless
 * the directory is moved back in time.
 * openat2() has no such gap: the kernel checks under its rename lock and says EAGAIN. */
static int
check_beneath(const PorchJail *jail, int fd)
{
    struct stat st, up_st;
    int cur = -1, r = -EXDEV;

    if (fstat(fd, &st) < 0)
        return -errno;
    for (guint i = 0; i < 4 * MAX_DEPTH; i++) {
        int up;

        if (st.st_dev == jail->root_dev && st.st_ino == jail->root_ino) {
            r = 0;
            break;
        }
        up = openat(cur >= 0 ? cur : fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0) {
            r = -errno;
            break;
        }
        if (cur >= 0)
            close(cur);
        cur = up;
        if (fstat(cur, &up_st) < 0) {
            r = -errno;
            break;
        }
        if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino)
            break; /* "/" is its own parent: the root was not on the way */
        st = up_st;
    }
    if (cur >= 0)
        close(cur);
    return r;
}

/* Opens @path (relative, not empty) beneath the root with open(2) @flags, as openat2()
 * with RESOLVE_BENEATH would. Modelled on systemd's chase() with BENEATH semantics: one
 * name is looked up at a time, with O_PATH|O_NOFOLLOW, from the directory the walk stands
 * in; ".." pops the stack of directories and is refused at the root (-EXDEV); a symlink
 * is read through a descriptor of the link itself and its target spliced in front of the
 * rest of the path (an absolute target: -EXDEV); the last component is followed unless
 * @nofollow or O_CREAT|O_EXCL, and is opened with O_NOFOLLOW from its directory. */
static int
walk(const PorchJail *jail, const char *path, int flags, mode_t mode, gboolean nofollow)
{
    const gboolean excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    int stack[MAX_DEPTH + 1] = {jail->root_fd}; /* [0] is borrowed, [1..depth] owned */
    guint depth = 0, n_links = 0;
    char name[NAME_MAX + 1] = "";
    char *todo = g_strdup(path);
    const char *p = todo;
    struct stat st;
    int child = -1, r;

    for (;;) {
        char target[PATH_MAX];
        gboolean last, must_be_dir;
        size_t len;
        ssize_t n;

        p += strspn(p, "/");
        if (*p == '\0') {
            name[0] = '\0'; /* the path ends on the directory we stand in */
            break;
        }
        len = strcspn(p, "/");
        if (len > NAME_MAX) {
            r = -ENAMETOOLONG;
            goto out;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        p += len;
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (depth == 0) {
                r = -EXDEV;
                goto out;
            }
            close(stack[depth--]);
            continue;
        }
        /* "name/" and "name/." must be directories and are followed, as in the kernel */
        last = is_last(p);
        must_be_dir = last && *p != '\0';
        if (must_be_dir && (flags & O_CREAT)) {
            r = -EISDIR;
            goto out;
        }

        child = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
            r = -errno;
            if (r == -ENOENT && last && (flags & O_CREAT))
                break; /* to be created */
            goto out;
        }
        if (fstat(child, &st) < 0) {
            r = -errno;
            goto out;
        }
        if (S_ISLNK(st.st_mode) && (!last || must_be_dir || !(nofollow || excl))) {
            char *next;

            if (++n_links > MAX_SYMLINKS) {
                r = -ELOOP;
                goto out;
            }
            n = readlinkat(child, "", target, sizeof target);
            if (n < 0) {
                r = -errno;
                goto out;
            }
            if (n == 0 || n == sizeof target) {
                r = n == 0 ? -ENOENT : -ENAMETOOLONG; /* as the kernel says */
                goto out;
            }
            target[n] = '\0';
            if (target[0] == '/') {
                r = -EXDEV;
                goto out;
            }
            next = g_strconcat(target, p, NULL); /* p is "" or starts with '/' */
            g_free(todo);
            p = todo = next;
            close(child);
            child = -1;
            continue;
        }
        if (last && !must_be_dir)
            break;
        if (!S_ISDIR(st.st_mode)) {
            r = -ENOTDIR;
            goto out;
        }
        if (depth == MAX_DEPTH) {
            r = -ENAMETOOLONG;
            goto out;
        }
        stack[++depth] = child;
        child = -1;
    }

    /* The last component: @name in stack[depth], child its O_PATH descriptor (-1: it does
     * not exist); or, when @name is "", the directory stack[depth] itself. */
    if (depth > 0) {
        r = check_beneath(jail, stack[depth]); /* before anything is created or opened */
        if (r < 0)
            goto out;
    }
    if (child >= 0 && excl) {
        r = -EEXIST;
        goto out;
    }
    if (child >= 0 && (flags & O_PATH)) {
        if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
            r = -ENOTDIR;
            goto out;
        }
        r = child;
        child = -1;
    } else {
        r = openat(stack[depth], name[0] ? name : ".", flags | O_NOFOLLOW, mode);
        if (r < 0) {
            r = -errno;
            goto out;
        }
    }
out:
    if (child >= 0)
        close(child);
    while (depth > 0)
        close(stack[depth--]);
    g_free(todo);
    return r;
}

/* ---- opening ------------------------------------------------------------------------- */

/* Opens @path (relative, not empty) beneath the root with open(2) @flags, O_CLOEXEC added
 * (and O_NOCTTY unless O_PATH), by openat2() or by the walk. Returns an fd or -errno. */
static int
open_beneath(const PorchJail *jail, const char *path, int flags, mode_t mode, gboolean nofollow)
{
    struct open_how how = {.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};

    flags |= O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
#ifdef PORCH_JAIL_UNCHECKED
    /* A test build only (porchd-worker-unchecked): the path as the kernel reads it from the
     * root, "..", absolute paths and symlinks followed anywhere, to show what Landlock alone
     * keeps a worker from. */
    {
        int fd = openat(jail->root_fd, path, flags | (nofollow ? O_NOFOLLOW : 0), mode);
        return fd >= 0 ? fd : -errno;
    }
#endif
    if (!jail->use_openat2)
        return walk(jail, path, flags, mode, nofollow);

    how.flags = (guint64)(flags | (nofollow ? O_NOFOLLOW : 0));
    how.mode = (flags & O_CREAT) ? mode : 0; /* openat2() refuses a mode otherwise */
    for (guint i = 0; i < MAX_EAGAIN_RETRIES; i++) {
        long fd = syscall(SYS_openat2, jail->root_fd, path, &how, sizeof how);

        if (fd >= 0)
            return (int)fd;
        if (errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

/* Opens the inode behind O_PATH descriptor @fd (of type @st) anew with @flags, as
 * systemd's fd_reopen() does: a directory through openat(fd, "."), anything else through
 * its /proc/self/fd magic link, which names that inode and no path. */
static int
reopen(int fd, const struct stat *st, int flags)
{
    char proc[sizeof "/proc/self/fd/" + 3 * sizeof(int)];
    int r;

    flags |= O_CLOEXEC | O_NOCTTY;
    if (S_ISDIR(st->st_mode)) {
        r = openat(fd, ".", flags);
    } else {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        r = open(proc, flags);
    }
    return r < 0 ? -errno : r;
}

/* Without /proc an O_PATH descriptor cannot be reopened, so @path is opened a second time,
 * for I/O, with O_NONBLOCK (a FIFO then cannot block the open), the type is checked on
 * what was really opened, and O_NONBLOCK is cleared. The price: if a device node took
 * the name's place since the O_PATH check, its driver's open() has run (a tape may
 * rewind) before it is refused. With /proc that cannot happen. */
static int
open_nonblock(const PorchJail *jail, const char *path, int flags, gboolean nofollow)
{
    struct stat st;
    int fd, fl, r;

    fd = open_beneath(jail, path, flags | O_NONBLOCK, 0, nofollow);
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0)
        r = -errno;
    else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        r = -EACCES;
    else if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        r = -errno;
    else
        return fd;
    close(fd);
    return r;
}

/* Checks an untrusted path; sets *ret_path to what to resolve ("" becomes "."). */
static int
check_relpath(const char *relpath, const char **ret_path)
{
#ifndef PORCH_JAIL_UNCHECKED
    if (relpath[0] == '/')
        return -EXDEV; /* as RESOLVE_BENEATH says; never reinterpreted as relative */
#endif
    if (strlen(relpath) >= PATH_MAX)
        return -ENAMETOOLONG;
    *ret_path = relpath[0] == '\0' ? "." : relpath;
    return 0;
}

int
porch_jail_open(const PorchJail *jail, const char *relpath, int flags, mode_t mode,
                guint jail_flags)
{
    const gboolean nofollow = (jail_flags & PORCH_JAIL_NOFOLLOW) != 0;
    const gboolean creat = (flags & O_CREAT) != 0;
    const char *path = NULL;
    struct stat st;
    int fd, r;

    g_return_val_if_fail(jail != NULL, -EINVAL);
    g_return_val_if_fail(relpath != NULL, -EINVAL);

    if ((flags & O_PATH) ? (flags & ~PATH_FLAGS) != 0
                         : (flags & ~OPEN_FLAGS) != 0 || (flags & O_ACCMODE) == O_ACCMODE)
        return -EINVAL;
    if ((jail_flags & ~PORCH_JAIL_NOFOLLOW) != 0)
        return -EINVAL;
    r = check_relpath(relpath, &path);
    if (r < 0)
        return r;

    if (flags & O_PATH)
        return open_beneath(jail, path, flags & (O_PATH | O_DIRECTORY), 0, nofollow);

    if (creat) {
        /* O_CREAT|O_EXCL makes a new regular file or fails: no symlink is followed, no
         * FIFO opened, so the descriptor needs no check. */
        fd = open_beneath(jail, path, flags | O_EXCL, mode, TRUE);
        if (fd != -EEXIST || (flags & O_EXCL))
            return fd;
        flags &= ~O_CREAT;
    }

    fd = open_beneath(jail, path, O_PATH | (flags & O_DIRECTORY), 0, nofollow);
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0)
        r = -errno;
    else if (S_ISLNK(st.st_mode))
        r = -ELOOP; /* NOFOLLOW, as open(O_NOFOLLOW) says */
    else if (S_ISDIR(st.st_mode) && creat)
        r = -EISDIR; /* as open(O_CREAT) says of a directory */
    else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        r = -EACCES;
    else if (jail->have_proc)
        r = reopen(fd, &st, flags);
    else
        r = open_nonblock(jail, path, flags, nofollow);
    close(fd);
    return r;
}

int
porch_jail_stat(const PorchJail *jail, const char *relpath, struct stat *ret_st, guint jail_flags)
{
    struct stat st;
    int fd, r = 0;

    g_return_val_if_fail(ret_st != NULL, -EINVAL);

    fd = porch_jail_open(jail, relpath, O_PATH, 0, jail_flags);
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0)
        r = -errno;
    close(fd);
    if (r == 0)
        *ret_st = st;
    return r;
}

int
porch_jail_open_parent(const PorchJail *jail, const char *relpath, char **ret_name)
{
    const char *slash;
    char *parent;
    size_t len, start;
    int fd;

    g_return_val_if_fail(jail != NULL, -EINVAL);
    g_return_val_if_fail(relpath != NULL, -EINVAL);
    g_return_val_if_fail(ret_name != NULL, -EINVAL);

    if (relpath[0] == '/')
        return -EXDEV;
    len = strlen(relpath);
    if (len >= PATH_MAX)
        return -ENAMETOOLONG;
    /* drop a trailing "/" or "/.", as often as it comes */
    for (;;) {
        if (len > 0 && relpath[len - 1] == '/')
            len--;
        else if (len >= 2 && relpath[len - 1] == '.' && relpath[len - 2] == '/')
            len -= 2;
        else
            break;
    }
    if (len == 0 || (len == 1 && relpath[0] == '.'))
        return -EPERM;
    slash = memrchr(relpath, '/', len);
    start = slash ? (size_t)(slash - relpath) + 1 : 0;
    if (is_dots(relpath + start, len - start))
        return -EINVAL; /* "." cannot be left after the loop above: ".." */
    if (len - start > NAME_MAX)
        return -ENAMETOOLONG;

    parent = g_strndup(relpath, start);
    fd = porch_jail_open(jail, parent, O_PATH | O_DIRECTORY, 0, 0);
    g_free(parent);
    if (fd >= 0)
        *ret_name = g_strndup(relpath + start, len - start);
    return fd;
}

/* ---- symlink targets ----------------------------------------------------------------- */

/* Adds the first @len bytes of @path, component by component, to *depth: a name goes one
 * level down, ".." one up. FALSE as soon as it climbs above the root. */
static gboolean
climb(const char *path, size_t len, int *depth)
{
    const char *p = path, *end = path + len;

    while (p < end) {
        const char *slash = memchr(p, '/', end - p);
        size_t n = (slash ? slash : end) - p;

        if (n == 2 && is_dots(p, n)) {
            if (--*depth < 0)
                return FALSE;
        } else if (n > 0 && !is_dots(p, n)) {
            ++*depth;
        }
        p += n + 1;
    }
    return TRUE;
}

gboolean
porch_jail_symlink_target_inside(const char *link_relpath, const char *target)
{
    const char *slash, *name;
    size_t len, n;
    int depth = 0;

    g_return_val_if_fail(link_relpath != NULL, FALSE);
    g_return_val_if_fail(target != NULL, FALSE);

    if (target[0] == '\0' || target[0] == '/' || strlen(target) >= PATH_MAX)
        return FALSE;
    if (link_relpath[0] == '/')
        return FALSE;
    len = strlen(link_relpath);
    while (len > 0 && link_relpath[len - 1] == '/')
        len--;
    slash = memrchr(link_relpath, '/', len);
    name = slash ? slash + 1 : link_relpath;
    n = (size_t)(link_relpath + len - name);
    if (n == 0 || is_dots(name, n))
        return FALSE; /* the link must have a name of its own */
    if (!climb(link_relpath, name - link_relpath, &depth))
        return FALSE;
    return climb(target, strlen(target), &depth);
}
