/* target.c — which neighbour a HOST[/SHARE[/PATH]] argument names, where it is, and the
 * connection to it.
 *
 * HOST is a display name ("Alice's laptop"), a host name ("alice-laptop",
 * "alice-laptop.local"), an IPv4 address or a bracketed IPv6 address, with an optional
 * ":PORT", and may come as "USER@HOST" or as the URL sftp://[USER@]HOST[:PORT]/SHARE/PATH that
 * `porch browse` and file managers show (USER: the user name sent with the key). An IP literal is
 * connected to as it is, and its key pinned under "ADDR" (or "ADDR:PORT", "[ADDR]:PORT" off the
 * default port). Any other name is looked for among the Porch neighbours seen over mDNS
 * (shared/porch-browse.h) — by display name, exactly and then case-insensitively, then by host name
 * with or without ".local" — and connected to at the address and port it advertises, its key
 * expected to be the fingerprint it advertises and pinned under its display name; then among
 * the neighbours remembered by address (`porch neighbours add`, shared/porch-neighbours.h), by
 * display name or address, connected to at that address with the key pinned under it; a name
 * no neighbour has goes to the system's resolver.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "porch-auto.h"
#include "porch-browse.h"
#include "porch-cli.h"
#include "porch-config.h"
#include "porch-identity.h"
#include "porch-neighbour-client.h"
#include "porch-neighbours.h"
#include "porch-print-client.h"
#include "porch-text.h"

/* ------------------------------------------------------------------------------------------
 * Printing */

void
porch_cli_put_text(FILE *f, const char *s)
{
    g_autofree char *safe = porch_text_show(s, -1, G_MAXSIZE, PORCH_TEXT_TERMINAL);
    fputs(safe, f);
}

void
porch_cli_error(const char *what, const char *message)
{
    fputs("porch: ", stderr);
    porch_cli_put_text(stderr, what);
    fputs(": ", stderr);
    porch_cli_put_text(stderr, message);
    fputc('\n', stderr);
}

void
porch_cli_no_key_file(const char *command, const char *path)
{
    g_autofree char *quoted = g_shell_quote(path);
    /* the path as typed where it needs no quotes, so that the hint reads plainly */
    gboolean plain = *path != '\0' && strpbrk(path, " \t\n'\"\\$`!*?[]{}()<>|&;#~") == NULL;
    g_autofree char *line =
            g_strdup_printf("no such key file %s (porch id --identity %s creates one)", path,
                            plain ? path : quoted);

    fputs("porch", stderr);
    if (command != NULL)
        fprintf(stderr, " %s", command);
    fputs(": ", stderr);
    porch_cli_put_text(stderr, line);
    fputc('\n', stderr);
}

/* ------------------------------------------------------------------------------------------
 * Parsing */

/* A port: 1 to 5 digits, 1..65535. */
static gboolean
parse_port(const char *s, gsize len, guint16 *ret_port)
{
    guint v = 0;

    if (len == 0 || len > 5)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
        v = v * 10 + (guint)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return FALSE;
    *ret_port = (guint16)v;
    return TRUE;
}

static gboolean
all_digits(const char *s)
{
    if (*s == '\0')
        return FALSE;
    for (; *s != '\0'; s++)
        if (!g_ascii_isdigit(*s))
            return FALSE;
    return TRUE;
}

/* "/a//b/" -> "/a/b"; "" -> "/". */
static char *
normalize_path(const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; parts[i] != NULL; i++) {
        if (parts[i][0] == '\0')
            continue;
        g_string_append_c(s, '/');
        g_string_append(s, parts[i]);
    }
    if (s->len == 0)
        g_string_append_c(s, '/');
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* "bad port 'x' in 'ARG' (a number from 1 to 65535)" */
static void
bad_port(GError **error, const char *port, gsize len, const char *arg)
{
    g_autofree char *p = g_strndup(port, len);

    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "bad port '%s' in '%s' (a number from 1 to 65535)", p, arg);
}

/* The length of "USER@" at the start of @arg when USER is a user name (letters, digits, '.',
 * '_', '-', not starting with '-') and a HOST follows before any '/'; else 0. */
