/* peers.c — `porch id [--identity FILE]` and `porch peers [list | accept NAME]`.
 *
 * `porch id` prints this user's public key line, its comment the user name made into a valid
 * [peer] name, and on a second line its fingerprint: what a neighbour pastes into a [peer]
 * section of its porch.conf. The key is created on first use (shared/porch-identity.h).
 *
 * `porch peers` works on the local porchd, through the files it reads and writes, with the
 * same defaults: /etc/porch/porch.conf and /var/lib/porch as root, else
 * $XDG_CONFIG_HOME/porch/porch.conf and $XDG_STATE_HOME/porch (--config and --state-dir
 * override them, as they do for porchd).
 *   list     the unknown keys that asked for access (shared/porch-pending.h);
 *            --json: an array, one object per line, with exactly these keys in this order:
 *            "name" (string, or null), "fingerprint", "key", "address" (strings),
 *            "first_seen", "last_seen" (Unix time), "attempts" (number).
 *   accept   appends [peer NAME] with the request's key to porch.conf, keeping the rest of
 *            the file as it is, after checking that the result loads; forgets the request;
 *            and makes the running porchd reload, waiting for it to have taken the new file
 *            (the reload handshake of shared/porch-state.h). It says which key (its
 *            fingerprint) and address it accepts. A name is only a suggestion the client
 *            made: when two requests give it, or a [peer] has it already, the request must
 *            be named by its fingerprint.
 * Requests older than porch.conf's pending-expiry (since their last attempt) are not
 * shown: porchd forgets them.
 * Names, addresses and keys in a request came from the network: they are printed through
 * porch_cli_put_text(), and the key line written to porch.conf is rebuilt from the key.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-conf-edit.h"
#include "porch-config.h"
#include "porch-control.h"
#include "porch-identity.h"
#include "porch-pending.h"
#include "porch-state.h"
#include "porch-text.h"

/* How long `peers accept` waits for porchd to have reloaded. */
#define RELOAD_WAIT_MS 5000

/* ------------------------------------------------------------------------------------------
 * Requests for access */

/* Text from a request file (the network's, by way of porchd) for a terminal. */
static void
put_net(FILE *f, const char *s)
{
    if (s == NULL || !g_utf8_validate(s, -1, NULL))
        fputs("?", f);
    else
        porch_cli_put_text(f, s);
}

/* ------------------------------------------------------------------------------------------
 * porch id */

