/* porch-interfaces.c — see porch-interfaces.h. */
#include "porch-interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

const char *
porch_interface_virtual_kind(const char *name)
{
    static const struct {
        const char *pattern, *kind;
    } kinds[] = {
            {"docker*", "a Docker bridge"},
            {"br-*", "a Docker network bridge"},
            {"veth*", "a container's link"},
            {"virbr*", "a libvirt bridge"},
            {"vnet*", "a virtual machine's link"},
            {"lxcbr*", "an LXC bridge"},
            {"lxdbr*", "an LXD bridge"},
            {"podman*", "a Podman bridge"},
            {"cni*", "a container bridge"},
            {"vboxnet*", "a VirtualBox host-only network"},
            {"tun*", "a VPN tunnel"},
            {"tap*", "a VPN or virtual machine's link"},
            {"wg*", "a WireGuard VPN"},
            {"tailscale*", "a Tailscale VPN"},
            {"zt*", "a ZeroTier VPN"},
    };

    g_return_val_if_fail(name != NULL, NULL);

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
        if (g_pattern_match_simple(kinds[i].pattern, name))
            return kinds[i].kind;
    return NULL;
}

gboolean
porch_interface_wanted(const char *name, const char *const *configured)
{
    g_return_val_if_fail(name != NULL, FALSE);

    if (configured != NULL)
        return g_strv_contains(configured, name);
    return strcmp(name, "lo") != 0 && porch_interface_virtual_kind(name) == NULL;
}

static gint
compare_index(gconstpointer a, gconstpointer b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void
porch_interfaces_scan(const char *const *configured, GArray **wanted, gboolean *others)
{
    struct ifaddrs *all = NULL;

    *wanted = g_array_new(FALSE, FALSE, sizeof(int));
    *others = FALSE;
    if (getifaddrs(&all) != 0)
        return;
    /* One entry per address: an interface is counted at its first one. */
    for (struct ifaddrs *a = all; a != NULL; a = a->ifa_next) {
        int index;
        gboolean seen = FALSE;

        if (a->ifa_addr == NULL ||
            (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6) ||
            !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK))
            continue;
        if (!porch_interface_wanted(a->ifa_name, configured)) {
            /* avahi-daemon's defaults leave out interfaces without multicast and
             * point-to-point ones (most VPN tunnels): nothing to keep off those. */
            if ((a->ifa_flags & IFF_MULTICAST) && !(a->ifa_flags & IFF_POINTOPOINT))
                *others = TRUE;
            continue;
        }
        if ((index = (int)if_nametoindex(a->ifa_name)) == 0)
            continue;
        for (guint i = 0; i < (*wanted)->len && !seen; i++)
            seen = g_array_index(*wanted, int, i) == index;
        if (!seen)
            g_array_append_val(*wanted, index);
    }
    freeifaddrs(all);
    g_array_sort(*wanted, compare_index);
}
