/* tray-transfers.c — fetching a file or folder of a neighbour: each transfer in a GTask worker
 * thread with a PorchClient of its own (porch_client_get(), verified and resumable as
 * `porch get --resume`), its progress handed to the main thread for the transfers model, and
 * a desktop notification when it ends. */
#include <string.h>

#include <glib/gstdio.h>

#include "tray-private.h"

typedef struct {
    PorchTray *tray; /* main thread only */
    guint id;
    PorchNeighbour *neighbour;
    char *remote;
    char *local; /* final local path */
    char *dest_dir;
    char *title;
    GCancellable *cancellable;
    PorchTrayConnect *connect;

    GMutex lock; /* guards the fields below, written by the worker */
    PorchProgress progress;
    gboolean update_queued;
    char *first_failure;
    gboolean connected;

    /* main thread: the rate */
    gint64 last_time;
    guint64 last_bytes;
    double rate; /* bytes per second, smoothed */
} Job;

static Job *
job_ref(Job *job)
{
    return g_atomic_rc_box_acquire(job);
}

static void
job_clear(Job *job)
{
    porch_neighbour_unref(job->neighbour);
    g_free(job->remote);
    g_free(job->local);
    g_free(job->dest_dir);
    g_free(job->title);
    g_clear_object(&job->cancellable);
    porch_tray_connect_free(job->connect);
    g_free(job->first_failure);
    g_mutex_clear(&job->lock);
}

static void
job_unref(Job *job)
{
    g_atomic_rc_box_release_full(job, (GDestroyNotify)job_clear);
}

static gboolean
find_row(PorchTray *tray, guint id, GtkTreeIter *ret_iter)
{
    GtkTreeModel *model = GTK_TREE_MODEL(tray->transfers);
    GtkTreeIter iter;

    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        guint row_id = 0;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_TCOL_ID, &row_id, -1);
        if (row_id == id) {
            *ret_iter = iter;
            return TRUE;
        }
    }
    return FALSE;
}

char *
porch_tray_default_download_dir(void)
{
    const char *dir = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);

    if (dir != NULL)
        return g_strdup(dir);
    return g_build_filename(g_get_home_dir(), "Downloads", NULL);
}

/* dest_dir/NAME, or "NAME (2)", "NAME (3)"... when NAME is taken (a NAME.part alone does not
 * take it: fetching to NAME resumes it). */
static char *
pick_local(const char *dest_dir, const char *remote)
{
    g_autofree char *name = g_path_get_basename(remote);
    char *path = g_build_filename(dest_dir, name, NULL);
    const char *dot = strrchr(name, '.');
    gsize stem = dot != NULL && dot != name ? (gsize)(dot - name) : strlen(name);

    for (guint i = 2; g_file_test(path, G_FILE_TEST_EXISTS) && i < 10000; i++) {
        g_autofree char *alt = g_strdup_printf("%.*s (%u)%s", (int)stem, name, i, name + stem);
        g_free(path);
        path = g_build_filename(dest_dir, alt, NULL);
    }
    return path;
}

/* ------------------------------------------------------------------------------------------
 * Progress: worker -> main */

static void
format_eta(char *buf, gsize size, double seconds)
{
    guint s = (guint)(seconds + 0.5);

    if (s >= 3600)
        g_snprintf(buf, size, "%u:%02u:%02u left", s / 3600, s / 60 % 60, s % 60);
    else
        g_snprintf(buf, size, "%u:%02u left", s / 60, s % 60);
}

