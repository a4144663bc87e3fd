/* files.c — a share's file operations: done here through the jail (direct), or asked of the
 * share's worker over a socket (remote); and the worker's side of that socket (files.h). */
#define G_LOG_DOMAIN "porchd"

#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fd-pass.h"
#include "porch-auto.h"
#include "porch-hash.h"
#include "porch-jail.h"
#include "porch-send.h"

typedef enum {
    OP_OPEN = 1,
    OP_STAT,
    OP_MKDIR,
    OP_REMOVE,
    OP_RMDIR,
    OP_RENAME,
    OP_SYMLINK,
    OP_READLINK,
    OP_SETSTAT,
    OP_FSETSTAT,
    OP_REPLACE,
    OP_COMMIT,
    OP_DISCARD,
    OP_UNLINK_IN,
    OP_OPENDIR,
    OP_READDIR,
    OP_CLOSEDIR,
    OP_HASH,
    OP_CHANGES,
    OP_FREE_SPACE,
} Op;

/* An open sent ahead (porch_files_open_ahead()) */
typedef struct {
    guint32 tag;
    gboolean received;
    int result; /* once received: a descriptor, or -errno */
} Ahead;

struct _PorchFiles {
    gboolean remote;
    /* remote */
    int fd;
    gboolean broken;
    GQueue ahead;        /* Ahead*, in the order sent */
    guint ahead_awaited; /* those not received yet: the first ones in the queue */
    /* direct */
    PorchJail *jail;
    GHashTable *listings; /* id -> DIR* */
    guint32 next_id;
    /* an indexer's (porch_files_set_indexer()) */
    char *root;
    gboolean indexer;
    int inotify;         /* -1 until the first porch_files_changes() */
    GHashTable *watches; /* watch descriptor -> the folder's path beneath the root */
    GHashTable *changed; /* folders changed and not reported yet (a set of paths) */
    gboolean lost;       /* changes were lost: the whole share must be scanned */
    /* an inbox's (porch_files_set_inbox()) */
    gboolean inbox;
};

/* ---- what an inbox's worker does (porch_files_set_inbox()) ------------------------------- */

/* A send's hidden file: PORCH_SEND_TEMP_PREFIX..., in the inbox's folder itself. */
static gboolean
is_send_temp(const char *rel)
{
    return g_str_has_prefix(rel, PORCH_SEND_TEMP_PREFIX) && strchr(rel, '/') == NULL;
}

static gboolean
is_inbox_folder(const char *rel)
{
    return rel[0] == '\0' || strcmp(rel, ".") == 0;
}

/* A name a sent file may be given: in the folder itself, not hidden. */
static gboolean
is_new_name(const char *rel)
{
    return rel[0] != '\0' && rel[0] != '.' && strchr(rel, '/') == NULL;
}

/* Whether an inbox's worker does @op on @a (and @b, @x: its other arguments); the ops that
 * take no path are judged in serve_request(). The folder itself is never opened for a
 * session: a descriptor of it would list it (getdents) and reach what arrived before. */
static gboolean
inbox_permits(guint32 op, const char *a, const char *b, guint32 x)
{
    switch (op) {
    case OP_OPEN:
        return is_send_temp(a);
    case OP_STAT:
    case OP_FREE_SPACE:
        return is_send_temp(a) || is_inbox_folder(a);
    case OP_REMOVE:
        return is_send_temp(a);
    case OP_RENAME: /* x: whether it may replace */
        return is_send_temp(a) && b != NULL && is_new_name(b) && x == 0;
    case OP_OPENDIR:
        return is_inbox_folder(a);
    default:
        return FALSE;
    }
}

static void
listing_free(gpointer dir)
{
    closedir(dir);
}

PorchFiles *
porch_files_new_direct(const char *root, GError **error)
{
    PorchJail *jail = porch_jail_new(root, error);
    PorchFiles *f;

    if (jail == NULL)
        return NULL;
    f = g_new0(PorchFiles, 1);
    f->fd = -1;
    f->inotify = -1;
    f->root = g_strdup(root);
    f->jail = jail;
    f->listings = g_hash_table_new_full(NULL, NULL, NULL, listing_free);
    return f;
}

PorchFiles *
porch_files_new_remote(int fd)
{
    PorchFiles *f = g_new0(PorchFiles, 1);

    f->remote = TRUE;
    f->fd = fd;
    f->inotify = -1;
    return f;
}

void
porch_files_free(PorchFiles *f)
{
    if (f == NULL)
        return;
    porch_files_drop_ahead(f);
    if (f->fd >= 0)
        close(f->fd);
    g_clear_pointer(&f->listings, g_hash_table_unref);
    g_clear_pointer(&f->jail, porch_jail_free);
    if (f->inotify >= 0)
        close(f->inotify);
    g_clear_pointer(&f->watches, g_hash_table_unref);
    g_clear_pointer(&f->changed, g_hash_table_unref);
    g_free(f->root);
    g_free(f);
}

void
porch_files_entries_clear(GArray *entries)
{
    for (guint i = 0; i < entries->len; i++)
        g_free(g_array_index(entries, PorchFilesEntry, i).name);
    g_array_set_size(entries, 0);
}

/* ---- direct -------------------------------------------------------------------------- */

int
porch_files_growth_allowed(int fd, guint64 new_size)
{
    struct statvfs v;
    struct stat st;
    guint64 growth;

    if (new_size > (guint64)G_MAXINT64)
        return EFBIG;
    if (fstat(fd, &st) != 0)
        return errno;
    if (new_size <= (guint64)st.st_size)
        return 0;
    growth = new_size - (guint64)st.st_size;
    if (fstatvfs(fd, &v) != 0)
        return errno;
    if (v.f_frsize > 0 && growth / v.f_frsize > v.f_bavail)
        return ENOSPC;
    return 0;
}

/* Applies @a to @fd: size (growth bounded), permissions (never set-id bits), times. */
static int
apply_attrs(int fd, const PorchWireAttrs *a)
{
    int e;

    if ((a->flags & SSH_FILEXFER_ATTR_SIZE) && (e = porch_files_growth_allowed(fd, a->size)) != 0)
        return -e;
    if ((a->flags & SSH_FILEXFER_ATTR_SIZE) && ftruncate(fd, (off_t)a->size) != 0)
        return -errno;
    if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) && fchmod(fd, a->permissions & 0777) != 0)
        return -errno;
    if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
        struct timespec ts[2] = {{.tv_sec = a->atime}, {.tv_sec = a->mtime}};
        if (futimens(fd, ts) != 0)
            return -errno;
    }
    return 0;
}

