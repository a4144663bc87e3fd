/* tray-send.c — sending files to neighbours and receiving them in the tray (tray-send.h): the
 * offers through porchd's control socket (shared/porch-control.h), each exchange in a GTask
 * worker with a connection of its own; a send through shared/porch-send.h in a GTask worker
 * with a connection to the neighbour of its own. Outcomes are applied on the main thread. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "porch-control.h"
#include "porch-hash.h"
#include "porch-send.h"
#include "tray-connect.h"
#include "tray-send.h"
#include "tray-transfers.h"

/* An accepted offer nothing arrives for in this long is given up (porchd's own limit on a
 * silent sender is shorter). */
#define RECEIVE_STALL_SECONDS 120
/* How often the inbox folder is looked at while an offer arrives. */
#define RECEIVE_POLL_MS 500
/* How often a send reports its progress to the main thread. */
#define SEND_REPORT_US (G_USEC_PER_SEC / 5)
/* Folders sent are walked this deep at most. */

/* An accepted offer, watched arriving in the inbox folder. */
typedef struct {
    PorchTraySending *self;
    guint offer, transfer;
    char *sender, *folder;
    guint count;
    guint64 total;
    GHashTable *before; /* the names in the folder before the answer */
    gint64 since;       /* when it was accepted (real time, seconds) */
    guint64 last_done;
    gint64 last_change; /* monotonic */
    guint timer;
    GCancellable *cancellable;
} Receiving;

struct _PorchTraySending {
    GObject parent_instance;
    PorchTrayModel *model;
    PorchTrayControlConnect connect;
    gpointer connect_data;
    guint timer;
    gboolean started, busy, again;
    guint answers;
    JsonObject *list;      /* porchd's last inbox-list answer, or NULL */
    GHashTable *notified;  /* offer ids notified of */
    GHashTable *receiving; /* offer id -> Receiving */
    GHashTable *transfers; /* offer id -> the transfer that received it */
    GtkWidget *offer_dialog;
    GtkFileChooserNative *chooser;
    GtkWidget *picker;
    guint picked;
};

G_DEFINE_FINAL_TYPE(PorchTraySending, porch_tray_sending, G_TYPE_OBJECT)

static void refresh(PorchTraySending *self);

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

static guint
n_elements(JsonObject *o, const char *member)
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

static guint64
member_uint(JsonObject *o, const char *member)
{
    gint64 v = o != NULL ? json_object_get_int_member_with_default(o, member, 0) : 0;

    return v > 0 ? (guint64)v : 0;
}

static GApplication *
app_of(PorchTraySending *self)
{
    GApplication *app = G_APPLICATION(porch_tray_model_get_application(self->model));

    /* Notifications go through the session bus: none, none to send. */
    return app != NULL && g_application_get_dbus_connection(app) != NULL ? app : NULL;
}

static JsonObject *
find_offer(PorchTraySending *self, guint id)
{
    for (guint i = 0; i < n_elements(self->list, "offers"); i++) {
        JsonObject *o = object_at(self->list, "offers", i);
        if (o != NULL && member_uint(o, "id") == id)
            return o;
    }
    return NULL;
}

static JsonObject *
find_inbox(PorchTraySending *self, const char *name)
{
    for (guint i = 0; i < n_elements(self->list, "inboxes"); i++) {
        JsonObject *b = object_at(self->list, "inboxes", i);
        if (b != NULL && g_strcmp0(member_string(b, "name"), name) == 0)
            return b;
    }
    return NULL;
}

/* "Bob's laptop wants to send 3 files (1.2 GB)" */
static char *
offer_title(JsonObject *o)
{
    const char *sender = member_string(o, "sender");
    guint64 count = member_uint(o, "count");
    g_autofree char *size = g_format_size(member_uint(o, "total"));

    return g_strdup_printf("%s wants to send %" G_GUINT64_FORMAT " file%s (%s)",
                           sender != NULL ? sender : "A neighbour", count, count == 1 ? "" : "s",
                           size);
}

