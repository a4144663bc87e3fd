/* browse.c — `porch browse [--json] [--timeout SECONDS] [--watch]`.
 *
 * Browses with a PorchBrowser (shared/porch-browse.h) for --timeout seconds (default 2), then
 * prints what it found; with --watch, prints each neighbour as it appears, changes and goes,
 * until SIGINT or SIGTERM (or --timeout, when given).
 *
 * The neighbours remembered by address (porch neighbours add, shared/porch-neighbours.h) are
 * shown beside, unless mDNS shows them too; meanwhile each is asked who it is over unicast
 * (porch_neighbours_poll_async(): its porchd's "status" command) — once, answering within the
 * browse's time, or with --watch every POLL_SECONDS — and what it answers is shown, and kept
 * in the file, instead of what the file said.
 *
 * JSON (--json), the stable form documented in porch(1): one-shot, an array of neighbour
 * objects, one per line; with --watch, one event object per line,
 *   {"event":"added"|"changed"|"removed","neighbour":NEIGHBOUR}
 * A NEIGHBOUR has exactly these keys, in this order:
 *   "name"         string: display name
 *   "host"         string: host name, "alice-laptop.local"
 *   "porch"        boolean: runs Porch (advertises _porch._tcp)
 *   "port"         number: Porch's SSH/SFTP port; null when "porch" is false
 *   "fingerprint"  string: host key, "SHA256:..."; null when not advertised
 *   "ipv4", "ipv6" arrays of strings; link-local IPv6 addresses carry "%INTERFACE"
 *   "shares"       array of {"name", "path", "guest" (boolean), "uri"}
 *   "printers"     array of {"name", "instance", "txt"}
 *   "services"     array of {"type", "name", "port", "uri", "txt"}
 *   "remembered"   boolean: not seen over mDNS but remembered by address (porch neighbours
 *                  add); "host" and the one address are that address, "fingerprint" the key
 *                  it had, "shares" and "printers" what it listed when last asked
 * "txt" is an object of the TXT record's keys, sorted, the first occurrence of a key winning:
 * "key=value" gives a string, a bare "key" gives true. Arrays are sorted as porch-browse.h
 * says; neighbours by name, then host name.
 */
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "porch-browse.h"
#include "porch-cli.h"
#include "porch-config.h"
#include "porch-neighbours.h"

#define DEFAULT_TIMEOUT_S 2.0
#define MAX_TIMEOUT_S     (7 * 24 * 3600.0)

typedef struct {
    GMainLoop *loop;
    gboolean json;
    gboolean watch;
    gboolean avahi_lost;
    GHashTable *last_lines; /* host name -> the last text line printed about it */
    PorchBrowser *browser;
    /* the neighbours remembered by address: the file's, refreshed by the polls' answers */
    GPtrArray *remembered; /* PorchRemembered* */
    GHashTable *shown;     /* --watch: address -> PorchNeighbour reported, of those */
    GCancellable *cancellable;
    int poll_timeout;
} Browse;

/* --watch: how often the remembered neighbours are asked again. */
#define POLL_SECONDS 60

/* ------------------------------------------------------------------------------------------
 * JSON, through json-glib: objects keep the order their members were added in. */

static void
add_strv(JsonBuilder *b, const char *key, const char *const *v)
{
    json_builder_set_member_name(b, key);
    json_builder_begin_array(b);
    for (guint i = 0; v != NULL && v[i] != NULL; i++)
        json_builder_add_string_value(b, v[i]);
    json_builder_end_array(b);
}

static void
add_string_or_null(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static size_t
txt_key_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq != NULL ? (size_t)(eq - entry) : strlen(entry);
}

static int
compare_txt_keys(gconstpointer a, gconstpointer b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = txt_key_len(x), ly = txt_key_len(y);
    int c = memcmp(x, y, MIN(lx, ly));
    return c != 0 ? c : (lx > ly) - (lx < ly);
}