/* One name in a folder, as a client's upload temporary names are: no '/', not "." or "..". */
static gboolean
is_one_name(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

static int
d_open(PorchFiles *f, const char *rel, int oflags, mode_t mode, guint jail_flags)
{
    return porch_jail_open(f->jail, rel, oflags, mode & 0777, jail_flags);
}

static int
d_mkdir(PorchFiles *f, const char *rel, mode_t mode)
{
    g_autofree char *name = NULL;
    int parent, r = 0;

    if (rel[0] == '\0')
        return -EEXIST;
    parent = porch_jail_open_parent(f->jail, rel, &name);
    if (parent < 0)
        return parent;
    if (mkdirat(parent, name, mode & 0777) != 0)
        r = -errno;
    close(parent);
    return r;
}

static int
d_remove(PorchFiles *f, const char *rel, gboolean dir)
{
    g_autofree char *name = NULL;
    int parent = porch_jail_open_parent(f->jail, rel, &name), r = 0;
    struct stat st;

    if (parent < 0)
        return parent;
    if (dir) {
        if (unlinkat(parent, name, AT_REMOVEDIR) != 0)
            r = -errno;
    } else if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        r = -errno;
    } else if (S_ISDIR(st.st_mode)) {
        r = -EISDIR;
    } else if (unlinkat(parent, name, 0) != 0) {
        r = -errno;
    }
    close(parent);
    return r;
}

static int
d_rename(PorchFiles *f, const char *from_rel, const char *to_rel, gboolean replace)
{
    g_autofree char *from = NULL;
    g_autofree char *to = NULL;
    g_auto(PorchFd) p1 = -1;
    g_auto(PorchFd) p2 = -1;
    int e = 0;

    p1 = porch_jail_open_parent(f->jail, from_rel, &from);
    if (p1 < 0)
        return p1;
    p2 = porch_jail_open_parent(f->jail, to_rel, &to);
    if (p2 < 0)
        return p2;
    if (replace) {
        if (renameat(p1, from, p2, to) != 0)
            e = errno;
    } else if (renameat2(p1, from, p2, to, RENAME_NOREPLACE) != 0) {
        e = errno;
        /* a file system without RENAME_NOREPLACE: a file is linked under the new name
         * (which fails if it exists) and unlinked under the old; a folder is refused */
        if (e == EINVAL) {
            struct stat st;
            if (fstatat(p1, from, &st, AT_SYMLINK_NOFOLLOW) != 0)
                e = errno;
            else if (S_ISDIR(st.st_mode))
                e = EOPNOTSUPP;
            else if (linkat(p1, from, p2, to, 0) != 0)
                e = errno;
            else
                e = unlinkat(p1, from, 0) == 0 ? 0 : errno;
        }
    }
    return -e;
}

/* A link made for a client may only point down: relative, no "..", inside the share (the
 * session refuses others first; this is the second wall). */
static gboolean
link_target_ok(const char *link_rel, const char *target)
{
    g_auto(GStrv) parts = NULL;

    if (!porch_jail_symlink_target_inside(link_rel, target))
        return FALSE;
    parts = g_strsplit(target, "/", -1);
    for (guint i = 0; parts[i]; i++)
        if (strcmp(parts[i], "..") == 0)
            return FALSE;
    return TRUE;
}

static int
d_symlink(PorchFiles *f, const char *target, const char *rel)
{
    g_autofree char *name = NULL;
    int parent, r = 0;

    if (!link_target_ok(rel, target))
        return -EPERM;
    parent = porch_jail_open_parent(f->jail, rel, &name);
    if (parent < 0)
        return parent;
    if (symlinkat(target, parent, name) != 0)
        r = -errno;
    close(parent);
    return r;
}

static int
d_readlink(PorchFiles *f, const char *rel, char **ret_target)
{
    g_autofree char *name = NULL;
    char buf[PORCH_WIRE_MAX_PATH + 1];
    int parent = porch_jail_open_parent(f->jail, rel, &name);
    ssize_t n;
    int e;

    if (parent < 0)
        return parent;
    n = readlinkat(parent, name, buf, sizeof buf - 1);
    e = errno;
    close(parent);
    if (n < 0)
        return -e;
    *ret_target = g_strndup(buf, (gsize)n);
    return 0;
}

/* Whether @fd is the share's root folder itself (reached through a link, say). */
static gboolean
is_root(PorchFiles *f, int fd)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && fstat(porch_jail_get_root_fd(f->jail), &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
d_setstat(PorchFiles *f, const char *rel, const PorchWireAttrs *a)
{
    struct stat st;
    int fd, r;

    if (rel[0] == '\0')
        return -EPERM;
    r = porch_jail_stat(f->jail, rel, &st, 0);
    if (r < 0)
        return r;
    if (S_ISDIR(st.st_mode))
        fd = porch_jail_open(f->jail, rel, O_RDONLY | O_DIRECTORY, 0, 0);
    else
        fd = porch_jail_open(f->jail, rel,
                             (a->flags & SSH_FILEXFER_ATTR_SIZE) ? O_WRONLY : O_RDONLY, 0, 0);
    if (fd < 0)
        return fd;
    r = is_root(f, fd) ? -EPERM : apply_attrs(fd, a);
    close(fd);
    return r;
}

static int
d_replace(PorchFiles *f, const char *rel, const char *temp, int access, mode_t mode,
          gboolean create, int *ret_parent_fd, char **ret_name, gboolean *ret_in_place)
{
    g_autofree char *name = NULL;
    struct stat st;
    gboolean exists = FALSE;
    g_auto(PorchFd) parent = -1;
    int fd;

    *ret_in_place = FALSE;
    if (!is_one_name(temp))
        return -EINVAL;
    parent = porch_jail_open_parent(f->jail, rel, &name);
    if (parent < 0)
        return parent;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        int e = S_ISLNK(st.st_mode)   ? 0
                : S_ISDIR(st.st_mode) ? EISDIR
                : S_ISREG(st.st_mode) ? 0
                                      : EACCES;
        if (S_ISLNK(st.st_mode))
            *ret_in_place = TRUE;
        if (e != 0 || *ret_in_place)
            return -e;
        exists = TRUE;
    } else if (errno != ENOENT || !create) {
        return -errno;
    }
    fd = openat(parent, temp, (access & O_ACCMODE) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                exists ? (st.st_mode & 0777) : (mode & 0777));
    if (fd < 0)
        return -errno;
    /* the new content keeps the old file's mode, as an in-place write would (the umask may
     * have taken bits off at the open) */
    if (exists && fchmod(fd, st.st_mode & 0777) != 0)
        g_warning("cannot keep the mode of a replaced file: %s", g_strerror(errno));
    *ret_parent_fd = g_steal_fd(&parent);
    *ret_name = g_steal_pointer(&name);
    return fd;
}

