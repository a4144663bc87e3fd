/* session.c — porchd-session: one client connection, in a process of its own.
 *
 * porchd accepts a TCP connection and execs this program with the socket on fd 3, as
 * OpenSSH's sshd hands a connection to sshd-session: a slow, hostile or crashing client
 * takes down only its own process. Here: the SSH handshake with modern algorithms only,
 * public-key authentication against the [peer] keys (or 'guest' with no credentials where
 * a rule names guest), one session channel with either the "sftp" subsystem, then SFTP until
 * the client leaves, or one "exec" request: a print, jobs or cancel command (print-server.c), whose
 * exit status goes back on the channel. The configuration is the snapshot porchd validated
 * (running.conf in the state directory), read again on SIGHUP, which porchd forwards after a
 * good reload.
 *
 * porchd decides whether an authenticated client may go on (its session limits): the
 * session asks it on the control socket (session.h) and, when refused, tells the client why
 * (a userauth banner and the disconnect message) and ends. An unknown key that proved
 * possession is recorded as a request for access when authentication is over, unless the
 * same connection went on as guest (the porch client offers its key, then tries guest).
 *
 * Exit status: 0 after a served session, PORCH_SESSION_EXIT_AUTH when the client did not
 * authenticate (porchd counts those per address to slow down guessing),
 * PORCH_SESSION_EXIT_REFUSED when porchd refused it a place, 1 on errors.
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "porch-acl.h"
#include "porch-ciphers.h"
#include "porch-config.h"
#include "porch-identity.h"
#include "porch-pending.h"
#include "porch-sandbox.h"
#include "porch-send.h"
#include "send-server.h"
#include "porch-state.h"
#include "porch-text.h"
#include "fd-pass.h"
#include "indexer.h"
#include "manager.h"
#include "offline.h"
#include "print-relay.h"
#include "session.h"
#include "sftp-server.h"

#define MAX_AUTH_TRIES 6
/* After the grace time, a last resort in case a callback does not return. */
#define GRACE_BACKSTOP_SECONDS 10

/* An unknown key that proved possession: recorded once authentication is over. */
typedef struct {
    char *name;
    char *line;
    char *fingerprint;
} UnknownKey;

typedef struct {
    PorchConfig *config; /* current snapshot */
    char *config_file;
    char *state_dir;
    ssh_key host_key; /* loaded (or made) before the session confines itself; serve() owns it */
    char *address;    /* the client's, for logs and pending requests */
    int control;      /* the control socket to porchd */

    /* authentication outcome */
    gboolean authenticated;
    gboolean guest_asked;     /* the client asked to go on as guest */
    gboolean refused;         /* porchd said no: disconnect */
    char *fingerprint;        /* NULL: guest */
    char *who;                /* "bob (SHA256:...)" or "guest", for logs */
    const char *default_name; /* --default-name: the display name without name = */
    char *peer;               /* "bob" or "guest": the name the transfer log shows */
    int auth_failures;
    GPtrArray *unknown_keys; /* UnknownKey*, at most MAX_AUTH_TRIES */

    ssh_channel channel;
    gboolean sftp_requested;
    char *command;         /* the exec request's command line */
    gboolean eof_received; /* the client sent EOF on the channel */
    struct ssh_channel_callbacks_struct channel_cb;
} Session;

static volatile sig_atomic_t reload_requested;

static void
on_sighup(int sig)
{
    reload_requested = 1;
}

static void
on_login_timeout(int sig)
{
    _exit(PORCH_SESSION_EXIT_AUTH);
}

static gboolean
config_has_guest(const PorchConfig *config)
{
    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *s = porch_config_get_share(config, i);
        /* an inbox whose rules name guest takes a guest's offers */
        if (s->read.guest || s->write.guest || s->accept.guest || s->ask.guest)
            return TRUE;
    }
    for (guint i = 0; i < porch_config_get_n_printers(config); i++)
        if (porch_config_get_printer(config, i)->print.guest)
            return TRUE;
    return FALSE;
}

