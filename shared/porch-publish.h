/* porch-publish.h — advertise porchd, its shares and printers on the local network
 * (mDNS/DNS-SD).
 *
 * A PorchPublisher keeps avahi-daemon's records in line with a configuration snapshot and
 * what is known of the printers' CUPS queues, exactly as docs/PROTOCOL.md (Discovery) says and
 * nothing more:
 *
 *   _porch._tcp        one instance named by the display name; TXT "v=1", "fp=BASE64",
 *                      "inbox=1" when an inbox is on (`porch send` can work)
 *   _sftp-ssh._tcp     one instance per share that is not hidden, named "SHARE on NAME"
 *                      (cut to 63 bytes at a UTF-8 boundary); TXT "path=/SHARE", and "u=guest"
 *                      when guests may read the share (its read or write rule names guest)
 *   _porch-print._tcp  one instance per printer that is not hidden and whose queue is
 *                      available (porch_publisher_set_printer()), named "PRINTER on NAME";
 *                      TXT as porch_publish_printer_txt() builds it
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
#define PORCH_PUBLISH_HOST_TYPE    "_porch._tcp"
#define PORCH_PUBLISH_SHARE_TYPE   "_sftp-ssh._tcp"
#define PORCH_PUBLISH_PRINTER_TYPE "_porch-print._tcp"

typedef enum {
    PORCH_PRINTER_IDLE,
    PORCH_PRINTER_PROCESSING,
    PORCH_PRINTER_STOPPED,
} PorchPrinterState;

/* What is advertised of a printer: its CUPS queue's description and state. */
typedef struct {
    const char *make_and_model; /* printer-make-and-model; "" or NULL: unknown */
    gboolean color;
    gboolean duplex;
    PorchPrinterState state;
    gboolean accepting;
} PorchPrinterStatus;

/* The TXT strings of a printer's _porch-print._tcp service, in this order: "v=1",
 * "ty=MAKE AND MODEL" ("Unknown" when there is none; valid UTF-8, the string cut at a
 * character to fit a TXT string's 255 bytes), "Color=T" or "Color=F", "Duplex=T" or "Duplex=F",
 * "state=idle", "state=processing" or "state=stopped", "accepting=T" or "accepting=F".
 * Nothing else: no queue name, no user names. Free with g_strfreev(). */
GStrv porch_publish_printer_txt(const PorchPrinterStatus *status);

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

/* The display name to publish when the configuration sets none (a per-user porchd's, so that
 * it never takes the system service's name); before the first porch_publisher_apply(). */
void porch_publisher_set_default_name(PorchPublisher *publisher, const char *name);

/* Makes the published records those that @config asks for (see the top of this file). The
 * first call starts publishing; a later one changes only what differs from the previous
 * snapshot: a share or printer added, removed, renamed or hidden adds or withdraws that
 * service alone, a change of its guest access updates that service's TXT record in place,
 * and the other services are left untouched (no goodbye, no new announcement). A new display
 * name publishes everything again under the new name. The port stays the one given to
 * porch_publisher_new() (the one being served: porchd takes a new port only when it
 * restarts). A reference to @config is kept until the next call, for
 * porch_publisher_set_printer(); the status of a printer that @config no longer has, or
 * whose queue it changed, is forgotten (withdrawn until the next status). Never fails: when
 * avahi-daemon is not there, the records are published once it is; services avahi-daemon
 * refuses (beyond its per-client object limit, 1024 by default) are tried again after 2 s,
 * then after pauses that double up to 64 s. */
void porch_publisher_apply(PorchPublisher *publisher, const PorchConfig *config);

/* Tells the publisher what CUPS says about the queue of the printer called @name in the
 * configuration last applied: @status (copied) publishes or updates the printer's
 * _porch-print._tcp service (its TXT record changed in place when only that differs); NULL
 * withdraws it (the queue is missing, or CUPS is not running). Nothing is published for a
 * printer before its first status, nor for a hidden one. A @name the configuration does not
 * have is ignored. Call it as often as the queue is polled: an unchanged status changes
 * nothing on the network. */
void porch_publisher_set_printer(PorchPublisher *publisher, const char *name,
                                 const PorchPrinterStatus *status);

/* Returns the instance names currently established on the network (avahi-daemon finished
 * probing and announcing them), the _porch._tcp one first, then the shares' in configuration
 * order, then the printers'; an empty array when nothing is. These are the names in use,
 * after any renaming for collisions. Free with g_strfreev(). */
char **porch_publisher_dup_names(PorchPublisher *publisher);

/* Returns TRUE when the publisher is connected to a running avahi-daemon, FALSE before the
 * first porch_publisher_apply() and while avahi-daemon is away. */
gboolean porch_publisher_get_avahi_running(PorchPublisher *publisher);

G_END_DECLS
