/* tray-sharing.c — the tray's Sharing window and the requests for access as notifications
 * (tray-sharing.h), through porchd's control socket (shared/porch-control.h): each exchange in
 * a GTask worker thread with a connection of its own, its outcome applied on the main thread. */
#include <errno.h>
#include <fcntl.h>
#include <handy.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "porch-config.h"
#include "porch-control.h"
#include "tray-sharing.h"

struct _PorchTraySharing {
    GObject parent_instance;
    PorchTrayModel *model;
    PorchTrayControlConnect connect;
    gpointer connect_data;
    char *user; /* whose user shares are "yours" */
    guint timer;
    gboolean started;
    gboolean busy;  /* a refresh runs */
    gboolean again; /* and another is wanted after it */
    guint answers;
    /* what porchd said last */
    JsonObject *status; /* NULL: no answer (yet), see error */
    char *error;
    GPtrArray *requests;  /* JsonObject*: porchd's requests for access, not denied here */
    GHashTable *notified; /* fingerprints notified of */
    GHashTable *denied;   /* fingerprints denied here */
    char *shown;          /* what the window shows, as text: rebuilt only when it changes */
    /* the window */
    GtkWidget *window, *header, *share_button, *stack, *none_page, *infobar, *info_label, *content;
    GtkFileChooserNative *chooser;
    GtkWidget *dialog;  /* the share, change or allow dialog */
    char *allow_wanted; /* a request's Allow…, waiting for porchd's status */
};

G_DEFINE_FINAL_TYPE(PorchTraySharing, porch_tray_sharing, G_TYPE_OBJECT)

static void refresh(PorchTraySharing *self);

static void
a11y(GtkWidget *w, const char *name)
{
    atk_object_set_name(gtk_widget_get_accessible(w), name);
}

static const char *
member_string(JsonObject *o, const char *member)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;

    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static JsonArray *
member_array(JsonObject *o, const char *member)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;

    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* The objects of the array @member of @o, or none. */
static guint
n_objects(JsonObject *o, const char *member)
{
    JsonArray *a = member_array(o, member);

    return a != NULL ? json_array_get_length(a) : 0;
}

static JsonObject *
object_at(JsonObject *o, const char *member, guint i)
{
    JsonNode *n = json_array_get_element(member_array(o, member), i);

    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* ------------------------------------------------------------------------------------------
 * Exchanges with porchd, in worker threads */

typedef enum {
    JOB_REFRESH,
    JOB_ADD,
    JOB_REMOVE,
    JOB_RULES,
    JOB_ACCEPT,
    JOB_DENY,
    JOB_FORGET
} JobKind;

typedef struct {
    char *who, *right, *share;
    gboolean allow;
} RuleChange;

static void
rule_change_free(RuleChange *r)
{
    g_free(r->who);
    g_free(r->right);
    g_free(r->share);
    g_free(r);
}

/* What a worker reads and writes: its own, never the PorchTraySharing's. */
typedef struct {
    JobKind kind;
    gboolean want_status;
    PorchTrayControlConnect connect;
    gpointer connect_data;
    char *path, *name; /* add: the folder and the share's name; remove: the name; accept,
                        * deny: the request's fingerprint; forget: the peer */
    char *as;          /* accept: the peer's name; deny: the request's name */
    GStrv read, write;
    GPtrArray *rules; /* RuleChange* */
    /* the outcome */
    JsonObject *status, *peers;
    GStrv warnings;
    char *done; /* what was done, a sentence */
} Job;

static void
job_free(Job *job)
{
    g_free(job->path);
    g_free(job->name);
    g_free(job->as);
    g_strfreev(job->read);
    g_strfreev(job->write);
    g_clear_pointer(&job->rules, g_ptr_array_unref);
    g_clear_pointer(&job->status, json_object_unref);
    g_clear_pointer(&job->peers, json_object_unref);
    g_strfreev(job->warnings);
    g_free(job->done);
    g_free(job);
}

static void
add_warnings(GStrvBuilder *b, JsonObject *answer)
{
    g_auto(GStrv) w = porch_ctl_get_strv(answer, "warnings");

    g_strv_builder_addv(b, (const char **)w);
}

static gboolean
do_change(Job *job, int sock, GStrvBuilder *warnings, GError **error)
{
    g_autoptr(JsonObject) answer = NULL;

    switch (job->kind) {
    case JOB_ADD: {
        int dir = open(job->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dir < 0) {
            int e = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", job->path,
                        g_strerror(e));
            return FALSE;
        }
        answer = porch_ctl_share_add(sock, dir, job->name, (const char *const *)job->read,
                                     (const char *const *)job->write, "", FALSE, error);
        close(dir);
        if (answer == NULL)
            return FALSE;
        add_warnings(warnings, answer);
        job->done = g_strdup_printf(
                "Shared %s as “%s”.",
                member_string(answer, "path") ? member_string(answer, "path") : job->path,
                member_string(answer, "name") ? member_string(answer, "name") : job->name);
        return TRUE;
    }
    case JOB_REMOVE:
        answer = porch_ctl_share_remove(sock, job->name, error);
        if (answer == NULL)
            return FALSE;
        add_warnings(warnings, answer);
        job->done = g_strdup_printf("“%s” is no longer shared.", job->name);
        return TRUE;
    case JOB_RULES:
        for (guint i = 0; i < job->rules->len; i++) {
            RuleChange *r = job->rules->pdata[i];
            g_autoptr(JsonObject) a =
                    porch_ctl_rule(sock, r->who, r->right, r->share, r->allow, error);

            if (a == NULL)
                return FALSE;
            add_warnings(warnings, a);
        }
        job->done = g_strdup("porchd took the change.");
        return TRUE;
    case JOB_ACCEPT: {
        g_autofree char *read = NULL;
        g_autofree char *write = NULL;

        answer = porch_ctl_peers_accept(sock, job->name, job->as, (const char *const *)job->read,
                                        (const char *const *)job->write, error);
        if (answer == NULL)
            return FALSE;
        add_warnings(warnings, answer);
        read = g_strjoinv(", ", job->read);
        write = g_strjoinv(", ", job->write);
        job->done = g_strdup_printf("%s may now read %s%s%s.",
                                    member_string(answer, "name") ? member_string(answer, "name")
                                                                  : job->as,
                                    read, job->write[0] != NULL ? " and write in " : "", write);
        return TRUE;
    }
    case JOB_DENY:
        answer = porch_ctl_peers_deny(sock, job->name, error);
        if (answer == NULL)
            return FALSE;
        job->done = g_strdup_printf(
                "Turned %s away: porchd will not list that key's requests again.", job->as);
        return TRUE;
    case JOB_FORGET:
        answer = porch_ctl_peers_forget(sock, job->name, error);
        if (answer == NULL)
            return FALSE;
        job->done = g_strdup_printf("Forgot %s: it may use none of your shares now.", job->name);
        return TRUE;
    case JOB_REFRESH:
        break;
    }
    return TRUE;
}

