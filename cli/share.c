/* share.c — `porch share add|remove|list`, `porch allow`, `porch deny`, `porch status`: what
 * the local porchd shares and with whom, changed without an editor, through its control
 * socket (shared/porch-control.h). Each command finds the running porchd (the system service
 * first, then the user's own), sends one request, and reports porchd's verdict: a refused
 * change is an error with porchd's reason, exit status 1; no porchd to ask, exit status 3.
 *
 * An ordinary user's `share add` makes a user share of a folder of their own (porchd checks
 * who asks and who owns the folder: the folder goes to porchd as an open descriptor); the
 * administrator's shares are sections of porch.conf, changed with --system.
 *
 * What porchd says came from porch.conf and the user shares, which local users wrote; names
 * of peers and addresses came from the network: all of it is printed through
 * porch_cli_put_text(). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-conf-edit.h"
#include "porch-config.h"
#include "porch-control.h"
#include "porch-risk.h"
#include "porch-text.h"

/* @o's @member when it is an array (an object), else @def (json-glib 1.6 has no
 * _with_default for these). */
static JsonArray *
member_array(JsonObject *o, const char *member, JsonArray *def)
{
    JsonNode *n = json_object_get_member(o, member);

    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : def;
}

static JsonObject *
member_object(JsonObject *o, const char *member, JsonObject *def)
{
    JsonNode *n = json_object_get_member(o, member);

    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : def;
}

/* "porch COMMAND: [WHAT: ]MESSAGE" on stderr, made safe for a terminal. */
static void
say(const char *command, const char *what, const char *message)
{
    fprintf(stderr, "porch %s: ", command);
    if (what != NULL && what[0] != '\0') {
        porch_cli_put_text(stderr, what);
        fputs(": ", stderr);
    }
    porch_cli_put_text(stderr, message);
    fputc('\n', stderr);
}

/* Connects to the running porchd, or says why not; -1 then. */
static int
connect_daemon(const char *command, gboolean *ret_system)
{
    g_autoptr(GError) error = NULL;
    int fd = porch_ctl_connect(ret_system, &error);

    if (fd < 0)
        say(command, "", error->message);
    return fd;
}

static void
put_warnings(const char *command, JsonObject *answer)
{
    JsonArray *w = member_array(answer, "warnings", NULL);

    for (guint i = 0; w != NULL && i < json_array_get_length(w); i++) {
        const char *text = json_array_get_string_element(w, i);
        if (text == NULL)
            continue;
        fprintf(stderr, "%s: warning: ", command);
        porch_cli_put_text(stderr, text);
        fputc('\n', stderr);
    }
}

/* A JSON array of strings as "a; b", "nobody" when empty. */
static char *
join_array(JsonObject *o, const char *member)
{
    JsonArray *a = member_array(o, member, NULL);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) v = NULL;

    for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
        const char *s = json_array_get_string_element(a, i);
        if (s != NULL)
            g_strv_builder_add(b, s);
    }
    v = g_strv_builder_end(b);
    return v[0] != NULL ? g_strjoinv("; ", v) : g_strdup("nobody");
}

