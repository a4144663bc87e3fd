/* porch-pending.c — one small key file per pending request in STATE/pending/. Each
 * session process writes its own file, replaced atomically; the file name is derived from
 * the fingerprint, so a key is recorded once. Recording holds a lock on STATE/pending/lock
 * (flock), so that concurrent sessions apply the limits to the same table. */
#include "porch-pending.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "porch-state.h"

#define GROUP     "request"
#define SUFFIX    ".request"
#define LOCK_FILE "lock"

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
    g_autofree char *name = g_strdup_printf("%.32s" SUFFIX, hash);
    return g_build_filename(state_dir, PORCH_STATE_PENDING, name, NULL);
}

/* The request in the file at @path; NULL when it is not one. */
static PorchPendingPeer *
load_entry(const char *path)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    PorchPendingPeer *p;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return NULL;
    p = g_new0(PorchPendingPeer, 1);
    p->name = g_key_file_get_string(kf, GROUP, "name", NULL);
    p->key = g_key_file_get_string(kf, GROUP, "key", NULL);
    p->fingerprint = g_key_file_get_string(kf, GROUP, "fingerprint", NULL);
    p->address = g_key_file_get_string(kf, GROUP, "address", NULL);
    p->first_seen = g_key_file_get_int64(kf, GROUP, "first-seen", NULL);
    p->last_seen = g_key_file_get_int64(kf, GROUP, "last-seen", NULL);
    p->attempts = (guint)g_key_file_get_uint64(kf, GROUP, "attempts", NULL);
    p->denied = g_key_file_get_boolean(kf, GROUP, "denied", NULL);
    if (p->key == NULL || p->fingerprint == NULL) {
        porch_pending_peer_free(p);
        return NULL;
    }
    return p;
}

static gboolean
expired(const PorchPendingPeer *p, gint64 expiry, gint64 now)
{
    return expiry > 0 && p->last_seen < now - expiry;
}

/* One request file: where it is, and what it says. */
typedef struct {
    char *path;
    PorchPendingPeer *peer;
} Entry;

static void
entry_free(Entry *e)
{
    g_free(e->path);
    porch_pending_peer_free(e->peer);
    g_free(e);
}

/* The requests in @dir; files that hold none are removed. */
static GPtrArray *
read_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    const char *n;

    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = NULL;
        Entry *e;

        if (!g_str_has_suffix(n, SUFFIX))
            continue;
        path = g_build_filename(dir, n, NULL);
        e = g_new0(Entry, 1);
        e->peer = load_entry(path);
        e->path = g_steal_pointer(&path);
        if (e->peer == NULL) {
            g_unlink(e->path);
            entry_free(e);
            continue;
        }
        g_ptr_array_add(entries, e);
    }
    return entries;
}

static gint
entry_by_first_seen(gconstpointer a, gconstpointer b)
{
    const Entry *x = *(Entry *const *)a;
    const Entry *y = *(Entry *const *)b;
    return (x->peer->first_seen > y->peer->first_seen) -
           (x->peer->first_seen < y->peer->first_seen);
}

/* Removes from @entries (and from disk) what has expired, then, when @address already has
 * @max_per_address requests other than @mine's, its oldest ones. */
static void
make_room(GPtrArray *entries, const PorchPendingLimits *limits, const char *mine,
          const char *address, gint64 now)
{
    g_autoptr(GPtrArray) same = g_ptr_array_new();

    for (guint i = entries->len; i-- > 0;) {
        Entry *e = entries->pdata[i];
        if (expired(e->peer, limits->expiry, now)) {
            g_unlink(e->path);
            g_ptr_array_remove_index(entries, i);
        }
    }
    for (guint i = 0; i < entries->len; i++) {
        Entry *e = entries->pdata[i];
        if (g_strcmp0(e->path, mine) != 0 && g_strcmp0(e->peer->address, address) == 0)
            g_ptr_array_add(same, e);
    }
    g_ptr_array_sort(same, entry_by_first_seen);
    for (guint i = 0; i + MAX(limits->max_per_address, 1u) <= same->len; i++) {
        Entry *e = same->pdata[i];
        g_unlink(e->path);
        g_ptr_array_remove(entries, e);
    }
}

static gboolean
set_errno_error(GError **error, const char *what, int e)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
    return FALSE;
}

