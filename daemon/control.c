/* control.c — porchd's control socket (control.h, porch-control.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "fd-pass.h"
#include "launcher.h"
#include "porch-control.h"
#include "porch-pending.h"
#include "porch-risk.h"
#include "porch-state.h"
#include "usershares.h"

/* Local clients at once; more are closed at once. */
#define MAX_CLIENTS 32
/* A client that sends nothing for this long is let go. */
#define CLIENT_IDLE_SECONDS 60

struct _PorchControl {
    PorchControlContext ctx;
    char *path;
    int fd;
    guint watch;
    GHashTable *clients; /* Client* set */
};

typedef struct {
    PorchControl *control;
    int fd;
    uid_t uid;
    guint watch;
    guint idle;
} Client;

static void
client_free(Client *c)
{
    if (c->watch != 0)
        g_source_remove(c->watch);
    if (c->idle != 0)
        g_source_remove(c->idle);
    close(c->fd);
    g_free(c);
}

/* ---- answers -------------------------------------------------------------------------- */

static void
add_strv(JsonBuilder *b, const char *member, const char *const *v)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint i = 0; v != NULL && v[i] != NULL; i++)
        json_builder_add_string_value(b, v[i]);
    json_builder_end_array(b);
}

static void
add_string(JsonBuilder *b, const char *member, const char *value)
{
    json_builder_set_member_name(b, member);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
send_answer(Client *c, JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string(root, FALSE);

    if (send(c->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        g_debug("control: a client did not take its answer: %s", g_strerror(errno));
}

/* The start of an answer: "ok", and the warnings. The caller adds its members and ends it. */
static JsonBuilder *
begin_ok(const char *const *warnings)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, TRUE);
    add_strv(b, "warnings", warnings);
    return b;
}

static void
send_error(Client *c, const char *message)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, FALSE);
    add_string(b, "error", message);
    add_strv(b, "warnings", NULL);
    json_builder_end_object(b);
    send_answer(c, b);
}

/* ---- status ----------------------------------------------------------------------------- */

static void
add_rule(JsonBuilder *b, const char *member, const PorchRule *rule)
{
    add_strv(b, member, (const char *const *)rule->principals);
}

/* The inboxes of @user (NULL: all) as an array "inboxes": "name", "path", "owner", "user",
 * "online", "default", "accept", "ask", "max_size" (bytes, 0: none). */
