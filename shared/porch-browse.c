/* porch-browse.c — DNS-SD browsing through avahi-client, converted to GObject signals at this
 * boundary.
 *
 * Inside: one service browser per type (all interfaces, both protocols; sightings on interfaces
 * where no neighbour can be are dropped as they arrive); an Instance per service instance
 * (type, domain, name) with the set of (interface, protocol) it was seen on
 * and one resolver, kept while the instance lives so that TXT and address changes arrive; a
 * Host per resolved host name with its instances and two record browsers (A, AAAA) for its
 * addresses. Avahi callbacks only change these and mark hosts dirty; a short timer on the
 * browser's main context (FLUSH_DELAY_MS) then builds immutable PorchNeighbour snapshots and
 * emits the signals (habit 9: never mutate a caller's model from inside an Avahi callback).
 */
#define G_LOG_DOMAIN "porch-browse"
#include "porch-browse.h"
#include "porch-interfaces.h"
#include "porch-txt.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/defs.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>

#define TYPE_PORCH       "_porch._tcp"
#define TYPE_SFTP        "_sftp-ssh._tcp"
#define TYPE_PORCH_PRINT "_porch-print._tcp"

static const char *const service_types[] = {
        TYPE_PORCH,   TYPE_SFTP,   TYPE_PORCH_PRINT, "_ipp._tcp",
        "_ipps._tcp", "_smb._tcp", "_webdav._tcp",   "_webdavs._tcp",
};

/* Changes are collected for this long after the first one before the signals go out: the
 * records of one host arrive in a burst (service, TXT, addresses), and make one signal. */
#define FLUSH_DELAY_MS 25
/* Waits before trying again: the system bus not reachable, a browser that failed. */
#define RETRY_MS 2000

/* ------------------------------------------------------------------------------------------
 * PorchNeighbour */

struct _PorchNeighbour {
    gatomicrefcount ref;
    char *name;
    char *host_name;
    char *fingerprint;
    gboolean is_porch;
    gboolean inbox;      /* _porch._tcp TXT inbox=1 */
    gboolean remembered; /* porch_neighbour_new_remembered() */
    guint16 port;
    char **ipv4;
    char **ipv6;
    PorchNeighbourShare *shares;
    guint n_shares;
    PorchNeighbourPrinter *printers;
    guint n_printers;
    PorchNeighbourService *services;
    guint n_services;
    char *digest; /* every field above, length-prefixed: equal digests, equal neighbours */
};

G_DEFINE_BOXED_TYPE(PorchNeighbour, porch_neighbour, porch_neighbour_ref, porch_neighbour_unref)

PorchNeighbour *
porch_neighbour_ref(PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, NULL);
    g_atomic_ref_count_inc(&neighbour->ref);
    return neighbour;
}

void
porch_neighbour_unref(PorchNeighbour *neighbour)
{
    if (neighbour == NULL || !g_atomic_ref_count_dec(&neighbour->ref))
        return;
    for (guint i = 0; i < neighbour->n_shares; i++) {
        g_free(neighbour->shares[i].name);
        g_free(neighbour->shares[i].path);
        g_free(neighbour->shares[i].uri);
    }
    for (guint i = 0; i < neighbour->n_printers; i++) {
        g_free(neighbour->printers[i].name);
        g_free(neighbour->printers[i].instance);
        g_strfreev(neighbour->printers[i].txt);
    }
    for (guint i = 0; i < neighbour->n_services; i++) {
        g_free(neighbour->services[i].type);
        g_free(neighbour->services[i].name);
        g_free(neighbour->services[i].uri);
        g_strfreev(neighbour->services[i].txt);
    }
    g_free(neighbour->shares);
    g_free(neighbour->printers);
    g_free(neighbour->services);
    g_free(neighbour->name);
    g_free(neighbour->host_name);
    g_free(neighbour->fingerprint);
    g_strfreev(neighbour->ipv4);
    g_strfreev(neighbour->ipv6);
    g_free(neighbour->digest);
    g_free(neighbour);
}

const char *
porch_neighbour_get_name(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, NULL);
    return neighbour->name;
}

const char *
porch_neighbour_get_host_name(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, NULL);
    return neighbour->host_name;
}

gboolean
porch_neighbour_is_porch(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, FALSE);
    return neighbour->is_porch;
}

guint16
porch_neighbour_get_port(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, 0);
    return neighbour->port;
}

gboolean
porch_neighbour_has_inbox(const PorchNeighbour *neighbour)
{
    return neighbour->inbox;
}

const char *
porch_neighbour_get_fingerprint(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, NULL);
    return neighbour->fingerprint;
}

const char *const *
porch_neighbour_get_ipv4_addresses(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, NULL);
    return (const char *const *)neighbour->ipv4;
}

const char *const *
porch_neighbour_get_ipv6_addresses(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, NULL);
    return (const char *const *)neighbour->ipv6;
}

const PorchNeighbourShare *
porch_neighbour_get_shares(const PorchNeighbour *neighbour, guint *ret_n)
{
    g_return_val_if_fail(neighbour != NULL && ret_n != NULL, NULL);
    *ret_n = neighbour->n_shares;
    return neighbour->shares;
}

const PorchNeighbourPrinter *
porch_neighbour_get_printers(const PorchNeighbour *neighbour, guint *ret_n)
{
    g_return_val_if_fail(neighbour != NULL && ret_n != NULL, NULL);
    *ret_n = neighbour->n_printers;
    return neighbour->printers;
}

const PorchNeighbourService *
porch_neighbour_get_services(const PorchNeighbour *neighbour, guint *ret_n)
{
    g_return_val_if_fail(neighbour != NULL && ret_n != NULL, NULL);
    *ret_n = neighbour->n_services;
    return neighbour->services;
}

