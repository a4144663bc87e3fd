/* porch-config.c — parse and validate porch.conf into an immutable snapshot. */
#include "porch-config.h"
#include "porch-auto.h"
#include "porch-identity.h"
#include "porch-text.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <libssh/libssh.h>

G_DEFINE_QUARK(porch - config - error - quark, porch_config_error)

struct _PorchConfig {
    gatomicrefcount ref;
    char *origin;
    char *name;
    gboolean name_set; /* name and port were written in the file */
    guint16 port;
    gboolean port_set;
    GStrv listen;
    GStrv interfaces; /* [porch] interfaces: NULL when not set */
    guint64 limits[PORCH_N_LIMITS];
    gboolean user_shares; /* [porch] user-shares: TRUE unless "no" */
    char *default_inbox;  /* [porch] default-inbox, or NULL */

    /* file order; each array owns its elements */
    GPtrArray *peers;
    GPtrArray *groups;
    GPtrArray *shares;
    GPtrArray *printers;

    /* indexes into the arrays above (borrowed values) */
    GHashTable *peer_by_name;
    GHashTable *peer_by_fingerprint;
    GHashTable *group_by_name;
    GHashTable *share_by_name;
    GHashTable *printer_by_name;

    guint64 offline_epoch; /* see porch_config_set_offline() */
};

/* What the loader needs besides the snapshot it builds: the file name and where each
 * section and key stands, so every error can say "FILE:LINE: [SECTION] KEY: ...". */
typedef struct {
    const char *origin;
    GHashTable *lines; /* "section" or "section\nkey" -> line number (GUINT_TO_POINTER) */
    GKeyFile *kf;
    PorchConfig *config;
} Loader;

typedef enum {
    SECTION_PORCH,
    SECTION_PEER,
    SECTION_GROUP,
    SECTION_SHARE,
    SECTION_PRINTER,
    SECTION_INBOX,
} SectionKind;

static const struct {
    const char *word;
    SectionKind kind;
    const char *const keys[20];
} section_kinds[] = {
        /* [porch]'s limits follow these keys: see limit_defs[] */
        {"porch",
         SECTION_PORCH,
         {"name", "port", "listen", "interfaces", "user-shares", "default-inbox", NULL}},
        {"peer", SECTION_PEER, {"key", "owner", NULL}},
        {"group", SECTION_GROUP, {"members", NULL}},
        {"share", SECTION_SHARE, {"path", "read", "write", "hidden", "comment", "owner", NULL}},
        {"printer", SECTION_PRINTER, {"queue", "print", "hidden", NULL}},
        {"inbox", SECTION_INBOX, {"path", "owner", "accept", "ask", "max-size", "comment", NULL}},
};

typedef enum {
    UNIT_COUNT,
    UNIT_SECONDS,
    UNIT_BYTES,
} LimitUnit;

#define KIB ((guint64)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define DAY ((guint64)86400)

/* Each limit's key in [porch], unit, default and range. max-guest-sessions has no fixed
 * default: half of max-sessions (porch_config_get_limit()). */
static const struct {
    const char *key;
    LimitUnit unit;
    guint64 def, min, max;
} limit_defs[PORCH_N_LIMITS] = {
        [PORCH_LIMIT_MAX_SESSIONS] = {"max-sessions", UNIT_COUNT, PORCH_DEFAULT_MAX_SESSIONS, 1,
                                      PORCH_MAX_SESSIONS_LIMIT},
        [PORCH_LIMIT_MAX_GUEST_SESSIONS] = {"max-guest-sessions", UNIT_COUNT, 0, 0,
                                            PORCH_MAX_SESSIONS_LIMIT},
        [PORCH_LIMIT_MAX_SESSIONS_PER_ADDRESS] = {"max-sessions-per-address", UNIT_COUNT, 16, 1,
                                                  PORCH_MAX_SESSIONS_LIMIT},
        [PORCH_LIMIT_MAX_STARTUPS] = {"max-startups", UNIT_COUNT, 16, 1, PORCH_MAX_SESSIONS_LIMIT},
        [PORCH_LIMIT_LOGIN_GRACE_TIME] = {"login-grace-time", UNIT_SECONDS, 30, 1, 600},
        [PORCH_LIMIT_IDLE_TIMEOUT] = {"idle-timeout", UNIT_SECONDS, 300, 0, 7 * DAY},
        [PORCH_LIMIT_MAX_HANDLES] = {"max-handles", UNIT_COUNT, 256, 4, 400},
        /* OpenSSH's client writes 32 KiB by default: with the header, more than 32 KiB */
        [PORCH_LIMIT_MAX_PACKET_SIZE] = {"max-packet-size", UNIT_BYTES, 256 * KIB, 64 * KIB,
                                         4 * MIB},
        [PORCH_LIMIT_MAX_PENDING] = {"max-pending", UNIT_COUNT, 64, 0, 4096},
        [PORCH_LIMIT_MAX_PENDING_PER_ADDRESS] = {"max-pending-per-address", UNIT_COUNT, 4, 1, 4096},
        [PORCH_LIMIT_PENDING_EXPIRY] = {"pending-expiry", UNIT_SECONDS, 7 * DAY, 60, 365 * DAY},
        [PORCH_LIMIT_MAX_PRINT_SIZE] = {"max-print-size", UNIT_BYTES, GIB, 64 * KIB, 1024 * GIB},
        [PORCH_LIMIT_MAX_USER_SHARES] = {"max-user-shares", UNIT_COUNT, 100, 0, 1000},
};

/* ---- errors ------------------------------------------------------------------------- */

static guint
loader_line(const Loader *l, const char *section, const char *key)
{
    g_autofree char *k = key ? g_strconcat(section, "\n", key, NULL) : g_strdup(section);
    return GPOINTER_TO_UINT(g_hash_table_lookup(l->lines, k));
}

/* Sets @error to "ORIGIN:LINE: [SECTION] KEY: message"; LINE 0 means the line where
 * @section/@key stands. Returns FALSE, for "return set_error(...)". */
G_GNUC_PRINTF(7, 0)
static gboolean
set_error_valist(const Loader *l, GError **error, PorchConfigError code, guint line,
                 const char *section, const char *key, const char *fmt, va_list ap)
{
    g_autoptr(GString) s = g_string_new(l->origin);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);

    if (line == 0 && section)
        line = loader_line(l, section, key);
    if (line == 0 && section && key)
        line = loader_line(l, section, NULL);
    if (line > 0)
        g_string_append_printf(s, ":%u", line);
    g_string_append(s, ": ");
    if (section)
        g_string_append_printf(s, "[%s] ", section);
    if (key)
        g_string_append_printf(s, "%s: ", key);
    g_string_append(s, msg);
    {
        /* sections, keys and values are the file's text, which may be anything: the
         * message says them escaped, on one line */
        g_autofree char *shown = porch_text_escape(s->str, -1, 4096);
        g_set_error_literal(error, PORCH_CONFIG_ERROR, code, shown);
    }
    return FALSE;
}

G_GNUC_PRINTF(6, 7)
static gboolean
set_error(const Loader *l, GError **error, PorchConfigError code, const char *section,
          const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_error_valist(l, error, code, 0, section, key, fmt, ap);
    va_end(ap);
    return FALSE;
}

G_GNUC_PRINTF(7, 8)
static gboolean
set_error_at(const Loader *l, GError **error, PorchConfigError code, guint line,
             const char *section, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_error_valist(l, error, code, line, section, key, fmt, ap);
    va_end(ap);
    return FALSE;
}

/* ---- freeing ------------------------------------------------------------------------ */

static void
rule_clear(PorchRule *r)
{
    g_clear_pointer(&r->principals, g_strfreev);
    g_clear_pointer(&r->peers, g_hash_table_unref);
}

static void
peer_free(PorchPeer *p)
{
    for (guint i = 0; i < p->n_keys; i++) {
        g_free(p->keys[i].type);
        g_free(p->keys[i].base64);
        g_free(p->keys[i].comment);
        g_free(p->keys[i].fingerprint);
    }
    g_free(p->keys);
    g_free(p->name);
    g_free(p->owner);
    g_free(p);
}

static void
group_free(PorchGroup *g)
{
    g_strfreev(g->members);
    g_free(g->name);
    g_free(g);
}

static void
share_free(PorchShare *s)
{
    g_free(s->name);
    g_free(s->path);
    g_free(s->comment);
    g_free(s->owner);
    rule_clear(&s->read);
    rule_clear(&s->write);
    rule_clear(&s->accept);
    rule_clear(&s->ask);
    g_free(s);
}

static void
printer_free(PorchPrinter *p)
{
    g_free(p->name);
    g_free(p->queue);
    rule_clear(&p->print);
    g_free(p);
}

