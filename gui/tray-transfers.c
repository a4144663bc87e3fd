/* tray-transfers.c — fetching a file or folder of a neighbour: each transfer in a GTask worker
 * thread with a PorchClient of its own (porch_transfer_get(), verified and resumable as
 * `porch get`), its progress handed to the main thread for the model's transfers, and
 * a desktop notification when it ends.
 *
 * A file of PORCH_MULTIGET_THRESHOLD bytes or more is fetched as `porch get` fetches it: the
 * other Porch neighbours whose keys are pinned are asked whether they hold the same SHA-256
 * (porch-search.h), and those that do become sources of porch_multiget() beside the origin,
 * every range verified against the origin's hashes. */
#include <string.h>

#include <glib/gstdio.h>

#include "porch-multiget.h"
#include "porch-search.h"
#include "porch-transfer.h"
#include "tray-connect.h"
#include "tray-transfers.h"

/* A fetch: one row of the model's transfers, and what its worker reports. */
typedef struct {
    PorchTrayModel *model; /* main thread only; there while the transfer's worker is counted */
    GMainContext *context;
    guint id;
    PorchNeighbour *neighbour;
    char *remote;
    char *local; /* final local path */
    char *dest_dir;
    char *title;
    GCancellable *cancellable;
    PorchTrayConnect *connect;
    /* the other Porch neighbours, that may hold the same file, and how to reach them */
    GPtrArray *others;
    PorchTrayConnect *pinned;

    GMutex lock; /* guards the fields below, written by the worker */
    PorchProgress progress;
    gboolean update_queued;
    char *first_failure;
    gboolean connected;
    guint sources; /* > 0: fetching from this many sources at once (porch_multiget()) */
    guint used;    /* how many sources delivered verified bytes, once the fetch is over */

    /* main thread */
    gboolean finished; /* fetch_done() ran: a progress report queued before is stale */
    gint64 last_time;
    guint64 last_bytes;
    double rate; /* bytes per second, smoothed */
} TrayTransfer;

static TrayTransfer *
tray_transfer_ref(TrayTransfer *transfer)
{
    return g_atomic_rc_box_acquire(transfer);
}

static void
tray_transfer_clear(TrayTransfer *transfer)
{
    g_main_context_unref(transfer->context);
    porch_neighbour_unref(transfer->neighbour);
    g_free(transfer->remote);
    g_free(transfer->local);
    g_free(transfer->dest_dir);
    g_free(transfer->title);
    g_clear_object(&transfer->cancellable);
    porch_tray_connect_free(transfer->connect);
    g_ptr_array_unref(transfer->others);
    porch_tray_connect_free(transfer->pinned);
    g_free(transfer->first_failure);
    g_mutex_clear(&transfer->lock);
}

static void
tray_transfer_unref(TrayTransfer *transfer)
{
    g_atomic_rc_box_release_full(transfer, (GDestroyNotify)tray_transfer_clear);
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
    TrayTransfer *transfer = data;
    PorchProgress p;
    gboolean connected;
    guint sources;
    gint64 now = g_get_monotonic_time();
    int percent;
    g_autofree char *rate = NULL, *status = NULL, *done = NULL, *total = NULL;
    char eta[64] = "";

    g_mutex_lock(&transfer->lock);
    p = transfer->progress;
    connected = transfer->connected;
    sources = transfer->sources;
    transfer->update_queued = FALSE;
    g_mutex_unlock(&transfer->lock);

    if (transfer->finished || !porch_tray_model_transfer_is_running(transfer->model, transfer->id))
        return G_SOURCE_REMOVE;
    if (transfer->last_time != 0 && now > transfer->last_time &&
        p.done_bytes >= transfer->last_bytes) {
        double dt = (double)(now - transfer->last_time) / G_USEC_PER_SEC;
        double r = (double)(p.done_bytes - transfer->last_bytes) / dt;
        transfer->rate = transfer->rate == 0 ? r : 0.7 * transfer->rate + 0.3 * r;
    }
    transfer->last_time = now;
    transfer->last_bytes = p.done_bytes;

    percent = p.total_bytes > 0 ? (int)(p.done_bytes * 100 / p.total_bytes) : 0;
    if (transfer->rate > 0) {
        g_autofree char *per_second = g_format_size((guint64)transfer->rate);
        rate = g_strdup_printf("%s/s", per_second);
    }
    if (p.listing_done && transfer->rate > 1 && p.total_bytes >= p.done_bytes)
        format_eta(eta, sizeof eta, (double)(p.total_bytes - p.done_bytes) / transfer->rate);
    done = g_format_size(p.done_bytes);
    total = g_format_size(p.total_bytes);
    if (!connected)
        status = g_strdup("Connecting…");
    else if (p.total_files > 1)
        status = g_strdup_printf("%s of %s, %u of %u files", done, total, p.done_files,
                                 p.total_files);
    else if (sources > 0)
        status = g_strdup_printf("%s of %s from %u source%s", done, total, sources,
                                 sources == 1 ? "" : "s");
    else
        status = g_strdup_printf("%s of %s", done, total);
    porch_tray_model_transfer_progress(transfer->model, transfer->id, percent,
                                       rate != NULL ? rate : "", eta, status, p.done_bytes,
                                       p.total_bytes);
    return G_SOURCE_REMOVE;
}

