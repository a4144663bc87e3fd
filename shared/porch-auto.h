/* porch-auto.h — g_auto() cleanups for what GLib does not own: libssh's handles and file
 * descriptors, so that a function with many exits frees them on each without saying so.
 *
 *   g_auto(ssh_key) key = NULL;     ssh_key_free()'d at the end of its scope
 *   g_auto(PorchFd) fd = -1;        close()d at the end of its scope
 *   return g_steal_fd(&fd);         handed on instead (GLib's g_steal_fd(), 2.70)
 */
#pragma once

#include <errno.h>
#include <unistd.h>

#include <glib.h>
#include <libssh/libssh.h>

G_BEGIN_DECLS

/* libssh's handles are pointer typedefs: ssh_key is `struct ssh_key_struct *`.
 * G_DEFINE_AUTOPTR_CLEANUP_FUNC(ssh_key, ...) would make g_autoptr(ssh_key) declare an
 * ssh_key * (a pointer to the pointer), and the struct has no name of its own to give it
 * instead. So they get G_DEFINE_AUTO_CLEANUP_FREE_FUNC, the cleanup for a value that is freed
 * unless it is "none" (NULL), which is how GLib itself declares GStrv (a char **): g_auto()
 * then declares the handle itself. */
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(ssh_key, ssh_key_free, NULL)

/* A file descriptor that is closed when it goes out of scope. GLib 2.76 has this as
 * g_autofd; Debian 12 has GLib 2.74, which has g_steal_fd() but not g_autofd. So an int of
 * its own name, whose cleanup closes it unless it is negative (-1: nothing held; a negative
 * errno kept in it is not closed either). The close keeps errno, so that what a caller reads
 * after the scope ends is still the error that made the function return. */
typedef int PorchFd;

static inline void
porch_fd_close(PorchFd fd)
{
    int saved = errno;

    if (fd >= 0)
        close(fd);
    errno = saved;
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC(PorchFd, porch_fd_close, -1)

G_END_DECLS