gboolean
porch_neighbour_equal(const PorchNeighbour *a, const PorchNeighbour *b)
{
    g_return_val_if_fail(a != NULL && b != NULL, FALSE);
    return a == b || strcmp(a->digest, b->digest) == 0;
}

char *
porch_neighbour_address_with_port(const char *address, guint16 port)
{
    g_return_val_if_fail(address != NULL, NULL);
    if (strchr(address, ':') != NULL)
        return g_strdup_printf("[%s]:%u", address, (unsigned)port);
    return g_strdup_printf("%s:%u", address, (unsigned)port);
}

const char *
porch_neighbour_txt_lookup(const char *const *txt, const char *key)
{
    return porch_txt_lookup(txt, key);
}

/* ------------------------------------------------------------------------------------------
 * What the browser tracks */

typedef struct _Host Host;

typedef struct {
    PorchBrowser *browser; /* not a reference: the browser owns the instance */
    char *key;             /* length-prefixed type, domain, name */
    char *type;            /* as browsed, one of service_types */
    char *domain;
    char *name;       /* as advertised (bytes), for Avahi */
    char *name_utf8;  /* made valid, for the model */
    GHashTable *seen; /* (interface, protocol) pairs it is announced on */
    AvahiServiceResolver *resolver;
    /* What the resolver found; resolved FALSE until it did. */
    gboolean resolved;
    Host *host; /* the host it belongs to while resolved */
    guint16 port;
    char **txt;
    char *address; /* the resolver's address, scoped when link-local */
} Instance;

struct _Host {
    PorchBrowser *browser;
    char *key;            /* host name in lower case */
    char *host_name;      /* as the first resolved instance spelled it, valid UTF-8 */
    GPtrArray *instances; /* Instance *, resolved, not owned */
    AvahiRecordBrowser *a_browser;
    AvahiRecordBrowser *aaaa_browser;
    GHashTable *addresses;     /* address string -> number of (interface, protocol) sightings */
    PorchNeighbour *published; /* the last snapshot announced, or NULL */
    gboolean dirty;
};

struct _PorchBrowser {
    GObject parent_instance;
    GMainContext *context;
    AvahiGLibPoll *poll;
    AvahiClient *client;
    AvahiServiceBrowser *browsers[G_N_ELEMENTS(service_types)];
    GHashTable *instances; /* key -> Instance, owned */
    GHashTable *hosts;     /* key -> Host, owned */
    GHashTable *wanted;    /* interface index -> 1 + whether neighbours can be there */
    GStrv interfaces;      /* [porch] interfaces; NULL: the default rule */
    gboolean started;
    PorchBrowserState state;
    PorchBrowserState notified_state; /* what notify::state last told */
    char *why_not;                    /* why the state is CONNECTING, for the GError */
    GSource *flush_source;
    GSource *retry_source;
};

