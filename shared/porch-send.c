/* porch-send.c — the "send" command's manifest, names and client (porch-send.h).
 *
 * The client runs the exchange on one exec channel as porch-print-client.c runs a print:
 * every wait is in READ_POLL_MS steps that check @cancellable, so that Ctrl-C withdraws an
 * offer the owner has not answered yet (the channel goes, porchd sees it and withdraws it). */
#include "porch-send.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "porch-channel.h"
#include "porch-sandbox.h"
#include "porch-sftp-client-private.h"
#include "porch-text.h"

#define READ_POLL_MS 200
#define CHUNK_SIZE   (64 * 1024)
/* What the client keeps of porchd's stderr, and of one stdout line. */
#define MAX_STDERR 4096

static void
file_clear(void *data)
{
    g_free(((PorchSendFile *)data)->name);
}

GArray *
porch_send_files_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(PorchSendFile));

    g_array_set_clear_func(a, file_clear);
    return a;
}

static void
files_free(GArray *files)
{
    g_array_unref(files);
}

char *
porch_send_manifest_format(GArray *files)
{
    GString *s = g_string_new(PORCH_SEND_MAGIC "\n");

    for (guint i = 0; i < files->len; i++) {
        const PorchSendFile *f = &g_array_index(files, PorchSendFile, i);
        g_autofree char *name = g_uri_escape_string(f->name, NULL, FALSE);
        char hex[PORCH_SHA256_HEX_LEN + 1];

        porch_sha256_to_hex(f->sha256, hex);
        g_string_append_printf(s, "file %" G_GUINT64_FORMAT " %s %s\n", f->size, hex, name);
    }
    g_string_append(s, "end\n");
    return g_string_free(s, FALSE);
}

static gboolean
bad(GError **error, guint line, const char *what)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "manifest line %u: %s", line, what);
    return FALSE;
}

/* One "file SIZE SHA256 NAME" line (without its end) into @f. */
static gboolean
parse_file_line(const char *line, guint n, PorchSendFile *f, GError **error)
{
    g_auto(GStrv) w = NULL;
    g_autofree char *name = NULL;

    if (!g_str_has_prefix(line, "file "))
        return bad(error, n, "expected a file line or end");
    w = g_strsplit(line + strlen("file "), " ", 3);
    if (g_strv_length(w) != 3)
        return bad(error, n, "a file line is: file SIZE SHA256 NAME");
    if (!porch_text_to_unsigned(w[0], 10, 0, G_MAXINT64, &f->size, NULL))
        return bad(error, n, "not a size");
    if (!porch_sha256_from_hex(w[1], f->sha256))
        return bad(error, n, "not a SHA-256 in lower-case hex");
    name = g_uri_unescape_string(w[2], NULL);
    if (name == NULL || name[0] == '\0' || strlen(name) > PORCH_SEND_NAME_MAX ||
        !g_utf8_validate(name, -1, NULL))
        return bad(error, n, "not a name (1 to 255 bytes of UTF-8, percent-encoded)");
    f->name = g_steal_pointer(&name);
    return TRUE;
}

GArray *
porch_send_manifest_parse(const char *data, gsize len, GError **error)
{
    GArray *files = porch_send_files_new();
    gsize at = 0;
    guint n = 0;
    guint64 total = 0;
    gboolean ended = FALSE;

    while (at < len) {
        const char *end = memchr(data + at, '\n', len - at);
        g_autofree char *line = NULL;
        gsize l;

        n++;
        if (end == NULL) {
            bad(error, n, "a line without its end");
            goto fail;
        }
        l = (gsize)(end - (data + at));
        if (l > PORCH_SEND_MAX_LINE || memchr(data + at, '\0', l) != NULL) {
            bad(error, n, "too long, or holds a NUL");
            goto fail;
        }
        line = g_strndup(data + at, l);
        at += l + 1;
        if (ended) {
            bad(error, n, "text after end");
            goto fail;
        }
        if (n == 1) {
            if (strcmp(line, PORCH_SEND_MAGIC) != 0) {
                bad(error, n, "not a porch-send 1 manifest");
                goto fail;
            }
            continue;
        }
        if (strcmp(line, "end") == 0) {
            ended = TRUE;
            continue;
        }
        if (files->len >= PORCH_SEND_MAX_FILES) {
            bad(error, n, "more than 10000 files");
            goto fail;
        }
        {
            PorchSendFile f = {0};

            if (!parse_file_line(line, n, &f, error))
                goto fail;
            if (f.size > G_MAXINT64 - total) {
                g_free(f.name);
                bad(error, n, "the sizes add up to more than a file system holds");
                goto fail;
            }
            total += f.size;
            g_array_append_val(files, f);
        }
    }
    if (!ended || files->len == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    ended ? "the manifest names no file" : "the manifest has no end line");
        goto fail;
    }
    return files;