static gboolean
apply_progress(gpointer data)
{
    Job *job = data;
    PorchTray *tray = job->tray;
    PorchProgress p;
    gboolean connected;
    GtkTreeIter iter;
    gint64 now = g_get_monotonic_time();
    int percent;
    g_autofree char *rate = NULL, *status = NULL, *done = NULL, *total = NULL;
    char eta[64] = "";

    g_mutex_lock(&job->lock);
    p = job->progress;
    connected = job->connected;
    job->update_queued = FALSE;
    g_mutex_unlock(&job->lock);

    if (!g_hash_table_contains(tray->jobs, GUINT_TO_POINTER(job->id)) ||
        !find_row(tray, job->id, &iter))
        return G_SOURCE_REMOVE;
    if (job->last_time != 0 && now > job->last_time && p.done_bytes >= job->last_bytes) {
        double dt = (double)(now - job->last_time) / G_USEC_PER_SEC;
        double r = (double)(p.done_bytes - job->last_bytes) / dt;
        job->rate = job->rate == 0 ? r : 0.7 * job->rate + 0.3 * r;
    }
    job->last_time = now;
    job->last_bytes = p.done_bytes;

    percent = p.total_bytes > 0 ? (int)(p.done_bytes * 100 / p.total_bytes) : 0;
    if (job->rate > 0) {
        g_autofree char *per_second = g_format_size((guint64)job->rate);
        rate = g_strdup_printf("%s/s", per_second);
    }
    if (p.listing_done && job->rate > 1 && p.total_bytes >= p.done_bytes)
        format_eta(eta, sizeof eta, (double)(p.total_bytes - p.done_bytes) / job->rate);
    done = g_format_size(p.done_bytes);
    total = g_format_size(p.total_bytes);
    if (!connected)
        status = g_strdup("Connecting…");
    else if (p.total_files > 1)
        status = g_strdup_printf("%s of %s, %u of %u files", done, total, p.done_files,
                                 p.total_files);
    else
        status = g_strdup_printf("%s of %s", done, total);
    gtk_list_store_set(tray->transfers, &iter, PORCH_TRAY_TCOL_PERCENT, CLAMP(percent, 0, 100),
                       PORCH_TRAY_TCOL_RATE, rate != NULL ? rate : "", PORCH_TRAY_TCOL_ETA, eta,
                       PORCH_TRAY_TCOL_STATUS, status, PORCH_TRAY_TCOL_DONE, p.done_bytes,
                       PORCH_TRAY_TCOL_TOTAL, p.total_bytes, -1);
    return G_SOURCE_REMOVE;
}

static void
queue_update(Job *job)
{
    /* with job->lock held */
    if (job->update_queued)
        return;
    job->update_queued = TRUE;
    porch_tray_run_on_main(job->tray->context, apply_progress, job_ref(job),
                           (GDestroyNotify)job_unref);
}

static void
on_progress(const PorchProgress *progress, gpointer data)
{
    Job *job = data;

    g_mutex_lock(&job->lock);
    job->progress = *progress;
    job->progress.current = NULL; /* not kept beyond the call */
    queue_update(job);
    g_mutex_unlock(&job->lock);
}

static void
on_failed(const char *path, const GError *error, gpointer data)
{
    Job *job = data;

    g_mutex_lock(&job->lock);
    if (job->first_failure == NULL)
        job->first_failure = g_strdup_printf("%s: %s", path, error->message);
    g_mutex_unlock(&job->lock);
}

static void
on_notice(const char *path, const char *message, gpointer data)
{
    g_debug("%s: %s", path, message);
}

/* ------------------------------------------------------------------------------------------
 * The worker */

