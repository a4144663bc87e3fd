/* porch-neighbour-client.h — connecting to a Porch neighbour seen over mDNS, the way every
 * Porch client does it (porch-tray; the rules are those of cli/target.c): its IPv4 addresses
 * first, then IPv6 (a link-local one needs its interface), at the port its _porch._tcp
 * service advertises, its host key expected to be the advertised fp= and pinned under its
 * display name (one remembered by address, porch-neighbours.h: under that address, as `porch
 * neighbours add` pinned it). The next address is tried only when one refuses or cannot be
 * reached. */
#pragma once

#include <gio/gio.h>

#include "porch-browse.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

/* Returns the addresses to try for @neighbour, IPv4 first, then IPv6 (NULL-terminated, maybe
 * empty; free with g_strfreev()). */
GStrv porch_neighbour_connect_addresses(const PorchNeighbour *neighbour);

/* Connects to @neighbour (a Porch host) with @base's identity, user, known_peers, trust
 * callback and timeout; its address, port, pin_name and expected_fingerprint are ignored and
 * taken from @neighbour. May block for the network: call it from a worker thread (the trust
 * callback runs in that thread). Returns the client (free with porch_client_free()), or NULL
 * with @error set as porch_client_connect() sets it — G_IO_ERROR_HOST_NOT_FOUND when
 * @neighbour is not a Porch host or has no address yet. */
PorchClient *porch_neighbour_connect(const PorchNeighbour *neighbour,
                                     const PorchConnectOptions *base, GCancellable *cancellable,
                                     GError **error);

/* The same for one print, jobs or cancel command (porch-print-client.h): the client runs no
 * SFTP (porch_client_connect_print()). */
PorchClient *porch_neighbour_connect_print(const PorchNeighbour *neighbour,
                                           const PorchConnectOptions *base,
                                           GCancellable *cancellable, GError **error);

/* TRUE when @error says the neighbour could not be reached at all (not found, refused,
 * timed out, unreachable, connection closed) — as opposed to a refusal of keys or a failed
 * file. */
gboolean porch_connect_error_is_unreachable(const GError *error);
/* TRUE when after @error another address of the same host may answer (refused, host or
 * network unreachable). */
gboolean porch_connect_error_try_next_address(const GError *error);

G_END_DECLS
