/* listener.c — accept, check limits, hand the socket to porchd-session. */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>

#include "session.h"
#include "sftp-server.h"

struct _PorchListener {
    PorchManager *manager;
    char *program;
    char *snapshot_file;
    char *state_dir;
    GSocketService *service;
    GHashTable *sessions; /* pid -> GSubprocess* */
    GHashTable *failures; /* address -> GArray of gint64 (monotonic seconds) */
    GCancellable *cancellable;
};

typedef struct {
    PorchListener *listener;
    GPid pid;
    char *address;
} SessionWatch;

static char *
address_string(GSocketConnection *conn)
{
    g_autoptr(GSocketAddress) sa = g_socket_connection_get_remote_address(conn, NULL);
    GInetAddress *ia;

    if (!G_IS_INET_SOCKET_ADDRESS(sa))
        return g_strdup("unknown");
    ia = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa));
    return g_inet_address_to_string(ia);
}

/* Failed logins of @address within the window; old ones are forgotten. */
static GArray *
recent_failures(PorchListener *l, const char *address)
{
    GArray *a = g_hash_table_lookup(l->failures, address);
    gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;

    if (a == NULL) {
        a = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_hash_table_insert(l->failures, g_strdup(address), a);
    }
    while (a->len > 0 && g_array_index(a, gint64, 0) < now - PORCH_AUTH_FAILURE_WINDOW)
        g_array_remove_index(a, 0);
    return a;
}

/* Forgets the addresses whose failures are all old, so the table stays small. */
static void
forget_old_failures(PorchListener *l)
{
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, l->failures);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (recent_failures(l, key)->len == 0)
            g_hash_table_iter_remove(&it);
}

static guint
sessions_from(PorchListener *l, const char *address)
{
    GHashTableIter it;
    gpointer value;
    guint n = 0;

    g_hash_table_iter_init(&it, l->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (g_strcmp0(g_object_get_data(value, "porch-address"), address) == 0)
            n++;
    return n;
}

/* In the session process before exec: SIGHUP stays blocked until porchd-session has set up
 * its handler, so that a reload at that moment does not end it. */
static void
block_sighup(gpointer user_data)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Says why in one line before the SSH identification, as RFC 4253 4.2 allows and sshd
 * does; the OpenSSH client shows it. */
static void
turn_away(GSocketConnection *conn, const char *line)
{
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));

    g_output_stream_write_all(out, line, strlen(line), NULL, NULL, NULL);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
}

static void
on_session_exit(GObject *source, GAsyncResult *result, gpointer user_data)
{
    SessionWatch *w = user_data;
    GSubprocess *proc = G_SUBPROCESS(source);
    PorchListener *l = w->listener;

    if (g_subprocess_wait_finish(proc, result, NULL)) {
        g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
        guint removed;

        if (g_subprocess_get_if_exited(proc) &&
            g_subprocess_get_exit_status(proc) == PORCH_SESSION_EXIT_AUTH) {
            gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
            g_array_append_val(recent_failures(l, w->address), now);
        }
        if (g_subprocess_get_if_signaled(proc))
            g_warning("session %d (%s) died of signal %d", (int)w->pid, w->address,
                      g_subprocess_get_term_sig(proc));
        removed = porch_sftp_cleanup(config, l->state_dir, w->pid);
        if (removed > 0)
            g_message("removed %u unfinished upload(s) of session %d", removed, (int)w->pid);
        g_hash_table_remove(l->sessions, GINT_TO_POINTER(w->pid));
        forget_old_failures(l);
    }
    /* when cancelled, the listener is gone */
    g_free(w->address);
    g_free(w);
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data)
{
    PorchListener *l = user_data;
    g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *address = address_string(conn);
    SessionWatch *w;
    int fd;

    if (recent_failures(l, address)->len >= PORCH_AUTH_FAILURE_MAX) {
        g_message("%s: turned away: too many failed logins", address);
        turn_away(conn, "Porch: too many failed logins from this address; try again later\r\n");
        return TRUE;
    }
    /* one neighbour may take half the places, so that it cannot shut the others out */
    if (sessions_from(l, address) >= MAX(4u, porch_config_get_max_sessions(config) / 2)) {
        g_message("%s: turned away: too many sessions from this address", address);
        turn_away(conn, "Porch: too many sessions from this address; try again later\r\n");
        return TRUE;
    }
    if (g_hash_table_size(l->sessions) >= porch_config_get_max_sessions(config)) {
        g_message("%s: turned away: %u sessions already", address,
                  porch_config_get_max_sessions(config));
        turn_away(conn, "Porch: too many sessions; try again later\r\n");
        return TRUE;
    }
    fd = dup(g_socket_get_fd(g_socket_connection_get_socket(conn)));
    if (fd < 0) {
        g_warning("%s: %s", address, g_strerror(errno));
        return TRUE;
    }
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_child_setup(launcher, block_sighup, NULL, NULL);
    g_subprocess_launcher_take_fd(launcher, fd, PORCH_SESSION_FD);
    proc = g_subprocess_launcher_spawn(launcher, &error, l->program, "--config", l->snapshot_file,
                                       "--state-dir", l->state_dir, "--address", address, NULL);
    /* the session has its copy; ours goes */
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    if (proc == NULL) {
        g_warning("%s: cannot start %s: %s", address, l->program, error->message);
        return TRUE;
    }
    w = g_new0(SessionWatch, 1);
    w->listener = l;
    w->pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(proc), NULL, 10);
    w->address = g_steal_pointer(&address);
    g_message("%s: connection, session %d", w->address, (int)w->pid);
    g_object_set_data_full(G_OBJECT(proc), "porch-address", g_strdup(w->address), g_free);
    g_hash_table_insert(l->sessions, GINT_TO_POINTER(w->pid), g_object_ref(proc));
    g_subprocess_wait_async(proc, l->cancellable, on_session_exit, w);
    return TRUE;
}