static gsize
user_prefix(const char *arg)
{
    const char *p = arg;

    if (*p == '-' || *p == '@')
        return 0;
    while (g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-')
        p++;
    if (*p != '@' || p[1] == '\0' || p[1] == '/')
        return 0;
    return (gsize)(p + 1 - arg);
}

/* The port text of an sftp:// URL @arg, for a message: what follows the authority's last ':'
 * (after a bracketed IPv6 address). */
static char *
url_port_text(const char *arg)
{
    const char *auth = strstr(arg, "://");
    const char *end, *at, *close, *colon;

    auth = auth != NULL ? auth + 3 : arg;
    end = auth + strcspn(auth, "/?#");
    at = g_strrstr_len(auth, end - auth, "@");
    if (at != NULL)
        auth = at + 1;
    close = g_strrstr_len(auth, end - auth, "]");
    if (close != NULL)
        auth = close + 1;
    colon = g_strrstr_len(auth, end - auth, ":");
    return colon != NULL ? g_strndup(colon + 1, (gsize)(end - colon - 1)) : g_strdup("");
}

/* sftp://[USER@]HOST[:PORT][/SHARE[/PATH]], parsed by GUri: the host and path decoded. */
static PorchCliTarget *
parse_url(const char *arg, GError **error)
{
    g_autoptr(PorchCliTarget) t = g_new0(PorchCliTarget, 1);
    g_autoptr(GError) uri_error = NULL;
    g_autoptr(GUri) uri =
            g_uri_parse(arg, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_HAS_PASSWORD, &uri_error);
    const char *host;
    int port;

    if (uri == NULL) {
        if (g_error_matches(uri_error, G_URI_ERROR, G_URI_ERROR_BAD_PORT)) {
            g_autofree char *p = url_port_text(arg);
            bad_port(error, p, strlen(p), arg);
        } else {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "'%s': %s", arg,
                        uri_error->message);
        }
        return NULL;
    }
    if (g_uri_get_password(uri) != NULL) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s': porch logs in with a key, never a password: leave out ':PASSWORD'", arg);
        return NULL;
    }
    if (g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s': a path with '?' or '#' is written %%3F or %%23 in a URL", arg);
        return NULL;
    }
    host = g_uri_get_host(uri);
    if (host == NULL || *host == '\0') {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s' names no HOST (sftp://HOST/SHARE/PATH)", arg);
        return NULL;
    }
    port = g_uri_get_port(uri);
    if (port == 0) {
        bad_port(error, "0", 1, arg);
        return NULL;
    }
    t->name = g_strdup(host);
    t->port = port > 0 ? (guint16)port : 0;
    if (g_uri_get_user(uri) != NULL && *g_uri_get_user(uri) != '\0')
        t->user = g_strdup(g_uri_get_user(uri));
    /* HOST as it would be typed without the URL, for messages */
    if (strchr(host, ':') != NULL)
        t->host = port > 0 ? g_strdup_printf("[%s]:%d", host, port) : g_strdup_printf("[%s]", host);
    else
        t->host = port > 0 ? g_strdup_printf("%s:%d", host, port) : g_strdup(host);
    t->path = normalize_path(g_uri_get_path(uri));
    return g_steal_pointer(&t);
}

