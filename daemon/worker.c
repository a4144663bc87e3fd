/* worker.c — porchd-worker: one share's file operations, as the share's owner.
 *
 *   porchd-worker --root PATH [--write | --inbox | --index]
 *
 * Started by porchd (as the share's owner, never as root), with a control socket on fd 3
 * (SOCK_SEQPACKET). Each message on it is one byte, 'c', with one descriptor: a new client
 * connection, a session's (files.h says what is asked on it). The worker serves every client
 * until it goes, and ends when the control socket is closed and no client is left.
 *
 * Before it reads anything, it confines itself: Landlock beneath PATH (reading, and writing
 * too with --write: nothing else on the file system), and a seccomp allow-list of the
 * system calls file operations need. Paths still resolve through the jail (porch-jail.h):
 * the jail and Landlock are two walls, and either holds alone.
 *
 * When its last client has gone, it tells the control socket's other end ('i' and the number
 * of clients it has been given, a guint32), which lets it go if no new client came meanwhile
 * (workers.h): an idle porchd keeps no share's worker.
 *
 * With --inbox it is an inbox's worker: it writes, but only what a send needs (files.h,
 * porch_files_set_inbox()): a send's hidden files, named once they arrived whole, and never a
 * file that arrived before.
 *
 * With --index it is the share's indexer (daemon/indexer.h): the same operations, read-only,
 * plus hashing files and watching the share with inotify, at idle CPU and I/O priority and
 * in a process of its own, so that hashing never delays a session's request and one share's
 * first index takes at most one core.
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/ioprio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>

#include "fd-pass.h"
#include "files.h"
#include "porch-sandbox.h"

#define CONTROL_FD  3
#define MAX_CLIENTS 1024

typedef struct {
    int fd;
    PorchFiles *files;
} Client;

/* Takes a client connection from the control socket: FALSE when it is closed or broken. */
static gboolean indexer;
static gboolean inbox;

static gboolean
accept_client(const char *root, GArray *clients)
{
    g_autoptr(GError) error = NULL;
    Client client = {-1, NULL};
    guint n_fds = 0;
    char tag = 0;
    gssize n = porch_fd_recv(CONTROL_FD, &tag, 1, &client.fd, 1, &n_fds);

    if (n <= 0 || tag != 'c' || n_fds != 1) {
        if (n != 0)
            g_warning("worker for %s: a malformed control message", root);
        if (n_fds == 1)
            close(client.fd);
        return FALSE;
    }
    if (clients->len >= MAX_CLIENTS) {
        g_warning("worker for %s: %u clients already; one refused", root, MAX_CLIENTS);
        close(client.fd);
        return TRUE;
    }
    client.files = porch_files_new_direct(root, &error);
    if (client.files == NULL) {
        g_warning("worker for %s: %s", root, error->message);
        close(client.fd);
        return TRUE;
    }
    porch_files_set_indexer(client.files, indexer);
    porch_files_set_inbox(client.files, inbox);
    g_array_append_val(clients, client);
    return TRUE;
}

static void
client_end(GArray *clients, guint i)
{
    Client *c = &g_array_index(clients, Client, i);

    close(c->fd);
    porch_files_free(c->files);
    g_array_remove_index_fast(clients, i);
}

/* The idle I/O class (the disk serves it only when no one else asks) and the lowest CPU
 * priority. glibc has no wrapper for ioprio_set(2), hence the system call. */
static void
idle_priority(const char *root)
{
    if (setpriority(PRIO_PROCESS, 0, 19) != 0)
        g_message("indexer for %s: setpriority: %s", root, g_strerror(errno));
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)) !=
        0)
        g_message("indexer for %s: ioprio_set: %s", root, g_strerror(errno));
}