static void
job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Job *job = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GStrvBuilder) warnings = g_strv_builder_new();
    gboolean system = FALSE;
    int sock = job->connect != NULL ? job->connect(&system, &error, job->connect_data)
                                    : porch_ctl_connect(&system, &error);

    if (sock < 0) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (!do_change(job, sock, warnings, &error)) {
        close(sock);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    job->warnings = g_strv_builder_end(warnings);
    /* the state after the change (a failure here is no failure of the change) */
    if (job->want_status)
        job->status = porch_ctl_call_op(sock, "status", job->kind == JOB_REFRESH ? &error : NULL);
    if (job->status == NULL && error != NULL) {
        close(sock);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    job->peers = porch_ctl_call_op(sock, "peers", NULL);
    close(sock);
    g_task_return_boolean(task, TRUE);
}

/* ------------------------------------------------------------------------------------------
 * Notifications of requests for access */

static void
notify_request(PorchTraySharing *self, JsonObject *req)
{
    GApplication *app = G_APPLICATION(porch_tray_model_get_application(self->model));
    const char *fp = member_string(req, "fingerprint");
    const char *name = member_string(req, "name");
    const char *address = member_string(req, "address");
    g_autoptr(GNotification) note = NULL;
    g_autofree char *id = NULL;
    g_autofree char *title = NULL;
    g_autofree char *body = NULL;

    /* Notifications go through the session bus: none, none to send (the window lists them). */
    if (app == NULL || g_application_get_dbus_connection(app) == NULL || fp == NULL)
        return;
    id = g_strconcat("access-", fp, NULL);
    title = g_strdup_printf("%s asks to use your shares", name != NULL ? name : "A neighbour");
    body = g_strdup_printf("From %s, with the key %s. Allow… lets you pick what it may use.",
                           address != NULL ? address : "an unknown address", fp);
    note = g_notification_new(title);
    g_notification_set_body(note, body);
    g_notification_set_default_action_and_target(note, "app.sharing-allow", "s", fp);
    g_notification_add_button_with_target(note, "Allow…", "app.sharing-allow", "s", fp);
    g_notification_add_button_with_target(note, "Deny", "app.sharing-deny", "s", fp);
    g_application_send_notification(app, id, note);
}

static void
withdraw_request(PorchTraySharing *self, const char *fp)
{
    GApplication *app = G_APPLICATION(porch_tray_model_get_application(self->model));
    g_autofree char *id = g_strconcat("access-", fp, NULL);

    if (app != NULL && g_application_get_dbus_connection(app) != NULL)
        g_application_withdraw_notification(app, id);
}

/* porchd's requests for access (its "peers" answer): kept, and the new ones notified. */
static void
take_requests(PorchTraySharing *self, JsonObject *peers)
{
    g_ptr_array_set_size(self->requests, 0);
    for (guint i = 0; i < n_objects(peers, "peers"); i++) {
        JsonObject *req = object_at(peers, "peers", i);
        const char *fp = member_string(req, "fingerprint");

        if (req == NULL || fp == NULL || g_hash_table_contains(self->denied, fp))
            continue;
        g_ptr_array_add(self->requests, json_object_ref(req));
        if (!g_hash_table_contains(self->notified, fp)) {
            g_hash_table_add(self->notified, g_strdup(fp));
            notify_request(self, req);
        }
    }
}

static JsonObject *
find_request(PorchTraySharing *self, const char *fp)
{
    for (guint i = 0; i < self->requests->len; i++)
        if (g_strcmp0(member_string(self->requests->pdata[i], "fingerprint"), fp) == 0)
            return self->requests->pdata[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * The window */

static void update_window(PorchTraySharing *self);

/* A principal as a user reads it. */
static char *
principal_label(const char *p)
{
    if (strcmp(p, "guest") == 0)
        return g_strdup("guests (anyone, no key)");
    if (strcmp(p, "*") == 0)
        return g_strdup("every known peer");
    if (p[0] == '@')
        return g_strdup_printf("the group %s", p + 1);
    return g_strdup(p);
}

static char *
rule_text(JsonObject *share, const char *member)
{
    g_auto(GStrv) v = porch_ctl_get_strv(share, member);
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; v[i] != NULL; i++) {
        g_autofree char *label = principal_label(v[i]);
        g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", label);
    }
    return s->len > 0 ? g_string_free(g_steal_pointer(&s), FALSE) : g_strdup("nobody");
}

static const char *
me(PorchTraySharing *self)
{
    return self->user != NULL ? self->user : g_get_user_name();
}

static gboolean
is_mine(PorchTraySharing *self, JsonObject *share)
{
    return json_object_get_boolean_member_with_default(share, "user", FALSE) &&
           g_strcmp0(member_string(share, "owner"), me(self)) == 0;
}

/* Who accepted the peer @name into their user shares (status's "user_peers"); NULL: a peer of
 * porch.conf's. */
static const char *
peer_owner(PorchTraySharing *self, const char *name)
{
    for (guint i = 0; i < n_objects(self->status, "user_peers"); i++) {
        JsonObject *p = object_at(self->status, "user_peers", i);

        if (p != NULL && g_strcmp0(member_string(p, "name"), name) == 0)
            return member_string(p, "owner");
    }
    return NULL;
}

static void
set_info(PorchTraySharing *self, GtkMessageType type, const char *text)
{
    if (self->infobar == NULL)
        return;
    gtk_info_bar_set_message_type(GTK_INFO_BAR(self->infobar), type);
    gtk_label_set_text(GTK_LABEL(self->info_label), text);
    gtk_widget_set_visible(self->infobar, text != NULL && text[0] != '\0');
}

static void
on_infobar_response(GtkInfoBar *bar, int response, gpointer data)
{
    gtk_widget_hide(GTK_WIDGET(bar));
}

static void start_job(PorchTraySharing *self, Job *job);

static Job *
job_new(JobKind kind)
{
    Job *job = g_new0(Job, 1);

    job->kind = kind;
    job->want_status = TRUE;
    return job;
}

static void
on_remove_clicked(GtkButton *button, gpointer data)
{
    PorchTraySharing *self = data;
    Job *job = job_new(JOB_REMOVE);

    job->name = g_strdup(g_object_get_data(G_OBJECT(button), "porch-share"));
    start_job(self, job);
}

static void
on_forget_clicked(GtkButton *button, gpointer data)
{
    PorchTraySharing *self = data;
    Job *job = job_new(JOB_FORGET);

    job->name = g_strdup(g_object_get_data(G_OBJECT(button), "porch-peer"));
    start_job(self, job);
}

static void show_who_dialog(PorchTraySharing *self, const char *path, JsonObject *share);
static GtkWindow *show_allow_dialog(PorchTraySharing *self, JsonObject *req);

static void
on_change_clicked(GtkButton *button, gpointer data)
{
    PorchTraySharing *self = data;
    const char *name = g_object_get_data(G_OBJECT(button), "porch-share");

    for (guint i = 0; i < n_objects(self->status, "shares"); i++) {
        JsonObject *s = object_at(self->status, "shares", i);
        if (s != NULL && g_strcmp0(member_string(s, "name"), name) == 0)
            show_who_dialog(self, NULL, s);
    }
}

static void
on_request_allow(GtkButton *button, gpointer data)
{
    porch_tray_sharing_allow(data, g_object_get_data(G_OBJECT(button), "porch-fingerprint"));
}

static void
on_request_deny(GtkButton *button, gpointer data)
{
    porch_tray_sharing_deny(data, g_object_get_data(G_OBJECT(button), "porch-fingerprint"));
}

static GtkWidget *
row_button(GtkWidget *row, const char *label, const char *accessible, const char *key,
           const char *value, GCallback cb, gpointer data)
{
    GtkWidget *b = gtk_button_new_with_mnemonic(label);

    a11y(b, accessible);
    gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
    g_object_set_data_full(G_OBJECT(b), key, g_strdup(value), g_free);
    g_signal_connect(b, "clicked", cb, data);
    gtk_container_add(GTK_CONTAINER(row), b);
    return b;
}

static GtkWidget *
new_row(const char *title, const char *subtitle)
{
    GtkWidget *row = hdy_action_row_new();

    hdy_preferences_row_set_title(HDY_PREFERENCES_ROW(row), title);
    hdy_action_row_set_subtitle(HDY_ACTION_ROW(row), subtitle);
    hdy_action_row_set_subtitle_lines(HDY_ACTION_ROW(row), 4);
    hdy_action_row_set_title_lines(HDY_ACTION_ROW(row), 1);
    gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
    a11y(row, title);
    return row;
}

static GtkWidget *
new_group(GtkWidget *content, const char *title, const char *description)
{
    GtkWidget *g = hdy_preferences_group_new();

    hdy_preferences_group_set_title(HDY_PREFERENCES_GROUP(g), title);
    if (description != NULL)
        hdy_preferences_group_set_description(HDY_PREFERENCES_GROUP(g), description);
    gtk_container_add(GTK_CONTAINER(content), g);
    return g;
}

static void
fill_shares(PorchTraySharing *self)
{
    GtkWidget *g = new_group(self->content, "Shared folders",
                             "What neighbours may open on this computer, and who may.");
    guint n = n_objects(self->status, "shares");

    if (n == 0)
        gtk_container_add(GTK_CONTAINER(g),
                          new_row("Nothing is shared", "Share a folder… (above) shares one."));
    for (guint i = 0; i < n; i++) {
        JsonObject *s = object_at(self->status, "shares", i);
        const char *name = member_string(s, "name");
        const char *owner = member_string(s, "owner");
        gboolean online = json_object_get_boolean_member_with_default(s, "online", FALSE);
        g_autofree char *read = NULL;
        g_autofree char *write = NULL;
        g_autofree char *whose = NULL;
        g_autofree char *subtitle = NULL;
        g_autofree char *a11y_text = NULL;
        GtkWidget *row;

        if (s == NULL || name == NULL)
            continue;
        read = rule_text(s, "read");
        write = rule_text(s, "write");
        if (is_mine(self, s))
            whose = g_strdup("your user share");
        else if (json_object_get_boolean_member_with_default(s, "user", FALSE))
            whose = g_strdup_printf("%s's user share", owner != NULL ? owner : "someone");
        else
            whose = g_strdup("the administrator's (porch.conf)");
        subtitle =
                g_strdup_printf("%s — %s — %s\nRead: %s\nWrite: %s",
                                online ? "Online" : "Offline: its folder cannot be seen now",
                                member_string(s, "path") != NULL ? member_string(s, "path") : "?",
                                whose, read, write);
        row = new_row(name, subtitle);
        a11y_text = g_strdup_printf("%s, %s", name, online ? "online" : "offline");
        a11y(row, a11y_text);
        g_object_set_data_full(G_OBJECT(row), "porch-share", g_strdup(name), g_free);
        g_object_set_data(G_OBJECT(row), "porch-online", GINT_TO_POINTER(online));
        if (is_mine(self, s)) {
            g_autofree char *change = g_strdup_printf("Change who may use %s", name);
            g_autofree char *stop = g_strdup_printf("Stop sharing %s", name);

            row_button(row, "_Change…", change, "porch-share", name, G_CALLBACK(on_change_clicked),
                       self);
            row_button(row, "_Stop sharing", stop, "porch-share", name,
                       G_CALLBACK(on_remove_clicked), self);
        }
        gtk_container_add(GTK_CONTAINER(g), row);
    }
}

static void
fill_requests(PorchTraySharing *self)
{
    GtkWidget *g;

    if (self->requests->len == 0)
        return;
    g = new_group(self->content, "Asking for access",
                  "Neighbours whose keys this computer does not know tried to connect.");
    for (guint i = 0; i < self->requests->len; i++) {
        JsonObject *r = self->requests->pdata[i];
        const char *fp = member_string(r, "fingerprint");
        const char *name = member_string(r, "name") ? member_string(r, "name") : "?";
        g_autofree char *subtitle =
                g_strdup_printf("Key %s, from %s, %" G_GINT64_FORMAT " attempt(s)", fp,
                                member_string(r, "address") ? member_string(r, "address") : "?",
                                json_object_get_int_member_with_default(r, "attempts", 0));
        g_autofree char *allow = g_strdup_printf("Allow %s…", name);
        g_autofree char *deny = g_strdup_printf("Deny %s", name);
        GtkWidget *row = new_row(name, subtitle);

        row_button(row, "_Allow…", allow, "porch-fingerprint", fp, G_CALLBACK(on_request_allow),
                   self);
        row_button(row, "_Deny", deny, "porch-fingerprint", fp, G_CALLBACK(on_request_deny), self);
        gtk_container_add(GTK_CONTAINER(g), row);
    }
}

/* The peers this user accepted into their own shares, each with what it may use, and Forget. */
static void
fill_peers(PorchTraySharing *self)
{
    GtkWidget *g = NULL;

    for (guint i = 0; i < n_objects(self->status, "user_peers"); i++) {
        JsonObject *p = object_at(self->status, "user_peers", i);
        const char *name = member_string(p, "name");
        g_autoptr(GString) may = g_string_new(NULL);
        g_autofree char *forget = NULL;
        GtkWidget *row;

        if (name == NULL || g_strcmp0(member_string(p, "owner"), me(self)) != 0)
            continue;
        if (g == NULL)
            g = new_group(self->content, "Neighbours you let in",
                          "Peers you accepted into your own shares. Forget takes one out of "
                          "all of them.");
        for (guint j = 0; j < n_objects(self->status, "shares"); j++) {
            JsonObject *s = object_at(self->status, "shares", j);
            g_auto(GStrv) read = porch_ctl_get_strv(s, "read");
            g_auto(GStrv) write = porch_ctl_get_strv(s, "write");

            if (s == NULL || !is_mine(self, s))
                continue;
            if (g_strv_contains((const char *const *)write, name))
                g_string_append_printf(may, "%s%s (read and write)", may->len ? ", " : "",
                                       member_string(s, "name"));
            else if (g_strv_contains((const char *const *)read, name))
                g_string_append_printf(may, "%s%s (read)", may->len ? ", " : "",
                                       member_string(s, "name"));
        }
        if (may->len == 0)
            g_string_append(may, "no share of yours now");
        g_string_prepend(may, "May use: ");
        row = new_row(name, may->str);
        forget = g_strdup_printf("Forget %s", name);
        row_button(row, "_Forget", forget, "porch-peer", name, G_CALLBACK(on_forget_clicked), self);
        gtk_container_add(GTK_CONTAINER(g), row);
    }
}

static char *
clock_time(gint64 t)
{
    g_autoptr(GDateTime) d = g_date_time_new_from_unix_local(t);

    return d != NULL ? g_date_time_format(d, "%H:%M") : g_strdup("?");
}

static void
fill_sessions(PorchTraySharing *self)
{
    GtkWidget *g = new_group(self->content, "Connected now", NULL);
    guint n = n_objects(self->status, "sessions");

    if (n == 0)
        gtk_container_add(GTK_CONTAINER(g), new_row("Nobody", "No neighbour is connected."));
    for (guint i = 0; i < n; i++) {
        JsonObject *s = object_at(self->status, "sessions", i);
        const char *peer = member_string(s, "peer");
        g_autofree char *since = NULL;
        g_autofree char *subtitle = NULL;

        if (s == NULL)
            continue;
        since = clock_time(json_object_get_int_member_with_default(s, "since", 0));
        subtitle = g_strdup_printf("From %s since %s",
                                   member_string(s, "address") ? member_string(s, "address") : "?",
                                   since);
        gtk_container_add(GTK_CONTAINER(g), new_row(peer != NULL ? peer : "a guest", subtitle));
    }
    n = n_objects(self->status, "transfers");
    if (n == 0)
        return;
    g = new_group(self->content, "Transfers under way", NULL);
    for (guint i = 0; i < n; i++) {
        JsonObject *t = object_at(self->status, "transfers", i);
        g_autofree char *done = NULL;
        g_autofree char *size = NULL;
        g_autofree char *title = NULL;
        g_autofree char *subtitle = NULL;

        if (t == NULL)
            continue;
        done = g_format_size(
                (guint64)MAX(0, json_object_get_int_member_with_default(t, "done", 0)));
        size = g_format_size(
                (guint64)MAX(0, json_object_get_int_member_with_default(t, "size", 0)));
        title = g_strdup_printf(
                "%s %s", member_string(t, "peer") ? member_string(t, "peer") : "a guest",
                g_strcmp0(member_string(t, "direction"), "upload") == 0 ? "uploads" : "downloads");
        subtitle = g_strdup_printf("%s — %s of %s",
                                   member_string(t, "path") ? member_string(t, "path") : "?", done,
                                   size);
        gtk_container_add(GTK_CONTAINER(g), new_row(title, subtitle));
    }
}

/* What the window would show, as text: it is rebuilt only when this changes. */
static char *
shown_text(PorchTraySharing *self)
{
    g_autoptr(GString) s = g_string_new(self->error);

    if (self->status != NULL) {
        g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), self->status);
        g_autofree char *t = json_to_string(n, FALSE);
        g_string_append(s, t);
    }
    for (guint i = 0; i < self->requests->len; i++)
        g_string_append_printf(s, "|%s", member_string(self->requests->pdata[i], "fingerprint"));
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
update_window(PorchTraySharing *self)
{
    g_autofree char *text = NULL;
    GList *kids;
    JsonNode *d;

    if (self->window == NULL)
        return;
    text = shown_text(self);
    if (g_strcmp0(text, self->shown) == 0)
        return;
    g_free(self->shown);
    self->shown = g_steal_pointer(&text);
    /* no porchd, nothing to share with */
    gtk_widget_set_sensitive(self->share_button, self->status != NULL);
    if (self->status == NULL) {
        hdy_status_page_set_description(HDY_STATUS_PAGE(self->none_page),
                                        self->error != NULL ? self->error : "Asking porchd…");
        hdy_header_bar_set_subtitle(HDY_HEADER_BAR(self->header), NULL);
        gtk_stack_set_visible_child_name(GTK_STACK(self->stack), "none");
        return;
    }
    d = json_object_get_member(self->status, "daemon");
    if (d != NULL && JSON_NODE_HOLDS_OBJECT(d)) {
        JsonObject *o = json_node_get_object(d);
        g_autofree char *sub = g_strdup_printf(
                "%s, %s", member_string(o, "name") ? member_string(o, "name") : "porchd",
                json_object_get_boolean_member_with_default(o, "system", FALSE)
                        ? "the system service"
                        : "your own porchd");
        hdy_header_bar_set_subtitle(HDY_HEADER_BAR(self->header), sub);
    }
    kids = gtk_container_get_children(GTK_CONTAINER(self->content));
    for (GList *l = kids; l != NULL; l = l->next)
        gtk_widget_destroy(l->data);
    g_list_free(kids);
    fill_shares(self);
    fill_requests(self);
    fill_peers(self);
    fill_sessions(self);
    gtk_widget_show_all(self->content);
    gtk_stack_set_visible_child_name(GTK_STACK(self->stack), "page");
}

static void
on_share_clicked(GtkButton *button, gpointer data)
{
    porch_tray_sharing_choose_folder(data);
}

static void
on_window_destroy(GtkWidget *window, gpointer data)
{
    PorchTraySharing *self = data;

    self->window = NULL;
    self->header = self->share_button = self->stack = self->none_page = self->infobar = NULL;
    self->info_label = self->content = NULL;
    g_clear_pointer(&self->shown, g_free);
    if (!self->started)
        g_clear_handle_id(&self->timer, g_source_remove);
}

static void
build_window(PorchTraySharing *self)
{
    GtkWidget *box, *scroll, *clamp, *share;

    self->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_title(GTK_WINDOW(self->window), "Porch — Sharing");
    gtk_window_set_default_size(GTK_WINDOW(self->window), 640, 620);
    gtk_window_set_icon_name(GTK_WINDOW(self->window), "folder-publicshare");
    if (porch_tray_model_get_application(self->model) != NULL)
        gtk_window_set_application(GTK_WINDOW(self->window),
                                   porch_tray_model_get_application(self->model));

    self->header = hdy_header_bar_new();
    hdy_header_bar_set_title(HDY_HEADER_BAR(self->header), "Sharing");
    hdy_header_bar_set_show_close_button(HDY_HEADER_BAR(self->header), TRUE);
    share = gtk_button_new_with_mnemonic("_Share a folder…");
    a11y(share, "Share a folder…");
    gtk_widget_set_tooltip_text(share, "Choose a folder of yours, then who may read and write it");
    gtk_style_context_add_class(gtk_widget_get_style_context(share), "suggested-action");
    g_signal_connect(share, "clicked", G_CALLBACK(on_share_clicked), self);
    hdy_header_bar_pack_start(HDY_HEADER_BAR(self->header), share);
    self->share_button = share;
    gtk_window_set_titlebar(GTK_WINDOW(self->window), self->header);

    box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    self->infobar = gtk_info_bar_new();
    gtk_info_bar_set_show_close_button(GTK_INFO_BAR(self->infobar), TRUE);
    self->info_label = gtk_label_new(NULL);
    gtk_label_set_line_wrap(GTK_LABEL(self->info_label), TRUE);
    gtk_label_set_xalign(GTK_LABEL(self->info_label), 0);
    gtk_label_set_selectable(GTK_LABEL(self->info_label), TRUE);
    gtk_container_add(GTK_CONTAINER(gtk_info_bar_get_content_area(GTK_INFO_BAR(self->infobar))),
                      self->info_label);
    g_signal_connect(self->infobar, "response", G_CALLBACK(on_infobar_response), NULL);
    gtk_widget_set_no_show_all(self->infobar, TRUE);
    gtk_widget_show(self->info_label);
    gtk_container_add(GTK_CONTAINER(box), self->infobar);

    self->stack = gtk_stack_new();
    gtk_widget_set_vexpand(self->stack, TRUE);
    self->none_page = hdy_status_page_new();
    hdy_status_page_set_icon_name(HDY_STATUS_PAGE(self->none_page), "network-offline-symbolic");
    hdy_status_page_set_title(HDY_STATUS_PAGE(self->none_page), "Porch is not running here");
    hdy_status_page_set_description(HDY_STATUS_PAGE(self->none_page), "Asking porchd…");
    gtk_stack_add_named(GTK_STACK(self->stack), self->none_page, "none");

    scroll = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    clamp = hdy_clamp_new();
    hdy_clamp_set_maximum_size(HDY_CLAMP(clamp), 720);
    self->content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
    g_object_set(self->content, "margin", 18, NULL);
    gtk_container_add(GTK_CONTAINER(clamp), self->content);
    gtk_container_add(GTK_CONTAINER(scroll), clamp);
    gtk_stack_add_named(GTK_STACK(self->stack), scroll, "page");
    gtk_container_add(GTK_CONTAINER(box), self->stack);
    gtk_container_add(GTK_CONTAINER(self->window), box);

    g_signal_connect(self->window, "destroy", G_CALLBACK(on_window_destroy), self);
    gtk_widget_show_all(self->window);
    gtk_stack_set_visible_child_name(GTK_STACK(self->stack), "none");
}

/* ------------------------------------------------------------------------------------------
 * Running the exchanges */

static void
job_done(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTraySharing *self = data;
    Job *job = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(result), &error);

    porch_tray_model_worker_done(self->model);
    if (job->kind == JOB_REFRESH)
        self->busy = FALSE;
    if (porch_tray_model_is_closing(self->model)) {
        self->again = FALSE;
        g_object_unref(self);
        return;
    }
    self->answers++;
    if (job->kind == JOB_REFRESH || (ok && job->status != NULL)) {
        g_clear_pointer(&self->status, json_object_unref);
        g_clear_pointer(&self->error, g_free);
        if (job->status != NULL)
            self->status = json_object_ref(job->status);
        else if (error != NULL)
            self->error = g_strdup(error->message);
    }
    if (job->peers != NULL)
        take_requests(self, job->peers);
    if ((job->kind == JOB_ACCEPT || job->kind == JOB_DENY) && ok)
        withdraw_request(self, job->name);
    if (job->kind == JOB_DENY && !ok) {
        /* an ordinary user on the system service: the request stays hidden here */
        g_autofree char *m = g_strdup_printf(
                "porchd refused to turn %s away: %s.\n%s is hidden here until porch-tray "
                "restarts; root can turn it away for the whole machine with: sudo porch peers "
                "deny %s",
                job->as, error->message, job->as, job->name);
        porch_tray_sharing_show(self); /* (denied from the notification: say it) */
        set_info(self, GTK_MESSAGE_WARNING, m);
    } else if (job->kind != JOB_REFRESH) {
        if (!ok) {
            g_autofree char *m = g_strdup_printf("porchd refused: %s", error->message);
            set_info(self, GTK_MESSAGE_ERROR, m);
        } else if (job->warnings != NULL && job->warnings[0] != NULL) {
            g_autofree char *w = g_strjoinv("\n", job->warnings);
            g_autofree char *m = g_strdup_printf("%s\nporchd warns: %s", job->done, w);
            set_info(self, GTK_MESSAGE_WARNING, m);
        } else {
            set_info(self, GTK_MESSAGE_INFO, job->done);
        }
    }
    update_window(self);
    if (self->allow_wanted != NULL && (self->status != NULL || self->error != NULL)) {
        g_autofree char *fp = g_steal_pointer(&self->allow_wanted);
        porch_tray_sharing_allow(self, fp);
    }
    if (self->again) {
        self->again = FALSE;
        refresh(self);
    }
    g_object_unref(self);
}

