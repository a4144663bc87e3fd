/* porch-cli.h — the command groups of `porch`, one file each (cli/browse.c, ...). */
#pragma once

#include <signal.h>
#include <stdio.h>

#include <glib.h>

#include "porch-browse.h"
#include "porch-multiget.h"
#include "porch-sftp-client.h"
#include "porch-transfer.h"

G_BEGIN_DECLS

/* Exit statuses of the commands that reach a neighbour (porch(1), EXIT STATUS). */
enum {
    PORCH_CLI_EXIT_OK = 0,
    PORCH_CLI_EXIT_FAILED = 1,      /* a file or the remote path failed */
    PORCH_CLI_EXIT_USAGE = 2,       /* bad options or arguments */
    PORCH_CLI_EXIT_UNREACHABLE = 3, /* host not found, refused, timed out */
    PORCH_CLI_EXIT_REFUSED = 4,     /* host key refused, or authentication refused; porch send:
                                       the inbox refused the offer (not allowed, no room) */
    PORCH_CLI_EXIT_DECLINED = 5,    /* porch send: the inbox's owner declined the offer */
    PORCH_CLI_EXIT_NO_ANSWER = 6,   /* porch send: the owner did not answer in time */
    PORCH_CLI_EXIT_INTERRUPTED = 130,
};

/* ---- cli/common.c: what the commands that reach a neighbour share ---- */

/* The options of those commands: --identity, --timeout, --connect-timeout, --quiet. */
typedef struct {
    char *identity;      /* owned */
    double timeout;      /* seconds to look for HOST */
    int connect_timeout; /* seconds to connect to it, up to its SSH banner */
    gboolean quiet;
} PorchCliCommon;

void porch_cli_common_clear(PorchCliCommon *common);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PorchCliCommon, porch_cli_common_clear)

/* Adds --timeout, --connect-timeout, --identity (@with_identity) and --quiet (when
 * @quiet_help, its help text). */
void porch_cli_add_common_entries(GOptionContext *ctx, PorchCliCommon *common,
                                  gboolean with_identity, const char *quiet_help);
/* Parses the options, checks --timeout (default 3 s), --connect-timeout (default 10 s) and
 * --identity (the file must exist:
 * porch_cli_no_key_file()) and drops a "--"; FALSE having told the usage error on stderr. */
gboolean porch_cli_parse_options(GOptionContext *ctx, const char *command, int *argc, char ***argv,
                                 PorchCliCommon *common);
/* Every --help fits in this many columns (tests/test-cli-help.cc checks them all). */
#define PORCH_CLI_HELP_COLUMNS 80
/* g_option_context_set_summary() with @text (one paragraph, ASCII or single-width
 * characters) broken between words into lines of at most PORCH_CLI_HELP_COLUMNS. */
void porch_cli_set_summary(GOptionContext *ctx, const char *text);
/* "porch COMMAND: MESSAGE (see porch COMMAND --help)" on stderr, MESSAGE made safe. */
void porch_cli_usage_error(const char *command, const char *message);

/* Set by the first SIGINT between porch_cli_catch_sigint() and porch_cli_restore_sigint()
 * (a second one has its default effect). Without @restart, a blocking read returns EINTR. */
extern volatile sig_atomic_t porch_cli_interrupted;
void porch_cli_catch_sigint(struct sigaction *ret_old, gboolean restart);
void porch_cli_restore_sigint(const struct sigaction *old);

/* "512 B", "12.3 KiB", "1.0 GiB" */
void porch_cli_format_size(char *buf, size_t len, double bytes);
/* @s as porch_cli_put_text() writes it: safe for a terminal (PORCH_TEXT_TERMINAL). Free with
 * g_free(). */
char *porch_cli_safe_text(const char *s);
/* Writes @nodes (JsonNode objects) to stdout as one JSON array, an element per line: the
 * --json output of `porch ls` and `porch jobs`. */
void porch_cli_put_json_lines(GPtrArray *nodes);

