/* send-server.c — files sent to an inbox (send-server.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "send-server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "porch-channel.h"
#include "porch-hash.h"
#include "porch-jail.h"
#include "porch-send.h"
#include "porch-text.h"
#include "session.h"

#define CHUNK_SIZE (256 * 1024)
/* How long the sender may take to send its manifest, and to send data at all. */
#define MANIFEST_TIMEOUT_MS 30000
#define DATA_TIMEOUT_MS     120000
/* How long a send that failed while its client still sends reads and drops what comes (drain()). */
#define DRAIN_MS 10000
/* How often the session looks at the channel while the owner is asked. */
#define WAIT_POLL_MS 250
/* Names tried for a clash: "name (2).ext" to "name (999).ext". */
#define MAX_CLASH 999
/* How long the hidden file of an interrupted send is kept for its resumption; older ones are
 * removed by the next send into the inbox. */
#define TEMP_KEEP_SECONDS (7 * 24 * 3600)
/* Entries of the inbox folder looked at for them, at most. */
#define TEMP_SCAN_MAX 100000

typedef struct {
    ssh_channel channel;
    const PorchSendServerContext *ctx;
    GArray *files;
    char *key;
    char *inbox;
} Send;

static gboolean
write_all(ssh_channel channel, const char *data, gsize len, gboolean to_stderr)
{
    while (len > 0) {
        guint32 n = (guint32)MIN(len, 65536);
        int w = to_stderr ? ssh_channel_write_stderr(channel, data, n)
                          : ssh_channel_write(channel, data, n);
        if (w <= 0)
            return FALSE;
        data += w;
        len -= (gsize)w;
    }
    return TRUE;
}

static gboolean
say(Send *x, const char *line)
{
    g_autofree char *l = g_strconcat(line, "\n", NULL);

    return write_all(x->channel, l, strlen(l), FALSE);
}

G_GNUC_PRINTF(3, 4)
static int
fail(Send *x, int status, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strconcat(msg, "\n", NULL);
    write_all(x->channel, line, strlen(line), TRUE);
    return status;
}

/* After a failure while the client still sends data: reads and drops what comes until the
 * client, having seen porchd's message on stderr, sends EOF, for at most DRAIN_MS. Closing the
 * channel at once would leave the client waiting in libssh for a window that never opens, and
 * when the connection then goes, libssh loses the exit status and the message with it. */
static void
drain(Send *x, char *buf)
{
    gint64 until = g_get_monotonic_time() + (gint64)DRAIN_MS * 1000;

    while (g_get_monotonic_time() < until && !*x->ctx->eof_received &&
           !ssh_channel_is_eof(x->channel))
        if (porch_channel_read_timeout(x->channel, buf, CHUNK_SIZE, 0, WAIT_POLL_MS) < 0)
            break;
}

/* Reads the manifest: up to a line "end" that the data ends with. */
static GString *
read_manifest(Send *x)
{
    g_autoptr(GString) m = g_string_new("");
    char buf[4096];

    for (;;) {
        int n = porch_channel_read_timeout(x->channel, buf, sizeof buf, 0, MANIFEST_TIMEOUT_MS);

        if (n <= 0)
            return NULL;
        g_string_append_len(m, buf, n);
        if (m->len > PORCH_SEND_MAX_MANIFEST)
            return NULL;
        if (m->len >= 5 && memcmp(m->str + m->len - 5, "\nend\n", 5) == 0)
            return g_steal_pointer(&m);
    }
}

/* The next message from porchd on the control socket, waiting at most @ms (-1: forever);
 * NULL when none came. */