static void
start_job(PorchTraySharing *self, Job *job)
{
    g_autoptr(GTask) task = NULL;

    if (porch_tray_model_is_closing(self->model)) {
        job_free(job);
        return;
    }
    job->connect = self->connect;
    job->connect_data = self->connect_data;
    if (job->kind == JOB_REFRESH)
        self->busy = TRUE;
    porch_tray_model_worker_start(self->model);
    task = g_task_new(NULL, NULL, job_done, g_object_ref(self));
    g_task_set_task_data(task, job, (GDestroyNotify)job_free);
    g_task_set_name(task, "porch-tray sharing");
    g_task_run_in_thread(task, job_thread);
}

static void
refresh(PorchTraySharing *self)
{
    Job *job;

    if (self->busy) {
        self->again = TRUE;
        return;
    }
    job = job_new(JOB_REFRESH);
    job->want_status = self->window != NULL;
    start_job(self, job);
}

static gboolean
on_tick(gpointer data)
{
    refresh(data);
    return G_SOURCE_CONTINUE;
}

static void
ensure_timer(PorchTraySharing *self)
{
    if (self->timer == 0)
        self->timer = g_timeout_add_seconds(PORCH_TRAY_SHARING_REFRESH_SECONDS, on_tick, self);
}

/* ------------------------------------------------------------------------------------------
 * Who may read, who may write */

