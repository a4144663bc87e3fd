/* porch-sftp-client-private.h — the SFTP engine shared by porch-sftp-client.c (connection,
 * listing) and the transfers (porch-transfer.c, porch-transfer-get.c, porch-transfer-put.c),
 * and the connection that porch-print-client.c runs its commands on. Not installed, not for
 * the programs. */
#pragma once

#include <sys/stat.h>

#include "porch-sftp-client.h"
#include "porch-wire.h"

G_BEGIN_DECLS

/* The largest SFTP packet we accept, and the READ/WRITE size used when the server does not
 * say (limits@openssh.com): OpenSSH's sftp-server and porchd both allow 255 KiB. */
#define PORCH_SFTP_DEFAULT_MAX_PACKET (256u * 1024u)
#define PORCH_SFTP_DEFAULT_MAX_IO     (32u * 1024u)
/* The largest VERSION packet we wait for: its extension pairs are a few names (OpenSSH's
 * sftp-server sends under 400 bytes) */
#define PORCH_SFTP_MAX_VERSION (64u * 1024u)
/* The largest handle we take (OpenSSH's and porchd's are 4 bytes; the protocol says 256) */
#define PORCH_SFTP_MAX_HANDLE 256u
/* What is kept of a STATUS message: a line for people */
#define PORCH_SFTP_MAX_MESSAGE 1024u

struct _PorchClient {
    ssh_session ssh;
    ssh_channel chan;
    int sock; /* the socket of porch_client_connect_socket(), or -1 */
    char *host_fp;
    gboolean guest;
    int timeout; /* seconds of waiting without a whole reply while requests are pending */

    gboolean has_check_file, has_posix_rename, has_fsync, has_limits;
    guint32 max_read, max_write;
    guint max_handles;

    guint32 next_id;
    GHashTable *pending; /* id -> Pending */
    GByteArray *out;     /* the packet being sent */
    guint8 *in;          /* what arrived: in[in_start..in_len) is not dispatched yet */
    gsize in_start, in_len, in_cap;
    /* A big DATA reply's payload is read straight to sink + PORCH_SINK_DATA (see
     * porch_client_take_sink()), with its type, id and length just before it */
    guint8 *sink;
    guint32 sink_want, sink_have; /* sink_want 0: not in use */
    /* µs spent waiting for the network since the last whole reply arrived (or since a request
     * was sent when none was pending): only a whole reply counts as progress, so that a server
     * trickling bytes cannot hold the client */
    gint64 waited;
    guint64 requests;
    GError *fatal; /* the connection is unusable */
};

/* The sink: a DATA reply of 64 KiB or more is not assembled in the input buffer but read
 * straight to a buffer of its own, PORCH_SINK_SIZE bytes aligned to PORCH_SINK_DATA, at
 * PORCH_SINK_DATA (a page boundary): its callback may keep that buffer, and hand it to
 * another thread or to an O_DIRECT write as it is, instead of copying the data once more. */
#define PORCH_SINK_DATA 4096u
#define PORCH_SINK_SIZE (PORCH_SINK_DATA + PORCH_SFTP_DEFAULT_MAX_PACKET + 1024)

guint8 *porch_sink_buffer_new(void);
/* In a DATA reply's callback: when @data (the reply's data) is in the sink, returns the
 * sink's buffer, now the caller's (free it with g_aligned_free()), and puts @replacement
 * (a porch_sink_buffer_new() buffer, or NULL) in its place; else NULL, and @replacement
 * stays the caller's. */
guint8 *porch_client_take_sink(PorchClient *c, const guint8 *data, guint8 *replacement);

/* Runs when the reply to a request arrives, with @r at the bytes after the request id. A
 * reply callback may send requests (porch_client_send) but never wait for one. */
typedef void (*PorchReplyFunc)(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data);

typedef struct {
    PorchReplyFunc fn; /* NULL: the reply is dropped */
    gpointer data;
} PorchPending;

/* SFTP's fields are read and written with porch-wire.h. */
/* ATTRS with permissions (when @mode >= 0) and times (when @mtime >= 0) */
void porch_put_attrs(GByteArray *b, gint mode, gint64 mtime);
/* ATTRS into @f's type, size, mode (without the type bits) and mtime (-1: none) */
gboolean porch_get_attrs(PorchWireReader *r, PorchRemoteFile *f);

/* What the server's VERSION says. */
typedef struct {
    guint32 version;
    gboolean has_check_file; /* check-file-handle, with sha256 among its algorithms */
    gboolean has_posix_rename, has_fsync, has_limits;
} PorchServerInfo;