int
porch_cli_id(int argc, char **argv)
{
    g_autofree char *identity = NULL;
    GOptionEntry entries[] = {
            {"identity", 'i', 0, G_OPTION_ARG_FILENAME, &identity,
             "The key in FILE (made when missing), not the default", "FILE"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    g_autofree char *line = NULL;
    g_autofree char *fingerprint = NULL;
    enum ssh_keytypes_e type;
    gboolean existed;
    ssh_key key;

    porch_cli_set_summary(ctx, "Print this user's public key line and its fingerprint: "
                               "what a neighbour puts in a [peer] section of its "
                               "porch.conf. The key is created on first use.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "porch id: %s (see porch id --help)\n", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, "porch id: unexpected argument '%s' (see porch id --help)\n", argv[1]);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (identity == NULL)
        identity = porch_identity_default_file();

    existed = g_file_test(identity, G_FILE_TEST_EXISTS);
    key = porch_identity_load_or_create(identity, &error);
    if (key == NULL) {
        fprintf(stderr, "porch id: %s\n", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    name = porch_config_peer_name_from(g_get_user_name(), PORCH_PEER_NAME_OWN);
    line = porch_key_public_line(key, name);
    fingerprint = porch_key_fingerprint(key);
    type = ssh_key_type(key);
    ssh_key_free(key);
    if (line == NULL || fingerprint == NULL) {
        fprintf(stderr, "porch id: %s: cannot export the public key\n", identity);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (!existed)
        fprintf(stderr, "porch id: created a new key in %s\n", identity);
    if (type != SSH_KEYTYPE_ED25519)
        fprintf(stderr,
                "porch id: note: %s holds an %s key; a neighbour's [peer] section needs an "
                "ssh-ed25519 key\n",
                identity, ssh_key_type_to_char(type));

    printf("%s\n%s\n", line, fingerprint);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "porch id: cannot write to standard output: %s\n", g_strerror(errno));
        return PORCH_CLI_EXIT_FAILED;
    }
    if (isatty(STDOUT_FILENO)) {
        /* A neighbour records the request under the user name as it is. */
        g_autofree char *accept = strcmp(name, g_get_user_name()) == 0
                                          ? g_strdup(name)
                                          : g_strdup_printf("%s --as %s", fingerprint, name);
        fprintf(stderr,
                "\nTo let you in, a neighbour adds this to its porch.conf (porch.conf(5)),\n"
                "then names %s in the read or write list of a share:\n\n"
                "[peer %s]\nkey = %s\n\n"
                "Or try to connect to it (porch ls HOST) and ask its owner to run: "
                "porch peers accept %s\n",
                name, name, line, accept);
    }
    return PORCH_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------
 * porch peers list */

/* pending-expiry of @config_file, else its default: requests older than that are not
 * shown, porchd forgets them. */
static gint64
pending_expiry(const char *config_file)
{
    g_autoptr(PorchConfig) config = porch_config_load_file(config_file, NULL);

    if (config == NULL)
        config = porch_config_load_data("[porch]\n", -1, "defaults", NULL);
    return config != NULL ? (gint64)porch_config_get_limit(config, PORCH_LIMIT_PENDING_EXPIRY) : 0;
}

/* "2026-11-24 10:05", local time; "?" for 0. Free with g_free(). */
static char *
format_time(gint64 t)
{
    g_autoptr(GDateTime) dt = t > 0 ? g_date_time_new_from_unix_local(t) : NULL;
    return dt != NULL ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("?");
}

/* The options that name the files, as given, for the commands this one suggests. */
static char *
paths_options(const char *config_file, const char *state_dir)
{
    g_autofree char *c = config_file ? g_shell_quote(config_file) : NULL;
    g_autofree char *s = state_dir ? g_shell_quote(state_dir) : NULL;

    return g_strconcat(c ? " --config " : "", c ? c : "", s ? " --state-dir " : "", s ? s : "",
                       NULL);
}

/* @list as one JSON array, an object per line (porch_pending_peer_add_json()). */
static void
put_requests_json(GPtrArray *list)
{
    fputs("[", stdout);
    for (guint i = 0; i < list->len; i++) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *one = NULL;

        porch_pending_peer_add_json(b, list->pdata[i]);
        root = json_builder_get_root(b);
        one = json_to_string(root, FALSE);
        printf("%s%s", i > 0 ? ",\n" : "\n", one);
    }
    fputs(list->len > 0 ? "\n]\n" : "]\n", stdout);
}

static void
print_request(const PorchPendingPeer *p)
{
    g_autofree char *first = format_time(p->first_seen);
    g_autofree char *last = format_time(p->last_seen);

    if (p->name == NULL || p->name[0] == '\0')
        fputs("(no name)", stdout);
    else
        put_net(stdout, p->name);
    if (!porch_config_peer_name_valid(p->name))
        fputs("  (not a valid peer name: accept it with --as PEERNAME)", stdout);
    fputs("\n    key          ", stdout);
    put_net(stdout, p->fingerprint);
    fputs("\n    from         ", stdout);
    put_net(stdout, p->address != NULL && p->address[0] != '\0' ? p->address : "?");
    printf("\n    first seen   %s\n    last seen    %s\n    attempts     %u\n", first, last,
           p->attempts);
}

/* FALSE, having said why, when the folder of requests exists but cannot be read. */
static gboolean
check_pending_readable(const char *state_dir)
{
    g_autofree char *dir = porch_state_file(state_dir, PORCH_STATE_PENDING);

    int e;

    if (faccessat(AT_FDCWD, dir, R_OK | X_OK, AT_EACCESS) == 0 || errno == ENOENT)
        return TRUE;
    e = errno;
    fprintf(stderr, "porch peers: cannot read %s: %s%s\n", dir, g_strerror(e),
            e == EACCES && geteuid() != 0 ? " — run as root / with sudo" : "");
    return FALSE;
}

/* Oldest first; requests first seen in the same second in a stable order. */
static gint
by_first_seen(gconstpointer a, gconstpointer b)
{
    const PorchPendingPeer *x = *(PorchPendingPeer *const *)a;
    const PorchPendingPeer *y = *(PorchPendingPeer *const *)b;

    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? -1 : 1;
    return strcmp(x->fingerprint, y->fingerprint);
}

static int
peers_list(const char *config_file, const char *state_dir, gboolean json, const char *options)
{
    g_autoptr(GPtrArray) list = NULL;

    if (!check_pending_readable(state_dir))
        return PORCH_CLI_EXIT_FAILED;
    list = porch_pending_list(state_dir, pending_expiry(config_file));
    g_ptr_array_sort(list, by_first_seen);
    if (json) {
        put_requests_json(list);
    } else if (list->len == 0) {
        printf("Nobody has asked porchd for access (no requests in %s/" PORCH_STATE_PENDING ").\n",
               state_dir);
        if (options[0] == '\0' && geteuid() != 0)
            printf("These are your own porchd's; for the system service's, run: "
                   "sudo porch peers\n");
    } else {
        for (guint i = 0; i < list->len; i++) {
            if (i > 0)
                fputc('\n', stdout);
            print_request(list->pdata[i]);
        }
        printf("\nAccept one with: porch peers accept NAME|FINGERPRINT [--as PEERNAME]%s\n",
               options);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "porch peers: cannot write to standard output: %s\n", g_strerror(errno));
        return PORCH_CLI_EXIT_FAILED;
    }
    return PORCH_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------
 * porch peers accept */

/* The request that @which names, by name or fingerprint ("SHA256:..." or without the
 * prefix); NULL, having said why (and which ones would do), when none or several do. A
 * fingerprint wins over a name. */
static const PorchPendingPeer *
find_request(GPtrArray *list, const char *which, const char *state_dir, const char *options)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    GPtrArray *shown = list;
    gint at = porch_pending_find(list, which, NULL);

    if (at >= 0)
        return list->pdata[at];
    for (guint i = 0; i < list->len; i++) {
        const PorchPendingPeer *p = list->pdata[i];

        if (g_strcmp0(p->name, which) == 0)
            g_ptr_array_add(found, (gpointer)p);
    }

    fputs("porch peers: ", stderr);
    if (found->len == 0) {
        fputs("nobody called '", stderr);
        porch_cli_put_text(stderr, which);
        fprintf(stderr, "' asked porchd for access (requests in %s/" PORCH_STATE_PENDING ")",
                state_dir);
        if (list->len == 0) {
            fputs(": there are none\n", stderr);
            return NULL;
        }
        fputs("; these did:\n", stderr);
    } else {
        fprintf(stderr, "%u requests go by '", found->len);
        porch_cli_put_text(stderr, which);
        fprintf(stderr, "'; accept one by its fingerprint (porch peers accept SHA256:...%s):\n",
                options);
        shown = found;
    }
    for (guint i = 0; i < shown->len; i++) {
        const PorchPendingPeer *p = shown->pdata[i];
        g_autofree char *last = format_time(p->last_seen);

        fputs("  ", stderr);
        put_net(stderr, p->name);
        fputs("  ", stderr);
        put_net(stderr, p->fingerprint);
        fputs("  from ", stderr);
        put_net(stderr, p->address);
        fprintf(stderr, ", last seen %s\n", last);
    }
    return NULL;
}

/* The request's key line, rebuilt from the key with @comment (the request's own comment
 * came from the network), after checking that the key is the one its fingerprint says.
 * NULL with @error set otherwise. */
static char *
request_key_line(const PorchPendingPeer *p, const char *comment, GError **error)
{
    g_auto(GStrv) f = g_strsplit_set(p->key, " \t", 3);
    enum ssh_keytypes_e type = SSH_KEYTYPE_UNKNOWN;
    g_autofree char *fingerprint = NULL;
    ssh_key key = NULL;
    char *line = NULL;

    if (g_strv_length(f) >= 2)
        type = ssh_key_type_from_name(f[0]);
    if (type == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(f[1], type, &key) != SSH_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the request holds no valid key");
        goto out;
    }
    fingerprint = porch_key_fingerprint(key);
    if (g_strcmp0(fingerprint, p->fingerprint) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "the request's key is not the one its fingerprint names");
        goto out;
    }
    line = porch_key_public_line(key, comment);
    if (line == NULL)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "cannot export the key");
out:
    ssh_key_free(key);
    return line;
}

/* Replaces @file (a resolved path; @name in messages) with @text (porch-conf-edit.h: atomic,
 * with the same mode and owner). FALSE, having said why, when it cannot. */
static gboolean
replace_file(const char *file, const char *name, const char *text, gsize len)
{
    g_autofree char *dir = g_path_get_dirname(file);
    g_autoptr(GError) error = NULL;

    /* The new file is made beside the old one: say first when that is not allowed. */
    if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) != 0 ||
        faccessat(AT_FDCWD, file, W_OK, AT_EACCESS) != 0) {
        int e = errno;
        fprintf(stderr, "porch peers: cannot write %s: %s%s\n", name, g_strerror(e),
                (e == EACCES || e == EPERM) && geteuid() != 0 ? " — run as root / with sudo" : "");
        return FALSE;
    }
    if (!porch_conf_write_atomic(file, text, (gssize)len, &error)) {
        fprintf(stderr, "porch peers: %s\n", error->message);
        return FALSE;
    }
    return TRUE;
}

