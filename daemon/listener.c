/* listener.c — accept, check limits, hand the socket to porchd-session, and keep count of
 * who is logged in through each session's control socket (session.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "fd-pass.h"
#include "offers.h"
#include "porch-acl.h"
#include "porch-send.h"
#include "porch-text.h"
#include "print-relay.h"
#include "session.h"
#include "upload-journal.h"

/* A turned-away client gets this long to read the line and hang up... */
#define TURN_AWAY_LINGER_SECONDS 5
/* ...at most this many at once (beyond, the connection is closed after the line)... */
#define TURN_AWAY_MAX_LINGERING 64
/* ...and porchd reads (and drops) at most this much of what it sends meanwhile. */
#define TURN_AWAY_MAX_DRAIN (64 * 1024)
/* The descriptors handed to a session are moved above this one first. */
#define SESSION_FD_FLOOR 10
/* How long the main loop waits for an inbox's worker to open its folder (free_space()). */
#define FREE_SPACE_TIMEOUT_MS 2000

typedef enum {
    STATE_STARTUP, /* not logged in yet */
    STATE_PEER,    /* logged in as a configured peer */
    STATE_GUEST,   /* logged in as guest */
    STATE_OUT,     /* refused, or cut off: ending */
} SessionState;

typedef struct {
    PorchListener *listener; /* NULL once the listener is gone */
    GSubprocess *proc;
    GPid pid;
    char *address;
    SessionState state;
    char *peer;           /* STATE_PEER: the [peer]'s name */
    guint files;          /* connections to file workers handed out */
    gboolean exec_given;  /* the one porchd-print of an exec command was started */
    gint64 since;         /* real time of the login, in microseconds */
    GPtrArray *transfers; /* Transfer*, as the session last said (session.h) */
    int control;          /* porchd's end of the control socket; -1 when closed */
    guint control_watch;
    /* a send (session.h): the names of the offer being made, the offer waiting for its
     * owner (0: none), and the inbox whose worker the session may have once it was accepted */
    GPtrArray *offer_names;
    guint offer;
    char *send_inbox;
} SessionWatch;

/* A transfer under way in a session, as it said: for `porch status`. */
typedef struct {
    guint id;
    gboolean put;
    guint64 size, done;
    char *path;     /* SHARE/PATH */
    gint64 started; /* real time, microseconds */
} Transfer;

static void
transfer_free(Transfer *t)
{
    g_free(t->path);
    g_free(t);
}

typedef struct {
    PorchListener *listener;
    GSocketConnection *conn;
    GSource *input;
    guint timeout;
    gsize drained;
} TurnAway;

struct _PorchListener {
    PorchManager *manager;
    guint16 port;
    PorchWorkers *workers;
    char *program;
    char *print_program; /* porchd-print, beside the session's program */
    char *default_name;  /* porch_listener_set_default_name() */
    char *snapshot_file;
    char *state_dir;
    GSocketService *service;
    GHashTable *sessions;  /* pid -> SessionWatch* (freed when the process has ended) */
    GHashTable *failures;  /* address -> GArray of gint64 (monotonic seconds) */
    GHashTable *lingering; /* set of TurnAway* */
    GCancellable *cancellable;
    PorchOffers *offers;
};

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

/* The sessions of @address (NULL: of every address) in @state (-1: in any). */
static guint
count_sessions(PorchListener *l, const char *address, int state)
{
    GHashTableIter it;
    gpointer value;
    guint n = 0;

    g_hash_table_iter_init(&it, l->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        SessionWatch *w = value;
        if ((address == NULL || strcmp(w->address, address) == 0) &&
            (state < 0 || (int)w->state == state))
            n++;
    }
    return n;
}

static guint
logged_in(PorchListener *l)
{
    return count_sessions(l, NULL, STATE_PEER) + count_sessions(l, NULL, STATE_GUEST);
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

/* Starts @argv with a copy of each of the @n descriptors @fds (which stay the caller's) as
 * the child's @targets[i]: a session or porchd-print. The copies are made above
 * SESSION_FD_FLOOR first, because GLib moves each to its place in turn, and one that is
 * another's target would be overwritten before it is moved. NULL with @error. */
static GSubprocess *
spawn_with_fds(const char *const *argv, const int *fds, const int *targets, guint n, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);

    g_subprocess_launcher_set_child_setup(launcher, block_sighup, NULL, NULL);
    for (guint i = 0; i < n; i++) {
        int copy = fcntl(fds[i], F_DUPFD_CLOEXEC, SESSION_FD_FLOOR);

        if (copy < 0) {
            int e = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s", g_strerror(e));
            return NULL; /* the copies taken so far go with the launcher */
        }
        g_subprocess_launcher_take_fd(launcher, copy, targets[i]);
    }
    return g_subprocess_launcher_spawnv(launcher, argv, error);
}

/* ---- turning a client away ------------------------------------------------------------ */