static void
add_inboxes(JsonBuilder *b, const PorchConfig *config, const char *user)
{
    const PorchShare *def = porch_config_get_default_inbox(config);

    json_builder_set_member_name(b, "inboxes");
    json_builder_begin_array(b);
    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *s = porch_config_get_share(config, i);

        if (!s->inbox || (user != NULL && g_strcmp0(s->owner, user) != 0))
            continue;
        json_builder_begin_object(b);
        add_string(b, "name", s->name);
        add_string(b, "path", s->path);
        add_string(b, "owner", s->owner);
        json_builder_set_member_name(b, "user");
        json_builder_add_boolean_value(b, s->user);
        json_builder_set_member_name(b, "online");
        json_builder_add_boolean_value(b, !s->offline);
        json_builder_set_member_name(b, "default");
        json_builder_add_boolean_value(b, s == def);
        add_rule(b, "accept", &s->accept);
        add_rule(b, "ask", &s->ask);
        json_builder_set_member_name(b, "max_size");
        json_builder_add_int_value(b, (gint64)s->max_size);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
do_status(Client *c)
{
    PorchControl *ctl = c->control;
    g_autoptr(PorchConfig) config = porch_manager_get_config(ctl->ctx.manager);
    g_autoptr(JsonBuilder) b = begin_ok(NULL);
    const char *name = porch_config_has_name(config) || ctl->ctx.default_name == NULL
                               ? porch_config_get_name(config)
                               : ctl->ctx.default_name;

    json_builder_set_member_name(b, "daemon");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "system");
    json_builder_add_boolean_value(b, ctl->ctx.system);
    add_string(b, "name", name);
    json_builder_set_member_name(b, "port");
    json_builder_add_int_value(b, ctl->ctx.port);
    add_string(b, "fingerprint", ctl->ctx.fingerprint);
    add_string(b, "config", ctl->ctx.config_file);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, ctl->ctx.pid);
    json_builder_set_member_name(b, "user_shares");
    json_builder_add_boolean_value(b, porch_config_get_user_shares(config));
    json_builder_end_object(b);

    json_builder_set_member_name(b, "shares");
    json_builder_begin_array(b);
    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *s = porch_config_get_share(config, i);

        if (s->inbox)
            continue; /* in "inboxes" */
        json_builder_begin_object(b);
        add_string(b, "name", s->name);
        add_string(b, "path", s->path);
        add_string(b, "owner", s->owner);
        json_builder_set_member_name(b, "user");
        json_builder_add_boolean_value(b, s->user);
        json_builder_set_member_name(b, "online");
        json_builder_add_boolean_value(b, !s->offline);
        json_builder_set_member_name(b, "hidden");
        json_builder_add_boolean_value(b, s->hidden);
        add_string(b, "comment", s->comment);
        add_rule(b, "read", &s->read);
        add_rule(b, "write", &s->write);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    add_inboxes(b, config, NULL);

    json_builder_set_member_name(b, "printers");
    json_builder_begin_array(b);
    for (guint i = 0; i < porch_config_get_n_printers(config); i++) {
        const PorchPrinter *p = porch_config_get_printer(config, i);

        json_builder_begin_object(b);
        add_string(b, "name", p->name);
        add_string(b, "queue", p->queue);
        json_builder_set_member_name(b, "hidden");
        json_builder_add_boolean_value(b, p->hidden);
        add_rule(b, "print", &p->print);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "sessions");
    porch_listener_add_sessions(ctl->ctx.listener, b);
    json_builder_set_member_name(b, "transfers");
    porch_listener_add_transfers(ctl->ctx.listener, b);
    add_strv(b, "problems", porch_manager_get_problems(ctl->ctx.manager));
    if (ctl->ctx.indexer != NULL) {
        PorchIndexerStatus ix;

        porch_indexer_get_status(ctl->ctx.indexer, &ix);
        json_builder_set_member_name(b, "index");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "files");
        json_builder_add_int_value(b, (gint64)ix.files);
        json_builder_set_member_name(b, "bytes");
        json_builder_add_int_value(b, (gint64)ix.bytes);
        json_builder_set_member_name(b, "database_bytes");
        json_builder_add_int_value(b, (gint64)ix.db_bytes);
        json_builder_set_member_name(b, "hashed_bytes");
        json_builder_add_int_value(b, (gint64)ix.hashed_bytes);
        /* bytes hashed per second of hashing, since porchd started */
        json_builder_set_member_name(b, "hash_rate");
        json_builder_add_int_value(
                b, ix.hash_seconds > 0 ? (gint64)((double)ix.hashed_bytes / ix.hash_seconds) : 0);
        json_builder_set_member_name(b, "shares");
        json_builder_add_int_value(b, ix.shares);
        json_builder_set_member_name(b, "scanning");
        json_builder_add_int_value(b, ix.scanning);
        json_builder_end_object(b);
    }
    /* what a rule may name (porch-tray offers them) */
    json_builder_set_member_name(b, "peers");
    json_builder_begin_array(b);
    for (guint i = 0; i < porch_config_get_n_peers(config); i++)
        json_builder_add_string_value(b, porch_config_get_peer(config, i)->name);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "groups");
    json_builder_begin_array(b);
    for (guint i = 0; i < porch_config_get_n_groups(config); i++)
        json_builder_add_string_value(b, porch_config_get_group(config, i)->name);
    json_builder_end_array(b);
    /* which of them users accepted (kept with the user shares): only their owner's shares
     * may name them, and only the owner or root may forget them */
    json_builder_set_member_name(b, "user_peers");
    json_builder_begin_array(b);
    for (guint i = 0; i < porch_config_get_n_peers(config); i++) {
        const PorchPeer *p = porch_config_get_peer(config, i);

        if (p->owner == NULL)
            continue;
        json_builder_begin_object(b);
        add_string(b, "name", p->name);
        add_string(b, "owner", p->owner);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    send_answer(c, b);
}

