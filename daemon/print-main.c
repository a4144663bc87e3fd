/* print-main.c — porchd-print: one exec command of one session (print-relay.h), started by
 * porchd's network side with the connection on PORCH_PRINT_RELAY_FD.
 *
 * The network side says who the client is (--peer NAME, or none for a guest, and --address),
 * as the session logged it in; the session says the key's fingerprint, which must be a key of
 * that very peer: a session cannot print, list or cancel as another peer than the one it
 * logged in as. The commands then run as in print-server.c, with the configuration of the
 * moment porchd-print starts, confined as a session is (Landlock: the state folder only;
 * seccomp: no new processes).
 */
#define G_LOG_DOMAIN "porchd"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sysexits.h>
#include <unistd.h>

#include "indexer.h"
#include "manager.h"
#include "offline.h"
#include "porch-config.h"
#include "porch-sandbox.h"
#include "print-relay.h"
#include "print-server.h"
#include "session.h"

/* how long porchd-print waits for the session to close its end once it gave the exit status */
#define DRAIN_AFTER_EXIT_MS 5000

typedef struct {
    PorchPrintIO io;
    int fd;
    char *packet; /* the last 'd' packet: 1 + PORCH_PRINT_RELAY_MAX bytes (main()'s) */
    gsize pos, len;
    gboolean eof;    /* 'e' came */
    gboolean broken; /* the session's end closed without 'e', or sent nonsense */
    PorchConfig *config;
} Relay;

static gssize
relay_read(PorchPrintIO *io, char *buf, gsize len, int timeout_ms, char **ret_why)
{
    Relay *r = (Relay *)io;

    while (r->pos == r->len) {
        gssize n;

        if (r->eof)
            return 0;
        if (r->broken) {
            *ret_why = g_strdup("the client went away before the end of its input");
            return -1;
        }
        n = porch_print_relay_recv(r->fd, r->packet, timeout_ms);
        if (n == 0) {
            *ret_why = g_strdup_printf("nothing arrived for %d s", timeout_ms / 1000);
            return -1;
        }
        if (n > 1 && r->packet[0] == PORCH_PRINT_RELAY_DATA) {
            r->pos = 1;
            r->len = (gsize)n;
        } else if (n == 1 && r->packet[0] == PORCH_PRINT_RELAY_EOF) {
            r->eof = TRUE;
        } else {
            if (n > 0)
                g_warning("porchd-print: a packet of unknown type from the session");
            r->broken = TRUE;
        }
    }
    len = MIN(len, r->len - r->pos);
    memcpy(buf, r->packet + r->pos, len);
    r->pos += len;
    return (gssize)len;
}

