/* porch-wire.h — SFTP version 3 on the wire (draft-ietf-secsh-filexfer-02, with OpenSSH's
 * extensions): its numbers and names, reading and writing its fields, its attributes, and a
 * client's requests.
 *
 * Everything here is pure: it reads from and writes to memory, never from a connection, so
 * the parsers can be fed anything (tests, tests/fuzz). Every length and count read from a
 * packet is checked against what the packet holds before it is used; a reader that runs
 * short says so (FALSE) and never reads past its end.
 *
 * This is the one place that porchd's server (daemon/sftp-server.c) and Porch's client
 * (porch-sftp-client.c, porch-transfer.c) take the protocol's numbers and names from. The
 * packet types, status codes, open flags and attribute flags are libssh's names for them
 * (SSH_FXP_*, SSH_FX_*, SSH_FXF_*, SSH_FILEXFER_ATTR_*), from <libssh/sftp.h>, included here:
 * they are the protocol's own numbers, both sides link libssh already, and writing them out
 * again would make a second home for them. What libssh does not define is defined below.
 */
#pragma once

#include <glib.h>
#include <libssh/sftp.h>

G_BEGIN_DECLS

/* The protocol version both sides speak. */
#define PORCH_WIRE_VERSION 3

/* The extended requests porchd serves and the client uses, by the names their EXTENDED
 * requests and the VERSION that offers them give. */
#define PORCH_WIRE_EXT_POSIX_RENAME      "posix-rename@openssh.com"
#define PORCH_WIRE_EXT_STATVFS           "statvfs@openssh.com"
#define PORCH_WIRE_EXT_FSYNC             "fsync@openssh.com"
#define PORCH_WIRE_EXT_LIMITS            "limits@openssh.com"
#define PORCH_WIRE_EXT_CHECK_FILE_NAME   "check-file-name"
#define PORCH_WIRE_EXT_CHECK_FILE_HANDLE "check-file-handle"
/* The name an EXTENDED_REPLY to check-file-name or check-file-handle starts with, and the one
 * hash algorithm porchd offers (the VERSION data of both). */
#define PORCH_WIRE_CHECK_FILE_REPLY  "check-file"
#define PORCH_WIRE_CHECK_FILE_SHA256 "sha256"

/* Porch's client (porch_transfer_put(), porch-transfer.h) uploads each file into a new file
 * of this prefix beside the target, then renames it over the target; porchd journals such a
 * file while it exists, so that it goes if the session ends before the rename
 * (daemon/upload-journal.h). */
#define PORCH_WIRE_PUT_TEMP_PREFIX ".porch-put-"

/* ---- Porch's extended status codes ---------------------------------------------------
 *
 * SFTP v3 has the status codes 0 to 8 only: a name that exists already and a full disk are
 * both SSH_FX_FAILURE, told apart by nothing but the message, which is for people (OpenSSH's
 * sftp-server says "Failure" to both). Later drafts of the protocol (draft-ietf-secsh-
 * filexfer-13) have codes for them, SSH_FX_FILE_ALREADY_EXISTS (11) and
 * SSH_FX_NO_SPACE_ON_FILESYSTEM (14), which the stock v3 clients (OpenSSH's sftp, GNOME Files
 * through gvfs) do not know. So porchd sends them only to a client that says it knows them:
 *
 *   - The client's SSH_FXP_INIT carries, after its version 3, the extension pair
 *     string PORCH_WIRE_EXT_STATUS_CODES, string PORCH_WIRE_EXT_STATUS_CODES_VERSION.
 *     (A version 3 INIT may carry extension pairs, as VERSION does; a server that does not
 *     know one skips it, as OpenSSH's sftp-server does.) Porch's client always sends it
 *     (porch_wire_put_init()).
 *   - porchd remembers it for the session (porch_wire_parse_init()) and then answers with
 *     SSH_FX_FILE_ALREADY_EXISTS what it answers other clients with SSH_FX_FAILURE for EEXIST,
 *     and with PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM for ENOSPC; the message is the same.
 *     Every other client gets SFTP v3's SSH_FX_FAILURE and the message, as before.
 *   - The client decides by the code alone, from whatever server: 11 is "exists", 14 "no
 *     space", FAILURE any other failure. porchd does not offer the extension in its VERSION:
 *     there is nothing for the client to decide by it.
 */
#define PORCH_WIRE_EXT_STATUS_CODES         "status-codes@porch"
#define PORCH_WIRE_EXT_STATUS_CODES_VERSION "1"
/* draft-ietf-secsh-filexfer-13's code, which libssh 0.10 does not name (it names those up to
 * 13: SSH_FX_FILE_ALREADY_EXISTS is one). */
#define PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM 14

/* The SSH_FXP_INIT Porch's client sends, as a whole packet (length first) in @b (emptied
 * first): version 3 and the extension pair above. */
void porch_wire_put_init(GByteArray *b);

/* Parses an SSH_FXP_INIT, @len bytes at @packet (its type byte first, the length taken off).
 * FALSE when it is no INIT. Else TRUE, with its version in *@ret_version and in
 * *@ret_status_codes whether it announced PORCH_WIRE_EXT_STATUS_CODES (any version of it).
 * Extension pairs are read as far as they parse: a malformed tail is ignored. */