typedef struct {
    PorchTraySharing *self;
    char *path;  /* a new share's folder, or NULL */
    char *share; /* the share changed, or NULL */
    GStrv old_read, old_write;
    GtkWidget *name_entry;
    GPtrArray *who;  /* char*: the principals offered */
    GPtrArray *read; /* GtkToggleButton*, as who */
    GPtrArray *write;
} WhoDialog;

static void
who_dialog_free(WhoDialog *d)
{
    g_free(d->path);
    g_free(d->share);
    g_strfreev(d->old_read);
    g_strfreev(d->old_write);
    g_ptr_array_unref(d->who);
    g_ptr_array_unref(d->read);
    g_ptr_array_unref(d->write);
    g_free(d);
}

static void
on_write_toggled(GtkToggleButton *write, gpointer data)
{
    /* who may write may read */
    if (gtk_toggle_button_get_active(write))
        gtk_toggle_button_set_active(data, TRUE);
}

static void
on_read_toggled(GtkToggleButton *read, gpointer data)
{
    if (!gtk_toggle_button_get_active(read))
        gtk_toggle_button_set_active(data, FALSE);
}

static GStrv
checked(WhoDialog *d, GPtrArray *checks)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (guint i = 0; i < d->who->len; i++)
        if (gtk_toggle_button_get_active(checks->pdata[i]))
            g_strv_builder_add(b, d->who->pdata[i]);
    return g_strv_builder_end(b);
}

