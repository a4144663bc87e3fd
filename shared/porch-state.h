/* porch-state.h — porchd's state folder: what lives in it, its pid file, and the reload
 * handshake by which `porch peers accept` makes the running porchd take a new porch.conf.
 *
 * The folder is porchd's --state-dir, by default porch_state_default_dir(): /var/lib/porch for
 * the system service, $XDG_STATE_HOME/porch for a user's porchd. porchd creates it (0700) and
 * everything in it:
 *
 *   PORCH_STATE_HOST_KEY      porchd's host key (and its .pub), made on first start. The CUPS
 *                             backend (cli/backend.c) authenticates to neighbours with it, and
 *                             `porch printer add` and the tray tell the owner to add it.
 *   PORCH_STATE_KNOWN_PEERS   the neighbours' host keys the CUPS backend pinned.
 *   PORCH_STATE_PENDING       a folder: the requests for access of unknown keys (porch-pending.h).
 *   PORCH_STATE_RUNNING_CONFIG  the bytes of the porch.conf porchd validated and runs with last;
 *                             its sessions read this snapshot, never porch.conf itself.
 *   PORCH_STATE_PID_FILE      while porchd runs: "PID\n", the process that takes SIGHUP (the
 *                             system service's launcher, which passes it on).
 *   PORCH_STATE_PORT          "PORT\n": the port a per-user porchd chose when 4422 was taken,
 *                             tried again at its next start.
 *   PORCH_STATE_UPLOADS       a folder: the journal of unfinished uploads (daemon/sftp-server.h).
 *   PORCH_STATE_OFFLINE       "EPOCH\n" then "NAME\n" for each share whose folder is missing:
 *                             written by porchd's network side (replaced atomically) before it
 *                             signals its sessions; EPOCH grows at each change.
 *   PORCH_STATE_USER_SHARES   the user shares (daemon/usershares.h), written by the launcher
 *                             (root's file) or the per-user porchd; porchd reads it with
 *                             porch.conf, and its sessions the snapshot of it that
 *                             porchd took, PORCH_STATE_RUNNING_USER_SHARES.
 *   PORCH_STATE_RELOAD        porchd's verdict on the last porch.conf it loaded (at start, then at
 *                             each SIGHUP), written by the network side, replaced atomically,
 *                             mode 0644: a line "PID-START SERIAL" (the network side's pid and
 *                             start time in microseconds, then 0 at start and one more at each
 *                             reload), then "ok", or "refused" and a line with the reason (the
 *                             loader's message: file, line, section and key). `porchd --reload`
 *                             reads it (porch_state_read_reload()).
 *
 * The reload handshake:
 *   1. porchd writes the pid file at start (porch_state_write_pid()) and removes it at a clean
 *      stop (porch_state_remove_pid()).
 *   2. A program that changed porch.conf finds porchd (porch_state_find_porchd(): the pid file
 *      must name a live process called "porchd", so a pid left behind by a killed porchd that
 *      another program has now is never signalled) and sends it SIGHUP.
 *   3. porchd reloads porch.conf; when the file is valid it writes exactly the bytes it loaded
 *      to the running-config file, atomically. So the program knows porchd took its file when
 *      that file holds the very bytes it wrote (porch_state_wait_running()). An invalid file
 *      leaves the running configuration, and that file, as they were.
 *   4. Either way porchd then writes its verdict to the reload file, under a new first line.
 *      So a program that noted that line before its SIGHUP (porch_state_read_reload()) knows
 *      the answer when the line changes, and why a file was refused: `porchd --reload`, which
 *      systemd's ExecReload runs, waits for that and fails with the reason. Signals that
 *      arrive together are one reload: the verdict is on the file as it was when porchd read
 *      it, after the last of them was sent.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

#define PORCH_STATE_HOST_KEY            "ssh_host_ed25519_key"
#define PORCH_STATE_KNOWN_PEERS         "known_peers"
#define PORCH_STATE_PENDING             "pending"
#define PORCH_STATE_RUNNING_CONFIG      "running.conf"
#define PORCH_STATE_PID_FILE            "porchd.pid"
#define PORCH_STATE_PORT                "port"
#define PORCH_STATE_UPLOADS             "uploads"
#define PORCH_STATE_OFFLINE             "offline"
#define PORCH_STATE_USER_SHARES         "usershares.conf"
#define PORCH_STATE_RUNNING_USER_SHARES "running-usershares.conf"
#define PORCH_STATE_RELOAD              "reload"

/* The state folder porchd uses unless told another: /var/lib/porch for the system service
 * (@system), else $XDG_STATE_HOME/porch. Free with g_free(). */
char *porch_state_default_dir(gboolean system);

/* @state_dir/@name, @name one of the PORCH_STATE_* above. Free with g_free(). */
char *porch_state_file(const char *state_dir, const char *name);

/* Writes @state_dir's pid file: "@pid\n", atomically (readers see the old file or the new
 * one), mode 0644. Returns its path (free with g_free()), or NULL with @error set. */
char *porch_state_write_pid(const char *state_dir, pid_t pid, GError **error);

/* Removes the pid file at @path if it still names @pid (a porchd started since has its own).
 * FALSE, with errno set, when it named @pid but could not be removed. */
gboolean porch_state_remove_pid(const char *path, pid_t pid);

/* The pid of the porchd whose state is in @state_dir, from its pid file, provided that this
 * process runs and is a porchd; 0 otherwise, with the reason in @ret_why (free with
 * g_free()): no pid file, one that holds no pid, or one that names another program. */
pid_t porch_state_find_porchd(const char *state_dir, char **ret_why);

/* Waits at most @timeout_ms for @state_dir's running-config file to hold exactly the @len
 * bytes at @text: the porchd that was sent SIGHUP took that configuration. */
gboolean porch_state_wait_running(const char *state_dir, const char *text, gsize len,
                                  guint timeout_ms);

/* Writes @state_dir's reload file (above): the verdict on the configuration loaded at @serial
 * (0: at start) by the network side @run ("PID-START"): taken when @refusal is NULL, else
 * refused for that reason. FALSE with @error set when it cannot be written. */
gboolean porch_state_write_reload(const char *state_dir, const char *run, guint64 serial,
                                  const char *refusal, GError **error);

/* Reads @state_dir's reload file. Returns its first line (free with g_free()), NULL when there
 * is no such file or it is malformed. When @ret_refusal is given it gets NULL when the
 * configuration was taken, else the reason it was refused (free with g_free()). */
char *porch_state_read_reload(const char *state_dir, char **ret_refusal);

G_END_DECLS