/* The offer's file names, one a line ("…" when porchd listed only the first ones). */
static char *
offer_names(JsonObject *o)
{
    JsonArray *names = member_array(o, "names");
    g_autoptr(GString) s = g_string_new(NULL);
    guint n = names != NULL ? json_array_get_length(names) : 0;

    for (guint i = 0; i < n; i++) {
        JsonNode *e = json_array_get_element(names, i);
        const char *name = JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING
                                   ? json_node_get_string(e)
                                   : "?";
        g_autofree char *valid = g_utf8_make_valid(name, -1);
        g_string_append_printf(s, "%s%s", i > 0 ? "\n" : "", valid);
    }
    if (n < member_uint(o, "count"))
        g_string_append_printf(s, "\n… and %" G_GUINT64_FORMAT " more",
                               member_uint(o, "count") - n);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ------------------------------------------------------------------------------------------
 * Exchanges with porchd, in worker threads */

typedef enum { JOB_LIST, JOB_ACCEPT, JOB_DECLINE, JOB_ENABLE, JOB_DISABLE } JobKind;

/* What a worker reads and writes: its own. */
typedef struct {
    JobKind kind;
    PorchTrayModel *model; /* for the completion, which may come after the tray's end */
    PorchTrayControlConnect connect;
    gpointer connect_data;
    guint id;
    char *name, *folder;
    JsonObject *list; /* the inbox-list after the change */
} Job;

static void
job_free(Job *job)
{
    g_clear_object(&job->model);
    g_free(job->name);
    g_free(job->folder);
    g_clear_pointer(&job->list, json_object_unref);
    g_free(job);
}

static gboolean
do_job(Job *job, int sock, GError **error)
{
    g_autoptr(JsonObject) answer = NULL;

    switch (job->kind) {
    case JOB_ACCEPT:
    case JOB_DECLINE:
        answer = porch_ctl_inbox_answer(sock, job->id, job->kind == JOB_ACCEPT, error);
        return answer != NULL;
    case JOB_ENABLE: {
        static const char *const everyone[] = {"*", "guest", NULL};
        int dir;

        if (g_mkdir_with_parents(job->folder, 0700) != 0 ||
            (dir = open(job->folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            int e = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", job->folder,
                        g_strerror(e));
            return FALSE;
        }
        answer = porch_ctl_inbox_enable(sock, dir, job->name, NULL, everyone, 0, error);
        close(dir);
        return answer != NULL;
    }
    case JOB_DISABLE:
        answer = porch_ctl_inbox_disable(sock, job->name, error);
        return answer != NULL;
    case JOB_LIST:
        break;
    }
    return TRUE;
}

static void
job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Job *job = data;
    g_autoptr(GError) error = NULL;
    gboolean system = FALSE;
    int sock = job->connect != NULL ? job->connect(&system, &error, job->connect_data)
                                    : porch_ctl_connect(&system, &error);

    if (sock < 0) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (!do_job(job, sock, &error)) {
        close(sock);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    /* the state after the change (a failure here is no failure of the change) */
    job->list = porch_ctl_inbox_list(sock, job->kind == JOB_LIST ? &error : NULL);
    close(sock);
    if (job->list == NULL && error != NULL)
        g_task_return_error(task, g_steal_pointer(&error));
    else
        g_task_return_boolean(task, TRUE);
}

static void take_list(PorchTraySending *self, JsonObject *list);
static void receive_start(PorchTraySending *self, guint id);

static void
show_error(PorchTraySending *self, const char *primary, const char *secondary)
{
    GtkWidget *d = gtk_message_dialog_new(porch_tray_model_get_dialog_parent(self->model),
                                          GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_ERROR,
                                          GTK_BUTTONS_CLOSE, "%s", primary);

    gtk_window_set_title(GTK_WINDOW(d), "Porch — receiving files");
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
    g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    g_signal_connect_object(self->model, "notify::closing", G_CALLBACK(gtk_widget_destroy), d,
                            G_CONNECT_SWAPPED);
    gtk_widget_show(d);
}

static void
job_done(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTraySending *self = data;
    Job *job = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(result), &error);

    if (job->kind == JOB_LIST)
        self->busy = FALSE;
    if (self->model == NULL || porch_tray_model_is_closing(job->model)) {
        porch_tray_model_worker_done(job->model);
        g_object_unref(self);
        return;
    }
    self->answers++;
    if (job->kind == JOB_ACCEPT && ok)
        receive_start(self, job->id);
    else if (job->kind == JOB_ACCEPT) /* nothing will arrive: not watched */
        g_hash_table_remove(self->receiving, GUINT_TO_POINTER(job->id));
    if (job->list != NULL)
        take_list(self, job->list);
    if (!ok && job->kind != JOB_LIST) {
        static const char *const what[] = {
                NULL, "Could not accept the files", "Could not decline the files",
                "Could not turn receiving files on", "Could not turn receiving files off"};
        show_error(self, what[job->kind], error->message);
    }
    if (self->again) {
        self->again = FALSE;
        refresh(self);
    }
    porch_tray_model_worker_done(job->model);
    g_object_unref(self);
}

static void
start_job(PorchTraySending *self, Job *job)
{
    g_autoptr(GTask) task = NULL;

    if (porch_tray_model_is_closing(self->model)) {
        job_free(job);
        return;
    }
    job->model = g_object_ref(self->model);
    job->connect = self->connect;
    job->connect_data = self->connect_data;
    if (job->kind == JOB_LIST)
        self->busy = TRUE;
    porch_tray_model_worker_start(self->model);
    task = g_task_new(NULL, NULL, job_done, g_object_ref(self));
    g_task_set_task_data(task, job, (GDestroyNotify)job_free);
    g_task_set_name(task, "porch-tray inbox");
    g_task_run_in_thread(task, job_thread);
}

static void
refresh(PorchTraySending *self)
{
    if (self->busy) {
        self->again = TRUE;
        return;
    }
    start_job(self, g_new0(Job, 1));
}

static gboolean
on_tick(gpointer data)
{
    refresh(data);
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------------------------
 * Offers: notifications and the dialog */

static void
notify_offer(PorchTraySending *self, JsonObject *o)
{
    GApplication *app = app_of(self);
    guint id = (guint)member_uint(o, "id");
    g_autoptr(GNotification) note = NULL;
    g_autofree char *nid = g_strdup_printf("offer-%u", id);
    g_autofree char *title = offer_title(o);
    g_autofree char *names = offer_names(o);

    if (app == NULL)
        return;
    note = g_notification_new(title);
    g_notification_set_body(note, names);
    g_notification_set_priority(note, G_NOTIFICATION_PRIORITY_HIGH);
    g_notification_set_default_action_and_target(note, "app.inbox-offer", "u", id);
    g_notification_add_button_with_target(note, "Accept", "app.inbox-accept", "u", id);
    g_notification_add_button_with_target(note, "Decline", "app.inbox-decline", "u", id);
    g_application_send_notification(app, nid, note);
}

static void
withdraw_offer(PorchTraySending *self, guint id)
{
    GApplication *app = app_of(self);
    g_autofree char *nid = g_strdup_printf("offer-%u", id);

    if (app != NULL)
        g_application_withdraw_notification(app, nid);
}

/* porchd's inbox-list answer: kept, new offers notified, gone ones withdrawn. */
static void
take_list(PorchTraySending *self, JsonObject *list)
{
    g_autoptr(GHashTable) now = g_hash_table_new(NULL, NULL);
    GHashTableIter it;
    gpointer key;

    g_clear_pointer(&self->list, json_object_unref);
    self->list = json_object_ref(list);
    for (guint i = 0; i < n_elements(list, "offers"); i++) {
        JsonObject *o = object_at(list, "offers", i);
        guint id = (guint)member_uint(o, "id");

        if (id == 0)
            continue;
        g_hash_table_add(now, GUINT_TO_POINTER(id));
        if (!g_hash_table_contains(self->notified, GUINT_TO_POINTER(id))) {
            g_hash_table_add(self->notified, GUINT_TO_POINTER(id));
            notify_offer(self, o);
        }
    }
    g_hash_table_iter_init(&it, self->notified);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(now, key)) {
            withdraw_offer(self, GPOINTER_TO_UINT(key));
            g_hash_table_iter_remove(&it);
        }
    }
    if (self->offer_dialog != NULL &&
        find_offer(self, GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(self->offer_dialog),
                                                            "porch-offer"))) == NULL)
        gtk_widget_destroy(self->offer_dialog); /* answered elsewhere, or expired */
}

