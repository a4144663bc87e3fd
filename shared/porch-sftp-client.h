/* porch-sftp-client.h — the client side of Porch's SFTP: connect to a neighbour (its host key
 * pinned, our key or guest), list and stat, and change a share: remove, make folders, rename.
 * Fetching and uploading files and trees is porch-transfer.h's, on a connection made here.
 *
 * One PorchClient is one SSH connection; use it from one thread at a time (the tray runs
 * each transfer in a worker thread with its own client). */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <libssh/libssh.h>

G_BEGIN_DECLS

#define PORCH_CLIENT_ERROR porch_client_error_quark()
GQuark porch_client_error_quark(void);

/* Errors of the PORCH_CLIENT_ERROR domain. Failures of a file itself use G_IO_ERROR codes:
 * NOT_FOUND, PERMISSION_DENIED, EXISTS, NO_SPACE, IS_DIRECTORY, NOT_DIRECTORY, CANCELLED,
 * CONNECTION_CLOSED, TIMED_OUT, HOST_NOT_FOUND, FAILED. */
typedef enum {
    PORCH_CLIENT_ERROR_HOST_KEY_CHANGED,   /* the key differs from the one pinned */
    PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH,  /* the key differs from the advertised fp= */
    PORCH_CLIENT_ERROR_HOST_KEY_UNTRUSTED, /* first contact, and the user said no */
    PORCH_CLIENT_ERROR_AUTH,               /* neither our key nor guest was accepted */
    PORCH_CLIENT_ERROR_PROTOCOL,           /* the server broke the SFTP protocol */
    PORCH_CLIENT_ERROR_VERIFY,             /* received bytes differ from the server's hash */
    PORCH_CLIENT_ERROR_CHANGED,            /* the file changed while it was transferred */
    PORCH_CLIENT_ERROR_UNSUPPORTED,        /* the server cannot verify (no check-file) */
    PORCH_CLIENT_ERROR_FILES_FAILED,       /* some files failed, each told to ->failed() */
    PORCH_CLIENT_ERROR_LIMIT,   /* the server sent more than the client takes: a listing, a tree,
                                   a size beyond the bounds of porch(1), LIMITS */
    PORCH_CLIENT_ERROR_NOT_SSH, /* something answers on the port, but not with SSH: the
                                   message quotes what it said */
} PorchClientError;

/* Asked on first contact with a neighbour whose key is not pinned yet: return TRUE to trust
 * (and pin) it. @advertised is TRUE when the key matched the fp= seen over mDNS. */
typedef gboolean (*PorchTrustFunc)(const char *pin_name, const char *fingerprint,
                                   gboolean advertised, gpointer user_data);

typedef struct {
    const char *address;              /* IP address or host name to connect to */
    guint16 port;                     /* 0: PORCH_DEFAULT_PORT */
    const char *pin_name;             /* the name known_peers keeps the key under */
    const char *expected_fingerprint; /* "SHA256:..." advertised over mDNS, or NULL */
    const char *known_peers;          /* NULL: porch_known_peers_default_file() */
    ssh_key identity;                 /* our key (borrowed); NULL: guest only */
    const char *user;                 /* sent with the key; NULL: the login name */
    PorchTrustFunc trust;             /* NULL: pin on first use without asking */
    gpointer trust_data;
    int timeout_seconds;         /* reply timeout; 0: 30 */
    int connect_timeout_seconds; /* connecting, up to the SSH banner; 0: timeout_seconds */
} PorchConnectOptions;

typedef struct _PorchClient PorchClient;

/* What a server may make the client take (porch(1), LIMITS). Each bounds memory that a server
 * could otherwise make grow without end, at a size no real share reaches:
 * - one listing: 1,000,000 entries and 64 MiB of their names. A listing is held whole (it is
 *   sorted), about 100 bytes per entry beside its name: at most ~160 MB. Folders of a million
 *   files are past what file managers and most file systems handle well, and what people keep
 *   in one folder; a server that sends more is refused rather than followed.
 * - get -r: folders nested at most 256 deep below the folder fetched (local paths reach
 *   PATH_MAX, 4096 bytes, well before: 256 levels of 15-byte names), and the folders the walk
 *   has listed but not entered yet bounded as one listing is.
 * Every length inside a reply is checked against the reply, whose size is bounded too. */
