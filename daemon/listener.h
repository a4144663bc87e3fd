/* listener.h — porchd's listening sockets: each accepted connection goes to a freshly
 * exec'd porchd-session process. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "manager.h"
#include "offers.h"
#include "workers.h"

G_BEGIN_DECLS

/* Failed logins from one address within this many seconds... */
#define PORCH_AUTH_FAILURE_WINDOW 60
/* ...beyond this number make porchd turn that address away until the window has passed. */
#define PORCH_AUTH_FAILURE_MAX 10

typedef struct _PorchListener PorchListener;

/* Binds @port (0: a free one, the same on every address) on the addresses of @manager's
 * current configuration and starts accepting
 * on the thread-default main context. Each connection is served by @session_program
 * (started with the socket as fd 3, its control socket as fd 4 (session.h), the snapshot
 * file and @state_dir), within the limits of the current configuration: a connection from
 * an address with too many failed logins or max-sessions-per-address connections, beyond
 * max-startups connections not logged in yet, or when max-sessions are logged in, is told
 * why in one line, which the client is given time to read, and closed. A session that
 * authenticated asks on its control socket whether it may go on: at most max-sessions are
 * logged in, of them at most max-guest-sessions guests. A logged-in session gets its
 * connections to the shares' file workers from @workers (borrowed), for the shares its peer
 * may read. Returns NULL with @error set when an address cannot be bound. */
PorchListener *porch_listener_new(PorchManager *manager, PorchWorkers *workers, guint16 port,
                                  const char *session_program, const char *snapshot_file,
                                  const char *state_dir, GError **error);

/* The display name the sessions' "status" command gives when porch.conf sets no name = (a
 * per-user porchd's "USER on HOST"); NULL: porch.conf's. */
void porch_listener_set_default_name(PorchListener *listener, const char *name);

/* The port it listens on: the one given, or the kernel's choice when that was 0. */
guint16 porch_listener_get_port(PorchListener *listener);

/* Stops listening, sends SIGTERM to every session still running, frees @listener. */
void porch_listener_free(PorchListener *listener);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchListener, porch_listener_free)

/* Adds to @b an array of the logged-in sessions, one object each: "peer" (the [peer]'s name,
 * or "guest"), "guest" (boolean), "address", "pid", "since" (Unix time of the login). */
void porch_listener_add_sessions(PorchListener *listener, JsonBuilder *b);

/* Adds to @b an array of the transfers under way, as their sessions said: "peer",
 * "address", "direction" ("download" or "upload"), "path" (SHARE/PATH), "size", "done"
 * (bytes), "since" (Unix time). */
void porch_listener_add_transfers(PorchListener *listener, JsonBuilder *b);

/* The offers of files the sessions hold for the inboxes' owners (offers.h); the listener's. */
PorchOffers *porch_listener_get_offers(PorchListener *listener);

/* Tells every running session that the configuration was reloaded (SIGHUP). */
void porch_listener_reloaded(PorchListener *listener);

G_END_DECLS