/* `porch browse [--json] [--timeout SECONDS] [--watch]` (cli/browse.c). @argv[0] is
 * "browse". Returns the exit status: 0 on success, 1 when avahi-daemon cannot be reached,
 * 2 for a usage error. */
int porch_cli_browse(int argc, char **argv);

/* `porch ls`, `porch get`, `porch put` (cli/transfer.c). @argv[0] is the command's name.
 * Each returns one of the PORCH_CLI_EXIT_* statuses, having told every failure on stderr. */
int porch_cli_ls(int argc, char **argv);
int porch_cli_get(int argc, char **argv);
int porch_cli_put(int argc, char **argv);

/* `porch id [--identity FILE]` and `porch peers [list | accept NAME]` (cli/peers.c).
 * @argv[0] is the command's name. Each returns one of the PORCH_CLI_EXIT_* statuses, having
 * told every failure on stderr: porch_cli_id() prints this user's public key line and its
 * fingerprint, creating the key on first use; porch_cli_peers() lists the requests for access
 * to the local porchd, or accepts one into its porch.conf and makes it reload. */
int porch_cli_id(int argc, char **argv);
int porch_cli_peers(int argc, char **argv);

/* `porch share add|remove|list`, `porch allow`, `porch deny` and `porch status`
 * (cli/share.c): through the running porchd's control socket (porch-control.h). @argv[0] is
 * the command's name. Each returns PORCH_CLI_EXIT_OK, PORCH_CLI_EXIT_FAILED when porchd refused
 * (its reason on stderr), PORCH_CLI_EXIT_USAGE, or PORCH_CLI_EXIT_UNREACHABLE when no porchd
 * runs. */
int porch_cli_share(int argc, char **argv);
int porch_cli_allow(int argc, char **argv);
int porch_cli_deny(int argc, char **argv);
int porch_cli_status(int argc, char **argv);

/* `porch print`, `porch jobs`, `porch cancel` and `porch printer add` (cli/print.c). @argv[0]
 * is the command's name. Each returns one of the PORCH_CLI_EXIT_* statuses, having told every
 * failure on stderr. */
int porch_cli_print(int argc, char **argv);
int porch_cli_jobs(int argc, char **argv);
int porch_cli_cancel(int argc, char **argv);
int porch_cli_printer(int argc, char **argv);

/* `porch send FILE|DIR... HOST[/INBOX]` and `porch inbox enable|disable|list|accept|decline`
 * (cli/send.c). @argv[0] is the command's name. Each returns one of the PORCH_CLI_EXIT_*
 * statuses, having told every failure on stderr. */
int porch_cli_send(int argc, char **argv);
int porch_cli_inbox(int argc, char **argv);

/* `porch doctor [--json] [HOST]` (cli/doctor.c): checks this machine, or the path to HOST, one
 * line per check (ok, or the problem and its fix). Returns PORCH_CLI_EXIT_OK when every check is
 * ok, PORCH_CLI_EXIT_FAILED when one found a problem, PORCH_CLI_EXIT_USAGE for a usage error. */
int porch_cli_doctor(int argc, char **argv);

/* `porch neighbours add ADDRESS[:PORT] | remove NAME | list [--json]` (cli/neighbours.c): the
 * neighbours remembered by address (porch-neighbours.h). Returns one of the PORCH_CLI_EXIT_*
 * statuses, having told every failure on stderr. */
int porch_cli_neighbours(int argc, char **argv);

/* `porch search PATTERN [--json]` (cli/search.c): every neighbour's files that match, as
 * they arrive. Returns PORCH_CLI_EXIT_OK when some file was found, PORCH_CLI_EXIT_FAILED when
 * none was, PORCH_CLI_EXIT_UNREACHABLE when no neighbour could be asked, or
 * PORCH_CLI_EXIT_USAGE. */
int porch_cli_search(int argc, char **argv);

/* ------------------------------------------------------------------------------------------
 * Addressing a neighbour (cli/target.c): HOST[/SHARE[/PATH]] -> where to connect, and the
 * connection itself, its host key pinned. */

