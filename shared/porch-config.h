/* porch-config.h — porch.conf read into an immutable, reference-counted snapshot.
 *
 * A PorchConfig never changes once porch_config_load_*() returned it. Reloading means
 * loading a new snapshot and swapping the pointer (see daemon/manager.h); whoever still
 * holds a reference to the old one keeps seeing the old rules until it lets go.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PORCH_DEFAULT_PORT         4422
#define PORCH_DEFAULT_MAX_SESSIONS 64
#define PORCH_MAX_SESSIONS_LIMIT   4096
/* A DNS-SD instance name label holds at most 63 bytes; display, share and printer
 * names are published in one. */
#define PORCH_NAME_MAX 63
/* The longest [peer] and [group] name. */
#define PORCH_PEER_NAME_MAX 64

#define PORCH_CONFIG_ERROR (porch_config_error_quark())
GQuark porch_config_error_quark(void);

/* One code per kind of mistake, so callers and tests need not read messages. */
typedef enum {
    PORCH_CONFIG_ERROR_IO,              /* the file cannot be read */
    PORCH_CONFIG_ERROR_SYNTAX,          /* not a key file: stray line, bad group line */
    PORCH_CONFIG_ERROR_EMPTY,           /* no section at all */
    PORCH_CONFIG_ERROR_UNKNOWN_SECTION, /* [foo], or [share] without a name */
    PORCH_CONFIG_ERROR_UNKNOWN_KEY,     /* a key the section does not have */
    PORCH_CONFIG_ERROR_MISSING_KEY,     /* [share] without path, [peer] without key */
    PORCH_CONFIG_ERROR_INVALID_VALUE,   /* bad boolean, number, address, name, list */
    PORCH_CONFIG_ERROR_BAD_PORT,        /* port not an integer in 1..65535 */
    PORCH_CONFIG_ERROR_PATH_NOT_FOUND,  /* no longer raised: a missing folder is an offline
                                         * share (kept so that the numbers stay) */
    PORCH_CONFIG_ERROR_NOT_A_DIRECTORY, /* share path is not a directory */
    PORCH_CONFIG_ERROR_UNDEFINED_PEER,  /* a principal names no [peer] */
    PORCH_CONFIG_ERROR_UNDEFINED_GROUP, /* a @principal names no [group] */
    PORCH_CONFIG_ERROR_GROUP_CYCLE,     /* a group contains itself, directly or not */
    PORCH_CONFIG_ERROR_BAD_KEY,         /* malformed public key, or no Ed25519 key */
    PORCH_CONFIG_ERROR_DUPLICATE,       /* a section, key, name or public key twice */
} PorchConfigError;

/* One public key of a peer, as in an OpenSSH authorized_keys line. */
typedef struct {
    char *type;        /* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ... */
    char *base64;      /* the key blob, base64 as written */
    char *comment;     /* the rest of the line; "" when there is none */
    char *fingerprint; /* "SHA256:" + unpadded base64 of the blob's SHA-256, as ssh-keygen -l */
} PorchPeerKey;

typedef struct {
    char *name;
    PorchPeerKey *keys; /* n_keys entries; at least one of type ssh-ed25519 */
    guint n_keys;
    char *owner; /* NULL, or the user who accepted this peer (`porch peers accept` run by an
                  * ordinary user): then only that user's shares may name it, and '*' does
                  * not include it */
} PorchPeer;

typedef struct {
    char *name;
    GStrv members; /* as written: peer names and @group names */
} PorchGroup;

/* Who a rule (read, write, print) lets in, with groups and '*' already expanded. */
typedef struct {
    GStrv principals;  /* as written, for display; never NULL */
    GHashTable *peers; /* set of peer names (char * -> itself); read-only */
    gboolean guest;    /* 'guest' was named: anyone, unauthenticated */
} PorchRule;