static void
do_peers(Client *c)
{
    PorchControl *ctl = c->control;
    g_autoptr(PorchConfig) config = porch_manager_get_config(ctl->ctx.manager);
    g_autoptr(GPtrArray) list = porch_pending_list(
            ctl->ctx.state_dir, (gint64)porch_config_get_limit(config, PORCH_LIMIT_PENDING_EXPIRY));
    g_autoptr(JsonBuilder) b = begin_ok(NULL);

    json_builder_set_member_name(b, "peers");
    json_builder_begin_array(b);
    for (guint i = 0; list != NULL && i < list->len; i++) {
        porch_pending_peer_add_json(b, list->pdata[i]);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    send_answer(c, b);
}

/* ---- changes ------------------------------------------------------------------------------ */

/* The network side's reload, after the launcher's (the system service): the verdict. */
static gboolean
reload_all(PorchControl *ctl, GError **error)
{
    if (porch_workers_has_launcher(ctl->ctx.workers) &&
        !porch_workers_ask_launcher(ctl->ctx.workers, PORCH_LAUNCHER_RELOAD, NULL, 0, error))
        return FALSE;
    return ctl->ctx.reload(ctl->ctx.data, error);
}

static void
do_reload(Client *c)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = NULL;

    if (!reload_all(c->control, &error)) {
        send_error(c, error->message);
        return;
    }
    b = begin_ok(porch_manager_get_problems(c->control->ctx.manager));
    json_builder_end_object(b);
    send_answer(c, b);
}

/* Hands a change of user shares to whoever keeps them, with the caller's connection (and
 * @dir_fd, -1: none), and reloads. */
static gboolean
change_user_shares(Client *c, const char *request, int dir_fd, GError **error)
{
    PorchControl *ctl = c->control;
    g_autofree char *file = porch_state_file(ctl->ctx.state_dir, PORCH_STATE_USER_SHARES);

    if (porch_workers_has_launcher(ctl->ctx.workers)) {
        int fds[2] = {c->fd, dir_fd};

        if (!porch_workers_ask_launcher(ctl->ctx.workers, request, fds, dir_fd >= 0 ? 2 : 1, error))
            return FALSE;
    } else if (c->uid != getuid()) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "this porchd is %s's: it shares that user's folders only", g_get_user_name());
        return FALSE;
    } else if (g_str_has_prefix(request, PORCH_LAUNCHER_USER_SHARE_PUT)) {
        if (!porch_user_shares_put(file, ctl->ctx.config_file, c->uid, dir_fd,
                                   request + strlen(PORCH_LAUNCHER_USER_SHARE_PUT), NULL, error))
            return FALSE;
    } else if (!porch_user_shares_remove(
                       file, c->uid, request + strlen(PORCH_LAUNCHER_USER_SHARE_REMOVE), error)) {
        return FALSE;
    }
    return ctl->ctx.reload(ctl->ctx.data, error);
}

static GStrv
get_strv(JsonObject *o, const char *member)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    JsonNode *n = json_object_get_member(o, member);
    JsonArray *a;

    if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n))
        return g_strv_builder_end(b);
    a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a) && i < 1024; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
            g_strv_builder_add(b, json_node_get_string(e));
    }
    return g_strv_builder_end(b);
}

/* The pending request @which names: by fingerprint ("SHA256:..." or without the prefix),
 * else by the name it gave when no other request gives it; NULL with the reason. */
static PorchPendingPeer *
find_request(PorchControl *ctl, const char *which, char **why)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(ctl->ctx.manager);
    g_autoptr(GPtrArray) list = porch_pending_list(
            ctl->ctx.state_dir, (gint64)porch_config_get_limit(config, PORCH_LIMIT_PENDING_EXPIRY));
    guint n = 0;
    gint at = porch_pending_find(list, which, &n);

    if (at >= 0)
        return g_ptr_array_steal_index(list, (guint)at);
    *why = n == 0 ? g_strdup_printf("nobody called '%s' asked for access (porch peers lists "
                                    "the requests)",
                                    which)
                  : g_strdup_printf("%u requests go by '%s': name the one you mean by its "
                                    "fingerprint (porch peers lists them)",
                                    n, which);
    return NULL;
}