static void
on_offer_response(GtkDialog *dialog, int response, gpointer data)
{
    PorchTraySending *self = data;
    guint id = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(dialog), "porch-offer"));

    if (response == GTK_RESPONSE_ACCEPT || response == GTK_RESPONSE_REJECT)
        porch_tray_sending_answer(self, id, response == GTK_RESPONSE_ACCEPT);
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void
on_offer_destroy(GtkWidget *dialog, gpointer data)
{
    PorchTraySending *self = data;

    if (self->offer_dialog == dialog)
        self->offer_dialog = NULL;
}

GtkWindow *
porch_tray_sending_show_offer(PorchTraySending *self, guint id)
{
    JsonObject *o = find_offer(self, id);
    JsonObject *inbox;
    g_autofree char *title = NULL;
    g_autofree char *names = NULL;
    g_autofree char *where = NULL;
    GtkWidget *content, *label, *list, *scroller;

    if (o == NULL)
        return NULL;
    if (self->offer_dialog != NULL)
        gtk_widget_destroy(self->offer_dialog);
    title = offer_title(o);
    names = offer_names(o);
    inbox = find_inbox(self, member_string(o, "inbox"));
    where = g_strdup_printf("From %s, into %s. Nothing is written before you accept.",
                            member_string(o, "address") ? member_string(o, "address")
                                                        : "an unknown address",
                            member_string(inbox, "path") ? member_string(inbox, "path")
                                                         : member_string(o, "inbox"));
    self->offer_dialog = gtk_dialog_new_with_buttons(
            "Porch — files offered", porch_tray_model_get_dialog_parent(self->model),
            GTK_DIALOG_DESTROY_WITH_PARENT, "_Decline", GTK_RESPONSE_REJECT, "_Accept",
            GTK_RESPONSE_ACCEPT, NULL);
    g_object_set_data(G_OBJECT(self->offer_dialog), "porch-offer", GUINT_TO_POINTER(id));
    gtk_dialog_set_default_response(GTK_DIALOG(self->offer_dialog), GTK_RESPONSE_ACCEPT);
    gtk_style_context_add_class(gtk_widget_get_style_context(gtk_dialog_get_widget_for_response(
                                        GTK_DIALOG(self->offer_dialog), GTK_RESPONSE_ACCEPT)),
                                "suggested-action");
    content = gtk_dialog_get_content_area(GTK_DIALOG(self->offer_dialog));
    gtk_box_set_spacing(GTK_BOX(content), 8);
    g_object_set(content, "margin", 12, NULL);
    label = gtk_label_new(title);
    gtk_style_context_add_class(gtk_widget_get_style_context(label), "title-3");
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
    gtk_box_pack_start(GTK_BOX(content), label, FALSE, FALSE, 0);
    label = gtk_label_new(where);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(label), 50);
    gtk_box_pack_start(GTK_BOX(content), label, FALSE, FALSE, 0);
    list = gtk_label_new(names);
    gtk_label_set_xalign(GTK_LABEL(list), 0);
    gtk_label_set_yalign(GTK_LABEL(list), 0);
    gtk_label_set_selectable(GTK_LABEL(list), TRUE);
    atk_object_set_name(gtk_widget_get_accessible(list), "The files offered");
    scroller = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scroller), TRUE);
    gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scroller), 240);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(scroller), GTK_SHADOW_IN);
    g_object_set(list, "margin", 6, NULL);
    gtk_container_add(GTK_CONTAINER(scroller), list);
    gtk_box_pack_start(GTK_BOX(content), scroller, TRUE, TRUE, 0);
    g_signal_connect(self->offer_dialog, "response", G_CALLBACK(on_offer_response), self);
    g_signal_connect(self->offer_dialog, "destroy", G_CALLBACK(on_offer_destroy), self);
    g_signal_connect_object(self->model, "notify::closing", G_CALLBACK(gtk_widget_destroy),
                            self->offer_dialog, G_CONNECT_SWAPPED);
    gtk_widget_show_all(self->offer_dialog);
    gtk_window_present(GTK_WINDOW(self->offer_dialog));
    return GTK_WINDOW(self->offer_dialog);
}

void
porch_tray_sending_answer(PorchTraySending *self, guint id, gboolean accept)
{
    Job *job = g_new0(Job, 1);
    JsonObject *o = find_offer(self, id);

    /* what the inbox folder holds now: what arrives after is the offer's */
    if (accept && o != NULL && !g_hash_table_contains(self->receiving, GUINT_TO_POINTER(id))) {
        JsonObject *inbox = find_inbox(self, member_string(o, "inbox"));
        Receiving *r = g_new0(Receiving, 1);
        g_autoptr(GDir) dir = NULL;
        const char *name;

        r->self = self;
        r->offer = id;
        r->sender = g_strdup(member_string(o, "sender") ? member_string(o, "sender") : "?");
        r->folder = g_strdup(member_string(inbox, "path"));
        r->count = (guint)MIN(member_uint(o, "count"), PORCH_SEND_MAX_FILES);
        r->total = member_uint(o, "total");
        r->before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        r->since = g_get_real_time() / G_USEC_PER_SEC - 1;
        dir = r->folder != NULL ? g_dir_open(r->folder, 0, NULL) : NULL;
        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL)
            g_hash_table_add(r->before, g_strdup(name));
        g_hash_table_insert(self->receiving, GUINT_TO_POINTER(id), r);
    }
    withdraw_offer(self, id);
    job->kind = accept ? JOB_ACCEPT : JOB_DECLINE;
    job->id = id;
    start_job(self, job);
}

