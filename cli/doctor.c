/* doctor.c — `porch doctor [--json] [HOST]`: what stands between this machine and its
 * neighbours, one line per check, each "ok" or the problem and the exact fix.
 *
 * Without HOST it checks this machine: porchd running (system service or this user's), the
 * porch.conf it reads, avahi-daemon, nss-mdns in /etc/nsswitch.conf, firewall rules (nftables)
 * that drop mDNS (5353/udp) or Porch's port, the interfaces (VPNs and container bridges unless
 * [porch] interfaces names them, IPv6 link-local only, whether Porch's own records are
 * published on each), a name collision (avahi renamed our service "NAME #2"), and whether a
 * time server keeps the clock in step (adjtimex()). With HOST it walks the path to that
 * neighbour: seen over mDNS (on which interfaces), its name resolved, TCP to its port, its host
 * key against the pin, our login (peer or guest), what we may read and write there, and, from
 * its porchd's status command, what we may print there and how far its clock is from ours.
 *
 * It changes nothing here but what any porch command does on first use (this user's key is
 * made when missing): a first host key is pinned in a throwaway copy of known_peers only. A
 * neighbour that does not know the key records a request for access, as for any command. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/timex.h>
#include <unistd.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-glib/glib-watch.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-neighbours.h"
#include "porch-config.h"
#include "porch-identity.h"
#include "porch-interfaces.h"
#include "porch-print-client.h"
#include "porch-sftp-client.h"
#include "porch-state.h"
#include "porch-text.h"

#define MDNS_PORT 5353
/* the DNS-SD type porchd publishes a host under (porch-browse.h) */
#define PORCH_SERVICE_TYPE "_porch._tcp"
/* bounds what a flooding LAN can make the browse below keep */
#define MAX_INSTANCES 512

typedef enum {
    CHECK_OK,
    CHECK_PROBLEM,
    CHECK_SKIPPED, /* could not be checked here; not counted as a problem */
    CHECK_INFO,    /* worth knowing, not a problem */
} CheckStatus;

typedef struct {
    gboolean json;
    GPtrArray *nodes; /* JsonNode*, with --json */
    guint problems;
} Report;

/* One line: "ok       CHECK: MESSAGE", "problem  CHECK: MESSAGE; fix: FIX",
 * "skipped  CHECK: MESSAGE" or "info     CHECK: MESSAGE"; with --json, an object {check, status,
 * message[, fix]}. */
static void say(Report *r, CheckStatus status, const char *check, const char *fix,
                const char *format, ...) G_GNUC_PRINTF(5, 6);

static void
say(Report *r, CheckStatus status, const char *check, const char *fix, const char *format, ...)
{
    static const char *const names[] = {"ok", "problem", "skipped", "info"};
    g_autofree char *message = NULL;
    va_list ap;

    va_start(ap, format);
    message = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (status == CHECK_PROBLEM)
        r->problems++;
    if (r->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "check");
        json_builder_add_string_value(b, check);
        json_builder_set_member_name(b, "status");
        json_builder_add_string_value(b, names[status]);
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, message);
        if (fix != NULL) {
            json_builder_set_member_name(b, "fix");
            json_builder_add_string_value(b, fix);
        }
        json_builder_end_object(b);
        g_ptr_array_add(r->nodes, json_builder_get_root(b));
        return;
    }
    printf("%-8s ", names[status]);
    porch_cli_put_text(stdout, check);
    fputs(": ", stdout);
    porch_cli_put_text(stdout, message);
    if (fix != NULL) {
        fputs("; fix: ", stdout);
        porch_cli_put_text(stdout, fix);
    }
    fputc('\n', stdout);
}

/* ------------------------------------------------------------------------------------------
 * avahi-daemon and the _porch._tcp services it sees */

typedef struct {
    char *name;
    AvahiIfIndex interface;
    AvahiProtocol protocol;
    gboolean local; /* registered with this machine's avahi-daemon */
} Instance;

static void
instance_free(gpointer p)
{
    Instance *i = p;
    g_free(i->name);
    g_free(i);
}

typedef struct {
    GMainLoop *loop;
    AvahiClientState state;
    int error;          /* avahi's error when the client or the browser failed; 0 otherwise */
    gboolean timed_out; /* the browse ended at its timeout, not at ALL_FOR_NOW */
    GPtrArray *instances;
} Mdns;

static void
on_browse(AvahiServiceBrowser *b, AvahiIfIndex interface, AvahiProtocol protocol,
          AvahiBrowserEvent event, const char *name, const char *type, const char *domain,
          AvahiLookupResultFlags flags, void *data)
{
    Mdns *m = data;
    (void)type, (void)domain;

    switch (event) {
    case AVAHI_BROWSER_NEW:
        if (m->instances->len < MAX_INSTANCES) {
            Instance *i = g_new0(Instance, 1);
            i->name = g_utf8_make_valid(name, -1);
            i->interface = interface;
            i->protocol = protocol;
            i->local = (flags & AVAHI_LOOKUP_RESULT_LOCAL) != 0;
            g_ptr_array_add(m->instances, i);
        }
        break;
    case AVAHI_BROWSER_FAILURE:
        m->error = avahi_client_errno(avahi_service_browser_get_client(b));
        g_main_loop_quit(m->loop);
        break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
        g_main_loop_quit(m->loop);
        break;
    default:
        break;
    }
}

static void
on_client(AvahiClient *c, AvahiClientState state, void *data)
{
    Mdns *m = data;

    m->state = state;
    if (state == AVAHI_CLIENT_FAILURE) {
        m->error = avahi_client_errno(c);
        if (m->loop != NULL)
            g_main_loop_quit(m->loop);
    }
}

static gboolean
on_mdns_timeout(gpointer data)
{
    Mdns *m = data;

    m->timed_out = TRUE;
    g_main_loop_quit(m->loop);
    return G_SOURCE_REMOVE;
}

/* Connects to avahi-daemon and browses _porch._tcp on every interface until avahi-daemon says
 * it sent what it had, or @timeout seconds. FALSE when avahi-daemon cannot be reached or the
 * browse failed (m->error says why). */