static void
turn_away_finish(TurnAway *t)
{
    if (t->input != NULL) {
        g_source_destroy(t->input);
        g_source_unref(t->input);
    }
    if (t->timeout != 0)
        g_source_remove(t->timeout);
    g_hash_table_remove(t->listener->lingering, t);
    g_io_stream_close(G_IO_STREAM(t->conn), NULL, NULL);
    g_object_unref(t->conn);
    g_free(t);
}

/* What the client sends is read and dropped until its end of file (or an error, or too
 * much of it), then the connection is closed: nothing unread is left that would make the
 * close a reset, which can throw away the line before the client has read it. */
static gboolean
turn_away_readable(GSocket *sock, GIOCondition cond, gpointer user_data)
{
    TurnAway *t = user_data;
    char buf[4096];
    gssize n = g_socket_receive(sock, buf, sizeof buf, NULL, NULL);

    if (n < 0 && !(cond & (G_IO_HUP | G_IO_ERR)))
        return G_SOURCE_CONTINUE; /* would block */
    if (n > 0 && (t->drained += (gsize)n) < TURN_AWAY_MAX_DRAIN)
        return G_SOURCE_CONTINUE;
    g_clear_pointer(&t->input, g_source_unref); /* removed by returning */
    turn_away_finish(t);
    return G_SOURCE_REMOVE;
}

static gboolean
turn_away_timeout(gpointer user_data)
{
    TurnAway *t = user_data;

    t->timeout = 0;
    turn_away_finish(t);
    return G_SOURCE_REMOVE;
}

/* Says why in one line before the SSH identification, as RFC 4253 4.2 allows and sshd
 * does (the OpenSSH client shows it), then ends the connection in order without waiting
 * for it: the write side is shut down at once, what the client sends is read until it
 * hangs up or TURN_AWAY_LINGER_SECONDS have passed. */
static void
turn_away(PorchListener *l, GSocketConnection *conn, const char *line)
{
    GSocket *sock = g_socket_connection_get_socket(conn);
    TurnAway *t;

    g_socket_set_blocking(sock, FALSE);
    /* a fresh connection's send buffer is empty: the line goes whole or not at all */
    g_socket_send(sock, line, strlen(line), NULL, NULL);
    g_socket_shutdown(sock, FALSE, TRUE, NULL);
    if (g_hash_table_size(l->lingering) >= TURN_AWAY_MAX_LINGERING) {
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        return;
    }
    t = g_new0(TurnAway, 1);
    t->listener = l;
    t->conn = g_object_ref(conn);
    t->input = g_socket_create_source(sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
    g_source_set_callback(t->input, G_SOURCE_FUNC(turn_away_readable), t, NULL);
    g_source_attach(t->input, g_main_context_get_thread_default());
    t->timeout = g_timeout_add_seconds(TURN_AWAY_LINGER_SECONDS, turn_away_timeout, t);
    g_hash_table_add(l->lingering, t);
}

/* ---- the control socket ---------------------------------------------------------------- */

static void
close_control(SessionWatch *w)
{
    if (w->control_watch != 0)
        g_source_remove(w->control_watch);
    w->control_watch = 0;
    if (w->control >= 0)
        close(w->control);
    w->control = -1;
}

/* The reason to refuse a login of @w as a guest or a peer, NULL to let it in. */
static const char *
refusal(PorchListener *l, gboolean guest, char **ret_log)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
    guint64 max = porch_config_get_limit(config, PORCH_LIMIT_MAX_SESSIONS);
    guint64 max_guests = porch_config_get_limit(config, PORCH_LIMIT_MAX_GUEST_SESSIONS);
    guint guests = count_sessions(l, NULL, STATE_GUEST);

    if (guest && guests >= max_guests) {
        *ret_log = g_strdup_printf("%u guest sessions already (max-guest-sessions)", guests);
        return "Porch: too many guests are logged in; try again later";
    }
    if (logged_in(l) >= max) {
        *ret_log = g_strdup_printf("%u sessions already (max-sessions)", logged_in(l));
        return "Porch: too many sessions; try again later";
    }
    return NULL;
}

/* A name from a session, for the log: at most 64 printable characters. */
static gboolean
name_valid(const char *s, gsize len)
{
    if (len == 0 || len > 64)
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isalnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return FALSE;
    return TRUE;
}

/* The connection to the worker of [share @name] that a logged-in session asks for: only for a
 * share its peer (or guest) may read, checked here again, with the rules of this moment.
 * Returns the answer; *ret_fd is the descriptor to send with it, or -1. */
static char *
files_answer(PorchListener *l, SessionWatch *w, const char *name, int *ret_fd)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
    const PorchShare *share = porch_config_lookup_share(config, name);
    const PorchPeer *peer = w->peer ? porch_config_lookup_peer(config, w->peer) : NULL;
    const char *fingerprint = peer != NULL ? peer->keys[0].fingerprint : NULL;
    g_autoptr(GError) error = NULL;

    *ret_fd = -1;
    /* an offline share does not exist for sessions, as in the SFTP root they list; an inbox
     * is there only for a session whose offer it accepted (not one still waiting) */
    if (share == NULL || share->offline || (w->state == STATE_PEER && peer == NULL) ||
        (share->inbox ? w->offer != 0 || g_strcmp0(w->send_inbox, share->name) != 0
                      : !porch_acl_check(config, fingerprint, PORCH_RESOURCE_SHARE, share->name,
                                         PORCH_ACL_READ)))
        return g_strconcat(PORCH_CONTROL_REFUSED, "no such share", NULL);
    *ret_fd = porch_workers_connect(l->workers, share, &error);
    if (*ret_fd < 0) {
        g_warning("session %d (%s): %s", (int)w->pid, w->address, error->message);
        return g_strconcat(PORCH_CONTROL_REFUSED, "the share cannot be opened now", NULL);
    }
    w->files++;
    return g_strdup(PORCH_CONTROL_OK);
}