static void
add_rule_change(GPtrArray *rules, const char *who, const char *right, const char *share,
                gboolean allow)
{
    RuleChange *r = g_new0(RuleChange, 1);

    r->who = g_strdup(who);
    r->right = g_strdup(right);
    r->share = g_strdup(share);
    r->allow = allow;
    g_ptr_array_add(rules, r);
}

static void
on_who_response(GtkDialog *dialog, int response, gpointer data)
{
    WhoDialog *d = data;
    PorchTraySharing *self = d->self;

    if (response == GTK_RESPONSE_OK) {
        g_auto(GStrv) read = checked(d, d->read);
        g_auto(GStrv) write = checked(d, d->write);
        Job *job;

        if (d->path != NULL) {
            job = job_new(JOB_ADD);
            job->path = g_strdup(d->path);
            job->name = g_strdup(gtk_entry_get_text(GTK_ENTRY(d->name_entry)));
            job->read = g_steal_pointer(&read);
            job->write = g_steal_pointer(&write);
        } else {
            /* porchd's rule requests: what was taken first (no read takes write too), then
             * what was given */
            job = job_new(JOB_RULES);
            job->rules = g_ptr_array_new_with_free_func((GDestroyNotify)rule_change_free);
            for (guint i = 0; d->old_read[i] != NULL; i++)
                if (!g_strv_contains((const char *const *)read, d->old_read[i]))
                    add_rule_change(job->rules, d->old_read[i], "read", d->share, FALSE);
            for (guint i = 0; d->old_write[i] != NULL; i++)
                if (!g_strv_contains((const char *const *)write, d->old_write[i]) &&
                    g_strv_contains((const char *const *)read, d->old_write[i]))
                    add_rule_change(job->rules, d->old_write[i], "write", d->share, FALSE);
            for (guint i = 0; read[i] != NULL; i++)
                if (!g_strv_contains((const char *const *)d->old_read, read[i]))
                    add_rule_change(job->rules, read[i], "read", d->share, TRUE);
            for (guint i = 0; write[i] != NULL; i++)
                if (!g_strv_contains((const char *const *)d->old_write, write[i]))
                    add_rule_change(job->rules, write[i], "write", d->share, TRUE);
        }
        if (job->kind == JOB_RULES && job->rules->len == 0)
            job_free(job);
        else
            start_job(self, job);
    }
    if (self->dialog == GTK_WIDGET(dialog))
        self->dialog = NULL;
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void
offer(GPtrArray *who, const char *p)
{
    for (guint i = 0; i < who->len; i++)
        if (strcmp(who->pdata[i], p) == 0)
            return;
    g_ptr_array_add(who, g_strdup(p));
}

static GtkWidget *
new_dialog(PorchTraySharing *self, const char *title)
{
    GtkWindow *parent = self->window != NULL ? GTK_WINDOW(self->window)
                                             : porch_tray_model_get_dialog_parent(self->model);
    GtkWidget *dialog =
            g_object_new(GTK_TYPE_DIALOG, "use-header-bar", FALSE, "title", title, "transient-for",
                         parent, "modal", TRUE, "destroy-with-parent", TRUE, NULL);

    if (self->dialog != NULL)
        gtk_widget_destroy(self->dialog);
    self->dialog = dialog;
    a11y(dialog, title);
    g_signal_connect_object(self->model, "notify::closing", G_CALLBACK(gtk_widget_destroy), dialog,
                            G_CONNECT_SWAPPED);
    return dialog;
}

static GtkWidget *
wrapped_label(const char *text)
{
    GtkWidget *l = gtk_label_new(text);

    gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(l), 60);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    return l;
}