fail:
    files_free(files);
    return NULL;
}

char *
porch_send_sanitise_name(const char *name)
{
    const char *base = name;
    g_autoptr(GString) s = g_string_new("");
    const char *p;
    gsize start = 0;

    for (p = name; *p != '\0'; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    for (p = base; *p != '\0';) {
        gunichar c = g_utf8_get_char_validated(p, -1);

        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_c(s, '_');
            p++;
            continue;
        }
        if (porch_text_unsafe_char(c))
            g_string_append_c(s, '_');
        else
            g_string_append_unichar(s, c);
        p = g_utf8_next_char(p);
    }
    while (start < s->len && (s->str[start] == '.' || s->str[start] == ' '))
        start++;
    g_string_erase(s, 0, (gssize)start);
    /* cut first, so that what is left never ends in a dot or a space */
    if (s->len > PORCH_SEND_NAME_MAX) {
        const char *cut = g_utf8_find_prev_char(s->str, s->str + PORCH_SEND_NAME_MAX + 1);

        g_string_truncate(s, cut != NULL ? (gsize)(cut - s->str) : PORCH_SEND_NAME_MAX);
    }
    while (s->len > 0 && (s->str[s->len - 1] == ' ' || s->str[s->len - 1] == '.'))
        g_string_truncate(s, s->len - 1);
    if (s->len == 0)
        return g_strdup("file");
    return g_string_free(g_steal_pointer(&s), FALSE);
}

char *
porch_send_clash_name(const char *name, guint n)
{
    const char *dot = strrchr(name, '.');
    g_autofree char *suffix = g_strdup_printf(" (%u)", n);
    const char *ext = dot != NULL && dot != name ? dot : "";
    gsize stem = (gsize)(ext[0] != '\0' ? dot - name : (gssize)strlen(name));
    gsize room = PORCH_SEND_NAME_MAX - strlen(suffix);

    if (strlen(ext) > room / 2)
        ext = "";
    if (ext[0] == '\0')
        stem = strlen(name);
    if (stem + strlen(ext) > room) {
        const char *cut = g_utf8_find_prev_char(name, name + (room - strlen(ext)) + 1);
        stem = cut != NULL ? (gsize)(cut - name) : 0;
    }
    return g_strdup_printf("%.*s%s%s", (int)stem, name, suffix, ext);
}

char *
porch_send_offer_key(const char *sender, const char *inbox, GArray *files)
{
    g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);

    g_checksum_update(c, (const guchar *)sender, (gssize)strlen(sender) + 1);
    g_checksum_update(c, (const guchar *)inbox, (gssize)strlen(inbox) + 1);
    for (guint i = 0; i < files->len; i++) {
        const PorchSendFile *f = &g_array_index(files, PorchSendFile, i);
        guint64 size = GUINT64_TO_BE(f->size);

        g_checksum_update(c, (const guchar *)f->name, (gssize)strlen(f->name) + 1);
        g_checksum_update(c, (const guchar *)&size, sizeof size);
        g_checksum_update(c, f->sha256, PORCH_SHA256_LEN);
    }
    return g_strdup(g_checksum_get_string(c));
}

char *
porch_send_temp_name(const char *key, guint index)
{
    return g_strdup_printf(PORCH_SEND_TEMP_PREFIX "%.32s-%u", key, index);
}

/* ---- the client ---------------------------------------------------------------------- */

typedef struct {
    PorchClient *c;
    ssh_channel chan;
    GCancellable *cancellable;
    GString *line; /* stdout, up to its next line end */
    GString *err;
    PorchSendFunc func;
    gpointer user_data;
    gboolean ended; /* porchd ended the command while data was still being sent */
} Exchange;