static int
d_unlink_in(PorchFiles *f, const char *dir_rel, const char *name)
{
    int dir, r = 0;

    if (!is_one_name(name))
        return -EINVAL;
    dir = porch_jail_open(f->jail, dir_rel, O_PATH | O_DIRECTORY, 0, 0);
    if (dir < 0)
        return dir;
    if (unlinkat(dir, name, 0) != 0)
        r = -errno;
    close(dir);
    return r;
}

static int
d_opendir(PorchFiles *f, const char *rel, guint32 *ret_id)
{
    int fd;
    DIR *d;

    if (g_hash_table_size(f->listings) >= PORCH_FILES_MAX_LISTINGS)
        return -EMFILE;
    fd = porch_jail_open(f->jail, rel, O_RDONLY | O_DIRECTORY, 0, 0);
    if (fd < 0)
        return fd;
    d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    do
        f->next_id++;
    while (f->next_id == 0 || g_hash_table_contains(f->listings, GUINT_TO_POINTER(f->next_id)));
    g_hash_table_insert(f->listings, GUINT_TO_POINTER(f->next_id), d);
    *ret_id = f->next_id;
    return 0;
}

static int
d_readdir(PorchFiles *f, guint32 id, GArray *entries)
{
    DIR *d = g_hash_table_lookup(f->listings, GUINT_TO_POINTER(id));
    int n = 0;

    if (d == NULL)
        return -EBADF;
    while (n < PORCH_FILES_READDIR_MAX) {
        PorchFilesEntry e;
        struct dirent *de;

        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            if (errno != 0 && n == 0)
                return -errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        /* an inbox's listing: its send files alone */
        if (f->inbox && !is_send_temp(de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &e.st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone meanwhile */
        e.name = g_strdup(de->d_name);
        g_array_append_val(entries, e);
        n++;
    }
    return n;
}

static int
d_free_space(PorchFiles *f, const char *rel, guint64 *ret_avail)
{
    struct statvfs v;
    int fd = porch_jail_open(f->jail, rel, O_RDONLY | O_DIRECTORY, 0, 0), r = 0;

    if (fd < 0)
        return fd;
    if (fstatvfs(fd, &v) != 0)
        r = -errno;
    else
        *ret_avail = (guint64)v.f_bavail * (guint64)v.f_frsize;
    close(fd);
    return r;
}

static int
d_closedir(PorchFiles *f, guint32 id)
{
    return g_hash_table_remove(f->listings, GUINT_TO_POINTER(id)) ? 0 : -EBADF;
}

/* ---- the indexer's operations ------------------------------------------------------------ */

void
porch_files_set_indexer(PorchFiles *f, gboolean indexer)
{
    g_return_if_fail(!f->remote);
    f->indexer = indexer;
}

void
porch_files_set_timeout(PorchFiles *f, guint ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    g_return_if_fail(f->remote);
    if (setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        g_debug("files: SO_RCVTIMEO: %s", g_strerror(errno));
}

void
porch_files_set_inbox(PorchFiles *f, gboolean inbox)
{
    g_return_if_fail(!f->remote);
    f->inbox = inbox;
}

static gboolean
same_content_stat(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

#define HASH_BUFFER (1024 * 1024)

static int
d_hash(PorchFiles *f, const char *rel, guint32 range_size, struct stat *st, guint8 *ret_sha256,
       GBytes **ret_ranges)
{
    g_auto(PorchFd) fd = -1;
    g_autoptr(PorchSha256) whole = porch_sha256_new();
    g_autoptr(PorchSha256) range = porch_sha256_new();
    g_autoptr(GByteArray) ranges = NULL;
    g_autofree guint8 *buf = NULL;
    guint64 done = 0, in_range = 0, n_ranges;
    gsize cap;
    struct stat after;

    if (!f->indexer)
        return -EPERM;
    if (range_size < 256)
        return -EINVAL;
    fd = porch_jail_open(f->jail, rel, O_RDONLY, 0, PORCH_JAIL_NOFOLLOW);
    if (fd < 0)
        return fd;
    if (fstat(fd, st) != 0)
        return -errno;
    if (!S_ISREG(st->st_mode))
        return -EINVAL;
    n_ranges = st->st_size == 0 ? 0 : ((guint64)st->st_size - 1) / range_size + 1;
    if (n_ranges > PORCH_FILES_HASH_MAX_RANGES)
        return -EFBIG;
    ranges = g_byte_array_sized_new((guint)n_ranges * PORCH_SHA256_LEN);
    /* no bigger than the file: an indexer maps buffers past 128 KiB afresh each time (see
     * worker.c), and most files of a share are small */
    cap = (gsize)MIN((guint64)HASH_BUFFER, MAX((guint64)st->st_size, 1));
    buf = g_malloc(cap);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (done < (guint64)st->st_size) {
        gsize want = (gsize)MIN((guint64)cap, (guint64)st->st_size - done);
        ssize_t n;

        want = (gsize)MIN((guint64)want, range_size - in_range);
        n = pread(fd, buf, want, (off_t)done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EAGAIN; /* it shrank meanwhile */
        porch_sha256_update(whole, buf, (gsize)n);
        porch_sha256_update(range, buf, (gsize)n);
        done += (guint64)n;
        in_range += (guint64)n;
        if (in_range == range_size || done == (guint64)st->st_size) {
            guint8 digest[PORCH_SHA256_LEN];
            porch_sha256_finish(range, digest);
            g_byte_array_append(ranges, digest, sizeof digest);
            in_range = 0;
        }
    }
    /* what was read is not kept in the page cache on its account */
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (fstat(fd, &after) != 0)
        return -errno;
    if (!same_content_stat(st, &after))
        return -EAGAIN;
    porch_sha256_finish(whole, ret_sha256);
    *ret_ranges = g_byte_array_free_to_bytes(g_steal_pointer(&ranges));
    return 0;
}

/* What an indexer watches in each folder: names that come and go, and files written. */
#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |            \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
/* At most this many folders are watched per share; past it, changes count as lost (the
 * indexer scans again now and then, and checks every record against the file before use). */
#define MAX_WATCHES 65536

/* Watches the folder @rel and, with @below, every folder beneath it (never through a
 * symbolic link). FALSE when the watches ran out. */
static gboolean
watch_tree(PorchFiles *f, const char *rel, gboolean below)
{
    g_autofree char *path =
            rel[0] != '\0' ? g_build_filename(f->root, rel, NULL) : g_strdup(f->root);
    g_auto(PorchFd) fd = -1;
    DIR *d;
    struct dirent *de;
    int wd;

    if (g_hash_table_size(f->watches) >= MAX_WATCHES)
        return FALSE;
    /* inotify takes a path, not a descriptor: the folder was found through the jail, and
     * whatever a watch reports is only a name to look at through the jail again */
    wd = inotify_add_watch(f->inotify, path, WATCH_MASK);
    if (wd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == EACCES;
    g_hash_table_replace(f->watches, GINT_TO_POINTER(wd), g_strdup(rel));
    if (!below)
        return TRUE;
    fd = porch_jail_open(f->jail, rel, O_RDONLY | O_DIRECTORY, 0, PORCH_JAIL_NOFOLLOW);
    if (fd < 0 || (d = fdopendir(fd)) == NULL)
        return TRUE;
    fd = -1;
    gboolean ok = TRUE;
    while (ok && (de = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
            continue;
        g_autofree char *sub =
                rel[0] != '\0' ? g_strconcat(rel, "/", de->d_name, NULL) : g_strdup(de->d_name);
        ok = watch_tree(f, sub, TRUE);
    }
    closedir(d);
    return ok;
}

/* Starts watching from nothing: after the first call, and after changes were lost. */
static void
watch_restart(PorchFiles *f)
{
    if (f->inotify >= 0)
        close(f->inotify);
    g_clear_pointer(&f->watches, g_hash_table_unref);
    f->watches = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    if (f->changed == NULL)
        f->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (f->inotify < 0 || !watch_tree(f, "", TRUE))
        f->lost = TRUE;
}

static void
note_changed(PorchFiles *f, const char *folder)
{
    if (g_hash_table_size(f->changed) >= PORCH_FILES_CHANGES_MAX * 8)
        f->lost = TRUE;
    else
        g_hash_table_add(f->changed, g_strdup(folder));
}

/* Reads every event waiting on the inotify descriptor into f->changed. */
static void
watch_drain(PorchFiles *f)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    while ((n = read(f->inotify, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            const char *folder = g_hash_table_lookup(f->watches, GINT_TO_POINTER(ev->wd));

            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                f->lost = TRUE;
                continue;
            }
            if (ev->mask & IN_IGNORED) {
                g_hash_table_remove(f->watches, GINT_TO_POINTER(ev->wd));
                continue;
            }
            if (folder == NULL)
                continue;
            /* a folder moved keeps its watches under its old path: start again */
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_MOVED_FROM | IN_MOVED_TO)))
                f->lost = TRUE;
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                g_autofree char *parent = g_path_get_dirname(folder);
                note_changed(f, folder[0] == '\0' || strcmp(parent, ".") == 0 ? "" : parent);
                continue;
            }
            if ((ev->mask & IN_ISDIR) && (ev->mask & IN_CREATE) && ev->len > 0) {
                g_autofree char *sub = folder[0] != '\0' ? g_strconcat(folder, "/", ev->name, NULL)
                                                         : g_strdup(ev->name);
                if (!watch_tree(f, sub, TRUE))
                    f->lost = TRUE;
                note_changed(f, sub);
            }
            note_changed(f, folder);
        }
    }
}

static int
d_changes(PorchFiles *f, guint max, GPtrArray *folders, gsize room)
{
    GHashTableIter it;
    gpointer key;
    gsize used = 0;

    if (!f->indexer)
        return -EPERM;
    if (f->watches == NULL) {
        watch_restart(f);
        g_hash_table_remove_all(f->changed);
        f->lost = FALSE;
        return 0;
    }
    if (f->inotify >= 0)
        watch_drain(f);
    if (f->lost) {
        f->lost = FALSE;
        g_hash_table_remove_all(f->changed);
        watch_restart(f);
        return 1;
    }
    g_hash_table_iter_init(&it, f->changed);
    while (folders->len < MIN(max, PORCH_FILES_CHANGES_MAX) &&
           g_hash_table_iter_next(&it, &key, NULL)) {
        gsize len = strlen(key) + 4;
        if (used + len > room)
            break;
        used += len;
        g_ptr_array_add(folders, g_strdup(key));
        g_hash_table_iter_remove(&it);
    }
    return 0;
}

/* ---- the wire -------------------------------------------------------------------------- */

/* A message and up to two descriptors. */
typedef struct {
    GByteArray *b;
    int fds[2];
    guint n_fds;
} Message;

static void
message_clear(Message *m)
{
    g_clear_pointer(&m->b, g_byte_array_unref);
    for (guint i = 0; i < m->n_fds; i++)
        if (m->fds[i] >= 0)
            close(m->fds[i]);
    m->n_fds = 0;
}

static gboolean
send_message(int fd, const GByteArray *b, const int *fds, guint n_fds)
{
    return porch_fd_send(fd, b->data, b->len, fds, n_fds);
}

/* Receives one message with at most @max_fds descriptors. FALSE when the other side closed,
 * or sent too much, or more descriptors than allowed (they are closed). */
static gboolean
receive_message(int fd, Message *m, guint max_fds)
{
    gssize n;

    *m = (Message){.b = g_byte_array_sized_new(4096), .fds = {-1, -1}};
    g_byte_array_set_size(m->b, PORCH_FILES_MAX_MESSAGE);
    n = porch_fd_recv(fd, m->b->data, m->b->len, m->fds, MIN(max_fds, 2), &m->n_fds);
    if (n <= 0) {
        message_clear(m);
        return FALSE;
    }
    g_byte_array_set_size(m->b, (guint)n);
    return TRUE;
}

static void
put_stat(GByteArray *b, const struct stat *st)
{
    porch_wire_put_u64(b, st->st_dev);
    porch_wire_put_u64(b, st->st_ino);
    porch_wire_put_u32(b, st->st_mode);
    porch_wire_put_u64(b, st->st_nlink);
    porch_wire_put_u32(b, st->st_uid);
    porch_wire_put_u32(b, st->st_gid);
    porch_wire_put_u64(b, (guint64)st->st_size);
    porch_wire_put_u64(b, (guint64)st->st_atime);
    porch_wire_put_u64(b, (guint64)st->st_mtime);
    porch_wire_put_u64(b, (guint64)st->st_ctime);
    porch_wire_put_u32(b, (guint32)st->st_mtim.tv_nsec);
    porch_wire_put_u32(b, (guint32)st->st_ctim.tv_nsec);
}

static gboolean
get_stat(PorchWireReader *r, struct stat *st)
{
    guint64 dev, ino, nlink, size, at, mt, ct;
    guint32 mode, uid, gid, mt_ns, ct_ns;

    if (!porch_wire_get_u64(r, &dev) || !porch_wire_get_u64(r, &ino) ||
        !porch_wire_get_u32(r, &mode) || !porch_wire_get_u64(r, &nlink) ||
        !porch_wire_get_u32(r, &uid) || !porch_wire_get_u32(r, &gid) ||
        !porch_wire_get_u64(r, &size) || !porch_wire_get_u64(r, &at) ||
        !porch_wire_get_u64(r, &mt) || !porch_wire_get_u64(r, &ct) ||
        !porch_wire_get_u32(r, &mt_ns) || !porch_wire_get_u32(r, &ct_ns) || size > G_MAXINT64 ||
        mt_ns >= 1000000000u || ct_ns >= 1000000000u)
        return FALSE;
    *st = (struct stat){0};
    st->st_dev = dev;
    st->st_ino = ino;
    st->st_mode = mode;
    st->st_nlink = nlink;
    st->st_uid = uid;
    st->st_gid = gid;
    st->st_size = (off_t)size;
    st->st_atime = (time_t)at;
    st->st_mtime = (time_t)mt;
    st->st_ctime = (time_t)ct;
    st->st_mtim.tv_nsec = (long)mt_ns;
    st->st_ctim.tv_nsec = (long)ct_ns;
    return TRUE;
}

/* Receives the reply of the first open sent ahead that has none yet. */
static void
receive_ahead(PorchFiles *f)
{
    Ahead *a = NULL;
    Message reply;
    PorchWireReader r;
    guint32 result;

    for (GList *l = f->ahead.head; l != NULL && a == NULL; l = l->next)
        if (!((Ahead *)l->data)->received)
            a = l->data;
    g_return_if_fail(a != NULL);
    a->received = TRUE;
    f->ahead_awaited--;
    a->result = -EIO;
    if (f->broken || !receive_message(f->fd, &reply, 1)) {
        f->broken = TRUE;
        return;
    }
    r = (PorchWireReader){reply.b->data, reply.b->len};
    if (!porch_wire_get_u32(&r, &result) || (gint32)result < -4095) {
        f->broken = TRUE;
    } else if ((gint32)result < 0) {
        a->result = (gint32)result;
    } else if (reply.n_fds == 1) {
        a->result = reply.fds[0];
        reply.n_fds = 0;
    }
    message_clear(&reply);
}

/* Sends @request (and @fd when >= 0) and waits for the reply, which gets at most @max_fds
 * descriptors. Returns the reply's result, -EIO when the worker is gone (and for good). */
static int
call(PorchFiles *f, GByteArray *request, int fd, guint max_fds, Message *reply,
     PorchWireReader *ret_r)
{
    guint32 result;

    /* the worker answers in order: what was sent ahead is received first */
    while (f->ahead_awaited > 0)
        receive_ahead(f);
    *reply = (Message){.fds = {-1, -1}};
    if (f->broken || !send_message(f->fd, request, &fd, fd >= 0 ? 1 : 0) ||
        !receive_message(f->fd, reply, max_fds)) {
        f->broken = TRUE;
        return -EIO;
    }
    *ret_r = (PorchWireReader){reply->b->data, reply->b->len};
    if (!porch_wire_get_u32(ret_r, &result) || (gint32)result < -4095) {
        f->broken = TRUE;
        message_clear(reply);
        return -EIO;
    }
    return (gint32)result;
}

static GByteArray *
request_new(Op op)
{
    GByteArray *b = g_byte_array_sized_new(256);
    porch_wire_put_u32(b, op);
    return b;
}

/* A remote call that returns only its result. */
static int
call_simple(PorchFiles *f, GByteArray *request, int fd)
{
    Message reply;
    PorchWireReader r;
    int rc = call(f, request, fd, 0, &reply, &r);

    g_byte_array_unref(request);
    message_clear(&reply);
    return rc;
}

/* ---- the API ------------------------------------------------------------------------- */

int
porch_files_open(PorchFiles *f, const char *rel, int oflags, mode_t mode, guint jail_flags)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    int rc;

    if (!f->remote)
        return d_open(f, rel, oflags, mode, jail_flags);
    b = request_new(OP_OPEN);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_u32(b, (guint32)oflags);
    porch_wire_put_u32(b, mode);
    porch_wire_put_u32(b, jail_flags);
    rc = call(f, b, -1, 1, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0) {
        if (reply.n_fds != 1) {
            rc = -EIO;
        } else {
            rc = reply.fds[0];
            reply.n_fds = 0;
        }
    }
    message_clear(&reply);
    return rc;
}

void
porch_files_open_ahead(PorchFiles *f, const char *rel, int oflags, guint32 tag)
{
    g_autoptr(GByteArray) b = NULL;
    Ahead *a;

    if (!f->remote || f->broken || f->ahead.length >= PORCH_FILES_MAX_AHEAD ||
        (oflags & (O_CREAT | O_TRUNC | O_ACCMODE)) != O_RDONLY)
        return;
    b = request_new(OP_OPEN);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_u32(b, (guint32)oflags);
    porch_wire_put_u32(b, 0);
    porch_wire_put_u32(b, 0);
    if (!send_message(f->fd, b, NULL, 0)) {
        f->broken = TRUE;
        return;
    }
    a = g_new0(Ahead, 1);
    a->tag = tag;
    g_queue_push_tail(&f->ahead, a);
    f->ahead_awaited++;
}

int
porch_files_open_take(PorchFiles *f, guint32 tag)
{
    for (GList *l = f->ahead.head; l != NULL; l = l->next) {
        Ahead *a = l->data;
        int result;

        if (a->tag != tag)
            continue;
        while (!a->received)
            receive_ahead(f);
        result = a->result;
        g_queue_delete_link(&f->ahead, l);
        g_free(a);
        return result;
    }
    return G_MININT;
}

void
porch_files_drop_ahead(PorchFiles *f)
{
    Ahead *a;

    while (f->ahead_awaited > 0)
        receive_ahead(f);
    while ((a = g_queue_pop_head(&f->ahead)) != NULL) {
        if (a->result >= 0)
            close(a->result);
        g_free(a);
    }
}

int
porch_files_stat(PorchFiles *f, const char *rel, struct stat *ret_st, guint jail_flags)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    int rc;

    if (!f->remote)
        return porch_jail_stat(f->jail, rel, ret_st, jail_flags);
    b = request_new(OP_STAT);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_u32(b, jail_flags);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0 && !get_stat(&r, ret_st))
        rc = -EIO;
    message_clear(&reply);
    return rc;
}