/* ------------------------------------------------------------------------------------------
 * An accepted offer arriving */

static void
receiving_free(Receiving *r)
{
    g_clear_handle_id(&r->timer, g_source_remove);
    g_free(r->sender);
    g_free(r->folder);
    g_hash_table_unref(r->before);
    g_clear_object(&r->cancellable);
    g_free(r);
}

static void
notify_received(PorchTraySending *self, Receiving *r, gboolean ok, const char *message)
{
    GApplication *app = app_of(self);
    g_autoptr(GNotification) note = NULL;
    g_autofree char *nid = g_strdup_printf("received-%u", r->offer);

    if (app == NULL)
        return;
    note = g_notification_new(ok ? "Files received" : "Receiving files stopped");
    g_notification_set_body(note, message);
    if (r->folder != NULL) {
        g_notification_set_default_action_and_target(note, "app.open-folder", "s", r->folder);
        g_notification_add_button_with_target(note, "Open folder", "app.open-folder", "s",
                                              r->folder);
    }
    g_application_send_notification(app, nid, note);
}

/* Looks at the inbox folder: the files that got their names since the answer, and the bytes
 * in the hidden files data arrives in (porch-send.h) changed since. */
static gboolean
on_receive_tick(gpointer data)
{
    Receiving *r = data;
    PorchTraySending *self = r->self;
    g_autoptr(GDir) dir = g_dir_open(r->folder, 0, NULL);
    guint64 done = 0;
    guint arrived = 0;
    const char *name;
    gint64 now = g_get_monotonic_time();
    g_autofree char *status = NULL;
    char *message;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = NULL;
        struct stat st;
        gboolean temp = g_str_has_prefix(name, PORCH_SEND_TEMP_PREFIX);

        if (g_hash_table_contains(r->before, name) || (name[0] == '.' && !temp))
            continue;
        path = g_build_filename(r->folder, name, NULL);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_mtime < r->since)
            continue;
        done += (guint64)st.st_size;
        if (!temp)
            arrived++;
    }
    done = MIN(done, r->total);
    if (done != r->last_done) {
        r->last_done = done;
        r->last_change = now;
    }
    if (arrived >= r->count) {
        g_autofree char *size = g_format_size(r->total);
        status = g_strdup_printf("Received %u file%s (%s) from %s into %s", r->count,
                                 r->count == 1 ? "" : "s", size, r->sender, r->folder);
        porch_tray_model_transfer_finish(self->model, r->transfer, PORCH_TRAY_TRANSFER_DONE,
                                         status);
        notify_received(self, r, TRUE, status);
        r->timer = 0;
        g_hash_table_remove(self->receiving, GUINT_TO_POINTER(r->offer));
        return G_SOURCE_REMOVE;
    }
    if (g_cancellable_is_cancelled(r->cancellable) ||
        now - r->last_change > RECEIVE_STALL_SECONDS * G_USEC_PER_SEC) {
        gboolean cancelled = g_cancellable_is_cancelled(r->cancellable);
        message = g_strdup_printf(cancelled ? "No longer watched (%u of %u files are there)"
                                            : "Stopped: %u of %u files arrived (when %s sends "
                                              "again, it goes on)",
                                  arrived, r->count, r->sender);
        porch_tray_model_transfer_finish(
                self->model, r->transfer,
                cancelled ? PORCH_TRAY_TRANSFER_CANCELLED : PORCH_TRAY_TRANSFER_FAILED, message);
        if (!cancelled)
            notify_received(self, r, FALSE, message);
        g_free(message);
        r->timer = 0;
        g_hash_table_remove(self->receiving, GUINT_TO_POINTER(r->offer));
        return G_SOURCE_REMOVE;
    }
    status = g_strdup_printf("%u of %u file%s", arrived, r->count, r->count == 1 ? "" : "s");
    porch_tray_model_transfer_progress(self->model, r->transfer,
                                       r->total > 0 ? (int)(done * 100 / r->total) : 0, "", "",
                                       status, done, r->total);
    return G_SOURCE_CONTINUE;
}

/* porchd took the Accept of offer @id: its transfer starts. */
static void
receive_start(PorchTraySending *self, guint id)
{
    Receiving *r = g_hash_table_lookup(self->receiving, GUINT_TO_POINTER(id));
    g_autofree char *title = NULL;
    g_autofree char *dest = NULL;

    if (r == NULL || r->transfer != 0)
        return;
    if (r->folder == NULL) {
        g_hash_table_remove(self->receiving, GUINT_TO_POINTER(id));
        return;
    }
    title = g_strdup_printf("%u file%s from %s", r->count, r->count == 1 ? "" : "s", r->sender);
    /* the row's "Open folder" opens the folder of its destination: the inbox */
    dest = g_build_filename(r->folder, "", NULL);
    r->cancellable = g_cancellable_new();
    r->transfer = porch_tray_model_transfer_add(self->model, title, dest, r->cancellable);
    g_hash_table_insert(self->transfers, GUINT_TO_POINTER(id), GUINT_TO_POINTER(r->transfer));
    r->last_change = g_get_monotonic_time();
    porch_tray_model_transfer_progress(self->model, r->transfer, 0, "", "", "Receiving…", 0,
                                       r->total);
    r->timer = g_timeout_add(RECEIVE_POLL_MS, on_receive_tick, r);
}

/* ------------------------------------------------------------------------------------------
 * Sending, in a worker thread */

typedef struct {
    PorchTrayModel *model;
    guint id;
    char *status;
    guint64 done, total;
} Report;

static void
report_free(Report *r)
{
    g_object_unref(r->model);
    g_free(r->status);
    g_free(r);
}