static gboolean
mdns_browse(Mdns *m, double timeout)
{
    AvahiGLibPoll *poll = avahi_glib_poll_new(NULL, G_PRIORITY_DEFAULT);
    AvahiClient *client;
    AvahiServiceBrowser *browser = NULL;

    m->instances = g_ptr_array_new_with_free_func(instance_free);
    m->loop = g_main_loop_new(NULL, FALSE);
    client = avahi_client_new(avahi_glib_poll_get(poll), 0, on_client, m, &m->error);
    if (client != NULL) {
        m->state = avahi_client_get_state(client);
        browser = avahi_service_browser_new(client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                            PORCH_SERVICE_TYPE, NULL, 0, on_browse, m);
        if (browser != NULL) {
            guint timer = g_timeout_add((guint)(timeout * 1000), on_mdns_timeout, m);
            g_main_loop_run(m->loop);
            if (!m->timed_out)
                g_source_remove(timer);
        } else {
            m->error = avahi_client_errno(client);
        }
    }
    if (browser != NULL)
        avahi_service_browser_free(browser);
    if (client != NULL)
        avahi_client_free(client);
    avahi_glib_poll_free(poll);
    return m->error == 0;
}

static void
mdns_clear(Mdns *m)
{
    g_clear_pointer(&m->loop, g_main_loop_unref);
    g_clear_pointer(&m->instances, g_ptr_array_unref);
}

/* "eth0", or the index when the interface is not known here. Free with g_free(). */
static char *
interface_name(AvahiIfIndex index)
{
    char buf[IF_NAMESIZE];

    if (index >= 0 && if_indextoname((unsigned)index, buf) != NULL)
        return g_strdup(buf);
    return g_strdup_printf("interface %d", index);
}

/* For g_ptr_array_sort() of strings. */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The interfaces (names, sorted, each once) of the instances that @keep picks. */
static GPtrArray *
instance_interfaces(const GPtrArray *instances, gboolean (*keep)(const Instance *, gconstpointer),
                    gconstpointer data)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (guint k = 0; k < instances->len; k++) {
        const Instance *i = g_ptr_array_index(instances, k);
        g_autofree char *name = NULL;

        if (!keep(i, data))
            continue;
        name = interface_name(i->interface);
        if (!g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
            g_ptr_array_add(names, g_steal_pointer(&name));
    }
    g_ptr_array_sort(names, compare_names);
    return names;
}

static char *
join(const GPtrArray *names, const char *sep)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint k = 0; k < names->len; k++)
        g_string_append_printf(s, "%s%s", k > 0 ? sep : "",
                               (const char *)g_ptr_array_index(names, k));
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ------------------------------------------------------------------------------------------
 * Local checks */

static void
check_porchd(Report *r, const char *state_dir)
{
    const char *dirs[2];
    guint n = 0;
    g_autofree char *system_dir = NULL, *user_dir = NULL;
    g_autoptr(GString) why = g_string_new(NULL);

    if (state_dir != NULL) {
        dirs[n++] = state_dir;
    } else {
        dirs[n++] = system_dir = porch_state_default_dir(TRUE);
        if (geteuid() != 0)
            dirs[n++] = user_dir = porch_state_default_dir(FALSE);
    }
    for (guint i = 0; i < n; i++) {
        g_autofree char *reason = NULL;
        pid_t pid = porch_state_find_porchd(dirs[i], &reason);

        if (pid > 0) {
            say(r, CHECK_OK, "porchd", NULL, "running (pid %ld, state folder %s)", (long)pid,
                dirs[i]);
            return;
        }
        g_string_append_printf(why, "%s%s: %s", why->len > 0 ? "; " : "", dirs[i], reason);
    }
    g_autofree char *fix =
            state_dir != NULL ? g_strdup_printf("start porchd --state-dir %s", state_dir)
            : geteuid() == 0  ? g_strdup("sudo systemctl enable --now porchd")
                              : g_strdup("sudo systemctl enable --now porchd (for the machine) or "
                                          "systemctl --user enable --now porchd (for you alone)");

    say(r, CHECK_PROBLEM, "porchd", fix, "not running, so this machine shares nothing (%s)",
        why->str);
}

/* The porch.conf porchd reads (@config_file, else the system's, else this user's), NULL when
 * there is none or it does not load (said). */
static PorchConfig *
load_config(Report *r, const char *config_file)
{
    g_autofree char *system_file = porch_config_default_file(TRUE);
    g_autofree char *user_file = porch_config_default_file(FALSE);
    const char *file = config_file;
    g_autoptr(GError) error = NULL;
    PorchConfig *config;

    if (file == NULL)
        file = g_file_test(system_file, G_FILE_TEST_EXISTS) || geteuid() == 0 ? system_file
                                                                              : user_file;
    if (!g_file_test(file, G_FILE_TEST_EXISTS)) {
        say(r, CHECK_SKIPPED, "porch.conf", NULL,
            "%s does not exist: porchd would share nothing and use the host name", file);
        return NULL;
    }
    config = porch_config_load_file(file, &error);
    if (config == NULL) {
        g_autofree char *fix = g_strdup_printf("correct %s; porchd --check-config tells", file);
        say(r, CHECK_PROBLEM, "porch.conf", fix, "%s", error->message);
        return NULL;
    }
    say(r, CHECK_OK, "porch.conf", NULL, "%s loads: name '%s', port %u", file,
        porch_config_get_name(config), (unsigned)porch_config_get_port(config));
    return config;
}

static void
check_avahi(Report *r, const Mdns *m, gboolean reached)
{
    const char *fix = "sudo systemctl enable --now avahi-daemon";

    if (!reached) {
        if (m->error == AVAHI_ERR_NO_DAEMON)
            say(r, CHECK_PROBLEM, "avahi-daemon", fix,
                "not running: no neighbour can see this machine or be seen (%s)",
                avahi_strerror(m->error));
        else
            say(r, CHECK_PROBLEM, "avahi-daemon", fix, "cannot be reached: %s",
                avahi_strerror(m->error));
        return;
    }
    switch (m->state) {
    case AVAHI_CLIENT_S_RUNNING:
        say(r, CHECK_OK, "avahi-daemon", NULL, "running");
        break;
    case AVAHI_CLIENT_S_COLLISION:
        say(r, CHECK_PROBLEM, "avahi-daemon",
            "give this machine a host name no other machine on the LAN has (hostnamectl "
            "hostname NAME), then sudo systemctl restart avahi-daemon",
            "another machine on the LAN has this machine's host name");
        break;
    default:
        say(r, CHECK_PROBLEM, "avahi-daemon", "wait a few seconds and run porch doctor again",
            "still registering this machine's host name");
        break;
    }
}

static void
check_nss_mdns(Report *r, const char *nsswitch)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    const char *fix = "sudo apt install libnss-mdns";

    if (!g_file_get_contents(nsswitch, &text, NULL, NULL)) {
        say(r, CHECK_PROBLEM, "nss-mdns", fix, "%s cannot be read: .local names will not resolve",
            nsswitch);
        return;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        g_auto(GStrv) words = NULL;
        char *hash = strchr(lines[i], '#');

        if (hash != NULL)
            *hash = '\0';
        words = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        if (g_strcmp0(words[0], "hosts:") != 0)
            continue;
        for (guint w = 1; words[w] != NULL; w++)
            if (g_str_has_prefix(words[w], "mdns")) {
                say(r, CHECK_OK, "nss-mdns", NULL, "%s: hosts uses %s", nsswitch, words[w]);
                return;
            }
        break;
    }
    say(r, CHECK_PROBLEM, "nss-mdns", fix,
        "%s has no mdns on its hosts line: NAME.local does not resolve in other programs",
        nsswitch);
}

