/* porch-direct-io.c — writing a fetched file's bulk with O_DIRECT (porch-direct-io.h). */
#include "porch-direct-io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

int
porch_direct_open(int fd, const char *path)
{
    struct statfs fs;

    if (fstatfs(fd, &fs) != 0)
        return -1;
    switch ((unsigned long)fs.f_type) {
    case EXT4_SUPER_MAGIC: /* also ext2 and ext3 */
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
        return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
    default:
        return -1;
    }
}

gboolean
porch_direct_aligned(const void *d, gsize n, guint64 offset)
{
    return offset % PORCH_DIRECT_ALIGN == 0 && n % PORCH_DIRECT_ALIGN == 0 &&
           (guintptr)d % PORCH_DIRECT_ALIGN == 0;
}

gboolean
porch_direct_write(int dfd, const void *d, gsize n, guint64 offset, const char *name)
{
    ssize_t k;

    do
        k = pwrite(dfd, d, n, (off_t)offset);
    while (k < 0 && errno == EINTR);
    if (k == (ssize_t)n)
        return TRUE;
    g_debug("%s: O_DIRECT write failed (%s); using the page cache", name,
            g_strerror(k < 0 ? errno : EIO));
    return FALSE;
}

int
porch_write_at(int fd, const void *d, gsize n, guint64 offset)
{
    for (gsize done = 0; done < n;) {
        ssize_t k = pwrite(fd, (const guint8 *)d + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        done += (gsize)k;
    }
    return 0;
}