static void
add_txt(JsonBuilder *b, char *const *txt)
{
    g_autoptr(GPtrArray) firsts = g_ptr_array_new();
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    /* Keys are case-insensitive and the first occurrence wins (RFC 6763, 6.4). */
    for (guint i = 0; txt != NULL && txt[i] != NULL; i++) {
        size_t len = txt_key_len(txt[i]);
        if (len == 0 || !g_hash_table_add(seen, g_ascii_strdown(txt[i], (gssize)len)))
            continue;
        g_ptr_array_add(firsts, txt[i]);
    }
    g_ptr_array_sort(firsts, compare_txt_keys);
    json_builder_set_member_name(b, "txt");
    json_builder_begin_object(b);
    for (guint i = 0; i < firsts->len; i++) {
        const char *entry = g_ptr_array_index(firsts, i);
        size_t len = txt_key_len(entry);
        g_autofree char *key = g_strndup(entry, len);

        json_builder_set_member_name(b, key);
        /* A bare "key" is a boolean attribute, present: true. */
        if (entry[len] == '\0')
            json_builder_add_boolean_value(b, TRUE);
        else
            json_builder_add_string_value(b, entry + len + 1);
    }
    json_builder_end_object(b);
}

static void
add_neighbour(JsonBuilder *b, const PorchNeighbour *n)
{
    const PorchNeighbourShare *shares;
    const PorchNeighbourPrinter *printers;
    const PorchNeighbourService *services;
    guint n_shares, n_printers, n_services;

    shares = porch_neighbour_get_shares(n, &n_shares);
    printers = porch_neighbour_get_printers(n, &n_printers);
    services = porch_neighbour_get_services(n, &n_services);

    json_builder_begin_object(b);
    add_string_or_null(b, "name", porch_neighbour_get_name(n));
    add_string_or_null(b, "host", porch_neighbour_get_host_name(n));
    json_builder_set_member_name(b, "porch");
    json_builder_add_boolean_value(b, porch_neighbour_is_porch(n));
    json_builder_set_member_name(b, "port");
    if (porch_neighbour_is_porch(n))
        json_builder_add_int_value(b, porch_neighbour_get_port(n));
    else
        json_builder_add_null_value(b);
    add_string_or_null(b, "fingerprint", porch_neighbour_get_fingerprint(n));
    add_strv(b, "ipv4", porch_neighbour_get_ipv4_addresses(n));
    add_strv(b, "ipv6", porch_neighbour_get_ipv6_addresses(n));

    json_builder_set_member_name(b, "shares");
    json_builder_begin_array(b);
    for (guint i = 0; i < n_shares; i++) {
        json_builder_begin_object(b);
        add_string_or_null(b, "name", shares[i].name);
        add_string_or_null(b, "path", shares[i].path);
        json_builder_set_member_name(b, "guest");
        json_builder_add_boolean_value(b, shares[i].guest);
        add_string_or_null(b, "uri", shares[i].uri);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "printers");
    json_builder_begin_array(b);
    for (guint i = 0; i < n_printers; i++) {
        json_builder_begin_object(b);
        add_string_or_null(b, "name", printers[i].name);
        add_string_or_null(b, "instance", printers[i].instance);
        add_txt(b, printers[i].txt);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "services");
    json_builder_begin_array(b);
    for (guint i = 0; i < n_services; i++) {
        json_builder_begin_object(b);
        add_string_or_null(b, "type", services[i].type);
        add_string_or_null(b, "name", services[i].name);
        json_builder_set_member_name(b, "port");
        json_builder_add_int_value(b, services[i].port);
        add_string_or_null(b, "uri", services[i].uri);
        add_txt(b, services[i].txt);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "remembered");
    json_builder_add_boolean_value(b, porch_neighbour_is_remembered(n));
    json_builder_end_object(b);
}

/* The compact JSON text of what @b built. */
static char *
builder_to_string(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static char *
neighbour_json(const PorchNeighbour *n)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    add_neighbour(b, n);
    return builder_to_string(b);
}

/* ------------------------------------------------------------------------------------------
 * Text, for people: every name from the network goes through porch_cli_put_text(). */

static void
print_addresses(const PorchNeighbour *n)
{
    const char *const *lists[] = {porch_neighbour_get_ipv4_addresses(n),
                                  porch_neighbour_get_ipv6_addresses(n)};
    gboolean first = TRUE;

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; lists[l][i] != NULL; i++) {
            fputs(first ? "" : ", ", stdout);
            porch_cli_put_text(stdout, lists[l][i]);
            first = FALSE;
        }
    }
    if (first)
        fputs("(none yet)", stdout);
}