/* ---- the firewall (nftables) ---- */

/* Members of what `nft -j` printed, NULL (or "", -1) when missing or of another type: the
 * output is read, never trusted to have the expected shape. */
static JsonObject *
member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
member_array(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static const char *
member_string(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                   ? json_node_get_string(n)
                   : "";
}

static gint64
member_int(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
                   ? json_node_get_int(n)
                   : -1;
}

static JsonObject *
element_object(JsonArray *a, guint i)
{
    JsonNode *n = json_array_get_element(a, i);
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* Whether the value @v (a number, a set of numbers and ranges, a range) holds @port. */
static gboolean
value_holds_port(JsonNode *v, gint64 port)
{
    if (v == NULL)
        return FALSE;
    if (JSON_NODE_HOLDS_VALUE(v))
        return json_node_get_value_type(v) == G_TYPE_INT64 && json_node_get_int(v) == port;
    if (JSON_NODE_HOLDS_ARRAY(v)) {
        JsonArray *a = json_node_get_array(v);
        for (guint i = 0; i < json_array_get_length(a); i++)
            if (value_holds_port(json_array_get_element(a, i), port))
                return TRUE;
        return FALSE;
    }
    if (JSON_NODE_HOLDS_OBJECT(v)) {
        JsonObject *o = json_node_get_object(v);
        JsonArray *range = member_array(o, "range");

        if (json_object_has_member(o, "set"))
            return value_holds_port(json_object_get_member(o, "set"), port);
        if (range != NULL && json_array_get_length(range) == 2) {
            JsonNode *lo = json_array_get_element(range, 0), *hi = json_array_get_element(range, 1);
            return JSON_NODE_HOLDS_VALUE(lo) && JSON_NODE_HOLDS_VALUE(hi) &&
                   json_node_get_value_type(lo) == G_TYPE_INT64 &&
                   json_node_get_value_type(hi) == G_TYPE_INT64 && json_node_get_int(lo) <= port &&
                   port <= json_node_get_int(hi);
        }
    }
    return FALSE;
}

typedef enum {
    VERDICT_NONE,
    VERDICT_ACCEPT,
    VERDICT_DROP, /* drop or reject */
} Verdict;

/* What the rule with @expr does to packets for @port/@proto: VERDICT_NONE when it has no
 * match on that destination port (or matches another protocol's), else its verdict. Other
 * matches (addresses, interfaces) are not weighed: a rule that drops the port for some packets
 * is worth naming. */
static Verdict
rule_verdict(JsonArray *expr, const char *proto, gint64 port)
{
    gboolean matches_port = FALSE, other_proto = FALSE;
    Verdict verdict = VERDICT_NONE;

    for (guint i = 0; expr != NULL && i < json_array_get_length(expr); i++) {
        JsonObject *e = element_object(expr, i);
        JsonObject *match = member_object(e, "match");
        JsonObject *payload = member_object(member_object(match, "left"), "payload");
        const char *op, *p;

        if (e == NULL)
            continue;
        if (json_object_has_member(e, "drop") || json_object_has_member(e, "reject"))
            verdict = VERDICT_DROP;
        else if (json_object_has_member(e, "accept"))
            verdict = VERDICT_ACCEPT;
        if (payload == NULL || strcmp(member_string(payload, "field"), "dport") != 0)
            continue;
        /* "th" (the transport header, after meta l4proto) is either protocol */
        p = member_string(payload, "protocol");
        if (strcmp(p, proto) != 0 && strcmp(p, "th") != 0) {
            other_proto = TRUE;
            continue;
        }
        op = member_string(match, "op");
        if ((strcmp(op, "==") == 0 || strcmp(op, "in") == 0) &&
            value_holds_port(json_object_get_member(match, "right"), port))
            matches_port = TRUE;
    }
    return matches_port && !other_proto ? verdict : VERDICT_NONE;
}

typedef struct {
    const char *proto; /* "udp", "tcp" */
    gint64 port;
    const char *what; /* what its loss means */
    gboolean found;
} Blocked;

/* Whether a rule of chain @family @table @chain in @items accepts @b's port. */
static gboolean
chain_accepts(JsonArray *items, const char *family, const char *table, const char *chain,
              const Blocked *b)
{
    for (guint k = 0; k < json_array_get_length(items); k++) {
        JsonObject *rule = member_object(element_object(items, k), "rule");

        if (rule != NULL && strcmp(member_string(rule, "family"), family) == 0 &&
            strcmp(member_string(rule, "table"), table) == 0 &&
            strcmp(member_string(rule, "chain"), chain) == 0 &&
            rule_verdict(member_array(rule, "expr"), b->proto, b->port) == VERDICT_ACCEPT)
            return TRUE;
    }
    return FALSE;
}

/* Names each nftables rule that drops @b's port, and each input chain that drops by policy
 * with no rule accepting it. */
static void
nft_blocked(Report *r, JsonArray *items, Blocked *b)
{
    for (guint i = 0; i < json_array_get_length(items); i++) {
        JsonObject *item = element_object(items, i);
        JsonObject *rule = member_object(item, "rule"), *chain = member_object(item, "chain");

        if (rule != NULL &&
            rule_verdict(member_array(rule, "expr"), b->proto, b->port) == VERDICT_DROP) {
            const char *family = member_string(rule, "family"),
                       *table = member_string(rule, "table");
            const char *ch = member_string(rule, "chain");
            gint64 handle = member_int(rule, "handle");
            g_autofree char *fix =
                    g_strdup_printf("sudo nft delete rule %s %s %s handle %" G_GINT64_FORMAT,
                                    family, table, ch, handle);

            say(r, CHECK_PROBLEM, "firewall", fix,
                "nftables rule (handle %" G_GINT64_FORMAT ") in chain %s of table %s %s drops "
                "%" G_GINT64_FORMAT "/%s (%s)",
                handle, ch, family, table, b->port, b->proto, b->what);
            b->found = TRUE;
        }
        if (chain != NULL && strcmp(member_string(chain, "hook"), "input") == 0 &&
            strcmp(member_string(chain, "policy"), "drop") == 0) {
            const char *family = member_string(chain, "family");
            const char *table = member_string(chain, "table");
            const char *name = member_string(chain, "name");

            if (!chain_accepts(items, family, table, name, b)) {
                g_autofree char *fix = g_strdup_printf(
                        "sudo nft insert rule %s %s %s %s dport %" G_GINT64_FORMAT " accept",
                        family, table, name, b->proto, b->port);
                say(r, CHECK_PROBLEM, "firewall", fix,
                    "nftables chain %s of table %s %s drops what it does not accept (policy "
                    "drop) and no rule accepts %" G_GINT64_FORMAT "/%s (%s)",
                    name, family, table, b->port, b->proto, b->what);
                b->found = TRUE;
            }
        }
    }
}

/* Whether the iptables port list @ports ("5353", "1000:2000", "22,4422,6000:6010") holds
 * @port. */
static gboolean
iptables_ports_hold(const char *ports, gint64 port)
{
    g_auto(GStrv) items = g_strsplit(ports, ",", -1);

    for (guint i = 0; items[i] != NULL; i++) {
        g_auto(GStrv) range = g_strsplit(items[i], ":", 2);
        guint64 lo, hi;

        if (!porch_text_to_unsigned(range[0], 10, 0, 65535, &lo, NULL))
            continue;
        hi = lo;
        if (range[1] != NULL && !porch_text_to_unsigned(range[1], 10, 0, 65535, &hi, NULL))
            continue;
        if ((gint64)lo <= port && port <= (gint64)hi)
            return TRUE;
    }
    return FALSE;
}

/* What the iptables rule @args (after "-A CHAIN") does to @b's port, as rule_verdict();
 * @ret_multiport: its ports came from the multiport match (--dports). */
static Verdict
iptables_verdict(char **args, const Blocked *b, gboolean *ret_multiport)
{
    const char *proto = NULL, *ports = NULL, *target = NULL;

    for (guint i = 0; args[i] != NULL && args[i + 1] != NULL; i++) {
        const char *a = args[i], *v = args[i + 1];

        if (strcmp(a, "-p") == 0 || strcmp(a, "--protocol") == 0)
            proto = v;
        else if (strcmp(a, "--dport") == 0 || strcmp(a, "--destination-port") == 0 ||
                 strcmp(a, "--dports") == 0 || strcmp(a, "--destination-ports") == 0) {
            ports = v;
            *ret_multiport = strcmp(a, "--dports") == 0 || strcmp(a, "--destination-ports") == 0;
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jump") == 0)
            target = v;
    }
    if (proto == NULL || strcmp(proto, b->proto) != 0 || ports == NULL || target == NULL ||
        !iptables_ports_hold(ports, b->port))
        return VERDICT_NONE;
    if (strcmp(target, "DROP") == 0 || strcmp(target, "REJECT") == 0)
        return VERDICT_DROP;
    return strcmp(target, "ACCEPT") == 0 ? VERDICT_ACCEPT : VERDICT_NONE;
}

/* Names each rule of @text (what @tool-save printed: its filter table) that drops @b's port,
 * and an INPUT chain whose policy is DROP with no rule accepting it. With @nft_backend (the
 * rules live in nftables), only what nft shows as an opaque "xt" extension (multiport): the
 * rest, the policy too, nft_blocked() named already. */
static void
iptables_blocked(Report *r, const char *text, const char *tool, gboolean nft_backend, Blocked *b)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gboolean filter = FALSE, input_drops = FALSE, input_accepts = FALSE;

    for (guint i = 0; lines[i] != NULL; i++) {
        const char *line = lines[i];
        g_auto(GStrv) args = NULL;
        gboolean multiport = FALSE;

        if (line[0] == '*') {
            filter = strcmp(line, "*filter") == 0;
            continue;
        }
        if (!filter)
            continue;
        if (g_str_has_prefix(line, ":INPUT DROP"))
            input_drops = TRUE;
        if (!g_str_has_prefix(line, "-A ") || !g_shell_parse_argv(line, NULL, &args, NULL) ||
            args[1] == NULL)
            continue;
        switch (iptables_verdict(args + 2, b, &multiport)) {
        case VERDICT_ACCEPT:
            if (strcmp(args[1], "INPUT") == 0)
                input_accepts = TRUE;
            break;
        case VERDICT_DROP:
            if (strcmp(args[1], "OUTPUT") == 0 || strcmp(args[1], "FORWARD") == 0 ||
                (nft_backend && !multiport))
                break;
            {
                g_autofree char *fix = g_strdup_printf("sudo %s -D %s", tool, line + strlen("-A "));
                say(r, CHECK_PROBLEM, "firewall", fix,
                    "%s rule '%s' drops %" G_GINT64_FORMAT "/%s (%s)", tool, line, b->port,
                    b->proto, b->what);
                b->found = TRUE;
            }
            break;
        default:
            break;
        }
    }
    if (input_drops && !input_accepts && !nft_backend) {
        g_autofree char *fix =
                g_strdup_printf("sudo %s -I INPUT -p %s --dport %" G_GINT64_FORMAT " -j ACCEPT",
                                tool, b->proto, b->port);
        say(r, CHECK_PROBLEM, "firewall", fix,
            "%s: the INPUT chain drops what it does not accept (policy DROP) and no rule accepts "
            "%" G_GINT64_FORMAT "/%s (%s)",
            tool, b->port, b->proto, b->what);
        b->found = TRUE;
    }
}

/* Runs @argv; its standard output, or NULL with @error set (its standard error in the
 * message). */
static char *
run_capture(const char *const *argv, GError **error)
{
    g_autofree char *out = NULL, *err = NULL;
    int wait_status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                      &wait_status, error))
        return NULL;
    if (!g_spawn_check_wait_status(wait_status, error)) {
        if (err != NULL && *g_strstrip(err) != '\0')
            g_prefix_error(error, "%s: ", err);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* nftables, then iptables (legacy: rules nft does not see; nft: what nft shows only as "xt"
 * extensions, e.g. multiport). */
static void
check_firewall(Report *r, guint16 porch_port)
{
    static const struct {
        const char *save, *tool;
        gboolean nft_backend;
    } iptables[] = {
            {"iptables-legacy-save", "iptables-legacy", FALSE},
            {"ip6tables-legacy-save", "ip6tables-legacy", FALSE},
            {"iptables-nft-save", "iptables", TRUE},
            {"ip6tables-nft-save", "ip6tables", TRUE},
    };
    Blocked blocked[] = {{"udp", MDNS_PORT, "mDNS: neighbours cannot see this machine", FALSE},
                         {"tcp", porch_port, "Porch: neighbours cannot connect", FALSE}};
    g_autofree char *nft = g_find_program_in_path("nft");
    guint tools = 0;

    if (geteuid() != 0) {
        say(r, CHECK_SKIPPED, "firewall", "sudo porch doctor",
            "cannot read the nftables and iptables rules without root");
        return;
    }
    if (nft != NULL) {
        const char *argv[] = {nft, "-j", "list", "ruleset", NULL};
        g_autoptr(GError) error = NULL;
        g_autofree char *out = run_capture(argv, &error);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        JsonArray *items = NULL;

        if (out != NULL && json_parser_load_from_data(parser, out, -1, &error) &&
            (root = json_parser_get_root(parser)) != NULL && JSON_NODE_HOLDS_OBJECT(root))
            items = member_array(json_node_get_object(root), "nftables");
        if (items != NULL) {
            tools++;
            for (guint i = 0; i < G_N_ELEMENTS(blocked); i++)
                nft_blocked(r, items, &blocked[i]);
        } else {
            say(r, CHECK_SKIPPED, "firewall", NULL, "cannot read the nftables rules: %s",
                error != NULL ? error->message : "nft -j printed no ruleset");
        }
    }
    for (guint t = 0; t < G_N_ELEMENTS(iptables); t++) {
        g_autofree char *path = g_find_program_in_path(iptables[t].save);
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        const char *argv[] = {path, NULL};

        if (path == NULL)
            continue;
        out = run_capture(argv, &error);
        if (out == NULL) {
            say(r, CHECK_SKIPPED, "firewall", NULL, "cannot read the %s rules: %s",
                iptables[t].tool, error->message);
            continue;
        }
        tools++;
        for (guint i = 0; i < G_N_ELEMENTS(blocked); i++)
            iptables_blocked(r, out, iptables[t].tool, iptables[t].nft_backend, &blocked[i]);
    }
    if (tools == 0)
        say(r, CHECK_SKIPPED, "firewall", NULL,
            "neither nft nor iptables is installed: no firewall rules to read");
    else if (!blocked[0].found && !blocked[1].found)
        say(r, CHECK_OK, "firewall", NULL, "no firewall rule drops %d/udp (mDNS) or %u/tcp (Porch)",
            MDNS_PORT, (unsigned)porch_port);
}

/* ---- interfaces ---- */

typedef struct {
    char *name;
    unsigned flags;
    gboolean v4, v6_global, v6_link_local;
    char *first_v4;
} Interface;

static void
interface_free(gpointer p)
{
    Interface *i = p;
    g_free(i->name);
    g_free(i->first_v4);
    g_free(i);
}

/* Interfaces where no neighbour can be: container bridges and their veth ends, virtual
 * machines' bridges, VPN tunnels (the ones porchd does not publish on unless told to). */
static const char *
virtual_kind(const char *name)
{
    return porch_interface_virtual_kind(name);
}

static gint
compare_interfaces(gconstpointer a, gconstpointer b)
{
    return strcmp((*(const Interface *const *)a)->name, (*(const Interface *const *)b)->name);
}

static GPtrArray *
list_interfaces(void)
{
    GPtrArray *all = g_ptr_array_new_with_free_func(interface_free);
    struct ifaddrs *ifa = NULL;

    if (getifaddrs(&ifa) != 0)
        return all;
    for (struct ifaddrs *a = ifa; a != NULL; a = a->ifa_next) {
        Interface *it = NULL;

        for (guint k = 0; k < all->len && it == NULL; k++)
            if (strcmp(((Interface *)g_ptr_array_index(all, k))->name, a->ifa_name) == 0)
                it = g_ptr_array_index(all, k);
        if (it == NULL) {
            it = g_new0(Interface, 1);
            it->name = g_strdup(a->ifa_name);
            g_ptr_array_add(all, it);
        }
        it->flags |= a->ifa_flags;
        if (a->ifa_addr == NULL)
            continue;
        if (a->ifa_addr->sa_family == AF_INET) {
            char buf[INET_ADDRSTRLEN];
            it->v4 = TRUE;
            if (it->first_v4 == NULL &&
                inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr, buf,
                          sizeof buf) != NULL)
                it->first_v4 = g_strdup(buf);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            const struct in6_addr *x = &((struct sockaddr_in6 *)(void *)a->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(x))
                it->v6_link_local = TRUE;
            else
                it->v6_global = TRUE;
        }
    }
    freeifaddrs(ifa);
    g_ptr_array_sort(all, compare_interfaces);
    return all;
}

static gboolean
is_local_on(const Instance *i, gconstpointer name)
{
    g_autofree char *here = interface_name(i->interface);
    return i->local && strcmp(here, name) == 0;
}

/* Each interface: one where no neighbour can be (a VPN, a container bridge) unless porch.conf's
 * [porch] interfaces (@configured, NULL when not set) names it; one it leaves out; and for the
 * others whether they do multicast, have an address neighbours reach, and carry Porch's
 * records. */
static void
check_interfaces(Report *r, const Mdns *m, gboolean mdns_ok, gboolean porchd_publishes,
                 const char *const *configured)
{
    g_autoptr(GPtrArray) all = list_interfaces();
    guint usable = 0;

    for (guint k = 0; k < all->len; k++) {
        const Interface *it = g_ptr_array_index(all, k);
        const char *kind = virtual_kind(it->name);
        gboolean named = configured != NULL && g_strv_contains(configured, it->name);
        g_autoptr(GPtrArray) here = NULL;
        gboolean published;

        if ((it->flags & IFF_LOOPBACK) || !(it->flags & IFF_UP) ||
            (!it->v4 && !it->v6_global && !it->v6_link_local))
            continue;
        here = mdns_ok ? instance_interfaces(m->instances, is_local_on, it->name) : NULL;
        published = here != NULL && here->len > 0;
        if (configured != NULL && !named) {
            /* porchd leaves it out: what lies behind it is not this machine's LAN */
            if (published)
                say(r, CHECK_PROBLEM, it->name,
                    "check that porchd was restarted or reloaded after porch.conf changed",
                    "not in [porch] interfaces, yet Porch is published there");
            else
                say(r, CHECK_OK, it->name, NULL,
                    "not in [porch] interfaces: Porch is not published there");
            continue;
        }
        if (kind != NULL && !named) {
            if (published) {
                g_autofree char *fix = g_strdup_printf(
                        "add deny-interfaces=%s to [server] in /etc/avahi/avahi-daemon.conf, "
                        "then sudo systemctl restart avahi-daemon",
                        it->name);
                say(r, CHECK_PROBLEM, it->name, fix,
                    "%s, where no neighbour can be, and Porch is published there", kind);
            } else {
                say(r, CHECK_OK, it->name, NULL, "%s: no neighbour can be there", kind);
            }
            continue;
        }
        usable++;
        if (!(it->flags & IFF_MULTICAST)) {
            say(r, CHECK_PROBLEM, it->name, NULL,
                "does not do multicast: neighbours cannot find each other over mDNS there");
            continue;
        }
        if (porchd_publishes && mdns_ok && !published) {
            say(r, CHECK_PROBLEM, it->name,
                "check allow-interfaces and deny-interfaces in /etc/avahi/avahi-daemon.conf, "
                "then sudo systemctl restart avahi-daemon",
                "up%s%s, but Porch's records are not published on it: neighbours there do not "
                "see this machine",
                it->first_v4 != NULL ? ", " : "", it->first_v4 != NULL ? it->first_v4 : "");
            continue;
        }
        if (!it->v4 && !it->v6_global) {
            /* Porch works there (porchd listens on ::, the client gives the scope), other
             * programs often do not: worth knowing, not a problem */
            say(r, CHECK_INFO, it->name, NULL,
                "IPv6 link-local only (no IPv4, no global IPv6 address)%s: Porch reaches "
                "neighbours there as fe80::...%%%s; programs that need IPv4 do not%s",
                named ? ", named in [porch] interfaces" : "", it->name,
                published ? "; Porch published here" : "");
            continue;
        }
        say(r, CHECK_OK, it->name, NULL, "up%s%s%s%s", it->first_v4 != NULL ? ", " : "",
            it->first_v4 != NULL ? it->first_v4 : "", published ? ", Porch published here" : "",
            named && kind != NULL ? " (named in [porch] interfaces: not taken for a VPN or "
                                    "container bridge)"
            : named               ? " (named in [porch] interfaces)"
                                  : "");
    }
    if (usable == 0)
        say(r, CHECK_PROBLEM, "network",
            configured != NULL
                    ? "connect this machine to the LAN, or name its interface in [porch] "
                      "interfaces"
                    : "connect this machine to the LAN (Wi-Fi or a cable)",
            "no interface where neighbours can be is up");
}

/* Our _porch._tcp service: published at all, and under the configured name. */
static void
check_published(Report *r, const Mdns *m, const PorchConfig *config, gboolean porchd_running)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *want = config != NULL ? porch_config_get_name(config) : NULL;
    g_autofree char *list = NULL;

    for (guint k = 0; k < m->instances->len; k++) {
        const Instance *i = g_ptr_array_index(m->instances, k);
        if (i->local && !g_ptr_array_find_with_equal_func(names, i->name, g_str_equal, NULL))
            g_ptr_array_add(names, g_strdup(i->name));
    }
    if (names->len == 0) {
        if (porchd_running)
            say(r, CHECK_PROBLEM, "published",
                "look at porchd's log (journalctl -u porchd) for what avahi-daemon said",
                "porchd runs but avahi-daemon publishes no Porch service for this machine");
        else
            say(r, CHECK_SKIPPED, "published", NULL, "porchd does not run: nothing to publish");
        return;
    }
    g_ptr_array_sort(names, compare_names);
    list = join(names, "', '");
    if (want != NULL && !g_ptr_array_find_with_equal_func(names, want, g_str_equal, NULL)) {
        g_autofree char *fix = g_strdup_printf(
                "give this machine a name no neighbour has: name = ... in [porch] of %s",
                porch_config_get_origin(config));
        say(r, CHECK_PROBLEM, "name", fix,
            "published as '%s', not '%s': another machine on the LAN already uses that name", list,
            want);
        return;
    }
    say(r, CHECK_OK, "name", NULL, "published as '%s'", list);
}

