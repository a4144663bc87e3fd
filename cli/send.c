/* send.c — `porch send` (files to a neighbour's inbox) and `porch inbox` (this user's inboxes
 * on the running porchd, and the offers waiting for their answer). porch-send.h has the
 * exchange. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-control.h"
#include "porch-hash.h"
#include "porch-print-client.h"
#include "porch-send.h"
#include "porch-text.h"

#define REDRAW_INTERVAL (G_USEC_PER_SEC / 5)

/* ---- porch send -------------------------------------------------------------------------- */

typedef struct {
    GCancellable *cancellable;
    gboolean bar;   /* draw the progress line */
    gboolean quiet; /* no lines but errors */
    gboolean drawn;
    gint64 last_draw;
    char *host; /* made safe */
} Sending;

static void
clear_line(Sending *s)
{
    if (s->drawn)
        fputs("\r\033[K", stderr);
    s->drawn = FALSE;
}

static void
on_stage(PorchSendStage stage, const char *text, guint64 done, guint64 total, gpointer user_data)
{
    Sending *s = user_data;
    gint64 now = g_get_monotonic_time();
    char a[32], b[32];

    if (porch_cli_interrupted && !g_cancellable_is_cancelled(s->cancellable))
        g_cancellable_cancel(s->cancellable);
    switch (stage) {
    case PORCH_SEND_STAGE_TICK:
        return;
    case PORCH_SEND_STAGE_WAITING:
        if (!s->quiet) {
            fprintf(stderr, "waiting for %s to accept on %s (Ctrl-C withdraws the offer)…\n", text,
                    s->host);
        }
        return;
    case PORCH_SEND_STAGE_ACCEPTED:
        return;
    case PORCH_SEND_STAGE_FILE_DONE:
        if (!s->quiet) {
            clear_line(s);
            fputs("sent ", stderr);
            porch_cli_put_text(stderr, text);
            fputc('\n', stderr);
        }
        return;
    case PORCH_SEND_STAGE_PROGRESS:
        if (!s->bar || now - s->last_draw < REDRAW_INTERVAL)
            return;
        s->last_draw = now;
        porch_cli_format_size(a, sizeof a, (double)done);
        porch_cli_format_size(b, sizeof b, (double)total);
        fprintf(stderr, "\r\033[Ksending to %s: %s of %s (%d%%)", s->host, a, b,
                total > 0 ? (int)(done * 100 / total) : 100);
        s->drawn = TRUE;
        return;
    }
}