/* Called by the SFTP server before each request: applies a reload porchd asked for. */
static PorchConfig *
current_config(void *user_data)
{
    Session *s = user_data;

    if (reload_requested) {
        g_autoptr(GError) error = NULL;
        PorchConfig *c;

        reload_requested = 0;
        c = porch_config_load_snapshot(s->config_file, &error);
        if (c == NULL) {
            g_warning("%s: reload refused, keeping the previous rules: %s", s->who, error->message);
        } else {
            porch_offline_read(c, s->state_dir);
            porch_config_unref(s->config);
            s->config = c;
            g_debug("%s: rules reloaded", s->who);
        }
    }
    return s->config;
}

/* ---- authentication ------------------------------------------------------------------ */

static void
unknown_key_free(UnknownKey *k)
{
    g_free(k->name);
    g_free(k->line);
    g_free(k->fingerprint);
    g_free(k);
}

/* Asks porchd whether the client, authenticated as @request says, may go on (session.h).
 * FALSE with the reason for the client in @ret_reason when not. */
static gboolean
ask_porchd(Session *s, const char *request, char **ret_reason)
{
    char answer[PORCH_CONTROL_MAX + 1];
    struct pollfd pfd = {.fd = s->control, .events = POLLIN};
    gint64 deadline = g_get_monotonic_time() + PORCH_CONTROL_TIMEOUT_MS * 1000;
    ssize_t n = -1;
    int r = 0;

    *ret_reason = NULL;
    if (send(s->control, request, strlen(request), MSG_NOSIGNAL) < 0) {
        g_warning("%s: cannot ask porchd: %s", s->address, g_strerror(errno));
        goto refused;
    }
    do {
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        r = poll(&pfd, 1, MAX(left, 0));
    } while (r < 0 && errno == EINTR);
    if (r > 0)
        n = recv(s->control, answer, sizeof answer, MSG_DONTWAIT);
    if (n == (ssize_t)strlen(PORCH_CONTROL_OK) && memcmp(answer, PORCH_CONTROL_OK, (size_t)n) == 0)
        return TRUE;
    if (n > (ssize_t)strlen(PORCH_CONTROL_REFUSED) && n <= PORCH_CONTROL_MAX &&
        memcmp(answer, PORCH_CONTROL_REFUSED, strlen(PORCH_CONTROL_REFUSED)) == 0) {
        answer[n] = '\0';
        *ret_reason = porch_text_show(answer + strlen(PORCH_CONTROL_REFUSED), -1, PORCH_CONTROL_MAX,
                                      PORCH_TEXT_ASCII);
        return FALSE;
    }
    g_warning("%s: porchd did not answer whether the login may go on (%s)", s->address,
              r == 0 ? "timed out" : "no valid answer");
refused:
    *ret_reason = g_strdup("Porch: the server cannot take this login now; try again later");
    return FALSE;
}

/* Tells the client @reason, as a userauth banner (the OpenSSH client shows it) and as the
 * reason of the disconnection that follows. */
static void
refuse(Session *s, ssh_session session, const char *reason)
{
    g_autofree char *line = g_strconcat(reason, "\r\n", NULL);
    ssh_string banner = ssh_string_from_char(line);

    if (banner != NULL)
        ssh_send_issue_banner(session, banner);
    ssh_string_free(banner);
    ssh_session_set_disconnect_message(session, reason);
    s->refused = TRUE;
}

static int
auth_none(ssh_session session, const char *user, void *userdata)
{
    Session *s = userdata;
    g_autofree char *reason = NULL;

    if (s->authenticated || s->refused)
        return SSH_AUTH_DENIED;
    if (g_strcmp0(user, "guest") == 0 && config_has_guest(s->config)) {
        s->guest_asked = TRUE;
        if (!ask_porchd(s, PORCH_CONTROL_LOGIN_GUEST, &reason)) {
            g_message("%s: guest refused: %s", s->address, reason);
            refuse(s, session, reason);
            return SSH_AUTH_DENIED;
        }
        s->authenticated = TRUE;
        s->who = g_strdup("guest");
        s->peer = g_strdup("guest");
        g_message("%s: guest logged in", s->address);
        return SSH_AUTH_SUCCESS;
    }
    return SSH_AUTH_DENIED;
}