static PorchConfig *
config_new(const char *origin)
{
    PorchConfig *c = g_new0(PorchConfig, 1);

    g_atomic_ref_count_init(&c->ref);
    c->origin = g_strdup(origin);
    c->port = PORCH_DEFAULT_PORT;
    c->user_shares = TRUE;
    for (guint i = 0; i < PORCH_N_LIMITS; i++)
        c->limits[i] = G_MAXUINT64; /* not set: porch_config_get_limit() gives the default */
    c->peers = g_ptr_array_new_with_free_func((GDestroyNotify)peer_free);
    c->groups = g_ptr_array_new_with_free_func((GDestroyNotify)group_free);
    c->shares = g_ptr_array_new_with_free_func((GDestroyNotify)share_free);
    c->printers = g_ptr_array_new_with_free_func((GDestroyNotify)printer_free);
    c->peer_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    c->peer_by_fingerprint = g_hash_table_new(g_str_hash, g_str_equal);
    c->group_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    c->share_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    c->printer_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return c;
}

PorchConfig *
porch_config_ref(PorchConfig *config)
{
    g_return_val_if_fail(config != NULL, NULL);
    g_atomic_ref_count_inc(&config->ref);
    return config;
}

void
porch_config_unref(PorchConfig *config)
{
    if (config == NULL || !g_atomic_ref_count_dec(&config->ref))
        return;
    g_hash_table_unref(config->peer_by_name);
    g_hash_table_unref(config->peer_by_fingerprint);
    g_hash_table_unref(config->group_by_name);
    g_hash_table_unref(config->share_by_name);
    g_hash_table_unref(config->printer_by_name);
    g_ptr_array_unref(config->peers);
    g_ptr_array_unref(config->groups);
    g_ptr_array_unref(config->shares);
    g_ptr_array_unref(config->printers);
    g_strfreev(config->listen);
    g_strfreev(config->interfaces);
    g_free(config->name);
    g_free(config->default_inbox);
    g_free(config->origin);
    g_free(config);
}

/* ---- the line scan ------------------------------------------------------------------ */

/* The line without its leading and trailing blanks (a "\r" of a CRLF file included), for
 * messages. Free with g_free(). */
static char *
line_shown(const char *line)
{
    return g_strstrip(g_strdup(line));
}

/* GKeyFile silently merges a section that appears twice and keeps only the last of a
 * key set twice, so a rule a user wrote could vanish without a word. This scan, over the
 * lines GKeyFile is about to parse, finds those duplicates and remembers where each
 * section and key stands for the error messages. It also refuses, with the line's number
 * and in plain words, the lines GKeyFile would refuse with a message that names no line
 * (a key before the first section, a ';' comment, an unclosed '[', text after a section's
 * ']', a line that is neither). It does not interpret values: GKeyFile does that. */
static gboolean
scan_lines(Loader *l, const char *data, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    g_autofree char *section = NULL;

    for (guint n = 0; lines[n] != NULL; n++) {
        const char *line = lines[n];
        const char *eq;
        g_autofree char *id = NULL;

        while (g_ascii_isspace(*line))
            line++;
        if (*line == '\0' || *line == '#')
            continue;
        if (*line == ';') {
            g_autofree char *shown = line_shown(line);
            return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, n + 1, NULL, NULL,
                                "'%s': a comment starts with '#', not ';'", shown);
        }
        if (*line == '[') {
            const char *end = strchr(line, ']');
            const char *after = end;
            g_autofree char *shown = line_shown(line);

            if (end == NULL)
                return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, n + 1, NULL, NULL,
                                    "'%s' has no closing ']'", shown);
            while (g_ascii_isspace(*++after))
                ;
            if (*after != '\0')
                return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, n + 1, NULL, NULL,
                                    "'%s': nothing may follow the ']' of a section (a comment "
                                    "goes on a line of its own)",
                                    shown);
            g_free(section);
            section = g_strndup(line + 1, end - line - 1);
            id = g_strdup(section);
        } else {
            g_autofree char *key = NULL;

            eq = strchr(line, '=');
            if (eq == NULL) {
                g_autofree char *shown = line_shown(line);
                return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, n + 1, NULL, NULL,
                                    "'%s' is neither KEY = VALUE, a [section] nor a # comment",
                                    shown);
            }
            key = g_strchomp(g_strndup(line, eq - line));
            if (section == NULL)
                return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, n + 1, NULL, NULL,
                                    "'%s = …' comes before the first [section] (such as "
                                    "[porch] or [share NAME])",
                                    key);
            gsize end = strlen(line), slashes = 0;

            id = g_strconcat(section, "\n", key, NULL);
            /* GKeyFile reads a value that ends in an escaping backslash wrongly (GLib 2.74
             * sets its error twice and leaks one): such a value is refused here */
            while (end > 0 && g_ascii_isspace(line[end - 1]))
                end--;
            while (slashes < end && line[end - 1 - slashes] == '\\')
                slashes++;
            if (slashes % 2 == 1)
                return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, n + 1, section, key,
                                    "a value cannot end with a lone backslash (write \\\\ "
                                    "for one)");
        }
        if (g_hash_table_contains(l->lines, id)) {
            guint first = GPOINTER_TO_UINT(g_hash_table_lookup(l->lines, id));
            const char *nl = strchr(id, '\n');

            if (nl == NULL)
                return set_error_at(l, error, PORCH_CONFIG_ERROR_DUPLICATE, n + 1, section, NULL,
                                    "section appears twice (lines %u and %u)", first, n + 1);
            return set_error_at(l, error, PORCH_CONFIG_ERROR_DUPLICATE, n + 1, section, nl + 1,
                                "key is set twice (lines %u and %u)", first, n + 1);
        }
        g_hash_table_insert(l->lines, g_steal_pointer(&id), GUINT_TO_POINTER(n + 1));
    }
    return TRUE;
}

/* ---- values ------------------------------------------------------------------------- */

/* GKeyFile's boolean accepts true/false/1/0; smb.conf users write yes/no too. */
static gboolean
get_boolean(Loader *l, const char *section, const char *key, gboolean *ret, GError **error)
{
    g_autofree char *v = g_key_file_get_value(l->kf, section, key, NULL);
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    if (v == NULL) {
        *ret = FALSE;
        return TRUE;
    }
    g_strstrip(v);
    for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(v, yes[i]) == 0) {
            *ret = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(v, no[i]) == 0) {
            *ret = FALSE;
            return TRUE;
        }
    }
    return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key,
                     "'%s' is not a boolean (true or false)", v);
}

/* Returns the string value (escapes decoded, stripped), NULL with no error when unset. */
static char *
get_string(Loader *l, const char *section, const char *key, GError **error)
{
    g_autoptr(GError) local = NULL;
    char *v = g_key_file_get_string(l->kf, section, key, &local);

    if (v == NULL) {
        if (!g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
            set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key, "%s",
                      local->message);
        return NULL;
    }
    return g_strstrip(v);
}

/* A value line "read = bob   # comment" keeps its comment as part of the value in a key
 * file; say so rather than report a peer called "bob   # comment". */
static gboolean
check_no_inline_comment(Loader *l, const char *section, const char *key, const char *value,
                        GError **error)
{
    const char *hash = strchr(value, '#');

    if (hash != NULL && hash > value && g_ascii_isspace(hash[-1]))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key,
                         "'%s': comments go on a line of their own, starting with #", value);
    return TRUE;
}

/* A character of a peer or group name. */
static gboolean
name_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* A name used as a principal: a peer or group. Letters, digits, '.', '_', '-'. */
static gboolean
principal_name_valid(const char *s)
{
    if (!g_ascii_isalnum(*s))
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!name_char(*p))
            return FALSE;
    return strlen(s) <= PORCH_PEER_NAME_MAX;
}

gboolean
porch_config_peer_name_valid(const char *name)
{
    return name != NULL && principal_name_valid(name) && strcmp(name, "guest") != 0;
}

char *
porch_config_peer_name_from(const char *text, PorchPeerNameStyle style)
{
    GString *n = g_string_new(NULL);
    const char *p = text != NULL ? text : "";

    if (style == PORCH_PEER_NAME_STRANGER) {
        for (; *p != '\0' && n->len < 32; p++)
            g_string_append_c(n, name_char(*p) ? *p : '_');
        if (n->len == 0 || !g_ascii_isalnum(n->str[0]))
            g_string_prepend(n, "peer");
        return g_string_free(n, FALSE);
    }
    for (; *p != '\0' && n->len < PORCH_PEER_NAME_MAX; p++) {
        if (g_ascii_isalnum(*p))
            g_string_append_c(n, *p);
        else if (n->len > 0 && name_char(*p))
            g_string_append_c(n, *p);
        else if (n->len > 0 && n->str[n->len - 1] != '-')
            g_string_append_c(n, '-');
    }
    if (n->len == 0)
        g_string_assign(n, "user");
    if (strcmp(n->str, "guest") == 0)
        g_string_append(n, "-user");
    return g_string_free(n, FALSE);
}