/* What a HOST[/SHARE[/PATH]] argument names. The strings are owned by the target. */
typedef struct {
    char *host;   /* HOST as typed, port included, user@ and sftp:// left out: "alice",
                     "[fd00::1]:4423"; for messages */
    char *user;   /* from "USER@HOST" or "sftp://USER@HOST/...": the user name sent with the
                     key (porchd names an access request after it); NULL when none was given */
    char *name;   /* HOST without its port or brackets: "Alice's laptop", "fd00::1" */
    guint16 port; /* from ":PORT"; 0 when none was given */
    char *path;   /* remote path: "/", "/Photos", "/Photos/2024/x.jpg" (no "//", no trailing
                     "/") */
    /* Filled in by porch_cli_target_resolve(): */
    GStrv addresses; /* IP addresses to try, in order */
    guint16 connect_port;
    char *pin_name;    /* what known_peers keeps its key under */
    char *fingerprint; /* "SHA256:..." it advertises over mDNS, or NULL */
    GStrv printers;    /* the printers it advertises over mDNS; NULL when it was not found
                          there (an IP address, a name from the resolver) */
} PorchCliTarget;

/* Splits @arg into HOST and the remote path. @arg is [USER@]HOST[/SHARE[/PATH]] or the URL
 * sftp://[USER@]HOST[:PORT][/SHARE[/PATH]] (parsed by GUri, its path percent-decoded). In the
 * first form HOST is everything before the first '/', except a bracketed IPv6 address
 * ("[fd00::1]", "[fd00::1]:4423"), which may hold no '/'; a "USER@" before it counts when USER
 * is a user name (letters, digits, '.', '_', '-'), so that display names may hold '@'. A
 * ":PORT" after a name counts only when it is all digits. Returns a new target (free with
 * porch_cli_target_free()), or NULL with @error set (G_OPTION_ERROR_BAD_VALUE, a message for a
 * usage error: "bad port 'x' in '...'") when there is no HOST or the port is not in
 * 1..65535. */
PorchCliTarget *porch_cli_target_parse(const char *arg, GError **error);
void porch_cli_target_free(PorchCliTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchCliTarget, porch_cli_target_free)

/* The share named by the target's path ("Photos" for "/Photos/x"), NULL for "/". Free with
 * g_free(). */
char *porch_cli_target_share(const PorchCliTarget *target);

/* Finds where the target's HOST is: an IP literal as it is; otherwise a Porch neighbour seen
 * over mDNS within @timeout seconds (by display name exactly, then case-insensitively, then by
 * host name), else one remembered by address (porch-neighbours.h), else the name resolved by
 * the system's resolver. Returns PORCH_CLI_EXIT_OK, or
 * PORCH_CLI_EXIT_UNREACHABLE having said on stderr which neighbours are visible instead. */
int porch_cli_target_resolve(PorchCliTarget *target, double timeout);
/* The same with @ret_error not NULL: the failure is handed back in it (G_RESOLVER_ERROR_NOT_FOUND)
 * instead of being told on stderr; the status is the same. */
int porch_cli_target_resolve_full(PorchCliTarget *target, double timeout, GError **ret_error);

/* How porch_cli_connect_full() connects. Zero for everything: this user's default key, the
 * default timeouts. */
typedef struct {
    const char *identity_file;   /* NULL: this user's key, created when missing; else a
                                    file that must exist */
    const char *known_peers;     /* NULL: this user's $XDG_CONFIG_HOME/porch/known_peers */
    const char *user;            /* the user name sent with the key; NULL: the target's
                                    (USER@HOST), else the login name */
    gboolean quiet;              /* no "pinned the key ... on first use" line */
    gboolean never_ask;          /* pin a first key without asking, even on a terminal */
    gboolean for_print;          /* for a print, jobs or cancel command (porch-print-client.h):
                                    no SFTP */
    int timeout_seconds;         /* each reply; 0: the library's (30 s) */
    int connect_timeout_seconds; /* connecting; 0: timeout_seconds */
    gboolean say_connecting;     /* "connecting to HOST…" on stderr while waiting, when it is
                                    a terminal */
    gboolean pinned_only;        /* refuse a host whose key is not pinned yet (no first use) */
} PorchCliConnectOptions;

