/* sftp-server.h — SFTP (version 3) for one authenticated session: one handler table, one
 * gate that asks the ACL, and every path resolved beneath its share through the jail. */
#pragma once

#include <glib.h>
#include <libssh/libssh.h>

#include "files.h"
#include "porch-config.h"
#include "porch-wire.h"

G_BEGIN_DECLS

/* The largest SFTP message the OpenSSH client accepts is 256 KiB: read replies stay below,
 * whatever max-packet-size allows requests. */
#define PORCH_SFTP_MAX_READ (256 * 1024 - 1024)
/* A READDIR reply holds at most this many names. */
#define PORCH_SFTP_READDIR_BATCH 100

/* The file operations of @share: a connection to its worker (NULL with @error when there is
 * none). */
typedef PorchFiles *(*PorchSftpFilesFunc)(void *user_data, const PorchShare *share, GError **error);

typedef struct {
    /* Returns the configuration to decide the next request by (borrowed: valid until the
     * next call). Called before every request, so a reload applies to the next one. */
    PorchConfig *(*current_config)(void *user_data);
    void *user_data;
    const char *fingerprint; /* the peer's key fingerprint; NULL for a guest */
    const char *who;         /* for log lines */
    /* The transfer log (one line per file fetched or uploaded, per removal, rename and new
     * folder): "PEER (ADDRESS) fetched SHARE/PATH (N bytes)". @peer is the peer's name or
     * "guest"; NULL for either: "guest" and "unknown". */
    const char *peer;
    const char *address;
    const char *state_dir;
    /* The shares' file operations; NULL: done in this process (porch_files_new_direct()). */
    PorchSftpFilesFunc files_for;
    /* When not NULL: a file handle @id moved data (@put: written; @size, @done bytes) — at
     * its first read or write and at most once a second after — or, with @path NULL, was
     * closed. For `porch status`. */
    void (*transfer)(void *user_data, guint32 id, gboolean put, guint64 size, guint64 done,
                     const char *path);
} PorchSftpContext;

/* Serves SFTP on @channel (the "sftp" subsystem was accepted, @session is in blocking mode)
 * until the client closes it, or sends nothing for the configuration's idle-timeout.
 * Requests longer than max-packet-size are refused (and skipped, never buffered), as are
 * malformed and unknown ones, each with its status; the session goes on. Uploads still open
 * when the client goes are discarded; what they were to replace is left as it was. Returns
 * 0 when the client ended the session or went idle, -1 on a protocol or connection error. */
int porch_sftp_serve(ssh_session session, ssh_channel channel, const PorchSftpContext *ctx);

/* The same server without a channel, for tests and fuzzing: it is fed the client's byte
 * stream in pieces of any size and sends its replies through @send (which returns FALSE
 * when they cannot be sent). */
typedef struct _PorchSftpServer PorchSftpServer;
typedef gboolean (*PorchSftpSendFunc)(const guint8 *data, gsize len, gpointer user_data);

/* The limits (handles, packet size) are those of the configuration when it starts. */
PorchSftpServer *porch_sftp_server_new(const PorchSftpContext *ctx, PorchSftpSendFunc send,
                                       gpointer send_data);
/* Takes @len bytes of the stream and answers each request completed by them. Returns FALSE
 * when the session must end: the stream broke the protocol (a packet shorter than a request
 * id, no INIT first) or a reply could not be sent. */
gboolean porch_sftp_server_feed(PorchSftpServer *server, const guint8 *data, gsize len);
/* Discards the uploads still open, as when a client goes, and frees @server. */
void porch_sftp_server_free(PorchSftpServer *server);

/* The status code porchd answers errno @e with. EEXIST and ENOSPC are SSH_FX_FAILURE, as in
 * SFTP v3, unless the client announced that it knows the extended codes (@status_codes: the
 * PORCH_WIRE_EXT_STATUS_CODES of porch-wire.h): then SSH_FX_FILE_ALREADY_EXISTS and
 * PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM. */
guint32 porch_sftp_status_of_errno(int e, gboolean status_codes);

G_END_DECLS
