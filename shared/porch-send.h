/* porch-send.h — sending files to a neighbour's inbox (`porch send`): what porchd's "send"
 * command and its client agree on, and the client.
 *
 * An inbox is a folder of a user's (porch.conf's [inbox NAME], or a user's own `porch inbox
 * enable`) that neighbours send files to. A send is an offer (who sends, the files' names,
 * their count and total size) that the inbox's owner accepts or declines, unless the sender
 * is in the inbox's 'accept' rule; a sender in neither 'accept' nor 'ask' is refused before a
 * byte of data is sent.
 *
 * The exchange, on one SSH "exec" channel of an authenticated connection (docs/PROTOCOL.md):
 *
 *   client: exec "send" (the default inbox) or "send INBOX"
 *   client -> stdin   the manifest: "porch-send 1\n", one line per file
 *                     "file SIZE SHA256 NAME\n" (SIZE decimal, SHA256 64 lower-case hex digits,
 *                     NAME percent-encoded UTF-8: any byte but unreserved characters as %XX),
 *                     then "end\n"
 *   porchd -> stdout  "wait OWNER\n" while the owner is asked (OWNER percent-encoded)
 *                     "accepted\n", then "have INDEX OFFSET\n" for each file, 0-based, with the
 *                     bytes porchd already holds of it (a send interrupted before), then "go\n"
 *   client -> stdin   each file's bytes from its OFFSET to its end, in the manifest's order
 *   porchd -> stdout  "done INDEX NAME\n" as each file is verified and has its final name
 *                     (NAME percent-encoded: the name it got in the inbox)
 *   porchd            exit status (below), with one line on stderr when it is not 0; a line
 *                     on stderr while data still comes means porchd failed the send: it
 *                     drops what comes until the client's EOF (at most 10 s), then exits
 *
 * Any other line, a missing "end", or more than the bounds below makes porchd answer
 * PORCH_SEND_EXIT_USAGE. */
#pragma once

#include <glib.h>

#include "porch-hash.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

#define PORCH_SEND_COMMAND "send"
#define PORCH_SEND_MAGIC   "porch-send 1"
/* Files in one offer, bytes of one manifest line and of a whole manifest, bytes of a name. */
#define PORCH_SEND_MAX_FILES    10000
#define PORCH_SEND_MAX_LINE     (3 * 255 + 128)
#define PORCH_SEND_MAX_MANIFEST (4 * 1024 * 1024)
#define PORCH_SEND_NAME_MAX     255
/* How long porchd holds an offer for its owner's answer before it expires. */
#define PORCH_SEND_OFFER_TIMEOUT_S 300
/* The prefix of the hidden file a sent file arrives in, in the inbox folder. */
#define PORCH_SEND_TEMP_PREFIX ".porch-send-"

/* porchd's exit statuses for "send" (sysexits.h where one fits), and `porch send`'s own. */
typedef enum {
    PORCH_SEND_EXIT_DELIVERED = 0,  /* every file arrived, verified */
    PORCH_SEND_EXIT_USAGE = 64,     /* EX_USAGE: a malformed command or manifest */
    PORCH_SEND_EXIT_DATA = 65,      /* EX_DATAERR: a file's SHA-256 did not match */
    PORCH_SEND_EXIT_NO_INBOX = 66,  /* EX_NOINPUT: no such inbox (or none is the default) */
    PORCH_SEND_EXIT_NO_ROOM = 73,   /* EX_CANTCREAT: larger than max-size, or no free space */
    PORCH_SEND_EXIT_IO = 74,        /* EX_IOERR: the data did not arrive whole, or a write */
    PORCH_SEND_EXIT_TIMED_OUT = 75, /* EX_TEMPFAIL: the owner did not answer in time */
    PORCH_SEND_EXIT_REFUSED = 77,   /* EX_NOPERM: this sender may not send there */
    PORCH_SEND_EXIT_DECLINED = 79,  /* the owner declined the offer */
} PorchSendExit;