/* Keeps an unknown key that proved possession, to be recorded when authentication is
 * over. */
static void
remember_unknown_key(Session *s, struct ssh_key_struct *pubkey, const char *user, char *fp)
{
    UnknownKey *k;

    for (guint i = 0; i < s->unknown_keys->len; i++)
        if (strcmp(((UnknownKey *)s->unknown_keys->pdata[i])->fingerprint, fp) == 0)
            return;
    if (s->unknown_keys->len >= MAX_AUTH_TRIES)
        return;
    k = g_new0(UnknownKey, 1);
    /* the client's user name as a suggestion for [peer NAME] */
    k->name = porch_config_peer_name_from(user, PORCH_PEER_NAME_STRANGER);
    k->line = porch_key_public_line(pubkey, k->name);
    k->fingerprint = g_strdup(fp);
    if (k->line == NULL) {
        unknown_key_free(k);
        return;
    }
    g_message("%s: refused unknown key %s (as \"%s\")", s->address, fp, k->name);
    g_ptr_array_add(s->unknown_keys, k);
}

static int
auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
            char signature_state, void *userdata)
{
    Session *s = userdata;
    g_autofree char *fp = porch_key_fingerprint(pubkey);
    const PorchPeer *peer = porch_config_lookup_peer_by_fingerprint(s->config, fp);
    g_autofree char *request = NULL;
    g_autofree char *reason = NULL;

    if (fp == NULL || s->authenticated || s->refused)
        return SSH_AUTH_DENIED;
    /* A key probe (no signature yet): say yes to any key, known or not, so that an unknown
     * key proves it is held before it is recorded as a request for access. */
    if (signature_state == SSH_PUBLICKEY_STATE_NONE)
        return SSH_AUTH_SUCCESS;
    if (signature_state != SSH_PUBLICKEY_STATE_VALID) {
        s->auth_failures++;
        return SSH_AUTH_DENIED;
    }
    if (peer == NULL) {
        s->auth_failures++;
        remember_unknown_key(s, pubkey, user, fp);
        return SSH_AUTH_DENIED;
    }
    request = g_strconcat(PORCH_CONTROL_LOGIN_PEER, peer->name, NULL);
    if (!ask_porchd(s, request, &reason)) {
        g_message("%s (%s) from %s: refused: %s", peer->name, fp, s->address, reason);
        refuse(s, session, reason);
        return SSH_AUTH_DENIED;
    }
    s->authenticated = TRUE;
    s->fingerprint = g_steal_pointer(&fp);
    s->who = g_strdup_printf("%s (%s) from %s", peer->name, s->fingerprint, s->address);
    s->peer = g_strdup(peer->name);
    g_message("%s: logged in", s->who);
    return SSH_AUTH_SUCCESS;
}

/* gssapi-with-mic: never offered, refused before libssh hands it to the GSSAPI library. */
static ssh_string
auth_gssapi_select_oid(ssh_session session, const char *user, int n_oid, ssh_string *oids,
                       void *userdata)
{
    Session *s = userdata;

    s->auth_failures++;
    return NULL;
}

/* What no callback took: password, keyboard-interactive, hostbased and unknown methods
 * (none is offered) are failures; everything gets libssh's default answer, a refusal. */
static int
on_other_message(ssh_session session, ssh_message msg, void *userdata)
{
    Session *s = userdata;

    if (ssh_message_type(msg) == SSH_REQUEST_AUTH)
        s->auth_failures++;
    return 1;
}

/* Records the unknown keys the client proved it holds, unless it went on as guest (the
 * porch client offers its key first, then tries guest). */