/* "ipp" for "_ipp._tcp". */
static char *
short_type(const char *type)
{
    const char *dot = strchr(type, '.');
    const char *start = type[0] == '_' ? type + 1 : type;
    return dot != NULL && dot > start ? g_strndup(start, (gsize)(dot - start)) : g_strdup(type);
}

static void
print_neighbour(const PorchNeighbour *n)
{
    const PorchNeighbourShare *shares;
    const PorchNeighbourPrinter *printers;
    const PorchNeighbourService *services;
    guint n_shares, n_printers, n_services;

    shares = porch_neighbour_get_shares(n, &n_shares);
    printers = porch_neighbour_get_printers(n, &n_printers);
    services = porch_neighbour_get_services(n, &n_services);

    porch_cli_put_text(stdout, porch_neighbour_get_name(n));
    fputs(" (", stdout);
    porch_cli_put_text(stdout, porch_neighbour_get_host_name(n));
    if (porch_neighbour_is_remembered(n))
        printf("), Porch on port %u, remembered by address\n",
               (unsigned)porch_neighbour_get_port(n));
    else if (porch_neighbour_is_porch(n))
        printf("), Porch on port %u\n", (unsigned)porch_neighbour_get_port(n));
    else
        fputs("), not a Porch host\n", stdout);
    fputs("    addresses    ", stdout);
    print_addresses(n);
    fputc('\n', stdout);
    if (porch_neighbour_get_fingerprint(n) != NULL) {
        fputs("    host key     ", stdout);
        porch_cli_put_text(stdout, porch_neighbour_get_fingerprint(n));
        fputc('\n', stdout);
    }
    for (guint i = 0; i < n_shares; i++) {
        fputs("    share        ", stdout);
        porch_cli_put_text(stdout, shares[i].name);
        fputs("  ", stdout);
        porch_cli_put_text(stdout, shares[i].uri);
        fputs(shares[i].guest ? "  (guests may read)\n" : "\n", stdout);
    }
    for (guint i = 0; i < n_printers; i++) {
        const char *ty = porch_neighbour_txt_lookup((const char *const *)printers[i].txt, "ty");
        fputs("    printer      ", stdout);
        porch_cli_put_text(stdout, printers[i].name);
        if (ty != NULL && *ty != '\0') {
            fputs("  ", stdout);
            porch_cli_put_text(stdout, ty);
        }
        fputc('\n', stdout);
    }
    for (guint i = 0; i < n_services; i++) {
        g_autofree char *kind = short_type(services[i].type);
        printf("    %-12s ", kind);
        porch_cli_put_text(stdout, services[i].name);
        fputs("  ", stdout);
        porch_cli_put_text(stdout, services[i].uri);
        fputc('\n', stdout);
    }
}