/* A name that is shown and published: share, printer, display name. */
static const char *
display_name_problem(const char *s)
{
    if (*s == '\0')
        return "is empty";
    if (strlen(s) > PORCH_NAME_MAX)
        return "is longer than 63 bytes (the DNS-SD limit)";
    if (!g_utf8_validate(s, -1, NULL))
        return "is not valid UTF-8";
    for (const char *p = s; *p; p++)
        if ((guchar)*p < 0x20 || *p == 0x7f)
            return "contains a control character";
    return NULL;
}

/* Share and printer names are also path components of the SFTP tree. */
static const char *
resource_name_problem(const char *s)
{
    const char *why = display_name_problem(s);

    if (why != NULL)
        return why;
    if (strchr(s, '/') != NULL)
        return "contains '/'";
    if (s[0] == '.')
        return "starts with '.'";
    return NULL;
}

static char *
casefold_key(const char *s)
{
    g_autofree char *n = g_utf8_normalize(s, -1, G_NORMALIZE_DEFAULT);
    return g_utf8_casefold(n, -1);
}

/* Reads a ';'-separated list, each element stripped, empty ones dropped. */
static GStrv
get_list(Loader *l, const char *section, const char *key, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) raw = g_key_file_get_string_list(l->kf, section, key, NULL, &local);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    if (raw == NULL) {
        if (g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
            return g_strv_builder_end(b);
        set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key, "%s", local->message);
        return NULL;
    }
    for (guint i = 0; raw[i]; i++) {
        g_strstrip(raw[i]);
        if (raw[i][0] != '\0')
            g_strv_builder_add(b, raw[i]);
    }
    return g_strv_builder_end(b);
}

/* ---- sections ----------------------------------------------------------------------- */

/* The key type a public key blob names in its first field (RFC 4253, 6.6: a uint32
 * length and that many bytes). libssh's ssh_pki_import_pubkey_base64() skips this field
 * and trusts the type it is given, so a line whose word disagrees with its blob would be
 * read as a key of the wrong type; this 4-byte read is what it takes to notice. */
static char *
blob_type(const char *base64)
{
    gsize len = 0;
    g_autofree guchar *blob = g_base64_decode(base64, &len);
    guint32 n;

    if (blob == NULL || len < 4)
        return NULL;
    n = (guint32)blob[0] << 24 | (guint32)blob[1] << 16 | (guint32)blob[2] << 8 | blob[3];
    if (n == 0 || n > 64 || n > len - 4)
        return NULL;
    return g_strndup((const char *)blob + 4, n);
}

static gboolean
parse_key(Loader *l, const char *section, const char *line, PorchPeerKey *ret_key, GError **error)
{
    g_auto(GStrv) f = g_strsplit_set(line, " \t", 3);
    g_auto(ssh_key) key = NULL;
    enum ssh_keytypes_e type;
    g_autofree char *fingerprint = NULL;
    g_autofree char *in_blob = NULL;

    if (g_strv_length(f) < 2 || f[1][0] == '\0')
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "'%s' is not a public key line (TYPE BASE64 [COMMENT])", line);
    type = ssh_key_type_from_name(f[0]);
    switch (type) {
    case SSH_KEYTYPE_ED25519:
    case SSH_KEYTYPE_ECDSA_P256:
    case SSH_KEYTYPE_ECDSA_P384:
    case SSH_KEYTYPE_ECDSA_P521:
    case SSH_KEYTYPE_RSA:
    case SSH_KEYTYPE_SK_ED25519:
    case SSH_KEYTYPE_SK_ECDSA:
        break;
    default:
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "key type '%s' is not supported (use ssh-ed25519)", f[0]);
    }
    in_blob = blob_type(f[1]);
    if (in_blob != NULL && !g_str_equal(in_blob, f[0]) && g_utf8_validate(in_blob, -1, NULL))
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "the key is declared %s but its data is a %s key", f[0], in_blob);
    if (in_blob == NULL || ssh_pki_import_pubkey_base64(f[1], type, &key) != SSH_OK)
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "the %s key '%.16s...' is malformed", f[0], f[1]);
    fingerprint = porch_key_fingerprint(key);
    if (fingerprint == NULL)
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "cannot compute the fingerprint of the key");

    /* success */
    ret_key->type = g_strdup(f[0]);
    ret_key->base64 = g_strdup(f[1]);
    ret_key->comment = g_strdup(f[2] ? g_strstrip(f[2]) : "");
    ret_key->fingerprint = g_steal_pointer(&fingerprint);
    return TRUE;
}

static gboolean user_name_valid(const char *name);

static gboolean
load_peer(Loader *l, const char *section, const char *name, GError **error)
{
    PorchConfig *c = l->config;
    g_auto(GStrv) lines = NULL;
    gboolean has_ed25519 = FALSE;
    PorchPeer *peer;

    if (!porch_config_peer_name_valid(name))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, NULL,
                         "'%s' is not a valid peer name (letters, digits, '.', '_', '-'; "
                         "not 'guest')",
                         name);
    if (!g_key_file_has_key(l->kf, section, "key", NULL))
        return set_error(l, error, PORCH_CONFIG_ERROR_MISSING_KEY, section, NULL,
                         "a peer needs a 'key' (its ssh-ed25519 public key line)");
    lines = get_list(l, section, "key", error);
    if (lines == NULL)
        return FALSE;
    if (lines[0] == NULL)
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "no public key given");

    peer = g_new0(PorchPeer, 1);
    peer->name = g_strdup(name);
    peer->keys = g_new0(PorchPeerKey, g_strv_length(lines));
    g_ptr_array_add(c->peers, peer); /* owned by the snapshot from here on */
    {
        g_autoptr(GError) local = NULL;

        peer->owner = get_string(l, section, "owner", &local);
        if (local != NULL) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (peer->owner != NULL && !user_name_valid(peer->owner))
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "owner",
                             "'%s' is not a user name", peer->owner);
    }
    for (guint i = 0; lines[i]; i++) {
        PorchPeerKey *k = &peer->keys[i];
        const PorchPeer *other;

        if (!parse_key(l, section, lines[i], k, error))
            return FALSE;
        peer->n_keys++;
        if (g_str_equal(k->type, "ssh-ed25519"))
            has_ed25519 = TRUE;
        other = g_hash_table_lookup(c->peer_by_fingerprint, k->fingerprint);
        if (other != NULL)
            return set_error(l, error, PORCH_CONFIG_ERROR_DUPLICATE, section, "key",
                             "key %s is already a key of peer '%s'", k->fingerprint, other->name);
        g_hash_table_insert(c->peer_by_fingerprint, k->fingerprint, peer);
    }
    if (!has_ed25519)
        return set_error(l, error, PORCH_CONFIG_ERROR_BAD_KEY, section, "key",
                         "a peer needs an ssh-ed25519 key; others may be added beside it");
    g_hash_table_insert(c->peer_by_name, peer->name, peer);
    return TRUE;
}

static gboolean
load_group(Loader *l, const char *section, const char *name, GError **error)
{
    PorchGroup *g;
    g_auto(GStrv) members = NULL;

    if (!principal_name_valid(name))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, NULL,
                         "'%s' is not a valid group name (letters, digits, '.', '_', '-')", name);
    members = get_list(l, section, "members", error);
    if (members == NULL)
        return FALSE;
    g = g_new0(PorchGroup, 1);
    g->name = g_strdup(name);
    g->members = g_steal_pointer(&members);
    g_ptr_array_add(l->config->groups, g);
    g_hash_table_insert(l->config->group_by_name, g->name, g);
    return TRUE;
}

/* Adds every peer of group @g (recursively) to @set. @path holds the groups being expanded,
 * to find cycles; the file was checked for undefined names before. */
static gboolean
expand_group(Loader *l, const PorchGroup *g, GHashTable *set, GPtrArray *path, GError **error)
{
    for (guint i = 0; i < path->len; i++) {
        if (g_str_equal(path->pdata[i], g->name)) {
            g_autoptr(GString) cycle = g_string_new(NULL);
            g_autofree char *section = NULL;

            for (guint j = i; j < path->len; j++)
                g_string_append_printf(cycle, "@%s -> ", (char *)path->pdata[j]);
            g_string_append_printf(cycle, "@%s", g->name);
            section = g_strconcat("group ", g->name, NULL);
            return set_error(l, error, PORCH_CONFIG_ERROR_GROUP_CYCLE, section, "members",
                             "groups contain each other: %s", cycle->str);
        }
    }
    g_ptr_array_add(path, g->name);
    for (guint i = 0; g->members[i]; i++) {
        const char *m = g->members[i];

        if (m[0] == '@') {
            const PorchGroup *sub = g_hash_table_lookup(l->config->group_by_name, m + 1);

            if (!expand_group(l, sub, set, path, error))
                return FALSE;
        } else {
            g_hash_table_add(set, (gpointer)porch_config_lookup_peer(l->config, m)->name);
        }
    }
    g_ptr_array_remove_index(path, path->len - 1);
    return TRUE;
}