static void
add_request(JsonBuilder *b, const PorchPendingPeer *p)
{
    add_string(b, "fingerprint", p->fingerprint);
    add_string(b, "address", p->address);
}

/* peers-accept: a peer for the caller's own user shares (root's go into porch.conf, which
 * `porch peers accept` edits itself). */
static void
do_peers_accept(Client *c, JsonObject *req)
{
    const char *which = json_object_get_string_member_with_default(req, "which", NULL);
    const char *as = json_object_get_string_member_with_default(req, "as", NULL);
    g_auto(GStrv) read = get_strv(req, "read");
    g_auto(GStrv) write = get_strv(req, "write");
    g_autoptr(PorchPendingPeer) p = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *why = NULL;
    g_autofree char *section = NULL;
    g_autofree char *text = NULL;
    g_autofree char *request = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = NULL;
    const char *name;

    if (which == NULL) {
        send_error(c, "peers-accept needs which request");
        return;
    }
    if ((p = find_request(c->control, which, &why)) == NULL) {
        send_error(c, why);
        return;
    }
    /* a stranger chose the name it gave: by name only when it is a valid one and the
     * request was named by it */
    name = as != NULL ? as : p->name;
    if (!porch_config_peer_name_valid(name)) {
        g_autofree char *m = g_strdup_printf("'%s' is not a valid peer name: accept %s --as NAME",
                                             name != NULL ? name : "", p->fingerprint);
        send_error(c, m);
        return;
    }
    section = g_strconcat("peer ", name, NULL);
    g_key_file_set_string(kf, section, "key", p->key);
    if (read[0] != NULL)
        g_key_file_set_string_list(kf, section, "grant-read", (const char *const *)read,
                                   g_strv_length(read));
    if (write[0] != NULL)
        g_key_file_set_string_list(kf, section, "grant-write", (const char *const *)write,
                                   g_strv_length(write));
    text = g_key_file_to_data(kf, NULL, NULL);
    request = g_strconcat(PORCH_LAUNCHER_USER_PEER, text, NULL);
    if (!change_user_shares(c, request, -1, &error)) {
        send_error(c, error->message);
        return;
    }
    porch_pending_remove(c->control->ctx.state_dir, p->fingerprint);
    b = begin_ok(NULL);
    add_string(b, "name", name);
    add_request(b, p);
    json_builder_end_object(b);
    send_answer(c, b);
}

/* peers-deny: root's, or the per-user porchd's own user's, decision */
static void
do_peers_deny(Client *c, JsonObject *req)
{
    const char *which = json_object_get_string_member_with_default(req, "which", NULL);
    g_autoptr(PorchPendingPeer) p = NULL;
    g_autofree char *why = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = NULL;

    if (c->uid != 0 && (c->control->ctx.system || c->uid != getuid())) {
        send_error(c, "only root may turn requests away for the whole machine (you may accept "
                      "one into your own shares)");
        return;
    }
    if (which == NULL || (p = find_request(c->control, which, &why)) == NULL) {
        send_error(c, why != NULL ? why : "peers-deny needs which request");
        return;
    }
    if (!porch_pending_deny(c->control->ctx.state_dir, p->fingerprint, &error)) {
        send_error(c, error->message);
        return;
    }
    b = begin_ok(NULL);
    add_string(b, "name", p->name);
    add_request(b, p);
    json_builder_end_object(b);
    send_answer(c, b);
}

/* A change of the user shares named by @verb and @name alone (remove, forget): ok, or the
 * reason. */