PorchCliTarget *
porch_cli_target_parse(const char *arg, GError **error)
{
    g_autoptr(PorchCliTarget) t = NULL;
    const char *rest;
    const char *whole = arg; /* for messages */
    gsize user_len;

    g_return_val_if_fail(arg != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (g_ascii_strncasecmp(arg, "sftp://", 7) == 0)
        return parse_url(arg, error);
    t = g_new0(PorchCliTarget, 1);
    user_len = user_prefix(arg);
    if (user_len > 0) {
        t->user = g_strndup(arg, user_len - 1);
        arg += user_len;
    }

    if (arg[0] == '[') {
        /* [IPv6] or [IPv6]:PORT; the brackets hold no '/' */
        const char *close = strchr(arg, ']');
        const char *slash = strchr(arg, '/');
        const char *after;

        if (close == NULL || (slash != NULL && slash < close)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "'%s': an IPv6 address in brackets lacks its ']'", whole);
            return NULL;
        }
        t->name = g_strndup(arg + 1, (gsize)(close - arg - 1));
        after = close + 1;
        rest = strchr(after, '/');
        if (rest == NULL)
            rest = after + strlen(after);
        if (*after == ':') {
            if (!parse_port(after + 1, (gsize)(rest - after - 1), &t->port)) {
                bad_port(error, after + 1, (gsize)(rest - after - 1), whole);
                return NULL;
            }
        } else if (after != rest) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "'%s': ']' must be followed by ':PORT' or '/'", whole);
            return NULL;
        }
        if (strchr(t->name, ':') == NULL || !g_hostname_is_ip_address(t->name)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "'%s': only an IPv6 address goes in brackets", whole);
            return NULL;
        }
        t->host = g_strndup(arg, (gsize)(rest - arg));
    } else {
        const char *colon;

        rest = strchr(arg, '/');
        if (rest == NULL)
            rest = arg + strlen(arg);
        t->host = g_strndup(arg, (gsize)(rest - arg));
        colon = strrchr(t->host, ':');
        if (colon != NULL && strchr(t->host, ':') != colon && g_hostname_is_ip_address(t->host)) {
            /* an IPv6 address without brackets, hence without a port: "fd00::1" */
            t->name = g_strdup(t->host);
        } else if (colon != NULL && all_digits(colon + 1)) {
            if (!parse_port(colon + 1, strlen(colon + 1), &t->port)) {
                bad_port(error, colon + 1, strlen(colon + 1), whole);
                return NULL;
            }
            t->name = g_strndup(t->host, (gsize)(colon - t->host));
        } else {
            t->name = g_strdup(t->host);
        }
    }
    if (t->name[0] == '\0') {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s' names no HOST (HOST[/SHARE[/PATH]])", whole);
        return NULL;
    }
    t->path = normalize_path(rest);
    return g_steal_pointer(&t);
}

void
porch_cli_target_free(PorchCliTarget *t)
{
    if (t == NULL)
        return;
    g_free(t->host);
    g_free(t->user);
    g_free(t->name);
    g_free(t->path);
    g_strfreev(t->addresses);
    g_free(t->pin_name);
    g_free(t->fingerprint);
    g_strfreev(t->printers);
    g_free(t);
}

char *
porch_cli_target_share(const PorchCliTarget *t)
{
    const char *start = t->path + 1;
    const char *end = strchr(start, '/');

    if (*start == '\0')
        return NULL;
    return end != NULL ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
}