/* One line for --watch: "added NAME (HOST): Porch on port P; shares A, B; printers P; URI". */
static char *
event_line(const char *event, const PorchNeighbour *n)
{
    const PorchNeighbourShare *shares;
    const PorchNeighbourPrinter *printers;
    const PorchNeighbourService *services;
    guint n_shares, n_printers, n_services;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        g_error("out of memory");
    shares = porch_neighbour_get_shares(n, &n_shares);
    printers = porch_neighbour_get_printers(n, &n_printers);
    services = porch_neighbour_get_services(n, &n_services);

    fprintf(f, "%-8s ", event);
    porch_cli_put_text(f, porch_neighbour_get_name(n));
    fputs(" (", f);
    porch_cli_put_text(f, porch_neighbour_get_host_name(n));
    fputc(')', f);
    if (strcmp(event, "removed") != 0) {
        if (porch_neighbour_is_porch(n))
            fprintf(f, ": Porch on port %u", (unsigned)porch_neighbour_get_port(n));
        else
            fputs(": not Porch", f);
        for (guint i = 0; i < n_shares; i++) {
            fputs(i == 0 ? "; shares " : ", ", f);
            porch_cli_put_text(f, shares[i].name);
        }
        for (guint i = 0; i < n_printers; i++) {
            fputs(i == 0 ? "; printers " : ", ", f);
            porch_cli_put_text(f, printers[i].name);
        }
        for (guint i = 0; i < n_services; i++) {
            fputs(i == 0 ? "; " : ", ", f);
            porch_cli_put_text(f, services[i].uri);
        }
    }
    fputc('\n', f);
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------------------------------------
 * --watch */

static void
report(Browse *b, const char *event, PorchNeighbour *n)
{
    if (b->json) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        g_autofree char *line = NULL;

        json_builder_begin_object(jb);
        add_string_or_null(jb, "event", event);
        json_builder_set_member_name(jb, "neighbour");
        add_neighbour(jb, n);
        json_builder_end_object(jb);
        line = builder_to_string(jb);
        puts(line);
    } else {
        /* A change this line does not show (an address) is not worth a line of its own. */
        g_autofree char *text = event_line(event, n);
        const char *host = porch_neighbour_get_host_name(n);
        const char *last = g_hash_table_lookup(b->last_lines, host);
        /* Both begin with the event, padded to the same width ("%-8s "). */
        if (last != NULL && strcmp(event, "changed") == 0 && strcmp(last + 9, text + 9) == 0)
            return;
        fputs(text, stdout);
        if (strcmp(event, "removed") == 0)
            g_hash_table_remove(b->last_lines, host);
        else
            g_hash_table_insert(b->last_lines, g_strdup(host), g_steal_pointer(&text));
    }
    /* Whoever reads a pipe sees each event as it happens. */
    fflush(stdout);
}

static void
on_added(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    report(data, "added", n);
}

static void
on_changed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    report(data, "changed", n);
}

static void
on_removed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    report(data, "removed", n);
}

static void
on_state(PorchBrowser *browser, GParamSpec *pspec, gpointer data)
{
    Browse *b = data;

    if (porch_browser_get_state(browser) == PORCH_BROWSER_RUNNING && b->avahi_lost) {
        fprintf(stderr, "porch: avahi-daemon is back\n");
        b->avahi_lost = FALSE;
    } else if (porch_browser_get_state(browser) == PORCH_BROWSER_CONNECTING && !b->avahi_lost) {
        fprintf(stderr, "porch: avahi-daemon went away; waiting for it to come back\n");
        b->avahi_lost = TRUE;
    }
}

static gboolean
on_quit(gpointer data)
{
    g_main_loop_quit(((Browse *)data)->loop);
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------------------------ */

static int
by_name(gconstpointer a, gconstpointer b)
{
    const PorchNeighbour *x = *(PorchNeighbour *const *)a;
    const PorchNeighbour *y = *(PorchNeighbour *const *)b;
    int c = strcmp(porch_neighbour_get_name(x), porch_neighbour_get_name(y));

    return c != 0 ? c : strcmp(porch_neighbour_get_host_name(x), porch_neighbour_get_host_name(y));
}

/* Adds to @all (PorchNeighbour*, seen over mDNS) the neighbours remembered by address that
 * mDNS does not show: none of @all is them (porch_remembered_is_seen_as()). */
static void
add_remembered(Browse *b, GPtrArray *all)
{
    for (guint i = 0; b->remembered != NULL && i < b->remembered->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(b->remembered, i);
        gboolean seen = FALSE;

        for (guint j = 0; j < all->len && !seen; j++)
            seen = porch_remembered_is_seen_as(r, g_ptr_array_index(all, j));
        if (!seen)
            g_ptr_array_add(all, porch_remembered_to_neighbour(r));
    }
    g_ptr_array_sort(all, by_name);
}

/* --watch: the remembered neighbours reported as mDNS and the polls have them: one that mDNS
 * shows goes (it is reported as browsed), one it stops showing comes back. */
static void
report_remembered(Browse *b)
{
    g_autoptr(GPtrArray) browsed = NULL;
    g_autoptr(GHashTable) now = NULL;
    GHashTableIter iter;
    gpointer key, value;

    if (!b->watch)
        return;
    browsed = porch_browser_get_neighbours(b->browser);
    /* keyed as the file keys them, by address and port: two porchds on one address (the
     * system's and a user's) are two neighbours */
    now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; b->remembered != NULL && i < b->remembered->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(b->remembered, i);
        g_autofree char *key_of = porch_neighbours_pin_name(r->address, r->port);
        gboolean seen = FALSE;
        g_autoptr(PorchNeighbour) n = NULL;
        PorchNeighbour *last;

        for (guint j = 0; j < browsed->len && !seen; j++)
            seen = porch_remembered_is_seen_as(r, g_ptr_array_index(browsed, j));
        if (seen || g_hash_table_contains(now, key_of))
            continue;
        g_hash_table_add(now, g_strdup(key_of));
        n = porch_remembered_to_neighbour(r);
        last = g_hash_table_lookup(b->shown, key_of);
        if (last == NULL || !porch_neighbour_equal(last, n)) {
            report(b, last == NULL ? "added" : "changed", n);
            g_hash_table_insert(b->shown, g_steal_pointer(&key_of), g_steal_pointer(&n));
        }
    }
    g_hash_table_iter_init(&iter, b->shown);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        if (g_hash_table_contains(now, key))
            continue;
        report(b, "removed", value);
        g_hash_table_iter_remove(&iter);
    }
}