enum { SIGNAL_ADDED, SIGNAL_CHANGED, SIGNAL_REMOVED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_STATE, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE(PorchBrowser, porch_browser, G_TYPE_OBJECT)
G_DEFINE_QUARK(porch - browser - error - quark, porch_browser_error)
G_DEFINE_ENUM_TYPE(PorchBrowserState, porch_browser_state,
                   G_DEFINE_ENUM_VALUE(PORCH_BROWSER_STOPPED, "stopped"),
                   G_DEFINE_ENUM_VALUE(PORCH_BROWSER_CONNECTING, "connecting"),
                   G_DEFINE_ENUM_VALUE(PORCH_BROWSER_RUNNING, "running"))

static void schedule_flush(PorchBrowser *self);
static void schedule_retry(PorchBrowser *self, guint ms);

static void
host_mark_dirty(Host *h)
{
    h->dirty = TRUE;
    schedule_flush(h->browser);
}

static void
host_free(Host *h)
{
    if (h->a_browser != NULL)
        avahi_record_browser_free(h->a_browser);
    if (h->aaaa_browser != NULL)
        avahi_record_browser_free(h->aaaa_browser);
    g_ptr_array_unref(h->instances);
    g_hash_table_unref(h->addresses);
    porch_neighbour_unref(h->published);
    g_free(h->key);
    g_free(h->host_name);
    g_free(h);
}

/* Takes a resolved instance off its host (the host is flushed, and freed there when it has no
 * instance left). */
static void
instance_detach(Instance *inst)
{
    if (inst->host == NULL)
        return;
    g_ptr_array_remove(inst->host->instances, inst);
    host_mark_dirty(inst->host);
    inst->host = NULL;
}

static void
instance_free(Instance *inst)
{
    if (inst->resolver != NULL)
        avahi_service_resolver_free(inst->resolver);
    instance_detach(inst);
    g_hash_table_unref(inst->seen);
    g_strfreev(inst->txt);
    g_free(inst->address);
    g_free(inst->key);
    g_free(inst->type);
    g_free(inst->domain);
    g_free(inst->name);
    g_free(inst->name_utf8);
    g_free(inst);
}

static char *
instance_key(const char *type, const char *domain, const char *name)
{
    return g_strdup_printf("%zu:%s%zu:%s%s", strlen(type), type, strlen(domain), domain, name);
}

/* "fe80::1%eth0" for a link-local IPv6 address, the plain address otherwise. */
static char *
address_string(int family, const void *bytes, AvahiIfIndex iface)
{
    char buf[INET6_ADDRSTRLEN];
    char ifname[IF_NAMESIZE];
    const guint8 *b = bytes;

    if (inet_ntop(family, bytes, buf, sizeof buf) == NULL)
        return NULL;
    if (family == AF_INET6 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80 && iface >= 0) {
        if (if_indextoname((unsigned)iface, ifname) != NULL)
            return g_strdup_printf("%s%%%s", buf, ifname);
        return g_strdup_printf("%s%%%d", buf, iface);
    }
    return g_strdup(buf);
}

/* Whether records seen on the interface @iface count (porch-interfaces.h): not on loopback,
 * container bridges or VPNs. Decided at an index's first sighting and remembered, so that the
 * records' removal is judged alike after the interface went away (Linux does not reuse an
 * index soon). */
static gboolean
interface_wanted(PorchBrowser *self, AvahiIfIndex iface)
{
    gpointer key = GINT_TO_POINTER(iface);
    gpointer known = g_hash_table_lookup(self->wanted, key);
    char name[IF_NAMESIZE];
    gboolean wanted;

    if (known != NULL)
        return GPOINTER_TO_INT(known) - 1;
    if (iface < 0 || if_indextoname((unsigned)iface, name) == NULL)
        return TRUE; /* cannot tell: as before interfaces were told apart */
    wanted = porch_interface_wanted(name, (const char *const *)self->interfaces);
    if (!wanted)
        g_debug("records seen on %s are ignored: %s", name,
                self->interfaces != NULL             ? "not in [porch] interfaces"
                : porch_interface_virtual_kind(name) ? porch_interface_virtual_kind(name)
                                                     : "loopback");
    g_hash_table_insert(self->wanted, key, GINT_TO_POINTER(wanted + 1));
    return wanted;
}

static gboolean
is_own(PorchBrowser *self, AvahiLookupResultFlags flags, const char *host_key)
{
    const char *own;

    if (flags & (AVAHI_LOOKUP_RESULT_LOCAL | AVAHI_LOOKUP_RESULT_OUR_OWN))
        return TRUE;
    own = host_key != NULL && self->client != NULL ? avahi_client_get_host_name_fqdn(self->client)
                                                   : NULL;
    return own != NULL && g_ascii_strcasecmp(own, host_key) == 0;
}

/* ------------------------------------------------------------------------------------------
 * Avahi callbacks: they change the tables above and mark hosts dirty, nothing else. */

static void
on_address(AvahiRecordBrowser *b, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent event,
           const char *name, uint16_t clazz, uint16_t type, const void *rdata, size_t size,
           AvahiLookupResultFlags flags, void *userdata)
{
    Host *h = userdata;
    g_autofree char *addr = NULL;
    guint count;

    switch (event) {
    case AVAHI_BROWSER_NEW:
    case AVAHI_BROWSER_REMOVE:
        if (!interface_wanted(h->browser, iface))
            return;
        if (type == AVAHI_DNS_TYPE_A && size == 4)
            addr = address_string(AF_INET, rdata, iface);
        else if (type == AVAHI_DNS_TYPE_AAAA && size == 16)
            addr = address_string(AF_INET6, rdata, iface);
        if (addr == NULL)
            return;
        count = GPOINTER_TO_UINT(g_hash_table_lookup(h->addresses, addr));
        if (event == AVAHI_BROWSER_NEW) {
            if (count == 0 && g_hash_table_size(h->addresses) >= PORCH_BROWSE_MAX_ADDRESSES) {
                g_debug("%s: more than %d addresses, %s ignored", h->host_name,
                        PORCH_BROWSE_MAX_ADDRESSES, addr);
                return;
            }
            g_hash_table_insert(h->addresses, g_strdup(addr), GUINT_TO_POINTER(count + 1));
        } else if (count > 1) {
            g_hash_table_insert(h->addresses, g_strdup(addr), GUINT_TO_POINTER(count - 1));
        } else if (count == 1) {
            g_hash_table_remove(h->addresses, addr);
        }
        host_mark_dirty(h);
        break;
    case AVAHI_BROWSER_FAILURE:
        g_debug("%s: address browser failed: %s", h->host_name,
                avahi_strerror(avahi_client_errno(avahi_record_browser_get_client(b))));
        if (b == h->a_browser)
            h->a_browser = NULL;
        else
            h->aaaa_browser = NULL;
        avahi_record_browser_free(b);
        break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
        break;
    }
}

/* Returns the host named @host_name, made when it is new; NULL past PORCH_BROWSE_MAX_HOSTS.
 * Its address browsers run (again, after avahi-daemon came back). */
static Host *
host_get(PorchBrowser *self, const char *host_name)
{
    g_autofree char *key = g_ascii_strdown(host_name, -1);
    Host *h = g_hash_table_lookup(self->hosts, key);

    if (h == NULL) {
        if (g_hash_table_size(self->hosts) >= PORCH_BROWSE_MAX_HOSTS) {
            g_debug("more than %d hosts: %s ignored", PORCH_BROWSE_MAX_HOSTS, host_name);
            return NULL;
        }
        h = g_new0(Host, 1);
        h->browser = self;
        h->key = g_steal_pointer(&key);
        h->host_name = g_utf8_make_valid(host_name, -1);
        h->instances = g_ptr_array_new();
        h->addresses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(self->hosts, h->key, h);
    }
    if (h->a_browser == NULL)
        h->a_browser = avahi_record_browser_new(self->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                host_name, AVAHI_DNS_CLASS_IN, AVAHI_DNS_TYPE_A, 0,
                                                on_address, h);
    if (h->aaaa_browser == NULL)
        h->aaaa_browser = avahi_record_browser_new(
                self->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, host_name, AVAHI_DNS_CLASS_IN,
                AVAHI_DNS_TYPE_AAAA, 0, on_address, h);
    if (h->a_browser == NULL || h->aaaa_browser == NULL)
        g_debug("%s: cannot browse addresses: %s", host_name,
                avahi_strerror(avahi_client_errno(self->client)));
    return h;
}

static void
on_resolved(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
            AvahiResolverEvent event, const char *name, const char *type, const char *domain,
            const char *host_name, const AvahiAddress *a, uint16_t port, AvahiStringList *txt,
            AvahiLookupResultFlags flags, void *userdata)
{
    Instance *inst = userdata;
    PorchBrowser *self = inst->browser;
    Host *h;

    if (event == AVAHI_RESOLVER_FAILURE) {
        /* Not resolved in time. What an earlier resolution found stays until the instance
         * goes; one never resolved is tried again when it is announced again. */
        g_debug("%s (%s): cannot resolve: %s", inst->name_utf8, inst->type,
                avahi_strerror(avahi_client_errno(avahi_service_resolver_get_client(r))));
        inst->resolver = NULL;
        avahi_service_resolver_free(r);
        return;
    }
    if (is_own(self, flags, host_name)) {
        g_debug("%s (%s): ours, ignored", inst->name_utf8, inst->type);
        instance_detach(inst);
        inst->resolved = FALSE;
        return;
    }
    h = host_get(self, host_name);
    if (h == NULL)
        return;
    if (inst->host != h) {
        instance_detach(inst);
        inst->host = h;
        g_ptr_array_add(h->instances, inst);
    }
    inst->resolved = TRUE;
    inst->port = port;
    g_strfreev(inst->txt);
    inst->txt = porch_txt_decode(txt);
    g_clear_pointer(&inst->address, g_free);
    if (a != NULL && a->proto == AVAHI_PROTO_INET)
        inst->address = address_string(AF_INET, &a->data.ipv4.address, iface);
    else if (a != NULL && a->proto == AVAHI_PROTO_INET6)
        inst->address = address_string(AF_INET6, a->data.ipv6.address, iface);
    host_mark_dirty(h);
}

static void
on_service(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent event,
           const char *name, const char *type, const char *domain, AvahiLookupResultFlags flags,
           void *userdata)
{
    PorchBrowser *self = userdata;
    g_autofree char *key = NULL;
    gpointer where = GINT_TO_POINTER(iface * 4 + proto + 2);
    Instance *inst;

    switch (event) {
    case AVAHI_BROWSER_NEW:
        if (is_own(self, flags, NULL) || !interface_wanted(self, iface))
            return;
        key = instance_key(type, domain, name);
        inst = g_hash_table_lookup(self->instances, key);
        if (inst == NULL) {
            if (g_hash_table_size(self->instances) >= PORCH_BROWSE_MAX_SERVICES) {
                g_debug("more than %d services: %s (%s) ignored", PORCH_BROWSE_MAX_SERVICES, name,
                        type);
                return;
            }
            inst = g_new0(Instance, 1);
            inst->browser = self;
            inst->key = g_steal_pointer(&key);
            inst->type = g_strdup(type);
            inst->domain = g_strdup(domain);
            inst->name = g_strdup(name);
            inst->name_utf8 = g_utf8_make_valid(name, -1);
            inst->seen = g_hash_table_new(NULL, NULL);
            g_hash_table_insert(self->instances, inst->key, inst);
        }
        g_hash_table_add(inst->seen, where);
        if (inst->resolver == NULL && !inst->resolved) {
            /* On the interface it was seen on: not resolved through one where it does not
             * count, and a link-local address then gets the right scope. */
            inst->resolver =
                    avahi_service_resolver_new(self->client, iface, AVAHI_PROTO_UNSPEC, name, type,
                                               domain, AVAHI_PROTO_UNSPEC, 0, on_resolved, inst);
            if (inst->resolver == NULL)
                g_debug("%s (%s): cannot resolve: %s", inst->name_utf8, type,
                        avahi_strerror(avahi_client_errno(self->client)));
        }
        break;
    case AVAHI_BROWSER_REMOVE:
        key = instance_key(type, domain, name);
        inst = g_hash_table_lookup(self->instances, key);
        if (inst == NULL)
            return;
        g_hash_table_remove(inst->seen, where);
        if (g_hash_table_size(inst->seen) == 0)
            g_hash_table_remove(self->instances, key); /* frees it, marks its host dirty */
        break;
    case AVAHI_BROWSER_FAILURE:
        g_debug("browsing %s failed: %s", type != NULL ? type : "?",
                avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b))));
        for (guint i = 0; i < G_N_ELEMENTS(service_types); i++)
            if (self->browsers[i] == b)
                self->browsers[i] = NULL;
        avahi_service_browser_free(b);
        schedule_retry(self, RETRY_MS);
        break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
        break;
    }
}