char *
porch_cli_target_format(const PorchCliTarget *t, const char *path)
{
    if (path == NULL || strcmp(path, "/") == 0 || path[0] == '\0')
        return g_strdup(t->host);
    return g_strconcat(t->host, path[0] == '/' ? "" : "/", path, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Resolving */

/* "ADDR" on the default port, else "ADDR:PORT" ("[ADDR]:PORT" for IPv6). */
static char *
pin_for_address(const char *address, guint16 port)
{
    if (port == PORCH_DEFAULT_PORT)
        return g_strdup(address);
    if (strchr(address, ':') != NULL)
        return g_strdup_printf("[%s]:%u", address, (unsigned)port);
    return g_strdup_printf("%s:%u", address, (unsigned)port);
}

/* How well @n answers to @name: 3 display name, 2 display name ignoring case, 1 host name
 * (with or without ".local"), 0 not at all. */
static int
match_rank(const PorchNeighbour *n, const char *name, const char *folded)
{
    const char *display = porch_neighbour_get_name(n);
    const char *host = porch_neighbour_get_host_name(n);
    size_t name_len = strlen(name), host_len = strlen(host);
    g_autofree char *display_folded = NULL;

    if (!porch_neighbour_is_porch(n))
        return 0;
    if (strcmp(display, name) == 0)
        return 3;
    display_folded = g_utf8_casefold(display, -1);
    if (strcmp(display_folded, folded) == 0)
        return 2;
    if (g_ascii_strcasecmp(host, name) == 0)
        return 1;
    if (host_len == name_len + strlen(".local") &&
        g_ascii_strcasecmp(host + name_len, ".local") == 0 &&
        g_ascii_strncasecmp(host, name, name_len) == 0)
        return 1;
    return 0;
}

typedef struct {
    const char *name; /* valid UTF-8 */
    char *folded;
    GMainLoop *loop;
    PorchNeighbour *best; /* owned */
    guint grace;          /* waiting for an IPv4 address of best */
} Search;

/* How long to wait for a neighbour's IPv4 address once one of its IPv6 addresses is
 * known. Avahi resolves each protocol separately, and the IPv6 answer that comes first is
 * often a link-local address that porchd does not listen on. */
#define SEARCH_IPV4_GRACE_MS 750

static gboolean
on_search_grace(gpointer data)
{
    Search *s = data;

    s->grace = 0;
    g_main_loop_quit(s->loop);
    return G_SOURCE_REMOVE;
}

/* The best match among the neighbours known now that has an address to connect to. Ends
 * the search once it has an IPv4 address, or a little later when it only has IPv6 ones. */
static void
search_update(Search *s, PorchBrowser *browser)
{
    g_autoptr(GPtrArray) all = porch_browser_get_neighbours(browser);
    int best_rank = 0;
    PorchNeighbour *best = NULL;

    for (guint i = 0; i < all->len; i++) {
        PorchNeighbour *n = g_ptr_array_index(all, i);
        int rank = match_rank(n, s->name, s->folded);

        if (rank <= best_rank)
            continue;
        if (porch_neighbour_get_ipv4_addresses(n)[0] == NULL &&
            porch_neighbour_get_ipv6_addresses(n)[0] == NULL)
            continue;
        best_rank = rank;
        best = n;
    }
    if (best == NULL)
        return;
    g_clear_pointer(&s->best, porch_neighbour_unref);
    s->best = porch_neighbour_ref(best);
    if (porch_neighbour_get_ipv4_addresses(best)[0] != NULL)
        g_main_loop_quit(s->loop);
    else if (s->grace == 0)
        s->grace = g_timeout_add(SEARCH_IPV4_GRACE_MS, on_search_grace, s);
}

static void
on_neighbour(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    search_update(data, browser);
}

static gboolean
on_search_timeout(gpointer data)
{
    g_main_loop_quit(((Search *)data)->loop);
    return G_SOURCE_CONTINUE;
}

/* "A, B, C": the display names of the Porch neighbours visible now; NULL when none is. */
static char *
visible_names(PorchBrowser *browser)
{
    g_autoptr(GPtrArray) all = porch_browser_get_neighbours(browser);
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < all->len; i++) {
        PorchNeighbour *n = g_ptr_array_index(all, i);
        if (!porch_neighbour_is_porch(n))
            continue;
        if (s->len > 0)
            g_string_append(s, ", ");
        g_string_append(s, porch_neighbour_get_name(n));
    }
    return s->len > 0 ? g_string_free(g_steal_pointer(&s), FALSE) : NULL;
}

typedef struct {
    GMainLoop *loop;
    GCancellable *cancellable;
    GList *addresses;
    GError *error;
} Lookup;

static void
on_resolved(GObject *source, GAsyncResult *res, gpointer data)
{
    Lookup *l = data;

    l->addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &l->error);
    g_main_loop_quit(l->loop);
}

static gboolean
on_lookup_timeout(gpointer data)
{
    /* on_resolved() runs once the lookup noticed, and ends the loop */
    g_cancellable_cancel(((Lookup *)data)->cancellable);
    return G_SOURCE_REMOVE;
}