/* The dialog that shares @path (with @share NULL) or changes who may use @share. */
static void
show_who_dialog(PorchTraySharing *self, const char *path, JsonObject *share)
{
    WhoDialog *d = g_new0(WhoDialog, 1);
    g_autofree char *base = path != NULL ? g_path_get_basename(path) : NULL;
    g_autofree char *title = NULL;
    g_auto(GStrv) peers = porch_ctl_get_strv(self->status, "peers");
    g_auto(GStrv) groups = porch_ctl_get_strv(self->status, "groups");
    GtkWidget *dialog, *area, *grid, *intro;

    d->self = self;
    d->path = g_strdup(path);
    d->share = share != NULL ? g_strdup(member_string(share, "name")) : NULL;
    d->old_read = share != NULL ? porch_ctl_get_strv(share, "read") : g_new0(char *, 1);
    d->old_write = share != NULL ? porch_ctl_get_strv(share, "write") : g_new0(char *, 1);
    d->who = g_ptr_array_new_with_free_func(g_free);
    d->read = g_ptr_array_new();
    d->write = g_ptr_array_new();
    offer(d->who, "guest");
    offer(d->who, "*");
    for (guint i = 0; peers[i] != NULL; i++) {
        const char *owner = peer_owner(self, peers[i]);

        /* another user's peer: porchd lets only that user's shares name it */
        if (owner == NULL || strcmp(owner, me(self)) == 0)
            offer(d->who, peers[i]);
    }
    for (guint i = 0; groups[i] != NULL; i++) {
        g_autofree char *g = g_strconcat("@", groups[i], NULL);
        offer(d->who, g);
    }
    for (guint i = 0; d->old_read[i] != NULL; i++)
        offer(d->who, d->old_read[i]);
    for (guint i = 0; d->old_write[i] != NULL; i++)
        offer(d->who, d->old_write[i]);

    title = path != NULL ? g_strdup_printf("Share %s", base)
                         : g_strdup_printf("Who may use %s", d->share);
    dialog = new_dialog(self, title);
    gtk_dialog_add_buttons(GTK_DIALOG(dialog), "_Cancel", GTK_RESPONSE_CANCEL,
                           path != NULL ? "_Share" : "_Apply", GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    area = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
    g_object_set(area, "margin", 18, "spacing", 12, NULL);
    if (path != NULL) {
        g_autofree char *text = g_strdup_printf("%s, as a user share of yours: porchd serves it "
                                                "with your rights, to whom you pick here. Nobody "
                                                "else may use it.",
                                                path);
        GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);

        intro = wrapped_label(text);
        gtk_container_add(GTK_CONTAINER(area), intro);
        d->name_entry = gtk_entry_new();
        gtk_entry_set_text(GTK_ENTRY(d->name_entry), base);
        gtk_entry_set_activates_default(GTK_ENTRY(d->name_entry), TRUE);
        a11y(d->name_entry, "The share's name");
        gtk_container_add(GTK_CONTAINER(row), gtk_label_new_with_mnemonic("_Name"));
        gtk_widget_set_hexpand(d->name_entry, TRUE);
        gtk_container_add(GTK_CONTAINER(row), d->name_entry);
        gtk_container_add(GTK_CONTAINER(area), row);
    } else {
        intro = wrapped_label("Each change goes to porchd, which applies it to the next request "
                              "of a neighbour already connected.");
        gtk_container_add(GTK_CONTAINER(area), intro);
    }
    grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(grid), 18);
    gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
    gtk_grid_attach(GTK_GRID(grid), gtk_label_new("Who"), 0, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(grid), gtk_label_new("Read"), 1, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(grid), gtk_label_new("Write"), 2, 0, 1, 1);
    for (guint i = 0; i < d->who->len; i++) {
        const char *p = d->who->pdata[i];
        g_autofree char *label = principal_label(p);
        g_autofree char *read_name = g_strdup_printf("Read: %s", p);
        g_autofree char *write_name = g_strdup_printf("Write: %s", p);
        GtkWidget *l = gtk_label_new(label);
        GtkWidget *r = gtk_check_button_new();
        GtkWidget *w = gtk_check_button_new();

        gtk_label_set_xalign(GTK_LABEL(l), 0);
        a11y(r, read_name);
        a11y(w, write_name);
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(r),
                                     g_strv_contains((const char *const *)d->old_read, p));
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w),
                                     g_strv_contains((const char *const *)d->old_write, p));
        g_signal_connect(w, "toggled", G_CALLBACK(on_write_toggled), r);
        g_signal_connect(r, "toggled", G_CALLBACK(on_read_toggled), w);
        gtk_widget_set_halign(r, GTK_ALIGN_CENTER);
        gtk_widget_set_halign(w, GTK_ALIGN_CENTER);
        gtk_grid_attach(GTK_GRID(grid), l, 0, (int)i + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), r, 1, (int)i + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), w, 2, (int)i + 1, 1, 1);
        g_ptr_array_add(d->read, r);
        g_ptr_array_add(d->write, w);
    }
    gtk_container_add(GTK_CONTAINER(area), grid);
    if (self->status == NULL)
        gtk_container_add(GTK_CONTAINER(area),
                          wrapped_label("porchd has not answered yet: only guests and every "
                                        "known peer are offered."));
    g_signal_connect_data(dialog, "response", G_CALLBACK(on_who_response), d,
                          (GClosureNotify)(void (*)(void))who_dialog_free, 0);
    gtk_widget_show_all(dialog);
}

/* ------------------------------------------------------------------------------------------
 * A request's Allow…: which of the user's own user shares the requester may read or write,
 * and the name it gets; porchd's peers-accept keeps it with the user shares. */

typedef struct {
    PorchTraySharing *self;
    char *fingerprint;
    GStrv taken;       /* the peer names porchd knows: a new peer needs another */
    GtkWidget *entry;  /* the peer's name, or NULL (no share to offer) */
    GtkWidget *hint;   /* what is wrong with the name or the picks */
    GPtrArray *shares; /* char*: the user's own user shares */
    GPtrArray *read;   /* GtkToggleButton*, as shares */
    GPtrArray *write;
} AllowDialog;

enum { RESPONSE_SHARE_FOLDER = 1 };

static void
allow_dialog_free(AllowDialog *d)
{
    g_free(d->fingerprint);
    g_strfreev(d->taken);
    g_ptr_array_unref(d->shares);
    g_ptr_array_unref(d->read);
    g_ptr_array_unref(d->write);
    g_free(d);
}

static GStrv
allow_checked(AllowDialog *d, GPtrArray *checks)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (guint i = 0; i < d->shares->len; i++)
        if (gtk_toggle_button_get_active(checks->pdata[i]))
            g_strv_builder_add(b, d->shares->pdata[i]);
    return g_strv_builder_end(b);
}

/* Accept only with a name porchd would take and a share picked; the hint says what is
 * missing (porchd judges the rest, and says why it refuses). */