/* The clock, as the kernel knows it (adjtimex(2), which only reads with no mode set): kept
 * in step by a time server (NTP: systemd-timesyncd, chrony, ntpd), and how far off it may be
 * then. How far off it is from a neighbour's, `porch doctor HOST` measures. */
static void
check_clock(Report *r)
{
    struct timex tx = {0};
    int state = adjtimex(&tx);

    if (state == -1) {
        say(r, CHECK_SKIPPED, "clock", NULL, "the kernel does not say (adjtimex: %s)",
            g_strerror(errno));
    } else if (state == TIME_ERROR || (tx.status & STA_UNSYNC) != 0) {
        say(r, CHECK_INFO, "clock", "sudo timedatectl set-ntp true",
            "not kept in step by a time server: it may drift far off, and neighbours then see "
            "the dates of your files wrong (porch doctor HOST compares it with a "
            "neighbour's)");
    } else {
        say(r, CHECK_OK, "clock", NULL, "kept in step by a time server (off by %ld ms at most)",
            tx.maxerror / 1000);
    }
}

static int
doctor_local(Report *r, const char *config_file, const char *state_dir, double timeout)
{
    g_autoptr(PorchConfig) config = NULL;
    Mdns m = {0};
    gboolean reached, running;
    guint before;

    before = r->problems;
    check_porchd(r, state_dir);
    running = r->problems == before;
    config = load_config(r, config_file);
    reached = mdns_browse(&m, timeout);
    check_avahi(r, &m, reached);
    check_nss_mdns(r, "/etc/nsswitch.conf");
    check_firewall(r, config != NULL ? porch_config_get_port(config) : PORCH_DEFAULT_PORT);
    check_interfaces(r, &m, reached, running,
                     config != NULL ? porch_config_get_interfaces(config) : NULL);
    if (reached)
        check_published(r, &m, config, running);
    else
        say(r, CHECK_SKIPPED, "published", NULL, "avahi-daemon cannot be reached");
    check_clock(r);
    mdns_clear(&m);
    return r->problems > 0 ? PORCH_CLI_EXIT_FAILED : PORCH_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------
 * `porch doctor HOST` */

typedef struct {
    const char *name, *pin_name;
} Wanted;

/* An instance of the host @data names: its display name as typed (case does not matter, as
 * for porch_cli_target_resolve()), or the one it was found under. */
static gboolean
is_host(const Instance *i, gconstpointer data)
{
    const Wanted *w = data;
    g_autofree char *folded = g_utf8_casefold(i->name, -1);
    g_autofree char *want = g_utf8_casefold(w->name, -1);

    return !i->local && (strcmp(folded, want) == 0 ||
                         (w->pin_name != NULL && strcmp(i->name, w->pin_name) == 0));
}

/* Connects a socket to one of the target's addresses at its port: the first that answers. */
static void
check_tcp(Report *r, const PorchCliTarget *t, int connect_timeout, gboolean *ret_ok)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GString) failures = g_string_new(NULL);

    g_socket_client_set_timeout(client, (guint)connect_timeout);
    for (guint i = 0; t->addresses[i] != NULL; i++) {
        g_autofree char *where =
                strchr(t->addresses[i], ':') != NULL
                        ? g_strdup_printf("[%s]:%u", t->addresses[i], (unsigned)t->connect_port)
                        : g_strdup_printf("%s:%u", t->addresses[i], (unsigned)t->connect_port);
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketConnection) c =
                g_socket_client_connect_to_host(client, where, t->connect_port, NULL, &error);

        if (c != NULL) {
            say(r, CHECK_OK, "tcp", NULL, "%s answers", where);
            *ret_ok = TRUE;
            return;
        }
        g_string_append_printf(failures, "%s%s: %s", failures->len > 0 ? "; " : "", where,
                               error->message);
    }
    say(r, CHECK_PROBLEM, "tcp",
        "check that it is on and porchd runs there (porch doctor on it); a firewall on it "
        "may drop the port",
        "cannot connect to %s: %s", t->host, failures->str);
    *ret_ok = FALSE;
}