static void
record_unknown_keys(Session *s)
{
    PorchPendingLimits limits = {
            .max_total = (guint)porch_config_get_limit(s->config, PORCH_LIMIT_MAX_PENDING),
            .max_per_address =
                    (guint)porch_config_get_limit(s->config, PORCH_LIMIT_MAX_PENDING_PER_ADDRESS),
            .expiry = (gint64)porch_config_get_limit(s->config, PORCH_LIMIT_PENDING_EXPIRY),
    };
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    if (s->guest_asked || limits.max_total == 0)
        return;
    for (guint i = 0; i < s->unknown_keys->len; i++) {
        UnknownKey *k = s->unknown_keys->pdata[i];
        g_autoptr(GError) error = NULL;

        if (porch_pending_record(s->state_dir, &limits, k->name, k->line, k->fingerprint,
                                 s->address, now, &error))
            g_message("%s: key %s (as \"%s\") recorded as a request for access", s->address,
                      k->fingerprint, k->name);
        else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
            g_warning("%s: request for access of key %s not recorded: %s (max-pending %u)",
                      s->address, k->fingerprint, error->message, limits.max_total);
        else
            g_warning("%s: cannot record the request for access of key %s: %s", s->address,
                      k->fingerprint, error->message);
    }
}

/* ---- confinement -------------------------------------------------------------------------- */

/* Before a byte from the network is read: no new privileges, the file system limited to the
 * state folder by Landlock, and the system calls to what a session makes (seccomp). It reads
 * the host key, the running configuration and the content index there, and writes only the
 * access requests, the upload journal and the index's shared memory (which SQLite's readers
 * write too): a session taken over cannot rewrite running.conf, which every later session
 * enforces, nor the host key. Shared files are never opened here: the workers hand their
 * descriptors over. What later calls would read from elsewhere (the time zone, the random
 * seed) is read first. */
static gboolean
confine(Session *s, GError **error)
{
    static const char *const writable[] = {PORCH_STATE_PENDING, PORCH_STATE_UPLOADS,
                                           PORCH_INDEX_FILE "-shm", NULL};
    g_autofree char *key_path = porch_state_file(s->state_dir, PORCH_STATE_HOST_KEY);
    gboolean landlocked = FALSE;

    /* made now if missing (porchd makes both when it starts; a session started on its own,
     * as the tests do, may be the first): once confined, the state folder is read-only */
    s->host_key = porch_identity_load_or_create(key_path, error);
    if (s->host_key == NULL) {
        g_prefix_error(error, "no host key: ");
        return FALSE;
    }
    for (guint i = 0; i < 2; i++) {
        g_autofree char *dir = porch_state_file(s->state_dir, writable[i]);
        if (g_mkdir_with_parents(dir, 0700) != 0)
            g_debug("%s: %s: %s", s->address, dir, g_strerror(errno));
    }
    if (!porch_sandbox_confine_to_state(s->state_dir, writable, &landlocked, error))
        return FALSE;
    if (!landlocked)
        g_debug("%s: no Landlock in this kernel", s->address);
    return TRUE;
}

/* ---- files ----------------------------------------------------------------------------- */

/* PorchSftpContext.transfer: a one-way note to porchd (session.h), its path cut to fit the
 * packet on a character boundary. A note that cannot be sent is dropped: it only feeds
 * `porch status`. */