gboolean
porch_pending_record(const char *state_dir, const PorchPendingLimits *limits, const char *name,
                     const char *key, const char *fingerprint, const char *address, gint64 now,
                     GError **error)
{
    g_autofree char *dir = porch_state_file(state_dir, PORCH_STATE_PENDING);
    g_autofree char *lock = g_build_filename(dir, LOCK_FILE, NULL);
    g_autofree char *path = entry_path(state_dir, fingerprint);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GPtrArray) entries = NULL;
    g_autofree char *data = NULL;
    gboolean known = FALSE, ok = FALSE;
    gsize len = 0;
    int fd = -1;

    g_return_val_if_fail(limits != NULL && fingerprint != NULL && key != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (limits->max_total == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "no requests are kept (max-pending 0)");
        return FALSE;
    }
    if (g_mkdir_with_parents(dir, 0700) != 0)
        return set_errno_error(error, dir, errno);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return set_errno_error(error, lock, errno);
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            set_errno_error(error, lock, errno);
            goto out;
        }

    entries = read_entries(dir);
    make_room(entries, limits, path, address ? address : "", now);
    for (guint i = 0; i < entries->len; i++)
        known = known || strcmp(((Entry *)entries->pdata[i])->path, path) == 0;
    if (known && g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
        g_key_file_set_uint64(kf, GROUP, "attempts",
                              g_key_file_get_uint64(kf, GROUP, "attempts", NULL) + 1);
    } else {
        if (entries->len >= limits->max_total) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%u requests are pending already",
                        entries->len);
            goto out;
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
    ok = g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  error);
out:
    close(fd); /* releases the lock */
    return ok;
}

static gint
by_first_seen(gconstpointer a, gconstpointer b)
{
    const PorchPendingPeer *x = *(PorchPendingPeer *const *)a;
    const PorchPendingPeer *y = *(PorchPendingPeer *const *)b;

    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? -1 : 1;
    return strcmp(x->fingerprint, y->fingerprint);
}

GPtrArray *
porch_pending_list(const char *state_dir, gint64 expiry)
{
    g_autofree char *dir = porch_state_file(state_dir, PORCH_STATE_PENDING);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)porch_pending_peer_free);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    const char *n;

    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = NULL;
        PorchPendingPeer *p;

        if (!g_str_has_suffix(n, SUFFIX))
            continue;
        path = g_build_filename(dir, n, NULL);
        p = load_entry(path);
        if (p == NULL)
            continue;
        if (expired(p, expiry, now) || p->denied) {
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

gboolean
porch_pending_deny(const char *state_dir, const char *fingerprint, GError **error)
{
    g_autofree char *dir = porch_state_file(state_dir, PORCH_STATE_PENDING);
    g_autofree char *lock = g_build_filename(dir, LOCK_FILE, NULL);
    g_autofree char *path = entry_path(state_dir, fingerprint);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;
    gboolean ok = FALSE;
    gsize len = 0;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0)
        return set_errno_error(error, lock, errno);
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            set_errno_error(error, lock, errno);
            goto out;
        }
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
        goto out;
    g_key_file_set_boolean(kf, GROUP, "denied", TRUE);
    data = g_key_file_to_data(kf, &len, NULL);
    ok = g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  error);
out:
    close(fd);
    return ok;
}

gboolean
porch_pending_names_key(const PorchPendingPeer *p, const char *which)
{
    const char *fp = p->fingerprint;

    return strcmp(fp, which) == 0 ||
           (g_str_has_prefix(fp, "SHA256:") && strcmp(fp + 7, which) == 0);
}

gint
porch_pending_find(GPtrArray *list, const char *which, guint *ret_named)
{
    guint named = 0;
    gint at = -1;

    for (guint i = 0; i < list->len; i++)
        if (porch_pending_names_key(list->pdata[i], which)) {
            if (ret_named != NULL)
                *ret_named = 0;
            return (gint)i;
        }
    for (guint i = 0; i < list->len; i++)
        if (g_strcmp0(((PorchPendingPeer *)list->pdata[i])->name, which) == 0) {
            at = (gint)i;
            named++;
        }
    if (ret_named != NULL)
        *ret_named = named;
    return named == 1 ? at : -1;
}

static void
add_text(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    if (value != NULL && g_utf8_validate(value, -1, NULL))
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
porch_pending_peer_add_json(JsonBuilder *b, const PorchPendingPeer *p)
{
    json_builder_begin_object(b);
    add_text(b, "name", p->name);
    add_text(b, "fingerprint", p->fingerprint);
    add_text(b, "key", p->key);
    add_text(b, "address", p->address);
    json_builder_set_member_name(b, "first_seen");
    json_builder_add_int_value(b, p->first_seen);
    json_builder_set_member_name(b, "last_seen");
    json_builder_add_int_value(b, p->last_seen);
    json_builder_set_member_name(b, "attempts");
    json_builder_add_int_value(b, p->attempts);
    json_builder_end_object(b);
}
