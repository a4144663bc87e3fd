/* offline.h — shares whose folder is missing (an unplugged disk, an unmounted bind mount).
 *
 * Such a share is offline: porchd's network side withdraws it from mDNS, lets its worker go
 * and refuses sessions a connection to it; sessions leave it out of the SFTP root and answer
 * "no such file" for it. Every other share is served as usual, and start-up and reload go on.
 *
 * The network side looks at every share's folder at start, after each reload and every
 * PORCH_OFFLINE_POLL_SECONDS, and tells its sessions through the state file
 * PORCH_STATE_OFFLINE (porch-state.h) and a SIGHUP, as for a reload. Sessions cannot look
 * themselves: Landlock leaves them the state directory only.
 */
#pragma once

#include <glib.h>

#include "porch-config.h"

G_BEGIN_DECLS

/* How often the network side looks: a share is back within this after its folder is. */
#define PORCH_OFFLINE_POLL_SECONDS 2

typedef struct _PorchOffline PorchOffline;

/* The network side's record of offline shares; the state file goes in @state_dir. */
PorchOffline *porch_offline_new(const char *state_dir);
void porch_offline_free(PorchOffline *offline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchOffline, porch_offline_free)

/* Looks at each share's folder of @config and marks @config's shares offline or not
 * (porch_config_set_offline()); logs each share that goes offline or comes back, once.
 * When the set changed (or at the first call) writes the state file, before returning
 * TRUE: the caller then tells the publisher, the workers and the sessions. */
gboolean porch_offline_check(PorchOffline *offline, PorchConfig *config);

/* In a session: marks the shares of @config that the state file in @state_dir names. A
 * missing or unreadable file marks none. */
void porch_offline_read(PorchConfig *config, const char *state_dir);

G_END_DECLS