static void
transfer_note(void *user_data, guint32 id, gboolean put, guint64 size, guint64 done,
              const char *path)
{
    Session *s = user_data;
    g_autofree char *note = NULL;

    if (path == NULL) {
        note = g_strdup_printf(PORCH_CONTROL_TRANSFER_END "%u", id);
    } else {
        g_autofree char *head = g_strdup_printf(PORCH_CONTROL_TRANSFER "%u %s %" G_GUINT64_FORMAT
                                                                       " %" G_GUINT64_FORMAT " ",
                                                id, put ? "put" : "get", size, done);
        gsize room = PORCH_CONTROL_MAX - strlen(head);
        const char *end = path;

        /* whole characters only, no control characters: the path is for a terminal too */
        while (*end != '\0' && (gsize)(g_utf8_next_char(end) - path) <= room &&
               !g_unichar_iscntrl(g_utf8_get_char(end)))
            end = g_utf8_next_char(end);
        note = g_strdup_printf("%s%.*s", head, (int)(end - path), path);
    }
    send(s->control, note, strlen(note), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Asks porchd on the control socket for a connection (session.h: "files SHARE", "exec"):
 * the descriptor, or -1 with *@ret_why (to free) saying why not: porchd's refusal, or that
 * it did not answer. */
static int
connection_for(Session *s, const char *request, char **ret_why)
{
    char answer[PORCH_CONTROL_MAX + 1];
    struct pollfd pfd = {.fd = s->control, .events = POLLIN};
    guint n_fds = 0;
    int fd = -1, r;
    gssize n = -1;

    if (strlen(request) <= PORCH_CONTROL_MAX &&
        porch_fd_send(s->control, request, strlen(request), NULL, 0)) {
        do
            r = poll(&pfd, 1, PORCH_CONTROL_TIMEOUT_MS * 2);
        while (r < 0 && errno == EINTR);
        if (r > 0)
            n = porch_fd_recv(s->control, answer, sizeof answer - 1, &fd, 1, &n_fds);
    }
    if (n == (gssize)strlen(PORCH_CONTROL_OK) && n_fds == 1 &&
        memcmp(answer, PORCH_CONTROL_OK, (gsize)n) == 0)
        return fd;
    if (n_fds == 1)
        close(fd);
    if (n > 0)
        answer[n] = '\0';
    *ret_why = g_strdup(n > (gssize)strlen(PORCH_CONTROL_REFUSED) &&
                                        g_str_has_prefix(answer, PORCH_CONTROL_REFUSED)
                                ? answer + strlen(PORCH_CONTROL_REFUSED)
                                : "no answer");
    return -1;
}

/* A share's file operations: a connection to its worker, which porchd hands over on the
 * control socket (session.h) for a share this peer may read. The session never opens a
 * shared file by path itself. */
static PorchFiles *
files_for(void *user_data, const PorchShare *share, GError **error)
{
    Session *s = user_data;
    g_autofree char *request = g_strconcat(PORCH_CONTROL_FILES, share->name, NULL);
    g_autofree char *why = NULL;
    int fd = connection_for(s, request, &why);

    if (fd >= 0)
        return porch_files_new_remote(fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "porchd gave no file worker: %s", why);
    return NULL;
}

/* An exec command other than send: porchd starts porchd-print for it (print-relay.h), and the
 * channel is relayed to it. Returns the command's exit status. */
static int
run_exec(Session *s)
{
    g_autofree char *why = NULL;
    g_autofree char *line = NULL;
    int fd = connection_for(s, PORCH_CONTROL_EXEC, &why);

    if (fd >= 0)
        return porch_print_relay(s->channel, fd, s->fingerprint, s->command, &s->eof_received,
                                 s->who);
    g_warning("%s: this host cannot run the command now: %s", s->who, why);
    line = g_strdup_printf("this host cannot run the command now: %s\n", why);
    ssh_channel_write_stderr(s->channel, line, (guint32)strlen(line));
    porch_print_relay_let_client_stop(s->channel);
    return EX_UNAVAILABLE;
}

/* ---- channel ------------------------------------------------------------------------- */

static int
channel_subsystem(ssh_session session, ssh_channel channel, const char *subsystem, void *userdata)
{
    Session *s = userdata;

    if (g_strcmp0(subsystem, "sftp") != 0 || s->sftp_requested || s->command != NULL)
        return SSH_ERROR;
    s->sftp_requested = TRUE;
    return SSH_OK;
}

/* One command per connection, instead of SFTP: print-server.c says which there are. Shells, port
 * forwarding and the like do not exist here. */
static int
channel_exec(ssh_session session, ssh_channel channel, const char *command, void *userdata)
{
    Session *s = userdata;

    if (command == NULL || s->sftp_requested || s->command != NULL)
        return SSH_ERROR;
    s->command = g_strdup(command);
    return SSH_OK;
}

/* libssh reports a channel closed without EOF as at end of file too; a document is whole only
 * when this was called. */
static void
channel_eof(ssh_session session, ssh_channel channel, void *userdata)
{
    Session *s = userdata;

    s->eof_received = TRUE;
}

static int
channel_shell(ssh_session session, ssh_channel channel, void *userdata)
{
    return SSH_ERROR;
}

static ssh_channel
channel_open(ssh_session session, void *userdata)
{
    Session *s = userdata;

    if (s->channel != NULL)
        return NULL; /* one channel per connection */
    s->channel = ssh_channel_new(session);
    s->channel_cb = (struct ssh_channel_callbacks_struct){
            .userdata = s,
            .channel_subsystem_request_function = channel_subsystem,
            .channel_exec_request_function = channel_exec,
            .channel_shell_request_function = channel_shell,
            .channel_eof_function = channel_eof,
    };
    ssh_callbacks_init(&s->channel_cb);
    ssh_set_channel_callbacks(s->channel, &s->channel_cb);
    return s->channel;
}

/* ---- the connection ------------------------------------------------------------------ */

/* Algorithms: curve25519 key exchange, Ed25519 host key, AEAD or CTR ciphers with
 * encrypt-then-MAC; no SHA-1 signatures, no CBC, no small DH groups. The identification
 * names no library version. */
static gboolean
configure_bind(ssh_bind bind, ssh_key host_key)
{
    int no = 0;
    const char *ciphers = porch_cipher_list(porch_cipher_order(), TRUE);
    const struct {
        enum ssh_bind_options_e option;
        const char *value;
    } algorithms[] = {
            {SSH_BIND_OPTIONS_KEY_EXCHANGE, "curve25519-sha256,curve25519-sha256@libssh.org"},
            {SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "ssh-ed25519"},
            {SSH_BIND_OPTIONS_CIPHERS_C_S, ciphers},
            {SSH_BIND_OPTIONS_CIPHERS_S_C, ciphers},
            {SSH_BIND_OPTIONS_HMAC_C_S, PORCH_SSH_MACS},
            {SSH_BIND_OPTIONS_HMAC_S_C, PORCH_SSH_MACS},
            {SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, PORCH_SSH_PUBKEY_TYPES},
            {SSH_BIND_OPTIONS_BANNER, PORCH_SSH_SOFTWARE},
    };

    /* Not /etc/libssh/libssh_server.config: Porch's choices are its own. */
    if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(algorithms); i++)
        if (ssh_bind_options_set(bind, algorithms[i].option, algorithms[i].value) != SSH_OK)
            return FALSE;
    /* ssh_bind takes the key and frees it with the bind */
    return ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, host_key) == SSH_OK;
}

