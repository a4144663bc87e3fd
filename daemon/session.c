/* session.c — porchd-session: one client connection, in a process of its own.
 *
 * porchd accepts a TCP connection and execs this program with the socket on fd 3, as
 * OpenSSH's sshd hands a connection to sshd-session: a slow, hostile or crashing client
 * takes down only its own process. Here: the SSH handshake with modern algorithms only,
 * public-key authentication against the [peer] keys (or 'guest' with no credentials where
 * a rule names guest), one session channel with either the "sftp" subsystem, then SFTP until
 * the client leaves, or one "exec" request: a print, jobs or cancel command (print.c), whose
 * exit status goes back on the channel. The configuration is the snapshot porchd validated
 * (running.conf in the state directory), read again on SIGHUP, which porchd forwards after a
 * good reload.
 *
 * Exit status: 0 after a served session, PORCH_SESSION_EXIT_AUTH when the client did not
 * authenticate (porchd counts those per address to slow down guessing), 1 on errors.
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "porch-acl.h"
#include "porch-config.h"
#include "porch-identity.h"
#include "porch-pending.h"
#include "print.h"
#include "session.h"
#include "sftp-server.h"

#define LOGIN_GRACE_SECONDS 30
#define MAX_AUTH_TRIES      6

typedef struct {
    PorchConfig *config; /* current snapshot */
    char *config_file;
    char *state_dir;
    char *address; /* the client's, for logs and pending requests */

    /* authentication outcome */
    gboolean authenticated;
    char *fingerprint; /* NULL: guest */
    char *who;         /* "bob (SHA256:...)" or "guest", for logs */
    int auth_failures;

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
        if (s->read.guest || s->write.guest)
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
        c = porch_config_load_file(s->config_file, &error);
        if (c == NULL) {
            g_warning("%s: reload refused, keeping the previous rules: %s", s->who, error->message);
        } else {
            porch_config_unref(s->config);
            s->config = c;
            g_debug("%s: rules reloaded", s->who);
        }
    }
    return s->config;
}

/* ---- authentication ------------------------------------------------------------------ */

/* The client's user name as a suggestion for [peer NAME]: what porch.conf accepts (letters,
 * digits, '.', '_', '-', at most 32), anything else replaced, so that nothing a stranger
 * sends reaches a terminal or the config file as it is. */