/* Creates the service browsers that are missing. */
static void
start_browsers(PorchBrowser *self)
{
    for (guint i = 0; i < G_N_ELEMENTS(service_types); i++) {
        if (self->browsers[i] != NULL)
            continue;
        self->browsers[i] =
                avahi_service_browser_new(self->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                          service_types[i], NULL, 0, on_service, self);
        if (self->browsers[i] == NULL) {
            g_debug("cannot browse %s: %s", service_types[i],
                    avahi_strerror(avahi_client_errno(self->client)));
            schedule_retry(self, RETRY_MS);
        }
    }
}

/* Forgets every browser, resolver and instance: each known host is then flushed as removed. */
static void
forget_everything(PorchBrowser *self)
{
    GHashTableIter it;
    gpointer value;

    for (guint i = 0; i < G_N_ELEMENTS(service_types); i++)
        if (self->browsers[i] != NULL)
            g_clear_pointer(&self->browsers[i], avahi_service_browser_free);
    g_hash_table_remove_all(self->instances);
    g_hash_table_iter_init(&it, self->hosts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Host *h = value;
        if (h->a_browser != NULL)
            g_clear_pointer(&h->a_browser, avahi_record_browser_free);
        if (h->aaaa_browser != NULL)
            g_clear_pointer(&h->aaaa_browser, avahi_record_browser_free);
        g_hash_table_remove_all(h->addresses);
        host_mark_dirty(h);
    }
}

static void
set_state(PorchBrowser *self, PorchBrowserState state, const char *why_not)
{
    self->state = state;
    g_free(self->why_not);
    self->why_not = g_strdup(why_not);
    schedule_flush(self); /* notify::state is emitted from there */
}