static void
allow_update(GtkWidget *widget, gpointer data)
{
    AllowDialog *d = data;
    GtkWidget *dialog = gtk_widget_get_toplevel(d->entry);
    const char *name = gtk_entry_get_text(GTK_ENTRY(d->entry));
    g_auto(GStrv) read = allow_checked(d, d->read);
    g_autofree char *hint = NULL;

    if (name[0] == '\0')
        hint = g_strdup("Give the neighbour a name.");
    else if (!porch_config_peer_name_valid(name))
        hint = g_strdup_printf("“%s” cannot be a peer's name: letters, digits, '.', '_' and '-', "
                               "starting with a letter or digit.",
                               name);
    else if (g_strv_contains((const char *const *)d->taken, name))
        hint = g_strdup_printf("There is a peer called %s already: choose another name.", name);
    else if (read[0] == NULL)
        hint = g_strdup("Pick a share it may read.");
    gtk_label_set_text(GTK_LABEL(d->hint), hint != NULL ? hint : "");
    gtk_widget_set_visible(d->hint, hint != NULL);
    gtk_dialog_set_response_sensitive(GTK_DIALOG(dialog), GTK_RESPONSE_OK, hint == NULL);
}

static void
on_allow_response(GtkDialog *dialog, int response, gpointer data)
{
    AllowDialog *d = data;
    PorchTraySharing *self = d->self;

    if (response == GTK_RESPONSE_OK && d->entry != NULL) {
        Job *job = job_new(JOB_ACCEPT);

        job->name = g_strdup(d->fingerprint);
        job->as = g_strdup(gtk_entry_get_text(GTK_ENTRY(d->entry)));
        job->read = allow_checked(d, d->read);
        job->write = allow_checked(d, d->write);
        start_job(self, job);
    }
    if (self->dialog == GTK_WIDGET(dialog))
        self->dialog = NULL;
    gtk_widget_destroy(GTK_WIDGET(dialog));
    if (response == RESPONSE_SHARE_FOLDER)
        porch_tray_sharing_choose_folder(self);
}

static GtkWindow *
show_allow_dialog(PorchTraySharing *self, JsonObject *req)
{
    AllowDialog *d = g_new0(AllowDialog, 1);
    const char *name = member_string(req, "name");
    const char *address = member_string(req, "address");
    g_autofree char *title = g_strdup_printf("Let %s in?", name != NULL ? name : "a neighbour");
    g_autofree char *intro = g_strdup_printf(
            "%s asked from %s to use this computer's shares. You may let it into shares of your "
            "own; porchd keeps it with them, and nobody else's share may name it.",
            name != NULL ? name : "A neighbour", address != NULL ? address : "an unknown address");
    g_autofree char *key = g_strdup_printf("Its key: %s", member_string(req, "fingerprint"));
    GtkWidget *dialog = new_dialog(self, title);
    GtkWidget *area = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
    GtkWidget *l;

    d->self = self;
    d->fingerprint = g_strdup(member_string(req, "fingerprint"));
    d->taken = porch_ctl_get_strv(self->status, "peers");
    d->shares = g_ptr_array_new_with_free_func(g_free);
    d->read = g_ptr_array_new();
    d->write = g_ptr_array_new();
    g_object_set(area, "margin", 18, "spacing", 12, NULL);
    gtk_container_add(GTK_CONTAINER(area), wrapped_label(intro));
    l = wrapped_label(key);
    gtk_label_set_selectable(GTK_LABEL(l), TRUE);
    a11y(l, key);
    gtk_container_add(GTK_CONTAINER(area), l);
    for (guint i = 0; i < n_objects(self->status, "shares"); i++) {
        JsonObject *s = object_at(self->status, "shares", i);

        if (s != NULL && is_mine(self, s) && member_string(s, "name") != NULL)
            g_ptr_array_add(d->shares, g_strdup(member_string(s, "name")));
    }
    if (d->shares->len == 0) {
        l = wrapped_label("You share no folder of your own yet, so there is nothing to let "
                          "this neighbour into: share one first, then allow it here.");
        a11y(l, "No share of yours");
        gtk_container_add(GTK_CONTAINER(area), l);
        gtk_dialog_add_buttons(GTK_DIALOG(dialog), "_Close", GTK_RESPONSE_CLOSE, "_Share a folder…",
                               RESPONSE_SHARE_FOLDER, NULL);
        gtk_dialog_set_default_response(GTK_DIALOG(dialog), RESPONSE_SHARE_FOLDER);
    } else {
        GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
        GtkWidget *grid = gtk_grid_new();
        GtkWidget *label = gtk_label_new_with_mnemonic("_Name");

        d->entry = gtk_entry_new();
        if (porch_config_peer_name_valid(name))
            gtk_entry_set_text(GTK_ENTRY(d->entry), name);
        gtk_entry_set_activates_default(GTK_ENTRY(d->entry), TRUE);
        gtk_widget_set_hexpand(d->entry, TRUE);
        gtk_label_set_mnemonic_widget(GTK_LABEL(label), d->entry);
        a11y(d->entry, "The peer's name");
        gtk_container_add(GTK_CONTAINER(row), label);
        gtk_container_add(GTK_CONTAINER(row), d->entry);
        gtk_container_add(GTK_CONTAINER(area), row);

        gtk_grid_set_column_spacing(GTK_GRID(grid), 18);
        gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
        gtk_grid_attach(GTK_GRID(grid), gtk_label_new("Your share"), 0, 0, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), gtk_label_new("Read"), 1, 0, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), gtk_label_new("Write"), 2, 0, 1, 1);
        for (guint i = 0; i < d->shares->len; i++) {
            const char *share = d->shares->pdata[i];
            g_autofree char *read_name = g_strdup_printf("Read: %s", share);
            g_autofree char *write_name = g_strdup_printf("Write: %s", share);
            GtkWidget *s = gtk_label_new(share);
            GtkWidget *r = gtk_check_button_new();
            GtkWidget *w = gtk_check_button_new();

            gtk_label_set_xalign(GTK_LABEL(s), 0);
            a11y(r, read_name);
            a11y(w, write_name);
            /* who may write may read */
            g_signal_connect(w, "toggled", G_CALLBACK(on_write_toggled), r);
            g_signal_connect(r, "toggled", G_CALLBACK(on_read_toggled), w);
            g_signal_connect(r, "toggled", G_CALLBACK(allow_update), d);
            gtk_widget_set_halign(r, GTK_ALIGN_CENTER);
            gtk_widget_set_halign(w, GTK_ALIGN_CENTER);
            gtk_grid_attach(GTK_GRID(grid), s, 0, (int)i + 1, 1, 1);
            gtk_grid_attach(GTK_GRID(grid), r, 1, (int)i + 1, 1, 1);
            gtk_grid_attach(GTK_GRID(grid), w, 2, (int)i + 1, 1, 1);
            g_ptr_array_add(d->read, r);
            g_ptr_array_add(d->write, w);
        }
        gtk_container_add(GTK_CONTAINER(area), grid);
        d->hint = wrapped_label(NULL);
        gtk_style_context_add_class(gtk_widget_get_style_context(d->hint), "dim-label");
        gtk_widget_set_no_show_all(d->hint, TRUE);
        gtk_container_add(GTK_CONTAINER(area), d->hint);
        gtk_dialog_add_buttons(GTK_DIALOG(dialog), "_Cancel", GTK_RESPONSE_CANCEL, "_Accept",
                               GTK_RESPONSE_OK, NULL);
        gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
        g_signal_connect(d->entry, "changed", G_CALLBACK(allow_update), d);
    }
    g_signal_connect_data(dialog, "response", G_CALLBACK(on_allow_response), d,
                          (GClosureNotify)(void (*)(void))allow_dialog_free, 0);
    gtk_widget_show_all(dialog);
    if (d->entry != NULL)
        allow_update(NULL, d);
    return GTK_WINDOW(dialog);
}

/* ------------------------------------------------------------------------------------------
 * The object */

static void
on_allow_action(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    porch_tray_sharing_allow(data, g_variant_get_string(parameter, NULL));
}