static char *
control_recv(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char buf[PORCH_CONTROL_MAX + 1];
    ssize_t n;
    int r;

    do
        r = poll(&pfd, 1, ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return NULL;
    n = recv(fd, buf, PORCH_CONTROL_MAX, MSG_DONTWAIT);
    if (n <= 0)
        return NULL;
    return g_strndup(buf, (gsize)n);
}

static gboolean
control_send(int fd, const char *text)
{
    return strlen(text) <= PORCH_CONTROL_MAX &&
           send(fd, text, strlen(text), MSG_NOSIGNAL) == (ssize_t)strlen(text);
}

/* "refused N TEXT" as the exit status N, with TEXT for the client. */
static int
refused(Send *x, const char *answer)
{
    const char *rest = answer + strlen(PORCH_CONTROL_REFUSED);
    guint64 status = PORCH_SEND_EXIT_REFUSED;
    g_autofree char *code = g_strndup(rest, strcspn(rest, " "));
    const char *text = rest + strlen(code);
    g_autofree char *shown = NULL;

    if (!porch_text_to_unsigned(code, 10, 1, 255, &status, NULL))
        status = PORCH_SEND_EXIT_REFUSED;
    shown = porch_text_show(text[0] == ' ' ? text + 1 : text, -1, 256, PORCH_TEXT_ONE_LINE);
    return fail(x, (int)status, "%s", shown);
}

/* Makes the offer and waits for its verdict. EX_OK when accepted (x->inbox set), else the
 * exit status. */
static int
offer(Send *x, const char *inbox_asked, guint64 total)
{
    const PorchSendServerContext *ctx = x->ctx;
    g_autofree char *msg = NULL;
    g_autofree char *answer = NULL;

    for (guint i = 0; i < x->files->len && i < 16; i++) {
        g_autofree char *clean =
                porch_send_sanitise_name(g_array_index(x->files, PorchSendFile, i).name);
        /* cut on a character so that, escaped (3 bytes at most for each), it fits a message:
         * porchd takes only whole UTF-8 */
        g_autofree char *cut = porch_text_show(
                clean, -1, (PORCH_CONTROL_MAX - strlen(PORCH_CONTROL_OFFER_NAME)) / 3,
                PORCH_TEXT_ONE_LINE);
        g_autofree char *esc = g_uri_escape_string(cut, NULL, FALSE);
        g_autofree char *m = g_strconcat(PORCH_CONTROL_OFFER_NAME, esc, NULL);

        if (!control_send(ctx->control, m))
            return fail(x, PORCH_SEND_EXIT_IO, "porchd cannot take the offer now");
    }
    msg = g_strdup_printf(PORCH_CONTROL_OFFER "%s %u %" G_GUINT64_FORMAT "%s%s", x->key,
                          x->files->len, total, inbox_asked != NULL ? " " : "",
                          inbox_asked != NULL ? inbox_asked : "");
    if (!control_send(ctx->control, msg))
        return fail(x, PORCH_SEND_EXIT_IO, "porchd cannot take the offer now");
    answer = control_recv(ctx->control, PORCH_CONTROL_TIMEOUT_MS * 4);
    if (answer == NULL)
        return fail(x, PORCH_SEND_EXIT_IO, "porchd did not answer the offer");
    if (g_str_has_prefix(answer, PORCH_CONTROL_OFFER_WAIT)) {
        g_auto(GStrv) f = g_strsplit(answer + strlen(PORCH_CONTROL_OFFER_WAIT), " ", 3);
        g_autofree char *owner = NULL;
        g_autofree char *line = NULL;

        if (g_strv_length(f) != 3)
            return fail(x, PORCH_SEND_EXIT_IO, "porchd's answer did not parse");
        owner = g_uri_escape_string(f[1], NULL, FALSE);
        line = g_strconcat("wait ", owner, NULL);
        g_message("%s: offer %s to the inbox %s waits for %s", ctx->who, f[0], f[2], f[1]);
        if (!say(x, line)) {
            control_send(ctx->control, PORCH_CONTROL_OFFER_WITHDRAW);
            return PORCH_SEND_EXIT_IO;
        }
        g_clear_pointer(&answer, g_free);
        while (answer == NULL) {
            int r;

            answer = control_recv(ctx->control, WAIT_POLL_MS);
            if (answer != NULL)
                break;
            /* the sender went away (Ctrl-C): the offer is withdrawn */
            r = ssh_channel_poll_timeout(x->channel, 0, 0);
            if (r == SSH_ERROR || r == SSH_EOF || !ssh_channel_is_open(x->channel) ||
                ssh_channel_is_eof(x->channel)) {
                control_send(ctx->control, PORCH_CONTROL_OFFER_WITHDRAW);
                g_message("%s: the sender withdrew its offer", ctx->who);
                return PORCH_SEND_EXIT_IO;
            }
        }
    }
    if (g_str_has_prefix(answer, PORCH_CONTROL_OFFER_ACCEPTED)) {
        x->inbox = g_strdup(answer + strlen(PORCH_CONTROL_OFFER_ACCEPTED));
        return PORCH_SEND_EXIT_DELIVERED;
    }
    if (g_str_has_prefix(answer, PORCH_CONTROL_REFUSED))
        return refused(x, answer);
    return fail(x, PORCH_SEND_EXIT_IO, "porchd's answer did not parse");
}

/* Hashes the first @len bytes of @fd into @h. */
static gboolean
hash_prefix(int fd, guint64 len, PorchSha256 *h, char *buf)
{
    guint64 at = 0;

    while (at < len) {
        gssize n = pread(fd, buf, (gsize)MIN((guint64)CHUNK_SIZE, len - at), (off_t)at);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        porch_sha256_update(h, buf, (gsize)n);
        at += (guint64)n;
    }
    return TRUE;
}

/* Renames @temp to @name, or "name (N).ext" when that is taken. The name it got, or NULL
 * (errno-like code in *@ret_err). */
static char *
give_name(PorchFiles *files, const char *temp, const char *name, int *ret_err)
{
    for (guint n = 1; n <= MAX_CLASH; n++) {
        g_autofree char *candidate = n == 1 ? g_strdup(name) : porch_send_clash_name(name, n);
        int r = porch_files_rename(files, temp, candidate, FALSE);

        if (r == 0)
            return g_steal_pointer(&candidate);
        if (r != -EEXIST) {
            *ret_err = -r;
            return NULL;
        }
    }
    *ret_err = EEXIST;
    return NULL;
}

/* Receives file @i from @offset on. EX_OK, or the exit status (told the client). */
static int
receive_file(Send *x, PorchFiles *files, guint i, guint64 offset, char *buf)
{
    const PorchSendFile *f = &g_array_index(x->files, PorchSendFile, i);
    g_autofree char *temp = porch_send_temp_name(x->key, i);
    g_autofree char *clean = porch_send_sanitise_name(f->name);
    g_autofree char *got = NULL;
    g_autofree char *esc = NULL;
    g_autofree char *line = NULL;
    g_autoptr(PorchSha256) h = porch_sha256_new();
    guint8 digest[PORCH_SHA256_LEN];
    guint64 at = offset;
    int fd, err = 0;

    fd = porch_files_open(files, temp, O_RDWR | O_CREAT, 0600, PORCH_JAIL_NOFOLLOW);
    if (fd < 0)
        return fail(x, PORCH_SEND_EXIT_IO, "cannot write in the inbox: %s", g_strerror(-fd));
    if (!hash_prefix(fd, offset, h, buf)) {
        close(fd);
        return fail(x, PORCH_SEND_EXIT_IO, "cannot read what arrived before");
    }
    while (at < f->size) {
        int n = porch_channel_read_timeout(x->channel, buf,
                                           (guint32)MIN((guint64)CHUNK_SIZE, f->size - at), 0,
                                           DATA_TIMEOUT_MS);
        gsize done = 0;

        if (n <= 0) {
            close(fd);
            g_message("%s: %s: the data stopped after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                      " bytes; kept for a resumed send",
                      x->ctx->who, clean, at, f->size);
            return fail(x, PORCH_SEND_EXIT_IO, "the data did not arrive whole");
        }
        while (done < (gsize)n) {
            gssize w = pwrite(fd, buf + done, (gsize)n - done, (off_t)(at + done));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                int e = errno;
                close(fd);
                return fail(x, PORCH_SEND_EXIT_IO, "cannot write %s in the inbox: %s", clean,
                            g_strerror(e));
            }
            done += (gsize)w;
        }
        porch_sha256_update(h, buf, (gsize)n);
        at += (guint64)n;
    }
    porch_sha256_finish(h, digest);
    if (memcmp(digest, f->sha256, PORCH_SHA256_LEN) != 0) {
        close(fd);
        porch_files_remove(files, temp);
        g_message("%s: %s: SHA-256 mismatch, discarded", x->ctx->who, clean);
        return fail(x, PORCH_SEND_EXIT_DATA,
                    "%s did not arrive as it was sent (SHA-256): discarded", clean);
    }
    if (ftruncate(fd, (off_t)f->size) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return fail(x, PORCH_SEND_EXIT_IO, "cannot write %s in the inbox: %s", clean,
                    g_strerror(e));
    }
    close(fd);
    got = give_name(files, temp, clean, &err);
    if (got == NULL)
        return fail(x, PORCH_SEND_EXIT_IO, "cannot name %s in the inbox: %s", clean,
                    g_strerror(err));
    {
        g_autofree char *shown = porch_text_show(got, -1, 1024, PORCH_TEXT_ESCAPE);
        g_message("%s sent %s to the inbox %s (%" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                  " this time)",
                  x->ctx->who, shown, x->inbox, f->size, f->size - offset);
    }
    esc = g_uri_escape_string(got, NULL, FALSE);
    line = g_strdup_printf("done %u %s", i, esc);
    say(x, line);
    return PORCH_SEND_EXIT_DELIVERED;
}