/* Makes the porchd of @state_dir reload. Returns the exit status, having said what
 * happened; @ret_running tells whether a porchd runs. */
static int
reload_porchd(const char *config_file, const char *state_dir, const char *text, gsize text_len,
              const char *reload_hint, gboolean *ret_running)
{
    g_autofree char *why = NULL;
    g_autofree char *running = porch_state_file(state_dir, PORCH_STATE_RUNNING_CONFIG);
    pid_t pid = porch_state_find_porchd(state_dir, &why);

    *ret_running = pid != 0;
    if (pid == 0) {
        printf("porchd is not running (%s): the new peer is known when it starts.\n", why);
        return PORCH_CLI_EXIT_OK;
    }
    if (kill(pid, SIGHUP) != 0) {
        fprintf(stderr,
                "porch peers: cannot make porchd (pid %ld) reload: %s; reload it with: %s\n",
                (long)pid, g_strerror(errno), reload_hint);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (g_access(running, R_OK) != 0) {
        printf("Asked porchd (pid %ld) to reload.\n", (long)pid);
        return PORCH_CLI_EXIT_OK;
    }
    if (!porch_state_wait_running(state_dir, text, text_len, RELOAD_WAIT_MS)) {
        fprintf(stderr,
                "porch peers: porchd (pid %ld) has not taken the new configuration within %d "
                "s (does it read %s?); see its log (journalctl -u porchd)\n",
                (long)pid, RELOAD_WAIT_MS / 1000, config_file);
        return PORCH_CLI_EXIT_FAILED;
    }
    printf("porchd (pid %ld) reloaded its configuration.\n", (long)pid);
    return PORCH_CLI_EXIT_OK;
}

/* What the owner does next: give the new peer rights, then reload (@reload_hint) or start
 * porchd (NULL). */
static void
print_next_step(const PorchConfig *config, const char *file, const char *peer,
                const char *reload_hint)
{
    guint n_shares = porch_config_get_n_shares(config);
    guint n_printers = porch_config_get_n_printers(config);

    printf("%s has no rights yet. Next: in %s, name %s in the read or write list of a share", peer,
           file, peer);
    for (guint i = 0; i < n_shares; i++)
        printf("%s%s", i == 0 ? " (" : ", ", porch_config_get_share(config, i)->name);
    printf("%s%s, for instance\n    read = %s\n", n_shares > 0 ? ")" : "",
           n_printers > 0 ? ", or in the print list of a printer" : "", peer);
    if (reload_hint != NULL)
        printf("then reload porchd: %s\n", reload_hint);
    else
        printf("then start porchd.\n");
}

static int
peers_accept(const char *config_file, const char *state_dir, const char *which, const char *as,
             char **grant_read, char **grant_write, const char *options, const char *reload_hint)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchConfig) before = NULL;
    g_autoptr(PorchConfig) after = NULL;
    g_autoptr(PorchConfEdit) edit = NULL;
    g_autofree char *text = NULL;
    g_autofree char *comment = NULL;
    g_autofree char *section = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *real = NULL;
    g_autofree char *old = NULL;
    g_autofree char *again = NULL;
    g_autofree char *line = NULL;
    g_autofree char *date = NULL;
    g_autofree char *address = NULL;
    const PorchPendingPeer *p;
    const PorchPeer *other;
    const char *peer;
    gsize old_len = 0, again_len = 0, text_len = 0;
    gboolean running = FALSE;
    struct stat st;
    int status;

    if (as != NULL && !porch_config_peer_name_valid(as)) {
        fprintf(stderr,
                "porch peers: '%s' is not a valid peer name (letters, digits, '.', '_', '-', "
                "starting with a letter or digit, at most %d; not 'guest')\n",
                as, PORCH_PEER_NAME_MAX);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (!check_pending_readable(state_dir))
        return PORCH_CLI_EXIT_FAILED;
    list = porch_pending_list(state_dir, pending_expiry(config_file));
    p = find_request(list, which, state_dir, options);
    if (p == NULL)
        return PORCH_CLI_EXIT_FAILED;
    peer = as != NULL ? as : p->name;
    if (!porch_config_peer_name_valid(peer)) {
        fputs("porch peers: the request's name '", stderr);
        put_net(stderr, p->name);
        fputs("' is not a valid peer name; choose one: porch peers accept ", stderr);
        put_net(stderr, p->fingerprint);
        fprintf(stderr, " --as PEERNAME%s\n", options);
        return PORCH_CLI_EXIT_FAILED;
    }
    line = request_key_line(p, peer, &error);
    if (line == NULL) {
        fprintf(stderr, "porch peers: %s/" PORCH_STATE_PENDING ": ", state_dir);
        put_net(stderr, p->fingerprint);
        fprintf(stderr, ": %s\n", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }

    /* The file as it is now: it must load, and know neither the name nor the key. */
    real = realpath(config_file, NULL);
    if (real == NULL || g_stat(real, &st) != 0) {
        int e = errno;
        fprintf(stderr, "porch peers: %s: %s (the configuration porchd reads; see --config)\n",
                config_file, g_strerror(e));
        return PORCH_CLI_EXIT_FAILED;
    }
    if (!g_file_get_contents(real, &old, &old_len, &error)) {
        fprintf(stderr, "porch peers: %s\n", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    before = porch_config_load_data(old, (gssize)old_len, config_file, &error);
    if (before == NULL) {
        fprintf(stderr,
                "porch peers: %s is not valid as it is, so it is left alone: %s (check it with "
                "porchd --check-config)\n",
                config_file, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    /* A stranger may give a peer's name: then only the fingerprint says which key it is. */
    if (!porch_pending_names_key(p, which) && p->name != NULL &&
        porch_config_lookup_peer(before, p->name) != NULL &&
        porch_config_lookup_peer_by_fingerprint(before, p->fingerprint) == NULL) {
        fprintf(stderr,
                "porch peers: %s has a [peer %s] already, with another key; this request only "
                "gives the same name. Check the key with its owner, then accept it by its "
                "fingerprint under another name: porch peers accept ",
                config_file, p->name);
        put_net(stderr, p->fingerprint);
        fprintf(stderr, " --as PEERNAME%s\n", options);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (porch_config_lookup_peer(before, peer) != NULL) {
        fprintf(stderr,
                "porch peers: %s has a [peer %s] already; accept the request under another "
                "name: porch peers accept ",
                config_file, peer);
        put_net(stderr, p->fingerprint);
        fprintf(stderr, " --as PEERNAME%s\n", options);
        return PORCH_CLI_EXIT_FAILED;
    }
    other = porch_config_lookup_peer_by_fingerprint(before, p->fingerprint);
    if (other != NULL) {
        fputs("porch peers: the key ", stderr);
        put_net(stderr, p->fingerprint);
        fprintf(stderr,
                " is [peer %s]'s already in %s (if porchd still refuses it, reload it: %s)\n",
                other->name, config_file, reload_hint);
        return PORCH_CLI_EXIT_FAILED;
    }

    /* The same text, then the new section after one blank line (porch-conf-edit.h). */
    edit = porch_conf_edit_new(old);
    date = g_date_time_format(now, "%Y-%m-%d %H:%M");
    /* the address as one word of printable ASCII, for a comment line */
    address = porch_text_show(p->address != NULL ? p->address : "", -1, G_MAXSIZE, PORCH_TEXT_WORD);
    comment = g_strdup_printf("Added by porch peers accept on %s%s%s%s.", date,
                              address[0] != '\0' ? " (it asked from " : "", address,
                              address[0] != '\0' ? ")" : "");
    section = g_strconcat("peer ", peer, NULL);
    if (!porch_conf_edit_add_section(edit, section, comment, &error) ||
        !porch_conf_edit_set(edit, section, "key", line, &error)) {
        fprintf(stderr, "porch peers: %s left as it is: %s\n", config_file, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    /* the grants: the peer goes into the read or write rule of each share named */
    for (int w = 0; w < 2; w++) {
        char **grants = w ? grant_write : grant_read;

        for (guint i = 0; grants != NULL && grants[i] != NULL; i++) {
            const PorchShare *share = porch_config_find_share(before, grants[i]);
            g_autofree char *share_section = NULL;

            if (share == NULL) {
                fprintf(stderr, "porch peers: %s has no [share ", config_file);
                porch_cli_put_text(stderr, grants[i]);
                fputs("]; nothing written\n", stderr);
                return PORCH_CLI_EXIT_FAILED;
            }
            share_section = g_strconcat("share ", share->name, NULL);
            if (!porch_conf_edit_list_add(edit, share_section, w ? "write" : "read", peer,
                                          &error)) {
                fprintf(stderr, "porch peers: %s left as it is: %s\n", config_file, error->message);
                return PORCH_CLI_EXIT_FAILED;
            }
        }
    }
    text = porch_conf_edit_to_text(edit, &text_len);

    after = porch_config_load_data(text, (gssize)text_len, config_file, &error);
    if (after == NULL) {
        fprintf(stderr, "porch peers: %s left as it is: with [peer %s] it would not load: %s\n",
                config_file, peer, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (!g_file_get_contents(real, &again, &again_len, NULL) || again_len != old_len ||
        memcmp(again, old, old_len) != 0) {
        fprintf(stderr, "porch peers: %s changed meanwhile; nothing written, try again\n",
                config_file);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (!replace_file(real, config_file, text, text_len))
        return PORCH_CLI_EXIT_FAILED;

    printf("Added [peer %s] to %s (key ", peer, config_file);
    put_net(stdout, p->fingerprint);
    fputs(", it asked from ", stdout);
    put_net(stdout, p->address != NULL && p->address[0] != '\0' ? p->address : "?");
    fputs(").\n", stdout);
    if (!porch_pending_remove(state_dir, p->fingerprint))
        fprintf(stderr,
                "porch peers: warning: cannot remove the request from %s/" PORCH_STATE_PENDING
                ": %s\n",
                state_dir, g_strerror(errno));
    status = reload_porchd(config_file, state_dir, text, text_len, reload_hint, &running);
    if ((grant_read == NULL || grant_read[0] == NULL) &&
        (grant_write == NULL || grant_write[0] == NULL))
        print_next_step(after, config_file, peer, running ? reload_hint : NULL);
    else
        for (int w = 0; w < 2; w++)
            for (guint i = 0; (w ? grant_write : grant_read) != NULL &&
                              (w ? grant_write : grant_read)[i] != NULL;
                 i++)
                printf("%s may %s %s.\n", peer, w ? "write in" : "read",
                       porch_config_find_share(after, (w ? grant_write : grant_read)[i])->name);
    return fflush(stdout) == 0 ? status : PORCH_CLI_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------
 * Through the running porchd's control socket (porch-control.h) */

/* @o's string member, NULL when it is not one. */
static const char *
json_string(JsonObject *o, const char *member)
{
    JsonNode *n = json_object_get_member(o, member);

    return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                   ? json_node_get_string(n)
                   : NULL;
}

static int
peers_list_daemon(int fd, gboolean json, gboolean system)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = porch_ctl_call_op(fd, "peers", &error);
    g_autoptr(GPtrArray) list =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_pending_peer_free);
    JsonNode *n;
    JsonArray *a;

    if (answer == NULL) {
        fprintf(stderr, "porch peers: %s\n", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    n = json_object_get_member(answer, "peers");
    a = n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
    for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        PorchPendingPeer *p = g_new0(PorchPendingPeer, 1);

        p->name = g_strdup(json_string(o, "name"));
        p->key = g_strdup(json_string(o, "key"));
        p->fingerprint = g_strdup(json_string(o, "fingerprint"));
        p->address = g_strdup(json_string(o, "address"));
        p->first_seen = json_object_get_int_member_with_default(o, "first_seen", 0);
        p->last_seen = json_object_get_int_member_with_default(o, "last_seen", 0);
        p->attempts = (guint)json_object_get_int_member_with_default(o, "attempts", 0);
        if (p->fingerprint == NULL)
            p->fingerprint = g_strdup("?");
        g_ptr_array_add(list, p);
    }
    if (json) {
        put_requests_json(list);
    } else if (list->len == 0) {
        printf("Nobody has asked %s porchd for access.\n",
               system ? "the system service's" : "your");
    } else {
        for (guint i = 0; i < list->len; i++) {
            if (i > 0)
                fputc('\n', stdout);
            print_request(list->pdata[i]);
        }
        printf("\nAccept one with: porch peers accept NAME|FINGERPRINT [--as PEERNAME] "
               "--read SHARE...\n");
    }
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}

/* An ordinary user's accept, into their own user shares. */
static int
peers_accept_daemon(int fd, const char *which, const char *as, char **read, char **write)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = porch_ctl_peers_accept(fd, which, as, (const char *const *)read,
                                                          (const char *const *)write, &error);

    if (answer == NULL) {
        fputs("porch peers: porchd refused: ", stderr);
        porch_cli_put_text(stderr, error->message);
        fputc('\n', stderr);
        return PORCH_CLI_EXIT_FAILED;
    }
    fputs("Accepted ", stdout);
    put_net(stdout, json_string(answer, "name"));
    fputs(" (key ", stdout);
    put_net(stdout, json_string(answer, "fingerprint"));
    fputs(", it asked from ", stdout);
    put_net(stdout, json_string(answer, "address"));
    fputs(") into your shares:", stdout);
    for (int w = 0; w < 2; w++)
        for (guint i = 0; (w ? write : read) != NULL && (w ? write : read)[i] != NULL; i++) {
            fprintf(stdout, " %s ", w ? "write" : "read");
            porch_cli_put_text(stdout, (w ? write : read)[i]);
        }
    fputs(".\n", stdout);
    return PORCH_CLI_EXIT_OK;
}

/* peers deny (@deny) or forget @value through porchd. */
static int
peers_simple_daemon(int fd, gboolean deny, const char *value)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = deny ? porch_ctl_peers_deny(fd, value, &error)
                                        : porch_ctl_peers_forget(fd, value, &error);

    if (answer == NULL) {
        fputs("porch peers: porchd refused: ", stderr);
        porch_cli_put_text(stderr, error->message);
        fputc('\n', stderr);
        return PORCH_CLI_EXIT_FAILED;
    }
    printf("%s ", deny ? "Turned away" : "Forgot");
    porch_cli_put_text(stdout, value);
    fputs(".\n", stdout);
    return PORCH_CLI_EXIT_OK;
}

/* Root's forget: [peer @name] out of porch.conf, and out of every rule and group. */
static int
peers_forget_file(const char *config_file, const char *state_dir, const char *name,
                  const char *reload_hint)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchConfig) before = NULL;
    g_autoptr(PorchConfig) after = NULL;
    g_autoptr(PorchConfEdit) edit = NULL;
    g_autofree char *real = realpath(config_file, NULL);
    g_autofree char *old = NULL;
    g_autofree char *text = NULL;
    g_autofree char *section = g_strconcat("peer ", name, NULL);
    gsize old_len = 0, text_len = 0;
    gboolean running = FALSE;

    if (real == NULL || !g_file_get_contents(real, &old, &old_len, &error) ||
        (before = porch_config_load_data(old, (gssize)old_len, config_file, &error)) == NULL) {
        fprintf(stderr, "porch peers: %s: %s\n", config_file,
                error != NULL ? error->message : g_strerror(errno));
        return PORCH_CLI_EXIT_FAILED;
    }
    edit = porch_conf_edit_new(old);
    for (guint i = 0; i < porch_config_get_n_shares(before); i++) {
        g_autofree char *s = g_strconcat("share ", porch_config_get_share(before, i)->name, NULL);
        porch_conf_edit_list_remove(edit, s, "read", name);
        porch_conf_edit_list_remove(edit, s, "write", name);
    }
    for (guint i = 0; i < porch_config_get_n_printers(before); i++) {
        g_autofree char *s =
                g_strconcat("printer ", porch_config_get_printer(before, i)->name, NULL);
        porch_conf_edit_list_remove(edit, s, "print", name);
    }
    for (guint i = 0; i < porch_config_get_n_groups(before); i++) {
        g_autofree char *s = g_strconcat("group ", porch_config_get_group(before, i)->name, NULL);
        porch_conf_edit_list_remove(edit, s, "members", name);
    }
    if (!porch_conf_edit_remove_section(edit, section)) {
        fprintf(stderr, "porch peers: %s has no [peer %s]\n", config_file, name);
        return PORCH_CLI_EXIT_FAILED;
    }
    text = porch_conf_edit_to_text(edit, &text_len);
    after = porch_config_load_data(text, (gssize)text_len, config_file, &error);
    if (after == NULL) {
        fprintf(stderr, "porch peers: %s left as it is: without [peer %s] it would not load: %s\n",
                config_file, name, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (!replace_file(real, config_file, text, text_len))
        return PORCH_CLI_EXIT_FAILED;
    printf("Removed [peer %s] and every rule that named it from %s.\n", name, config_file);
    return reload_porchd(config_file, state_dir, text, text_len, reload_hint, &running);
}

/* ------------------------------------------------------------------------------------------ */

int
porch_cli_peers(int argc, char **argv)
{
    g_autofree char *config_file = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *as = NULL;
    g_autofree char *options = NULL;
    g_autofree char *reload_hint = NULL;
    g_auto(GStrv) read = NULL;
    g_auto(GStrv) write = NULL;
    gboolean json = FALSE, system = geteuid() == 0, daemon_system = FALSE;
    int daemon = -1, status;
    GOptionEntry entries[] = {
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
             "porchd's porch.conf (default: as porchd picks it)", "FILE"},
            {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
             "porchd's state directory (default: as porchd picks it)", "DIR"},
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "list: print JSON", NULL},
            {"as", 0, 0, G_OPTION_ARG_STRING, &as, "accept: call the new peer PEERNAME",
             "PEERNAME"},
            {"read", 0, 0, G_OPTION_ARG_STRING_ARRAY, &read, "accept: it may read SHARE", "SHARE"},
            {"write", 0, 0, G_OPTION_ARG_STRING_ARRAY, &write, "accept: it may write in SHARE",
             "SHARE"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx =
            g_option_context_new("[list | accept NAME | deny NAME | forget NAME]");
    g_autoptr(GError) error = NULL;
    const char *command;

    porch_cli_set_summary(ctx,
                          "The unknown keys that asked the local porchd for access: list them (the "
                          "default); accept one by its name or fingerprint, with the shares it "
                          "may read or write (as root into porch.conf; as another user into your "
                          "own user shares); deny one; or forget a peer accepted before.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "porch peers: %s (see porch peers --help)\n", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    command = argc > 1 ? argv[1] : "list";
    options = paths_options(config_file, state_dir);
    if (config_file == NULL)
        config_file = porch_config_default_file(system);
    if (state_dir == NULL)
        state_dir = porch_state_default_dir(system);
    /* the running porchd, unless the options name the files to use */
    if (options[0] == '\0')
        daemon = porch_ctl_connect(&daemon_system, NULL);
    if (options[0] != '\0') {
        g_autofree char *pid_file = porch_state_file(state_dir, PORCH_STATE_PID_FILE);
        g_autofree char *quoted = g_shell_quote(pid_file);
        reload_hint = g_strdup_printf("kill -HUP $(cat %s)", quoted);
    } else
        reload_hint =
                g_strdup(system ? "systemctl reload porchd" : "systemctl --user reload porchd");
    if ((read != NULL || write != NULL) && strcmp(command, "accept") != 0) {
        fprintf(stderr,
                "porch peers: --read and --write go with accept (see porch peers --help)\n");
        status = PORCH_CLI_EXIT_USAGE;
        goto out;
    }
    if ((strcmp(command, "deny") == 0 || strcmp(command, "forget") == 0)) {
        if (argc != 3 || json || as != NULL) {
            fprintf(stderr, "porch peers: %s takes one NAME (see porch peers --help)\n", command);
            status = PORCH_CLI_EXIT_USAGE;
        } else if (strcmp(command, "deny") == 0) {
            if (daemon >= 0) {
                status = peers_simple_daemon(daemon, TRUE, argv[2]);
            } else {
                g_autoptr(GPtrArray) list =
                        porch_pending_list(state_dir, pending_expiry(config_file));
                const PorchPendingPeer *p = find_request(list, argv[2], state_dir, options);
                status = PORCH_CLI_EXIT_FAILED;
                if (p != NULL && porch_pending_deny(state_dir, p->fingerprint, &error)) {
                    printf("Turned away %s.\n", argv[2]);
                    status = PORCH_CLI_EXIT_OK;
                } else if (p != NULL) {
                    fprintf(stderr, "porch peers: %s\n", error->message);
                }
            }
        } else {
            g_autoptr(PorchConfig) config = porch_config_load_file(config_file, NULL);
            const PorchPeer *peer = config ? porch_config_lookup_peer(config, argv[2]) : NULL;

            /* porch.conf's peers are the administrator's; a user's own ones porchd keeps */
            if (peer != NULL && (daemon < 0 || geteuid() == 0 || !daemon_system))
                status = peers_forget_file(config_file, state_dir, argv[2], reload_hint);
            else if (daemon >= 0)
                status = peers_simple_daemon(daemon, FALSE, argv[2]);
            else {
                fprintf(stderr, "porch peers: %s has no [peer %s], and no porchd runs to ask\n",
                        config_file, argv[2]);
                status = PORCH_CLI_EXIT_FAILED;
            }
        }
        goto out;
    }
    if (strcmp(command, "list") == 0 && daemon >= 0 && argc <= 2 && as == NULL) {
        status = peers_list_daemon(daemon, json, daemon_system);
        goto out;
    }
    if (strcmp(command, "accept") == 0 && daemon >= 0 && daemon_system && geteuid() != 0 &&
        argc == 3 && !json) {
        status = peers_accept_daemon(daemon, argv[2], as, read, write);
        goto out;
    }
    if (daemon >= 0)
        close(daemon);
    daemon = -1;

    if (strcmp(command, "list") == 0) {
        if (argc > 2) {
            fprintf(stderr, "porch peers: unexpected argument '%s' (see porch peers --help)\n",
                    argv[2]);
            return PORCH_CLI_EXIT_USAGE;
        }
        if (as != NULL) {
            fprintf(stderr, "porch peers: --as goes with accept (see porch peers --help)\n");
            return PORCH_CLI_EXIT_USAGE;
        }
        return peers_list(config_file, state_dir, json, options);
    }
    if (strcmp(command, "accept") == 0) {
        if (argc != 3) {
            fprintf(stderr, "porch peers: accept takes one NAME or fingerprint (see porch peers "
                            "list)\n");
            return PORCH_CLI_EXIT_USAGE;
        }
        if (json) {
            fprintf(stderr, "porch peers: --json goes with list (see porch peers --help)\n");
            return PORCH_CLI_EXIT_USAGE;
        }
        return peers_accept(config_file, state_dir, argv[2], as, read, write, options, reload_hint);
    }
    fprintf(stderr,
            "porch peers: unknown command '%s' (list, accept, deny or forget; see porch peers "
            "--help)\n",
            command);
    return PORCH_CLI_EXIT_USAGE;
out:
    if (daemon >= 0)
        close(daemon);
    return status;
}