/* A session's note on a transfer (session.h): "transfer ID get|put SIZE DONE SHARE/PATH"
 * or "transfer-end ID". FALSE when it is not well formed. */
static gboolean
transfer_note(SessionWatch *w, const char *text)
{
    g_auto(GStrv) f = NULL;
    guint64 id = 0, size = 0, done = 0;
    Transfer *t = NULL;

    if (w->transfers == NULL)
        w->transfers = g_ptr_array_new_with_free_func((GDestroyNotify)transfer_free);
    if (g_str_has_prefix(text, PORCH_CONTROL_TRANSFER_END)) {
        if (!porch_text_to_unsigned(text + strlen(PORCH_CONTROL_TRANSFER_END), 10, 0, G_MAXUINT,
                                    &id, NULL))
            return FALSE;
        for (guint i = 0; i < w->transfers->len; i++)
            if (((Transfer *)w->transfers->pdata[i])->id == id)
                g_ptr_array_remove_index(w->transfers, i);
        return TRUE;
    }
    f = g_strsplit(text + strlen(PORCH_CONTROL_TRANSFER), " ", 5);
    if (g_strv_length(f) != 5 || !porch_text_to_unsigned(f[0], 10, 0, G_MAXUINT, &id, NULL) ||
        !(strcmp(f[1], "get") == 0 || strcmp(f[1], "put") == 0) ||
        !porch_text_to_unsigned(f[2], 10, 0, G_MAXUINT64, &size, NULL) ||
        !porch_text_to_unsigned(f[3], 10, 0, G_MAXUINT64, &done, NULL) ||
        !g_utf8_validate(f[4], -1, NULL))
        return FALSE;
    for (guint i = 0; i < w->transfers->len && t == NULL; i++)
        if (((Transfer *)w->transfers->pdata[i])->id == id)
            t = w->transfers->pdata[i];
    if (t == NULL) {
        if (w->transfers->len >= PORCH_CONTROL_MAX_TRANSFERS)
            return FALSE;
        t = g_new0(Transfer, 1);
        t->id = (guint)id;
        t->started = g_get_real_time();
        g_ptr_array_add(w->transfers, t);
    }
    t->put = strcmp(f[1], "put") == 0;
    t->size = size;
    t->done = done;
    g_free(t->path);
    t->path = g_strdup(f[4]);
    return TRUE;
}

/* The free space of @share's folder, asked of its worker (it may look; this process may
 * not); G_MAXUINT64 when it cannot be told (the send then finds out). This runs on the main
 * loop, which every session and the local clients wait for: a worker that does not answer
 * within FREE_SPACE_TIMEOUT_MS (its file system hangs, a network mount gone) is not waited
 * for longer. */
static guint64
free_space(PorchListener *l, const PorchShare *share)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchFiles) files = porch_workers_files_for(l->workers, share, &error);
    guint64 avail = 0;
    int rc;

    if (files == NULL) {
        g_warning("inbox %s: %s", share->name, error->message);
        return G_MAXUINT64;
    }
    porch_files_set_timeout(files, FREE_SPACE_TIMEOUT_MS);
    rc = porch_files_free_space(files, "", &avail);
    if (rc == -EIO)
        g_warning("inbox %s: its worker did not answer within %d ms: free space unknown",
                  share->name, FREE_SPACE_TIMEOUT_MS);
    return rc < 0 ? G_MAXUINT64 : avail;
}