int
porch_files_mkdir(PorchFiles *f, const char *rel, mode_t mode)
{
    GByteArray *b;

    if (!f->remote)
        return d_mkdir(f, rel, mode);
    b = request_new(OP_MKDIR);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_u32(b, mode);
    return call_simple(f, b, -1);
}

int
porch_files_remove(PorchFiles *f, const char *rel)
{
    GByteArray *b;

    if (!f->remote)
        return d_remove(f, rel, FALSE);
    b = request_new(OP_REMOVE);
    porch_wire_put_cstring(b, rel);
    return call_simple(f, b, -1);
}

int
porch_files_rmdir(PorchFiles *f, const char *rel)
{
    GByteArray *b;

    if (!f->remote)
        return d_remove(f, rel, TRUE);
    b = request_new(OP_RMDIR);
    porch_wire_put_cstring(b, rel);
    return call_simple(f, b, -1);
}

int
porch_files_rename(PorchFiles *f, const char *from, const char *to, gboolean replace)
{
    GByteArray *b;

    if (!f->remote)
        return d_rename(f, from, to, replace);
    b = request_new(OP_RENAME);
    porch_wire_put_cstring(b, from);
    porch_wire_put_cstring(b, to);
    porch_wire_put_u32(b, replace ? 1 : 0);
    return call_simple(f, b, -1);
}

