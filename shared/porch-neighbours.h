/* porch-neighbours.h — neighbours remembered by address, for when mDNS cannot show them
 * (another subnet, a network that drops multicast): `porch neighbours add|remove|list` and the
 * tray's "Connect to address…".
 *
 * They are kept in the user's $XDG_CONFIG_HOME/porch/neighbours, a key file with one group per
 * neighbour, named by its address as known_peers pins it ("10.0.0.7", "10.0.0.7:4423",
 * "[fe80::1%eth0]:4423"), holding what it last said of itself:
 *
 *   [10.0.0.7]
 *   address=10.0.0.7
 *   port=4422
 *   name=Alice's laptop
 *   fingerprint=SHA256:...
 *   shares=Photos;Music;
 *   printers=Office;
 *
 * It is written whole to a temporary file that then replaces it (g_file_set_contents()), so a
 * crash leaves the old list or the new one, never half of either.
 *
 * What a neighbour is, it says itself over unicast: the "status" command of its porchd
 * (porch-print-protocol.h), run over an SSH connection of its own whose host key is checked
 * and pinned in known_peers under the address, as for `porch ls ADDRESS`.
 */
#pragma once

#include <gio/gio.h>

#include "porch-browse.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

/* The most neighbours the file keeps, and the largest file read. */
#define PORCH_NEIGHBOURS_MAX      256
#define PORCH_NEIGHBOURS_MAX_FILE (1024 * 1024)

/* One remembered neighbour. */
typedef struct {
    char *address;     /* an IP address ("10.0.0.7", "fe80::1%eth0") or a host name */
    guint16 port;      /* its porchd's port */
    char *name;        /* its display name, as it last said */
    char *fingerprint; /* "SHA256:..." of its host key */
    GStrv shares;      /* the shares it last listed for us; never NULL */
    GStrv printers;    /* the printers it last listed for us; never NULL */
} PorchRemembered;

void porch_remembered_free(PorchRemembered *remembered);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchRemembered, porch_remembered_free)

/* $XDG_CONFIG_HOME/porch/neighbours. Free with g_free(). */
char *porch_neighbours_default_file(void);

/* Splits "ADDRESS[:PORT]" ("10.0.0.7", "10.0.0.7:4423", "fe80::1%eth0", "[fe80::1]:4423",
 * "alice.example.org") into the address (an IP address in its usual text form) and the port
 * (PORCH_DEFAULT_PORT when none is given). FALSE with @error set (G_IO_ERROR_INVALID_ARGUMENT,
 * a message for people) for anything else. */
gboolean porch_neighbours_parse_address(const char *text, char **ret_address, guint16 *ret_port,
                                        GError **error);

/* The name known_peers keeps the key of @address at @port under: "ADDR" on the default port,
 * else "ADDR:PORT" ("[ADDR]:PORT" for IPv6) — the same as `porch ls ADDRESS` pins. */
char *porch_neighbours_pin_name(const char *address, guint16 port);

/* The neighbours in @file (NULL: the default one), in its order: an array of PorchRemembered*
 * (free with g_ptr_array_unref()); empty when the file does not exist. NULL with @error set
 * when it cannot be read or parsed, or is larger than PORCH_NEIGHBOURS_MAX_FILE. Groups
 * without a usable address are skipped; at most PORCH_NEIGHBOURS_MAX are taken. */
GPtrArray *porch_neighbours_load(const char *file, GError **error);

/* Writes @list (PorchRemembered*) to @file (NULL: the default one), making its folder (0700)
 * when missing, atomically. */
gboolean porch_neighbours_save(const char *file, GPtrArray *list, GError **error);

/* The neighbour of @list that @name names: by display name exactly, then without regard to
 * case, then by address ("ADDR" or "ADDR:PORT" as porch_neighbours_pin_name() writes it).
 * Borrowed from @list; NULL when none. */
PorchRemembered *porch_neighbours_find(GPtrArray *list, const char *name);

/* Connects to @address at @port with @base's identity, user, known_peers, trust callback and
 * timeouts (its address, port, pin_name and expected_fingerprint are ignored), the key pinned
 * under porch_neighbours_pin_name(), and asks who it is. Blocks for the network: call it from a
 * worker thread in a GUI. Returns the neighbour as it described itself, or NULL with @error
 * set as porch_client_connect() and porch_client_status() set it. */
PorchRemembered *porch_neighbours_check(const char *address, guint16 port,
                                        const PorchConnectOptions *base, GCancellable *cancellable,
                                        GError **error);

/* A poll of @remembered, as porch browse makes it: in a worker thread, with this user's key
 * (porch_identity_default_file(); missing, as guest; never created) and known_peers (the
 * default), a key not pinned under its address refused without asking, replies and connecting
 * bounded by @timeout_seconds (0: the client library's default), porch_neighbours_check(). */
void porch_neighbours_poll_async(const PorchRemembered *remembered, int timeout_seconds,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer data);
/* Its answer (free with porch_remembered_free()), or NULL with @error set. */
PorchRemembered *porch_neighbours_poll_finish(GAsyncResult *result, GError **error);

/* Adds @remembered to @file (NULL: the default one), replacing a neighbour at the same address
 * and port. FALSE with @error set when the file cannot be read or written, or already holds
 * PORCH_NEIGHBOURS_MAX others. */
gboolean porch_neighbours_add(const char *file, const PorchRemembered *remembered, GError **error);

/* What a poll of a remembered neighbour learnt: @fresh (from porch_neighbours_check()) replaces
 * the display name, shares and printers of the neighbour at the same address and port in @file
 * (NULL: the default one). A neighbour no longer in the file is not added again (it was
 * forgotten meanwhile). *@ret_changed (may be NULL) says whether the file changed. FALSE with
 * @error set when the file cannot be read or written. */
gboolean porch_neighbours_refresh(const char *file, const PorchRemembered *fresh,
                                  gboolean *ret_changed, GError **error);

/* Forgets the neighbour that @name names (porch_neighbours_find()). Returns it (free with
 * porch_remembered_free()), or NULL with @error set: G_IO_ERROR_NOT_FOUND when none does, else
 * the file's error. */
PorchRemembered *porch_neighbours_remove(const char *file, const char *name, GError **error);

/* Whether @a and @b say the same of their neighbour (address, port, name, key, shares, printers).
 */
gboolean porch_remembered_equal(const PorchRemembered *a, const PorchRemembered *b);
/* A copy of @remembered (free with porch_remembered_free()). */
PorchRemembered *porch_remembered_copy(const PorchRemembered *remembered);

/* Whether @neighbour, seen over mDNS, is @remembered: a Porch host with the host key it had, or
 * its display name. porch browse and the tray show a remembered neighbour only while mDNS does
 * not show it. */
gboolean porch_remembered_is_seen_as(const PorchRemembered *remembered,
                                     const PorchNeighbour *neighbour);

/* @remembered as a neighbour to show beside those seen over mDNS
 * (porch_neighbour_new_remembered()). */
PorchNeighbour *porch_remembered_to_neighbour(const PorchRemembered *remembered);

G_END_DECLS
