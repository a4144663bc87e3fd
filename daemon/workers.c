/* workers.c — the network side's file workers (workers.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "workers.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "fd-pass.h"
#include "launcher.h"

/* How long a worker with no client is kept, for the next session to find it running. */
#define WORKER_IDLE_SECONDS 10

typedef struct _Worker Worker;

struct _PorchWorkers {
    int launcher; /* -1: workers are started here */
    char *program;
    GHashTable *by_name; /* share name -> Worker* */
    GCancellable *cancellable;
};

struct _Worker {
    PorchWorkers *workers;
    char *name;
    char *path;
    char *owner;
    gboolean writable;
    gboolean inbox;
    int control;       /* the worker's control socket */
    guint32 given;     /* clients sent on it */
    guint watch;       /* reads what the worker says on it */
    guint idle_source; /* lets it go: it has had no client for WORKER_IDLE_SECONDS */
};

gboolean
porch_share_writable(const PorchShare *share)
{
    /* an inbox's worker writes the files sent to it */
    return share->inbox || share->write.guest || g_hash_table_size(share->write.peers) > 0;
}

const char *
porch_share_worker_mode(const PorchShare *share, gboolean indexer)
{
    return indexer                       ? "--index"
           : share->inbox                ? "--inbox"
           : porch_share_writable(share) ? "--write"
                                         : NULL;
}

static void
worker_free(Worker *w)
{
    g_clear_handle_id(&w->watch, g_source_remove);
    g_clear_handle_id(&w->idle_source, g_source_remove);
    if (w->control >= 0)
        close(w->control); /* the worker ends when its last client has */
    g_free(w->name);
    g_free(w->path);
    g_free(w->owner);
    g_free(w);
}

PorchWorkers *
porch_workers_new(int launcher_fd, const char *worker_program)
{
    PorchWorkers *w = g_new0(PorchWorkers, 1);

    w->launcher = launcher_fd;
    w->program = g_strdup(worker_program);
    w->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)worker_free);
    w->cancellable = g_cancellable_new();
    return w;
}

void
porch_workers_free(PorchWorkers *w)
{
    if (w == NULL)
        return;
    g_cancellable_cancel(w->cancellable);
    g_object_unref(w->cancellable);
    g_hash_table_unref(w->by_name);
    if (w->launcher >= 0)
        close(w->launcher);
    g_free(w->program);
    g_free(w);
}

static gboolean
same_share(const Worker *w, const PorchShare *share)
{
    return strcmp(w->path, share->path) == 0 && g_strcmp0(w->owner, share->owner) == 0 &&
           w->writable == porch_share_writable(share) && w->inbox == share->inbox;
}

/* Sends @request (with @n_fds descriptors) to the launcher and waits for its answer: TRUE for
 * "ok" (with *@ret_fd, when not NULL, the descriptor that came with it), FALSE with @error
 * (G_IO_ERROR_PERMISSION_DENIED and the launcher's text for "refused"). */
static gboolean
launcher_call(PorchWorkers *w, const char *request, const int *fds, guint n_fds, int *ret_fd,
              GError **error)
{
    char answer[PORCH_LAUNCHER_MAX + 1];
    struct pollfd pfd = {.fd = w->launcher, .events = POLLIN};
    guint got = 0;
    int fd = -1, r;
    gssize n;

    if (w->launcher < 0 || strlen(request) > PORCH_LAUNCHER_MAX ||
        !porch_fd_send(w->launcher, request, strlen(request), fds, n_fds)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "the launcher is gone: %s",
                    g_strerror(errno));
        return FALSE;
    }
    do
        r = poll(&pfd, 1, PORCH_LAUNCHER_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the launcher did not answer");
        return FALSE;
    }
    n = porch_fd_recv(w->launcher, answer, sizeof answer - 1, &fd, 1, &got);
    if (n > 0)
        answer[n] = '\0';
    if (n == (gssize)strlen(PORCH_LAUNCHER_OK) && strcmp(answer, PORCH_LAUNCHER_OK) == 0 &&
        got == (ret_fd != NULL ? 1u : 0u)) {
        if (ret_fd != NULL)
            *ret_fd = fd;
        return TRUE;
    }
    if (got == 1)
        close(fd);
    if (n > (gssize)strlen(PORCH_LAUNCHER_REFUSED) && got == 0 &&
        g_str_has_prefix(answer, PORCH_LAUNCHER_REFUSED)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s",
                    answer + strlen(PORCH_LAUNCHER_REFUSED));
        return FALSE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "no valid answer from the launcher");
    return FALSE;
}

gboolean
porch_workers_has_launcher(PorchWorkers *w)
{
    return w->launcher >= 0;
}

gboolean
porch_workers_ask_launcher(PorchWorkers *w, const char *request, const int *fds, guint n_fds,
                           GError **error)
{
    return launcher_call(w, request, fds, n_fds, NULL, error);
}

/* Asks the launcher to start @share's worker (or indexer); returns its control socket. */
static int
start_by_launcher(PorchWorkers *w, const PorchShare *share, gboolean indexer, GError **error)
{
    g_autofree char *request = g_strconcat(indexer ? PORCH_LAUNCHER_INDEXER : PORCH_LAUNCHER_WORKER,
                                           share->name, NULL);
    int fd = -1;

    return launcher_call(w, request, NULL, 0, &fd, error) ? fd : -1;
}