static void
on_client_state(AvahiClient *c, AvahiClientState state, void *userdata)
{
    PorchBrowser *self = userdata;

    /* The first call comes from inside avahi_client_new(), before it returned the client. */
    self->client = c;
    switch (state) {
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_RUNNING:
    case AVAHI_CLIENT_S_COLLISION:
        /* The daemon is there (registering or renaming its own host name does not stop
         * browsing). */
        g_debug("avahi-daemon is there (state %d)", state);
        start_browsers(self);
        set_state(self, PORCH_BROWSER_RUNNING, NULL);
        break;
    case AVAHI_CLIENT_CONNECTING:
        g_debug("waiting for avahi-daemon");
        forget_everything(self);
        set_state(self, PORCH_BROWSER_CONNECTING,
                  "avahi-daemon is not running (it does not answer on the D-Bus system bus)");
        break;
    case AVAHI_CLIENT_FAILURE:
        /* avahi-daemon went away (AVAHI_ERR_DISCONNECTED) or the bus did. A failed client
         * cannot be revived: a new one is made from the main loop, not from inside its own
         * callback. */
        g_debug("avahi-client failed: %s", avahi_strerror(avahi_client_errno(c)));
        forget_everything(self);
        set_state(self, PORCH_BROWSER_CONNECTING, avahi_strerror(avahi_client_errno(c)));
        schedule_retry(self, avahi_client_errno(c) == AVAHI_ERR_DISCONNECTED ? 0 : RETRY_MS);
        break;
    }
}

static void
connect_client(PorchBrowser *self)
{
    int err = 0;
    AvahiClient *c;
    const char *bus = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    g_autofree char *why = NULL;

    self->client = NULL;
    c = avahi_client_new(avahi_glib_poll_get(self->poll), AVAHI_CLIENT_NO_FAIL, on_client_state,
                         self, &err);
    if (c != NULL) {
        self->client = c;
        return;
    }
    /* Even with NO_FAIL, avahi_client_new() fails when the system bus itself is not there. */
    self->client = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(service_types); i++)
        self->browsers[i] = NULL;
    why = g_strdup_printf("cannot reach avahi-daemon on the D-Bus system bus (%s): %s",
                          bus != NULL ? bus : "the default address", avahi_strerror(err));
    g_debug("%s", why);
    set_state(self, PORCH_BROWSER_CONNECTING, why);
    schedule_retry(self, RETRY_MS);
}

/* Runs on the main context: makes a new client when the old one failed or none could be
 * made, else restarts browsers that failed. */
static gboolean
on_retry(gpointer data)
{
    PorchBrowser *self = data;

    g_clear_pointer(&self->retry_source, g_source_unref);
    if (self->client == NULL || avahi_client_get_state(self->client) == AVAHI_CLIENT_FAILURE) {
        if (self->client != NULL) {
            forget_everything(self);
            avahi_client_free(self->client);
            self->client = NULL;
        }
        connect_client(self);
    } else if (self->state == PORCH_BROWSER_RUNNING) {
        start_browsers(self);
    }
    return G_SOURCE_REMOVE;
}

static void
schedule_retry(PorchBrowser *self, guint ms)
{
    if (self->retry_source != NULL)
        return;
    self->retry_source = g_timeout_source_new(ms);
    g_source_set_callback(self->retry_source, on_retry, self, NULL);
    g_source_attach(self->retry_source, self->context);
}

/* ------------------------------------------------------------------------------------------
 * Snapshots, built from the main context */

static const Instance *
porch_instance(const Host *h)
{
    const Instance *best = NULL;

    for (guint i = 0; i < h->instances->len; i++) {
        const Instance *inst = g_ptr_array_index(h->instances, i);
        if (strcmp(inst->type, TYPE_PORCH) == 0 &&
            (best == NULL || strcmp(inst->name_utf8, best->name_utf8) < 0))
            best = inst;
    }
    return best;
}

/* Whether another _porch._tcp instance of @h advertises a fingerprint other than @fp. */
static gboolean
porch_instances_disagree(const Host *h, const char *fp)
{
    for (guint i = 0; i < h->instances->len; i++) {
        const Instance *inst = g_ptr_array_index(h->instances, i);
        const char *other;

        if (strcmp(inst->type, TYPE_PORCH) != 0)
            continue;
        other = porch_txt_lookup((const char *const *)inst->txt, "fp");
        if (g_strcmp0(other, fp) != 0)
            return TRUE;
    }
    return FALSE;
}

static char *
printer_name(const char *instance, const char *display)
{
    const char *on;

    if (display != NULL) {
        g_autofree char *suffix = g_strconcat(" on ", display, NULL);
        size_t n = strlen(instance), s = strlen(suffix);
        if (n > s && strcmp(instance + n - s, suffix) == 0)
            return g_strndup(instance, n - s);
    }
    on = g_strrstr(instance, " on ");
    if (on != NULL && on > instance)
        return g_strndup(instance, (gsize)(on - instance));
    return g_strdup(instance);
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
compare_shares(gconstpointer a, gconstpointer b)
{
    const PorchNeighbourShare *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->uri, y->uri);
}

static int
compare_printers(gconstpointer a, gconstpointer b)
{
    const PorchNeighbourPrinter *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->instance, y->instance);
}

static int
compare_services(gconstpointer a, gconstpointer b)
{
    const PorchNeighbourService *x = a, *y = b;
    int c = strcmp(x->type, y->type);
    return c != 0 ? c : strcmp(x->name, y->name);
}

static void
digest_add(GString *d, const char *s)
{
    if (s == NULL)
        g_string_append(d, "-;");
    else
        g_string_append_printf(d, "%zu:%s;", strlen(s), s);
}

static void
digest_add_strv(GString *d, char *const *v)
{
    guint n = v != NULL ? g_strv_length((char **)v) : 0;
    g_string_append_printf(d, "[%u]", n);
    for (guint i = 0; i < n; i++)
        digest_add(d, v[i]);
}