static void
change_and_answer(Client *c, const char *verb, const char *name)
{
    g_autofree char *request = g_strconcat(verb, name, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = NULL;

    if (!change_user_shares(c, request, -1, &error)) {
        send_error(c, error->message);
        return;
    }
    b = begin_ok(NULL);
    json_builder_end_object(b);
    send_answer(c, b);
}

/* The answer to a change of [share @name]: ok, with the share as it is now served, or the
 * reason it is not. */
static void
answer_share(Client *c, const char *name)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(c->control->ctx.manager);
    const PorchShare *s = porch_config_find_share(config, name);
    g_autoptr(GStrvBuilder) warnings = g_strv_builder_new();
    g_auto(GStrv) w = NULL;
    g_autoptr(JsonBuilder) b = NULL;

    if (s == NULL) {
        send_error(c, "porchd took the change but serves no such share (see porch status)");
        return;
    }
    if (s->offline)
        g_strv_builder_add(warnings, "its folder cannot be seen now: the share is offline "
                                     "until it is back");
    {
        g_autoptr(GPtrArray) risks = porch_config_risks(config);

        for (guint i = 0; i < risks->len; i++) {
            const PorchRisk *r = risks->pdata[i];
            if (strcmp(r->share, s->name) == 0) {
                g_autofree char *line = g_strdup_printf("%s; %s", r->text, r->fix);
                g_strv_builder_add(warnings, line);
            }
        }
    }
    w = g_strv_builder_end(warnings);
    b = begin_ok((const char *const *)w);
    add_string(b, "name", s->name);
    add_string(b, "path", s->path);
    json_builder_end_object(b);
    send_answer(c, b);
}

static void
do_share_add(Client *c, JsonObject *req, int dir_fd)
{
    const char *name = json_object_get_string_member_with_default(req, "name", NULL);
    const char *comment = json_object_get_string_member_with_default(req, "comment", "");
    gboolean hidden = json_object_get_boolean_member_with_default(req, "hidden", FALSE);
    g_auto(GStrv) read = get_strv(req, "read");
    g_auto(GStrv) write = get_strv(req, "write");
    g_autofree char *section = NULL;
    g_autofree char *request = NULL;
    g_autoptr(GError) error = NULL;

    if (dir_fd < 0 || name == NULL) {
        send_error(c, "share-add needs a name and the folder");
        return;
    }
    section = porch_config_user_share_text(name, "/", "-", (const char *const *)read,
                                           (const char *const *)write, comment, hidden);
    if (section == NULL) {
        send_error(c, "that is not a share name: 1 to 63 bytes of UTF-8, without control "
                      "characters, '/', '[' or ']', not starting with '.'");
        return;
    }
    request = g_strconcat(PORCH_LAUNCHER_USER_SHARE_PUT, section, NULL);
    if (!change_user_shares(c, request, dir_fd, &error)) {
        send_error(c, error->message);
        return;
    }
    answer_share(c, name);
}

static void
do_share_remove(Client *c, JsonObject *req)
{
    const char *name = json_object_get_string_member_with_default(req, "name", NULL);
    g_autoptr(PorchConfig) config = porch_manager_get_config(c->control->ctx.manager);
    const PorchShare *s = name != NULL ? porch_config_find_share(config, name) : NULL;

    if (name == NULL || strchr(name, '\n') != NULL) {
        send_error(c, "share-remove needs a name");
        return;
    }
    if (s != NULL && s->inbox) {
        send_error(c, "that is an inbox: porch inbox disable removes it");
        return;
    }
    if (s != NULL && !s->user) {
        g_autofree char *m = g_strdup_printf(
                "[share %s] is in %s: remove it there (porch share remove --system, as root)",
                s->name, porch_config_get_origin(config));
        send_error(c, m);
        return;
    }
    change_and_answer(c, PORCH_LAUNCHER_USER_SHARE_REMOVE, name);
}

/* ---- inboxes ------------------------------------------------------------------------------ */

/* Whose offers @c may see and answer: NULL for all (root, or the per-user porchd's own user),
 * else the caller's user name ("" when the uid is no user: nobody's). */
static char *
offers_user(Client *c)
{
    struct passwd *pw;

    if (c->uid == 0 || (!c->control->ctx.system && c->uid == getuid()))
        return NULL;
    pw = getpwuid(c->uid);
    return g_strdup(pw != NULL ? pw->pw_name : "");
}

