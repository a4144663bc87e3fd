/* print-relay.c — the session's side of an exec command run by porchd-print (print-relay.h). */
#define G_LOG_DOMAIN "porchd"

#include "print-relay.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "porch-channel.h"
#include "porch-print-protocol.h"
#include "porch-text.h"

/* How long a read of the channel waits before the session looks whether porchd-print has
 * answered: libssh cannot wait on our socket and its own at once. Only a client that sends
 * nothing and keeps its stdin open waits this much longer for an answer. */
#define SLICE_MS 20

static void
write_channel(ssh_channel channel, const char *data, gsize len, gboolean to_stderr)
{
    while (len > 0) {
        guint32 n = (guint32)MIN(len, 65536);
        int w = to_stderr ? ssh_channel_write_stderr(channel, data, n)
                          : ssh_channel_write(channel, data, n);
        if (w <= 0)
            return; /* the client is gone; porchd-print still gives its status */
        data += w;
        len -= (gsize)w;
    }
}

gssize
porch_print_relay_recv(int fd, char *buf, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;
    int r;

    do
        r = poll(&pfd, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    do
        n = recv(fd, buf, 1 + PORCH_PRINT_RELAY_MAX, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    return n <= 0 || n > 1 + PORCH_PRINT_RELAY_MAX ? -1 : (gssize)n;
}

gboolean
porch_print_relay_parse_command(const char *packet, gsize len, char **ret_fingerprint,
                                char **ret_command)
{
    const char *nl;
    gsize fp_len, cmd_len;

    if (len < 2 || packet[0] != PORCH_PRINT_RELAY_CMD || memchr(packet, '\0', len) != NULL ||
        (nl = memchr(packet + 1, '\n', len - 1)) == NULL)
        return FALSE;
    fp_len = (gsize)(nl - (packet + 1));
    cmd_len = len - 2 - fp_len;
    if (fp_len > PORCH_PRINT_RELAY_MAX_FINGERPRINT || cmd_len > PORCH_PRINT_MAX_COMMAND + 1)
        return FALSE;
    for (gsize i = 0; i < fp_len; i++)
        if (packet[1 + i] <= ' ' || packet[1 + i] > '~')
            return FALSE;
    *ret_fingerprint = g_strndup(packet + 1, fp_len);
    *ret_command = g_strndup(nl + 1, cmd_len);
    return TRUE;
}

/* Reads and drops what the client still sends after the session answered without
 * porchd-print's help (print-relay.h). A client hung
 * up on while it sends loses the answer (ssh: "Received disconnect", status 255). */
void
porch_print_relay_let_client_stop(ssh_channel channel)
{
    g_autofree char *buf = g_malloc(PORCH_PRINT_RELAY_MAX);
    gint64 end = g_get_monotonic_time() + PORCH_PRINT_DRAIN_MS * G_TIME_SPAN_MILLISECOND;

    while (!ssh_channel_is_eof(channel)) {
        gint64 left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;

        if (left <= 0 ||
            porch_channel_read_timeout(channel, buf, PORCH_PRINT_RELAY_MAX, 0,
                                       (int)MIN(left, PORCH_PRINT_DRAIN_QUIET_MS)) <= 0)
            return;
    }
}

/* Sends what is pending (@pending bytes at @packet) without blocking: TRUE when it went or
 * must wait for room (*@pending unchanged then), FALSE when porchd-print's end is gone. */
static gboolean
send_pending(int fd, const char *packet, gsize *pending)
{
    ssize_t n;

    do
        n = send(fd, packet, *pending, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)*pending) {
        *pending = 0;
        return TRUE;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int
porch_print_relay(ssh_channel channel, int fd, const char *fingerprint, const char *command_line,
                  const gboolean *eof_received, const char *who)
{
    /* one more byte than a packet: its end, for the exit status */
    g_autofree char *buf = g_malloc(2 + PORCH_PRINT_RELAY_MAX);
    g_autofree char *in = g_malloc(1 + PORCH_PRINT_RELAY_MAX);
    gsize fp_len = fingerprint != NULL ? strlen(fingerprint) : 0;
    gsize cmd_len = MIN(strlen(command_line), (gsize)PORCH_PRINT_MAX_COMMAND + 1);
    /* the client's stdin is still read: not at its end, nor given up */
    gboolean input_open = TRUE;
    /* a packet for porchd-print in @in that did not fit in the socket yet; the channel is
     * not read meanwhile, so the client waits on SSH's window. porchd-print may meanwhile
     * be writing its answer: both sides blocking in send() would wait for each other. */
    gsize pending;
    gboolean eof_pending = FALSE; /* that packet is 'e' */
    gboolean client_done = FALSE; /* the channel was at its end, or broke */
    int status = -1;

    /* a fingerprint is some 50 bytes: the packet always fits */
    in[0] = PORCH_PRINT_RELAY_CMD;
    memcpy(in + 1, fingerprint != NULL ? fingerprint : "", fp_len);
    in[1 + fp_len] = '\n';
    memcpy(in + 2 + fp_len, command_line, cmd_len);
    pending = 2 + fp_len + cmd_len;

    while (status < 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r;

        if (pending > 0) {
            if (!send_pending(fd, in, &pending)) {
                /* gone: what it said before is still to be read */
                shutdown(fd, SHUT_WR);
                pending = 0;
                input_open = FALSE;
            } else if (pending == 0 && eof_pending) {
                input_open = FALSE;
            }
        }
        if (input_open && pending == 0) {
            /* 0: nothing within the slice, or the end of the client's data */
            int n = porch_channel_read_timeout(channel, in + 1, PORCH_PRINT_RELAY_MAX, 0, SLICE_MS);

            if (n > 0) {
                in[0] = PORCH_PRINT_RELAY_DATA;
                pending = 1 + (gsize)n;
                continue;
            }
            if (n < 0 || ssh_channel_is_eof(channel)) {
                client_done = TRUE;
                if (n >= 0 && *eof_received) {
                    in[0] = PORCH_PRINT_RELAY_EOF;
                    pending = 1;
                    eof_pending = TRUE;
                    continue;
                }
                /* without 'e' the document did not arrive whole */
                shutdown(fd, SHUT_WR);
                input_open = FALSE;
            }
        }
        if (pending > 0)
            pfd.events |= POLLOUT;
        do
            r = poll(&pfd, 1, input_open && pending == 0 ? 0 : -1);
        while (r < 0 && errno == EINTR);
        if (r <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        for (;;) {
            /* what poll() said is waiting, then more only if it is there already */
            gssize n = porch_print_relay_recv(fd, buf, 0);

            if (n == 0)
                break;
            if (n < 0) {
                g_warning("%s: porchd-print ended without giving the command's status", who);
                status = EX_SOFTWARE;
                break;
            }
            if (buf[0] == PORCH_PRINT_RELAY_OUT || buf[0] == PORCH_PRINT_RELAY_ERR) {
                write_channel(channel, buf + 1, (gsize)n - 1, buf[0] == PORCH_PRINT_RELAY_ERR);
            } else if (buf[0] == PORCH_PRINT_RELAY_EXIT) {
                guint64 v;

                buf[n] = '\0';
                status = porch_text_to_unsigned(buf + 1, 10, 0, 255, &v, NULL) ? (int)v
                                                                               : EX_SOFTWARE;
                break;
            } else {
                g_warning("%s: porchd-print sent a packet of unknown type", who);
                status = EX_SOFTWARE;
                break;
            }
        }
    }
    close(fd);
    /* porchd-print drained the client's stdin before a refusal; not when it died */
    if (status == EX_SOFTWARE && !client_done)
        porch_print_relay_let_client_stop(channel);
    return status;
}
