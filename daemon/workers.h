/* workers.h — the network side's file workers: one porchd-worker per share in use, each
 * running as the share's owner (files.h says what a worker does).
 *
 * In the system service, porchd's network side runs as the user 'porch' and cannot start a
 * process as another user: it asks the launcher (launcher.h), which checks the share in its
 * own copy of the configuration and starts the worker. In the per-user service, the network
 * side starts its workers itself, as its own user. Either way the network side keeps each
 * worker's control socket and hands out connections to it: one per session and share.
 * A worker that has had no client for 10 s is let go (its 'i', worker.c); the next
 * connection starts a new one. Its watches run in GLib's default main context.
 */
#pragma once

#include <glib.h>

#include "files.h"
#include "porch-config.h"

G_BEGIN_DECLS

typedef struct _PorchWorkers PorchWorkers;

/* @launcher_fd: the launcher's socket (taken over), or -1 to start workers here, from
 * @worker_program. */
PorchWorkers *porch_workers_new(int launcher_fd, const char *worker_program);
/* Lets every worker go (each ends when its last client has) and frees @workers. */
void porch_workers_free(PorchWorkers *workers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchWorkers, porch_workers_free)

/* A new connection (a SOCK_SEQPACKET socket, the caller's) to the worker of @share, which is
 * started first when it does not run. -1 with @error when it cannot be had: the launcher
 * refused (no such share in its configuration, no such owner), the worker could not start. */
int porch_workers_connect(PorchWorkers *workers, const PorchShare *share, GError **error);

/* Starts an indexer for @share (porchd-worker --index, as the share's owner: indexer.h) and
 * returns its control socket, the caller's: each 'c' sent on it with a descriptor (the
 * PorchFiles connection) is a client; the indexer ends once the socket and its clients are
 * closed. Not kept or reused here. */
int porch_workers_start_indexer(PorchWorkers *workers, const PorchShare *share, GError **error);

/* PorchSftpContext.files_for for the network side itself (@workers is a PorchWorkers). */
PorchFiles *porch_workers_files_for(void *workers, const PorchShare *share, GError **error);

/* After a reload, or when shares went offline: the worker of a share that is gone or offline,
 * or whose folder, owner or writability changed, is let go (it ends when its clients have);
 * the next connection starts a new one (a folder back from an unplugged disk is then opened
 * afresh, not through the old worker's descriptor). */
void porch_workers_apply(PorchWorkers *workers, PorchConfig *config);

/* Whether there is a launcher (the system service) rather than workers started here. */
gboolean porch_workers_has_launcher(PorchWorkers *workers);

/* Sends the launcher one of its other requests (launcher.h: reload, a user share's change)
 * with @n_fds descriptors and waits for its verdict: TRUE for "ok", else FALSE with @error
 * (G_IO_ERROR_PERMISSION_DENIED with the launcher's reason for a refusal). */
gboolean porch_workers_ask_launcher(PorchWorkers *workers, const char *request, const int *fds,
                                    guint n_fds, GError **error);

/* Whether anyone may write in @share: its worker may write then. */
gboolean porch_share_writable(const PorchShare *share);

/* The option that gives porchd-worker its mode for @share: "--index" for its indexer,
 * "--inbox" for an inbox's worker (it makes, names and removes a send's files, and nothing
 * else), "--write" when anyone may write in it, NULL for read-only. */
const char *porch_share_worker_mode(const PorchShare *share, gboolean indexer);

G_END_DECLS