static void neighbour_digest(PorchNeighbour *n);

static PorchNeighbour *
host_snapshot(const Host *h)
{
    PorchNeighbour *n = g_new0(PorchNeighbour, 1);
    const Instance *porch = porch_instance(h);
    g_autoptr(GArray) shares = g_array_new(FALSE, TRUE, sizeof(PorchNeighbourShare));
    g_autoptr(GArray) printers = g_array_new(FALSE, TRUE, sizeof(PorchNeighbourPrinter));
    g_autoptr(GArray) services = g_array_new(FALSE, TRUE, sizeof(PorchNeighbourService));
    g_autoptr(GPtrArray) v4 = g_ptr_array_new();
    g_autoptr(GPtrArray) v6 = g_ptr_array_new();
    g_autoptr(GHashTable) addrs = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter it;
    gpointer key;

    g_atomic_ref_count_init(&n->ref);
    n->host_name = g_strdup(h->host_name);
    if (porch != NULL) {
        const char *fp = porch_txt_lookup((const char *const *)porch->txt, "fp");
        n->is_porch = TRUE;
        n->inbox = g_strcmp0(porch_txt_lookup((const char *const *)porch->txt, "inbox"), "1") == 0;
        n->name = g_strdup(porch->name_utf8);
        n->port = porch->port;
        /* mDNS has no authentication: when two _porch._tcp instances claim this host with
         * different keys, neither is believed (the one to pin is not ours to pick) */
        if (!porch_instances_disagree(h, fp))
            n->fingerprint = porch_txt_fingerprint((const char *const *)porch->txt);
    } else if (strlen(h->host_name) > 6 &&
               g_ascii_strcasecmp(h->host_name + strlen(h->host_name) - 6, ".local") == 0) {
        n->name = g_strndup(h->host_name, strlen(h->host_name) - 6);
    } else {
        n->name = g_strdup(h->host_name);
    }

    for (guint i = 0; i < h->instances->len; i++) {
        const Instance *inst = g_ptr_array_index(h->instances, i);
        const char *const *txt = (const char *const *)inst->txt;
        gboolean guest = FALSE;
        const char *path = porch_txt_share_path(txt, &guest);

        if (inst->address != NULL)
            g_hash_table_add(addrs, inst->address);
        if (inst == porch)
            continue;
        if (porch != NULL && strcmp(inst->type, TYPE_SFTP) == 0 && path != NULL &&
            inst->port == porch->port) {
            PorchNeighbourShare s = {
                    .name = g_strdup(path + strspn(path, "/")),
                    .path = g_strdup(path),
                    .guest = guest,
                    .uri = porch_txt_service_uri(inst->type, h->host_name, inst->port, txt),
            };
            if (s.uri == NULL) /* a host name no URI can hold */
                s.uri = g_strdup("");
            g_array_append_val(shares, s);
        } else if (strcmp(inst->type, TYPE_PORCH_PRINT) == 0) {
            PorchNeighbourPrinter p = {
                    .name = printer_name(inst->name_utf8, porch != NULL ? porch->name_utf8 : NULL),
                    .instance = g_strdup(inst->name_utf8),
                    .txt = g_strdupv(inst->txt),
            };
            g_array_append_val(printers, p);
        } else if (strcmp(inst->type, TYPE_PORCH) != 0) {
            PorchNeighbourService s = {
                    .type = g_strdup(inst->type),
                    .name = g_strdup(inst->name_utf8),
                    .port = inst->port,
                    .uri = porch_txt_service_uri(inst->type, h->host_name, inst->port, txt),
                    .txt = g_strdupv(inst->txt),
            };
            if (s.uri == NULL)
                s.uri = g_strdup("");
            g_array_append_val(services, s);
        }
    }
    g_array_sort(shares, compare_shares);
    g_array_sort(printers, compare_printers);
    g_array_sort(services, compare_services);
    n->n_shares = shares->len;
    n->shares = (PorchNeighbourShare *)g_array_free(g_steal_pointer(&shares), n->n_shares == 0);
    n->n_printers = printers->len;
    n->printers =
            (PorchNeighbourPrinter *)g_array_free(g_steal_pointer(&printers), n->n_printers == 0);
    n->n_services = services->len;
    n->services =
            (PorchNeighbourService *)g_array_free(g_steal_pointer(&services), n->n_services == 0);

    g_hash_table_iter_init(&it, h->addresses);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_hash_table_add(addrs, key);
    g_hash_table_iter_init(&it, addrs);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        GPtrArray *to = strchr(key, ':') != NULL ? v6 : v4;
        if (v4->len + v6->len < PORCH_BROWSE_MAX_ADDRESSES)
            g_ptr_array_add(to, g_strdup(key));
    }
    g_ptr_array_sort(v4, compare_strings);
    g_ptr_array_sort(v6, compare_strings);
    g_ptr_array_add(v4, NULL);
    g_ptr_array_add(v6, NULL);
    n->ipv4 = (char **)g_ptr_array_free(g_steal_pointer(&v4), FALSE);
    n->ipv6 = (char **)g_ptr_array_free(g_steal_pointer(&v6), FALSE);
    neighbour_digest(n);
    return n;
}