/* A poll under way: @b is looked at only while @cancellable is not cancelled (it is when the
 * browse ends, and @b goes). */
typedef struct {
    Browse *b;
    GCancellable *cancellable;
} PollCtx;

/* A poll's answer: what is shown, and the file, follow. */
static void
on_polled(GObject *source, GAsyncResult *result, gpointer data)
{
    PollCtx *ctx = data;
    Browse *b = ctx->b;
    gboolean over = g_cancellable_is_cancelled(ctx->cancellable);
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchRemembered) fresh = porch_neighbours_poll_finish(result, &error);

    g_object_unref(ctx->cancellable);
    g_free(ctx);
    if (over)
        return;
    if (fresh == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug("remembered neighbour: %s", error->message);
        return;
    }
    for (guint i = 0; i < b->remembered->len; i++) {
        PorchRemembered *r = g_ptr_array_index(b->remembered, i);
        g_autoptr(GError) file_error = NULL;

        if (r->port != fresh->port || g_strcmp0(r->address, fresh->address) != 0)
            continue;
        if (porch_remembered_equal(r, fresh))
            break;
        porch_remembered_free(r);
        g_ptr_array_index(b->remembered, i) = porch_remembered_copy(fresh);
        if (!porch_neighbours_refresh(NULL, fresh, NULL, &file_error))
            porch_cli_error("remembered neighbours", file_error->message);
        report_remembered(b);
        break;
    }
}

/* Reads the remembered neighbours again and asks each who it is, over unicast. */
static gboolean
poll_remembered(gpointer data)
{
    Browse *b = data;
    g_autoptr(GError) error = NULL;
    GPtrArray *list = porch_neighbours_load(NULL, &error);

    if (list == NULL) {
        porch_cli_error("remembered neighbours", error->message);
        return G_SOURCE_CONTINUE;
    }
    g_clear_pointer(&b->remembered, g_ptr_array_unref);
    b->remembered = list;
    report_remembered(b);
    for (guint i = 0; i < list->len; i++) {
        PollCtx *ctx = g_new0(PollCtx, 1);
        ctx->b = b;
        ctx->cancellable = g_object_ref(b->cancellable);
        porch_neighbours_poll_async(g_ptr_array_index(list, i), b->poll_timeout, b->cancellable,
                                    on_polled, ctx);
    }
    return G_SOURCE_CONTINUE;
}

static void
on_browsed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    report_remembered(data);
}

