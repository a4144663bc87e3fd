/* porch-pending.h — unknown keys that asked for access, kept for `porch peers`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At most this many distinct pending requests are kept; later ones are not recorded. */
#define PORCH_PENDING_MAX 64

typedef struct {
    char *name;        /* the user name the client gave: a suggestion for [peer NAME] */
    char *key;         /* the public key line */
    char *fingerprint; /* "SHA256:..." */
    char *address;     /* where it came from, last time */
    gint64 first_seen; /* Unix time, seconds */
    gint64 last_seen;
    guint attempts;
} PorchPendingPeer;

void porch_pending_peer_free(PorchPendingPeer *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchPendingPeer, porch_pending_peer_free)

/* Records (or updates: attempts, last_seen, address) the request of the key with
 * @fingerprint in @state_dir/pending/. Returns FALSE with @error set (G_IO_ERROR) when it
 * cannot be written, or when PORCH_PENDING_MAX other requests are pending already
 * (G_IO_ERROR_NO_SPACE). */
gboolean porch_pending_record(const char *state_dir, const char *name, const char *key,
                              const char *fingerprint, const char *address, GError **error);

/* Returns the pending requests of @state_dir, oldest first (an array of PorchPendingPeer*,
 * free with g_ptr_array_unref()); an empty array when there are none. Unreadable entries
 * are skipped. */
GPtrArray *porch_pending_list(const char *state_dir);

/* Forgets the request of @fingerprint; TRUE when there was one. */
gboolean porch_pending_remove(const char *state_dir, const char *fingerprint);

G_END_DECLS