static void
send_to_session(SessionWatch *w, const char *text)
{
    if (w->control >= 0 && send(w->control, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        g_debug("session %d: %s", (int)w->pid, g_strerror(errno));
}

/* The owner answered offer @id of session @user_data, or it expired. */
static void
on_offer_settled(guint id, PorchOfferState state, gpointer user_data)
{
    SessionWatch *w = user_data;
    g_autofree char *answer = NULL;

    if (w->offer != id)
        return;
    w->offer = 0;
    if (state == PORCH_OFFER_ACCEPTED) {
        answer = g_strconcat(PORCH_CONTROL_OFFER_ACCEPTED, w->send_inbox, NULL);
    } else {
        g_clear_pointer(&w->send_inbox, g_free);
        answer = state == PORCH_OFFER_DECLINED
                         ? g_strdup_printf(PORCH_CONTROL_REFUSED "%d the owner declined",
                                           PORCH_SEND_EXIT_DECLINED)
                         : g_strdup_printf(PORCH_CONTROL_REFUSED "%d the owner did not answer "
                                                                 "within %d s",
                                           PORCH_SEND_EXIT_TIMED_OUT,
                                           /* offers die with the listener: it is there */
                                           porch_offers_get_timeout(w->listener->offers));
    }
    send_to_session(w, answer);
}

/* A session's offer (session.h): "offer KEY COUNT TOTAL [INBOX]". The answer: "refused N
 * TEXT" (N, the send's exit status), "accepted INBOX", or "wait ID OWNER INBOX" followed by
 * one of the others when the owner answered. NULL: a malformed offer. */
static char *
offer_answer(PorchListener *l, SessionWatch *w, const char *args)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
    g_auto(GStrv) f = g_strsplit(args, " ", 4);
    const PorchPeer *peer = w->peer ? porch_config_lookup_peer(config, w->peer) : NULL;
    const char *sender = w->peer != NULL ? w->peer : "guest";
    const PorchShare *inbox;
    guint64 count = 0, total = 0, room;
    PorchInboxVerdict verdict;

    if (g_strv_length(f) < 3 || strlen(f[0]) != 64 ||
        !porch_text_to_unsigned(f[1], 10, 1, PORCH_SEND_MAX_FILES, &count, NULL) ||
        !porch_text_to_unsigned(f[2], 10, 0, G_MAXINT64, &total, NULL) || w->offer != 0)
        return NULL;
    for (const char *p = f[0]; *p != '\0'; p++)
        if (!g_ascii_isxdigit(*p))
            return NULL;
    inbox = f[3] != NULL && f[3][0] != '\0' ? porch_config_find_share(config, f[3])
                                            : porch_config_get_default_inbox(config);
    g_clear_pointer(&w->send_inbox, g_free);
    if (inbox == NULL || !inbox->inbox || inbox->offline ||
        (w->state == STATE_PEER && peer == NULL))
        return g_strdup_printf(PORCH_CONTROL_REFUSED "%d %s", PORCH_SEND_EXIT_NO_INBOX,
                               f[3] != NULL && f[3][0] != '\0' ? "there is no such inbox"
                                                               : "this host has no default inbox");
    verdict = porch_acl_inbox(inbox, peer);
    if (verdict == PORCH_INBOX_REFUSE) {
        g_message("%s: session %d: %s may not send to the inbox %s: refused", w->address,
                  (int)w->pid, sender, inbox->name);
        return g_strdup_printf(PORCH_CONTROL_REFUSED "%d you may not send files to %s",
                               PORCH_SEND_EXIT_REFUSED, inbox->name);
    }
    if (inbox->max_size > 0 && total > inbox->max_size) {
        g_autofree char *max = g_format_size_full(inbox->max_size, G_FORMAT_SIZE_IEC_UNITS);
        return g_strdup_printf(PORCH_CONTROL_REFUSED "%d %s takes at most %s at once (max-size)",
                               PORCH_SEND_EXIT_NO_ROOM, inbox->name, max);
    }
    room = free_space(l, inbox);
    if (total > room) {
        g_autofree char *free_text = g_format_size_full(room, G_FORMAT_SIZE_IEC_UNITS);
        g_message("%s: session %d: an offer of %" G_GUINT64_FORMAT " bytes to the inbox %s, "
                  "with %" G_GUINT64_FORMAT " bytes free: refused",
                  w->address, (int)w->pid, total, inbox->name, room);
        return g_strdup_printf(PORCH_CONTROL_REFUSED "%d there is not enough free space in %s "
                                                     "(%s free)",
                               PORCH_SEND_EXIT_NO_ROOM, inbox->name, free_text);
    }
    w->send_inbox = g_strdup(inbox->name);
    if (verdict == PORCH_INBOX_ACCEPT || porch_offers_was_accepted(l->offers, f[0])) {
        porch_offers_remember(l->offers, f[0]);
        g_message("%s: session %d: %s sends %" G_GUINT64_FORMAT " file(s), %" G_GUINT64_FORMAT
                  " bytes, to the inbox %s",
                  w->address, (int)w->pid, sender, count, total, inbox->name);
        return g_strconcat(PORCH_CONTROL_OFFER_ACCEPTED, inbox->name, NULL);
    }
    {
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        g_auto(GStrv) names = NULL;

        for (guint i = 0; w->offer_names != NULL && i < w->offer_names->len; i++)
            g_strv_builder_add(b, w->offer_names->pdata[i]);
        names = g_strv_builder_end(b);
        w->offer = porch_offers_add(
                l->offers, f[0], inbox->name, inbox->owner != NULL ? inbox->owner : "root", sender,
                w->address, (const char *const *)names, (guint)count, total, on_offer_settled, w);
    }
    if (w->offer == 0) {
        g_clear_pointer(&w->send_inbox, g_free);
        return g_strdup_printf(PORCH_CONTROL_REFUSED "%d too many offers wait already; try "
                                                     "again later",
                               PORCH_SEND_EXIT_TIMED_OUT);
    }
    g_message("%s: session %d: %s offers %" G_GUINT64_FORMAT " file(s), %" G_GUINT64_FORMAT
              " bytes, to the inbox %s: offer %u waits for %s",
              w->address, (int)w->pid, sender, count, total, inbox->name, w->offer,
              inbox->owner != NULL ? inbox->owner : "root");
    return g_strdup_printf(PORCH_CONTROL_OFFER_WAIT "%u %s %s", w->offer,
                           inbox->owner != NULL ? inbox->owner : "root", inbox->name);
}

/* A session's message about a send (session.h); FALSE when it is malformed. */
static gboolean
send_message(PorchListener *l, SessionWatch *w, const char *text)
{
    g_autofree char *answer = NULL;

    if (g_str_has_prefix(text, PORCH_CONTROL_OFFER_NAME)) {
        g_autofree char *name =
                g_uri_unescape_string(text + strlen(PORCH_CONTROL_OFFER_NAME), NULL);

        if (name == NULL || !g_utf8_validate(name, -1, NULL))
            return FALSE;
        if (w->offer_names == NULL)
            w->offer_names = g_ptr_array_new_with_free_func(g_free);
        if (w->offer_names->len >= PORCH_OFFERS_MAX_NAMES)
            return FALSE;
        g_ptr_array_add(w->offer_names, g_steal_pointer(&name));
        return TRUE;
    }
    if (strcmp(text, PORCH_CONTROL_OFFER_WITHDRAW) == 0) {
        if (w->offer != 0)
            porch_offers_withdraw(l->offers, w->offer);
        w->offer = 0;
        g_clear_pointer(&w->send_inbox, g_free);
        return TRUE;
    }
    answer = offer_answer(l, w, text + strlen(PORCH_CONTROL_OFFER));
    /* the names said before an offer are that offer's, whatever became of it */
    if (w->offer_names != NULL)
        g_ptr_array_set_size(w->offer_names, 0);
    if (answer == NULL)
        return FALSE;
    send_to_session(w, answer);
    return TRUE;
}

/* "exec": starts porchd-print for the session's command (print-relay.h), as the peer or guest
 * the session logged in as. Returns the answer, and in *ret_fd the session's end of the
 * connection (-1 with a refusal). */
static char *
exec_answer(PorchListener *l, SessionWatch *w, int *ret_fd)
{
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    const int target = PORCH_PRINT_RELAY_FD;
    int pair[2];

    *ret_fd = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        g_warning("%s: session %d: %s", w->address, (int)w->pid, g_strerror(errno));
        return g_strconcat(PORCH_CONTROL_REFUSED, "out of resources", NULL);
    }
    g_ptr_array_add(args, l->print_program);
    g_ptr_array_add(args, "--config");
    g_ptr_array_add(args, l->snapshot_file);
    g_ptr_array_add(args, "--state-dir");
    g_ptr_array_add(args, l->state_dir);
    g_ptr_array_add(args, "--address");
    g_ptr_array_add(args, w->address);
    if (w->state == STATE_PEER) {
        g_ptr_array_add(args, "--peer");
        g_ptr_array_add(args, w->peer);
    }
    if (l->default_name != NULL) {
        g_ptr_array_add(args, "--default-name");
        g_ptr_array_add(args, l->default_name);
    }
    g_ptr_array_add(args, NULL);
    proc = spawn_with_fds((const char *const *)args->pdata, &pair[1], &target, 1, &error);
    close(pair[1]);
    if (proc == NULL) {
        g_warning("%s: session %d: cannot start %s: %s", w->address, (int)w->pid, l->print_program,
                  error->message);
        close(pair[0]);
        return g_strconcat(PORCH_CONTROL_REFUSED, "porchd cannot start its print helper", NULL);
    }
    /* it ends with its command, or when the session's end of the connection closes; GSubprocess
     * reaps it */
    w->exec_given = TRUE;
    *ret_fd = pair[0];
    return g_strdup(PORCH_CONTROL_OK);
}