typedef struct {
    char *name;
    char *path;    /* absolute; not necessarily there: a missing folder makes the share
                    * offline, not the file invalid (porch_share_folder_missing()) */
    char *comment; /* "" when unset */
    char *owner;   /* the user whose rights the share is served with; NULL: the folder's
                    * owner (a user name as written, checked by porchd, never "root") */
    gboolean hidden;
    PorchRule read;
    PorchRule write;  /* write implies read: see porch_acl_check() */
    gboolean user;    /* a user share: made by its owner with `porch share add`, kept in
                       * porchd's state rather than porch.conf (porch_config_load_merged()) */
    gboolean offline; /* its folder is missing: not served nor published. Set by porchd's
                       * network side on its snapshot, and by sessions from the state file
                       * PORCH_STATE_OFFLINE; FALSE as loaded */
    /* An [inbox NAME] (porch.conf, or a user's `porch inbox enable`): a folder that neighbours
     * send files to with `porch send`, never listed, read nor written over SFTP (read and
     * write are empty, hidden is TRUE). Inboxes and shares share one name space, so that an
     * inbox has a file worker like a share's, run as its owner. */
    gboolean inbox;
    PorchRule accept; /* inbox: who may send without being asked */
    PorchRule ask;    /* inbox: whose sends wait for the owner's answer */
    guint64 max_size; /* inbox: the most bytes one offer may hold; 0: no limit */
} PorchShare;

typedef struct {
    char *name;
    char *queue; /* the local CUPS queue; defaults to the section name */
    gboolean hidden;
    PorchRule print;
} PorchPrinter;

typedef struct _PorchConfig PorchConfig;

/* The limits on what a neighbour (or a stranger) can make porchd hold, each a key of
 * [porch] (porch.conf(5) has the list with the defaults): counts, seconds (written "90",
 * "90s", "5m", "2h", "7d") and bytes (written "65536", "64K", "256M", "1G"). */
typedef enum {
    PORCH_LIMIT_MAX_SESSIONS,             /* max-sessions: authenticated sessions at once */
    PORCH_LIMIT_MAX_GUEST_SESSIONS,       /* max-guest-sessions: of those, guests at most */
    PORCH_LIMIT_MAX_SESSIONS_PER_ADDRESS, /* max-sessions-per-address: connections of one */
    PORCH_LIMIT_MAX_STARTUPS,             /* max-startups: connections not logged in yet */
    PORCH_LIMIT_LOGIN_GRACE_TIME,         /* login-grace-time: seconds to log in */
    PORCH_LIMIT_IDLE_TIMEOUT,             /* idle-timeout: seconds without a request; 0 never */
    PORCH_LIMIT_MAX_HANDLES,              /* max-handles: open files and folders a session */
    PORCH_LIMIT_MAX_PACKET_SIZE,          /* max-packet-size: bytes of one SFTP request */
    PORCH_LIMIT_MAX_PENDING,              /* max-pending: access requests kept; 0 none */
    PORCH_LIMIT_MAX_PENDING_PER_ADDRESS,  /* max-pending-per-address */
    PORCH_LIMIT_PENDING_EXPIRY,           /* pending-expiry: seconds a request is kept */
    PORCH_LIMIT_MAX_PRINT_SIZE,           /* max-print-size: bytes of one document */
    PORCH_LIMIT_MAX_USER_SHARES,          /* max-user-shares: user shares kept; 0 none */
    PORCH_N_LIMITS,
} PorchLimit;

/* Reads and validates FILE. Returns a new snapshot (unref with porch_config_unref()), or
 * NULL with @error set in PORCH_CONFIG_ERROR; the message names the file, the line, the
 * section and the key, e.g. "porch.conf:12: [share Photos] path: 'srv/x' is not an absolute path".
 * A share whose folder is missing is loaded: see porch_share_folder_missing(). */
PorchConfig *porch_config_load_file(const char *file, GError **error);

/* As porch_config_load_file(), from @len bytes of @data (-1: NUL-terminated); @origin is
 * the name used in messages. */
PorchConfig *porch_config_load_data(const char *data, gssize len, const char *origin,
                                    GError **error);