/* A resolved target for the neighbour @n (found over mDNS, or remembered), its path "/". */
PorchCliTarget *porch_cli_target_from_neighbour(const PorchNeighbour *n);

/* Connects to a resolved @target with the key in @options->identity_file (NULL: the default one,
 * created when missing, saying so on stderr; a named file that does not exist is a usage
 * error, PORCH_CLI_EXIT_USAGE: nothing is created there), pinning the host's key on first contact:
 * asking on a terminal, otherwise trusting it and saying so on stderr unless @options->quiet
 * (or @options->never_ask without asking). Returns
 * PORCH_CLI_EXIT_OK and the client in @ret_client (and this user's key fingerprint in
 * @ret_key_fingerprint, may be NULL; free with g_free()), or an exit status having told why on
 * stderr.
 * With @ret_error not NULL, a failure is handed back in it (the message without HOST) instead
 * of being told on stderr; the status is the same. */
int porch_cli_connect_full(const PorchCliTarget *target, const PorchCliConnectOptions *options,
                           PorchClient **ret_client, char **ret_key_fingerprint,
                           GError **ret_error);

/* Connects to @target without a word on the terminal and only when its key is pinned
 * already (never a first-use trust): what `porch search` and the fetch from many sources ask
 * of neighbours the user did not name. @for_print: a command connection, else SFTP. NULL with
 * @error (G_IO_ERROR_PERMISSION_DENIED "its key is not pinned yet", or the connection's). */
PorchClient *porch_cli_connect_pinned(const PorchCliTarget *target, const char *identity_file,
                                      gboolean for_print, int timeout_seconds,
                                      int connect_timeout_seconds, GError **error);

/* The remote @path (absolute, as the client library gives it) as users address it:
 * "HOST/SHARE/PATH", "HOST" for "/". Free with g_free(). */
char *porch_cli_target_format(const PorchCliTarget *target, const char *path);

/* When the target names a share (HOST/SHARE/...) that @client cannot see, says so on stderr
 * with the shares it can see ("porch: no share 'Fotos' on HOST; it shares: Photos, Music")
 * and returns PORCH_CLI_EXIT_FAILED; else PORCH_CLI_EXIT_OK. porchd matches share names
 * without regard to case, so "photos" finds "Photos" there. Any other failure is left to the
 * command that follows. */
int porch_cli_check_share(const PorchCliTarget *target, PorchClient *client);

/* After porchd said there is no such printer: "porch: HOST advertises the printers: A, B" on
 * stderr, when the target was found over mDNS with printers (those seen by then); nothing
 * otherwise. */
void porch_cli_hint_printers(const PorchCliTarget *target);

/* Prints, when @client is connected as guest, the line saying that the neighbour does not
 * know this user's key (@key_fingerprint) yet and how its owner can let it in. */
void porch_cli_hint_guest(const PorchCliTarget *target, PorchClient *client,
                          const char *key_fingerprint);

/* Writes @s to @f as PORCH_TEXT_TERMINAL shows it (porch-text.h): valid UTF-8 (local file
 * names need not be), every control or formatting character (C0, DEL, C1, bidirectional
 * overrides) replaced by '?', so that names that came from the network cannot drive the
 * terminal. */
void porch_cli_put_text(FILE *f, const char *s);

/* "porch: WHAT: MESSAGE\n" on stderr, both through porch_cli_put_text(). */
void porch_cli_error(const char *what, const char *message);
/* "porch COMMAND: no such key file PATH (porch id --identity PATH creates one)" on stderr
 * (COMMAND NULL: "porch: ..."): what every command but `porch id` says of an --identity that
 * does not exist. Only `porch id` makes a key at a path someone named. */
void porch_cli_no_key_file(const char *command, const char *path);

/* ------------------------------------------------------------------------------------------
 * Transfers and changes of many remote paths (cli/transfer.c, cli/files.c) */