/* Checks that one principal of @key in @section names something that exists. Groups may
 * hold only peers and @groups; rules may also say '*' and 'guest'. */
static gboolean
check_principal(Loader *l, const char *section, const char *key, const char *p, gboolean in_group,
                GError **error)
{
    PorchConfig *c = l->config;

    if (!check_no_inline_comment(l, section, key, p, error))
        return FALSE;
    if (g_str_equal(p, "*") || g_str_equal(p, "guest")) {
        if (in_group)
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key,
                             "a group holds peers and @groups, not '%s'", p);
        return TRUE;
    }
    if (p[0] == '@') {
        if (!principal_name_valid(p + 1))
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key,
                             "'%s' is not a group name", p);
        if (!g_hash_table_contains(c->group_by_name, p + 1))
            return set_error(l, error, PORCH_CONFIG_ERROR_UNDEFINED_GROUP, section, key,
                             "group '%s' is not defined (no [group %s] section)", p + 1, p + 1);
        return TRUE;
    }
    if (!principal_name_valid(p))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key,
                         "'%s' is not a peer name%s", p,
                         strpbrk(p, ", \t") ? "; separate names with ';'" : "");
    if (!g_hash_table_contains(c->peer_by_name, p))
        return set_error(l, error, PORCH_CONFIG_ERROR_UNDEFINED_PEER, section, key,
                         "peer '%s' is not defined (no [peer %s] section)", p, p);
    return TRUE;
}

static gboolean
load_rule(Loader *l, const char *section, const char *key, PorchRule *rule, GError **error)
{
    PorchConfig *c = l->config;
    g_autoptr(GPtrArray) path = g_ptr_array_new();

    rule->principals = get_list(l, section, key, error);
    if (rule->principals == NULL)
        return FALSE;
    rule->peers = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; rule->principals[i]; i++) {
        const char *p = rule->principals[i];

        if (!check_principal(l, section, key, p, FALSE, error))
            return FALSE;
        if (g_str_equal(p, "guest")) {
            rule->guest = TRUE;
        } else if (g_str_equal(p, "*")) {
            /* the peers of the administrator, not those a user accepted for their shares */
            for (guint j = 0; j < c->peers->len; j++)
                if (((PorchPeer *)c->peers->pdata[j])->owner == NULL)
                    g_hash_table_add(rule->peers, ((PorchPeer *)c->peers->pdata[j])->name);
        } else if (p[0] == '@') {
            if (!expand_group(l, g_hash_table_lookup(c->group_by_name, p + 1), rule->peers, path,
                              error))
                return FALSE;
        } else {
            g_hash_table_add(rule->peers, porch_config_lookup_peer(c, p)->name);
        }
    }
    return TRUE;
}

/* Share and printer names share one space each, compared without case: DNS-SD names are
 * case-insensitive, so "Photos" and "photos" would collide on the network. */
static gboolean
check_resource_name(Loader *l, const char *section, const char *name, GHashTable *seen,
                    GError **error)
{
    const char *why = resource_name_problem(name);
    g_autofree char *folded = NULL;
    const char *first;

    if (why != NULL)
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, NULL,
                         "the name '%s' %s", name, why);
    folded = casefold_key(name);
    first = g_hash_table_lookup(seen, folded);
    if (first != NULL)
        return set_error(l, error, PORCH_CONFIG_ERROR_DUPLICATE, section, NULL,
                         "the name '%s' is already used by [%s]", name, first);
    g_hash_table_insert(seen, g_steal_pointer(&folded), (gpointer)section);
    return TRUE;
}

/* A user name as useradd(8) takes it: a letter or '_', then letters, digits, '_', '-', '.'
 * (Debian allows a few more: they are refused here), at most 32 bytes. */
static gboolean
user_name_valid(const char *name)
{
    gsize n = strlen(name);

    if (n == 0 || n > 32 || !(g_ascii_islower(name[0]) || name[0] == '_'))
        return FALSE;
    for (gsize i = 1; i < n; i++)
        if (!(g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) || name[i] == '_' ||
              name[i] == '-' || name[i] == '.'))
            return FALSE;
    return TRUE;
}

static gboolean parse_limit(const char *text, LimitUnit unit, guint64 *ret);

static gboolean
load_share(Loader *l, const char *section, const char *name, GHashTable *seen, gboolean inbox,
           GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *path = NULL;
    PorchShare *s;
    struct stat st;

    if (!check_resource_name(l, section, name, seen, error))
        return FALSE;
    s = g_new0(PorchShare, 1);
    s->name = g_strdup(name);
    g_ptr_array_add(l->config->shares, s);

    path = get_string(l, section, "path", &local);
    if (path == NULL) {
        if (local != NULL) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        return set_error(l, error, PORCH_CONFIG_ERROR_MISSING_KEY, section, NULL,
                         "%s needs a 'path'", inbox ? "an inbox" : "a share");
    }
    if (!g_path_is_absolute(path))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "path",
                         "'%s' is not an absolute path", path);
    /* A process that may not look (porchd's network side, which is not the share's owner)
     * leaves the check to the share's worker, and porchd --check-config to root. A folder
     * that is missing (an unplugged disk) is no mistake in the file: the share is offline
     * until it is back (porch_share_folder_missing()), and the other shares are served. */
    if (stat(path, &st) != 0) {
        int e = errno;

        if (e != EACCES && e != ENOENT && e != ENOTDIR)
            return set_error(l, error, PORCH_CONFIG_ERROR_IO, section, "path", "%s: %s", path,
                             g_strerror(e));
        st.st_mode = S_IFDIR;
    }
    if (!S_ISDIR(st.st_mode))
        return set_error(l, error, PORCH_CONFIG_ERROR_NOT_A_DIRECTORY, section, "path",
                         "%s is not a directory", path);
    s->path = g_canonicalize_filename(path, NULL);
    s->comment = get_string(l, section, "comment", &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (s->comment == NULL)
        s->comment = g_strdup("");
    if (!get_boolean(l, section, "hidden", &s->hidden, error))
        return FALSE;
    s->owner = get_string(l, section, "owner", &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (s->owner != NULL && !user_name_valid(s->owner))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "owner",
                         "'%s' is not a user name", s->owner);
    if (g_strcmp0(s->owner, "root") == 0)
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "owner",
                         "shares are never served as root; name the user whose files they are");
    /* an inbox has neither key (check_keys()): its read and write rules are empty */
    if (!load_rule(l, section, "read", &s->read, error) ||
        !load_rule(l, section, "write", &s->write, error) ||
        !load_rule(l, section, "accept", &s->accept, error) ||
        !load_rule(l, section, "ask", &s->ask, error))
        return FALSE;
    s->inbox = inbox;
    if (inbox) {
        g_autofree char *v = get_string(l, section, "max-size", &local);

        if (local != NULL) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        s->hidden = TRUE;
        if (v != NULL && !parse_limit(v, UNIT_BYTES, &s->max_size))
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "max-size",
                             "'%s' is not a size in bytes (e.g. 512M, 20G)", v);
    }
    /* a peer a user accepted may be named in that user's shares only */
    for (int w = 0; w < 4; w++) {
        const PorchRule *rule = w == 0   ? &s->read
                                : w == 1 ? &s->write
                                : w == 2 ? &s->accept
                                         : &s->ask;
        const char *key = w == 0 ? "read" : w == 1 ? "write" : w == 2 ? "accept" : "ask";

        for (guint i = 0; rule->principals[i] != NULL; i++) {
            const PorchPeer *peer = porch_config_lookup_peer(l->config, rule->principals[i]);

            if (peer != NULL && peer->owner != NULL && g_strcmp0(peer->owner, s->owner) != 0)
                return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, key,
                                 "peer '%s' was accepted by %s, for %s's shares only", peer->name,
                                 peer->owner, peer->owner);
        }
    }
    g_hash_table_insert(l->config->share_by_name, s->name, s);
    return TRUE;
}

static gboolean
load_printer(Loader *l, const char *section, const char *name, GHashTable *seen, GError **error)
{
    g_autoptr(GError) local = NULL;
    PorchPrinter *p;

    if (!check_resource_name(l, section, name, seen, error))
        return FALSE;
    p = g_new0(PorchPrinter, 1);
    p->name = g_strdup(name);
    g_ptr_array_add(l->config->printers, p);

    p->queue = get_string(l, section, "queue", &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (p->queue == NULL)
        p->queue = g_strdup(name);
    /* CUPS queue names: printable characters other than space, '/', '\\', '?', '\'', '"',
     * '#' (cupsd's ValidName()). */
    if (p->queue[0] == '\0' || strlen(p->queue) > 127 || strpbrk(p->queue, " /\\?'\"#\t"))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "queue",
                         "'%s' is not a CUPS queue name%s", p->queue,
                         g_key_file_has_key(l->kf, section, "queue", NULL)
                                 ? ""
                                 : " (set 'queue' to the local queue's name)");
    if (!get_boolean(l, section, "hidden", &p->hidden, error))
        return FALSE;
    if (!load_rule(l, section, "print", &p->print, error))
        return FALSE;
    g_hash_table_insert(l->config->printer_by_name, p->name, p);
    return TRUE;
}

