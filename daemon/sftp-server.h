/* sftp-server.h — SFTP (version 3) for one authenticated session: one handler table, one
 * gate that asks the ACL, and every path resolved beneath its share through the jail. */
#pragma once

#include <glib.h>
#include <libssh/libssh.h>

#include "porch-config.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

/* Hidden temporary files of uploads that replace a file are named with this prefix; they
 * never appear in listings and cannot be opened by name. */
#define PORCH_UPLOAD_PREFIX ".porch-upload."
/* What `porch put` names the new file it uploads to before renaming it over the target
 * (shared/porch-sftp-client.h): such a file, created by a session, is journaled like an
 * upload of ours, so that it is removed if the session ends before the rename. */
#define PORCH_CLIENT_TEMP_PREFIX PORCH_PUT_TEMP_PREFIX
/* The state directory's folder where each session notes its temporary files while they
 * exist, so that porchd can remove them when a session dies (porch_sftp_cleanup()). */
#define PORCH_UPLOAD_JOURNAL "uploads"

/* The largest SFTP message the OpenSSH client accepts is 256 KiB: read replies stay below. */
#define PORCH_SFTP_MAX_PACKET  (256 * 1024)
#define PORCH_SFTP_MAX_READ    (PORCH_SFTP_MAX_PACKET - 1024)
#define PORCH_SFTP_MAX_HANDLES 256

typedef struct {
    /* Returns the configuration to decide the next request by (borrowed: valid until the
     * next call). Called before every request, so a reload applies to the next one. */
    PorchConfig *(*current_config)(void *user_data);
    void *user_data;
    const char *fingerprint; /* the peer's key fingerprint; NULL for a guest */
    const char *who;         /* for log lines */
    const char *state_dir;
} PorchSftpContext;

/* Serves SFTP on @channel (the "sftp" subsystem was accepted, @session is in blocking mode)
 * until the client closes it. Uploads still open when the client goes are discarded; what
 * they were to replace is left as it was. Returns 0 when the client ended the session,
 * -1 on a protocol or connection error. */
int porch_sftp_serve(ssh_session session, ssh_channel channel, const PorchSftpContext *ctx);

/* Removes the temporary upload files that the journal of session @pid (or of every
 * session, @pid 0) in @state_dir still lists, resolving them beneath the shares of
 * @config, and the journal entries. For porchd: when a session process ends, and at start
 * for the leftovers of a crash. Returns how many temporary files were removed. */
guint porch_sftp_cleanup(const PorchConfig *config, const char *state_dir, GPid pid);

G_END_DECLS