typedef struct {
    char *name; /* as the sender gave it (UTF-8; not yet sanitised) */
    guint64 size;
    guint8 sha256[PORCH_SHA256_LEN];
} PorchSendFile;

/* The files of an offer: an array of PorchSendFile. */
GArray *porch_send_files_new(void);

/* Adds the file @path, or every file beneath the folder @path (in name order, at most
 * PORCH_SEND_MAX_FILES in all, folders at most 64 deep), to @files (PorchSendFile, hashed) and
 * its open descriptor to @fds (ints, the caller closes them), as `porch send` and porch-tray
 * send. Anything but plain files and folders is an error. Raises the process's limit of open
 * descriptors to its hard limit first: every file stays open until it is sent. */
gboolean porch_send_files_add(const char *path, GArray *files, GArray *fds,
                              GCancellable *cancellable, GError **error);

/* The manifest's text for @files. */
char *porch_send_manifest_format(GArray *files);

/* Parses a whole manifest (@len bytes). Returns the files (at least one), or NULL with @error
 * (G_IO_ERROR_INVALID_DATA) saying what is wrong: a bad line, a size, hash or name that does
 * not parse, a name that is not UTF-8 or is empty or longer than PORCH_SEND_NAME_MAX bytes,
 * more than PORCH_SEND_MAX_FILES, no "end", text after it, a total that overflows. */
GArray *porch_send_manifest_parse(const char *data, gsize len, GError **error);

/* The name a sent file gets in an inbox, whatever @name holds: its last component after
 * '/' or '\\', without control characters (each becomes '_'), leading dots and spaces and
 * trailing spaces and dots left out, cut to PORCH_SEND_NAME_MAX bytes at a character
 * boundary; "file" when nothing is left, or for "." and "..". Never starts with '.'. */
char *porch_send_sanitise_name(const char *name);

/* The @n-th name for a clash with @name: "name (N).ext" (N >= 2), the extension kept, within
 * PORCH_SEND_NAME_MAX bytes. */
char *porch_send_clash_name(const char *name, guint n);

/* The identity of an offer (64 hex digits): the same for the same sender, inbox and files
 * (names, sizes, hashes), so that sending again continues. */
char *porch_send_offer_key(const char *sender, const char *inbox, GArray *files);

/* The name of the hidden file that file @index of the offer @key arrives in. */
char *porch_send_temp_name(const char *key, guint index);

/* ---- the client ---------------------------------------------------------------------- */

typedef enum {
    PORCH_SEND_STAGE_WAITING,   /* the owner is asked: @text is who */
    PORCH_SEND_STAGE_ACCEPTED,  /* sending: @done of @total bytes */
    PORCH_SEND_STAGE_PROGRESS,  /* sending: @done of @total bytes */
    PORCH_SEND_STAGE_FILE_DONE, /* one file arrived: @text is the name it got */
    PORCH_SEND_STAGE_TICK,      /* nothing new; called every few hundred ms while waiting, so
                                 * that the caller may cancel */
} PorchSendStage;

typedef void (*PorchSendFunc)(PorchSendStage stage, const char *text, guint64 done, guint64 total,
                              gpointer user_data);

/* Sends @files (their data read from @fds, one open descriptor per file, in order) to the
 * inbox @inbox (NULL: the default one) of the neighbour @client is connected to
 * (porch_client_connect_print()). Returns porchd's exit status (PorchSendExit), with its
 * message in *@ret_message (may be NULL); or -1 with @error when the exchange itself failed
 * (the connection was lost, @cancellable was cancelled: the offer is withdrawn). */
int porch_client_send_files(PorchClient *client, const char *inbox, GArray *files, const int *fds,
                            PorchSendFunc func, gpointer user_data, char **ret_message,
                            GCancellable *cancellable, GError **error);

G_END_DECLS