/* A limit's value as it is written in messages: "30s", "5m", "256K", "1G". */
static char *
format_limit(LimitUnit unit, guint64 v)
{
    static const struct {
        char suffix;
        guint64 factor;
    } seconds[] = {{'d', DAY}, {'h', 3600}, {'m', 60}},
      bytes[] = {{'G', GIB}, {'M', MIB}, {'K', KIB}};

    for (guint i = 0; unit != UNIT_COUNT && v > 0 && i < 3; i++) {
        char suffix = unit == UNIT_SECONDS ? seconds[i].suffix : bytes[i].suffix;
        guint64 factor = unit == UNIT_SECONDS ? seconds[i].factor : bytes[i].factor;
        if (v % factor == 0)
            return g_strdup_printf("%" G_GUINT64_FORMAT "%c", v / factor, suffix);
    }
    return g_strdup_printf("%" G_GUINT64_FORMAT "%s", v, unit == UNIT_SECONDS ? "s" : "");
}

/* Parses a count, a time ("90", "90s", "5m", "2h", "7d") or a size ("65536", "64K", "64KiB",
 * "256M", "1G", "1T"); FALSE when @text is none of its unit, or overflows. */
static gboolean
parse_limit(const char *text, LimitUnit unit, guint64 *ret)
{
    const char *p = text;
    guint64 n = 0, factor = 1;

    if (!g_ascii_isdigit(*p))
        return FALSE;
    for (; g_ascii_isdigit(*p); p++) {
        if (n > (G_MAXUINT64 - 9) / 10)
            return FALSE;
        n = n * 10 + (guint64)(*p - '0');
    }
    if (unit == UNIT_SECONDS && *p != '\0') {
        switch (g_ascii_tolower(*p++)) {
        case 's':
            factor = 1;
            break;
        case 'm':
            factor = 60;
            break;
        case 'h':
            factor = 3600;
            break;
        case 'd':
            factor = DAY;
            break;
        default:
            return FALSE;
        }
    } else if (unit == UNIT_BYTES && *p != '\0') {
        switch (g_ascii_toupper(*p++)) {
        case 'B':
            factor = 1;
            p--;
            break;
        case 'K':
            factor = KIB;
            break;
        case 'M':
            factor = MIB;
            break;
        case 'G':
            factor = GIB;
            break;
        case 'T':
            factor = GIB * 1024;
            break;
        default:
            return FALSE;
        }
        if (*p == 'i')
            p++;
        if (*p == 'B' || *p == 'b')
            p++;
    }
    if (*p != '\0' || (factor > 1 && n > G_MAXUINT64 / factor))
        return FALSE;
    *ret = n * factor;
    return TRUE;
}

/* [porch]'s limits: each key of limit_defs[] that is set, within its range. */
static gboolean
load_limits(Loader *l, const char *section, GError **error)
{
    PorchConfig *c = l->config;

    for (guint i = 0; i < PORCH_N_LIMITS; i++) {
        g_autoptr(GError) local = NULL;
        g_autofree char *v = get_string(l, section, limit_defs[i].key, &local);
        g_autofree char *min = NULL;
        g_autofree char *max = NULL;
        static const char *const what[] = {
                [UNIT_COUNT] = "a number",
                [UNIT_SECONDS] = "a time",
                [UNIT_BYTES] = "a size",
        };
        static const char *const example[] = {
                [UNIT_COUNT] = "",
                [UNIT_SECONDS] = " (e.g. 30s, 5m, 2h, 7d)",
                [UNIT_BYTES] = " (e.g. 512K, 64M, 1G)",
        };
        guint64 n = 0;

        if (local != NULL) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (v == NULL)
            continue;
        if (parse_limit(v, limit_defs[i].unit, &n) && n >= limit_defs[i].min &&
            n <= limit_defs[i].max) {
            c->limits[i] = n;
            continue;
        }
        min = format_limit(limit_defs[i].unit, limit_defs[i].min);
        max = format_limit(limit_defs[i].unit, limit_defs[i].max);
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, limit_defs[i].key,
                         "'%s' is not %s from %s to %s%s", v, what[limit_defs[i].unit], min, max,
                         example[limit_defs[i].unit]);
    }
    if (c->limits[PORCH_LIMIT_MAX_GUEST_SESSIONS] != G_MAXUINT64 &&
        c->limits[PORCH_LIMIT_MAX_GUEST_SESSIONS] > porch_config_get_max_sessions(c))
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "max-guest-sessions",
                         "%" G_GUINT64_FORMAT " is more than max-sessions (%u)",
                         c->limits[PORCH_LIMIT_MAX_GUEST_SESSIONS],
                         porch_config_get_max_sessions(c));
    return TRUE;
}

static gboolean
load_porch(Loader *l, const char *section, GError **error)
{
    PorchConfig *c = l->config;
    g_autoptr(GError) local = NULL;
    g_autofree char *v = NULL;
    const char *why;

    c->name = get_string(l, section, "name", &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (c->name != NULL && (why = display_name_problem(c->name)) != NULL)
        return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "name",
                         "the name '%s' %s", c->name, why);

    v = get_string(l, section, "port", &local);
    if (v != NULL) {
        guint64 port = 0;

        if (!porch_text_to_unsigned(v, 10, 1, 65535, &port, NULL))
            return set_error(l, error, PORCH_CONFIG_ERROR_BAD_PORT, section, "port",
                             "'%s' is not a TCP port (1 to 65535)", v);
        c->port = (guint16)port;
        c->port_set = TRUE;
    }
    g_clear_pointer(&v, g_free);

    if (!load_limits(l, section, error))
        return FALSE;
    c->default_inbox = get_string(l, section, "default-inbox", &local);
    if (local != NULL) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (g_key_file_has_key(l->kf, section, "user-shares", NULL) &&
        !get_boolean(l, section, "user-shares", &c->user_shares, error))
        return FALSE;

    if (g_key_file_has_key(l->kf, section, "listen", NULL)) {
        c->listen = get_list(l, section, "listen", error);
        if (c->listen == NULL)
            return FALSE;
        if (c->listen[0] == NULL)
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "listen",
                             "no address given (leave the key out to listen on all)");
        for (guint i = 0; c->listen[i]; i++) {
            g_autoptr(GInetAddress) a = g_inet_address_new_from_string(c->listen[i]);

            if (a == NULL)
                return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "listen",
                                 "'%s' is not an IPv4 or IPv6 address", c->listen[i]);
        }
    }

    if (g_key_file_has_key(l->kf, section, "interfaces", NULL)) {
        c->interfaces = get_list(l, section, "interfaces", error);
        if (c->interfaces == NULL)
            return FALSE;
        if (c->interfaces[0] == NULL)
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "interfaces",
                             "no interface given (leave the key out to publish on every "
                             "interface but container bridges, VPNs and loopback)");
        for (guint i = 0; c->interfaces[i]; i++) {
            const char *n = c->interfaces[i];

            /* What the kernel accepts as an interface name (dev_valid_name()). */
            if (strlen(n) >= IF_NAMESIZE || strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
                strpbrk(n, "/: \t\n") != NULL)
                return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, section, "interfaces",
                                 "'%s' is not a network interface name", n);
        }
    }
    return TRUE;
}

const PorchShare *
porch_config_get_default_inbox(const PorchConfig *config)
{
    const PorchShare *only = NULL;

    g_return_val_if_fail(config != NULL, NULL);
    if (config->default_inbox != NULL)
        return g_hash_table_lookup(config->share_by_name, config->default_inbox);
    for (guint i = 0; i < config->shares->len; i++) {
        const PorchShare *s = config->shares->pdata[i];

        if (!s->inbox)
            continue;
        if (only != NULL)
            return NULL;
        only = s;
    }
    return only;
}

/* ---- the whole file ----------------------------------------------------------------- */

/* Splits "share My Photos" into its kind and name. Returns FALSE (error set) for a
 * section Porch does not know. */
static gboolean
classify_section(Loader *l, const char *section, guint *ret_index, char **ret_name, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(section_kinds); i++) {
        g_autofree char *name = NULL;
        const char *w = section_kinds[i].word;
        size_t n = strlen(w);

        if (strncmp(section, w, n) != 0)
            continue;
        if (section_kinds[i].kind == SECTION_PORCH) {
            if (section[n] != '\0')
                break;
            *ret_index = i;
            *ret_name = NULL;
            return TRUE;
        }
        if (section[n] != '\0' && section[n] != ' ')
            break;
        name = g_strstrip(g_strdup(section + n));
        if (name[0] == '\0')
            return set_error(l, error, PORCH_CONFIG_ERROR_UNKNOWN_SECTION, section, NULL,
                             "a %s section needs a name: [%s NAME]", w, w);
        *ret_index = i;
        *ret_name = g_steal_pointer(&name);
        return TRUE;
    }
    return set_error(l, error, PORCH_CONFIG_ERROR_UNKNOWN_SECTION, section, NULL,
                     "unknown section (expected [porch], [peer NAME], [group NAME], "
                     "[share NAME], [printer NAME] or [inbox NAME])");
}