/* A packet of @type with @len bytes of @data, sent whole (the session always reads). */
static gboolean
send_packet(int fd, char type, const char *data, gsize len)
{
    struct iovec iov[2] = {{.iov_base = &type, .iov_len = 1},
                           {.iov_base = (void *)data, .iov_len = len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n;

    do
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)(1 + len);
}

static gboolean
relay_write(PorchPrintIO *io, const char *data, gsize len, gboolean to_stderr)
{
    Relay *r = (Relay *)io;

    while (len > 0) {
        gsize n = MIN(len, (gsize)PORCH_PRINT_RELAY_MAX);

        if (!send_packet(r->fd, to_stderr ? PORCH_PRINT_RELAY_ERR : PORCH_PRINT_RELAY_OUT, data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

static PorchConfig *
current_config(void *user_data)
{
    return ((Relay *)user_data)->config;
}

/* Landlock: the state folder, read-only but for the content index's shared memory (search
 * reads the index, and SQLite's readers write there); seccomp: what a session may do.
 * libcups reads nothing it needs elsewhere: cupsd's socket is connected to, not opened
 * (Landlock does not restrict that), as sessions did. */
static gboolean
confine(const char *state_dir, GError **error)
{
    static const char *const writable[] = {PORCH_INDEX_FILE "-shm", NULL};
    gboolean landlocked = FALSE;

    return porch_sandbox_confine_to_state(state_dir, writable, &landlocked, error);
}

int
main(int argc, char **argv)
{
    g_autofree char *config_file = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *address = NULL;
    g_autofree char *peer = NULL;
    g_autofree char *default_name = NULL;
    g_autofree char *who = NULL;
    GOptionEntry entries[] = {
            {"config", 0, 0, G_OPTION_ARG_FILENAME, &config_file, "The running configuration",
             "FILE"},
            {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "porchd's state directory",
             "DIR"},
            {"address", 0, 0, G_OPTION_ARG_STRING, &address, "The client's address", "ADDR"},
            {"peer", 0, 0, G_OPTION_ARG_STRING, &peer,
             "The [peer] the client logged in as (none: a guest)", "NAME"},
            {"default-name", 0, 0, G_OPTION_ARG_STRING, &default_name,
             "The display name when the configuration sets none", "NAME"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    Relay r = {.io = {.read = relay_read, .write = relay_write}, .fd = PORCH_PRINT_RELAY_FD};
    g_autoptr(PorchConfig) config = NULL;
    g_autofree char *packet = g_malloc(2 + PORCH_PRINT_RELAY_MAX);
    g_autofree char *fingerprint = NULL;
    g_autofree char *command = NULL;
    const PorchPeer *owner = NULL;
    char status[16];
    gssize n;
    int exit_status;
    struct stat st;

    g_option_context_set_summary(ctx, "Runs one exec command of a porchd session (on fd 3). "
                                      "Not for running by hand.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || config_file == NULL ||
        state_dir == NULL || address == NULL) {
        fprintf(stderr, "porchd-print: %s\n",
                error ? error->message : "--config, --state-dir and --address are required");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (fstat(r.fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        g_warning("porchd-print: no connection on fd %d (porchd starts this program)", r.fd);
        return 1;
    }
    r.config = config = porch_config_load_snapshot(config_file, &error);
    if (config == NULL) {
        g_warning("%s: %s", address, error->message);
        return 1;
    }
    porch_offline_read(r.config, state_dir);
    if (!confine(state_dir, &error)) {
        g_warning("%s: porchd-print cannot confine itself: %s", address, error->message);
        return 1;
    }

    /* the session's first packet: who, and the command */
    r.packet = packet;
    n = porch_print_relay_recv(r.fd, r.packet, PORCH_CONTROL_TIMEOUT_MS);
    if (n <= 0 || !porch_print_relay_parse_command(r.packet, (gsize)n, &fingerprint, &command)) {
        g_warning("%s: porchd-print: no command from the session", address);
        return 1;
    }
    if (*fingerprint != '\0')
        owner = porch_config_lookup_peer_by_fingerprint(r.config, fingerprint);
    /* the key must be the logged-in peer's (a reload may have removed it since: the ACL then
     * refuses it), and a guest has none */
    if ((peer == NULL) != (*fingerprint == '\0') ||
        (owner != NULL && strcmp(owner->name, peer) != 0)) {
        g_warning("%s: porchd-print: the session named a key that is not its peer's; refused",
                  address);
        return 1;
    }
    who = peer != NULL ? g_strdup_printf("%s (%s) from %s", peer, fingerprint, address)
                       : g_strdup_printf("guest from %s", address);
    {
        PorchPrintServerContext sctx = {
                .current_config = current_config,
                .user_data = &r,
                .fingerprint = *fingerprint != '\0' ? fingerprint : NULL,
                .address = address,
                .who = who,
                .default_name = default_name,
                .state_dir = state_dir,
        };
        exit_status = porch_print_server_serve(&r.io, command, &sctx);
    }
    g_snprintf(status, sizeof status, "%d", exit_status);
    send_packet(r.fd, PORCH_PRINT_RELAY_EXIT, status, strlen(status));
    /* Until the session has read that and closed its end, what it still sends is read and
     * dropped: closing a socket with packets unread resets the other end, whose recv() then
     * fails at once, before the packets waiting for it (Linux), and the answer was lost. */
    for (gint64 end = g_get_monotonic_time() + DRAIN_AFTER_EXIT_MS * G_TIME_SPAN_MILLISECOND;;) {
        gint64 left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;

        if (left <= 0 || porch_print_relay_recv(r.fd, packet, (int)left) <= 0)
            break;
    }
    return 0;
}