static void
queue_update(TrayTransfer *transfer)
{
    /* with transfer->lock held */
    if (transfer->update_queued)
        return;
    transfer->update_queued = TRUE;
    porch_tray_post(transfer->context, apply_progress, tray_transfer_ref(transfer),
                    (GDestroyNotify)tray_transfer_unref);
}

static void
on_progress(const PorchProgress *progress, gpointer data)
{
    TrayTransfer *transfer = data;

    g_mutex_lock(&transfer->lock);
    transfer->progress = *progress;
    transfer->progress.current = NULL; /* not kept beyond the call */
    queue_update(transfer);
    g_mutex_unlock(&transfer->lock);
}

static void
on_failed(const char *path, const GError *error, gpointer data)
{
    TrayTransfer *transfer = data;

    g_mutex_lock(&transfer->lock);
    if (transfer->first_failure == NULL)
        transfer->first_failure = g_strdup_printf("%s: %s", path, error->message);
    g_mutex_unlock(&transfer->lock);
}

static void
on_notice(const char *path, const char *message, gpointer data)
{
    g_debug("%s: %s", path, message);
}

/* ------------------------------------------------------------------------------------------
 * The worker */

static void
on_multi_progress(guint64 done, guint64 total, guint sources, gpointer data)
{
    TrayTransfer *transfer = data;

    g_mutex_lock(&transfer->lock);
    transfer->progress.done_bytes = done;
    transfer->progress.total_bytes = total;
    transfer->progress.listing_done = TRUE;
    transfer->sources = sources;
    queue_update(transfer);
    g_mutex_unlock(&transfer->lock);
}

static void
on_dropped(const PorchMultigetSource *source, const char *why, gpointer data)
{
    g_message("%s dropped as a source: %s", source->name, why);
}

/* @transfer's file (@st, on @origin) from every pinned neighbour that holds it too. FALSE
 * without @error when none does (the ordinary fetch then runs); FALSE with @error when the
 * fetch from several sources failed. */
static gboolean
fetch_multi(TrayTransfer *transfer, PorchClient *origin, const PorchRemoteFile *st,
            GCancellable *cancellable, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    g_autoptr(GPtrArray) holders = NULL;
    g_autoptr(GBytes) ranges = NULL;
    g_autofree PorchMultigetSource *sources = NULL;
    char hex[PORCH_SHA256_HEX_LEN + 1];
    guint8 sha[PORCH_SHA256_LEN];
    PorchMultigetPlan plan = {0};
    PorchMultigetCallbacks cb = {on_multi_progress, on_dropped, transfer};
    gboolean ok;

    if (st->type != PORCH_REMOTE_FILE || st->size < PORCH_MULTIGET_THRESHOLD ||
        transfer->others->len == 0)
        return FALSE;
    if (!porch_multiget_file_hash(origin, transfer->remote, sha, cancellable, &local_error)) {
        g_debug("%s: no hash for other sources: %s", transfer->remote, local_error->message);
        return FALSE;
    }
    porch_sha256_to_hex(sha, hex);
    holders = porch_search_find_holders(transfer->others, hex, st->size, PORCH_TRAY_MAX_SOURCES - 1,
                                        porch_tray_connect_search, transfer->pinned, cancellable);
    if (holders->len == 0)
        return FALSE;
    ranges = porch_multiget_range_hashes(origin, transfer->remote, st->size, cancellable,
                                         &local_error);
    if (ranges == NULL) {
        g_debug("%s: no range hashes: %s", transfer->remote, local_error->message);
        return FALSE;
    }
    /* the origin first: it is where the user asked */
    sources = g_new0(PorchMultigetSource, holders->len + 1);
    sources[0] = (PorchMultigetSource){origin, porch_neighbour_get_name(transfer->neighbour),
                                       transfer->remote, 0, NULL};
    for (guint i = 0; i < holders->len; i++) {
        PorchSearchHolder *holder = g_ptr_array_index(holders, i);
        sources[i + 1] =
                (PorchMultigetSource){holder->client, porch_neighbour_get_name(holder->neighbour),
                                      holder->remote, 0, NULL};
    }
    plan.size = st->size;
    plan.ranges = ranges;
    plan.mtime = st->mtime;
    g_mutex_lock(&transfer->lock);
    transfer->sources = holders->len + 1;
    g_mutex_unlock(&transfer->lock);
    ok = porch_multiget(sources, holders->len + 1, &plan, transfer->local, &cb, cancellable, error);
    g_mutex_lock(&transfer->lock);
    for (guint i = 0; i <= holders->len; i++) {
        if (sources[i].bytes > 0)
            transfer->used++;
        g_free(sources[i].dropped);
    }
    g_mutex_unlock(&transfer->lock);
    return ok;
}