int
porch_files_symlink(PorchFiles *f, const char *target, const char *rel)
{
    GByteArray *b;

    if (!f->remote)
        return d_symlink(f, target, rel);
    b = request_new(OP_SYMLINK);
    porch_wire_put_cstring(b, target);
    porch_wire_put_cstring(b, rel);
    return call_simple(f, b, -1);
}

int
porch_files_readlink(PorchFiles *f, const char *rel, char **ret_target)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    int rc;

    if (!f->remote)
        return d_readlink(f, rel, ret_target);
    b = request_new(OP_READLINK);
    porch_wire_put_cstring(b, rel);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0 && (*ret_target = porch_wire_get_path(&r, PORCH_WIRE_MAX_PATH)) == NULL)
        rc = -EIO;
    message_clear(&reply);
    return rc;
}

int
porch_files_setstat(PorchFiles *f, const char *rel, const PorchWireAttrs *a)
{
    GByteArray *b;

    if (!f->remote)
        return d_setstat(f, rel, a);
    b = request_new(OP_SETSTAT);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_attrs(b, a);
    return call_simple(f, b, -1);
}

int
porch_files_fsetstat(PorchFiles *f, int fd, const PorchWireAttrs *a)
{
    GByteArray *b;

    if (!f->remote)
        return apply_attrs(fd, a);
    b = request_new(OP_FSETSTAT);
    porch_wire_put_attrs(b, a);
    return call_simple(f, b, fd);
}