static gboolean
lost(PorchClient *c)
{
    return (ssh_get_status(c->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0 ||
           !ssh_is_connected(c->ssh);
}

static void
drain_stderr(Exchange *x)
{
    char buf[1024];
    int n;

    while ((n = ssh_channel_read_nonblocking(x->chan, buf, sizeof buf, 1)) > 0)
        if (x->err->len < MAX_STDERR)
            g_string_append_len(x->err, buf, MIN((gsize)n, MAX_STDERR - x->err->len));
}

/* The next line of porchd's stdout, without its end; NULL at porchd's EOF (*@ret_eof) or with
 * @error. Waits at most @timeout_s without a byte (0: as long as it takes, for the owner's
 * answer: porchd ends the wait itself). */
static char *
read_line(Exchange *x, int timeout_s, gboolean *ret_eof, GError **error)
{
    if (x->func != NULL)
        x->func(PORCH_SEND_STAGE_TICK, NULL, 0, 0, x->user_data);
    gint64 last = g_get_monotonic_time();

    *ret_eof = FALSE;
    for (;;) {
        const char *nl = memchr(x->line->str, '\n', x->line->len);
        char buf[512];
        int n;

        if (nl != NULL) {
            gsize l = (gsize)(nl - x->line->str);
            char *line = g_strndup(x->line->str, l);

            g_string_erase(x->line, 0, (gssize)l + 1);
            return line;
        }
        if (x->line->len > PORCH_SEND_MAX_LINE) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "the neighbour's reply has a line longer than %d bytes",
                        PORCH_SEND_MAX_LINE);
            return NULL;
        }
        if (x->func != NULL)
            x->func(PORCH_SEND_STAGE_TICK, NULL, 0, 0, x->user_data);
        if (g_cancellable_set_error_if_cancelled(x->cancellable, error))
            return NULL;
        n = porch_channel_read_timeout(x->chan, buf, sizeof buf, 0, READ_POLL_MS);
        drain_stderr(x);
        if (n > 0) {
            g_string_append_len(x->line, buf, n);
            last = g_get_monotonic_time();
            continue;
        }
        if (n < 0 || ssh_channel_is_eof(x->chan) || ssh_channel_is_closed(x->chan)) {
            if (n < 0 && lost(x->c)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection lost: %s",
                            ssh_get_error(x->c->ssh));
                return NULL;
            }
            *ret_eof = TRUE;
            return NULL;
        }
        if (timeout_s > 0 && g_get_monotonic_time() - last > (gint64)timeout_s * G_USEC_PER_SEC) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no reply from the neighbour for %d s", timeout_s);
            return NULL;
        }
    }
}

