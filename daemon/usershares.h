/* usershares.h — the user shares porchd keeps: shares that an ordinary user made of a
 * folder of their own with `porch share add`, without root and without editing porch.conf
 * (the model is Samba's usershares).
 *
 * They live in the state folder, in PORCH_STATE_USER_SHARES: porch.conf's [share NAME] form,
 * each with the owner it is served as (porch_config_load_merged() reads them with porch.conf).
 * The file is written only by the process that decides about user shares — the launcher of
 * the system service (as root: the file is root's, and a file there that is not is ignored,
 * so that the network side, which owns the folder, cannot make one up), or the per-user
 * porchd (as that user) — and only through the calls below, after checking who asks.
 *
 * Who asks is what the kernel says about the caller's end of the control socket
 * (SO_PEERCRED), never what a message claims: the caller's connection itself is handed to the
 * deciding process with the request. */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* The request text of a put: one [share NAME] section with read, write, comment and hidden
 * (porch_config_user_share_text() with any path and owner: both are ignored), at most this
 * long. */
#define PORCH_USER_SHARE_REQUEST_MAX 8192

/* The text of @file, "" when there is none. A file that is a link, is not @owner's or may be
 * written by others is refused (NULL, @error set). */
char *porch_user_shares_read(const char *file, uid_t owner, GError **error);

/* The user (uid) whose end of the connected Unix socket @sock is, from the kernel. FALSE with
 * @error set when it cannot be told. */
gboolean porch_user_shares_caller(int sock, uid_t *ret_uid, GError **error);

/* Adds the user share that @request describes, or changes one of @caller's. @dir_fd is the
 * folder to share, as the caller opened it (-1: the share exists and keeps its folder); it
 * must be a folder that @caller owns. The share's owner is @caller; root's folders are
 * shared with porch.conf, never as user shares. The result must load with @config_file's
 * porch.conf (porch_config_load_merged()): a rule naming an unknown peer, a name taken, more
 * than max-user-shares, or user-shares = no is refused with the reason. @file is written
 * atomically, owned by this process's user. Sets *@ret_name to the share's name. */
gboolean porch_user_shares_put(const char *file, const char *config_file, uid_t caller, int dir_fd,
                               const char *request, char **ret_name, GError **error);

/* Removes the user share @name (compared without regard to case), if @caller owns it or is
 * root. */
gboolean porch_user_shares_remove(const char *file, uid_t caller, const char *name, GError **error);

/* Accepts a peer for @caller's own user shares: @request is "[peer NAME]" with "key" (its
 * public key line) and "grant-read", "grant-write" (lists of @caller's user shares, one at
 * least). The peer is kept with the user shares, owned by @caller: only @caller's shares may
 * name it, and porch.conf's '*' does not include it. Refused with the reason when porch.conf
 * has the name or the key, another user accepted that name, or a share is not @caller's. */
gboolean porch_user_shares_accept_peer(const char *file, const char *config_file, uid_t caller,
                                       const char *request, GError **error);

/* Forgets the peer @name that @caller (or, for root, anyone) accepted, and takes it out of
 * every user share's rules. */
gboolean porch_user_shares_forget_peer(const char *file, uid_t caller, const char *name,
                                       GError **error);

G_END_DECLS