/* A throwaway known_peers, removed with its folder when it goes out of scope. */
typedef struct {
    char *dir, *file;
} Scratch;

static void
scratch_clear(Scratch *s)
{
    if (s->file != NULL)
        g_unlink(s->file);
    if (s->dir != NULL)
        g_rmdir(s->dir);
    g_free(s->file);
    g_free(s->dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Scratch, scratch_clear)

/* How far apart two clocks may be before the doctor calls it a problem. */
#define CLOCK_MAX_OFFSET_S 60

/* What the neighbour says of itself (its porchd's status command, on a connection of its own):
 * the printers we may print on, and its clock against ours. */
static void
check_status(Report *r, const PorchCliTarget *t, const PorchCliConnectOptions *base)
{
    PorchCliConnectOptions o = *base;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(PorchHostStatus) status = NULL;
    g_autoptr(GError) error = NULL;
    gint64 before, after;

    o.for_print = TRUE;
    if (porch_cli_connect_full(t, &o, &client, NULL, &error) != PORCH_CLI_EXIT_OK) {
        say(r, CHECK_SKIPPED, "printers", NULL, "cannot ask it again: %s", error->message);
        return;
    }
    before = g_get_real_time();
    if (!porch_client_status(client, &status, &error)) {
        /* a porchd too old to say: what it advertises is all there is */
        if (t->printers == NULL ||
            !g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_USAGE)) {
            say(r, CHECK_SKIPPED, "printers", NULL, "it does not say (%s)", error->message);
        } else if (t->printers[0] == NULL) {
            say(r, CHECK_OK, "printers", NULL, "it advertises none");
        } else {
            g_autofree char *list = g_strjoinv(", ", t->printers);
            say(r, CHECK_OK, "printers", NULL,
                "%s (advertised; its porchd is too old to say which you may print on)", list);
        }
        say(r, CHECK_SKIPPED, "clock", NULL, "its porchd is too old to tell its time");
        return;
    }
    after = g_get_real_time();
    if (status->printers[0] != NULL) {
        g_autofree char *list = g_strjoinv(", ", status->printers);
        say(r, CHECK_OK, "printers", NULL, "you may print on %s", list);
    } else if (t->printers != NULL && t->printers[0] != NULL) {
        g_autofree char *list = g_strjoinv(", ", t->printers);
        say(r, CHECK_INFO, "printers", NULL, "it advertises %s, but you may print on none", list);
    } else {
        say(r, CHECK_OK, "printers", NULL, "none you may print on");
    }
    if (status->time_us == 0) {
        say(r, CHECK_SKIPPED, "clock", NULL, "its porchd is too old to tell its time");
    } else {
        /* its time against ours halfway through the exchange; the exchange's length bounds the
         * error */
        double offset = (double)(status->time_us - (before + after) / 2) / G_USEC_PER_SEC;
        double slack = (double)(after - before) / 2 / G_USEC_PER_SEC;

        if (fabs(offset) - slack > CLOCK_MAX_OFFSET_S)
            say(r, CHECK_PROBLEM, "clock",
                "keep both clocks in step with a time server: sudo timedatectl set-ntp true, "
                "here and there",
                "its clock is %.0f s %s ours: the dates of files going between you read wrong",
                fabs(offset), offset > 0 ? "ahead of" : "behind");
        else
            say(r, CHECK_OK, "clock", NULL, "within %.1f s of ours", fabs(offset) + slack);
    }
}