/* After the key exchange: waits until the client is authenticated and has asked for sftp
 * or a command, at most until @deadline (monotonic time). Returns 0 when it has, -1 when
 * it hung up after logging in, else the exit status. */
static int
authenticate(Session *s, ssh_session session, ssh_event event, gint64 deadline, guint grace)
{
    while (!(s->authenticated && s->channel != NULL && (s->sftp_requested || s->command != NULL))) {
        if (s->refused)
            return PORCH_SESSION_EXIT_REFUSED;
        if (g_get_monotonic_time() > deadline || s->auth_failures >= MAX_AUTH_TRIES) {
            g_message("%s: no login after %d failures or %u s; disconnecting", s->address,
                      s->auth_failures, grace);
            return PORCH_SESSION_EXIT_AUTH;
        }
        if (ssh_event_dopoll(event, 1000) == SSH_ERROR ||
            ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR))
            return s->authenticated ? -1 : PORCH_SESSION_EXIT_AUTH;
    }
    return 0;
}

static int
serve(Session *s, int fd)
{
    ssh_bind bind = NULL;
    ssh_session session = NULL;
    ssh_event event = NULL;
    ssh_key host_key = g_steal_pointer(&s->host_key);
    struct ssh_server_callbacks_struct server_cb = {
            .userdata = s,
            .auth_none_function = auth_none,
            .auth_pubkey_function = auth_pubkey,
            .gssapi_select_oid_function = auth_gssapi_select_oid,
            .channel_open_request_session_function = channel_open,
    };
    guint grace = (guint)porch_config_get_limit(s->config, PORCH_LIMIT_LOGIN_GRACE_TIME);
    gint64 deadline = g_get_monotonic_time() + (gint64)grace * G_USEC_PER_SEC;
    int r = 1, one = 1, exit_status;

    /* The whole login, key exchange included (libssh waits for it without a limit), must
     * end within the grace time: a client that connects and says nothing must not hold a
     * place for long. */
    alarm(grace);
    bind = ssh_bind_new();
    session = ssh_new();
    if (bind == NULL || session == NULL || !configure_bind(bind, host_key)) {
        ssh_key_free(host_key);
        g_warning("%s: cannot set up SSH", s->address);
        goto out;
    }
    /* libssh sends its small channel window adjustments on their own; with Nagle they
     * wait for the client's delayed ACK (40 ms) and uploads crawl at ~27 MB/s. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ssh_bind_accept_fd(bind, session, fd) != SSH_OK) {
        g_warning("%s: %s", s->address, ssh_get_error(bind));
        goto out;
    }
    /* No compression: it is not worth its risks and cost here (ssh_bind has no option for
     * it; the session's own must be set before the key exchange). */
    if (ssh_options_set(session, SSH_OPTIONS_COMPRESSION_C_S, "none") != SSH_OK ||
        ssh_options_set(session, SSH_OPTIONS_COMPRESSION_S_C, "none") != SSH_OK) {
        g_warning("%s: cannot set up SSH: %s", s->address, ssh_get_error(session));
        goto out;
    }
    ssh_callbacks_init(&server_cb);
    ssh_set_server_callbacks(session, &server_cb);
    ssh_set_message_callback(session, on_other_message, s);
    /* what failure replies offer; 'none' for guest is answered by auth_none() all the same */
    ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);
    if (ssh_handle_key_exchange(session) != SSH_OK) {
        g_message("%s: key exchange failed: %s", s->address, ssh_get_error(session));
        r = PORCH_SESSION_EXIT_AUTH;
        goto out;
    }
    /* From here the deadline ends the login, so that the keys the client proved it holds
     * are recorded; the alarm stays as a last resort. */
    alarm(grace + GRACE_BACKSTOP_SECONDS);

    event = ssh_event_new();
    ssh_event_add_session(event, session);
    r = authenticate(s, session, event, deadline, grace);
    alarm(0);
    record_unknown_keys(s);
    if (r != 0) {
        r = MAX(r, 0);
        goto out;
    }
    ssh_event_remove_session(event, session);

    ssh_set_blocking(session, 1);
    if (s->command != NULL && (strcmp(s->command, PORCH_SEND_COMMAND) == 0 ||
                               g_str_has_prefix(s->command, PORCH_SEND_COMMAND " "))) {
        PorchSendServerContext ctx = {
                .current_config = current_config,
                .user_data = s,
                .peer = s->fingerprint != NULL ? s->peer : NULL,
                .address = s->address,
                .who = s->who,
                .control = s->control,
                .files_for = files_for,
                .eof_received = &s->eof_received,
        };
        exit_status = porch_send_server_serve(session, s->channel, s->command, &ctx);
        r = 0;
    } else if (s->command != NULL) {
        /* the command's status goes to the client; the session itself was served */
        exit_status = run_exec(s);
        r = 0;
    } else {
        PorchSftpContext ctx = {
                .current_config = current_config,
                .user_data = s,
                .fingerprint = s->fingerprint,
                .who = s->who,
                .peer = s->peer,
                .address = s->address,
                .state_dir = s->state_dir,
                .files_for = files_for,
                .transfer = transfer_note,
        };
        r = porch_sftp_serve(session, s->channel, &ctx) == 0 ? 0 : 1;
        exit_status = r;
    }
    g_message("%s: session ended", s->who);
    /* Close the channel and let the client hang up first, as sshd does; a client that
     * does not is disconnected after 2 s. */
    ssh_channel_request_send_exit_status(s->channel, exit_status);
    ssh_channel_send_eof(s->channel);
    ssh_channel_close(s->channel);
    ssh_event_add_session(event, session);
    /* 2 s by the clock, not by polls: a client still sending makes each poll return at once */
    {
        gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
        while (!(ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) &&
               g_get_monotonic_time() < until)
            if (ssh_event_dopoll(event, 100) == SSH_ERROR)
                break;
    }

