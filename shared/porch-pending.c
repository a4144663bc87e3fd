/* porch-pending.c — one small key file per pending request in STATE/pending/. Each
 * session process writes its own file, replaced atomically, so concurrent sessions need no
 * lock; the file name is derived from the fingerprint, so a key is recorded once. */
#include "porch-pending.h"

#include <errno.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#define GROUP "request"

void
porch_pending_peer_free(PorchPendingPeer *p)
{
    if (p == NULL)
        return;
    g_free(p->name);
    g_free(p->key);
    g_free(p->fingerprint);
    g_free(p->address);
    g_free(p);
}

static char *
entry_path(const char *state_dir, const char *fingerprint)
{
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, fingerprint, -1);
    g_autofree char *name = g_strdup_printf("%.32s.request", hash);
    return g_build_filename(state_dir, "pending", name, NULL);
}

static guint
count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;

    while (d != NULL && g_dir_read_name(d) != NULL)
        n++;
    return n;
}

gboolean
porch_pending_record(const char *state_dir, const char *name, const char *key,
                     const char *fingerprint, const char *address, GError **error)
{
    g_autofree char *dir = g_build_filename(state_dir, "pending", NULL);
    g_autofree char *path = entry_path(state_dir, fingerprint);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gsize len = 0;

    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", dir, g_strerror(e));
        return FALSE;
    }
    if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
        g_key_file_set_uint64(kf, GROUP, "attempts",
                              g_key_file_get_uint64(kf, GROUP, "attempts", NULL) + 1);
    } else {
        if (count_entries(dir) >= PORCH_PENDING_MAX) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%u requests are pending already",
                        PORCH_PENDING_MAX);
            return FALSE;
        }
        g_key_file_set_string(kf, GROUP, "name", name ? name : "");
        g_key_file_set_string(kf, GROUP, "key", key);
        g_key_file_set_string(kf, GROUP, "fingerprint", fingerprint);
        g_key_file_set_int64(kf, GROUP, "first-seen", now);
        g_key_file_set_uint64(kf, GROUP, "attempts", 1);
    }
    g_key_file_set_string(kf, GROUP, "address", address ? address : "");
    g_key_file_set_int64(kf, GROUP, "last-seen", now);
    data = g_key_file_to_data(kf, &len, NULL);
    return g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                    error);
}

static gint
by_first_seen(gconstpointer a, gconstpointer b)
{
    const PorchPendingPeer *x = *(PorchPendingPeer *const *)a;
    const PorchPendingPeer *y = *(PorchPendingPeer *const *)b;
    return (x->first_seen > y->first_seen) - (x->first_seen < y->first_seen);
}

GPtrArray *
porch_pending_list(const char *state_dir)
{
    g_autofree char *dir = g_build_filename(state_dir, "pending", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)porch_pending_peer_free);
    const char *n;

    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        PorchPendingPeer *p;

        if (!g_str_has_suffix(n, ".request") ||
            !g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
            continue;
        p = g_new0(PorchPendingPeer, 1);
        p->name = g_key_file_get_string(kf, GROUP, "name", NULL);
        p->key = g_key_file_get_string(kf, GROUP, "key", NULL);
        p->fingerprint = g_key_file_get_string(kf, GROUP, "fingerprint", NULL);
        p->address = g_key_file_get_string(kf, GROUP, "address", NULL);
        p->first_seen = g_key_file_get_int64(kf, GROUP, "first-seen", NULL);
        p->last_seen = g_key_file_get_int64(kf, GROUP, "last-seen", NULL);
        p->attempts = (guint)g_key_file_get_uint64(kf, GROUP, "attempts", NULL);
        if (p->key == NULL || p->fingerprint == NULL) {
            porch_pending_peer_free(p);
            continue;
        }
        g_ptr_array_add(list, p);
    }
    g_ptr_array_sort(list, by_first_seen);
    return list;
}

gboolean
porch_pending_remove(const char *state_dir, const char *fingerprint)
{
    g_autofree char *path = entry_path(state_dir, fingerprint);
    return g_unlink(path) == 0;
}