static gboolean
write_all(Exchange *x, const void *data, gsize len, GError **error)
{
    const char *p = data;

    while (len > 0) {
        int n;

        if (g_cancellable_set_error_if_cancelled(x->cancellable, error))
            return FALSE;
        n = ssh_channel_write(x->chan, p, (guint32)MIN(len, CHUNK_SIZE));
        if (n < 0) {
            /* porchd closed the channel (it failed a file, or ran out of room): its status
             * and message are there to be read, unless the connection itself is gone. libssh
             * says "Remote channel is closed" with SSH_REQUEST_DENIED, and keeps the channel
             * open (a delayed close) while what porchd sent is unread. */
            x->ended = !lost(x->c) && ssh_get_error_code(x->c->ssh) == SSH_REQUEST_DENIED;
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "the neighbour stopped taking data: %s", ssh_get_error(x->c->ssh));
            return FALSE;
        }
        p += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Handles a "done INDEX NAME" line. */
static gboolean
file_done(const char *line, GArray *files, PorchSendFunc func, gpointer user_data, guint64 done,
          guint64 total)
{
    g_auto(GStrv) w = g_strsplit(line + strlen("done "), " ", 2);
    guint64 index = 0;
    g_autofree char *name = NULL;
    g_autofree char *shown = NULL;

    if (g_strv_length(w) != 2 ||
        !porch_text_to_unsigned(w[0], 10, 0, files->len - 1, &index, NULL) ||
        (name = g_uri_unescape_string(w[1], NULL)) == NULL)
        return FALSE;
    shown = porch_text_show(name, -1, 1024, PORCH_TEXT_ONE_LINE);
    if (func != NULL)
        func(PORCH_SEND_STAGE_FILE_DONE, shown, done, total, user_data);
    return TRUE;
}

int
porch_client_send_files(PorchClient *client, const char *inbox, GArray *files, const int *fds,
                        PorchSendFunc func, gpointer user_data, char **ret_message,
                        GCancellable *cancellable, GError **error)
{
    Exchange x = {.c = client, .cancellable = cancellable, .func = func, .user_data = user_data};
    g_autoptr(GString) line_buf = g_string_new("");
    g_autoptr(GString) err_buf = g_string_new("");
    g_autofree char *command = inbox != NULL ? g_strdup_printf(PORCH_SEND_COMMAND " %s", inbox)
                                             : g_strdup(PORCH_SEND_COMMAND);
    g_autofree char *manifest = porch_send_manifest_format(files);
    g_autofree guint64 *offsets = g_new0(guint64, files->len);
    g_autofree char *buf = g_malloc(CHUNK_SIZE);
    g_autoptr(GError) local = NULL;
    guint64 total = 0, done = 0;
    gboolean eof = FALSE, go = FALSE;
    int status;

    if (ret_message != NULL)
        *ret_message = NULL;
    x.line = line_buf;
    x.err = err_buf;
    for (guint i = 0; i < files->len; i++)
        total += g_array_index(files, PorchSendFile, i).size;
    if (client->fatal != NULL || client->chan != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "this connection cannot run a command");
        return -1;
    }
    client->chan = x.chan = ssh_channel_new(client->ssh);
    if (x.chan == NULL || ssh_channel_open_session(x.chan) != SSH_OK ||
        ssh_channel_request_exec(x.chan, command) != SSH_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start the send command: %s",
                    ssh_get_error(client->ssh));
        return -1;
    }
    if (!write_all(&x, manifest, strlen(manifest), &local))
        goto out;
    /* the answer: wait, then accepted + have... + go; or porchd's EOF and status */
    while (!go) {
        g_autofree char *line = read_line(&x, 0, &eof, &local);

        if (line == NULL)
            break;
        if (g_str_has_prefix(line, "wait ")) {
            g_autofree char *who = g_uri_unescape_string(line + 5, NULL);
            g_autofree char *shown =
                    porch_text_show(who != NULL ? who : "?", -1, 256, PORCH_TEXT_ONE_LINE);
            if (func != NULL)
                func(PORCH_SEND_STAGE_WAITING, shown, 0, total, user_data);
        } else if (strcmp(line, "accepted") == 0) {
            if (func != NULL)
                func(PORCH_SEND_STAGE_ACCEPTED, NULL, 0, total, user_data);
        } else if (g_str_has_prefix(line, "have ")) {
            guint64 index = 0, offset = 0;
            g_auto(GStrv) w = g_strsplit(line + 5, " ", 2);

            if (g_strv_length(w) != 2 ||
                !porch_text_to_unsigned(w[0], 10, 0, files->len - 1, &index, NULL) ||
                !porch_text_to_unsigned(w[1], 10, 0,
                                        g_array_index(files, PorchSendFile, index).size, &offset,
                                        NULL)) {
                g_set_error(&local, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "a malformed reply from the neighbour");
                break;
            }
            offsets[index] = offset;
        } else if (strcmp(line, "go") == 0) {
            go = TRUE;
        } else {
            g_set_error(&local, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "a malformed reply from the neighbour");
            break;
        }
    }
    if (!go)
        goto out;
    for (guint i = 0; i < files->len; i++)
        done += offsets[i];
    for (guint i = 0; i < files->len && local == NULL && !x.ended; i++) {
        const PorchSendFile *f = &g_array_index(files, PorchSendFile, i);
        guint64 at = offsets[i];

        while (at < f->size) {
            gssize n = pread(fds[i], buf, (gsize)MIN((guint64)CHUNK_SIZE, f->size - at), (off_t)at);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                g_set_error(&local, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "%s changed while it was sent (it is shorter now)", f->name);
                break;
            }
            if (!write_all(&x, buf, (gsize)n, &local))
                break;
            at += (guint64)n;
            done += (guint64)n;
            if (func != NULL)
                func(PORCH_SEND_STAGE_PROGRESS, NULL, done, total, user_data);
            /* porchd's message on stderr: it ended the send (it failed a file); it reads
             * and drops what comes until this side sends EOF, then gives its status */
            if (ssh_channel_poll(x.chan, 1) > 0) {
                x.ended = TRUE;
                break;
            }
            /* the names files got, as they come */
            while (ssh_channel_poll(x.chan, 0) > 0) {
                const char *nl;
                int r = ssh_channel_read_nonblocking(x.chan, buf, 512, 0);

                if (r <= 0)
                    break;
                g_string_append_len(x.line, buf, r);
                while ((nl = memchr(x.line->str, '\n', x.line->len)) != NULL) {
                    g_autofree char *l = g_strndup(x.line->str, (gsize)(nl - x.line->str));

                    g_string_erase(x.line, 0, nl - x.line->str + 1);
                    if (g_str_has_prefix(l, "done "))
                        file_done(l, files, func, user_data, done, total);
                }
                if (x.line->len > PORCH_SEND_MAX_LINE)
                    g_string_truncate(x.line, 0);
            }
        }
    }
    if (local != NULL && x.ended) {
        /* not withdrawn: porchd said why it ended, below */
        g_clear_error(&local);
    } else if (local != NULL) {
        goto out;
    }
    ssh_channel_send_eof(x.chan);
    for (;;) {
        g_autofree char *line = read_line(&x, client->timeout, &eof, &local);

        if (line == NULL)
            break;
        if (g_str_has_prefix(line, "done "))
            file_done(line, files, func, user_data, done, total);
    }