static gboolean
check_keys(Loader *l, const char *section, guint kind_index, GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(l->kf, section, NULL, NULL);

    gboolean porch = section_kinds[kind_index].kind == SECTION_PORCH;

    for (guint i = 0; keys && keys[i]; i++) {
        g_autoptr(GStrvBuilder) known = NULL;
        g_auto(GStrv) names = NULL;
        g_autofree char *list = NULL;
        gboolean limit = FALSE;

        for (guint j = 0; porch && j < PORCH_N_LIMITS; j++)
            limit = limit || strcmp(keys[i], limit_defs[j].key) == 0;
        if (limit || g_strv_contains(section_kinds[kind_index].keys, keys[i]))
            continue;
        known = g_strv_builder_new();
        g_strv_builder_addv(known, (const char **)section_kinds[kind_index].keys);
        for (guint j = 0; porch && j < PORCH_N_LIMITS; j++)
            g_strv_builder_add(known, limit_defs[j].key);
        names = g_strv_builder_end(known);
        list = g_strjoinv(", ", names);
        return set_error(l, error, PORCH_CONFIG_ERROR_UNKNOWN_KEY, section, keys[i],
                         "unknown key (a [%s] section knows: %s)", section_kinds[kind_index].word,
                         list);
    }
    return TRUE;
}

static gboolean
keyfile_refuses(const char *text, gsize len)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    return !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, NULL);
}

/* The number of the line GKeyFile refused in @text: GKeyFile reads line by line and stops
 * at the first bad one, so it is the shortest run of whole lines from the start that
 * GKeyFile refuses (found by bisection). 0 when there is none. */
static guint
keyfile_error_line(const char *text, gsize len)
{
    g_autoptr(GArray) ends = g_array_new(FALSE, FALSE, sizeof(gsize)); /* after each line */
    guint lo = 1, hi;

    for (gsize i = 0; i < len; i++)
        if (text[i] == '\n') {
            gsize end = i + 1;
            g_array_append_val(ends, end);
        }
    if (len > 0 && text[len - 1] != '\n')
        g_array_append_val(ends, len);
    hi = ends->len;
    if (hi == 0 || !keyfile_refuses(text, g_array_index(ends, gsize, hi - 1)))
        return 0;
    /* the first @hi lines are refused; the first @lo - 1 are not */
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (keyfile_refuses(text, g_array_index(ends, gsize, mid - 1)))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static gboolean
load(Loader *l, const char *data, gsize len, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) sections = NULL;
    g_autoptr(GHashTable) share_names =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) printer_names =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) kinds = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *text = NULL;
    PorchConfig *c = l->config;

    /* A UTF-8 byte order mark is skipped: editors on other systems (Notepad, for one) write
     * one at the start of a text file, it holds nothing, and GKeyFile would refuse the first
     * line for it with a message that does not show why (the mark is invisible). */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    text = g_strndup(data, len);
    if (!scan_lines(l, text, error))
        return FALSE;
    /* What the scan lets through and GKeyFile refuses (an invalid section or key name): its
     * message, with the line */
    if (!g_key_file_load_from_data(l->kf, data, len, G_KEY_FILE_NONE, &local))
        return set_error_at(l, error, PORCH_CONFIG_ERROR_SYNTAX, keyfile_error_line(data, len),
                            NULL, NULL, "%s", local->message);
    sections = g_key_file_get_groups(l->kf, NULL);
    if (sections[0] == NULL)
        return set_error(l, error, PORCH_CONFIG_ERROR_EMPTY, NULL, NULL,
                         "the file has no sections (at least [porch] or a [share NAME])");

    /* Pass 1: section names and keys; peers and groups, which rules refer to. */
    for (guint i = 0; sections[i]; i++) {
        guint k = 0;
        char *name = NULL;

        if (!classify_section(l, sections[i], &k, &name, error))
            return FALSE;
        g_ptr_array_add(names, name);
        g_array_append_val(kinds, k);
        if (!check_keys(l, sections[i], k, error))
            return FALSE;
        if (section_kinds[k].kind == SECTION_PEER) {
            if (g_hash_table_contains(c->peer_by_name, name))
                return set_error(l, error, PORCH_CONFIG_ERROR_DUPLICATE, sections[i], NULL,
                                 "peer '%s' is defined twice", name);
            if (!load_peer(l, sections[i], name, error))
                return FALSE;
        } else if (section_kinds[k].kind == SECTION_GROUP) {
            if (g_hash_table_contains(c->group_by_name, name))
                return set_error(l, error, PORCH_CONFIG_ERROR_DUPLICATE, sections[i], NULL,
                                 "group '%s' is defined twice", name);
            if (!load_group(l, sections[i], name, error))
                return FALSE;
        }
    }

    /* Pass 2: group members exist; no group contains itself. */
    for (guint i = 0; i < c->groups->len; i++) {
        const PorchGroup *g = c->groups->pdata[i];
        g_autofree char *section = g_strconcat("group ", g->name, NULL);

        for (guint j = 0; g->members[j]; j++)
            if (!check_principal(l, section, "members", g->members[j], TRUE, error))
                return FALSE;
    }
    for (guint i = 0; i < c->groups->len; i++) {
        g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) path = g_ptr_array_new();

        if (!expand_group(l, c->groups->pdata[i], set, path, error))
            return FALSE;
    }

    /* Pass 3: the rest, in file order. */
    for (guint i = 0; sections[i]; i++) {
        const char *name = names->pdata[i];
        gboolean ok = TRUE;

        switch (section_kinds[g_array_index(kinds, guint, i)].kind) {
        case SECTION_PORCH:
            ok = load_porch(l, sections[i], error);
            break;
        case SECTION_SHARE:
        case SECTION_INBOX:
            ok = load_share(l, sections[i], name, share_names,
                            section_kinds[g_array_index(kinds, guint, i)].kind == SECTION_INBOX,
                            error);
            break;
        case SECTION_PRINTER:
            ok = load_printer(l, sections[i], name, printer_names, error);
            break;
        case SECTION_PEER:
        case SECTION_GROUP:
            break;
        }
        if (!ok)
            return FALSE;
    }

    if (c->default_inbox != NULL) {
        const PorchShare *s = g_hash_table_lookup(c->share_by_name, c->default_inbox);

        if (s == NULL || !s->inbox)
            return set_error(l, error, PORCH_CONFIG_ERROR_INVALID_VALUE, "porch", "default-inbox",
                             "there is no [inbox %s]", c->default_inbox);
    }
    c->name_set = c->name != NULL;
    if (c->name == NULL)
        c->name = g_strndup(g_get_host_name(), PORCH_NAME_MAX);
    if (c->listen == NULL) {
        const char *all[] = {"0.0.0.0", "::", NULL};
        c->listen = g_strdupv((GStrv)all);
    }
    return TRUE;
}

PorchConfig *
porch_config_load_data(const char *data, gssize len, const char *origin, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GHashTable) lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(PorchConfig) config = NULL;
    Loader l;

    g_return_val_if_fail(data != NULL, NULL);
    g_return_val_if_fail(origin != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (len < 0)
        len = strlen(data);
    config = config_new(origin);
    l = (Loader){.origin = origin, .lines = lines, .kf = kf, .config = config};
    if (memchr(data, '\0', (gsize)len) != NULL) {
        set_error(&l, error, PORCH_CONFIG_ERROR_SYNTAX, NULL, NULL,
                  "the file holds a NUL byte: it is not a text file");
        return NULL;
    }
    l = (Loader){.origin = origin, .lines = lines, .kf = kf, .config = config};
    if (!load(&l, data, len, error))
        return NULL;
    return g_steal_pointer(&config);
}

GStrv
porch_config_machine_interfaces(void)
{
    g_autofree char *system_file = porch_config_default_file(TRUE);
    g_autofree char *user_file = porch_config_default_file(FALSE);
    const char *file = g_file_test(system_file, G_FILE_TEST_EXISTS) ? system_file : user_file;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchConfig) config = NULL;
    const char *const *names;

    if (!g_file_test(file, G_FILE_TEST_EXISTS))
        return NULL;
    config = porch_config_load_file(file, &error);
    if (config == NULL) {
        g_debug("%s: %s; neighbours are taken from the interfaces of the default rule", file,
                error->message);
        return NULL;
    }
    names = porch_config_get_interfaces(config);
    return names != NULL ? g_strdupv((char **)names) : NULL;
}

PorchConfig *
porch_config_load_file(const char *file, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    g_return_val_if_fail(file != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!g_file_get_contents(file, &data, &len, &local)) {
        g_set_error(error, PORCH_CONFIG_ERROR, PORCH_CONFIG_ERROR_IO, "%s", local->message);
        return NULL;
    }
    return porch_config_load_data(data, (gssize)len, file, error);
}