gboolean porch_wire_parse_init(const guint8 *packet, gsize len, guint32 *ret_version,
                               gboolean *ret_status_codes);

/* The longest path a server takes, in bytes (porch_wire_parse_request() leaves longer ones
 * to the caller, so that it can say why it refuses them). */
#define PORCH_WIRE_MAX_PATH 4096

/* A cursor over bytes received: @left bytes at @p. */
typedef struct {
    const guint8 *p;
    gsize left;
} PorchWireReader;

/* Each reads one field and advances; FALSE, leaving @r as it was, when the field does not
 * fit in what is left. A string is returned in place (@ret_data points into the buffer). */
gboolean porch_wire_get_u8(PorchWireReader *r, guint8 *ret);
gboolean porch_wire_get_u32(PorchWireReader *r, guint32 *ret);
gboolean porch_wire_get_u64(PorchWireReader *r, guint64 *ret);
gboolean porch_wire_get_string(PorchWireReader *r, const guint8 **ret_data, guint32 *ret_len);
/* A string that is a path or a name: at most @max bytes, no NUL byte in it. Returns a
 * NUL-terminated copy (free with g_free()), or NULL when it does not fit, is longer or holds
 * a NUL. */
char *porch_wire_get_path(PorchWireReader *r, gsize max);

/* SFTP v3 ATTRS. Only the fields whose flag is set mean anything. */
typedef struct {
    guint32 flags; /* SSH_FILEXFER_ATTR_SIZE | _UIDGID | _PERMISSIONS | _ACMODTIME */
    guint64 size;
    guint32 uid, gid;
    guint32 permissions; /* with the file type bits (S_IFDIR, ...) when known */
    guint32 atime, mtime;
} PorchWireAttrs;

/* Reads ATTRS; extended attribute pairs are skipped (each is bounded by the packet). */
gboolean porch_wire_get_attrs(PorchWireReader *r, PorchWireAttrs *ret);

/* Writers append to @b. A string longer than G_MAXUINT32 cannot be sent: callers bound
 * what they write (packets are at most a few hundred KiB). */
void porch_wire_put_u8(GByteArray *b, guint8 v);
void porch_wire_put_u32(GByteArray *b, guint32 v);
void porch_wire_put_u64(GByteArray *b, guint64 v);
void porch_wire_put_string(GByteArray *b, const void *data, gsize len);
void porch_wire_put_cstring(GByteArray *b, const char *s);
void porch_wire_put_attrs(GByteArray *b, const PorchWireAttrs *a);

/* Starts a packet of @type in @b (emptied first): its length is left as a placeholder that
 * porch_wire_end_packet() fills in. */
void porch_wire_begin_packet(GByteArray *b, guint8 type);
void porch_wire_end_packet(GByteArray *b);

/* A client's request, parsed. Strings that name files are NUL-terminated copies; the rest
 * (handles, data) points into the packet, which must outlive the request. */
typedef struct {
    guint8 type; /* SSH_FXP_* */
    guint32 id;
    char *path;  /* OPEN, *STAT, SETSTAT, OPENDIR, REMOVE, MKDIR, RMDIR, REALPATH, READLINK,
                  * RENAME (old path), SYMLINK (the target, OpenSSH's order) */
    char *path2; /* RENAME (new path), SYMLINK (the new link) */
    const guint8 *handle; /* CLOSE, READ, WRITE, FSTAT, FSETSTAT, READDIR */
    guint32 handle_len;
    guint32 pflags;       /* OPEN: SSH_FXF_* */
    PorchWireAttrs attrs; /* OPEN, SETSTAT, FSETSTAT, MKDIR; flags 0 when none */
    guint64 offset;       /* READ, WRITE */
    guint32 len;          /* READ: the length asked for */
    const guint8 *data;   /* WRITE */
    guint32 data_len;
    char *extended;           /* EXTENDED: the request's name */
    PorchWireReader ext_args; /* EXTENDED: its arguments, unread */
} PorchWireRequest;

typedef enum {
    PORCH_WIRE_PARSE_OK,
    PORCH_WIRE_PARSE_MALFORMED,   /* a known type whose fields do not parse: BAD_MESSAGE */
    PORCH_WIRE_PARSE_UNSUPPORTED, /* a type SFTP v3 requests do not have: OP_UNSUPPORTED */
    PORCH_WIRE_PARSE_NO_ID,       /* too short to hold even a request id: nothing to answer */
} PorchWireParse;

/* Parses one request packet, @len bytes at @packet: its type byte, then its fields (the
 * uint32 length before it already taken off). Fills *@ret (clear it with
 * porch_wire_request_clear() whatever the result); ret->type and ret->id are set whenever
 * the result is not PORCH_WIRE_PARSE_NO_ID, so that a refusal can be answered. Trailing
 * bytes after the fields are allowed (SFTP v3 lets requests grow), except for EXTENDED
 * where they are the arguments. */
PorchWireParse porch_wire_parse_request(const guint8 *packet, gsize len, PorchWireRequest *ret);
void porch_wire_request_clear(PorchWireRequest *req);

G_END_DECLS