static char *
peer_name_suggestion(const char *user)
{
    GString *s = g_string_new(NULL);

    for (const char *p = user ? user : ""; *p && s->len < 32; p++)
        g_string_append_c(s,
                          (g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-') ? *p : '_');
    if (s->len == 0 || !g_ascii_isalnum(s->str[0]))
        g_string_prepend(s, "peer");
    return g_string_free(s, FALSE);
}

static int
auth_none(ssh_session session, const char *user, void *userdata)
{
    Session *s = userdata;

    if (g_strcmp0(user, "guest") == 0 && config_has_guest(s->config)) {
        s->authenticated = TRUE;
        s->who = g_strdup("guest");
        g_message("%s: guest logged in", s->address);
        return SSH_AUTH_SUCCESS;
    }
    return SSH_AUTH_DENIED;
}

static int
auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
            char signature_state, void *userdata)
{
    Session *s = userdata;
    g_autofree char *fp = porch_key_fingerprint(pubkey);
    const PorchPeer *peer = porch_config_lookup_peer_by_fingerprint(s->config, fp);

    if (fp == NULL)
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
        g_autoptr(GError) error = NULL;
        g_autofree char *name = peer_name_suggestion(user);
        g_autofree char *line = porch_key_public_line(pubkey, name);

        s->auth_failures++;
        g_message("%s: refused unknown key %s (as \"%s\"); recorded as a request for access",
                  s->address, fp, name);
        if (!porch_pending_record(s->state_dir, name, line, fp, s->address, &error))
            g_warning("%s: cannot record the request: %s", s->address, error->message);
        return SSH_AUTH_DENIED;
    }
    s->authenticated = TRUE;
    s->fingerprint = g_steal_pointer(&fp);
    s->who = g_strdup_printf("%s (%s) from %s", peer->name, s->fingerprint, s->address);
    g_message("%s: logged in", s->who);
    return SSH_AUTH_SUCCESS;
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

/* One command per connection, instead of SFTP: print.c says which there are. Shells, port
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
 * encrypt-then-MAC; no SHA-1 signatures, no CBC, no small DH groups. */
static gboolean
configure_bind(ssh_bind bind, ssh_key host_key)
{
    int no = 0;
    const struct {
        enum ssh_bind_options_e option;
        const char *value;
    } algorithms[] = {
            {SSH_BIND_OPTIONS_KEY_EXCHANGE, "curve25519-sha256,curve25519-sha256@libssh.org"},
            {SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "ssh-ed25519"},
            {SSH_BIND_OPTIONS_CIPHERS_C_S, PORCH_SSH_CIPHERS},
            {SSH_BIND_OPTIONS_CIPHERS_S_C, PORCH_SSH_CIPHERS},
            {SSH_BIND_OPTIONS_HMAC_C_S, PORCH_SSH_MACS},
            {SSH_BIND_OPTIONS_HMAC_S_C, PORCH_SSH_MACS},
            {SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, PORCH_SSH_PUBKEY_TYPES},
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

static int
serve(Session *s, int fd)
{
    g_autofree char *key_path = g_build_filename(s->state_dir, PORCH_HOST_KEY_FILE, NULL);
    g_autoptr(GError) error = NULL;
    ssh_bind bind = NULL;
    ssh_session session = NULL;
    ssh_event event = NULL;
    ssh_key host_key = NULL;
    struct ssh_server_callbacks_struct server_cb = {
            .userdata = s,
            .auth_none_function = auth_none,
            .auth_pubkey_function = auth_pubkey,
            .channel_open_request_session_function = channel_open,
    };
    gint64 deadline = g_get_monotonic_time() + LOGIN_GRACE_SECONDS * G_USEC_PER_SEC;
    int r = 1, one = 1, exit_status;

    host_key = porch_identity_load_or_create(key_path, &error);
    if (host_key == NULL) {
        g_warning("%s: no host key: %s", s->address, error->message);
        goto out;
    }
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
    ssh_callbacks_init(&server_cb);
    ssh_set_server_callbacks(session, &server_cb);
    /* what failure replies offer; 'none' for guest is answered by auth_none() all the same */
    ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);
    /* The whole login, key exchange included (libssh waits for it without a limit), must
     * end within the grace time: a client that connects and says nothing must not hold one
     * of the max-sessions places. */
    alarm(LOGIN_GRACE_SECONDS);
    if (ssh_handle_key_exchange(session) != SSH_OK) {
        g_message("%s: key exchange failed: %s", s->address, ssh_get_error(session));
        r = PORCH_SESSION_EXIT_AUTH;
        goto out;
    }

    event = ssh_event_new();
    ssh_event_add_session(event, session);
    while (!(s->authenticated && s->channel != NULL && (s->sftp_requested || s->command != NULL))) {
        if (g_get_monotonic_time() > deadline || s->auth_failures >= MAX_AUTH_TRIES) {
            g_message("%s: no login after %d failures or %d s; disconnecting", s->address,
                      s->auth_failures, LOGIN_GRACE_SECONDS);
            r = PORCH_SESSION_EXIT_AUTH;
            goto out;
        }
        if (ssh_event_dopoll(event, 1000) == SSH_ERROR ||
            ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
            r = s->authenticated ? 0 : PORCH_SESSION_EXIT_AUTH;
            goto out;
        }
    }
    ssh_event_remove_session(event, session);
    alarm(0);

    ssh_set_blocking(session, 1);
    if (s->command != NULL) {
        PorchPrintContext ctx = {
                .current_config = current_config,
                .user_data = s,
                .fingerprint = s->fingerprint,
                .address = s->address,
                .who = s->who,
                .eof_received = &s->eof_received,
        };
        /* the command's status goes to the client; the session itself was served */
        exit_status = porch_print_serve(session, s->channel, s->command, &ctx);
        r = 0;
    } else {
        PorchSftpContext ctx = {
                .current_config = current_config,
                .user_data = s,
                .fingerprint = s->fingerprint,
                .who = s->who,
                .state_dir = s->state_dir,
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
    for (int i = 0; i < 20 && !(ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)); i++)
        if (ssh_event_dopoll(event, 100) == SSH_ERROR)
            break;

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
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    struct sigaction sa = {.sa_handler = on_sighup};
    sigset_t blocked;
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
    s.address = address ? address : g_strdup("unknown");
    address = NULL;
    s.config = porch_config_load_file(config_file, &error);
    if (s.config == NULL) {
        g_warning("%s: %s", s.address, error->message);
        close(fd);
        return 1;
    }
    s.who = NULL;
    r = serve(&s, fd);
    porch_config_unref(s.config);
    g_free(s.fingerprint);
    g_free(s.command);
    g_free(s.who);
    g_free(s.address);
    return r;
}