static void
do_inbox_enable(Client *c, JsonObject *req, int dir_fd)
{
    const char *name = json_object_get_string_member_with_default(req, "name", NULL);
    gint64 max_size = json_object_get_int_member_with_default(req, "max_size", 0);
    g_auto(GStrv) accept = get_strv(req, "accept");
    g_auto(GStrv) ask = get_strv(req, "ask");
    g_autofree char *section = NULL;
    g_autofree char *request = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchConfig) config = NULL;
    const PorchShare *s;
    g_autoptr(JsonBuilder) b = NULL;

    if (dir_fd < 0 || name == NULL || max_size < 0) {
        send_error(c, "inbox-enable needs a name and the folder");
        return;
    }
    section = porch_config_user_inbox_text(name, "/", "-", (const char *const *)accept,
                                           (const char *const *)ask, (guint64)max_size);
    if (section == NULL) {
        send_error(c, "that is not an inbox name: 1 to 63 bytes of UTF-8, without control "
                      "characters, '/', '[' or ']', not starting with '.'");
        return;
    }
    request = g_strconcat(PORCH_LAUNCHER_USER_SHARE_PUT, section, NULL);
    if (!change_user_shares(c, request, dir_fd, &error)) {
        send_error(c, error->message);
        return;
    }
    config = porch_manager_get_config(c->control->ctx.manager);
    s = porch_config_find_share(config, name);
    if (s == NULL || !s->inbox) {
        send_error(c, "porchd took the change but serves no such inbox (see porch status)");
        return;
    }
    b = begin_ok(NULL);
    add_string(b, "name", s->name);
    add_string(b, "path", s->path);
    json_builder_set_member_name(b, "default");
    json_builder_add_boolean_value(b, porch_config_get_default_inbox(config) == s);
    json_builder_end_object(b);
    send_answer(c, b);
}

static void
do_inbox_disable(Client *c, JsonObject *req)
{
    const char *name = json_object_get_string_member_with_default(req, "name", NULL);
    g_autoptr(PorchConfig) config = porch_manager_get_config(c->control->ctx.manager);
    const PorchShare *s = name != NULL ? porch_config_find_share(config, name) : NULL;

    if (name == NULL || strchr(name, '\n') != NULL) {
        send_error(c, "inbox-disable needs a name");
        return;
    }
    if (s == NULL || !s->inbox) {
        g_autofree char *m = g_strdup_printf("there is no inbox '%s' (porch inbox list shows "
                                             "them)",
                                             name);
        send_error(c, m);
        return;
    }
    if (!s->user) {
        g_autofree char *m = g_strdup_printf("[inbox %s] is in %s: remove it there, as root",
                                             s->name, porch_config_get_origin(config));
        send_error(c, m);
        return;
    }
    change_and_answer(c, PORCH_LAUNCHER_USER_SHARE_REMOVE, s->name);
}

static void
do_inbox_list(Client *c)
{
    g_autoptr(PorchConfig) config = porch_manager_get_config(c->control->ctx.manager);
    g_autofree char *user = offers_user(c);
    g_autoptr(JsonBuilder) b = begin_ok(NULL);

    add_inboxes(b, config, user);
    json_builder_set_member_name(b, "offers");
    porch_offers_add_json(porch_listener_get_offers(c->control->ctx.listener), b, user);
    json_builder_end_object(b);
    send_answer(c, b);
}

static void
do_inbox_answer(Client *c, JsonObject *req, gboolean accept)
{
    gint64 id = json_object_get_int_member_with_default(req, "id", 0);
    g_autofree char *user = offers_user(c);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonBuilder) b = NULL;

    if (id <= 0 || id > G_MAXUINT ||
        !porch_offers_answer(porch_listener_get_offers(c->control->ctx.listener), (guint)id, user,
                             accept, &error)) {
        send_error(c, error != NULL ? error->message : "inbox-accept needs the offer's id");
        return;
    }
    b = begin_ok(NULL);
    json_builder_end_object(b);
    send_answer(c, b);
}