/* Answers a session's request; anything it should not have sent ends it. */
static gboolean
on_control(int fd, GIOCondition cond, gpointer user_data)
{
    SessionWatch *w = user_data;
    PorchListener *l = w->listener;
    const gsize peer_len = strlen(PORCH_CONTROL_LOGIN_PEER);
    const gsize files_len = strlen(PORCH_CONTROL_FILES);
    char buf[PORCH_CONTROL_MAX + 1];
    g_autofree char *why = NULL;
    g_autofree char *answer = NULL;
    const char *reason;
    gboolean guest, files, sent;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        /* the session closed its end: it is ending */
        w->control_watch = 0;
        close_control(w);
        return G_SOURCE_REMOVE;
    }
    if ((w->state == STATE_PEER || w->state == STATE_GUEST) && n <= PORCH_CONTROL_MAX &&
        (buf[n] = '\0', strlen(buf) == (gsize)n) &&
        (g_str_has_prefix(buf, PORCH_CONTROL_TRANSFER) ||
         g_str_has_prefix(buf, PORCH_CONTROL_TRANSFER_END))) {
        if (transfer_note(w, buf))
            return G_SOURCE_CONTINUE;
        g_warning("session %d (%s): a malformed transfer note; ending it", (int)w->pid, w->address);
        w->control_watch = 0;
        close_control(w);
        w->state = STATE_OUT;
        g_subprocess_send_signal(w->proc, SIGTERM);
        return G_SOURCE_REMOVE;
    }
    if ((w->state == STATE_PEER || w->state == STATE_GUEST) && n <= PORCH_CONTROL_MAX &&
        (buf[n] = '\0', strlen(buf) == (gsize)n) &&
        (g_str_has_prefix(buf, PORCH_CONTROL_OFFER_NAME) ||
         g_str_has_prefix(buf, PORCH_CONTROL_OFFER) ||
         strcmp(buf, PORCH_CONTROL_OFFER_WITHDRAW) == 0)) {
        if (send_message(l, w, buf))
            return G_SOURCE_CONTINUE;
        g_warning("session %d (%s): a malformed offer; ending it", (int)w->pid, w->address);
        w->control_watch = 0;
        close_control(w);
        w->state = STATE_OUT;
        g_subprocess_send_signal(w->proc, SIGTERM);
        return G_SOURCE_REMOVE;
    }
    if ((w->state == STATE_PEER || w->state == STATE_GUEST) && !w->exec_given &&
        (gsize)n == strlen(PORCH_CONTROL_EXEC) && memcmp(buf, PORCH_CONTROL_EXEC, (gsize)n) == 0) {
        int conn = -1;

        answer = exec_answer(l, w, &conn);
        sent = porch_fd_send(fd, answer, strlen(answer), &conn, conn >= 0 ? 1 : 0);
        if (conn >= 0)
            close(conn);
        if (!sent) {
            w->control_watch = 0;
            close_control(w);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    files = (w->state == STATE_PEER || w->state == STATE_GUEST) && n <= PORCH_CONTROL_MAX &&
            (gsize)n > files_len && memcmp(buf, PORCH_CONTROL_FILES, files_len) == 0 &&
            w->files < PORCH_CONTROL_MAX_FILES;
    if (files) {
        int worker = -1;
        buf[n] = '\0';
        answer = strlen(buf) == (gsize)n
                         ? files_answer(l, w, buf + files_len, &worker)
                         : g_strconcat(PORCH_CONTROL_REFUSED, "no such share", NULL);
        sent = porch_fd_send(fd, answer, strlen(answer), &worker, worker >= 0 ? 1 : 0);
        if (worker >= 0)
            close(worker);
        if (!sent) {
            w->control_watch = 0;
            close_control(w);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    guest = (gsize)n == strlen(PORCH_CONTROL_LOGIN_GUEST) &&
            memcmp(buf, PORCH_CONTROL_LOGIN_GUEST, (gsize)n) == 0;
    if (w->state != STATE_STARTUP || n > PORCH_CONTROL_MAX ||
        !(guest || ((gsize)n > peer_len && memcmp(buf, PORCH_CONTROL_LOGIN_PEER, peer_len) == 0 &&
                    name_valid(buf + peer_len, (gsize)n - peer_len)))) {
        g_warning("session %d (%s): unexpected message on its control socket (%zd bytes); "
                  "ending it",
                  (int)w->pid, w->address, n);
        w->control_watch = 0;
        close_control(w);
        w->state = STATE_OUT;
        g_subprocess_send_signal(w->proc, SIGTERM);
        return G_SOURCE_REMOVE;
    }
    buf[n] = '\0';
    reason = refusal(l, guest, &why);
    if (reason == NULL) {
        w->state = guest ? STATE_GUEST : STATE_PEER;
        w->since = g_get_real_time();
        if (!guest)
            w->peer = g_strdup(buf + peer_len);
        answer = g_strdup(PORCH_CONTROL_OK);
    } else {
        g_message("%s: session %d: %s refused: %s", w->address, (int)w->pid,
                  guest ? "guest" : buf + peer_len, why);
        w->state = STATE_OUT;
        answer = g_strconcat(PORCH_CONTROL_REFUSED, reason, NULL);
    }
    if (send(fd, answer, strlen(answer), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* the session will take that as a refusal */
        w->state = STATE_OUT;
        w->control_watch = 0;
        close_control(w);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* ---- sessions -------------------------------------------------------------------------- */

static void
session_watch_free(SessionWatch *w)
{
    close_control(w);
    g_clear_object(&w->proc);
    if (w->offer_names != NULL)
        g_ptr_array_unref(w->offer_names);
    g_free(w->send_inbox);
    g_free(w->peer);
    g_free(w->address);
    if (w->transfers != NULL)
        g_ptr_array_unref(w->transfers);
    g_free(w);
}

static void
on_session_exit(GObject *source, GAsyncResult *result, gpointer user_data)
{
    SessionWatch *w = user_data;
    GSubprocess *proc = G_SUBPROCESS(source);
    PorchListener *l = w->listener;

    /* when cancelled, the listener is gone */
    if (g_subprocess_wait_finish(proc, result, NULL) && l != NULL) {
        g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
        guint removed;

        if (g_subprocess_get_if_exited(proc) &&
            g_subprocess_get_exit_status(proc) == PORCH_SESSION_EXIT_AUTH) {
            gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
            g_array_append_val(recent_failures(l, w->address), now);
        }
        if (g_subprocess_get_if_signaled(proc) && w->state != STATE_OUT)
            g_warning("session %d (%s) died of signal %d", (int)w->pid, w->address,
                      g_subprocess_get_term_sig(proc));
        if (w->offer != 0)
            porch_offers_withdraw(l->offers, w->offer); /* the sender went away */
        w->offer = 0;
        removed = porch_upload_journal_cleanup(config, l->state_dir, w->pid,
                                               porch_workers_files_for, l->workers);
        if (removed > 0)
            g_message("removed %u unfinished upload(s) of session %d", removed, (int)w->pid);
        g_hash_table_remove(l->sessions, GINT_TO_POINTER(w->pid));
        forget_old_failures(l);
    }
    session_watch_free(w);
}

/* Why @address may not start a session now, NULL when it may. */
static const char *
startup_refusal(PorchListener *l, const char *address, char **ret_log)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(l->manager);
    guint64 per_address = porch_config_get_limit(config, PORCH_LIMIT_MAX_SESSIONS_PER_ADDRESS);
    guint64 startups = porch_config_get_limit(config, PORCH_LIMIT_MAX_STARTUPS);
    guint64 max = porch_config_get_limit(config, PORCH_LIMIT_MAX_SESSIONS);

    if (recent_failures(l, address)->len >= PORCH_AUTH_FAILURE_MAX) {
        *ret_log = g_strdup("too many failed logins");
        return "Porch: too many failed logins from this address; try again later\r\n";
    }
    if (count_sessions(l, address, -1) >= per_address) {
        *ret_log = g_strdup_printf("too many sessions from this address (%" G_GUINT64_FORMAT
                                   ", max-sessions-per-address)",
                                   per_address);
        return "Porch: too many sessions from this address; try again later\r\n";
    }
    if (count_sessions(l, NULL, STATE_STARTUP) >= startups) {
        *ret_log = g_strdup_printf("%" G_GUINT64_FORMAT
                                   " connections are logging in already (max-startups)",
                                   startups);
        return "Porch: too many connections are logging in; try again later\r\n";
    }
    if (logged_in(l) >= max) {
        *ret_log = g_strdup_printf("%" G_GUINT64_FORMAT " sessions already (max-sessions)", max);
        return "Porch: too many sessions; try again later\r\n";
    }
    return NULL;
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer user_data)
{
    PorchListener *l = user_data;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *address = address_string(conn);
    g_autofree char *why = NULL;
    const char *line = startup_refusal(l, address, &why);
    const int targets[] = {PORCH_SESSION_FD, PORCH_SESSION_CONTROL_FD};
    SessionWatch *w;
    int pair[2];

    if (line != NULL) {
        g_message("%s: turned away: %s", address, why);
        turn_away(l, conn, line);
        return TRUE;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        g_warning("%s: no control socket: %s", address, g_strerror(errno));
        return TRUE;
    }
    {
        const int fds[] = {g_socket_get_fd(g_socket_connection_get_socket(conn)), pair[1]};
        const char *argv[] = {l->program,       "--config",
                              l->snapshot_file, "--state-dir",
                              l->state_dir,     "--address",
                              address,          l->default_name ? "--default-name" : NULL,
                              l->default_name,  NULL};

        proc = spawn_with_fds(argv, fds, targets, G_N_ELEMENTS(fds), &error);
    }
    /* the session has its copies; ours go */
    close(pair[1]);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    if (proc == NULL) {
        g_warning("%s: cannot start %s: %s", address, l->program, error->message);
        close(pair[0]);
        return TRUE;
    }
    w = g_new0(SessionWatch, 1);
    w->listener = l;
    w->proc = g_object_ref(proc);
    w->pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(proc), NULL, 10);
    w->address = g_steal_pointer(&address);
    w->state = STATE_STARTUP;
    w->control = pair[0];
    w->control_watch = g_unix_fd_add(w->control, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control, w);
    g_message("%s: connection, session %d", w->address, (int)w->pid);
    g_hash_table_insert(l->sessions, GINT_TO_POINTER(w->pid), w);
    g_subprocess_wait_async(proc, l->cancellable, on_session_exit, w);
    return TRUE;
}

/* Binds @literal:@port and listens; *ret_port is the port bound (the kernel's choice when
 * @port is 0). */
static gboolean
bind_address(PorchListener *l, const char *literal, guint16 port, guint16 *ret_port, GError **error)
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
    if (port == 0) {
        g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, error);
        if (bound == NULL)
            return FALSE;
        port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    }
    *ret_port = port;
    return TRUE;
}

void
porch_listener_set_default_name(PorchListener *l, const char *name)
{
    g_free(l->default_name);
    l->default_name = g_strdup(name);
}

guint16
porch_listener_get_port(PorchListener *l)
{
    return l->port;
}

PorchListener *
porch_listener_new(PorchManager *manager, PorchWorkers *workers, guint16 port,
                   const char *session_program, const char *snapshot_file, const char *state_dir,
                   GError **error)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(manager);
    g_autoptr(PorchListener) l = g_new0(PorchListener, 1);
    const char *const *addresses = porch_config_get_listen(config);

    l->manager = manager;
    l->workers = workers;
    l->offers = porch_offers_new();
    l->program = g_strdup(session_program);
    {
        g_autofree char *dir = g_path_get_dirname(session_program);
        l->print_program = g_build_filename(dir, PORCH_PRINT_PROGRAM, NULL);
    }
    l->snapshot_file = g_strdup(snapshot_file);
    l->state_dir = g_strdup(state_dir);
    l->sessions = g_hash_table_new(NULL, NULL);
    l->failures =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    l->lingering = g_hash_table_new(NULL, NULL);
    l->cancellable = g_cancellable_new();
    l->service = g_socket_service_new();
    /* port 0: the kernel chooses one for the first address; the others take the same */
    for (guint i = 0; addresses[i]; i++)
        if (!bind_address(l, addresses[i], port, &port, error))
            return NULL;
    l->port = port;
    g_signal_connect(l->service, "incoming", G_CALLBACK(on_incoming), l);
    g_socket_service_start(l->service);
    return g_steal_pointer(&l);
}

void
porch_listener_free(PorchListener *l)
{
    GHashTableIter it;
    gpointer value;

    if (l == NULL)
        return;
    /* first: an offer's answer calls into its session's watch */
    g_clear_pointer(&l->offers, porch_offers_free);
    if (l->service != NULL) {
        g_socket_service_stop(l->service);
        g_socket_listener_close(G_SOCKET_LISTENER(l->service));
        g_object_unref(l->service);
    }
    if (l->sessions != NULL) {
        /* each watch is freed when its wait ends, cancelled */
        g_hash_table_iter_init(&it, l->sessions);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            SessionWatch *w = value;
            g_subprocess_send_signal(w->proc, SIGTERM);
            close_control(w);
            w->listener = NULL;
        }
        g_hash_table_unref(l->sessions);
    }
    g_cancellable_cancel(l->cancellable);
    while (l->lingering != NULL && g_hash_table_size(l->lingering) > 0) {
        g_hash_table_iter_init(&it, l->lingering);
        g_hash_table_iter_next(&it, &value, NULL);
        turn_away_finish(value);
    }
    g_clear_pointer(&l->lingering, g_hash_table_unref);
    g_clear_pointer(&l->failures, g_hash_table_unref);
    g_clear_object(&l->cancellable);
    g_free(l->program);
    g_free(l->print_program);
    g_free(l->default_name);
    g_free(l->snapshot_file);
    g_free(l->state_dir);
    g_free(l);
}