int
porch_files_replace(PorchFiles *f, const char *rel, const char *temp, int access, mode_t mode,
                    gboolean create, int *ret_parent_fd, char **ret_name, gboolean *ret_in_place)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    guint32 in_place = 0;
    char *name = NULL;
    int rc;

    if (!f->remote)
        return d_replace(f, rel, temp, access, mode, create, ret_parent_fd, ret_name, ret_in_place);
    b = request_new(OP_REPLACE);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_cstring(b, temp);
    porch_wire_put_u32(b, (guint32)access);
    porch_wire_put_u32(b, mode);
    porch_wire_put_u32(b, create ? 1 : 0);
    rc = call(f, b, -1, 2, &reply, &r);
    g_byte_array_unref(b);
    *ret_in_place = FALSE;
    if (rc >= 0 && !porch_wire_get_u32(&r, &in_place)) {
        rc = -EIO;
    } else if (rc >= 0 && in_place) {
        *ret_in_place = TRUE;
    } else if (rc >= 0) {
        if (reply.n_fds != 2 || (name = porch_wire_get_path(&r, 255)) == NULL ||
            !is_one_name(name)) {
            g_free(name);
            rc = -EIO;
        } else {
            rc = reply.fds[0];
            *ret_parent_fd = reply.fds[1];
            *ret_name = name;
            reply.n_fds = 0;
        }
    }
    message_clear(&reply);
    return rc;
}

int
porch_files_commit(PorchFiles *f, int parent_fd, const char *temp, const char *name)
{
    GByteArray *b;

    if (!f->remote) {
        if (!is_one_name(temp) || !is_one_name(name))
            return -EINVAL;
        return renameat(parent_fd, temp, parent_fd, name) == 0 ? 0 : -errno;
    }
    b = request_new(OP_COMMIT);
    porch_wire_put_cstring(b, temp);
    porch_wire_put_cstring(b, name);
    return call_simple(f, b, parent_fd);
}

int
porch_files_discard(PorchFiles *f, int parent_fd, const char *temp)
{
    GByteArray *b;

    if (!f->remote) {
        if (!is_one_name(temp))
            return -EINVAL;
        return unlinkat(parent_fd, temp, 0) == 0 ? 0 : -errno;
    }
    b = request_new(OP_DISCARD);
    porch_wire_put_cstring(b, temp);
    return call_simple(f, b, parent_fd);
}

int
porch_files_unlink_in(PorchFiles *f, const char *dir_rel, const char *name)
{
    GByteArray *b;

    if (!f->remote)
        return d_unlink_in(f, dir_rel, name);
    b = request_new(OP_UNLINK_IN);
    porch_wire_put_cstring(b, dir_rel);
    porch_wire_put_cstring(b, name);
    return call_simple(f, b, -1);
}