/* peers-forget: a peer the caller accepted into their user shares */
static void
do_peers_forget(Client *c, JsonObject *req)
{
    const char *name = json_object_get_string_member_with_default(req, "name", NULL);

    if (name == NULL || strchr(name, '\n') != NULL) {
        send_error(c, "peers-forget needs a name");
        return;
    }
    change_and_answer(c, PORCH_LAUNCHER_USER_PEER_FORGET, name);
}

/* @v with @who added (no duplicate) or removed. */
static GStrv
edit_list(const char *const *v, const char *who, gboolean add)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (guint i = 0; v != NULL && v[i] != NULL; i++)
        if (strcmp(v[i], who) != 0)
            g_strv_builder_add(b, v[i]);
    if (add)
        g_strv_builder_add(b, who);
    return g_strv_builder_end(b);
}

static void
do_rule(Client *c, JsonObject *req)
{
    const char *who = json_object_get_string_member_with_default(req, "who", NULL);
    const char *right = json_object_get_string_member_with_default(req, "right", "");
    const char *name = json_object_get_string_member_with_default(req, "share", NULL);
    gboolean allow = json_object_get_boolean_member_with_default(req, "allow", TRUE);
    g_autoptr(PorchConfig) config = porch_manager_get_config(c->control->ctx.manager);
    const PorchShare *s = name != NULL ? porch_config_find_share(config, name) : NULL;
    g_auto(GStrv) read = NULL;
    g_auto(GStrv) write = NULL;
    g_autofree char *section = NULL;
    g_autofree char *request = NULL;
    g_autoptr(GError) error = NULL;
    gboolean is_read = strcmp(right, "read") == 0, is_write = strcmp(right, "write") == 0;

    if (who == NULL || name == NULL || !(is_read || is_write)) {
        send_error(c, "rule needs who, right (read or write) and share");
        return;
    }
    if (s == NULL) {
        g_autofree char *m = g_strdup_printf("there is no share '%s' (porch share list shows "
                                             "them)",
                                             name);
        send_error(c, m);
        return;
    }
    if (!s->user) {
        g_autofree char *m = g_strdup_printf("[share %s] is in %s: change it there (with "
                                             "--system, as root)",
                                             s->name, porch_config_get_origin(config));
        send_error(c, m);
        return;
    }
    /* write implies read: denying read takes write too; the other changes touch one rule */
    read = is_read ? edit_list((const char *const *)s->read.principals, who, allow)
                   : g_strdupv(s->read.principals);
    write = is_write || !allow
                    ? edit_list((const char *const *)s->write.principals, who, allow && is_write)
                    : g_strdupv(s->write.principals);
    section = porch_config_user_share_text(s->name, "/", "-", (const char *const *)read,
                                           (const char *const *)write, s->comment, s->hidden);
    request = g_strconcat(PORCH_LAUNCHER_USER_SHARE_PUT, section, NULL);
    if (!change_user_shares(c, request, -1, &error)) {
        send_error(c, error->message);
        return;
    }
    answer_share(c, s->name);
}

/* ---- the socket ------------------------------------------------------------------------ */

static gboolean
on_idle_client(gpointer user_data)
{
    Client *c = user_data;

    c->idle = 0;
    g_hash_table_remove(c->control->clients, c);
    return G_SOURCE_REMOVE;
}