/* Adds a reference; returns @config. */
PorchConfig *porch_config_ref(PorchConfig *config);
/* Drops a reference; frees the snapshot with the last one. NULL is ignored. */
void porch_config_unref(PorchConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchConfig, porch_config_unref)

/* Accessors. Every returned pointer belongs to @config and lives as long as it does. */
const char *porch_config_get_origin(const PorchConfig *config);
const char *porch_config_get_name(const PorchConfig *config); /* default: the host name */
guint16 porch_config_get_port(const PorchConfig *config);
/* Whether [porch] sets name, port (else the defaults above stand: a per-user porchd then
 * chooses its own, see porchd(8)). */
gboolean porch_config_has_name(const PorchConfig *config);
gboolean porch_config_has_port(const PorchConfig *config);
const char *const *porch_config_get_listen(const PorchConfig *config); /* address literals */
/* [porch] interfaces: the names of the network interfaces to publish on, exactly those; NULL
 * when the key is not set (then every interface but loopback, container bridges and VPNs, as
 * porch-interfaces.h says). */
const char *const *porch_config_get_interfaces(const PorchConfig *config);
guint porch_config_get_max_sessions(const PorchConfig *config);
/* The value of @limit: as configured, else its default (max-guest-sessions: half of
 * max-sessions, at least 1). */
guint64 porch_config_get_limit(const PorchConfig *config, PorchLimit limit);
/* The key that sets @limit in [porch], e.g. "idle-timeout". */
const char *porch_config_limit_key(PorchLimit limit);

/* Sections in file order; @index must be below the count. */
guint porch_config_get_n_peers(const PorchConfig *config);
const PorchPeer *porch_config_get_peer(const PorchConfig *config, guint index);
guint porch_config_get_n_groups(const PorchConfig *config);
const PorchGroup *porch_config_get_group(const PorchConfig *config, guint index);
guint porch_config_get_n_shares(const PorchConfig *config);
const PorchShare *porch_config_get_share(const PorchConfig *config, guint index);
guint porch_config_get_n_printers(const PorchConfig *config);
const PorchPrinter *porch_config_get_printer(const PorchConfig *config, guint index);

/* [porch] default-inbox, else the only inbox; NULL when there is none (or several and no
 * default). */
const PorchShare *porch_config_get_default_inbox(const PorchConfig *config);

/* Look-ups by exact name (fingerprint as "SHA256:..."); NULL when there is none. */
const PorchPeer *porch_config_lookup_peer(const PorchConfig *config, const char *name);
const PorchPeer *porch_config_lookup_peer_by_fingerprint(const PorchConfig *config,
                                                         const char *fingerprint);
const PorchGroup *porch_config_lookup_group(const PorchConfig *config, const char *name);
const PorchShare *porch_config_lookup_share(const PorchConfig *config, const char *name);
const PorchPrinter *porch_config_lookup_printer(const PorchConfig *config, const char *name);
/* Look-ups by the name a client typed: exactly, else without regard to case, as porch.conf
 * compares share and printer names for clashes (so at most one matches). NULL when none does
 * or @name is not UTF-8. */
const PorchShare *porch_config_find_share(const PorchConfig *config, const char *name);
const PorchPrinter *porch_config_find_printer(const PorchConfig *config, const char *name);

/* The one rule for a [peer] name, which porch.conf, `porch peers` and porchd share: letters,
 * digits, '.', '_', '-', starting with a letter or digit, at most PORCH_PEER_NAME_MAX bytes, and
 * not "guest" (a [group] name follows the same rule, but may be "guest"). FALSE for NULL. */
gboolean porch_config_peer_name_valid(const char *name);

/* How porch_config_peer_name_from() makes a name of a text. */
typedef enum {
    /* For one's own key (`porch id`, from the login name): a run of other characters becomes
     * one '-', those before the first letter or digit are left out, at most
     * PORCH_PEER_NAME_MAX bytes; "user" when nothing is left, "guest-user" for "guest". The
     * name is always valid. */
    PORCH_PEER_NAME_OWN,
    /* For a stranger (porchd, from the SSH user name of an unknown key): each other character
     * of the first 32 becomes '_', so the name shows the stranger's text character for
     * character; "peer" goes before a name that would not start with a letter or digit. It
     * may be "guest", which `porch peers` then says is not a valid name. */
    PORCH_PEER_NAME_STRANGER,
} PorchPeerNameStyle;