out:
    if (s->channel != NULL) {
        ssh_channel_send_eof(s->channel);
        ssh_channel_close(s->channel);
        ssh_channel_free(s->channel);
        s->channel = NULL;
    }
    if (event != NULL)
        ssh_event_free(event);
    if (session != NULL) {
        ssh_disconnect(session);
        ssh_free(session);
    }
    if (bind != NULL)
        ssh_bind_free(bind);
    return r;
}

int
main(int argc, char **argv)
{
    g_autofree char *config_file = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *address = NULL;
    g_autofree char *default_name = NULL;
    int fd = PORCH_SESSION_FD;
    /* libssh builds every SFTP packet in a buffer grown 4 KiB at a time and freed after
     * the packet; a 255 KiB WRITE then crosses glibc's mmap threshold, and each packet
     * costs an mmap, mremaps and a munmap with their page faults (perf: ~30% of an
     * upload). Keeping such buffers on the heap makes them reused instead. */
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    GOptionEntry entries[] = {
            {"config", 0, 0, G_OPTION_ARG_FILENAME, &config_file, "The running configuration",
             "FILE"},
            {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "porchd's state directory",
             "DIR"},
            {"address", 0, 0, G_OPTION_ARG_STRING, &address, "The client's address", "ADDR"},
            {"default-name", 0, 0, G_OPTION_ARG_STRING, &default_name,
             "The display name when the configuration sets none", "NAME"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    struct sigaction sa = {.sa_handler = on_sighup};
    sigset_t blocked;
    struct stat st;
    Session s = {0};
    int r;

    g_option_context_set_summary(ctx, "Serves one connection accepted by porchd (on fd 3). "
                                      "Not for running by hand.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || config_file == NULL ||
        state_dir == NULL) {
        fprintf(stderr, "porchd-session: %s\n",
                error ? error->message : "--config and --state-dir are required");
        return 2;
    }
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGALRM, on_login_timeout);
    /* porchd starts sessions with SIGHUP blocked, so that a reload before this point does
     * not end them; from here on it is handled */
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
    signal(SIGPIPE, SIG_IGN);

    s.config_file = config_file;
    s.state_dir = state_dir;
    s.default_name = default_name;
    s.control = PORCH_SESSION_CONTROL_FD;
    s.unknown_keys = g_ptr_array_new_with_free_func((GDestroyNotify)unknown_key_free);
    s.address = address ? address : g_strdup("unknown");
    address = NULL;
    /* without porchd to ask, nobody may log in */
    if (fstat(s.control, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        g_warning("%s: no control socket on fd %d (porchd starts this program)", s.address,
                  s.control);
        close(fd);
        return 1;
    }
    s.config = porch_config_load_snapshot(config_file, &error);
    if (s.config == NULL) {
        g_warning("%s: %s", s.address, error->message);
        close(fd);
        return 1;
    }
    porch_offline_read(s.config, s.state_dir);
    if (!confine(&s, &error)) {
        g_warning("%s: the session cannot confine itself: %s", s.address, error->message);
        g_clear_pointer(&s.host_key, ssh_key_free);
        close(fd);
        return 1;
    }
    s.who = NULL;
    r = serve(&s, fd);
    porch_config_unref(s.config);
    g_ptr_array_unref(s.unknown_keys);
    g_free(s.fingerprint);
    g_free(s.command);
    g_free(s.who);
    g_free(s.peer);
    g_free(s.address);
    return r;
}
