/* fd-pass.h — one packet and up to two descriptors over a SOCK_SEQPACKET socket
 * (SCM_RIGHTS), between porchd's processes: launcher, network side, sessions, workers.
 *
 * Plain sendmsg()/recvmsg(): GLib's GUnixFDMessage wants a GSocket, and the sessions and
 * workers that use these have no main loop and block on purpose. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PORCH_FD_PASS_MAX 2

/* Sends @len bytes of @data (at least 1) with @n_fds descriptors (they stay the caller's).
 * FALSE with errno set when the packet did not go whole. */
gboolean porch_fd_send(int sock, const void *data, gsize len, const int *fds, guint n_fds);

/* Receives one packet into @buf (@size bytes) and at most @max_fds descriptors into @fds
 * (close-on-exec, the caller's; *ret_n_fds says how many). Returns its length; 0 when the
 * other end closed; -1 with errno on failure, with EMSGSIZE when the packet was longer
 * than @size, EPROTO when it brought more descriptors than @max_fds or something else than
 * descriptors (none is kept then). */
gssize porch_fd_recv(int sock, void *buf, gsize size, int *fds, guint max_fds, guint *ret_n_fds);

G_END_DECLS