/* Parses a VERSION packet: @payload is its @len bytes after the length (the type first). Pure:
 * fills @info, or returns FALSE with @error (PORCH_CLIENT_ERROR_PROTOCOL) for a packet that is
 * not a VERSION, longer than PORCH_SFTP_MAX_VERSION, not version 3, or whose extension pairs
 * do not fill it exactly. */
gboolean porch_parse_version(const guint8 *payload, gsize len, PorchServerInfo *info,
                             GError **error);

/* One listing as its NAME replies arrive. */
typedef struct {
    GPtrArray *files;   /* PorchRemoteFile*: the entries */
    GPtrArray *refused; /* PorchRemoteFile*: entries whose name cannot be a file name (empty,
                           holding '/' or NUL), their name made printable; NULL: not kept */
    guint64 entries;    /* entries in the replies so far, refused and "." and ".." too */
    guint64 name_bytes; /* bytes of their names */
} PorchListing;

/* Reads one NAME reply into @listing: "." and ".." are dropped, bad names go to ->refused.
 * FALSE with @error for a malformed reply (PORCH_CLIENT_ERROR_PROTOCOL: a count its bytes
 * cannot hold, a string past its end) or one that takes the listing past
 * PORCH_LIST_MAX_ENTRIES or PORCH_LIST_MAX_NAME_BYTES (PORCH_CLIENT_ERROR_LIMIT). */
gboolean porch_parse_names(PorchWireReader *r, PorchListing *listing, GError **error);
void porch_listing_clear(PorchListing *listing);

/* porch_client_list() with the refused entries in @ret_refused (may be NULL): a GPtrArray of
 * PorchRemoteFile* (free with g_ptr_array_unref()). */
GPtrArray *porch_client_list_full(PorchClient *client, const char *path, GPtrArray **ret_refused,
                                  GCancellable *cancellable, GError **error);

/* Parses a reply to check-file-handle with one hash: @type EXTENDED_REPLY, "check-file",
 * "sha256" and exactly PORCH_SHA256_LEN bytes, copied to @digest. FALSE with @error for a
 * STATUS (the server's error about @path) or anything malformed. */
gboolean porch_parse_check_file(guint8 type, PorchWireReader *r, guint8 *digest, const char *path,
                                GError **error);

/* The GError (G_IO_ERROR) for a STATUS of @code with @message about @path: the one place the
 * client turns a server's status into an error, by the code alone (porch-sftp-client.c). */
GError *porch_status_error(guint32 code, const char *message, const char *path);
gboolean porch_reply_status_ok(guint8 type, PorchWireReader *r, const char *path, GError **error);

/* Sends a request: @body (may be NULL) then @tail_len bytes of @tail after the id. @fn
 * (may be NULL: the reply is dropped) runs when the reply arrives. Returns the id; on a
 * broken connection c->fatal is set and the callback never runs, but the request stays in
 * c->pending with its @data, for its owner to take back. */
guint32 porch_client_send(PorchClient *c, guint8 type, const GByteArray *body, const void *tail,
                          gsize tail_len, PorchReplyFunc fn, gpointer data);
gboolean porch_client_pump(PorchClient *c, GCancellable *cancellable, GError **error);
GBytes *porch_client_call(PorchClient *c, guint8 type, const GByteArray *body, guint8 *reply_type,
                          GCancellable *cancellable, GError **error);
GBytes *porch_client_call_expect(PorchClient *c, guint8 type, const GByteArray *body, guint8 expect,
                                 const char *path, GCancellable *cancellable, GError **error);
gboolean porch_client_call_status(PorchClient *c, guint8 type, const GByteArray *body,
                                  const char *path, GCancellable *cancellable, GError **error);

/* porch_client_connect() over @fd, a socket already connected to the server, instead of a
 * connection to @options->address, which still names the server (its pin, when
 * @options->pin_name is NULL). The client takes @fd over: it is closed on failure, or with the
 * client. For tests: a server on the other end of a socketpair. */
PorchClient *porch_client_connect_socket(const PorchConnectOptions *options, int fd,
                                         GCancellable *cancellable, GError **error);

/* Connects, checks the host key and authenticates as porch_client_connect() does, but opens
 * no channel: for one "exec" command (porch-print-client.c), which porchd serves on a
 * connection's only channel. c->chan stays NULL until the command opens it; c->ssh is the
 * session and c->timeout the reply timeout. */
PorchClient *porch_client_connect_exec(const PorchConnectOptions *options,
                                       GCancellable *cancellable, GError **error);

G_END_DECLS