/* Finds and connects to the target's host (its key pinned as porch_cli_connect_full() does,
 * "connecting to HOST…" unless @quiet) and checks that its share exists
 * (porch_cli_check_share(); not when the share is a glob): PORCH_CLI_EXIT_OK with the client
 * and this user's key fingerprint, or the status to exit with, told on stderr
 * (cli/transfer.c). */
int porch_cli_reach(PorchCliTarget *target, const PorchCliCommon *common, gboolean quiet,
                    PorchClient **ret_client, char **ret_key_fingerprint);
/* One get (@upload FALSE: @target's path to @local) or put (@local to @target's path) on a
 * connected @client, with its progress line, failures and summary on stderr (cli/transfer.c);
 * with @json, its result as one line of JSON on stdout instead of progress and summary.
 * @local_default: @local is the "." the user did not give. Returns a PORCH_CLI_EXIT_*. */
int porch_cli_transfer(PorchClient *client, const char *key_fp, gboolean upload,
                       const PorchCliTarget *target, const char *local, gboolean local_default,
                       PorchTransferFlags flags, gboolean json, const PorchCliCommon *common);

/* `porch rm`, `porch mkdir`, `porch mv` (cli/files.c). @argv[0] is the command's name. Each
 * returns one of the PORCH_CLI_EXIT_* statuses, having told every failure on stderr. */
int porch_cli_rm(int argc, char **argv);
int porch_cli_mkdir(int argc, char **argv);
int porch_cli_mv(int argc, char **argv);

/* `porch get` of one file of at least PORCH_CLI_MULTI_THRESHOLD bytes from every neighbour
 * that holds it too (cli/multiget.c): @origin is the connection to @target's host; at most
 * @max_sources sources in all. Returns -1 when that does not apply (a smaller file, a DEST that
 * exists, no other neighbour holds it, the origin cannot hash it): then the ordinary get
 * runs. Else the exit status, having told on stderr what happened. */
#define PORCH_CLI_MULTI_THRESHOLD PORCH_MULTIGET_THRESHOLD
#define PORCH_CLI_DEFAULT_SOURCES 4
int porch_cli_get_multi(PorchClient *origin, const PorchCliTarget *target, const char *dest,
                        guint max_sources, const PorchCliCommon *common);
/* `porch get --sha256 HASH [DEST]`: the file whose SHA-256 is HASH, from whoever holds it. */
int porch_cli_get_by_hash(const char *sha256_hex, const char *dest, guint max_sources,
                          const PorchCliCommon *common);

/* get and put of several paths (cli/files.c): each of the @n @sources (remote
 * HOST/SHARE/PATH, globs allowed, for get; local files, or "-" alone for standard input, for
 * put) to @dest (get: a local folder, NULL for ".", "-" for standard output; put:
 * HOST/SHARE/PATH), one connection per host; @parents: make the
 * missing remote folders first; @json: each path's result as a line of JSON
 * (porch_cli_transfer()). One failure does not stop the others. get: a large file is fetched
 * from up to @max_sources neighbours holding it (porch_cli_get_multi()). */
int porch_cli_get_many(int n, char **sources, const char *dest, PorchTransferFlags flags,
                       gboolean json, guint max_sources, const PorchCliCommon *common);
int porch_cli_put_many(int n, char **sources, const char *dest, PorchTransferFlags flags,
                       gboolean parents, gboolean json, const PorchCliCommon *common);

/* Whether @path holds a glob character (*, ? or [) in any of its components. */
gboolean porch_cli_has_glob(const char *path);
/* The paths of @client that @pattern (absolute: "/Photos/2024/IMG_*.jpg") matches, sorted, as
 * PorchRemoteFile* whose ->name is the absolute path, or with @relative the path from the last
 * folder before the first glob ("2024/a.jpg" for "/Photos/20??/a.jpg"). A component with glob
 * characters is matched against the listing of its folder with fnmatch(3) (a leading '.' only
 * by a '.'; '\' escapes); the others are taken as they are. NULL with @error: no match
 * (G_IO_ERROR_NOT_FOUND, "no match"), or the listing failed. */
GPtrArray *porch_cli_glob(PorchClient *client, const char *pattern, gboolean relative,
                          GError **error);

G_END_DECLS