static gboolean
sandbox(const char *root, gboolean write, GError **error)
{
    PorchSandboxRule rule = {
            .path = root,
            .fd = -1,
            .access = PORCH_SANDBOX_READ | (write ? PORCH_SANDBOX_WRITE : 0),
    };
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) allowed = NULL;
    gboolean landlocked = FALSE;

    if (!porch_sandbox_landlock(&rule, 1, &landlocked, error))
        return FALSE;
    if (!landlocked)
        g_message("worker for %s: this kernel has no Landlock; the jail alone keeps paths "
                  "beneath the share",
                  root);
    g_strv_builder_addv(b, (const char **)porch_sandbox_base_syscalls);
    g_strv_builder_addv(b, (const char **)porch_sandbox_file_syscalls);
    if (indexer) {
        g_strv_builder_add(b, "inotify_init1");
        g_strv_builder_add(b, "inotify_add_watch");
        g_strv_builder_add(b, "inotify_rm_watch");
    }
    allowed = g_strv_builder_end(b);
    return porch_sandbox_seccomp((const char *const *)allowed, porch_sandbox_fatal_syscalls,
                                 PORCH_SANDBOX_THREADS_ONLY, error);
}

int
main(int argc, char **argv)
{
    g_autofree char *root = NULL;
    gboolean write = FALSE;
    GOptionEntry entries[] = {
            {"root", 0, 0, G_OPTION_ARG_FILENAME, &root, "The share's folder", "PATH"},
            {"write", 0, 0, G_OPTION_ARG_NONE, &write, "Someone may write in the share", NULL},
            {"inbox", 0, 0, G_OPTION_ARG_NONE, &inbox,
             "An inbox: write a send's files and nothing else", NULL},
            {"index", 0, 0, G_OPTION_ARG_NONE, &indexer,
             "Index the share: read-only, hashing, at idle priority", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) clients = g_array_new(FALSE, FALSE, sizeof(Client));
    gboolean control_open = TRUE;
    gboolean had_clients = FALSE;
    guint32 given = 0; /* control messages received: the clients given, refused ones too */

    g_option_context_set_summary(ctx, "One share's file operations, for porchd's sessions "
                                      "(control socket on fd 3). Not for running by hand.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || root == NULL ||
        !g_path_is_absolute(root)) {
        fprintf(stderr, "porchd-worker: %s\n",
                error ? error->message : "--root takes the share's absolute path");
        return 2;
    }
    if (geteuid() == 0) {
        fprintf(stderr, "porchd-worker: refusing to run as root\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    porch_sandbox_raise_nofile();
    if (inbox && indexer) {
        fprintf(stderr, "porchd-worker: --inbox and --index exclude each other\n");
        return 2;
    }
    write = write || inbox;
    if (indexer) {
        write = FALSE;
        idle_priority(root);
        /* A fixed threshold: each file's 1 MiB hash buffer is mapped and unmapped. With
         * glibc's default, the first free raised the threshold, later buffers came from the
         * heap, and every idle indexer kept ~1.2 MiB of it (docs/performance.md). */
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
    if (!sandbox(root, write, &error)) {
        g_warning("worker for %s: cannot confine itself: %s", root, error->message);
        return 1;
    }
    while (control_open || clients->len > 0) {
        g_autofree struct pollfd *fds = g_new0(struct pollfd, clients->len + 1);
        guint n = 0;

        if (control_open)
            fds[n++] = (struct pollfd){.fd = CONTROL_FD, .events = POLLIN};
        for (guint i = 0; i < clients->len; i++)
            fds[n++] =
                    (struct pollfd){.fd = g_array_index(clients, Client, i).fd, .events = POLLIN};
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            g_warning("worker for %s: poll: %s", root, g_strerror(errno));
            return 1;
        }
        /* clients first, from the last, so that removing one keeps the others' indexes */
        guint base = control_open ? 1 : 0;
        for (guint i = clients->len; i-- > 0;) {
            short ev = fds[base + i].revents;
            Client *c = &g_array_index(clients, Client, i);
            if (ev != 0 && !porch_files_serve_one(c->files, c->fd))
                client_end(clients, i);
        }
        gboolean handed = control_open && fds[0].revents != 0;
        if (handed) {
            control_open = accept_client(root, clients);
            given++;
        }
        /* also after a client refused (too many, or the share's root gone): a new one may
         * have cancelled the network side's wait for the last 'i' */
        if (control_open && !indexer && (had_clients || handed) && clients->len == 0) {
            /* the control socket's other end decides: it knows whether a client is on its
             * way (workers.c) */
            char idle[1 + sizeof given] = {'i'};
            memcpy(idle + 1, &given, sizeof given);
            if (!porch_fd_send(CONTROL_FD, idle, sizeof idle, NULL, 0))
                control_open = FALSE;
        }
        had_clients = clients->len > 0;
    }
    return 0;
}