int
porch_cli_browse(int argc, char **argv)
{
    gboolean json = FALSE, watch = FALSE;
    double timeout = -1;
    GOptionEntry entries[] = {
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON (with --watch, one event a line)",
             NULL},
            {"timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
             "Stop after SECONDS (default 2; --watch: never)", "SECONDS"},
            {"watch", 'w', 0, G_OPTION_ARG_NONE, &watch,
             "Report neighbours as they come, change, go", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchBrowser) browser = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(GHashTable) last_lines =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify)porch_neighbour_unref);
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    Browse b = {0};
    guint timer = 0, poller = 0, sigint, sigterm;

    porch_cli_set_summary(ctx, "List the neighbours on the local network and what they "
                               "share (mDNS/DNS-SD, through avahi-daemon).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "porch browse: %s (see porch browse --help)\n", error->message);
        return 2;
    }
    if (argc > 1) {
        fprintf(stderr, "porch browse: unexpected argument '%s' (see porch browse --help)\n",
                argv[1]);
        return 2;
    }
    if (timeout != -1 && !(timeout > 0 && timeout <= MAX_TIMEOUT_S)) {
        fprintf(stderr, "porch browse: --timeout takes a number of seconds above 0\n");
        return 2;
    }
    if (timeout == -1 && !watch)
        timeout = DEFAULT_TIMEOUT_S;

    loop = g_main_loop_new(NULL, FALSE);
    b.loop = loop;
    b.json = json;
    b.last_lines = last_lines;
    b.watch = watch;
    b.shown = shown;
    b.cancellable = cancellable;
    /* one-shot, an answer counts only within the browse's time */
    b.poll_timeout = watch ? 0 : MAX((int)timeout, 1);
    browser = porch_browser_new();
    b.browser = browser;
    {
        /* the interfaces this machine's porchd publishes on, when porch.conf names them */
        g_auto(GStrv) interfaces = porch_config_machine_interfaces();
        porch_browser_set_interfaces(browser, (const char *const *)interfaces);
    }
    if (watch) {
        g_signal_connect(browser, "neighbour-added", G_CALLBACK(on_added), &b);
        g_signal_connect(browser, "neighbour-changed", G_CALLBACK(on_changed), &b);
        g_signal_connect(browser, "neighbour-removed", G_CALLBACK(on_removed), &b);
        g_signal_connect(browser, "notify::state", G_CALLBACK(on_state), &b);
        /* after on_added and on_removed: a remembered one mDNS shows now, or no longer */
        g_signal_connect(browser, "neighbour-added", G_CALLBACK(on_browsed), &b);
        g_signal_connect(browser, "neighbour-removed", G_CALLBACK(on_browsed), &b);
    }
    if (!porch_browser_start(browser, &error)) {
        fprintf(stderr, "porch browse: %s\n", error->message);
        return 1;
    }
    sigint = g_unix_signal_add(SIGINT, on_quit, &b);
    sigterm = g_unix_signal_add(SIGTERM, on_quit, &b);
    if (timeout > 0)
        timer = g_timeout_add((guint)(timeout * 1000), on_quit, &b);
    /* the remembered neighbours, asked over unicast while mDNS browses (and again and again
     * with --watch) */
    poll_remembered(&b);
    if (watch)
        poller = g_timeout_add_seconds(POLL_SECONDS, poll_remembered, &b);
    g_main_loop_run(loop);
    g_cancellable_cancel(cancellable);
    if (poller != 0)
        g_source_remove(poller);
    g_source_remove(sigint);
    g_source_remove(sigterm);
    if (timer != 0)
        g_source_remove(timer);

    if (!watch) {
        g_autoptr(GPtrArray) all = porch_browser_get_neighbours(browser);

        add_remembered(&b, all);
        if (json) {
            g_autoptr(GString) out = g_string_new("[");
            for (guint i = 0; i < all->len; i++) {
                g_autofree char *one = neighbour_json(g_ptr_array_index(all, i));
                g_string_append(out, i > 0 ? ",\n" : "\n");
                g_string_append(out, one);
            }
            g_string_append(out, all->len > 0 ? "\n]\n" : "]\n");
            fputs(out->str, stdout);
        } else if (all->len == 0) {
            printf("No neighbours found in %g s.\n", timeout);
        } else {
            for (guint i = 0; i < all->len; i++)
                print_neighbour(g_ptr_array_index(all, i));
        }
    }
    g_signal_handlers_disconnect_by_data(browser, &b);
    /* polls still under way are not waited for: cancelled, their answers leave @b alone */
    g_clear_pointer(&b.remembered, g_ptr_array_unref);
    return fflush(stdout) == 0 ? 0 : 1;
}