int
porch_files_opendir(PorchFiles *f, const char *rel, guint32 *ret_id)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    int rc;

    if (!f->remote)
        return d_opendir(f, rel, ret_id);
    b = request_new(OP_OPENDIR);
    porch_wire_put_cstring(b, rel);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0 && !porch_wire_get_u32(&r, ret_id))
        rc = -EIO;
    message_clear(&reply);
    return rc;
}

int
porch_files_readdir(PorchFiles *f, guint32 id, GArray *entries)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    int rc;

    if (!f->remote)
        return d_readdir(f, id, entries);
    b = request_new(OP_READDIR);
    porch_wire_put_u32(b, id);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc > PORCH_FILES_READDIR_MAX)
        rc = -EIO;
    for (int i = 0; rc > 0 && i < rc; i++) {
        PorchFilesEntry e;
        if ((e.name = porch_wire_get_path(&r, 255)) == NULL || e.name[0] == '\0' ||
            strchr(e.name, '/') != NULL || !get_stat(&r, &e.st)) {
            g_free(e.name);
            rc = -EIO;
            break;
        }
        g_array_append_val(entries, e);
    }
    message_clear(&reply);
    return rc;
}

int
porch_files_free_space(PorchFiles *f, const char *rel, guint64 *ret_avail)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    int rc;

    if (!f->remote)
        return d_free_space(f, rel, ret_avail);
    b = request_new(OP_FREE_SPACE);
    porch_wire_put_cstring(b, rel);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0 && !porch_wire_get_u64(&r, ret_avail))
        rc = -EIO;
    message_clear(&reply);
    return rc;
}

int
porch_files_closedir(PorchFiles *f, guint32 id)
{
    GByteArray *b;

    if (!f->remote)
        return d_closedir(f, id);
    b = request_new(OP_CLOSEDIR);
    porch_wire_put_u32(b, id);
    return call_simple(f, b, -1);
}

int
porch_files_hash(PorchFiles *f, const char *rel, guint32 range_size, struct stat *ret_st,
                 guint8 *ret_sha256, GBytes **ret_ranges)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    const guint8 *sha = NULL, *ranges = NULL;
    guint32 sha_len = 0, ranges_len = 0;
    int rc;

    if (!f->remote)
        return d_hash(f, rel, range_size, ret_st, ret_sha256, ret_ranges);
    b = request_new(OP_HASH);
    porch_wire_put_cstring(b, rel);
    porch_wire_put_u32(b, range_size);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0) {
        guint64 n_ranges;
        if (!get_stat(&r, ret_st) || !porch_wire_get_string(&r, &sha, &sha_len) ||
            sha_len != PORCH_SHA256_LEN || !porch_wire_get_string(&r, &ranges, &ranges_len) ||
            range_size == 0) {
            rc = -EIO;
        } else {
            n_ranges = ret_st->st_size == 0 ? 0 : ((guint64)ret_st->st_size - 1) / range_size + 1;
            if ((guint64)ranges_len != n_ranges * PORCH_SHA256_LEN) {
                rc = -EIO;
            } else {
                memcpy(ret_sha256, sha, PORCH_SHA256_LEN);
                *ret_ranges = g_bytes_new(ranges, ranges_len);
            }
        }
    }
    message_clear(&reply);
    return rc;
}

int
porch_files_changes(PorchFiles *f, guint max, GPtrArray *folders)
{
    GByteArray *b;
    Message reply;
    PorchWireReader r;
    guint32 count = 0;
    int rc;

    if (!f->remote)
        return d_changes(f, max, folders, PORCH_FILES_MAX_MESSAGE - 64);
    b = request_new(OP_CHANGES);
    porch_wire_put_u32(b, max);
    rc = call(f, b, -1, 0, &reply, &r);
    g_byte_array_unref(b);
    if (rc >= 0 && (!porch_wire_get_u32(&r, &count) || count > MIN(max, PORCH_FILES_CHANGES_MAX)))
        rc = -EIO;
    for (guint32 i = 0; rc >= 0 && i < count; i++) {
        char *path = porch_wire_get_path(&r, PORCH_WIRE_MAX_PATH);
        if (path == NULL) {
            rc = -EIO;
            break;
        }
        g_ptr_array_add(folders, path);
    }
    message_clear(&reply);
    return rc;
}

/* ---- the worker's side --------------------------------------------------------------- */

/* Does the request @op whose arguments are in @r (@fd: the descriptor that came with it, or
 * -1), appending the reply's payload to @payload and the descriptors to send to @ret_fds.
 * Returns the result, or G_MININT when the request is malformed. Modes are masked here, not
 * trusted: no set-id or sticky bits, whatever the session sends. */
