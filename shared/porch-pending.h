/* porch-pending.h — unknown keys that asked for access, kept for `porch peers`. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
    char *name;        /* the user name the client gave: a suggestion for [peer NAME] */
    char *key;         /* the public key line */
    char *fingerprint; /* "SHA256:..." */
    char *address;     /* where it came from, last time */
    gint64 first_seen; /* Unix time, seconds */
    gint64 last_seen;
    guint attempts;
    gboolean denied; /* the owner said no (porch_pending_deny()): not listed again */
} PorchPendingPeer;

void porch_pending_peer_free(PorchPendingPeer *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchPendingPeer, porch_pending_peer_free)

/* How many requests STATE/pending/ may hold, and for how long (porch.conf's max-pending,
 * max-pending-per-address and pending-expiry). */
typedef struct {
    guint max_total;       /* requests of all addresses; 0: none are recorded */
    guint max_per_address; /* requests last seen from one address; at least 1 */
    gint64 expiry;         /* seconds after its last attempt that a request is forgotten */
} PorchPendingLimits;

/* Records (or updates: attempts, last_seen, address) the request of the key with
 * @fingerprint in @state_dir/pending/, within @limits, at Unix time @now (seconds):
 * expired requests (last seen more than limits->expiry seconds before @now) are removed
 * first; when limits->max_per_address other requests were last seen from @address, the
 * oldest of them (by first_seen) makes room; a key never takes over another key's request,
 * whatever name it gives. Returns FALSE with @error set when nothing was recorded:
 * G_IO_ERROR_NO_SPACE when limits->max_total requests of other keys are pending (or
 * max_total is 0), another G_IO_ERROR code when the folder cannot be written. Concurrent
 * callers (one per session process) are serialised by a lock file in the folder. */
gboolean porch_pending_record(const char *state_dir, const PorchPendingLimits *limits,
                              const char *name, const char *key, const char *fingerprint,
                              const char *address, gint64 now, GError **error);

/* Returns the pending requests of @state_dir, oldest first (then by fingerprint; an array of
 * PorchPendingPeer*, free with g_ptr_array_unref()); an empty array when there are none. Unreadable
 * entries, and with @expiry > 0 those last seen more than @expiry seconds ago, are left out (not
 * removed: porch_pending_record() does that). */
GPtrArray *porch_pending_list(const char *state_dir, gint64 expiry);

/* Whether @which names @p's key: its fingerprint, with or without "SHA256:". */
gboolean porch_pending_names_key(const PorchPendingPeer *p, const char *which);

/* The index in @list (of porch_pending_list()) of the request @which names: the one whose
 * key it names (a fingerprint wins over a name), else the only one that gave that name; -1
 * when none or several do. *@ret_named (may be NULL) gets how many gave the name. A name is
 * only what a client said: anyone can give any name. */
gint porch_pending_find(GPtrArray *list, const char *which, guint *ret_named);

/* Says no to the request of @fingerprint: it is no longer listed, and the key's further
 * attempts are counted under it (not listed either) until it expires as any request does,
 * pending-expiry after its last attempt. */
gboolean porch_pending_deny(const char *state_dir, const char *fingerprint, GError **error);

/* Adds @p to @b as one object with exactly these members, in this order: "name" (string, or
 * null), "fingerprint", "key", "address" (strings, or null when not UTF-8: they came from the
 * network), "first_seen", "last_seen" (Unix time), "attempts". What porchd's control socket
 * answers and `porch peers list --json` prints. */
void porch_pending_peer_add_json(JsonBuilder *b, const PorchPendingPeer *p);

/* Forgets the request of @fingerprint; TRUE when there was one. */
gboolean porch_pending_remove(const char *state_dir, const char *fingerprint);

G_END_DECLS