/* The system resolver's addresses for @name within @timeout seconds, or NULL. */
static GStrv
resolve_name(const char *name, double timeout)
{
    g_autoptr(GResolver) resolver = g_resolver_get_default();
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    Lookup l = {loop, cancellable, NULL, NULL};
    guint timer;

    g_resolver_lookup_by_name_async(resolver, name, cancellable, on_resolved, &l);
    timer = g_timeout_add((guint)(timeout * 1000), on_lookup_timeout, &l);
    g_main_loop_run(loop);
    if (!g_cancellable_is_cancelled(cancellable))
        g_source_remove(timer);
    if (l.error != NULL) {
        g_debug("%s: %s", name, l.error->message);
        g_error_free(l.error);
        return NULL;
    }
    /* IPv4 first: a neighbour's link-local IPv6 address needs its interface */
    for (int v6 = 0; v6 <= 1; v6++)
        for (GList *a = l.addresses; a != NULL; a = a->next)
            if ((g_inet_address_get_family(a->data) == G_SOCKET_FAMILY_IPV6) == v6)
                g_ptr_array_add(out, g_inet_address_to_string(a->data));
    g_resolver_free_addresses(l.addresses);
    if (out->len == 0)
        return NULL;
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static void
take_neighbour(PorchCliTarget *t, const PorchNeighbour *n)
{
    const char *const *v4 = porch_neighbour_get_ipv4_addresses(n);
    const char *const *v6 = porch_neighbour_get_ipv6_addresses(n);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    g_strv_builder_addv(b, (const char **)v4);
    g_strv_builder_addv(b, (const char **)v6);
    t->addresses = g_strv_builder_end(b);
    t->connect_port = t->port != 0 ? t->port : porch_neighbour_get_port(n);
    t->pin_name = g_strdup(porch_neighbour_get_name(n));
    t->fingerprint = g_strdup(porch_neighbour_get_fingerprint(n));
    {
        guint n_printers;
        const PorchNeighbourPrinter *printers = porch_neighbour_get_printers(n, &n_printers);
        g_autoptr(GStrvBuilder) names = g_strv_builder_new();

        for (guint i = 0; i < n_printers; i++)
            g_strv_builder_add(names, printers[i].name);
        t->printers = g_strv_builder_end(names);
    }
}

PorchCliTarget *
porch_cli_target_from_neighbour(const PorchNeighbour *n)
{
    PorchCliTarget *t = g_new0(PorchCliTarget, 1);

    t->host = g_strdup(porch_neighbour_get_name(n));
    t->name = g_strdup(t->host);
    t->path = g_strdup("/");
    take_neighbour(t, n);
    return t;
}

int
porch_cli_target_resolve(PorchCliTarget *t, double timeout)
{
    return porch_cli_target_resolve_full(t, timeout, NULL);
}

int
porch_cli_target_resolve_full(PorchCliTarget *t, double timeout, GError **ret_error)
{
    g_autoptr(PorchBrowser) browser = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(GError) browse_error = NULL;
    g_autofree char *valid = g_utf8_make_valid(t->name, -1);
    g_autofree char *folded = g_utf8_casefold(valid, -1);
    g_autofree char *visible = NULL;
    g_autofree char *why = NULL;
    Search s = {valid, folded, NULL, NULL, 0};
    GStrv addresses;

    g_strfreev(t->addresses);
    g_clear_pointer(&t->pin_name, g_free);
    g_clear_pointer(&t->fingerprint, g_free);
    g_clear_pointer(&t->printers, g_strfreev);
    t->connect_port = t->port != 0 ? t->port : PORCH_DEFAULT_PORT;

    if (g_hostname_is_ip_address(t->name)) {
        g_autoptr(GInetAddress) a = g_inet_address_new_from_string(t->name);
        g_autofree char *canonical = a != NULL ? g_inet_address_to_string(a) : NULL;
        const char *address =
                canonical != NULL && strchr(t->name, '%') == NULL ? canonical : t->name;
        const char *list[] = {address, NULL};

        t->addresses = g_strdupv((char **)list);
        t->pin_name = pin_for_address(address, t->connect_port);
        return PORCH_CLI_EXIT_OK;
    }

    loop = g_main_loop_new(NULL, FALSE);
    s.loop = loop;
    browser = porch_browser_new();
    {
        /* the interfaces this machine's porchd publishes on, when porch.conf names them */
        g_auto(GStrv) interfaces = porch_config_machine_interfaces();
        porch_browser_set_interfaces(browser, (const char *const *)interfaces);
    }
    g_signal_connect(browser, "neighbour-added", G_CALLBACK(on_neighbour), &s);
    g_signal_connect(browser, "neighbour-changed", G_CALLBACK(on_neighbour), &s);
    if (porch_browser_start(browser, &browse_error)) {
        guint timer = g_timeout_add((guint)(timeout * 1000), on_search_timeout, &s);
        g_main_loop_run(loop);
        g_source_remove(timer);
        if (s.grace != 0)
            g_source_remove(s.grace);
    } else {
        g_debug("browsing: %s", browse_error->message);
    }
    g_signal_handlers_disconnect_by_data(browser, &s);
    if (s.best != NULL) {
        take_neighbour(t, s.best);
        porch_neighbour_unref(s.best);
        return PORCH_CLI_EXIT_OK;
    }
    visible = browse_error == NULL ? visible_names(browser) : NULL;
    g_clear_object(&browser);

    /* a neighbour remembered by address (porch neighbours add), which mDNS does not show */
    {
        g_autoptr(GPtrArray) remembered = porch_neighbours_load(NULL, NULL);
        const PorchRemembered *r =
                remembered != NULL ? porch_neighbours_find(remembered, valid) : NULL;

        if (r != NULL) {
            t->addresses = g_strdupv((char *[]){r->address, NULL});
            t->connect_port = t->port != 0 ? t->port : r->port;
            t->pin_name = porch_neighbours_pin_name(r->address, t->connect_port);
            t->fingerprint = g_strdup(r->fingerprint);
            t->printers = g_strdupv(r->printers);
            return PORCH_CLI_EXIT_OK;
        }
    }

    addresses = resolve_name(t->name, timeout);
    if (addresses != NULL) {
        t->addresses = addresses;
        t->pin_name = t->connect_port == PORCH_DEFAULT_PORT
                              ? g_strdup(t->name)
                              : g_strdup_printf("%s:%u", t->name, (unsigned)t->connect_port);
        return PORCH_CLI_EXIT_OK;
    }

    if (browse_error != NULL)
        why = g_strdup_printf("no neighbour called '%s' (cannot see the neighbours: %s)", t->name,
                              browse_error->message);
    else if (visible != NULL)
        why = g_strdup_printf("no neighbour called '%s'; visible now: %s", t->name, visible);
    else
        why = g_strdup_printf("no neighbour called '%s'; no neighbours are visible", t->name);
    if (ret_error != NULL) {
        g_set_error_literal(ret_error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, why);
    } else {
        fputs("porch: ", stderr);
        porch_cli_put_text(stderr, why);
        fputc('\n', stderr);
    }
    return PORCH_CLI_EXIT_UNREACHABLE;
}

/* ------------------------------------------------------------------------------------------
 * Connecting */

typedef struct {
    gboolean refuse; /* pinned keys only: refuse every first contact */
    gboolean ask;    /* stdin and stderr are terminals: ask the user */
    char *pinned;    /* pin name trusted without asking */
    char *pinned_fp;
    gboolean connecting_drawn; /* "connecting to …" is on the terminal's last line */
} Trust;

static void
clear_connecting(Trust *trust)
{
    if (!trust->connecting_drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    trust->connecting_drawn = FALSE;
}

/* Reads a line from stdin; TRUE for "y" or "yes". */
static gboolean
read_yes(void)
{
    char line[64];
    g_autofree char *answer = NULL;

    if (fgets(line, sizeof line, stdin) == NULL)
        return FALSE;
    answer = g_strstrip(g_ascii_strdown(line, -1));
    return strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0;
}

static gboolean
trust_on_first_use(const char *pin_name, const char *fingerprint, gboolean advertised,
                   gpointer data)
{
    Trust *trust = data;

    if (trust->refuse)
        return FALSE;
    if (!trust->ask) {
        g_free(trust->pinned);
        g_free(trust->pinned_fp);
        trust->pinned = g_strdup(pin_name);
        trust->pinned_fp = g_strdup(fingerprint);
        return TRUE;
    }
    clear_connecting(trust);
    fputs("First contact with ", stderr);
    porch_cli_put_text(stderr, pin_name);
    fputs(". Its key fingerprint is ", stderr);
    porch_cli_put_text(stderr, fingerprint);
    if (advertised) {
        fputs(" (it matches what ", stderr);
        porch_cli_put_text(stderr, pin_name);
        fputs(" advertises on the network)", stderr);
    } else {
        fputs(" (not advertised on the network: compare it with what its owner sees)", stderr);
    }
    fputs(".\nTrust ", stderr);
    porch_cli_put_text(stderr, pin_name);
    fputs(" and remember its key? [y/N] ", stderr);
    fflush(stderr);
    return read_yes();
}

static int
connect_status(const GError *error)
{
    if (porch_connect_error_is_unreachable(error))
        return PORCH_CLI_EXIT_UNREACHABLE;
    if (error->domain == PORCH_CLIENT_ERROR) {
        switch ((PorchClientError)error->code) {
        case PORCH_CLIENT_ERROR_HOST_KEY_CHANGED:
        case PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH:
        case PORCH_CLIENT_ERROR_HOST_KEY_UNTRUSTED:
        case PORCH_CLIENT_ERROR_AUTH:
            return PORCH_CLI_EXIT_REFUSED;
        case PORCH_CLIENT_ERROR_NOT_SSH:
            return PORCH_CLI_EXIT_UNREACHABLE;
        default:
            return PORCH_CLI_EXIT_FAILED;
        }
    }
    return PORCH_CLI_EXIT_FAILED;
}

int
porch_cli_connect_full(const PorchCliTarget *t, const PorchCliConnectOptions *o,
                       PorchClient **ret_client, char **ret_key_fingerprint, GError **ret_error)
{
    g_autofree char *default_identity = NULL;
    g_autofree char *known =
            o->known_peers ? g_strdup(o->known_peers) : porch_known_peers_default_file();
    const char *identity_file = o->identity_file;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchClient) client = NULL;
    Trust trust = {0};
    g_auto(ssh_key) key = NULL;
    gboolean say_connecting;
    int status;

    g_return_val_if_fail(t->addresses != NULL && t->addresses[0] != NULL, PORCH_CLI_EXIT_FAILED);
    g_return_val_if_fail(ret_error == NULL || *ret_error == NULL, PORCH_CLI_EXIT_FAILED);

    if (identity_file != NULL) {
        /* a file someone named: never made here (only `porch id` makes one) */
        key = porch_identity_load(identity_file, &error);
    } else {
        gboolean existed;

        identity_file = default_identity = porch_identity_default_file();
        existed = g_file_test(identity_file, G_FILE_TEST_EXISTS);
        key = porch_identity_load_or_create(identity_file, &error);
        /* said once: the next command finds the key there */
        if (key != NULL && !existed) {
            g_autofree char *line = g_strdup_printf(
                    "made a new key for this user in %s; `porch id` shows it", identity_file);
            fputs("porch: ", stderr);
            porch_cli_put_text(stderr, line);
            fputc('\n', stderr);
        }
    }
    if (key == NULL) {
        status = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? PORCH_CLI_EXIT_USAGE
                                                                          : PORCH_CLI_EXIT_FAILED;
        if (ret_error != NULL) {
            g_propagate_error(ret_error, g_steal_pointer(&error));
            return status;
        }
        if (status == PORCH_CLI_EXIT_USAGE) {
            porch_cli_no_key_file(NULL, identity_file);
        } else {
            fputs("porch: ", stderr);
            porch_cli_put_text(stderr, error->message);
            fputc('\n', stderr);
        }
        return status;
    }
    trust.refuse = o->pinned_only;
    trust.ask = !o->never_ask && isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
    say_connecting = o->say_connecting && ret_error == NULL && isatty(STDERR_FILENO);

    for (guint i = 0; t->addresses[i] != NULL; i++) {
        PorchConnectOptions options = {
                .address = t->addresses[i],
                .port = t->connect_port,
                .pin_name = t->pin_name,
                .expected_fingerprint = t->fingerprint,
                .known_peers = known,
                .identity = key,
                .user = o->user != NULL ? o->user : t->user,
                .trust = trust_on_first_use,
                .trust_data = &trust,
                .timeout_seconds = o->timeout_seconds,
                .connect_timeout_seconds = o->connect_timeout_seconds,
        };

        g_clear_error(&error);
        if (say_connecting) {
            /* one line, gone once connected (or before a question) */
            g_autofree char *line =
                    strchr(t->addresses[i], ':') != NULL
                            ? g_strdup_printf("porch: connecting to %s ([%s]:%u)…", t->host,
                                              t->addresses[i], (unsigned)t->connect_port)
                            : g_strdup_printf("porch: connecting to %s (%s:%u)…", t->host,
                                              t->addresses[i], (unsigned)t->connect_port);
            clear_connecting(&trust);
            porch_cli_put_text(stderr, line);
            fflush(stderr);
            trust.connecting_drawn = TRUE;
        }
        client = o->for_print ? porch_client_connect_print(&options, NULL, &error)
                              : porch_client_connect(&options, NULL, &error);
        clear_connecting(&trust);
        if (client != NULL)
            break;
        if (!porch_connect_error_try_next_address(error))
            break;
    }

    /* Say so when a key was pinned without asking (and the pin really was written). */
    if (trust.pinned != NULL && !o->quiet) {
        g_autofree char *now = porch_known_peers_lookup(known, trust.pinned, NULL);
        if (g_strcmp0(now, trust.pinned_fp) == 0) {
            fputs("porch: pinned the key of ", stderr);
            porch_cli_put_text(stderr, trust.pinned);
            fputs(" (", stderr);
            porch_cli_put_text(stderr, trust.pinned_fp);
            fputs(") on first use\n", stderr);
        }
    }
    g_free(trust.pinned);
    g_free(trust.pinned_fp);

    if (client == NULL) {
        status = connect_status(error);
        if (ret_error != NULL)
            g_propagate_error(ret_error, g_steal_pointer(&error));
        else
            porch_cli_error(t->host, error->message);
        return status;
    }
    /* success */
    if (ret_key_fingerprint != NULL)
        *ret_key_fingerprint = porch_key_fingerprint(key);
    *ret_client = g_steal_pointer(&client);
    return PORCH_CLI_EXIT_OK;
}

int
porch_cli_check_share(const PorchCliTarget *t, PorchClient *client)
{
    g_autofree char *share = porch_cli_target_share(t);
    g_autofree char *top = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchRemoteFile) f = NULL;
    g_autoptr(GPtrArray) shares = NULL;
    g_autoptr(GString) line = NULL;

    if (share == NULL)
        return PORCH_CLI_EXIT_OK;
    top = g_strconcat("/", share, NULL);
    f = porch_client_stat(client, top, NULL, &error);
    /* anything but "no such share" is the command's to meet and tell */
    if (f != NULL || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return PORCH_CLI_EXIT_OK;
    g_clear_error(&error);
    shares = porch_client_list(client, "/", NULL, &error);
    line = g_string_new(NULL);
    g_string_append_printf(line, "no share '%s' on %s", share, t->host);
    if (shares == NULL) {
        g_string_append_printf(line, " (its shares cannot be listed: %s)", error->message);
    } else if (shares->len == 0) {
        g_string_append(line, "; it shares nothing you may see");
    } else {
        g_string_append(line, "; it shares: ");
        for (guint i = 0; i < shares->len; i++) {
            const PorchRemoteFile *s = g_ptr_array_index(shares, i);
            g_string_append_printf(line, "%s%s", i > 0 ? ", " : "", s->name);
        }
    }
    fputs("porch: ", stderr);
    porch_cli_put_text(stderr, line->str);
    fputc('\n', stderr);
    return PORCH_CLI_EXIT_FAILED;
}

void
porch_cli_hint_printers(const PorchCliTarget *t)
{
    g_autofree char *list = NULL;
    g_autofree char *line = NULL;

    /* what was seen of it while looking for it: maybe not all, never "none" */
    if (t->printers == NULL || t->printers[0] == NULL)
        return;
    list = g_strjoinv(", ", t->printers);
    line = g_strdup_printf("%s advertises the printers: %s", t->host, list);
    fputs("porch: ", stderr);
    porch_cli_put_text(stderr, line);
    fputc('\n', stderr);
}

void
porch_cli_hint_guest(const PorchCliTarget *t, PorchClient *client, const char *key_fingerprint)
{
    if (client == NULL || !porch_client_is_guest(client))
        return;
    fputs("porch: ", stderr);
    porch_cli_put_text(stderr, t->host);
    fputs(" does not know your key (", stderr);
    porch_cli_put_text(stderr, key_fingerprint != NULL ? key_fingerprint : "?");
    fputs("); it has been asked for access: its owner can run 'porch peers accept ", stderr);
    porch_cli_put_text(stderr, t->user != NULL ? t->user : g_get_user_name());
    fputs("'\n", stderr);
}

PorchClient *
porch_cli_connect_pinned(const PorchCliTarget *target, const char *identity_file,
                         gboolean for_print, int timeout_seconds, int connect_timeout_seconds,
                         GError **error)
{
    g_autofree char *known = porch_known_peers_default_file();
    g_autofree char *pinned = porch_known_peers_lookup(known, target->pin_name, NULL);
    PorchClient *client = NULL;
    PorchCliConnectOptions o = {
            .identity_file = identity_file,
            .quiet = TRUE,
            .never_ask = TRUE,
            .pinned_only = TRUE,
            .for_print = for_print,
            .timeout_seconds = timeout_seconds,
            .connect_timeout_seconds = connect_timeout_seconds,
    };

    if (pinned == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "its key is not pinned yet");
        return NULL;
    }
    if (porch_cli_connect_full(target, &o, &client, NULL, error) != PORCH_CLI_EXIT_OK) {
        if (error != NULL && *error == NULL)
            g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot connect");
        return NULL;
    }
    return client;
}