static int
serve_request(PorchFiles *f, guint32 op, PorchWireReader *r, int fd, GByteArray *payload,
              int *ret_fds, guint *ret_n_fds)
{
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    guint32 x = 0, y = 0, z = 0;
    PorchWireAttrs attrs;
    struct stat st;
    int rc;

#define PATH(v)  (((v) = porch_wire_get_path(r, PORCH_WIRE_MAX_PATH)) != NULL)
#define U32(v)   porch_wire_get_u32(r, &(v))
#define ATTRS(v) porch_wire_get_attrs(r, &(v))
    /* a descriptor comes with FSETSTAT, COMMIT and DISCARD, and only with them */
    if ((fd >= 0) != (op == OP_FSETSTAT || op == OP_COMMIT || op == OP_DISCARD))
        return G_MININT;
    /* an inbox's worker: a send's operations only (inbox_permits() judges their paths) */
    if (f->inbox && op != OP_OPEN && op != OP_STAT && op != OP_REMOVE && op != OP_RENAME &&
        op != OP_OPENDIR && op != OP_READDIR && op != OP_CLOSEDIR && op != OP_FREE_SPACE)
        return -EPERM;
    switch (op) {
    case OP_OPEN:
        if (!PATH(a) || !U32(x) || !U32(y) || !U32(z))
            return G_MININT;
        if (f->inbox && !inbox_permits(op, a, NULL, x))
            return -EPERM;
        rc = d_open(f, a, (int)x, (mode_t)y, z);
        if (rc >= 0) {
            ret_fds[(*ret_n_fds)++] = rc;
            rc = 0;
        }
        return rc;
    case OP_STAT:
        if (!PATH(a) || !U32(z))
            return G_MININT;
        if (f->inbox && !inbox_permits(op, a, NULL, 0))
            return -EPERM;
        rc = porch_jail_stat(f->jail, a, &st, z);
        if (rc >= 0)
            put_stat(payload, &st);
        return rc;
    case OP_MKDIR:
        if (!PATH(a) || !U32(y))
            return G_MININT;
        return d_mkdir(f, a, (mode_t)y & 0777);
    case OP_REMOVE:
    case OP_RMDIR:
        if (!PATH(a))
            return G_MININT;
        if (f->inbox && !inbox_permits(op, a, NULL, 0))
            return -EPERM;
        return d_remove(f, a, op == OP_RMDIR);
    case OP_RENAME:
        if (!PATH(a) || !PATH(b) || !U32(x))
            return G_MININT;
        if (f->inbox && !inbox_permits(op, a, b, x))
            return -EPERM;
        return d_rename(f, a, b, x != 0);
    case OP_SYMLINK:
        if (!PATH(a) || !PATH(b))
            return G_MININT;
        return d_symlink(f, a, b);
    case OP_READLINK: {
        g_autofree char *target = NULL;
        if (!PATH(a))
            return G_MININT;
        rc = d_readlink(f, a, &target);
        if (rc >= 0)
            porch_wire_put_cstring(payload, target);
        return rc;
    }
    case OP_SETSTAT:
        if (!PATH(a) || !ATTRS(attrs))
            return G_MININT;
        return d_setstat(f, a, &attrs);
    case OP_FSETSTAT:
        if (!ATTRS(attrs))
            return G_MININT;
        return apply_attrs(fd, &attrs);
    case OP_REPLACE: {
        g_autofree char *name = NULL;
        gboolean in_place = FALSE;
        int parent = -1;
        if (!PATH(a) || !PATH(b) || !U32(x) || !U32(y) || !U32(z))
            return G_MININT;
        rc = d_replace(f, a, b, (int)x, (mode_t)y & 0777, z != 0, &parent, &name, &in_place);
        if (rc < 0)
            return rc;
        porch_wire_put_u32(payload, in_place ? 1 : 0);
        if (!in_place) {
            porch_wire_put_cstring(payload, name);
            ret_fds[(*ret_n_fds)++] = rc;
            ret_fds[(*ret_n_fds)++] = parent;
        }
        return 0;
    }
    case OP_COMMIT:
        if (!PATH(a) || !PATH(b))
            return G_MININT;
        return porch_files_commit(f, fd, a, b);
    case OP_DISCARD:
        if (!PATH(a))
            return G_MININT;
        return porch_files_discard(f, fd, a);
    case OP_UNLINK_IN:
        if (!PATH(a) || !PATH(b))
            return G_MININT;
        return d_unlink_in(f, a, b);
    case OP_OPENDIR:
        if (!PATH(a))
            return G_MININT;
        if (f->inbox && !inbox_permits(op, a, NULL, 0))
            return -EPERM;
        rc = d_opendir(f, a, &x);
        if (rc >= 0)
            porch_wire_put_u32(payload, x);
        return rc;
    case OP_READDIR: {
        g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(PorchFilesEntry));
        if (!U32(x))
            return G_MININT;
        rc = d_readdir(f, x, entries);
        for (guint i = 0; i < entries->len; i++) {
            PorchFilesEntry *e = &g_array_index(entries, PorchFilesEntry, i);
            porch_wire_put_cstring(payload, e->name);
            put_stat(payload, &e->st);
        }
        porch_files_entries_clear(entries);
        return rc;
    }
    case OP_CLOSEDIR:
        if (!U32(x))
            return G_MININT;
        return d_closedir(f, x);
    case OP_FREE_SPACE: {
        guint64 avail = 0;
        if (!PATH(a))
            return G_MININT;
        if (f->inbox && !inbox_permits(op, a, NULL, 0))
            return -EPERM;
        rc = d_free_space(f, a, &avail);
        if (rc >= 0)
            porch_wire_put_u64(payload, avail);
        return rc;
    }
    case OP_HASH: {
        g_autoptr(GBytes) ranges = NULL;
        guint8 sha[PORCH_SHA256_LEN];
        if (!PATH(a) || !U32(x))
            return G_MININT;
        rc = d_hash(f, a, x, &st, sha, &ranges);
        if (rc >= 0) {
            put_stat(payload, &st);
            porch_wire_put_string(payload, sha, sizeof sha);
            porch_wire_put_string(payload, g_bytes_get_data(ranges, NULL),
                                  g_bytes_get_size(ranges));
        }
        return rc;
    }
    case OP_CHANGES: {
        g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func(g_free);
        if (!U32(x))
            return G_MININT;
        rc = d_changes(f, x, folders, PORCH_FILES_MAX_MESSAGE - 64);
        if (rc >= 0) {
            porch_wire_put_u32(payload, folders->len);
            for (guint i = 0; i < folders->len; i++)
                porch_wire_put_cstring(payload, g_ptr_array_index(folders, i));
        }
        return rc;
    }
    default:
        return G_MININT;
    }
#undef PATH
#undef U32
#undef ATTRS
}

gboolean
porch_files_serve_one(PorchFiles *f, int fd)
{
    g_autoptr(GByteArray) payload = g_byte_array_new();
    g_autoptr(GByteArray) out = g_byte_array_new();
    Message request;
    PorchWireReader r;
    int fds[2] = {-1, -1};
    guint n_fds = 0;
    guint32 op;
    gboolean ok;
    int rc;

    g_return_val_if_fail(!f->remote, FALSE);
    if (!receive_message(fd, &request, 1))
        return FALSE;
    r = (PorchWireReader){request.b->data, request.b->len};
    rc = porch_wire_get_u32(&r, &op) ? serve_request(f, op, &r, request.n_fds ? request.fds[0] : -1,
                                                     payload, fds, &n_fds)
                                     : G_MININT;
    message_clear(&request);
    if (rc == G_MININT) {
        g_debug("a malformed request to the file worker: the connection ends");
        return FALSE;
    }
    porch_wire_put_u32(out, (guint32)rc);
    g_byte_array_append(out, payload->data, payload->len);
    ok = out->len <= PORCH_FILES_MAX_MESSAGE && send_message(fd, out, fds, n_fds);
    for (guint i = 0; i < n_fds; i++)
        close(fds[i]);
    return ok;
}