static void
fetch_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    TrayTransfer *transfer = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(PorchRemoteFile) st = NULL;
    PorchTransferCallbacks callbacks = {on_progress, on_failed, on_notice, NULL, transfer};
    PorchTransferFlags flags = PORCH_TRANSFER_RESUME;

    client = porch_tray_connect_run(transfer->connect, transfer->neighbour, cancellable, &error);
    if (client == NULL) {
        g_prefix_error(&error, "connecting: ");
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_mutex_lock(&transfer->lock);
    transfer->connected = TRUE;
    queue_update(transfer);
    g_mutex_unlock(&transfer->lock);
    st = porch_client_stat(client, transfer->remote, cancellable, &error);
    if (st == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (fetch_multi(transfer, client, st, cancellable, &error)) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    if (error != NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_mutex_lock(&transfer->lock);
    transfer->sources = 0;
    g_mutex_unlock(&transfer->lock);
    if (st->type == PORCH_REMOTE_DIRECTORY)
        flags |= PORCH_TRANSFER_RECURSIVE;
    if (!porch_transfer_get(client, transfer->remote, transfer->local, flags, &callbacks,
                            cancellable, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void
notify(TrayTransfer *transfer, PorchTrayTransferState state, const char *message)
{
    GApplication *app = G_APPLICATION(porch_tray_model_get_application(transfer->model));
    g_autoptr(GNotification) note = NULL;
    g_autofree char *id = g_strdup_printf("transfer-%u", transfer->id);

    /* Notifications go through the session bus: none, none to send. */
    if (app == NULL || g_application_get_dbus_connection(app) == NULL)
        return;
    note = g_notification_new(state == PORCH_TRAY_TRANSFER_DONE ? "Downloaded" : "Download failed");
    g_notification_set_body(note, message);
    g_notification_set_default_action_and_target(note, "app.open-folder", "s", transfer->dest_dir);
    g_notification_add_button_with_target(note, "Open folder", "app.open-folder", "s",
                                          transfer->dest_dir);
    g_application_send_notification(app, id, note);
}

static void
fetch_done(GObject *source, GAsyncResult *result, gpointer data)
{
    TrayTransfer *transfer = data;
    PorchTrayModel *model = transfer->model;
    g_autoptr(GError) error = NULL;
    g_autofree char *status = NULL;
    PorchTrayTransferState state;
    const char *host = porch_neighbour_get_host_name(transfer->neighbour);

    apply_progress(transfer);
    transfer->finished = TRUE;
    if (g_task_propagate_boolean(G_TASK(result), &error)) {
        state = PORCH_TRAY_TRANSFER_DONE;
        status = transfer->used > 1 ? g_strdup_printf("Done from %u sources: %s", transfer->used,
                                                      transfer->local)
                                    : g_strdup_printf("Done: %s", transfer->local);
        porch_tray_contact_ok(model, host);
    } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        state = PORCH_TRAY_TRANSFER_CANCELLED;
        status = g_strdup("Cancelled (fetching it again resumes)");
    } else {
        state = PORCH_TRAY_TRANSFER_FAILED;
        if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED) &&
            transfer->first_failure != NULL)
            status = g_strdup_printf("Failed: %s (%s)", error->message, transfer->first_failure);
        else
            status = g_strdup_printf("Failed: %s", error->message);
        if (!transfer->connected)
            porch_tray_contact_failed(model, host, error);
    }
    porch_tray_model_transfer_finish(model, transfer->id, state, status);
    if (state == PORCH_TRAY_TRANSFER_DONE || state == PORCH_TRAY_TRANSFER_FAILED) {
        g_autofree char *message = g_strdup_printf("%s — %s", transfer->title, status);
        notify(transfer, state, message);
    }
    tray_transfer_unref(transfer);
    porch_tray_model_worker_done(model);
}

static void
on_open_folder(GSimpleAction *action, GVariant *parameter, gpointer data)
{
    g_autoptr(GFile) dir = g_file_new_for_path(g_variant_get_string(parameter, NULL));
    g_autofree char *uri = g_file_get_uri(dir);

    g_app_info_launch_default_for_uri_async(uri, NULL, NULL, NULL, NULL);
}

/* The Porch neighbours of @model but @n (by host name and by key): the other sources a large
 * file may have. */
static GPtrArray *
other_neighbours(PorchTrayModel *model, PorchNeighbour *n)
{
    GtkTreeModel *list = GTK_TREE_MODEL(porch_tray_model_get_neighbours(model));
    GPtrArray *others = g_ptr_array_new_with_free_func((GDestroyNotify)porch_neighbour_unref);
    const char *fp = porch_neighbour_get_fingerprint(n);
    GtkTreeIter iter;

    for (gboolean ok = gtk_tree_model_get_iter_first(list, &iter); ok;
         ok = gtk_tree_model_iter_next(list, &iter)) {
        PorchNeighbour *o = NULL;

        gtk_tree_model_get(list, &iter, PORCH_TRAY_NCOL_NEIGHBOUR, &o, -1);
        if (o != NULL && porch_neighbour_is_porch(o) &&
            g_strcmp0(porch_neighbour_get_host_name(o), porch_neighbour_get_host_name(n)) != 0 &&
            (fp == NULL || g_strcmp0(porch_neighbour_get_fingerprint(o), fp) != 0))
            g_ptr_array_add(others, o);
        else if (o != NULL)
            porch_neighbour_unref(o);
    }
    return others;
}

guint
porch_tray_transfer_start(PorchTrayModel *model, PorchNeighbour *n, const char *remote,
                          const char *dest_dir)
{
    GtkApplication *app = porch_tray_model_get_application(model);
    TrayTransfer *transfer;
    g_autoptr(GTask) task = NULL;
    g_autofree char *base = NULL;

    g_return_val_if_fail(n != NULL && remote != NULL, 0);
    if (app != NULL && g_action_map_lookup_action(G_ACTION_MAP(app), "open-folder") == NULL) {
        g_autoptr(GSimpleAction) a = g_simple_action_new("open-folder", G_VARIANT_TYPE_STRING);
        g_signal_connect(a, "activate", G_CALLBACK(on_open_folder), NULL);
        g_action_map_add_action(G_ACTION_MAP(app), G_ACTION(a));
    }
    base = g_path_get_basename(remote);
    transfer = g_atomic_rc_box_new0(TrayTransfer);
    g_mutex_init(&transfer->lock);
    transfer->model = model;
    transfer->context = g_main_context_ref(porch_tray_model_get_context(model));
    transfer->neighbour = porch_neighbour_ref(n);
    transfer->remote = g_strdup(remote);
    transfer->dest_dir = dest_dir != NULL ? g_strdup(dest_dir) : porch_tray_default_download_dir();
    g_mkdir_with_parents(transfer->dest_dir, 0755);
    transfer->local = pick_local(transfer->dest_dir, remote);
    transfer->title = g_strdup_printf("%s from %s", base, porch_neighbour_get_name(n));
    transfer->cancellable = g_cancellable_new();
    transfer->connect = porch_tray_connect_new(model);
    transfer->pinned = porch_tray_connect_new_pinned(model);
    transfer->others = other_neighbours(model, n);
    transfer->id = porch_tray_model_transfer_add(model, transfer->title, transfer->local,
                                                 transfer->cancellable);

    porch_tray_model_worker_start(model);
    task = g_task_new(NULL, transfer->cancellable, fetch_done, transfer);
    g_task_set_task_data(task, tray_transfer_ref(transfer), (GDestroyNotify)tray_transfer_unref);
    g_task_set_name(task, "porch-tray fetch");
    g_task_run_in_thread(task, fetch_thread);
    return transfer->id;
}
