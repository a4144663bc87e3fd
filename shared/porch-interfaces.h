/* porch-interfaces.h — the network interfaces where neighbours can be.
 *
 * Porch publishes its records (porch-publish.h) and takes neighbours' records (porch-browse.h)
 * only on interfaces that lead to a LAN. By default that is every interface but loopback and
 * the virtual ones no neighbour sits behind: container bridges and their links (docker*, br-*,
 * veth*, lxcbr*, lxdbr*, podman*, cni*), virtual machines' bridges and links (virbr*, vnet*,
 * vboxnet*), VPN tunnels (tun*, tap*, wg*, tailscale*, zt*). [porch] interfaces in porch.conf
 * replaces that rule by a list of names: exactly those interfaces then.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What kind of virtual interface @name is by its name ("a Docker bridge", "a VPN tunnel", ...,
 * for messages), NULL when it is none of those above. Loopback is not told by its name: NULL
 * for "lo" too. */
const char *porch_interface_virtual_kind(const char *name);

/* TRUE when Porch uses the interface @name: when @configured ([porch] interfaces, NULL when
 * not set) is given, exactly when it names @name; else when @name is not "lo" and
 * porch_interface_virtual_kind() knows it not. */
gboolean porch_interface_wanted(const char *name, const char *const *configured);

/* The interfaces of this network namespace that avahi-daemon would use (up, not loopback,
 * with an address) and porch_interface_wanted() says yes to: their indexes in increasing
 * order in *@wanted (an empty array when there are none; free with g_array_unref()).
 * *@others is TRUE when some interface avahi-daemon would use by default (one that also does
 * multicast and is not point-to-point) is not wanted. */
void porch_interfaces_scan(const char *const *configured, GArray **wanted, gboolean *others);

G_END_DECLS