#define PORCH_LIST_MAX_ENTRIES    1000000u
#define PORCH_LIST_MAX_NAME_BYTES (64u << 20)
#define PORCH_GET_MAX_DEPTH       256u

/* Connects, checks the host key (pinned in known_peers on first use, after @trust agrees),
 * authenticates with @identity, else as guest, and starts SFTP. NULL with @error set
 * (G_IO_ERROR for the network, PORCH_CLIENT_ERROR for keys and authentication). */
PorchClient *porch_client_connect(const PorchConnectOptions *options, GCancellable *cancellable,
                                  GError **error);
void porch_client_free(PorchClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchClient, porch_client_free)

const char *porch_client_get_host_fingerprint(PorchClient *client);
gboolean porch_client_is_guest(PorchClient *client);
/* What the server's limits@openssh.com says (or safe defaults): largest READ and WRITE. */
guint32 porch_client_get_max_read(PorchClient *client);

typedef enum {
    PORCH_REMOTE_FILE,
    PORCH_REMOTE_DIRECTORY,
    PORCH_REMOTE_SYMLINK,
    PORCH_REMOTE_OTHER,
} PorchRemoteType;

typedef struct {
    char *name; /* the entry's name, or the path for porch_client_stat() */
    PorchRemoteType type;
    guint32 mode; /* permission bits (07777) */
    guint64 size;
    gint64 mtime; /* Unix time; -1 when the server did not say */
} PorchRemoteFile;

void porch_remote_file_free(PorchRemoteFile *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchRemoteFile, porch_remote_file_free)

/* Lists the folder @path ("/" lists the shares), without "." and "..", sorted by name: an
 * array of PorchRemoteFile*. Entries whose name cannot be a file name (empty, holding '/' or a
 * NUL byte) are left out. A listing of more than PORCH_LIST_MAX_ENTRIES entries or
 * PORCH_LIST_MAX_NAME_BYTES bytes of names fails with PORCH_CLIENT_ERROR_LIMIT. */
GPtrArray *porch_client_list(PorchClient *client, const char *path, GCancellable *cancellable,
                             GError **error);
/* stat (following a symlink) of @path. */
PorchRemoteFile *porch_client_stat(PorchClient *client, const char *path, GCancellable *cancellable,
                                   GError **error);
/* lstat of @path: a symlink is PORCH_REMOTE_SYMLINK, not what it points to. */
PorchRemoteFile *porch_client_lstat(PorchClient *client, const char *path,
                                    GCancellable *cancellable, GError **error);

/* Changing a share (porch rm, mkdir, mv). Each is one request; a failure is the server's
 * status as a G_IO_ERROR (NOT_FOUND, PERMISSION_DENIED for a peer that may not write, EXISTS,
 * FAILED with the server's words, e.g. "Directory not empty"). */

/* Removes the file or symbolic link @path (never a folder: porch_client_rmdir()). */
gboolean porch_client_remove(PorchClient *client, const char *path, GCancellable *cancellable,
                             GError **error);
/* Removes the empty folder @path. */
gboolean porch_client_rmdir(PorchClient *client, const char *path, GCancellable *cancellable,
                            GError **error);
/* Creates the folder @path with the permissions @mode (07777 bits; -1: the server's default,
 * 0777 less its umask). */
gboolean porch_client_mkdir(PorchClient *client, const char *path, gint mode,
                            GCancellable *cancellable, GError **error);
/* Renames @from to @to on the same share. Without @replace an existing @to is never replaced
 * (SFTP's RENAME); with it a file @to is (posix-rename@openssh.com, G_IO_ERROR_NOT_SUPPORTED
 * from a server without it). */
gboolean porch_client_rename(PorchClient *client, const char *from, const char *to,
                             gboolean replace, GCancellable *cancellable, GError **error);

/* known_peers: one pinned key per line, "NAME KEYTYPE BASE64" with NAME URI-escaped. */

/* Returns the fingerprint pinned for @pin_name in @file (NULL if none), and its line number
 * in @line (may be NULL). */
char *porch_known_peers_lookup(const char *file, const char *pin_name, guint *line);
gboolean porch_known_peers_add(const char *file, const char *pin_name, ssh_key key, GError **error);

G_END_DECLS