int
porch_cli_send(int argc, char **argv)
{
    g_auto(PorchCliCommon) common = {0};
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE|DIR... HOST[/INBOX]");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GArray) files = porch_send_files_new();
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    g_autofree char *key_fp = NULL;
    g_autofree char *inbox = NULL;
    g_autofree char *message = NULL;
    PorchCliConnectOptions o = {0};
    Sending s = {0};
    struct sigaction old;
    guint64 total = 0;
    int status, result = PORCH_CLI_EXIT_FAILED;

    porch_cli_set_summary(ctx, "Send files (a folder: every file in it) to a neighbour's inbox: "
                               "its default one, or INBOX. The inbox's owner accepts or declines "
                               "the offer unless they let you send without asking; the files "
                               "are verified with SHA-256 and never overwrite a file there. "
                               "Running the same command again after an interruption goes on "
                               "where it stopped. Exit status: 0 delivered, 5 declined, 6 no "
                               "answer in time, 4 refused (not allowed, too large, no room).");
    porch_cli_add_common_entries(ctx, &common, TRUE, "No progress or notices: only errors");
    if (!porch_cli_parse_options(ctx, "send", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 3) {
        porch_cli_usage_error("send", "send needs FILE... and HOST");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = porch_cli_target_parse(argv[argc - 1], &error);
    if (target == NULL) {
        porch_cli_usage_error("send", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (strcmp(target->path, "/") != 0) {
        if (strchr(target->path + 1, '/') != NULL) {
            porch_cli_usage_error("send", "name a host, or HOST/INBOX");
            return PORCH_CLI_EXIT_USAGE;
        }
        inbox = g_strdup(target->path + 1);
    }
    /* hashing: Ctrl-C simply ends porch, nothing was offered yet */
    for (int i = 1; i < argc - 1; i++) {
        if (!porch_send_files_add(argv[i], files, fds, NULL, &error)) {
            porch_cli_error("send", error->message);
            for (guint k = 0; k < fds->len; k++)
                close(g_array_index(fds, int, k));
            return PORCH_CLI_EXIT_FAILED;
        }
    }
    porch_cli_catch_sigint(&old, FALSE);
    if (files->len == 0) {
        porch_cli_error("send", "the folders hold no file: nothing to send");
        goto out;
    }
    for (guint i = 0; i < files->len; i++)
        total += g_array_index(files, PorchSendFile, i).size;

    o.identity_file = common.identity;
    o.quiet = common.quiet;
    o.for_print = TRUE;
    o.connect_timeout_seconds = common.connect_timeout;
    o.say_connecting = !common.quiet;
    status = porch_cli_target_resolve(target, common.timeout);
    if (status == PORCH_CLI_EXIT_OK)
        status = porch_cli_connect_full(target, &o, &client, &key_fp, NULL);
    if (status != PORCH_CLI_EXIT_OK) {
        result = status;
        goto out;
    }
    s.cancellable = cancellable;
    s.quiet = common.quiet;
    s.bar = !common.quiet && isatty(STDERR_FILENO);
    s.host = porch_cli_safe_text(target->host);
    status = porch_client_send_files(client, inbox, files, (const int *)(void *)fds->data, on_stage,
                                     &s, &message, cancellable, &error);
    clear_line(&s);
    if (status < 0) {
        if (porch_cli_interrupted || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            fputs("porch send: interrupted: the offer is withdrawn; the same command goes on "
                  "where it stopped\n",
                  stderr);
            result = PORCH_CLI_EXIT_INTERRUPTED;
        } else {
            porch_cli_error(target->host, error->message);
            result = PORCH_CLI_EXIT_FAILED;
        }
        goto out;
    }
    if (status != PORCH_SEND_EXIT_DELIVERED)
        porch_cli_error(target->host, message != NULL && message[0] != '\0'
                                              ? message
                                              : "the neighbour ended the send");
    switch (status) {
    case PORCH_SEND_EXIT_DELIVERED: {
        char size[32];

        porch_cli_format_size(size, sizeof size, (double)total);
        if (!common.quiet)
            fprintf(stderr, "delivered %u file%s (%s) to %s\n", files->len,
                    files->len == 1 ? "" : "s", size, s.host);
        result = PORCH_CLI_EXIT_OK;
        break;
    }
    case PORCH_SEND_EXIT_DECLINED:
        result = PORCH_CLI_EXIT_DECLINED;
        break;
    case PORCH_SEND_EXIT_TIMED_OUT:
        result = PORCH_CLI_EXIT_NO_ANSWER;
        break;
    case PORCH_SEND_EXIT_REFUSED:
    case PORCH_SEND_EXIT_NO_ROOM:
        porch_cli_hint_guest(target, client, key_fp);
        result = PORCH_CLI_EXIT_REFUSED;
        break;
    default:
        result = PORCH_CLI_EXIT_FAILED;
        break;
    }
out:
    porch_cli_restore_sigint(&old);
    for (guint i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    g_free(s.host);
    return result;
}

/* ---- porch inbox ------------------------------------------------------------------------- */

static void
say(const char *what, const char *message)
{
    fputs("porch inbox: ", stderr);
    if (what != NULL) {
        porch_cli_put_text(stderr, what);
        fputs(": ", stderr);
    }
    porch_cli_put_text(stderr, message);
    fputc('\n', stderr);
}

/* "20G", "512M", "65536" as bytes; FALSE when it is not a size. */
static gboolean
parse_size(const char *text, guint64 *ret)
{
    static const char units[] = "KMGT";
    g_autofree char *digits = NULL;
    const char *u;
    gsize n = strspn(text, "0123456789");
    guint64 v = 0, mult = 1;

    if (n == 0)
        return FALSE;
    digits = g_strndup(text, n);
    if (!porch_text_to_unsigned(digits, 10, 0, G_MAXUINT64, &v, NULL))
        return FALSE;
    if (text[n] != '\0') {
        if (text[n + 1] != '\0' && g_ascii_strcasecmp(text + n + 1, "iB") != 0 &&
            g_ascii_strcasecmp(text + n + 1, "B") != 0)
            return FALSE;
        u = strchr(units, g_ascii_toupper(text[n]));
        if (u == NULL)
            return FALSE;
        for (const char *p = units; p <= u; p++)
            mult *= 1024;
    }
    if (v > G_MAXUINT64 / mult)
        return FALSE;
    *ret = v * mult;
    return TRUE;
}

static GStrv
split_principals(char **given)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (guint i = 0; given != NULL && given[i] != NULL; i++) {
        g_auto(GStrv) parts = g_strsplit_set(given[i], ";,", -1);
        for (guint j = 0; parts[j] != NULL; j++) {
            g_strstrip(parts[j]);
            if (parts[j][0] != '\0')
                g_strv_builder_add(b, parts[j]);
        }
    }
    return g_strv_builder_end(b);
}

static const char *
member_string(JsonObject *o, const char *member)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;

    return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                   ? json_node_get_string(n)
                   : "";
}

static JsonArray *
member_array(JsonObject *o, const char *member)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;

    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static int
connect_daemon(void)
{
    g_autoptr(GError) error = NULL;
    int fd = porch_ctl_connect(NULL, &error);

    if (fd < 0)
        say(NULL, error->message);
    return fd;
}

static int
inbox_enable(int argc, char **argv, const char *name, char **accept_opt, char **ask_opt,
             const char *max_size_opt)
{
    g_auto(GStrv) accept = split_principals(accept_opt);
    g_auto(GStrv) ask = split_principals(ask_opt);
    g_autofree char *folder = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    guint64 max_size = 0;
    int dir, fd;

    if (argc > 3) {
        porch_cli_usage_error("inbox", "inbox enable takes at most one folder");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (max_size_opt != NULL && !parse_size(max_size_opt, &max_size)) {
        porch_cli_usage_error("inbox", "--max-size takes a size: 65536, 512M, 20G");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc == 3) {
        folder = g_strdup(argv[2]);
    } else {
        const char *downloads = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);

        folder = downloads != NULL ? g_build_filename(downloads, "Porch", NULL)
                                   : g_build_filename(g_get_home_dir(), "Downloads", "Porch", NULL);
        if (g_mkdir_with_parents(folder, 0700) != 0) {
            say(folder, g_strerror(errno));
            return PORCH_CLI_EXIT_FAILED;
        }
    }
    dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        say(folder, g_strerror(errno));
        return PORCH_CLI_EXIT_FAILED;
    }
    if ((fd = connect_daemon()) < 0) {
        close(dir);
        return PORCH_CLI_EXIT_UNREACHABLE;
    }
    answer = porch_ctl_inbox_enable(fd, dir, name != NULL ? name : g_get_user_name(),
                                    (const char *const *)accept, (const char *const *)ask, max_size,
                                    &error);
    close(dir);
    close(fd);
    if (answer == NULL) {
        say("porchd refused", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    fputs("files sent to '", stdout);
    porch_cli_put_text(stdout, member_string(answer, "name"));
    fputs("' land in ", stdout);
    porch_cli_put_text(stdout, member_string(answer, "path"));
    if (json_object_get_boolean_member_with_default(answer, "default", FALSE))
        fputs(" (this host's default inbox)", stdout);
    fputc('\n', stdout);
    return PORCH_CLI_EXIT_OK;
}

static void
put_offer(JsonObject *o)
{
    JsonArray *names = member_array(o, "names");
    gint64 count = json_object_get_int_member_with_default(o, "count", 0);
    char size[32];

    porch_cli_format_size(size, sizeof size,
                          (double)json_object_get_int_member_with_default(o, "total", 0));
    printf("%" G_GINT64_FORMAT "\t", json_object_get_int_member_with_default(o, "id", 0));
    porch_cli_put_text(stdout, member_string(o, "sender"));
    fputs(" (", stdout);
    porch_cli_put_text(stdout, member_string(o, "address"));
    printf(") wants to send %" G_GINT64_FORMAT " file%s (%s) to ", count, count == 1 ? "" : "s",
           size);
    porch_cli_put_text(stdout, member_string(o, "inbox"));
    fputs(":", stdout);
    for (guint i = 0; names != NULL && i < json_array_get_length(names); i++) {
        const char *n = json_array_get_string_element(names, i);

        fputs(i == 0 ? " " : ", ", stdout);
        porch_cli_put_text(stdout, n != NULL ? n : "?");
    }
    if (names != NULL && (gint64)json_array_get_length(names) < count)
        fputs(", …", stdout);
    fputc('\n', stdout);
}

static int
inbox_list(gboolean json)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    JsonArray *inboxes, *offers;
    int fd = connect_daemon();

    if (fd < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    answer = porch_ctl_inbox_list(fd, &error);
    close(fd);
    if (answer == NULL) {
        say(NULL, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (json) {
        g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
        g_autofree char *text = NULL;

        json_object_remove_member(answer, "ok");
        json_object_remove_member(answer, "warnings");
        json_node_set_object(root, answer);
        text = json_to_string(root, TRUE);
        puts(text);
        return PORCH_CLI_EXIT_OK;
    }
    inboxes = member_array(answer, "inboxes");
    offers = member_array(answer, "offers");
    if (inboxes == NULL || json_array_get_length(inboxes) == 0)
        puts("no inbox (porch inbox enable makes one)");
    for (guint i = 0; inboxes != NULL && i < json_array_get_length(inboxes); i++) {
        JsonObject *b = json_array_get_object_element(inboxes, i);

        fputs("inbox ", stdout);
        porch_cli_put_text(stdout, member_string(b, "name"));
        fputs(": ", stdout);
        porch_cli_put_text(stdout, member_string(b, "path"));
        if (json_object_get_boolean_member_with_default(b, "default", FALSE))
            fputs(" (default)", stdout);
        if (!json_object_get_boolean_member_with_default(b, "online", TRUE))
            fputs(" (offline: its folder is missing)", stdout);
        fputc('\n', stdout);
    }
    for (guint i = 0; offers != NULL && i < json_array_get_length(offers); i++)
        put_offer(json_array_get_object_element(offers, i));
    return PORCH_CLI_EXIT_OK;
}

static int
inbox_answer(int argc, char **argv, gboolean accept)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    guint64 id = 0;
    int fd;

    if (argc != 3 || !porch_text_to_unsigned(argv[2], 10, 1, G_MAXUINT, &id, NULL)) {
        porch_cli_usage_error("inbox", accept ? "inbox accept takes an offer's ID"
                                              : "inbox decline takes an offer's ID");
        return PORCH_CLI_EXIT_USAGE;
    }
    if ((fd = connect_daemon()) < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    answer = porch_ctl_inbox_answer(fd, (guint)id, accept, &error);
    close(fd);
    if (answer == NULL) {
        say(NULL, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    printf("offer %" G_GUINT64_FORMAT " %s\n", id, accept ? "accepted" : "declined");
    return PORCH_CLI_EXIT_OK;
}

static int
inbox_disable(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    g_autofree char *name = NULL;
    int fd;

    if (argc > 3) {
        porch_cli_usage_error("inbox", "inbox disable takes at most one name");
        return PORCH_CLI_EXIT_USAGE;
    }
    if ((fd = connect_daemon()) < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    if (argc == 3) {
        name = g_strdup(argv[2]);
    } else {
        /* the caller's only user inbox */
        g_autoptr(JsonObject) list = porch_ctl_inbox_list(fd, &error);
        JsonArray *inboxes = member_array(list, "inboxes");
        guint mine = 0;

        for (guint i = 0; inboxes != NULL && i < json_array_get_length(inboxes); i++) {
            JsonObject *b = json_array_get_object_element(inboxes, i);

            if (json_object_get_boolean_member_with_default(b, "user", FALSE) &&
                g_strcmp0(member_string(b, "owner"), g_get_user_name()) == 0) {
                mine++;
                g_free(name);
                name = g_strdup(member_string(b, "name"));
            }
        }
        if (mine != 1) {
            close(fd);
            porch_cli_usage_error("inbox", mine == 0 ? "you have no inbox to disable"
                                                     : "you have several inboxes: name one");
            return PORCH_CLI_EXIT_USAGE;
        }
    }
    answer = porch_ctl_inbox_disable(fd, name, &error);
    close(fd);
    if (answer == NULL) {
        say("porchd refused", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    fputs("inbox '", stdout);
    porch_cli_put_text(stdout, name);
    fputs("' disabled (its folder and files stay)\n", stdout);
    return PORCH_CLI_EXIT_OK;
}

int
porch_cli_inbox(int argc, char **argv)
{
    char *name = NULL;
    char **accept = NULL;
    char **ask = NULL;
    char *max_size = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
            {"name", 'N', 0, G_OPTION_ARG_STRING, &name,
             "enable: the inbox's name (default: your login name)", "NAME"},
            {"accept", 0, 0, G_OPTION_ARG_STRING_ARRAY, &accept,
             "enable: who may send unasked (peer, @group, *, guest)", "WHO"},
            {"ask", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ask,
             "enable: whose sends wait for your answer", "WHO"},
            {"max-size", 0, 0, G_OPTION_ARG_STRING, &max_size,
             "enable: the most one offer may hold (e.g. 20G)", "SIZE"},
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "list: as JSON", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx =
            g_option_context_new("enable [DIR]|disable [NAME]|list|accept ID|decline ID");
    g_autoptr(GError) error = NULL;
    int status;

    porch_cli_set_summary(ctx, "Your inbox on the running porchd (the system service, else "
                               "yours): a folder neighbours send files to with porch send "
                               "(default: your Downloads folder's Porch). Offers from those you "
                               "--ask wait for porch inbox accept or decline; list shows them.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        porch_cli_usage_error("inbox", error->message);
        status = PORCH_CLI_EXIT_USAGE;
        goto out;
    }
    if (argc < 2) {
        porch_cli_usage_error("inbox", "what to do? enable, disable, list, accept or decline");
        status = PORCH_CLI_EXIT_USAGE;
    } else if (strcmp(argv[1], "enable") == 0) {
        status = inbox_enable(argc, argv, name, accept, ask, max_size);
    } else if (strcmp(argv[1], "disable") == 0) {
        status = inbox_disable(argc, argv);
    } else if (strcmp(argv[1], "list") == 0 && argc == 2) {
        status = inbox_list(json);
    } else if (strcmp(argv[1], "accept") == 0 || strcmp(argv[1], "decline") == 0) {
        status = inbox_answer(argc, argv, strcmp(argv[1], "accept") == 0);
    } else {
        porch_cli_usage_error("inbox", "unknown subcommand (enable, disable, list, accept, "
                                       "decline)");
        status = PORCH_CLI_EXIT_USAGE;
    }
out:
    g_free(name);
    g_strfreev(accept);
    g_strfreev(ask);
    g_free(max_size);
    return status;
}