static void
fetch_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Job *job = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(PorchRemoteFile) st = NULL;
    PorchTransferCallbacks callbacks = {on_progress, on_failed, on_notice, job};
    PorchTransferFlags flags = PORCH_TRANSFER_RESUME;

    client = porch_tray_connect_run(job->connect, job->neighbour, cancellable, &error);
    if (client == NULL) {
        g_prefix_error(&error, "connecting: ");
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_mutex_lock(&job->lock);
    job->connected = TRUE;
    queue_update(job);
    g_mutex_unlock(&job->lock);
    st = porch_client_stat(client, job->remote, cancellable, &error);
    if (st == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (st->type == PORCH_REMOTE_DIRECTORY)
        flags |= PORCH_TRANSFER_RECURSIVE;
    if (!porch_client_get(client, job->remote, job->local, flags, &callbacks, cancellable,
                          &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void
notify(PorchTray *tray, Job *job, PorchTrayTransferState state, const char *message)
{
    GApplication *app = G_APPLICATION(tray->app);
    g_autoptr(GNotification) note = NULL;
    g_autofree char *id = g_strdup_printf("transfer-%u", job->id);

    /* Notifications go through the session bus: none, none to send. */
    if (app == NULL || g_application_get_dbus_connection(app) == NULL)
        return;
    note = g_notification_new(state == PORCH_TRAY_TRANSFER_DONE ? "Fetched" : "Fetch failed");
    g_notification_set_body(note, message);
    g_notification_set_default_action_and_target(note, "app.open-folder", "s", job->dest_dir);
    g_notification_add_button_with_target(note, "Open folder", "app.open-folder", "s",
                                          job->dest_dir);
    g_application_send_notification(app, id, note);
}

static void
fetch_done(GObject *source, GAsyncResult *result, gpointer data)
{
    Job *job = data;
    PorchTray *tray = job->tray;
    g_autoptr(GError) error = NULL;
    g_autofree char *status = NULL;
    PorchTrayTransferState state;
    GtkTreeIter iter;
    const char *host = porch_neighbour_get_host_name(job->neighbour);

    tray->pending--;
    apply_progress(job);
    if (g_task_propagate_boolean(G_TASK(result), &error)) {
        state = PORCH_TRAY_TRANSFER_DONE;
        status = g_strdup_printf("Done: %s", job->local);
        porch_tray_contact_ok(tray, host);
    } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        state = PORCH_TRAY_TRANSFER_CANCELLED;
        status = g_strdup("Cancelled (fetching it again resumes)");
    } else {
        state = PORCH_TRAY_TRANSFER_FAILED;
        if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED) &&
            job->first_failure != NULL)
            status = g_strdup_printf("Failed: %s (%s)", error->message, job->first_failure);
        else
            status = g_strdup_printf("Failed: %s", error->message);
        if (!job->connected)
            porch_tray_contact_failed(tray, host, error);
    }
    if (find_row(tray, job->id, &iter))
        gtk_list_store_set(tray->transfers, &iter, PORCH_TRAY_TCOL_STATE, state,
                           PORCH_TRAY_TCOL_STATUS, status, PORCH_TRAY_TCOL_RATE, "",
                           PORCH_TRAY_TCOL_ETA, "", PORCH_TRAY_TCOL_PERCENT,
                           state == PORCH_TRAY_TRANSFER_DONE ? 100 : -1, -1);
    if (state == PORCH_TRAY_TRANSFER_DONE || state == PORCH_TRAY_TRANSFER_FAILED) {
        g_autofree char *message = g_strdup_printf("%s — %s", job->title, status);
        notify(tray, job, state, message);
    }
    if (find_row(tray, job->id, &iter)) {
        int percent = 0;
        gtk_tree_model_get(GTK_TREE_MODEL(tray->transfers), &iter, PORCH_TRAY_TCOL_PERCENT,
                           &percent, -1);
        if (percent < 0)
            gtk_list_store_set(tray->transfers, &iter, PORCH_TRAY_TCOL_PERCENT, 0, -1);
    }
    g_hash_table_remove(tray->jobs, GUINT_TO_POINTER(job->id));
    porch_tray_emit_changed(tray);
    job_unref(job);
}

static void
on_open_folder(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    g_autoptr(GFile) dir = g_file_new_for_path(g_variant_get_string(parameter, NULL));
    g_autofree char *uri = g_file_get_uri(dir);

    g_app_info_launch_default_for_uri_async(uri, NULL, NULL, NULL, NULL);
}

guint
porch_tray_fetch(PorchTray *tray, PorchNeighbour *n, const char *remote, const char *dest_dir)
{
    Job *job = g_atomic_rc_box_new0(Job);
    g_autoptr(GTask) task = NULL;
    g_autofree char *base = g_path_get_basename(remote);
    GtkTreeIter iter;

    g_return_val_if_fail(n != NULL && remote != NULL, 0);
    if (tray->app != NULL &&
        g_action_map_lookup_action(G_ACTION_MAP(tray->app), "open-folder") == NULL) {
        g_autoptr(GSimpleAction) a = g_simple_action_new("open-folder", G_VARIANT_TYPE_STRING);
        g_signal_connect(a, "activate", G_CALLBACK(on_open_folder), NULL);
        g_action_map_add_action(G_ACTION_MAP(tray->app), G_ACTION(a));
    }
    g_mutex_init(&job->lock);
    job->tray = tray;
    job->id = tray->next_id++;
    job->neighbour = porch_neighbour_ref(n);
    job->remote = g_strdup(remote);
    job->dest_dir = dest_dir != NULL ? g_strdup(dest_dir) : porch_tray_default_download_dir();
    g_mkdir_with_parents(job->dest_dir, 0755);
    job->local = pick_local(job->dest_dir, remote);
    job->title = g_strdup_printf("%s from %s", base, porch_neighbour_get_name(n));
    job->cancellable = g_cancellable_new();
    job->connect = porch_tray_connect_new(tray);

    gtk_list_store_insert_with_values(
            tray->transfers, &iter, -1, PORCH_TRAY_TCOL_ID, job->id, PORCH_TRAY_TCOL_NAME,
            job->title, PORCH_TRAY_TCOL_DEST, job->local, PORCH_TRAY_TCOL_PERCENT, 0,
            PORCH_TRAY_TCOL_RATE, "", PORCH_TRAY_TCOL_ETA, "", PORCH_TRAY_TCOL_STATUS,
            "Connecting…", PORCH_TRAY_TCOL_STATE, PORCH_TRAY_TRANSFER_RUNNING, PORCH_TRAY_TCOL_DONE,
            (guint64)0, PORCH_TRAY_TCOL_TOTAL, (guint64)0, -1);
    g_hash_table_insert(tray->jobs, GUINT_TO_POINTER(job->id), job);
    tray->pending++;

    task = g_task_new(NULL, job->cancellable, fetch_done, job);
    g_task_set_task_data(task, job_ref(job), (GDestroyNotify)job_unref);
    g_task_set_name(task, "porch-tray fetch");
    g_task_run_in_thread(task, fetch_thread);
    porch_tray_emit_changed(tray);
    return job->id;
}

void
porch_tray_transfer_cancel(PorchTray *tray, guint id)
{
    Job *job = g_hash_table_lookup(tray->jobs, GUINT_TO_POINTER(id));

    if (job != NULL)
        g_cancellable_cancel(job->cancellable);
}

void
porch_tray_transfer_cancel_all(PorchTray *tray)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, tray->jobs);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_cancellable_cancel(((Job *)value)->cancellable);
}