/* Sets @n->digest from every other field. */
static void
neighbour_digest(PorchNeighbour *n)
{
    GString *d = g_string_new(NULL);

    digest_add(d, n->name);
    digest_add(d, n->host_name);
    digest_add(d, n->fingerprint);
    g_string_append_printf(d, "%d;%d;%d;%u;", n->is_porch, n->inbox, n->remembered,
                           (unsigned)n->port);
    digest_add_strv(d, n->ipv4);
    digest_add_strv(d, n->ipv6);
    g_string_append_printf(d, "S%u", n->n_shares);
    for (guint i = 0; i < n->n_shares; i++) {
        digest_add(d, n->shares[i].name);
        digest_add(d, n->shares[i].path);
        digest_add(d, n->shares[i].uri);
        g_string_append_printf(d, "%d;", n->shares[i].guest);
    }
    g_string_append_printf(d, "P%u", n->n_printers);
    for (guint i = 0; i < n->n_printers; i++) {
        digest_add(d, n->printers[i].name);
        digest_add(d, n->printers[i].instance);
        digest_add_strv(d, n->printers[i].txt);
    }
    g_string_append_printf(d, "O%u", n->n_services);
    for (guint i = 0; i < n->n_services; i++) {
        digest_add(d, n->services[i].type);
        digest_add(d, n->services[i].name);
        digest_add(d, n->services[i].uri);
        g_string_append_printf(d, "%u;", (unsigned)n->services[i].port);
        digest_add_strv(d, n->services[i].txt);
    }
    n->digest = g_string_free(d, FALSE);
}

PorchNeighbour *
porch_neighbour_new_remembered(const char *name, const char *address, guint16 port,
                               const char *fingerprint, const char *const *shares,
                               const char *const *printers)
{
    PorchNeighbour *n = g_new0(PorchNeighbour, 1);
    const char *one[] = {NULL, NULL};
    guint n_shares = shares != NULL ? g_strv_length((char **)shares) : 0;
    guint n_printers = printers != NULL ? g_strv_length((char **)printers) : 0;

    g_return_val_if_fail(name != NULL && address != NULL, NULL);

    g_atomic_ref_count_init(&n->ref);
    n->name = g_utf8_make_valid(name, -1);
    n->host_name = g_strdup(address);
    n->fingerprint = g_strdup(fingerprint);
    n->is_porch = TRUE;
    n->remembered = TRUE;
    n->port = port != 0 ? port : 4422;
    one[0] = address;
    n->ipv4 = g_strdupv(strchr(address, ':') == NULL ? (char **)one : (char **)(one + 1));
    n->ipv6 = g_strdupv(strchr(address, ':') != NULL ? (char **)one : (char **)(one + 1));
    n->n_shares = n_shares;
    n->shares = n_shares > 0 ? g_new0(PorchNeighbourShare, n_shares) : NULL;
    for (guint i = 0; i < n_shares; i++) {
        const char *path_txt[] = {NULL, NULL};
        g_autofree char *path_kv = NULL;

        n->shares[i].name = g_utf8_make_valid(shares[i], -1);
        n->shares[i].path = g_strconcat("/", n->shares[i].name, NULL);
        path_kv = g_strconcat("path=", n->shares[i].path, NULL);
        path_txt[0] = path_kv;
        n->shares[i].uri = porch_txt_service_uri(TYPE_SFTP, address, n->port, path_txt);
        if (n->shares[i].uri == NULL)
            n->shares[i].uri = g_strdup("");
    }
    if (n_shares > 1)
        qsort(n->shares, n_shares, sizeof *n->shares, compare_shares);
    n->n_printers = n_printers;
    n->printers = n_printers > 0 ? g_new0(PorchNeighbourPrinter, n_printers) : NULL;
    for (guint i = 0; i < n_printers; i++) {
        n->printers[i].name = g_utf8_make_valid(printers[i], -1);
        n->printers[i].instance = g_strdup_printf("%s on %s", n->printers[i].name, n->name);
        n->printers[i].txt = g_new0(char *, 1);
    }
    if (n_printers > 1)
        qsort(n->printers, n_printers, sizeof *n->printers, compare_printers);
    neighbour_digest(n);
    return n;
}

gboolean
porch_neighbour_is_remembered(const PorchNeighbour *neighbour)
{
    g_return_val_if_fail(neighbour != NULL, FALSE);
    return neighbour->remembered;
}

typedef struct {
    guint signal;
    PorchNeighbour *neighbour;
} Event;

static void
event_clear(gpointer data)
{
    porch_neighbour_unref(((Event *)data)->neighbour);
}

static int
compare_events(gconstpointer a, gconstpointer b)
{
    const Event *x = a, *y = b;
    return strcmp(x->neighbour->host_name, y->neighbour->host_name);
}

/* The flush timer: turns dirty hosts into snapshots and signals. */
static gboolean
flush(gpointer data)
{
    PorchBrowser *self = data;
    g_autoptr(GArray) events = g_array_new(FALSE, FALSE, sizeof(Event));
    GHashTableIter it;
    gpointer value;

    g_array_set_clear_func(events, event_clear);
    g_clear_pointer(&self->flush_source, g_source_unref);
    g_hash_table_iter_init(&it, self->hosts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Host *h = value;
        Event e = {0, NULL};

        if (!h->dirty)
            continue;
        h->dirty = FALSE;
        if (h->instances->len == 0) {
            if (h->published != NULL) {
                e.signal = signals[SIGNAL_REMOVED];
                e.neighbour = g_steal_pointer(&h->published);
                g_array_append_val(events, e);
            }
            g_hash_table_iter_remove(&it);
            continue;
        }
        e.neighbour = host_snapshot(h);
        if (h->published != NULL && porch_neighbour_equal(h->published, e.neighbour)) {
            porch_neighbour_unref(e.neighbour);
            continue;
        }
        e.signal = signals[h->published != NULL ? SIGNAL_CHANGED : SIGNAL_ADDED];
        porch_neighbour_unref(h->published);
        h->published = porch_neighbour_ref(e.neighbour);
        g_array_append_val(events, e);
    }
    g_array_sort(events, compare_events);

    /* Handlers may call back into the browser, or drop their reference to it. */
    g_object_ref(self);
    if (self->notified_state != self->state) {
        self->notified_state = self->state;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
    }
    for (guint i = 0; i < events->len; i++) {
        Event *e = &g_array_index(events, Event, i);
        g_signal_emit(self, e->signal, 0, e->neighbour);
    }
    g_object_unref(self);
    return G_SOURCE_REMOVE;
}