static const char *
member_string(JsonObject *o, const char *member)
{
    JsonNode *n = json_object_get_member(o, member);

    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

/* Prints "TEXT" safely, or "?" for NULL. */
static void
put(FILE *f, const char *text)
{
    porch_cli_put_text(f, text != NULL ? text : "?");
}

/* ---- porch status ------------------------------------------------------------------------ */

static void
put_share_line(JsonObject *s)
{
    g_autofree char *read = join_array(s, "read");
    g_autofree char *write = join_array(s, "write");
    const char *owner = member_string(s, "owner");
    gboolean user = json_object_get_boolean_member_with_default(s, "user", FALSE);

    fputs("  ", stdout);
    put(stdout, member_string(s, "name"));
    printf("  %s  ",
           json_object_get_boolean_member_with_default(s, "online", FALSE) ? "online" : "OFFLINE");
    put(stdout, member_string(s, "path"));
    if (user && owner != NULL) {
        fputs("  (", stdout);
        put(stdout, owner);
        fputs("'s user share)", stdout);
    }
    if (json_object_get_boolean_member_with_default(s, "hidden", FALSE))
        fputs("  hidden", stdout);
    fputs("\n      read: ", stdout);
    put(stdout, read);
    fputs("  write: ", stdout);
    put(stdout, write);
    fputc('\n', stdout);
}

/* An inbox of "status": its name, state, folder and owner, then who may send. */
static void
put_inbox_line(JsonObject *b)
{
    g_autofree char *accept = join_array(b, "accept");
    g_autofree char *ask = join_array(b, "ask");
    gint64 max_size = json_object_get_int_member_with_default(b, "max_size", 0);
    char size[32];

    fputs("  ", stdout);
    put(stdout, member_string(b, "name"));
    printf("  %s  ",
           json_object_get_boolean_member_with_default(b, "online", FALSE) ? "online" : "OFFLINE");
    put(stdout, member_string(b, "path"));
    fputs("  (", stdout);
    put(stdout, member_string(b, "owner"));
    fputs("'s)", stdout);
    if (json_object_get_boolean_member_with_default(b, "default", FALSE))
        fputs("  default", stdout);
    fputs("\n      accept: ", stdout);
    put(stdout, accept);
    fputs("  ask: ", stdout);
    put(stdout, ask);
    if (max_size > 0) {
        porch_cli_format_size(size, sizeof size, (double)max_size);
        printf("  max size: %s", size);
    }
    fputc('\n', stdout);
}

static void
put_json(JsonObject *o)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

static char *
clock_time(gint64 t)
{
    g_autoptr(GDateTime) d = g_date_time_new_from_unix_local(t);

    return d != NULL ? g_date_time_format(d, "%Y-%m-%d %H:%M") : g_strdup("?");
}

static void
put_status(JsonObject *st)
{
    JsonObject *d = member_object(st, "daemon", NULL);
    JsonArray *shares = member_array(st, "shares", NULL);
    JsonArray *printers = member_array(st, "printers", NULL);
    JsonArray *inboxes = member_array(st, "inboxes", NULL);
    JsonArray *sessions = member_array(st, "sessions", NULL);
    JsonArray *transfers = member_array(st, "transfers", NULL);
    JsonArray *problems = member_array(st, "problems", NULL);
    JsonObject *index = member_object(st, "index", NULL);

    if (d != NULL) {
        printf("porchd: %s, pid %" G_GINT64_FORMAT ", port %" G_GINT64_FORMAT "\n",
               json_object_get_boolean_member_with_default(d, "system", FALSE)
                       ? "the system service"
                       : "this user's service",
               json_object_get_int_member_with_default(d, "pid", 0),
               json_object_get_int_member_with_default(d, "port", 0));
        fputs("  name: ", stdout);
        put(stdout, member_string(d, "name"));
        fputs("\n  host key: ", stdout);
        put(stdout, member_string(d, "fingerprint"));
        fputs("\n  configuration: ", stdout);
        put(stdout, member_string(d, "config"));
        fputc('\n', stdout);
    }
    printf("shares:%s\n", shares == NULL || json_array_get_length(shares) == 0 ? " none" : "");
    for (guint i = 0; shares != NULL && i < json_array_get_length(shares); i++)
        put_share_line(json_array_get_object_element(shares, i));
    printf("printers:%s\n",
           printers == NULL || json_array_get_length(printers) == 0 ? " none" : "");
    for (guint i = 0; printers != NULL && i < json_array_get_length(printers); i++) {
        JsonObject *p = json_array_get_object_element(printers, i);
        g_autofree char *print = join_array(p, "print");

        fputs("  ", stdout);
        put(stdout, member_string(p, "name"));
        fputs("  queue ", stdout);
        put(stdout, member_string(p, "queue"));
        fputs("  print: ", stdout);
        put(stdout, print);
        fputc('\n', stdout);
    }
    printf("inboxes:%s\n", inboxes == NULL || json_array_get_length(inboxes) == 0 ? " none" : "");
    for (guint i = 0; inboxes != NULL && i < json_array_get_length(inboxes); i++)
        put_inbox_line(json_array_get_object_element(inboxes, i));
    printf("connected:%s\n",
           sessions == NULL || json_array_get_length(sessions) == 0 ? " nobody" : "");
    for (guint i = 0; sessions != NULL && i < json_array_get_length(sessions); i++) {
        JsonObject *s = json_array_get_object_element(sessions, i);
        g_autofree char *since = clock_time(json_object_get_int_member_with_default(s, "since", 0));

        fputs("  ", stdout);
        put(stdout, member_string(s, "peer"));
        fputs(" from ", stdout);
        put(stdout, member_string(s, "address"));
        printf(" since %s\n", since);
    }
    printf("transfers:%s\n",
           transfers == NULL || json_array_get_length(transfers) == 0 ? " none" : "");
    for (guint i = 0; transfers != NULL && i < json_array_get_length(transfers); i++) {
        JsonObject *t = json_array_get_object_element(transfers, i);
        char done[32], size[32];

        porch_cli_format_size(done, sizeof done,
                              (double)json_object_get_int_member_with_default(t, "done", 0));
        porch_cli_format_size(size, sizeof size,
                              (double)json_object_get_int_member_with_default(t, "size", 0));
        fputs("  ", stdout);
        put(stdout, member_string(t, "peer"));
        fputs(g_strcmp0(member_string(t, "direction"), "upload") == 0 ? " uploading "
                                                                      : " downloading ",
              stdout);
        put(stdout, member_string(t, "path"));
        printf("  %s of %s\n", done, size);
    }
    if (index != NULL) {
        char bytes[32], db[32], rate[32];
        gint64 files = json_object_get_int_member_with_default(index, "files", 0);
        gint64 scanning = json_object_get_int_member_with_default(index, "scanning", 0);

        porch_cli_format_size(bytes, sizeof bytes,
                              (double)json_object_get_int_member_with_default(index, "bytes", 0));
        porch_cli_format_size(
                db, sizeof db,
                (double)json_object_get_int_member_with_default(index, "database_bytes", 0));
        porch_cli_format_size(
                rate, sizeof rate,
                (double)json_object_get_int_member_with_default(index, "hash_rate", 0));
        printf("content index: %" G_GINT64_FORMAT " file%s, %s; database %s; %s", files,
               files == 1 ? "" : "s", bytes, db, scanning > 0 ? "scanning" : "up to date");
        if (json_object_get_int_member_with_default(index, "hashed_bytes", 0) > 0)
            printf(", hashing at %s/s", rate);
        fputc('\n', stdout);
    }
    for (guint i = 0; problems != NULL && i < json_array_get_length(problems); i++) {
        fputs("problem: ", stdout);
        put(stdout, json_array_get_string_element(problems, i));
        fputc('\n', stdout);
    }
}

int
porch_cli_status(int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the status as JSON", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    int fd;

    porch_cli_set_summary(ctx, "What the running porchd (the system service, else yours) shares "
                               "and with whom: its shares (online or offline), printers, the "
                               "neighbours connected now and the transfers under way.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        porch_cli_usage_error("status", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc > 1) {
        porch_cli_usage_error("status", "unexpected argument");
        return PORCH_CLI_EXIT_USAGE;
    }
    if ((fd = connect_daemon("status", NULL)) < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    answer = porch_ctl_call_op(fd, "status", &error);
    close(fd);
    if (answer == NULL) {
        say("status", "", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    json_object_remove_member(answer, "ok");
    json_object_remove_member(answer, "warnings");
    if (json)
        put_json(answer);
    else
        put_status(answer);
    return PORCH_CLI_EXIT_OK;
}

/* ---- --system: the administrator's porch.conf ------------------------------------------------ */

/* One change to porch.conf: applied to @edit, @config being the file as it is now. FALSE
 * with @error set (a message for the user) when it cannot be made. */
typedef gboolean (*EditFunc)(PorchConfEdit *edit, PorchConfig *config, gpointer data,
                             GError **error);

/* Makes the change @fn describes to the porch.conf of the running porchd (the one its status
 * names; /etc/porch/porch.conf when none runs), keeping the rest of the file byte for byte,
 * checks that the result loads, writes it atomically, and has porchd reload: its verdict is
 * the command's. A file porchd refuses is put back as it was. @share, when not NULL, is the
 * share whose risky rules are shown. */
static int
system_edit(const char *command, EditFunc fn, gpointer data, const char *share)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) status = NULL;
    g_autoptr(PorchConfig) before = NULL;
    g_autoptr(PorchConfig) after = NULL;
    g_autoptr(PorchConfEdit) edit = NULL;
    g_autofree char *file = NULL;
    g_autofree char *real = NULL;
    g_autofree char *old = NULL;
    g_autofree char *again = NULL;
    g_autofree char *text = NULL;
    gsize old_len = 0, again_len = 0, text_len = 0;
    gboolean system = FALSE;
    int fd = porch_ctl_connect(&system, NULL);

    if (fd >= 0 && (status = porch_ctl_call_op(fd, "status", NULL)) != NULL) {
        JsonObject *d = member_object(status, "daemon", NULL);
        file = g_strdup(d != NULL ? member_string(d, "config") : NULL);
    }
    if (file == NULL)
        file = porch_config_default_file(TRUE);
    real = realpath(file, NULL);
    if (real == NULL || !g_file_get_contents(real, &old, &old_len, &error)) {
        say(command, file, error != NULL ? error->message : g_strerror(errno));
        goto fail;
    }
    before = porch_config_load_data(old, (gssize)old_len, file, &error);
    if (before == NULL) {
        say(command, "it is not valid as it is, so it is left alone", error->message);
        goto fail;
    }
    edit = porch_conf_edit_new(old);
    if (!fn(edit, before, data, &error)) {
        say(command, file, error->message);
        goto fail;
    }
    text = porch_conf_edit_to_text(edit, &text_len);
    after = porch_config_load_data(text, (gssize)text_len, file, &error);
    if (after == NULL) {
        say(command, "left as it is: the change would not load", error->message);
        goto fail;
    }
    if (!g_file_get_contents(real, &again, &again_len, NULL) || again_len != old_len ||
        memcmp(again, old, old_len) != 0) {
        say(command, file, "changed meanwhile; nothing written, try again");
        goto fail;
    }
    if (!porch_conf_write_atomic(real, text, (gssize)text_len, &error)) {
        g_autofree char *m = g_strdup_printf(
                "%s%s", error->message,
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) && geteuid() != 0
                        ? " — run as root / with sudo"
                        : "");
        say(command, "cannot write it", m);
        goto fail;
    }
    if (share != NULL) {
        g_autoptr(GPtrArray) risks = porch_config_risks(after);

        for (guint i = 0; i < risks->len; i++) {
            const PorchRisk *r = risks->pdata[i];
            g_autofree char *line = NULL;

            if (g_ascii_strcasecmp(r->share, share) != 0)
                continue;
            line = g_strdup_printf("%s; %s", r->text, r->fix);
            fprintf(stderr, "porch %s: warning: ", command);
            porch_cli_put_text(stderr, line);
            fputc('\n', stderr);
        }
    }
    if (fd < 0) {
        printf("%s changed; porchd is not running: it takes the change when it starts.\n", file);
        return PORCH_CLI_EXIT_OK;
    }
    g_clear_pointer(&status, json_object_unref);
    status = porch_ctl_call_op(fd, "reload", &error);
    close(fd);
    if (status == NULL) {
        g_autoptr(GError) put_back = NULL;

        /* porchd said no: the file it runs with goes back */
        if (!porch_conf_write_atomic(real, old, (gssize)old_len, &put_back))
            say(command, "cannot put the file back", put_back->message);
        say(command, "porchd refused the change, and the file is as it was", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    printf("%s changed, and porchd runs with it.\n", file);
    return PORCH_CLI_EXIT_OK;
fail:
    if (fd >= 0)
        close(fd);
    return PORCH_CLI_EXIT_FAILED;
}

typedef struct {
    const char *name, *path, *comment;
    char **read, **write;
    gboolean hidden;
} ShareAdd;

static gboolean
edit_share_add(PorchConfEdit *edit, PorchConfig *config, gpointer data, GError **error)
{
    ShareAdd *a = data;
    g_autofree char *section = g_strconcat("share ", a->name, NULL);

    if (porch_config_find_share(config, a->name) != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "it has a share called '%s' already (choose another name with --name)",
                    a->name);
        return FALSE;
    }
    if (!porch_conf_edit_add_section(edit, section, NULL, error) ||
        !porch_conf_edit_set(edit, section, "path", a->path, error))
        return FALSE;
    for (int w = 0; w < 2; w++)
        for (guint i = 0; (w ? a->write : a->read)[i] != NULL; i++)
            if (!porch_conf_edit_list_add(edit, section, w ? "write" : "read",
                                          (w ? a->write : a->read)[i], error))
                return FALSE;
    if (a->comment != NULL && a->comment[0] != '\0' &&
        !porch_conf_edit_set(edit, section, "comment", a->comment, error))
        return FALSE;
    return !a->hidden || porch_conf_edit_set(edit, section, "hidden", "true", error);
}

static gboolean
edit_share_remove(PorchConfEdit *edit, PorchConfig *config, gpointer data, GError **error)
{
    const PorchShare *s = porch_config_find_share(config, data);
    g_autofree char *section = NULL;

    if (s == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it has no share called '%s'",
                    (const char *)data);
        return FALSE;
    }
    section = g_strconcat("share ", s->name, NULL);
    return porch_conf_edit_remove_section(edit, section);
}

typedef struct {
    const char *who, *right, *target;
    gboolean allow;
} Rule;

static gboolean
edit_rule(PorchConfEdit *edit, PorchConfig *config, gpointer data, GError **error)
{
    Rule *r = data;
    g_autofree char *section = NULL;

    if (strcmp(r->right, "print") == 0) {
        const PorchPrinter *p = porch_config_find_printer(config, r->target);

        if (p == NULL) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it has no printer called '%s'",
                        r->target);
            return FALSE;
        }
        section = g_strconcat("printer ", p->name, NULL);
    } else {
        const PorchShare *s = porch_config_find_share(config, r->target);

        if (s == NULL || s->user) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it has no share called '%s'",
                        r->target);
            return FALSE;
        }
        section = g_strconcat("share ", s->name, NULL);
    }
    if (r->allow)
        return porch_conf_edit_list_add(edit, section, r->right, r->who, error);
    porch_conf_edit_list_remove(edit, section, r->right, r->who);
    /* write implies read: denying read takes write too */
    if (strcmp(r->right, "read") == 0)
        porch_conf_edit_list_remove(edit, section, "write", r->who);
    return TRUE;
}