static gboolean
on_client(int fd, GIOCondition cond, gpointer user_data)
{
    Client *c = user_data;
    g_autofree char *buf = g_malloc(PORCH_CTL_REQUEST_MAX + 1);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *req;
    const char *op;
    guint n_fds = 0;
    int fds[1] = {-1};
    gssize n = porch_fd_recv(fd, buf, PORCH_CTL_REQUEST_MAX, fds, 1, &n_fds);

    if (n <= 0 || !json_parser_load_from_data(parser, buf, n, NULL) ||
        (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root) ||
        (op = json_object_get_string_member_with_default(req = json_node_get_object(root), "op",
                                                         NULL)) == NULL) {
        if (n != 0)
            g_message("control: a malformed request from uid %u; closing", (guint)c->uid);
        if (n_fds > 0)
            close(fds[0]);
        c->watch = 0;
        g_hash_table_remove(c->control->clients, c);
        return G_SOURCE_REMOVE;
    }
    if (c->idle != 0)
        g_source_remove(c->idle);
    c->idle = g_timeout_add_seconds(CLIENT_IDLE_SECONDS, on_idle_client, c);
    if (strcmp(op, "status") == 0)
        do_status(c);
    else if (strcmp(op, "peers") == 0)
        do_peers(c);
    else if (strcmp(op, "reload") == 0)
        do_reload(c);
    else if (strcmp(op, "share-add") == 0)
        do_share_add(c, req, n_fds > 0 ? fds[0] : -1);
    else if (strcmp(op, "share-remove") == 0)
        do_share_remove(c, req);
    else if (strcmp(op, "rule") == 0)
        do_rule(c, req);
    else if (strcmp(op, "peers-accept") == 0)
        do_peers_accept(c, req);
    else if (strcmp(op, "peers-deny") == 0)
        do_peers_deny(c, req);
    else if (strcmp(op, "peers-forget") == 0)
        do_peers_forget(c, req);
    else if (strcmp(op, "inbox-enable") == 0)
        do_inbox_enable(c, req, n_fds > 0 ? fds[0] : -1);
    else if (strcmp(op, "inbox-disable") == 0)
        do_inbox_disable(c, req);
    else if (strcmp(op, "inbox-list") == 0)
        do_inbox_list(c);
    else if (strcmp(op, "inbox-accept") == 0)
        do_inbox_answer(c, req, TRUE);
    else if (strcmp(op, "inbox-decline") == 0)
        do_inbox_answer(c, req, FALSE);
    else
        send_error(c, "unknown request (a newer porch than this porchd?)");
    if (n_fds > 0)
        close(fds[0]);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_accept(int fd, GIOCondition cond, gpointer user_data)
{
    PorchControl *ctl = user_data;
    g_autoptr(GError) error = NULL;
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    int size = PORCH_CTL_REPLY_MAX;
    Client *c;
    uid_t uid;

    if (s < 0)
        return G_SOURCE_CONTINUE;
    if (g_hash_table_size(ctl->clients) >= MAX_CLIENTS ||
        !porch_user_shares_caller(s, &uid, &error)) {
        close(s);
        return G_SOURCE_CONTINUE;
    }
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    c = g_new0(Client, 1);
    c->control = ctl;
    c->fd = s;
    c->uid = uid;
    c->watch = g_unix_fd_add(s, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client, c);
    c->idle = g_timeout_add_seconds(CLIENT_IDLE_SECONDS, on_idle_client, c);
    g_hash_table_add(ctl->clients, c);
    return G_SOURCE_CONTINUE;
}

PorchControl *
porch_control_new(const char *dir, const PorchControlContext *ctx, GError **error)
{
    g_autofree char *path = g_build_filename(dir, PORCH_CTL_SOCKET, NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    PorchControl *ctl;
    mode_t mode = ctx->system ? 0666 : 0600;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "%s: too long a path", path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    if (g_mkdir_with_parents(dir, ctx->system ? 0755 : 0700) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    /* the folder is this process's (the launcher gave it to porch): its mode is ours to keep */
    if (chmod(dir, ctx->system ? 0755 : 0700) != 0)
        g_debug("control: cannot set the mode of %s: %s", dir, g_strerror(errno));
    /* a socket left by a porchd that was killed; a live one holds its pid file, checked
     * before this by the listening port */
    if (unlink(path) != 0 && errno != ENOENT) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, mode) != 0 ||
        listen(fd, 16) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    ctl = g_new0(PorchControl, 1);
    ctl->ctx = *ctx;
    ctl->path = g_steal_pointer(&path);
    ctl->fd = fd;
    ctl->clients =
            g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify)client_free, NULL);
    ctl->watch = g_unix_fd_add(fd, G_IO_IN, on_accept, ctl);
    return ctl;
}

void
porch_control_free(PorchControl *ctl)
{
    if (ctl == NULL)
        return;
    g_source_remove(ctl->watch);
    g_hash_table_unref(ctl->clients);
    close(ctl->fd);
    unlink(ctl->path);
    g_free(ctl->path);
    g_free(ctl);
}