static gboolean
apply_report(gpointer data)
{
    Report *r = data;

    if (porch_tray_model_transfer_is_running(r->model, r->id))
        porch_tray_model_transfer_progress(r->model, r->id,
                                           r->total > 0 ? (int)(r->done * 100 / r->total) : 0, "",
                                           "", r->status, r->done, r->total);
    return G_SOURCE_REMOVE;
}

/* What a send worker reads and writes: the task's own. */
typedef struct {
    PorchTrayModel *model; /* for its reports only (porch_tray_post) */
    GMainContext *context;
    guint id;
    PorchNeighbour *neighbour;
    GStrv paths;
    PorchTrayConnect *connect;
    gint connected; /* atomic */
    gint64 last_report;
    guint64 total;
    guint count;
    char *message; /* porchd's words when it was not delivered */
} SendWork;

static void
send_work_free(SendWork *work)
{
    g_object_unref(work->model);
    g_main_context_unref(work->context);
    porch_neighbour_unref(work->neighbour);
    g_strfreev(work->paths);
    porch_tray_connect_free(work->connect);
    g_free(work->message);
    g_free(work);
}

static void
report(SendWork *work, const char *status, guint64 done)
{
    Report *r = g_new0(Report, 1);

    r->model = g_object_ref(work->model);
    r->id = work->id;
    r->status = g_strdup(status);
    r->done = done;
    r->total = work->total;
    porch_tray_post(work->context, apply_report, r, (GDestroyNotify)report_free);
}

static void
on_stage(PorchSendStage stage, const char *text, guint64 done, guint64 total, gpointer data)
{
    SendWork *work = data;
    gint64 now = g_get_monotonic_time();
    g_autofree char *status = NULL;

    switch (stage) {
    case PORCH_SEND_STAGE_TICK:
        return;
    case PORCH_SEND_STAGE_WAITING: {
        g_autofree char *who = g_utf8_make_valid(text != NULL ? text : "the owner", -1);
        status = g_strdup_printf("Waiting for %s to accept…", who);
        report(work, status, 0);
        return;
    }
    case PORCH_SEND_STAGE_ACCEPTED:
        report(work, "Accepted: sending…", done);
        return;
    case PORCH_SEND_STAGE_FILE_DONE: {
        g_autofree char *name = g_utf8_make_valid(text != NULL ? text : "", -1);
        status = g_strdup_printf("Sent %s", name);
        work->last_report = now;
        report(work, status, done);
        return;
    }
    case PORCH_SEND_STAGE_PROGRESS:
        if (now - work->last_report < SEND_REPORT_US)
            return;
        work->last_report = now;
        {
            g_autofree char *a = g_format_size(done);
            g_autofree char *b = g_format_size(total);
            status = g_strdup_printf("Sending: %s of %s", a, b);
        }
        report(work, status, done);
        return;
    }
}

static void
send_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SendWork *work = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GArray) files = porch_send_files_new();
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    int status = -1;

    report(work, "Reading the files…", 0);
    for (guint i = 0; work->paths[i] != NULL && error == NULL; i++)
        porch_send_files_add(work->paths[i], files, fds, cancellable, &error);
    if (error == NULL && files->len == 0)
        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "the folders hold no file: nothing to send");
    for (guint i = 0; i < files->len; i++)
        work->total += g_array_index(files, PorchSendFile, i).size;
    work->count = files->len;
    if (error == NULL) {
        report(work, "Connecting…", 0);
        client = porch_tray_connect_run_print(work->connect, work->neighbour, cancellable, &error);
        if (client == NULL)
            g_prefix_error(&error, "connecting: ");
    }
    if (client != NULL) {
        g_atomic_int_set(&work->connected, 1);
        status = porch_client_send_files(client, NULL, files, (const int *)(void *)fds->data,
                                         on_stage, work, &work->message, cancellable, &error);
    }
    for (guint i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    if (status < 0)
        g_task_return_error(task, g_steal_pointer(&error));
    else
        g_task_return_int(task, status);
}

static void
send_done(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTraySending *self = data;
    SendWork *work = g_task_get_task_data(G_TASK(result));
    PorchTrayModel *model = work->model; /* (self's may be gone: the tray ended meanwhile) */
    GApplication *app = G_APPLICATION(porch_tray_model_get_application(model));
    const char *host = porch_neighbour_get_host_name(work->neighbour);
    const char *name = porch_neighbour_get_name(work->neighbour);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *said = work->message != NULL && work->message[0] != '\0'
                                    ? g_strdup_printf(" (%s)", work->message)
                                    : g_strdup("");
    PorchTrayTransferState state = PORCH_TRAY_TRANSFER_FAILED;
    gssize status = g_task_propagate_int(G_TASK(result), &error);

    if (error != NULL) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            state = PORCH_TRAY_TRANSFER_CANCELLED;
            text = g_strdup("Cancelled: the offer is withdrawn (sending again goes on)");
        } else {
            text = g_strdup_printf("Failed: %s", error->message);
        }
        if (!g_atomic_int_get(&work->connected) && !porch_tray_model_is_closing(model))
            porch_tray_contact_failed(model, host, error);
    } else {
        g_autofree char *size = g_format_size(work->total);
        porch_tray_contact_ok(model, host);
        switch (status) {
        case PORCH_SEND_EXIT_DELIVERED:
            state = PORCH_TRAY_TRANSFER_DONE;
            text = g_strdup_printf("Delivered %u file%s (%s) to %s", work->count,
                                   work->count == 1 ? "" : "s", size, name);
            break;
        case PORCH_SEND_EXIT_DECLINED:
            text = g_strdup_printf("Declined by %s", name);
            break;
        case PORCH_SEND_EXIT_TIMED_OUT:
            text = g_strdup_printf("No answer from %s in time", name);
            break;
        case PORCH_SEND_EXIT_REFUSED:
            text = g_strdup_printf("Refused: %s does not take files from you%s", name, said);
            break;
        case PORCH_SEND_EXIT_NO_ROOM:
            text = g_strdup_printf("Refused: too large for %s's inbox%s", name, said);
            break;
        case PORCH_SEND_EXIT_NO_INBOX:
            text = g_strdup_printf("Refused: %s has no inbox%s", name, said);
            break;
        default:
            text = g_strdup_printf("Failed (%d)%s", (int)status, said);
            break;
        }
    }
    porch_tray_model_transfer_finish(model, work->id, state, text);
    if (app != NULL && g_application_get_dbus_connection(app) != NULL &&
        state != PORCH_TRAY_TRANSFER_CANCELLED && !porch_tray_model_is_closing(model)) {
        g_autoptr(GNotification) note = g_notification_new(
                state == PORCH_TRAY_TRANSFER_DONE ? "Files delivered" : "Files not delivered");
        g_autofree char *nid = g_strdup_printf("send-%u", work->id);
        g_notification_set_body(note, text);
        g_application_send_notification(app, nid, note);
    }
    porch_tray_model_worker_done(model);
    g_object_unref(self);
}

