/* print-server.h — the commands of an SSH "exec" channel other than send: print, jobs and
 * cancel, "status", what this host shows the asker, and "search" (porch-print-protocol.h).
 *
 * They run in porchd-print (print-main.c), a process of their own that porchd's network side
 * starts for one command, not in porchd-session: only they need libcups, and a session that
 * loads it carries its ~600 KiB of relocated library data for as long as it lives. The session
 * relays the channel to porchd-print (print-relay.h).
 *
 * A client sends one command line and gets the command's exit status, as
 * porch-print-protocol.h describes them. A document larger than max-print-size (porch.conf)
 * has its job cancelled, nothing of it prints (EX_DATAERR); one that did not arrive whole
 * (the client went away, or nothing came for idle-timeout) too (EX_IOERR).
 *
 * Who a job belongs to in CUPS (its requesting-user-name) is porch_print_server_user(): a peer is
 * "PEER@porch", a guest "guest+ADDRESS@porch" after its address; jobs and cancel only ever
 * see the jobs of that very user.
 */
#pragma once

#include <glib.h>

#include "porch-config.h"
#include "porch-print-protocol.h"

G_BEGIN_DECLS

typedef enum {
    PORCH_PRINT_SERVER_PRINT,
    PORCH_PRINT_SERVER_JOBS,
    PORCH_PRINT_SERVER_CANCEL,
    PORCH_PRINT_SERVER_STATUS,
    PORCH_PRINT_SERVER_SEARCH,
} PorchPrintServerVerb;

/* A parsed command line. */
typedef struct {
    PorchPrintServerVerb verb;
    char *printer; /* NULL only for "jobs" without a printer */
    guint copies;  /* print: 1 unless --copies */
    char *title;   /* print: NULL unless --title */
    int job_id;    /* cancel */
    char *pattern; /* search: the pattern, or NULL with sha256 */
    char *sha256;  /* search --sha256: 64 hex digits */
} PorchPrintServerCommand;

/* Parses @line. Returns TRUE and fills *@ret (clear with porch_print_server_command_clear()), or
 * FALSE with @error set (G_IO_ERROR_INVALID_ARGUMENT) and a message for the client: an
 * unknown command, a missing or extra argument, an unknown option, copies outside
 * 1..PORCH_PRINT_MAX_COPIES, a
 * job id that is not a positive number, a line that is too long or does not parse. */
gboolean porch_print_server_parse(const char *line, PorchPrintServerCommand *ret, GError **error);

void porch_print_server_command_clear(PorchPrintServerCommand *command);

/* The CUPS user (requesting-user-name) the jobs of a client belong to: "PEER@porch" for the
 * [peer] named @peer, else (@peer NULL), for a guest, "guest+ADDRESS@porch" with @address the
 * client's address in its usual text form: guests have no key, so each address is a guest of
 * its own, and one guest neither sees nor cancels another's jobs. In ADDRESS an IPv4-mapped
 * IPv6 address is written as IPv4, every ':' as '-' ("guest+fe80--1@porch"), letters in
 * lower case (CUPS compares user names without case), anything else but digits, '.' and '-'
 * as '_' (the scope of "fe80::1%eth0"); cut to 64 bytes; "guest+unknown@porch" for NULL. A '+' is
 * in no [peer] name, so a guest's user is never a peer's; it is ASCII and at most 76 bytes, well
 * within what CUPS takes for a name (255 bytes). */
char *porch_print_server_user(const char *peer, const char *address);

typedef struct {
    /* Returns the configuration to decide the command by (borrowed), as for SFTP requests. */
    PorchConfig *(*current_config)(void *user_data);
    void *user_data;
    const char *fingerprint; /* the peer's key fingerprint; NULL for a guest */
    const char *address;     /* the client's address ("10.0.0.5", "fe80::1"): a guest's user */
    const char *who;         /* for log lines */
    /* The display name "status" gives when porch.conf sets no name =: a per-user porchd's
     * "USER on HOST"; NULL: porch.conf's (default: the host name). */
    const char *default_name;
    /* porchd's state folder, where the content index is ("search"); NULL: none */
    const char *state_dir;
} PorchPrintServerContext;

/* Where a command's input comes from and its output goes: the client's channel, as relayed. */
typedef struct PorchPrintIO PorchPrintIO;
struct PorchPrintIO {
    /* At most @len bytes of the client's stdin, waiting at most @timeout_ms (-1: for ever):
     * > 0 bytes read; 0 at its end (the client sent EOF); -1 when it did not arrive whole,
     * with *@ret_why (to free) saying why: nothing came in time, the client went away. */
    gssize (*read)(PorchPrintIO *io, char *buf, gsize len, int timeout_ms, char **ret_why);
    /* @len bytes to the client's stdout, or stderr; FALSE when it is gone. */
    gboolean (*write)(PorchPrintIO *io, const char *data, gsize len, gboolean to_stderr);
};

/* Runs @command_line: reads the document from @io for "print", writes stdout and stderr. The
 * ACL decides with the configuration current when the command arrives, before CUPS is
 * contacted at all. Returns the command's exit status, for the caller to send. */
int porch_print_server_serve(PorchPrintIO *io, const char *command_line,
                             const PorchPrintServerContext *ctx);

G_END_DECLS
