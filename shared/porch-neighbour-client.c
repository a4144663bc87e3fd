/* porch-neighbour-client.c — connecting to a neighbour seen over mDNS (see the header). */
#include "porch-neighbour-client.h"

#include "porch-print-client.h"

#include "porch-config.h"
#include "porch-neighbours.h"

GStrv
porch_neighbour_connect_addresses(const PorchNeighbour *neighbour)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    g_return_val_if_fail(neighbour != NULL, NULL);
    g_strv_builder_addv(b, (const char **)porch_neighbour_get_ipv4_addresses(neighbour));
    g_strv_builder_addv(b, (const char **)porch_neighbour_get_ipv6_addresses(neighbour));
    return g_strv_builder_end(b);
}

gboolean
porch_connect_error_is_unreachable(const GError *error)
{
    if (error == NULL || error->domain != G_IO_ERROR)
        return FALSE;
    switch (error->code) {
    case G_IO_ERROR_HOST_NOT_FOUND:
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
porch_connect_error_try_next_address(const GError *error)
{
    return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
}

typedef PorchClient *(*ConnectFunc)(const PorchConnectOptions *options, GCancellable *cancellable,
                                    GError **error);

static PorchClient *
connect_with(ConnectFunc connect, const PorchNeighbour *neighbour, const PorchConnectOptions *base,
             GCancellable *cancellable, GError **error)
{
    g_auto(GStrv) addresses = NULL;
    g_autoptr(GError) last = NULL;
    g_autofree char *pin = NULL;
    PorchConnectOptions options;

    g_return_val_if_fail(neighbour != NULL && base != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    addresses = porch_neighbour_connect_addresses(neighbour);
    if (!porch_neighbour_is_porch(neighbour) || addresses[0] == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND, "%s: %s",
                    porch_neighbour_get_name(neighbour),
                    porch_neighbour_is_porch(neighbour) ? "no address known yet"
                                                        : "does not run Porch");
        return NULL;
    }
    options = *base;
    options.port = porch_neighbour_get_port(neighbour);
    if (options.port == 0)
        options.port = PORCH_DEFAULT_PORT;
    /* one remembered by address has its key pinned under that address (porch neighbours add,
     * the tray's Connect to address…), as `porch ls ADDRESS` pins it */
    pin = porch_neighbour_is_remembered(neighbour)
                  ? porch_neighbours_pin_name(porch_neighbour_get_host_name(neighbour),
                                              options.port)
                  : NULL;
    options.pin_name = pin != NULL ? pin : porch_neighbour_get_name(neighbour);
    options.expected_fingerprint = porch_neighbour_get_fingerprint(neighbour);

    for (guint i = 0; addresses[i] != NULL; i++) {
        PorchClient *client;

        options.address = addresses[i];
        g_clear_error(&last);
        client = connect(&options, cancellable, &last);
        if (client != NULL)
            return client;
        if (!porch_connect_error_try_next_address(last))
            break;
    }
    g_propagate_error(error, g_steal_pointer(&last));
    return NULL;
}

PorchClient *
porch_neighbour_connect(const PorchNeighbour *neighbour, const PorchConnectOptions *base,
                        GCancellable *cancellable, GError **error)
{
    return connect_with(porch_client_connect, neighbour, base, cancellable, error);
}

PorchClient *
porch_neighbour_connect_print(const PorchNeighbour *neighbour, const PorchConnectOptions *base,
                              GCancellable *cancellable, GError **error)
{
    return connect_with(porch_client_connect_print, neighbour, base, cancellable, error);
}