guint
porch_tray_sending_send(PorchTraySending *self, const char *host, const char *const *paths)
{
    g_autoptr(PorchNeighbour) n = NULL;
    g_autoptr(GTask) task = NULL;
    g_autoptr(GCancellable) cancellable = NULL;
    g_autofree char *title = NULL;
    g_autofree char *first = NULL;
    SendWork *work;
    guint count;

    g_return_val_if_fail(host != NULL && paths != NULL, 0);
    count = g_strv_length((char **)paths);
    n = porch_tray_model_find_neighbour(self->model, host);
    if (n == NULL || !porch_neighbour_is_porch(n) || count == 0 ||
        porch_tray_model_is_closing(self->model))
        return 0;
    first = g_filename_display_basename(paths[0]);
    if (count == 1)
        title = g_strdup_printf("%s to %s", first, porch_neighbour_get_name(n));
    else
        title = g_strdup_printf("%s and %u more to %s", first, count - 1,
                                porch_neighbour_get_name(n));
    cancellable = g_cancellable_new();
    work = g_new0(SendWork, 1);
    work->model = g_object_ref(self->model);
    work->context = g_main_context_ref(porch_tray_model_get_context(self->model));
    work->neighbour = porch_neighbour_ref(n);
    work->paths = g_strdupv((char **)paths);
    work->connect = porch_tray_connect_new(self->model);
    /* no destination of ours: "Open folder" is for what arrives here */
    work->id = porch_tray_model_transfer_add(self->model, title, NULL, cancellable);
    porch_tray_model_worker_start(self->model);
    task = g_task_new(NULL, cancellable, send_done, g_object_ref(self));
    g_task_set_task_data(task, work, (GDestroyNotify)send_work_free);
    g_task_set_name(task, "porch-tray send");
    g_task_run_in_thread(task, send_thread);
    return work->id;
}

guint
porch_tray_sending_send_uris(PorchTraySending *self, const char *host, const char *const *uris)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) paths = NULL;

    for (guint i = 0; uris != NULL && uris[i] != NULL; i++) {
        g_autofree char *path = g_filename_from_uri(uris[i], NULL, NULL);
        if (path != NULL)
            g_strv_builder_add(b, path);
    }
    paths = g_strv_builder_end(b);
    return paths[0] != NULL ? porch_tray_sending_send(self, host, (const char *const *)paths) : 0;
}

static void
on_chooser_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    PorchTraySending *self = data;

    if (response == GTK_RESPONSE_ACCEPT) {
        GSList *files = gtk_file_chooser_get_filenames(GTK_FILE_CHOOSER(dialog));
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        g_auto(GStrv) paths = NULL;

        for (GSList *l = files; l != NULL; l = l->next)
            g_strv_builder_add(b, l->data);
        g_slist_free_full(files, g_free);
        paths = g_strv_builder_end(b);
        porch_tray_sending_send(self, g_object_get_data(G_OBJECT(dialog), "porch-host"),
                                (const char *const *)paths);
    }
    if (self->chooser == GTK_FILE_CHOOSER_NATIVE(dialog)) {
        self->chooser = NULL;
        g_object_unref(dialog);
    }
}

void
porch_tray_sending_choose(PorchTraySending *self, const char *host)
{
    g_autoptr(PorchNeighbour) n = porch_tray_model_find_neighbour(self->model, host);
    g_autofree char *title = NULL;

    if (n == NULL)
        return;
    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    title = g_strdup_printf("Send Files to %s", porch_neighbour_get_name(n));
    self->chooser =
            gtk_file_chooser_native_new(title, porch_tray_model_get_dialog_parent(self->model),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, "_Send", "_Cancel");
    gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(self->chooser), TRUE);
    gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(self->chooser), TRUE);
    g_object_set_data_full(G_OBJECT(self->chooser), "porch-host", g_strdup(host), g_free);
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ------------------------------------------------------------------------------------------
 * The neighbour chooser for files given on the command line */