/* ---- porch share ---------------------------------------------------------------------------- */

/* Each WHO given may be "a;b" or "a,b" as well as repeated: one list. */
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

static int
share_add(int argc, char **argv, const char *name, char **read, char **write, const char *comment,
          gboolean hidden, gboolean system)
{
    g_autoptr(JsonObject) answer = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *base = NULL;
    g_auto(GStrv) r = split_principals(read);
    g_auto(GStrv) w = split_principals(write);
    int dir, fd;

    if (argc != 3) {
        porch_cli_usage_error("share", "share add takes one folder");
        return PORCH_CLI_EXIT_USAGE;
    }
    dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        say("share", argv[2], g_strerror(errno));
        return PORCH_CLI_EXIT_FAILED;
    }
    if (name == NULL) {
        g_autofree char *abs = g_canonicalize_filename(argv[2], NULL);
        base = g_path_get_basename(abs);
        name = base;
    }
    if (system) {
        g_autofree char *path = realpath(argv[2], NULL);
        ShareAdd a = {.name = name,
                      .path = path,
                      .comment = comment,
                      .read = r,
                      .write = w,
                      .hidden = hidden};

        close(dir);
        return system_edit("share add", edit_share_add, &a, name);
    }
    if ((fd = connect_daemon("share", NULL)) < 0) {
        close(dir);
        return PORCH_CLI_EXIT_UNREACHABLE;
    }
    answer = porch_ctl_share_add(fd, dir, name, (const char *const *)r, (const char *const *)w,
                                 comment, hidden, &error);
    close(dir);
    close(fd);
    if (answer == NULL) {
        say("share add", "porchd refused", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    put_warnings("porch share add", answer);
    fputs("shared ", stdout);
    put(stdout, member_string(answer, "path"));
    fputs(" as '", stdout);
    put(stdout, member_string(answer, "name"));
    fputs("'\n", stdout);
    return PORCH_CLI_EXIT_OK;
}

static int
share_remove(int argc, char **argv, gboolean system)
{
    g_autoptr(JsonObject) answer = NULL;
    g_autoptr(GError) error = NULL;
    int fd;

    if (argc != 3) {
        porch_cli_usage_error("share", "share remove takes one share name");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (system)
        return system_edit("share remove", edit_share_remove, argv[2], NULL);
    if ((fd = connect_daemon("share", NULL)) < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    answer = porch_ctl_share_remove(fd, argv[2], &error);
    close(fd);
    if (answer == NULL) {
        say("share remove", "porchd refused", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    put_warnings("porch share remove", answer);
    fputs("no longer shared: ", stdout);
    put(stdout, argv[2]);
    fputc('\n', stdout);
    return PORCH_CLI_EXIT_OK;
}

static int
share_list(gboolean json)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    JsonArray *shares;
    int fd;

    if ((fd = connect_daemon("share", NULL)) < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    answer = porch_ctl_call_op(fd, "status", &error);
    close(fd);
    if (answer == NULL) {
        say("share list", "", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    shares = member_array(answer, "shares", NULL);
    if (json) {
        g_autoptr(GPtrArray) nodes =
                g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);

        for (guint i = 0; shares != NULL && i < json_array_get_length(shares); i++)
            g_ptr_array_add(nodes, json_node_copy(json_array_get_element(shares, i)));
        porch_cli_put_json_lines(nodes);
        return PORCH_CLI_EXIT_OK;
    }
    if (shares == NULL || json_array_get_length(shares) == 0)
        printf("nothing is shared (porch share add FOLDER shares one)\n");
    for (guint i = 0; shares != NULL && i < json_array_get_length(shares); i++)
        put_share_line(json_array_get_object_element(shares, i));
    return PORCH_CLI_EXIT_OK;
}

int
porch_cli_share(int argc, char **argv)
{
    g_autofree char *name = NULL;
    g_autofree char *comment = NULL;
    g_auto(GStrv) read = NULL;
    g_auto(GStrv) write = NULL;
    gboolean hidden = FALSE, json = FALSE, system = FALSE;
    GOptionEntry entries[] = {
            {"system", 0, 0, G_OPTION_ARG_NONE, &system,
             "add, remove: change porch.conf (root: any folder)", NULL},
            {"name", 0, 0, G_OPTION_ARG_STRING, &name,
             "add: the share's name (default: the folder's)", "NAME"},
            {"read", 0, 0, G_OPTION_ARG_STRING_ARRAY, &read,
             "add: who may read (peer, @group, *, guest; repeat it)", "WHO"},
            {"write", 0, 0, G_OPTION_ARG_STRING_ARRAY, &write,
             "add: who may also write, rename and delete", "WHO"},
            {"comment", 0, 0, G_OPTION_ARG_STRING, &comment, "add: a comment neighbours see",
             "TEXT"},
            {"hidden", 0, 0, G_OPTION_ARG_NONE, &hidden, "add: serve it without advertising it",
             NULL},
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "list: print JSON", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("add DIR | remove NAME | list");
    g_autoptr(GError) error = NULL;

    porch_cli_set_summary(ctx, "Share a folder of yours with neighbours, stop sharing it, or list "
                               "what the running porchd shares. No rule means nobody: name who "
                               "may read and who may write.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        porch_cli_usage_error("share", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc < 2 || strcmp(argv[1], "list") == 0) {
        if (argc > 2) {
            porch_cli_usage_error("share", "share list takes no argument");
            return PORCH_CLI_EXIT_USAGE;
        }
        return share_list(json);
    }
    if (json) {
        porch_cli_usage_error("share", "--json goes with list");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "add") == 0)
        return share_add(argc, argv, name, read, write, comment, hidden, system);
    if (strcmp(argv[1], "remove") == 0)
        return share_remove(argc, argv, system);
    porch_cli_usage_error("share", "expected add, remove or list");
    return PORCH_CLI_EXIT_USAGE;
}

/* ---- porch allow / deny ------------------------------------------------------------------ */

static int
rule(int argc, char **argv, gboolean allow)
{
    const char *command = allow ? "allow" : "deny";
    g_autoptr(GOptionContext) ctx = g_option_context_new("WHO read|write|print SHARE-OR-PRINTER");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = NULL;
    gboolean system = FALSE;
    GOptionEntry entries[] = {
            {"system", 0, 0, G_OPTION_ARG_NONE, &system,
             "Change porch.conf (its shares and printers; root)", NULL},
            G_OPTION_ENTRY_NULL,
    };
    int fd;

    porch_cli_set_summary(ctx, allow ? "Let WHO (a peer, @group, *, or guest) read or write a "
                                       "share, or print on a printer."
                                     : "Take from WHO the right to read or write a share (no "
                                       "read means no write either), or to print.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        porch_cli_usage_error(command, error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc != 4 || !(strcmp(argv[2], "read") == 0 || strcmp(argv[2], "write") == 0 ||
                       strcmp(argv[2], "print") == 0)) {
        porch_cli_usage_error(command, "expected WHO read|write|print SHARE-OR-PRINTER");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (system) {
        Rule r = {.who = argv[1], .right = argv[2], .target = argv[3], .allow = allow};
        return system_edit(command, edit_rule, &r, strcmp(argv[2], "print") != 0 ? argv[3] : NULL);
    }
    if (strcmp(argv[2], "print") == 0) {
        say(command, argv[3], "printers are shared in porch.conf: use --system, as root");
        return PORCH_CLI_EXIT_FAILED;
    }
    if ((fd = connect_daemon(command, NULL)) < 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    answer = porch_ctl_rule(fd, argv[1], argv[2], argv[3], allow, &error);
    close(fd);
    if (answer == NULL) {
        say(command, "porchd refused", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    put_warnings(allow ? "porch allow" : "porch deny", answer);
    return PORCH_CLI_EXIT_OK;
}

int
porch_cli_allow(int argc, char **argv)
{
    return rule(argc, argv, TRUE);
}

int
porch_cli_deny(int argc, char **argv)
{
    return rule(argc, argv, FALSE);
}