out:
    if (local != NULL) {
        /* withdrawn: the channel and the connection go, porchd forgets the offer */
        ssh_disconnect(client->ssh);
        client->chan = NULL;
        if (client->fatal == NULL)
            client->fatal = g_error_copy(local);
        g_propagate_error(error, g_steal_pointer(&local));
        return -1;
    }
    status = ssh_channel_get_exit_status(x.chan);
    drain_stderr(&x);
    if (ret_message != NULL && x.err->len > 0) {
        g_strchomp(x.err->str);
        *ret_message = porch_text_show(x.err->str, -1, 1024, PORCH_TEXT_ONE_LINE);
    }
    ssh_channel_close(x.chan);
    if (status < 0) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "the neighbour ended the send without a status (a porchd without inboxes?)");
        return -1;
    }
    return status;
}

/* ---- the files of a send ------------------------------------------------------------------ */

#define HASH_CHUNK     (256 * 1024)
#define MAX_SEND_DEPTH 64

static gboolean
hash_file(int fd, guint64 size, guint8 *digest, GCancellable *cancellable, GError **error)
{
    g_autoptr(PorchSha256) h = porch_sha256_new();
    g_autofree char *buf = g_malloc(HASH_CHUNK);
    guint64 at = 0;

    while (at < size) {
        gssize n = pread(fd, buf, (gsize)MIN((guint64)HASH_CHUNK, size - at), (off_t)at);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                        n < 0 ? g_strerror(errno) : "it became shorter while read");
            return FALSE;
        }
        porch_sha256_update(h, buf, (gsize)n);
        at += (guint64)n;
        if (g_cancellable_set_error_if_cancelled(cancellable, error))
            return FALSE;
    }
    porch_sha256_finish(h, digest);
    return TRUE;
}

static int
by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean
add_path(const char *path, GArray *files, GArray *fds, guint depth, GCancellable *cancellable,
         GError **error)
{
    g_autofree char *shown = g_filename_display_name(path);
    struct stat st;
    int fd;

    if (depth > MAX_SEND_DEPTH || files->len >= PORCH_SEND_MAX_FILES) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS, "%s: %s", shown,
                    depth > MAX_SEND_DEPTH
                            ? "folders nested too deep"
                            : "more than " G_STRINGIFY(PORCH_SEND_MAX_FILES) " files at once");
        return FALSE;
    }
    /* O_NONBLOCK: a FIFO among the files would otherwise wait for a writer; it is then
     * refused as not a file */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", shown, g_strerror(e));
        return FALSE;
    }
    if (S_ISDIR(st.st_mode)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, error);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        close(fd);
        if (dir == NULL)
            return FALSE;
        while ((name = g_dir_read_name(dir)) != NULL)
            g_ptr_array_add(names, g_strdup(name));
        /* the same files in the same order each time: the offer's key depends on it, and so
         * does going on where an interrupted send stopped */
        g_ptr_array_sort(names, by_name);
        for (guint i = 0; i < names->len; i++) {
            g_autofree char *child = g_build_filename(path, names->pdata[i], NULL);
            if (!add_path(child, files, fds, depth + 1, cancellable, error))
                return FALSE;
        }
        return TRUE;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s: not a file or folder",
                    shown);
        return FALSE;
    }
    {
        PorchSendFile f = {.size = (guint64)st.st_size};
        g_autofree char *base = g_path_get_basename(path);

        if (!hash_file(fd, f.size, f.sha256, cancellable, error)) {
            close(fd);
            g_prefix_error(error, "%s: ", shown);
            return FALSE;
        }
        /* local names need not be UTF-8: the neighbour gets a readable one */
        f.name = g_filename_display_name(base);
        g_array_append_val(files, f);
        g_array_append_val(fds, fd);
    }
    return TRUE;
}

gboolean
porch_send_files_add(const char *path, GArray *files, GArray *fds, GCancellable *cancellable,
                     GError **error)
{
    porch_sandbox_raise_nofile();
    return add_path(path, files, fds, 0, cancellable, error);
}