GtkListStore *
porch_tray_get_transfer_model(PorchTray *tray)
{
    return tray->transfers;
}

gboolean
porch_tray_transfer_get(PorchTray *tray, guint id, PorchTrayTransferState *ret_state,
                        char **ret_dest, char **ret_status, guint64 *ret_done)
{
    GtkTreeIter iter;
    int state = 0;
    char *dest = NULL, *status = NULL;
    guint64 done = 0;

    if (!find_row(tray, id, &iter))
        return FALSE;
    gtk_tree_model_get(GTK_TREE_MODEL(tray->transfers), &iter, PORCH_TRAY_TCOL_STATE, &state,
                       PORCH_TRAY_TCOL_DEST, &dest, PORCH_TRAY_TCOL_STATUS, &status,
                       PORCH_TRAY_TCOL_DONE, &done, -1);
    if (ret_state != NULL)
        *ret_state = (PorchTrayTransferState)state;
    if (ret_dest != NULL)
        *ret_dest = dest;
    else
        g_free(dest);
    if (ret_status != NULL)
        *ret_status = status;
    else
        g_free(status);
    if (ret_done != NULL)
        *ret_done = done;
    return TRUE;
}

guint
porch_tray_transfers_running(PorchTray *tray)
{
    return g_hash_table_size(tray->jobs);
}

void
porch_tray_transfers_dispose(PorchTray *tray)
{
    /* every job held by the table has completed by now (porch_tray_free() waited) */
    g_hash_table_remove_all(tray->jobs);
}