/* Starts @share's worker here, as this process's user (the per-user service). */
static int
start_here(PorchWorkers *w, const PorchShare *share, gboolean indexer, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    int pair[2];

    if (share->owner != NULL && g_strcmp0(share->owner, g_get_user_name()) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "owner = %s: this porchd serves its own user's files only", share->owner);
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
                    g_strerror(errno));
        return -1;
    }
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_fd(launcher, pair[1], 3);
    proc = g_subprocess_launcher_spawn(launcher, error, w->program, "--root", share->path,
                                       porch_share_worker_mode(share, indexer), NULL);
    if (proc == NULL) {
        close(pair[0]);
        return -1;
    }
    /* reaped when it ends */
    g_subprocess_wait_async(proc, w->cancellable, NULL, NULL);
    return pair[0];
}

static gboolean
worker_idle_over(gpointer data)
{
    Worker *worker = data;

    worker->idle_source = 0;
    g_debug("share %s: its worker had no client for %d s: let go", worker->name,
            WORKER_IDLE_SECONDS);
    g_hash_table_remove(worker->workers->by_name, worker->name);
    return G_SOURCE_REMOVE;
}

/* The worker said it has no client left ('i' and how many it was given, worker.c): when no
 * client was sent since, it is let go after WORKER_IDLE_SECONDS, unless one comes first. It
 * is the network side that decides, as it alone knows whether a client is on its way: a
 * worker that ended by itself could lose a client sent at that moment. When the worker is
 * gone, so is its entry: the next connection starts a new one. */
static gboolean
worker_said(int fd, GIOCondition cond, gpointer data)
{
    Worker *worker = data;
    char said[1 + sizeof worker->given];
    guint32 given;
    /* MSG_TRUNC: the packet's real length, so that a longer one is not read as "idle" */
    gssize n = recv(fd, said, sizeof said, MSG_DONTWAIT | MSG_TRUNC);

    (void)cond;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n != (gssize)sizeof said || said[0] != 'i') {
        if (n != 0)
            g_warning("share %s: its worker said something unexpected: let go", worker->name);
        worker->watch = 0;
        g_hash_table_remove(worker->workers->by_name, worker->name);
        return G_SOURCE_REMOVE;
    }
    memcpy(&given, said + 1, sizeof given);
    if (given == worker->given && worker->idle_source == 0)
        worker->idle_source = g_timeout_add_seconds(WORKER_IDLE_SECONDS, worker_idle_over, worker);
    return G_SOURCE_CONTINUE;
}

int
porch_workers_connect(PorchWorkers *w, const PorchShare *share, GError **error)
{
    if (share->offline) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "share %s is offline: folder %s missing", share->name, share->path);
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        Worker *worker = g_hash_table_lookup(w->by_name, share->name);
        int pair[2];

        if (worker != NULL && !same_share(worker, share)) {
            g_hash_table_remove(w->by_name, share->name);
            worker = NULL;
        }
        if (worker == NULL) {
            int control = w->launcher >= 0 ? start_by_launcher(w, share, FALSE, error)
                                           : start_here(w, share, FALSE, error);
            if (control < 0) {
                g_prefix_error(error, "share %s: no file worker: ", share->name);
                return -1;
            }
            worker = g_new0(Worker, 1);
            worker->workers = w;
            worker->watch =
                    g_unix_fd_add(control, G_IO_IN | G_IO_HUP | G_IO_ERR, worker_said, worker);
            worker->name = g_strdup(share->name);
            worker->path = g_strdup(share->path);
            worker->owner = g_strdup(share->owner);
            worker->writable = porch_share_writable(share);
            worker->inbox = share->inbox;
            worker->control = control;
            g_hash_table_insert(w->by_name, worker->name, worker);
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
                        g_strerror(errno));
            return -1;
        }
        if (porch_fd_send(worker->control, "c", 1, &pair[1], 1)) {
            close(pair[1]);
            worker->given++;
            g_clear_handle_id(&worker->idle_source, g_source_remove);
            return pair[0];
        }
        /* the worker is gone (it failed, or was stopped): a new one, once */
        close(pair[0]);
        close(pair[1]);
        g_hash_table_remove(w->by_name, share->name);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "share %s: its file worker ended",
                share->name);
    return -1;
}

int
porch_workers_start_indexer(PorchWorkers *w, const PorchShare *share, GError **error)
{
    int control;

    if (share->offline) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "share %s is offline: folder %s missing", share->name, share->path);
        return -1;
    }
    control = w->launcher >= 0 ? start_by_launcher(w, share, TRUE, error)
                               : start_here(w, share, TRUE, error);
    if (control < 0)
        g_prefix_error(error, "share %s: no indexer: ", share->name);
    return control;
}

PorchFiles *
porch_workers_files_for(void *workers, const PorchShare *share, GError **error)
{
    int fd = porch_workers_connect(workers, share, error);

    return fd < 0 ? NULL : porch_files_new_remote(fd);
}

void
porch_workers_apply(PorchWorkers *w, PorchConfig *config)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, w->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const PorchShare *share = porch_config_lookup_share(config, ((Worker *)value)->name);
        if (share == NULL || share->offline || !same_share(value, share))
            g_hash_table_iter_remove(&it);
    }
}
