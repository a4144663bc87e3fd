/* porch-publish.h — advertise porchd and its shares on the local network (mDNS/DNS-SD).
 *
 * A PorchPublisher keeps avahi-daemon's records in line with a configuration snapshot,
 * exactly as SPEC.md "On the network" says and nothing more:
 *
 *   _porch._tcp     one instance named by the display name; TXT "v=1", "fp=BASE64"
 *   _sftp-ssh._tcp  one instance per share that is not hidden, named "SHARE on NAME"
 *                   (cut to 63 bytes at a UTF-8 boundary); TXT "path=/SHARE", and "u=guest"
 *                   when guests may read the share (its read or write rule names guest)
 *
 * It talks to avahi-daemon over D-Bus from the thread-default main context of the thread that
 * created it, and does not need the daemon to be there: while avahi-daemon is not running
 * (not started yet, stopped, restarting) the publisher waits, and publishes everything again
 * within a few seconds of the daemon coming back. Nothing here fails for lack of avahi; what
 * happens is reported through the signals below. Every function must be called from the
 * thread that created the publisher.
 *
 * Signals (emitted from the main context, never from inside an Avahi callback):
 *   "collision"    (const char *old_name, const char *new_name): another host (or another
 *                  program on this one) has the instance name old_name, and the service is
 *                  now published as new_name ("Photos on Alice's laptop #2"). new_name
 *                  is NULL when the publisher gave up after 32 renames: that service then
 *                  stays unpublished until porch_publisher_apply() changes it or
 *                  avahi-daemon restarts.
 *   "avahi-state"  (gboolean running): avahi-daemon became available (TRUE: the records are
 *                  being published) or went away (FALSE). Emitted on every change, the first
 *                  time once the first porch_publisher_apply() has found out.
 */
#pragma once

#include <glib-object.h>

#include "porch-config.h"

G_BEGIN_DECLS

/* The DNS-SD service types. */
#define PORCH_PUBLISH_HOST_TYPE  "_porch._tcp"
#define PORCH_PUBLISH_SHARE_TYPE "_sftp-ssh._tcp"

#define PORCH_TYPE_PUBLISHER (porch_publisher_get_type())
G_DECLARE_FINAL_TYPE(PorchPublisher, porch_publisher, PORCH, PUBLISHER, GObject)

/* Returns a new publisher (release with g_object_unref()) for a daemon whose host key has the
 * fingerprint @fingerprint ("SHA256:" and unpadded base64, as porch_key_fingerprint() returns
 * it; the TXT key fp= carries the part after "SHA256:") and that serves SSH on @port, the
 * port every service is published with. @fingerprint is copied. Publishes nothing yet, and
 * does not contact avahi-daemon before the first porch_publisher_apply(). Returns NULL (and
 * logs a critical) when @fingerprint does not start with "SHA256:" or @port is 0.
 *
 * Dropping the last reference withdraws every record: each entry group is freed with a
 * synchronous D-Bus call, so avahi-daemon has taken the records back (and sends its goodbye
 * packets) when g_object_unref() returns, even if the process exits right after. */
PorchPublisher *porch_publisher_new(const char *fingerprint, guint16 port);

/* Makes the published records those that @config asks for (see the top of this file). The
 * first call starts publishing; a later one changes only what differs from the previous
 * snapshot: a share added, removed, renamed or hidden adds or withdraws that share's service
 * alone, a change of its guest access updates that service's TXT record in place, and the
 * other services are left untouched (no goodbye, no new announcement). A new display name
 * publishes everything again under the new name. The port stays the one given to
 * porch_publisher_new() (the one being served: porchd takes a new port only when it
 * restarts). @config is read during the call only and not kept. Never fails: when
 * avahi-daemon is not there, the records are published once it is; services avahi-daemon
 * refuses (beyond its per-client object limit, 1024 by default) are tried again after 2 s,
 * then after pauses that double up to 64 s. */
void porch_publisher_apply(PorchPublisher *publisher, const PorchConfig *config);

/* Returns the instance names currently established on the network (avahi-daemon finished
 * probing and announcing them), the _porch._tcp one first, then the shares' in configuration
 * order; an empty array when nothing is. These are the names in use, after any renaming
 * for collisions. Free with g_strfreev(). */
char **porch_publisher_dup_names(PorchPublisher *publisher);

/* Returns TRUE when the publisher is connected to a running avahi-daemon, FALSE before the
 * first porch_publisher_apply() and while avahi-daemon is away. */
gboolean porch_publisher_get_avahi_running(PorchPublisher *publisher);

G_END_DECLS