/* Removes the hidden files of sends interrupted more than TEMP_KEEP_SECONDS ago (not this
 * offer's) from the inbox's folder. */
static void
remove_stale_temps(Send *x, PorchFiles *files)
{
    g_autofree char *mine = porch_send_temp_name(x->key, 0);
    g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
    GArray *entries = g_array_new(FALSE, FALSE, sizeof(PorchFilesEntry));
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gsize mine_len = strlen(mine) - 1; /* the prefix up to the file's index */
    guint seen = 0;
    guint32 id;
    int n;

    if (porch_files_opendir(files, "", &id) < 0) {
        g_array_unref(entries);
        return;
    }
    while (seen < TEMP_SCAN_MAX && (n = porch_files_readdir(files, id, entries)) > 0) {
        for (guint i = 0; i < entries->len; i++) {
            const PorchFilesEntry *e = &g_array_index(entries, PorchFilesEntry, i);

            if (g_str_has_prefix(e->name, PORCH_SEND_TEMP_PREFIX) && S_ISREG(e->st.st_mode) &&
                strncmp(e->name, mine, mine_len) != 0 &&
                now - (gint64)e->st.st_mtime > TEMP_KEEP_SECONDS)
                g_ptr_array_add(stale, g_strdup(e->name));
        }
        seen += entries->len;
        porch_files_entries_clear(entries);
    }
    porch_files_closedir(files, id);
    g_array_unref(entries);
    for (guint i = 0; i < stale->len; i++)
        if (porch_files_remove(files, stale->pdata[i]) == 0)
            g_message("inbox %s: removed %s, left by a send interrupted more than %d days ago",
                      x->inbox, (const char *)stale->pdata[i], TEMP_KEEP_SECONDS / 86400);
}