static void
schedule_flush(PorchBrowser *self)
{
    if (self->flush_source != NULL)
        return;
    self->flush_source = g_timeout_source_new(FLUSH_DELAY_MS);
    g_source_set_callback(self->flush_source, flush, self, NULL);
    g_source_attach(self->flush_source, self->context);
}

/* ------------------------------------------------------------------------------------------
 * The GObject */

static int
compare_neighbours(gconstpointer a, gconstpointer b)
{
    const PorchNeighbour *x = *(PorchNeighbour *const *)a, *y = *(PorchNeighbour *const *)b;
    int c = g_ascii_strcasecmp(x->name, y->name);
    if (c == 0)
        c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->host_name, y->host_name);
}

GPtrArray *
porch_browser_get_neighbours(PorchBrowser *self)
{
    GPtrArray *a;
    GHashTableIter it;
    gpointer value;

    g_return_val_if_fail(PORCH_IS_BROWSER(self), NULL);
    a = g_ptr_array_new_with_free_func((GDestroyNotify)porch_neighbour_unref);
    g_hash_table_iter_init(&it, self->hosts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Host *h = value;
        if (h->published != NULL)
            g_ptr_array_add(a, porch_neighbour_ref(h->published));
    }
    g_ptr_array_sort(a, compare_neighbours);
    return a;
}

PorchBrowserState
porch_browser_get_state(PorchBrowser *self)
{
    g_return_val_if_fail(PORCH_IS_BROWSER(self), PORCH_BROWSER_STOPPED);
    return self->state;
}

gboolean
porch_browser_start(PorchBrowser *self, GError **error)
{
    g_return_val_if_fail(PORCH_IS_BROWSER(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!self->started) {
        self->started = TRUE;
        self->poll = avahi_glib_poll_new(self->context, G_PRIORITY_DEFAULT);
        connect_client(self);
    }
    if (self->state == PORCH_BROWSER_RUNNING)
        return TRUE;
    g_set_error(error, PORCH_BROWSER_ERROR, PORCH_BROWSER_ERROR_NO_DAEMON, "%s",
                self->why_not != NULL ? self->why_not : "avahi-daemon is not reachable");
    return FALSE;
}

PorchBrowser *
porch_browser_new(void)
{
    return g_object_new(PORCH_TYPE_BROWSER, NULL);
}

void
porch_browser_set_interfaces(PorchBrowser *self, const char *const *configured)
{
    g_return_if_fail(PORCH_IS_BROWSER(self));
    g_return_if_fail(!self->started);
    g_strfreev(self->interfaces);
    self->interfaces = configured != NULL ? g_strdupv((char **)configured) : NULL;
}

static void
porch_browser_init(PorchBrowser *self)
{
    self->context = g_main_context_ref_thread_default();
    self->instances =
            g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)instance_free);
    self->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)host_free);
    self->wanted = g_hash_table_new(NULL, NULL);
    self->state = PORCH_BROWSER_STOPPED;
    self->notified_state = PORCH_BROWSER_STOPPED;
}

static void
porch_browser_dispose(GObject *object)
{
    PorchBrowser *self = PORCH_BROWSER(object);

    if (self->flush_source != NULL) {
        g_source_destroy(self->flush_source);
        g_clear_pointer(&self->flush_source, g_source_unref);
    }
    if (self->retry_source != NULL) {
        g_source_destroy(self->retry_source);
        g_clear_pointer(&self->retry_source, g_source_unref);
    }
    if (self->client != NULL) {
        forget_everything(self);
        /* forget_everything() marked the hosts for a flush that will not come. */
        if (self->flush_source != NULL) {
            g_source_destroy(self->flush_source);
            g_clear_pointer(&self->flush_source, g_source_unref);
        }
        avahi_client_free(self->client);
        self->client = NULL;
    }
    g_hash_table_remove_all(self->instances);
    g_hash_table_remove_all(self->hosts);
    g_clear_pointer(&self->poll, avahi_glib_poll_free);
    G_OBJECT_CLASS(porch_browser_parent_class)->dispose(object);
}

static void
porch_browser_finalize(GObject *object)
{
    PorchBrowser *self = PORCH_BROWSER(object);

    g_hash_table_unref(self->instances);
    g_hash_table_unref(self->hosts);
    g_hash_table_unref(self->wanted);
    g_strfreev(self->interfaces);
    g_free(self->why_not);
    g_main_context_unref(self->context);
    G_OBJECT_CLASS(porch_browser_parent_class)->finalize(object);
}

static void
porch_browser_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    PorchBrowser *self = PORCH_BROWSER(object);

    switch (id) {
    case PROP_STATE:
        g_value_set_enum(value, self->state);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
porch_browser_class_init(PorchBrowserClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = porch_browser_dispose;
    object_class->finalize = porch_browser_finalize;
    object_class->get_property = porch_browser_get_property;

    props[PROP_STATE] =
            g_param_spec_enum("state", NULL, NULL, PORCH_TYPE_BROWSER_STATE, PORCH_BROWSER_STOPPED,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);

    signals[SIGNAL_ADDED] = g_signal_new("neighbour-added", G_TYPE_FROM_CLASS(klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                         PORCH_TYPE_NEIGHBOUR | G_SIGNAL_TYPE_STATIC_SCOPE);
    signals[SIGNAL_CHANGED] = g_signal_new("neighbour-changed", G_TYPE_FROM_CLASS(klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                           PORCH_TYPE_NEIGHBOUR | G_SIGNAL_TYPE_STATIC_SCOPE);
    signals[SIGNAL_REMOVED] = g_signal_new("neighbour-removed", G_TYPE_FROM_CLASS(klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                           PORCH_TYPE_NEIGHBOUR | G_SIGNAL_TYPE_STATIC_SCOPE);
}