static gboolean
inbox_visible(GtkTreeModel *model, GtkTreeIter *iter, gpointer data)
{
    g_autoptr(PorchNeighbour) n = NULL;

    gtk_tree_model_get(model, iter, PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
    return n != NULL && porch_neighbour_is_porch(n) && porch_neighbour_has_inbox(n);
}

static void
on_pick_response(GtkDialog *dialog, int response, gpointer data)
{
    PorchTraySending *self = data;
    GtkTreeView *view = g_object_get_data(G_OBJECT(dialog), "porch-view");
    GtkTreeModel *model;
    GtkTreeIter iter;
    g_autofree char *host = NULL;

    if (response == GTK_RESPONSE_ACCEPT &&
        gtk_tree_selection_get_selected(gtk_tree_view_get_selection(view), &model, &iter)) {
        gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &host, -1);
        self->picked = porch_tray_sending_send(
                self, host,
                (const char *const *)g_object_get_data(G_OBJECT(dialog), "porch-paths"));
    }
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void
on_pick_selection(GtkTreeSelection *selection, gpointer data)
{
    gtk_dialog_set_response_sensitive(GTK_DIALOG(data), GTK_RESPONSE_ACCEPT,
                                      gtk_tree_selection_count_selected_rows(selection) > 0);
}

static void
on_pick_activated(GtkTreeView *view, GtkTreePath *path, GtkTreeViewColumn *c, gpointer data)
{
    gtk_dialog_response(GTK_DIALOG(data), GTK_RESPONSE_ACCEPT);
}

static void
on_picker_destroy(GtkWidget *dialog, gpointer data)
{
    PorchTraySending *self = data;

    if (self->picker == dialog)
        self->picker = NULL;
}

GtkWindow *
porch_tray_sending_pick(PorchTraySending *self, const char *const *paths)
{
    g_autoptr(GtkTreeModel) filter = NULL;
    g_autofree char *first = NULL;
    g_autofree char *text = NULL;
    guint count = g_strv_length((char **)paths);
    GtkWidget *content, *label, *view, *scroller, *placeholder;
    GtkCellRenderer *r;

    if (self->picker != NULL)
        gtk_widget_destroy(self->picker);
    first = count > 0 ? g_filename_display_basename(paths[0]) : g_strdup("");
    text = count == 1 ? g_strdup_printf("Send “%s” to:", first)
                      : g_strdup_printf("Send “%s” and %u more to:", first, count - 1);
    self->picker = gtk_dialog_new_with_buttons(
            "Porch — send to a neighbour", porch_tray_model_get_dialog_parent(self->model),
            GTK_DIALOG_DESTROY_WITH_PARENT, "_Cancel", GTK_RESPONSE_CANCEL, "_Send",
            GTK_RESPONSE_ACCEPT, NULL);
    gtk_window_set_default_size(GTK_WINDOW(self->picker), 380, 320);
    gtk_style_context_add_class(gtk_widget_get_style_context(gtk_dialog_get_widget_for_response(
                                        GTK_DIALOG(self->picker), GTK_RESPONSE_ACCEPT)),
                                "suggested-action");
    g_object_set_data_full(G_OBJECT(self->picker), "porch-paths", g_strdupv((char **)paths),
                           (GDestroyNotify)g_strfreev);
    content = gtk_dialog_get_content_area(GTK_DIALOG(self->picker));
    gtk_box_set_spacing(GTK_BOX(content), 8);
    g_object_set(content, "margin", 12, NULL);
    label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_box_pack_start(GTK_BOX(content), label, FALSE, FALSE, 0);
    filter = gtk_tree_model_filter_new(GTK_TREE_MODEL(porch_tray_model_get_neighbours(self->model)),
                                       NULL);
    gtk_tree_model_filter_set_visible_func(GTK_TREE_MODEL_FILTER(filter), inbox_visible, NULL,
                                           NULL);
    view = gtk_tree_view_new_with_model(filter);
    gtk_tree_view_set_headers_visible(GTK_TREE_VIEW(view), FALSE);
    r = gtk_cell_renderer_pixbuf_new();
    g_object_set(r, "stock-size", GTK_ICON_SIZE_DND, "xpad", 6, "ypad", 4, NULL);
    gtk_tree_view_insert_column_with_attributes(GTK_TREE_VIEW(view), -1, "", r, "icon-name",
                                                PORCH_TRAY_NCOL_ICON, NULL);
    gtk_tree_view_insert_column_with_attributes(GTK_TREE_VIEW(view), -1, "Neighbour",
                                                gtk_cell_renderer_text_new(), "text",
                                                PORCH_TRAY_NCOL_NAME, NULL);
    atk_object_set_name(gtk_widget_get_accessible(view), "Neighbours that take files");
    g_object_set_data(G_OBJECT(self->picker), "porch-view", view);
    scroller = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(scroller), GTK_SHADOW_IN);
    gtk_container_add(GTK_CONTAINER(scroller), view);
    gtk_box_pack_start(GTK_BOX(content), scroller, TRUE, TRUE, 0);
    placeholder = gtk_label_new("Only neighbours that take files are listed (their owner "
                                "turned on Receive Files, or porch inbox enable).");
    gtk_label_set_xalign(GTK_LABEL(placeholder), 0);
    gtk_label_set_line_wrap(GTK_LABEL(placeholder), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(placeholder), 50);
    gtk_style_context_add_class(gtk_widget_get_style_context(placeholder), "dim-label");
    gtk_box_pack_start(GTK_BOX(content), placeholder, FALSE, FALSE, 0);
    gtk_dialog_set_response_sensitive(GTK_DIALOG(self->picker), GTK_RESPONSE_ACCEPT, FALSE);
    g_signal_connect(gtk_tree_view_get_selection(GTK_TREE_VIEW(view)), "changed",
                     G_CALLBACK(on_pick_selection), self->picker);
    g_signal_connect(view, "row-activated", G_CALLBACK(on_pick_activated), self->picker);
    g_signal_connect(self->picker, "response", G_CALLBACK(on_pick_response), self);
    g_signal_connect(self->picker, "destroy", G_CALLBACK(on_picker_destroy), self);
    g_signal_connect_object(self->model, "notify::closing", G_CALLBACK(gtk_widget_destroy),
                            self->picker, G_CONNECT_SWAPPED);
    gtk_widget_show_all(self->picker);
    gtk_window_present(GTK_WINDOW(self->picker));
    return GTK_WINDOW(self->picker);
}

guint
porch_tray_sending_get_picked(PorchTraySending *self)
{
    return self->picked;
}

/* ------------------------------------------------------------------------------------------
 * The object */

static void
on_offer_action(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    porch_tray_sending_show_offer(data, g_variant_get_uint32(parameter));
}

static void
on_accept_action(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    porch_tray_sending_answer(data, g_variant_get_uint32(parameter), TRUE);
}

static void
on_decline_action(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    porch_tray_sending_answer(data, g_variant_get_uint32(parameter), FALSE);
}

