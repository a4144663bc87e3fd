/* launcher.h — porchd's launcher: the only part of the system service that keeps root.
 *
 * It reads no network input. It starts the network side (porchd --network-side) as the
 * system user 'porch', without capabilities, and, when the network side asks, one file
 * worker per share (porchd-worker) as that share's owner. It reads porch.conf itself (at
 * start and on SIGHUP, which it then passes on), so that the network side can only ask for
 * the shares the file names, never name a folder or a user.
 *
 * The protocol, on a socketpair(AF_UNIX, SOCK_SEQPACKET) whose network-side end is
 * PORCH_LAUNCHER_FD in porchd --network-side: one packet each way, printable ASCII, at most
 * PORCH_LAUNCHER_MAX bytes:
 *
 *   network side -> launcher   "worker NAME"   start the worker of [share NAME]
 *   launcher -> network side   "ok"            with the worker's control socket (SCM_RIGHTS)
 *                              "refused TEXT"  TEXT says why, for the log
 *   network side -> launcher   "indexer NAME"  the same for the indexer of [share NAME]
 *                                              (porchd-worker --index, as the same user)
 *
 *   network side -> launcher   "reload"        read porch.conf and the user shares again
 *                                              (what SIGHUP does): "ok" or "refused TEXT"
 *   network side -> launcher   "usershare-put\nSECTION"  with the connection of the local user
 *                              who asked on the control socket (SCM_RIGHTS) and, for a new
 *                              share, the folder that user opened: add or change a user
 *                              share (usershares.h), "ok" or "refused TEXT" (TEXT for the user)
 *   network side -> launcher   "usershare-remove NAME"  with that connection: remove one
 *   network side -> launcher   "usershare-peer\nSECTION"  with that connection: a peer the
 *                              user accepts into their own user shares (usershares.h)
 *   network side -> launcher   "usershare-forget NAME"  with that connection: forget one
 *
 * Who asks for a user share is never the network side's word: the launcher asks the kernel
 * who is at the other end of the connection it was given (SO_PEERCRED), and looks at the
 * folder it was given itself.
 *
 * Anything else ends the connection, and with it the network side.
 */
#pragma once

#include <pwd.h>

#include <glib.h>

#include "porch-config.h"
#include "usershares.h"

G_BEGIN_DECLS

#define PORCH_LAUNCHER_FD                3
#define PORCH_LAUNCHER_MAX               (PORCH_USER_SHARE_REQUEST_MAX + 64)
#define PORCH_LAUNCHER_WORKER            "worker "
#define PORCH_LAUNCHER_INDEXER           "indexer "
#define PORCH_LAUNCHER_OK                "ok"
#define PORCH_LAUNCHER_REFUSED           "refused "
#define PORCH_LAUNCHER_RELOAD            "reload"
#define PORCH_LAUNCHER_USER_SHARE_PUT    "usershare-put\n"
#define PORCH_LAUNCHER_USER_SHARE_REMOVE "usershare-remove "
#define PORCH_LAUNCHER_USER_PEER         "usershare-peer\n"
#define PORCH_LAUNCHER_USER_PEER_FORGET  "usershare-forget "
/* The system user the network side runs as (packaging/porch.sysusers makes it). */
#define PORCH_SERVICE_USER "porch"
/* How long the network side waits for the launcher's answer. */
#define PORCH_LAUNCHER_TIMEOUT_MS 10000

/* Runs the launcher until the network side ends (or SIGTERM): @self is this program, run
 * again as the network side with @config_file, @state_dir and @runtime_dir (made here,
 * porch's); @worker_program is
 * porchd-worker. Returns the exit status for main(). */
int porch_launcher_run(const char *self, const char *config_file, const char *state_dir,
                       const char *runtime_dir, const char *worker_program);

/* The user @share is served as: its owner = USER, else its folder's owner, and 'porch' for a
 * folder that belongs to root (getpwnam()'s static entry: copy what you keep). NULL with
 * @error (naming the key, "owner:" or "path:") when there is none. */
struct passwd *porch_share_user(const PorchShare *share, GError **error);

G_END_DECLS