void
porch_listener_reloaded(PorchListener *l)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, l->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_subprocess_send_signal(((SessionWatch *)value)->proc, SIGHUP);
}

void
porch_listener_add_sessions(PorchListener *l, JsonBuilder *b)
{
    GHashTableIter it;
    gpointer value;

    json_builder_begin_array(b);
    g_hash_table_iter_init(&it, l->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        SessionWatch *w = value;

        if (w->state != STATE_PEER && w->state != STATE_GUEST)
            continue;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "peer");
        json_builder_add_string_value(b, w->state == STATE_PEER ? w->peer : "guest");
        json_builder_set_member_name(b, "guest");
        json_builder_add_boolean_value(b, w->state == STATE_GUEST);
        json_builder_set_member_name(b, "address");
        json_builder_add_string_value(b, w->address);
        json_builder_set_member_name(b, "pid");
        json_builder_add_int_value(b, w->pid);
        json_builder_set_member_name(b, "since");
        json_builder_add_int_value(b, w->since / G_USEC_PER_SEC);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

void
porch_listener_add_transfers(PorchListener *l, JsonBuilder *b)
{
    GHashTableIter it;
    gpointer value;

    json_builder_begin_array(b);
    g_hash_table_iter_init(&it, l->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        SessionWatch *w = value;

        if ((w->state != STATE_PEER && w->state != STATE_GUEST) || w->transfers == NULL)
            continue;
        for (guint i = 0; i < w->transfers->len; i++) {
            const Transfer *t = w->transfers->pdata[i];

            json_builder_begin_object(b);
            json_builder_set_member_name(b, "peer");
            json_builder_add_string_value(b, w->state == STATE_PEER ? w->peer : "guest");
            json_builder_set_member_name(b, "address");
            json_builder_add_string_value(b, w->address);
            json_builder_set_member_name(b, "direction");
            json_builder_add_string_value(b, t->put ? "upload" : "download");
            json_builder_set_member_name(b, "path");
            json_builder_add_string_value(b, t->path);
            json_builder_set_member_name(b, "size");
            json_builder_add_int_value(b, (gint64)t->size);
            json_builder_set_member_name(b, "done");
            json_builder_add_int_value(b, (gint64)t->done);
            json_builder_set_member_name(b, "since");
            json_builder_add_int_value(b, t->started / G_USEC_PER_SEC);
            json_builder_end_object(b);
        }
    }
    json_builder_end_array(b);
}

PorchOffers *
porch_listener_get_offers(PorchListener *listener)
{
    return listener->offers;
}