int
porch_send_server_serve(ssh_session session, ssh_channel channel, const char *command_line,
                        const PorchSendServerContext *ctx)
{
    Send x = {.channel = channel, .ctx = ctx};
    g_autoptr(GString) manifest = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchFiles) files = NULL;
    g_autofree char *sender = NULL;
    g_autofree char *buf = NULL;
    g_autofree guint64 *offsets = NULL;
    const char *inbox_asked = NULL;
    PorchConfig *config;
    const PorchShare *inbox;
    guint64 total = 0;
    int status;

    if (strcmp(command_line, PORCH_SEND_COMMAND) == 0) {
        inbox_asked = NULL;
    } else if (g_str_has_prefix(command_line, PORCH_SEND_COMMAND " ") &&
               strlen(command_line) <= strlen(PORCH_SEND_COMMAND " ") + PORCH_NAME_MAX &&
               g_utf8_validate(command_line, -1, NULL) &&
               command_line[strlen(PORCH_SEND_COMMAND " ")] != '\0') {
        inbox_asked = command_line + strlen(PORCH_SEND_COMMAND " ");
        for (const char *p = inbox_asked; *p != '\0'; p++)
            if (g_ascii_iscntrl(*p))
                return fail(&x, PORCH_SEND_EXIT_USAGE, "usage: send [INBOX]");
    } else {
        return fail(&x, PORCH_SEND_EXIT_USAGE, "usage: send [INBOX]");
    }
    manifest = read_manifest(&x);
    if (manifest == NULL)
        return fail(&x, PORCH_SEND_EXIT_USAGE, "no whole manifest arrived");
    x.files = porch_send_manifest_parse(manifest->str, manifest->len, &error);
    if (x.files == NULL)
        return fail(&x, PORCH_SEND_EXIT_USAGE, "%s", error->message);
    for (guint i = 0; i < x.files->len; i++)
        total += g_array_index(x.files, PorchSendFile, i).size;

    config = ctx->current_config(ctx->user_data);
    inbox = inbox_asked != NULL ? porch_config_find_share(config, inbox_asked)
                                : porch_config_get_default_inbox(config);
    if (inbox == NULL || !inbox->inbox) {
        status = fail(&x, PORCH_SEND_EXIT_NO_INBOX,
                      inbox_asked != NULL ? "there is no such inbox"
                                          : "this host has no default inbox: name one");
        goto out;
    }
    sender = ctx->peer != NULL ? g_strdup(ctx->peer) : g_strconcat("guest+", ctx->address, NULL);
    x.key = porch_send_offer_key(sender, inbox->name, x.files);
    status = offer(&x, inbox->name, total);
    if (status != PORCH_SEND_EXIT_DELIVERED)
        goto out;
    /* the snapshot may have changed while the owner was asked */
    config = ctx->current_config(ctx->user_data);
    inbox = porch_config_find_share(config, x.inbox);
    if (inbox == NULL || !inbox->inbox) {
        status = fail(&x, PORCH_SEND_EXIT_NO_INBOX, "the inbox is gone");
        goto out;
    }
    files = ctx->files_for(ctx->user_data, inbox, &error);
    if (files == NULL) {
        g_message("%s: %s", ctx->who, error->message);
        status = fail(&x, PORCH_SEND_EXIT_IO, "the inbox cannot be opened now");
        goto out;
    }
    remove_stale_temps(&x, files);
    if (!say(&x, "accepted")) {
        status = PORCH_SEND_EXIT_IO;
        goto out;
    }
    offsets = g_new0(guint64, x.files->len);
    for (guint i = 0; i < x.files->len; i++) {
        g_autofree char *temp = porch_send_temp_name(x.key, i);
        g_autofree char *line = NULL;
        struct stat st;
        guint64 size = g_array_index(x.files, PorchSendFile, i).size;

        if (porch_files_stat(files, temp, &st, PORCH_JAIL_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (guint64)st.st_size <= size)
            offsets[i] = (guint64)st.st_size;
        line = g_strdup_printf("have %u %" G_GUINT64_FORMAT, i, offsets[i]);
        if (!say(&x, line)) {
            status = PORCH_SEND_EXIT_IO;
            goto out;
        }
    }
    if (!say(&x, "go")) {
        status = PORCH_SEND_EXIT_IO;
        goto out;
    }
    buf = g_malloc(CHUNK_SIZE);
    status = PORCH_SEND_EXIT_DELIVERED;
    for (guint i = 0; i < x.files->len && status == PORCH_SEND_EXIT_DELIVERED; i++)
        status = receive_file(&x, files, i, offsets[i], buf);
    if (status == PORCH_SEND_EXIT_DELIVERED)
        g_message("%s delivered %u file(s), %" G_GUINT64_FORMAT " bytes, to the inbox %s", ctx->who,
                  x.files->len, total, x.inbox);
    else
        drain(&x, buf);
out:
    if (x.files != NULL)
        g_array_unref(x.files);
    g_free(x.key);
    g_free(x.inbox);
    return status;
}