static void
on_deny_action(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    porch_tray_sharing_deny(data, g_variant_get_string(parameter, NULL));
}

static void
porch_tray_sharing_init(PorchTraySharing *self)
{
    self->requests = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    self->notified = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->denied = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
porch_tray_sharing_dispose(GObject *object)
{
    PorchTraySharing *self = PORCH_TRAY_SHARING(object);
    GtkApplication *app =
            self->model != NULL ? porch_tray_model_get_application(self->model) : NULL;

    g_clear_handle_id(&self->timer, g_source_remove);
    self->started = FALSE;
    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    if (self->dialog != NULL)
        gtk_widget_destroy(self->dialog);
    if (self->window != NULL)
        gtk_widget_destroy(self->window);
    if (app != NULL) {
        for (const char *const *a = (const char *const[]){"sharing-allow", "sharing-deny", NULL};
             *a != NULL; a++) {
            GAction *action = g_action_map_lookup_action(G_ACTION_MAP(app), *a);
            if (action != NULL && g_object_get_data(G_OBJECT(action), "porch-sharing") == self)
                g_action_map_remove_action(G_ACTION_MAP(app), *a);
        }
    }
    g_clear_object(&self->model);
    G_OBJECT_CLASS(porch_tray_sharing_parent_class)->dispose(object);
}

static void
porch_tray_sharing_finalize(GObject *object)
{
    PorchTraySharing *self = PORCH_TRAY_SHARING(object);

    g_clear_pointer(&self->status, json_object_unref);
    g_free(self->error);
    g_free(self->user);
    g_free(self->shown);
    g_free(self->allow_wanted);
    g_ptr_array_unref(self->requests);
    g_hash_table_unref(self->notified);
    g_hash_table_unref(self->denied);
    G_OBJECT_CLASS(porch_tray_sharing_parent_class)->finalize(object);
}

static void
porch_tray_sharing_class_init(PorchTraySharingClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = porch_tray_sharing_dispose;
    G_OBJECT_CLASS(klass)->finalize = porch_tray_sharing_finalize;
}

PorchTraySharing *
porch_tray_sharing_new(PorchTrayModel *model)
{
    PorchTraySharing *self = g_object_new(PORCH_TYPE_TRAY_SHARING, NULL);
    GtkApplication *app = porch_tray_model_get_application(model);
    static const struct {
        const char *name;
        void (*activate)(GSimpleAction *, GVariant *, gpointer);
    } actions[] = {{"sharing-allow", on_allow_action}, {"sharing-deny", on_deny_action}};

    self->model = g_object_ref(model);
    /* the notifications' buttons */
    for (guint i = 0; app != NULL && i < G_N_ELEMENTS(actions); i++) {
        g_autoptr(GSimpleAction) a = g_simple_action_new(actions[i].name, G_VARIANT_TYPE_STRING);

        g_object_set_data(G_OBJECT(a), "porch-sharing", self);
        g_signal_connect(a, "activate", G_CALLBACK(actions[i].activate), self);
        g_action_map_add_action(G_ACTION_MAP(app), G_ACTION(a));
    }
    return self;
}

void
porch_tray_sharing_start(PorchTraySharing *self)
{
    if (self->started)
        return;
    self->started = TRUE;
    ensure_timer(self);
    refresh(self);
}

void
porch_tray_sharing_set_connect(PorchTraySharing *self, PorchTrayControlConnect connect,
                               gpointer data, const char *user)
{
    self->connect = connect;
    self->connect_data = data;
    g_free(self->user);
    self->user = g_strdup(user);
    g_clear_pointer(&self->shown, g_free);
    update_window(self);
}

GtkWindow *
porch_tray_sharing_show(PorchTraySharing *self)
{
    if (self->window == NULL) {
        build_window(self);
        g_clear_pointer(&self->shown, g_free);
        update_window(self);
        ensure_timer(self);
        refresh(self); /* (after the one under way, which may not ask for the status) */
    }
    gtk_window_present(GTK_WINDOW(self->window));
    return GTK_WINDOW(self->window);
}

GtkWindow *
porch_tray_sharing_get_window(PorchTraySharing *self)
{
    return self->window != NULL ? GTK_WINDOW(self->window) : NULL;
}

void
porch_tray_sharing_refresh(PorchTraySharing *self)
{
    refresh(self);
}

gboolean
porch_tray_sharing_is_busy(PorchTraySharing *self)
{
    return self->busy;
}

guint
porch_tray_sharing_get_answers(PorchTraySharing *self)
{
    return self->answers;
}

static void
on_chooser_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    PorchTraySharing *self = data;
    g_autofree char *folder = NULL;

    if (response == GTK_RESPONSE_ACCEPT)
        folder = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
    if (self->chooser == GTK_FILE_CHOOSER_NATIVE(dialog)) {
        self->chooser = NULL;
        g_object_unref(dialog);
    }
    if (folder != NULL)
        porch_tray_sharing_share_folder(self, folder);
}

void
porch_tray_sharing_choose_folder(PorchTraySharing *self)
{
    GtkWindow *parent = self->window != NULL ? GTK_WINDOW(self->window)
                                             : porch_tray_model_get_dialog_parent(self->model);
    GtkFileChooserNative *d;

    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    d = gtk_file_chooser_native_new("Share a folder", parent, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                    "_Next", "_Cancel");
    gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(d), TRUE);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(d), g_get_home_dir());
    g_signal_connect(d, "response", G_CALLBACK(on_chooser_response), self);
    self->chooser = d;
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

GtkWindow *
porch_tray_sharing_share_folder(PorchTraySharing *self, const char *path)
{
    g_return_val_if_fail(path != NULL, NULL);
    show_who_dialog(self, path, NULL);
    return GTK_WINDOW(self->dialog);
}

GStrv
porch_tray_sharing_get_requests(PorchTraySharing *self)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    for (guint i = 0; i < self->requests->len; i++) {
        JsonObject *r = self->requests->pdata[i];
        g_autofree char *s =
                g_strdup_printf("%s %s", member_string(r, "name"), member_string(r, "fingerprint"));
        g_strv_builder_add(b, s);
    }
    return g_strv_builder_end(b);
}

GtkWindow *
porch_tray_sharing_allow(PorchTraySharing *self, const char *fingerprint)
{
    JsonObject *req = find_request(self, fingerprint);

    porch_tray_sharing_show(self);
    if (self->status == NULL) {
        /* the shares to offer are porchd's to say: the dialog comes with its answer (or the
         * page says why there is none) */
        if (self->error == NULL) {
            g_free(self->allow_wanted);
            self->allow_wanted = g_strdup(fingerprint);
        }
        return NULL;
    }
    if (req == NULL) {
        set_info(self, GTK_MESSAGE_INFO,
                 "That request for access is gone (accepted, or expired in porchd).");
        return NULL;
    }
    return show_allow_dialog(self, req);
}

void
porch_tray_sharing_deny(PorchTraySharing *self, const char *fingerprint)
{
    JsonObject *req = find_request(self, fingerprint);
    Job *job = job_new(JOB_DENY);

    /* porchd's peers-deny, which only root (or a per-user porchd's own user) may send; the
     * tray hides the request for this run either way */
    job->name = g_strdup(fingerprint);
    job->as =
            g_strdup(req != NULL && member_string(req, "name") != NULL ? member_string(req, "name")
                                                                       : fingerprint);
    g_hash_table_add(self->denied, g_strdup(fingerprint));
    withdraw_request(self, fingerprint);
    for (guint i = 0; i < self->requests->len; i++)
        if (g_strcmp0(member_string(self->requests->pdata[i], "fingerprint"), fingerprint) == 0) {
            g_ptr_array_remove_index(self->requests, i);
            break;
        }
    update_window(self);
    start_job(self, job);
}