static void
on_open_folder(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    g_autoptr(GFile) dir = g_file_new_for_path(g_variant_get_string(parameter, NULL));
    g_autofree char *uri = g_file_get_uri(dir);

    g_app_info_launch_default_for_uri_async(uri, NULL, NULL, NULL, NULL);
}

static const char *const action_names[] = {"inbox-offer", "inbox-accept", "inbox-decline", NULL};

static void
porch_tray_sending_init(PorchTraySending *self)
{
    self->notified = g_hash_table_new(NULL, NULL);
    self->receiving = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)receiving_free);
    self->transfers = g_hash_table_new(NULL, NULL);
}

static void
porch_tray_sending_dispose(GObject *object)
{
    PorchTraySending *self = PORCH_TRAY_SENDING(object);
    GtkApplication *app =
            self->model != NULL ? porch_tray_model_get_application(self->model) : NULL;

    g_clear_handle_id(&self->timer, g_source_remove);
    g_hash_table_remove_all(self->receiving);
    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    if (self->offer_dialog != NULL)
        gtk_widget_destroy(self->offer_dialog);
    if (self->picker != NULL)
        gtk_widget_destroy(self->picker);
    for (const char *const *a = action_names; app != NULL && *a != NULL; a++) {
        GAction *action = g_action_map_lookup_action(G_ACTION_MAP(app), *a);
        if (action != NULL && g_object_get_data(G_OBJECT(action), "porch-sending") == self)
            g_action_map_remove_action(G_ACTION_MAP(app), *a);
    }
    g_clear_object(&self->model);
    G_OBJECT_CLASS(porch_tray_sending_parent_class)->dispose(object);
}

static void
porch_tray_sending_finalize(GObject *object)
{
    PorchTraySending *self = PORCH_TRAY_SENDING(object);

    g_clear_pointer(&self->list, json_object_unref);
    g_hash_table_unref(self->notified);
    g_hash_table_unref(self->receiving);
    g_hash_table_unref(self->transfers);
    G_OBJECT_CLASS(porch_tray_sending_parent_class)->finalize(object);
}

static void
porch_tray_sending_class_init(PorchTraySendingClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = porch_tray_sending_dispose;
    G_OBJECT_CLASS(klass)->finalize = porch_tray_sending_finalize;
}

PorchTraySending *
porch_tray_sending_new(PorchTrayModel *model)
{
    PorchTraySending *self = g_object_new(PORCH_TYPE_TRAY_SENDING, NULL);
    GtkApplication *app = porch_tray_model_get_application(model);
    void (*activate[])(GSimpleAction *, GVariant *, gpointer) = {on_offer_action, on_accept_action,
                                                                 on_decline_action};

    self->model = g_object_ref(model);
    /* the notifications' buttons */
    for (guint i = 0; app != NULL && action_names[i] != NULL; i++) {
        g_autoptr(GSimpleAction) a = g_simple_action_new(action_names[i], G_VARIANT_TYPE_UINT32);

        g_object_set_data(G_OBJECT(a), "porch-sending", self);
        g_signal_connect(a, "activate", G_CALLBACK(activate[i]), self);
        g_action_map_add_action(G_ACTION_MAP(app), G_ACTION(a));
    }
    if (app != NULL && g_action_map_lookup_action(G_ACTION_MAP(app), "open-folder") == NULL) {
        g_autoptr(GSimpleAction) a = g_simple_action_new("open-folder", G_VARIANT_TYPE_STRING);
        g_signal_connect(a, "activate", G_CALLBACK(on_open_folder), NULL);
        g_action_map_add_action(G_ACTION_MAP(app), G_ACTION(a));
    }
    return self;
}

void
porch_tray_sending_set_connect(PorchTraySending *self, PorchTrayControlConnect connect,
                               gpointer data)
{
    self->connect = connect;
    self->connect_data = data;
}

void
porch_tray_sending_start(PorchTraySending *self)
{
    if (self->started)
        return;
    self->started = TRUE;
    self->timer = g_timeout_add_seconds(PORCH_TRAY_INBOX_REFRESH_SECONDS, on_tick, self);
    refresh(self);
}

void
porch_tray_sending_refresh(PorchTraySending *self)
{
    refresh(self);
}

guint
porch_tray_sending_get_answers(PorchTraySending *self)
{
    return self->answers;
}

GArray *
porch_tray_sending_get_offers(PorchTraySending *self)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint i = 0; i < n_elements(self->list, "offers"); i++) {
        guint id = (guint)member_uint(object_at(self->list, "offers", i), "id");
        if (id != 0)
            g_array_append_val(ids, id);
    }
    return ids;
}

guint
porch_tray_sending_get_receiving(PorchTraySending *self, guint id)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(self->transfers, GUINT_TO_POINTER(id)));
}

/* The user's own inbox in porchd's last answer (a user inbox of theirs), or NULL. */
static JsonObject *
own_inbox(PorchTraySending *self)
{
    for (guint i = 0; i < n_elements(self->list, "inboxes"); i++) {
        JsonObject *b = object_at(self->list, "inboxes", i);
        if (b != NULL && json_object_get_boolean_member_with_default(b, "user", FALSE))
            return b;
    }
    return NULL;
}

gboolean
porch_tray_sending_has_inbox(PorchTraySending *self)
{
    return own_inbox(self) != NULL;
}

void
porch_tray_sending_set_inbox(PorchTraySending *self, gboolean enable)
{
    Job *job = g_new0(Job, 1);

    if (enable) {
        g_autofree char *downloads = porch_tray_default_download_dir();
        job->kind = JOB_ENABLE;
        job->folder = g_build_filename(downloads, "Porch", NULL);
        job->name = g_strdup(g_get_user_name());
    } else {
        JsonObject *b = own_inbox(self);
        job->kind = JOB_DISABLE;
        job->name = g_strdup(b != NULL ? member_string(b, "name") : g_get_user_name());
    }
    start_job(self, job);
}