/* A [peer] name made of @text (NULL: as ""), so that nothing of @text reaches a terminal or
 * porch.conf as it is. Free with g_free(). */
char *porch_config_peer_name_from(const char *text, PorchPeerNameStyle style);

/* Where the configuration lives: /etc/porch/porch.conf for the system service,
 * $XDG_CONFIG_HOME/porch/porch.conf for a user's (the state folder: porch-state.h). Returns a
 * newly allocated string. */
char *porch_config_default_file(gboolean system);

/* [porch] interfaces of the porch.conf this machine's porchd reads (the system's when it
 * exists, else this user's), for porch browse and porch-tray to take neighbours' records from
 * the interfaces it publishes on: a copy (free with g_strfreev()), or NULL when it is not set,
 * or that porch.conf is missing, unreadable or does not load (then the default rule holds). */
GStrv porch_config_machine_interfaces(void);

/* Whether @share's folder is missing now (it does not exist, or is not a folder): such a
 * share is offline. Sets *@why (free it) to a word for the log ("missing", or the error).
 * A folder this process may not look at (EACCES) counts as there: its worker decides. */
gboolean porch_share_folder_missing(const PorchShare *share, char **why);

/* The one state of a snapshot that changes after loading: which shares are offline (their
 * folder is missing), kept by the process that holds it (porchd's network side; sessions,
 * from the state file PORCH_STATE_OFFLINE). @share is a name as configured; unknown names
 * are ignored. The epoch counts the changes, so that holders of per-share resources
 * (a session's connection to a worker) know to open them again. */
void porch_config_set_offline(PorchConfig *config, const char *share, gboolean offline);
guint64 porch_config_get_offline_epoch(const PorchConfig *config);
void porch_config_set_offline_epoch(PorchConfig *config, guint64 epoch);

/* User shares: shares an ordinary user made of a folder of their own with `porch share add`,
 * kept by porchd in its state folder (daemon/usershares.h) in porch.conf's [share NAME] form
 * with an owner, and allowed unless [porch] user-shares = no (at most max-user-shares). */
gboolean porch_config_get_user_shares(const PorchConfig *config);

/* Loads porch.conf (@data, @len, @origin: as porch_config_load_data(), and its mistakes fail
 * the load) together with the user shares in @user_data (NULL: none), which never fail it:
 * each one that porch.conf forbids, that clashes with a share of the file or an earlier user
 * share, names a peer or group the file does not define, or is not well formed, is left out
 * and said in *@ret_problems (a NULL-terminated list, one sentence each starting with
 * @user_origin; free with g_strfreev()). The user shares served are marked (PorchShare.user)
 * and their text returned in *@ret_accepted (free with g_free()): porch.conf's text followed by
 * it is a file that porch_config_load_data() takes. */
PorchConfig *porch_config_load_merged(const char *data, gssize len, const char *origin,
                                      const char *user_data, const char *user_origin,
                                      char **ret_accepted, GStrv *ret_problems, GError **error);

/* The text of one user share, as porch_config_load_merged() reads it; NULL when @name is not
 * a share name (empty, too long, not UTF-8, a control character, '/', '[' or ']', a leading
 * '.'). Free with g_free(). */
char *porch_config_user_share_text(const char *name, const char *path, const char *owner,
                                   const char *const *read, const char *const *write,
                                   const char *comment, gboolean hidden);
/* The same for a user's inbox (`porch inbox enable`): [inbox NAME] with path, owner, accept,
 * ask (NULL: nobody) and max-size (0: none). */
char *porch_config_user_inbox_text(const char *name, const char *path, const char *owner,
                                   const char *const *accept, const char *const *ask,
                                   guint64 max_size);

G_END_DECLS