/* ---- accessors ---------------------------------------------------------------------- */

const char *
porch_config_get_origin(const PorchConfig *config)
{
    return config->origin;
}

const char *
porch_config_get_name(const PorchConfig *config)
{
    return config->name;
}

gboolean
porch_config_has_name(const PorchConfig *config)
{
    return config->name_set;
}

gboolean
porch_config_has_port(const PorchConfig *config)
{
    return config->port_set;
}

guint16
porch_config_get_port(const PorchConfig *config)
{
    return config->port;
}

const char *const *
porch_config_get_listen(const PorchConfig *config)
{
    return (const char *const *)config->listen;
}

const char *const *
porch_config_get_interfaces(const PorchConfig *config)
{
    return (const char *const *)config->interfaces;
}

guint
porch_config_get_max_sessions(const PorchConfig *config)
{
    return (guint)porch_config_get_limit(config, PORCH_LIMIT_MAX_SESSIONS);
}

guint64
porch_config_get_limit(const PorchConfig *config, PorchLimit limit)
{
    g_return_val_if_fail(limit < PORCH_N_LIMITS, 0);
    if (config->limits[limit] != G_MAXUINT64)
        return config->limits[limit];
    if (limit == PORCH_LIMIT_MAX_GUEST_SESSIONS)
        return MAX(1u, porch_config_get_max_sessions(config) / 2);
    return limit_defs[limit].def;
}

const char *
porch_config_limit_key(PorchLimit limit)
{
    g_return_val_if_fail(limit < PORCH_N_LIMITS, NULL);
    return limit_defs[limit].key;
}

guint
porch_config_get_n_peers(const PorchConfig *config)
{
    return config->peers->len;
}

const PorchPeer *
porch_config_get_peer(const PorchConfig *config, guint index)
{
    g_return_val_if_fail(index < config->peers->len, NULL);
    return config->peers->pdata[index];
}

guint
porch_config_get_n_groups(const PorchConfig *config)
{
    return config->groups->len;
}

const PorchGroup *
porch_config_get_group(const PorchConfig *config, guint index)
{
    g_return_val_if_fail(index < config->groups->len, NULL);
    return config->groups->pdata[index];
}

guint
porch_config_get_n_shares(const PorchConfig *config)
{
    return config->shares->len;
}

const PorchShare *
porch_config_get_share(const PorchConfig *config, guint index)
{
    g_return_val_if_fail(index < config->shares->len, NULL);
    return config->shares->pdata[index];
}

guint
porch_config_get_n_printers(const PorchConfig *config)
{
    return config->printers->len;
}

const PorchPrinter *
porch_config_get_printer(const PorchConfig *config, guint index)
{
    g_return_val_if_fail(index < config->printers->len, NULL);
    return config->printers->pdata[index];
}

const PorchPeer *
porch_config_lookup_peer(const PorchConfig *config, const char *name)
{
    return name ? g_hash_table_lookup(config->peer_by_name, name) : NULL;
}

const PorchPeer *
porch_config_lookup_peer_by_fingerprint(const PorchConfig *config, const char *fingerprint)
{
    return fingerprint ? g_hash_table_lookup(config->peer_by_fingerprint, fingerprint) : NULL;
}

const PorchGroup *
porch_config_lookup_group(const PorchConfig *config, const char *name)
{
    return name ? g_hash_table_lookup(config->group_by_name, name) : NULL;
}

const PorchShare *
porch_config_lookup_share(const PorchConfig *config, const char *name)
{
    return name ? g_hash_table_lookup(config->share_by_name, name) : NULL;
}

const PorchPrinter *
porch_config_lookup_printer(const PorchConfig *config, const char *name)
{
    return name ? g_hash_table_lookup(config->printer_by_name, name) : NULL;
}

/* Whether @name, casefolded as @folded, is @candidate without regard to case: the same
 * comparison that makes two such names clash (check_resource_name()). */
static gboolean
same_name_folded(const char *folded, const char *candidate)
{
    g_autofree char *f = casefold_key(candidate);
    return strcmp(f, folded) == 0;
}

const PorchShare *
porch_config_find_share(const PorchConfig *config, const char *name)
{
    const PorchShare *exact = porch_config_lookup_share(config, name);
    g_autofree char *folded = NULL;

    if (exact != NULL || name == NULL || !g_utf8_validate(name, -1, NULL))
        return exact;
    folded = casefold_key(name);
    for (guint i = 0; i < config->shares->len; i++) {
        const PorchShare *s = g_ptr_array_index(config->shares, i);
        if (same_name_folded(folded, s->name))
            return s;
    }
    return NULL;
}

const PorchPrinter *
porch_config_find_printer(const PorchConfig *config, const char *name)
{
    const PorchPrinter *exact = porch_config_lookup_printer(config, name);
    g_autofree char *folded = NULL;

    if (exact != NULL || name == NULL || !g_utf8_validate(name, -1, NULL))
        return exact;
    folded = casefold_key(name);
    for (guint i = 0; i < config->printers->len; i++) {
        const PorchPrinter *p = g_ptr_array_index(config->printers, i);
        if (same_name_folded(folded, p->name))
            return p;
    }
    return NULL;
}

char *
porch_config_default_file(gboolean system)
{
    if (system)
        return g_strdup("/etc/porch/porch.conf");
    return g_build_filename(g_get_user_config_dir(), "porch", "porch.conf", NULL);
}

gboolean
porch_share_folder_missing(const PorchShare *share, char **why)
{
    struct stat st;
    int e;

    g_return_val_if_fail(share != NULL, FALSE);
    if (stat(share->path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return FALSE;
        e = ENOTDIR;
    } else {
        e = errno;
        /* not ours to look at: the share's worker, which runs as its owner, will tell */
        if (e == EACCES)
            return FALSE;
    }
    if (why != NULL)
        *why = g_strdup(e == ENOENT ? "missing" : g_strerror(e));
    return TRUE;
}

void
porch_config_set_offline(PorchConfig *config, const char *share, gboolean offline)
{
    PorchShare *s;

    g_return_if_fail(config != NULL && share != NULL);
    s = g_hash_table_lookup(config->share_by_name, share);
    if (s != NULL)
        s->offline = offline;
}

guint64
porch_config_get_offline_epoch(const PorchConfig *config)
{
    g_return_val_if_fail(config != NULL, 0);
    return config->offline_epoch;
}

void
porch_config_set_offline_epoch(PorchConfig *config, guint64 epoch)
{
    g_return_if_fail(config != NULL);
    config->offline_epoch = epoch;
}

/* ---- user shares -------------------------------------------------------------------- */

gboolean
porch_config_get_user_shares(const PorchConfig *config)
{
    g_return_val_if_fail(config != NULL, FALSE);
    return config->user_shares;
}

/* The keys a user share may have: those of [share] (owner is required); and a peer a user
 * accepted for their shares. */
static const char *const user_share_keys[] = {"path",    "read",  "write", "hidden",
                                              "comment", "owner", NULL};
static const char *const user_peer_keys[] = {"key", "owner", NULL};
static const char *const user_inbox_keys[] = {"path", "owner", "accept", "ask", "max-size", NULL};

/* Whether @section is a share or an inbox, as user shares keep them; its name then. */
static const char *
user_resource_name(const char *section)
{
    if (g_str_has_prefix(section, "share "))
        return section + strlen("share ");
    if (g_str_has_prefix(section, "inbox "))
        return section + strlen("inbox ");
    return NULL;
}

char *
porch_config_user_inbox_text(const char *name, const char *path, const char *owner,
                             const char *const *accept, const char *const *ask, guint64 max_size)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *section = NULL;

    g_return_val_if_fail(name != NULL && path != NULL && owner != NULL, NULL);
    if (resource_name_problem(name) != NULL || strpbrk(name, "[]") != NULL)
        return NULL;
    section = g_strconcat("inbox ", name, NULL);
    g_key_file_set_string(kf, section, "path", path);
    g_key_file_set_string(kf, section, "owner", owner);
    if (accept != NULL && accept[0] != NULL)
        g_key_file_set_string_list(kf, section, "accept", accept, g_strv_length((GStrv)accept));
    if (ask != NULL && ask[0] != NULL)
        g_key_file_set_string_list(kf, section, "ask", ask, g_strv_length((GStrv)ask));
    if (max_size > 0) {
        g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, max_size);
        g_key_file_set_string(kf, section, "max-size", v);
    }
    return g_key_file_to_data(kf, NULL, NULL);
}