static int
doctor_host(Report *r, const char *arg, const PorchCliCommon *common)
{
    g_autoptr(PorchCliTarget) t = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autofree char *key_fp = NULL;
    g_autofree char *known = porch_known_peers_default_file();
    g_autofree char *pinned = NULL;
    g_auto(Scratch) scratch = {0};
    PorchCliConnectOptions options = {0};
    Mdns m = {0};
    gboolean by_address, reached, tcp_ok = FALSE;
    g_autoptr(GPtrArray) remembered = porch_neighbours_load(NULL, NULL);
    const PorchRemembered *by_memory = NULL;
    guint pin_line = 0;
    int status;

    t = porch_cli_target_parse(arg, &error);
    if (t == NULL) {
        porch_cli_usage_error("doctor", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    by_address = g_hostname_is_ip_address(t->name);
    if (remembered != NULL && !by_address)
        by_memory = porch_neighbours_find(remembered, t->name);

    /* its name, then whether mDNS shows it and where */
    status = porch_cli_target_resolve_full(t, common->timeout, &error);
    if (by_address) {
        say(r, CHECK_SKIPPED, "mdns", NULL, "%s is an address: mDNS is not needed to reach it",
            t->name);
    } else {
        g_autofree char *valid = g_utf8_make_valid(t->name, -1);
        Wanted w = {valid, status == PORCH_CLI_EXIT_OK ? t->pin_name : NULL};
        reached = mdns_browse(&m, common->timeout);
        if (!reached) {
            say(r, CHECK_PROBLEM, "mdns", "sudo systemctl enable --now avahi-daemon",
                "avahi-daemon cannot be reached (%s): neighbours cannot be seen",
                avahi_strerror(m.error));
        } else {
            g_autoptr(GPtrArray) where = instance_interfaces(m.instances, is_host, &w);
            g_autofree char *list = join(where, ", ");
            if (where->len > 0)
                say(r, CHECK_OK, "mdns", NULL, "seen on %s", list);
            else if (by_memory != NULL)
                say(r, CHECK_INFO, "mdns", NULL,
                    "'%s' is not seen over mDNS; it is remembered by address (%s) and reached "
                    "there",
                    by_memory->name, by_memory->address);
            else
                say(r, CHECK_PROBLEM, "mdns",
                    "run porch doctor on it; if it runs porchd and avahi-daemon, multicast is "
                    "blocked between you (a firewall, Wi-Fi client isolation, another subnet)",
                    "no Porch host called '%s' is seen over mDNS", t->name);
        }
        mdns_clear(&m);
    }
    if (status != PORCH_CLI_EXIT_OK) {
        say(r, CHECK_PROBLEM, "name", "check the name with porch browse", "%s", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    {
        g_autofree char *addresses = g_strjoinv(", ", t->addresses);
        say(r, CHECK_OK, "name", NULL, "%s is %s%s", t->name, addresses,
            by_address ? ""
            : by_memory != NULL && g_strv_equal((const char *const *)t->addresses,
                                                (const char *const *)(const char *[]){
                                                        by_memory->address, NULL})
                    ? " (remembered by address)"
            : t->printers != NULL ? " (over mDNS)"
                                  : " (from the resolver)");
    }

    check_tcp(r, t, common->connect_timeout, &tcp_ok);
    if (!tcp_ok)
        return PORCH_CLI_EXIT_FAILED;

    /* A first key goes into a throwaway copy: the doctor pins nothing. */
    pinned = porch_known_peers_lookup(known, t->pin_name, &pin_line);
    if (pinned == NULL) {
        scratch.dir = g_dir_make_tmp("porch-doctor-XXXXXX", &error);
        if (scratch.dir == NULL) {
            say(r, CHECK_SKIPPED, "key", NULL, "cannot make a temporary folder: %s",
                error->message);
            return PORCH_CLI_EXIT_FAILED;
        }
        scratch.file = g_build_filename(scratch.dir, "known_peers", NULL);
    }
    options.identity_file = common->identity;
    options.known_peers = scratch.file != NULL ? scratch.file : known;
    options.quiet = TRUE;
    options.never_ask = TRUE;
    options.connect_timeout_seconds = common->connect_timeout;
    g_clear_error(&error);
    status = porch_cli_connect_full(t, &options, &client, &key_fp, &error);
    if (scratch.file != NULL) {
        /* kept for the status connection below, removed on the way out */
        g_autofree char *seen = porch_known_peers_lookup(scratch.file, t->pin_name, NULL);
        if (seen != NULL)
            say(r, CHECK_OK, "key", NULL,
                "%s is not pinned yet; its key is %s: the first porch command pins it", t->pin_name,
                seen);
    }
    if (client == NULL) {
        if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED)) {
            g_autofree char *fix = g_strdup_printf(
                    "ask its owner whether it was reinstalled or got a new key; if so, delete "
                    "line %u of %s",
                    pin_line, known);
            say(r, CHECK_PROBLEM, "key", fix,
                "the key changed: %s no longer shows the key pinned for it (%s); someone may be "
                "impersonating it",
                t->host, pinned);
        } else if (g_error_matches(error, PORCH_CLIENT_ERROR,
                                   PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH)) {
            say(r, CHECK_PROBLEM, "key", "ask its owner; do not connect until the keys agree", "%s",
                error->message);
        } else if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_AUTH)) {
            if (pinned != NULL)
                say(r, CHECK_OK, "key", NULL, "matches the pin in %s", known);
            {
                g_autofree char *fix =
                        g_strdup_printf("its owner can run 'porch peers accept %s' there",
                                        t->user != NULL ? t->user : g_get_user_name());
                say(r, CHECK_PROBLEM, "login", fix,
                    "refused: it knows neither your key nor lets guests in (%s)", error->message);
            }
        } else if (status == PORCH_CLI_EXIT_USAGE) {
            say(r, CHECK_PROBLEM, "login", "porch id --identity FILE makes a key there", "%s",
                error->message);
        } else {
            say(r, CHECK_PROBLEM, "ssh", "run porch doctor on it", "%s", error->message);
        }
        return PORCH_CLI_EXIT_FAILED;
    }
    if (pinned != NULL)
        say(r, CHECK_OK, "key", NULL, "matches the pin in %s", known);
    if (porch_client_is_guest(client)) {
        g_autofree char *fix = g_strdup_printf(
                "its owner can run 'porch peers accept %s' there (it has been asked)",
                t->user != NULL ? t->user : g_get_user_name());
        say(r, CHECK_PROBLEM, "login", fix,
            "only as a guest: %s does not know your key %s; you see only what it lets anyone "
            "see",
            t->host, key_fp);
    } else {
        say(r, CHECK_OK, "login", NULL, "as a peer, with your key %s", key_fp);
    }
    {
        g_autoptr(GPtrArray) shares = porch_client_list(client, "/", NULL, &error);
        g_autoptr(GString) line = g_string_new(NULL);

        if (shares == NULL) {
            say(r, CHECK_PROBLEM, "shares", NULL, "cannot be listed: %s", error->message);
        } else {
            for (guint i = 0; i < shares->len; i++) {
                const PorchRemoteFile *f = g_ptr_array_index(shares, i);
                g_string_append_printf(line, "%s%s (%s)", i > 0 ? ", " : "", f->name,
                                       (f->mode & 0222) != 0 ? "read, write" : "read");
            }
            if (shares->len == 0)
                say(r, CHECK_OK, "shares", NULL, "none you may see");
            else
                say(r, CHECK_OK, "shares", NULL, "%s", line->str);
        }
    }
    check_status(r, t, &options);
    return r->problems > 0 ? PORCH_CLI_EXIT_FAILED : PORCH_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */

int
porch_cli_doctor(int argc, char **argv)
{
    g_auto(PorchCliCommon) common = {0};
    g_autofree char *config_file = NULL;
    g_autofree char *state_dir = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the checks as JSON", NULL},
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
             "Without HOST: porchd's porch.conf", "FILE"},
            {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
             "Without HOST: porchd's state directory", "DIR"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[HOST]");
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    Report r = {0};
    int status;

    porch_cli_set_summary(
            ctx, "Check what stands between this machine and its neighbours, one line per "
                 "check: ok, or the problem and its fix. With HOST, walk the path to that "
                 "neighbour. Exit status 0 when every check is ok, 1 when one found a problem.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    if (!porch_cli_parse_options(ctx, "doctor", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc > 2) {
        porch_cli_usage_error("doctor", "one HOST at most");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc == 2 && (config_file != NULL || state_dir != NULL)) {
        porch_cli_usage_error("doctor", "--config and --state-dir go without HOST");
        return PORCH_CLI_EXIT_USAGE;
    }
    r.json = json;
    r.nodes = nodes;
    status = argc == 2 ? doctor_host(&r, argv[1], &common)
                       : doctor_local(&r, config_file, state_dir, common.timeout);
    if (status == PORCH_CLI_EXIT_USAGE)
        return status;
    if (json)
        porch_cli_put_json_lines(nodes);
    if (fflush(stdout) != 0)
        return PORCH_CLI_EXIT_FAILED;
    return r.problems > 0 ? PORCH_CLI_EXIT_FAILED : PORCH_CLI_EXIT_OK;
}