static gboolean
bind_address(PorchListener *l, const char *literal, guint16 port, GError **error)
{
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(literal);
    g_autoptr(GSocketAddress) sa = NULL;
    g_autoptr(GSocket) sock = NULL;
    GSocketFamily family;

    if (ia == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: not an address", literal);
        return FALSE;
    }
    family = g_inet_address_get_family(ia);
    sa = g_inet_socket_address_new(ia, port);
    sock = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
    if (sock == NULL)
        return FALSE;
    /* "::" and "0.0.0.0" are bound side by side: each socket keeps to its family */
    if (family == G_SOCKET_FAMILY_IPV6 &&
        !g_socket_set_option(sock, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
        return FALSE;
    if (!g_socket_bind(sock, sa, TRUE, error) || !g_socket_listen(sock, error) ||
        !g_socket_listener_add_socket(G_SOCKET_LISTENER(l->service), sock, NULL, error)) {
        g_prefix_error(error, "[%s]:%u: ", literal, port);
        return FALSE;
    }
    return TRUE;
}

PorchListener *
porch_listener_new(PorchManager *manager, const char *session_program, const char *snapshot_file,
                   const char *state_dir, GError **error)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(manager);
    g_autoptr(PorchListener) l = g_new0(PorchListener, 1);
    const char *const *addresses = porch_config_get_listen(config);

    l->manager = manager;
    l->program = g_strdup(session_program);
    l->snapshot_file = g_strdup(snapshot_file);
    l->state_dir = g_strdup(state_dir);
    l->sessions = g_hash_table_new_full(NULL, NULL, NULL, g_object_unref);
    l->failures =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    l->cancellable = g_cancellable_new();
    l->service = g_socket_service_new();
    for (guint i = 0; addresses[i]; i++)
        if (!bind_address(l, addresses[i], porch_config_get_port(config), error))
            return NULL;
    g_signal_connect(l->service, "incoming", G_CALLBACK(on_incoming), l);
    g_socket_service_start(l->service);
    return g_steal_pointer(&l);
}

void
porch_listener_free(PorchListener *l)
{
    GHashTableIter it;
    gpointer proc;

    if (l == NULL)
        return;
    if (l->service != NULL) {
        g_socket_service_stop(l->service);
        g_socket_listener_close(G_SOCKET_LISTENER(l->service));
        g_object_unref(l->service);
    }
    g_cancellable_cancel(l->cancellable);
    if (l->sessions != NULL) {
        g_hash_table_iter_init(&it, l->sessions);
        while (g_hash_table_iter_next(&it, NULL, &proc))
            g_subprocess_send_signal(proc, SIGTERM);
        g_hash_table_unref(l->sessions);
    }
    g_clear_pointer(&l->failures, g_hash_table_unref);
    g_clear_object(&l->cancellable);
    g_free(l->program);
    g_free(l->snapshot_file);
    g_free(l->state_dir);
    g_free(l);
}

void
porch_listener_reloaded(PorchListener *l)
{
    GHashTableIter it;
    gpointer proc;

    g_hash_table_iter_init(&it, l->sessions);
    while (g_hash_table_iter_next(&it, NULL, &proc))
        g_subprocess_send_signal(proc, SIGHUP);
}