char *
porch_config_user_share_text(const char *name, const char *path, const char *owner,
                             const char *const *read, const char *const *write, const char *comment,
                             gboolean hidden)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *section = NULL;

    g_return_val_if_fail(name != NULL && path != NULL && owner != NULL, NULL);
    /* what a section's name cannot hold (porch_config_load_data() says the rest) */
    if (resource_name_problem(name) != NULL || strpbrk(name, "[]") != NULL)
        return NULL;
    section = g_strconcat("share ", name, NULL);
    g_key_file_set_string(kf, section, "path", path);
    g_key_file_set_string(kf, section, "owner", owner);
    if (read != NULL && read[0] != NULL)
        g_key_file_set_string_list(kf, section, "read", read, g_strv_length((GStrv)read));
    if (write != NULL && write[0] != NULL)
        g_key_file_set_string_list(kf, section, "write", write, g_strv_length((GStrv)write));
    if (comment != NULL && comment[0] != '\0')
        g_key_file_set_string(kf, section, "comment", comment);
    if (hidden)
        g_key_file_set_boolean(kf, section, "hidden", TRUE);
    return g_key_file_to_data(kf, NULL, NULL);
}

/* The text of [@section] of @kf alone, with only the keys a user share may have; NULL with
 * *@why set when it has another key or no owner. */
static char *
user_section_text(GKeyFile *kf, const char *section, char **why)
{
    g_autoptr(GKeyFile) one = g_key_file_new();
    g_auto(GStrv) keys = g_key_file_get_keys(kf, section, NULL, NULL);
    gboolean peer = g_str_has_prefix(section, "peer ");
    gboolean inbox = g_str_has_prefix(section, "inbox ");

    for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
        g_autofree char *v = NULL;

        if (!g_strv_contains(peer    ? user_peer_keys
                             : inbox ? user_inbox_keys
                                     : user_share_keys,
                             keys[i])) {
            *why = g_strdup_printf("[%s] %s: not a key of a %s", section, keys[i],
                                   peer ? "peer a user accepted" : "user share");
            return NULL;
        }
        v = g_key_file_get_value(kf, section, keys[i], NULL);
        g_key_file_set_value(one, section, keys[i], v != NULL ? v : "");
    }
    if (!g_key_file_has_key(kf, section, "owner", NULL)) {
        *why = g_strdup_printf("[%s]: a %s needs its owner", section,
                               peer ? "peer a user accepted" : "user share");
        return NULL;
    }
    return g_key_file_to_data(one, NULL, NULL);
}

/* A loader message without its "ORIGIN:LINE: " start: the line is one of the text put
 * together here, which no one can open. */
static const char *
without_place(const char *message, const char *origin)
{
    gsize n = strlen(origin);

    if (strncmp(message, origin, n) == 0 && message[n] == ':') {
        const char *p = message + n + 1;

        while (g_ascii_isdigit(*p))
            p++;
        if (p[0] == ':' && p[1] == ' ')
            return p + 2;
    }
    return message;
}

/* The usual case, in one load: when every section of @kf is a peer or a share of the form a
 * user share has, at most @max shares, and porch.conf (@base_text) takes them all at once,
 * appends their text (peers first) to @accepted and the shares' names to @names and returns
 * TRUE. Otherwise FALSE, with nothing added: the caller then loads them one at a time, each
 * with those before it, to say which ones are left out and why (a load per section). */
static gboolean
load_all_at_once(GKeyFile *kf, char **sections, guint64 max, const char *base_text,
                 const char *origin, GString *accepted, GPtrArray *names)
{
    g_autoptr(GString) text = g_string_new("");
    g_autoptr(GPtrArray) shares = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(PorchConfig) c = NULL;
    g_autofree char *all = NULL;

    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; sections[i] != NULL; i++) {
            gboolean peer = g_str_has_prefix(sections[i], "peer ");
            g_autofree char *why = NULL;
            g_autofree char *one = NULL;

            if (peer != (pass == 0))
                continue;
            if (!peer && (user_resource_name(sections[i]) == NULL || shares->len >= max))
                return FALSE;
            if ((one = user_section_text(kf, sections[i], &why)) == NULL)
                return FALSE;
            g_string_append(text, one);
            if (!peer)
                g_ptr_array_add(shares, g_strdup(user_resource_name(sections[i])));
        }
    }
    all = g_strconcat(base_text, text->str, NULL);
    c = porch_config_load_data(all, -1, origin, NULL);
    if (c == NULL)
        return FALSE;
    g_string_append(accepted, text->str);
    for (guint i = 0; i < shares->len; i++)
        g_ptr_array_add(names, g_strdup(shares->pdata[i]));
    return TRUE;
}

PorchConfig *
porch_config_load_merged(const char *data, gssize len, const char *origin, const char *user_data,
                         const char *user_origin, char **ret_accepted, GStrv *ret_problems,
                         GError **error)
{
    g_autoptr(PorchConfig) base = NULL;
    g_autoptr(PorchConfig) merged = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autoptr(GStrvBuilder) problems = g_strv_builder_new();
    g_autoptr(GString) accepted = g_string_new("");
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) sections = NULL;
    g_autofree char *base_text = NULL;
    guint64 max;

    g_return_val_if_fail(data != NULL && origin != NULL, NULL);
    if (len < 0)
        len = strlen(data);
    base = porch_config_load_data(data, len, origin, error);
    if (base == NULL)
        return NULL;
    if (user_origin == NULL)
        user_origin = "user shares";
    if (user_data == NULL || user_data[0] == '\0')
        goto done;
    if (!base->user_shares) {
        g_strv_builder_add(problems, "user shares are turned off ([porch] user-shares = no): "
                                     "none is served");
        goto done;
    }
    if (!g_key_file_load_from_data(kf, user_data, -1, G_KEY_FILE_NONE, &local)) {
        g_autofree char *p =
                g_strdup_printf("%s: %s: no user share is served", user_origin, local->message);
        {
            /* the text came from a file: shown safely in logs and answers */
            g_autofree char *shown = porch_text_escape(p, -1, 1024);
            g_strv_builder_add(problems, shown);
        }
        goto done;
    }
    max = porch_config_get_limit(base, PORCH_LIMIT_MAX_USER_SHARES);
    /* the base ends with a line break, so that the sections below start lines */
    base_text =
            g_strdup_printf("%.*s%s", (int)len, data, len > 0 && data[len - 1] != '\n' ? "\n" : "");
    sections = g_key_file_get_groups(kf, NULL);
    /* peers first, for the shares that name them; one at a time only when some are refused */
    for (int pass = load_all_at_once(kf, sections, max, base_text, origin, accepted, names) ? 2 : 0;
         pass < 2; pass++) {
        for (guint i = 0; sections[i] != NULL; i++) {
            g_autofree char *why = NULL;
            g_autofree char *text = NULL;
            g_autofree char *candidate = NULL;
            g_autoptr(PorchConfig) c = NULL;
            g_autoptr(GError) e = NULL;
            gboolean peer = g_str_has_prefix(sections[i], "peer ");

            if (peer != (pass == 0))
                continue;
            if (!peer && user_resource_name(sections[i]) == NULL) {
                why = g_strdup_printf("[%s]: only shares, inboxes and peers are kept with user "
                                      "shares",
                                      sections[i]);
            } else if (!peer && names->len >= max) {
                why = g_strdup_printf("[%s]: more than max-user-shares (%" G_GUINT64_FORMAT ")",
                                      sections[i], max);
            } else if ((text = user_section_text(kf, sections[i], &why)) != NULL) {
                candidate = g_strconcat(base_text, accepted->str, text, NULL);
                c = porch_config_load_data(candidate, -1, origin, &e);
                if (c == NULL)
                    why = g_strdup(without_place(e->message, origin));
            }
            if (why != NULL) {
                g_autofree char *p = g_strdup_printf("%s: %s: %s", user_origin, why,
                                                     peer ? "the peer is not accepted"
                                                     : g_str_has_prefix(sections[i], "inbox ")
                                                             ? "the inbox is not served"
                                                             : "the share is not served");
                {
                    /* the text came from a file: shown safely in logs and answers */
                    g_autofree char *shown = porch_text_escape(p, -1, 1024);
                    g_strv_builder_add(problems, shown);
                }
                continue;
            }
            g_string_append(accepted, text);
            if (!peer)
                g_ptr_array_add(names, g_strdup(user_resource_name(sections[i])));
        }
    }
    if (accepted->len > 0) {
        g_autofree char *all = g_strconcat(base_text, accepted->str, NULL);

        merged = porch_config_load_data(all, -1, origin, error);
        if (merged == NULL)
            return NULL; /* not expected: each section was loaded with those before it */
        for (guint i = 0; i < names->len; i++) {
            PorchShare *s = g_hash_table_lookup(merged->share_by_name, names->pdata[i]);
            if (s != NULL)
                s->user = TRUE;
        }
        g_clear_pointer(&base, porch_config_unref);
        base = g_steal_pointer(&merged);
    }
done:
    if (ret_accepted != NULL)
        *ret_accepted = g_strdup(accepted->str);
    if (ret_problems != NULL)
        *ret_problems = g_strv_builder_end(problems);
    return g_steal_pointer(&base);
}
