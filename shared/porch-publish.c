/* porch-publish.c — see porch-publish.h.
 *
 * One AvahiEntryGroup per service, so that each can be added, withdrawn, renamed or have its
 * TXT record updated alone. The states are handled as Avahi's
 * examples/client-publish-service.c and the "How to Register Services" and "daemon restarts"
 * notes in avahi-common/defs.h say:
 *
 *   client S_RUNNING            publish every service not yet published
 *   client S_REGISTERING,       avahi-daemon (re)establishes its host name: reset the groups
 *          S_COLLISION          (their records would point at a name in doubt); they are
 *                               published again at S_RUNNING
 *   client CONNECTING           avahi-daemon is not there (AVAHI_CLIENT_NO_FAIL): wait
 *   client FAILURE              the daemon (or the bus) went away: free the groups and the
 *                               client, make a new client, which waits in CONNECTING
 *   group  COLLISION            another host has the name: reset the same group (not a new
 *                               one: mDNS rate limits) and add it again under
 *                               avahi_alternative_service_name()
 *   group  FAILURE              free that group and try again a little later
 *   group  UNCOMMITED, REGISTERING, ESTABLISHED: nothing to do
 *
 * Interfaces (porch-interfaces.h): when every interface avahi-daemon uses is one to publish on,
 * each service is added once for all of them (AVAHI_IF_UNSPEC); when some is not (docker0, a
 * VPN), once per wanted interface, in the same group, with that interface's index. avahi-daemon
 * answers on each interface with that interface's own addresses for the host name either way.
 * The copies have to be the exception: avahi-daemon (0.8) sends no goodbye for a record while
 * an equal one is registered on another interface, and counts the group's other copies as such
 * while the group is being reset or freed, so withdrawing a service published on several
 * interfaces is silent there: neighbours drop it only when its records expire. Only interfaces that
 * are up with an address count, as for avahi-daemon; when that set changes (GNetworkMonitor's
 * "network-changed") every service is withdrawn and published again on the new set.
 *
 * Avahi callbacks only change state and queue events; the signals are emitted from an idle
 * source, so that a handler may call back into the publisher (or drop it) safely.
 */
#define G_LOG_DOMAIN "porch-publish"

#include "porch-publish.h"
#include "porch-interfaces.h"

#include <string.h>

#include <gio/gio.h>

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>

/* How long to wait before trying again to reach a bus that was not there, or to publish a
 * service avahi-daemon refused; the latter doubles on each failed round up to the maximum
 * (avahi-daemon's per-client object limit, 1024 by default, would otherwise make a huge
 * configuration call it in a loop). */
#define RETRY_SECONDS     2
#define RETRY_MAX_SECONDS 64
/* A neighbour that claims every name we try must not make us rename forever. */
#define MAX_RENAMES 32

typedef struct {
    PorchPublisher *publisher; /* not a reference: the publisher owns this service */
    const char *type;          /* PORCH_PUBLISH_{HOST,SHARE,PRINTER}_TYPE */
    char *base;                /* the instance name the configuration asks for */
    char *name;                /* the name in use: base, or an alternative after collisions */
    GStrv txt;                 /* "key=value" strings, in order */
    AvahiEntryGroup *group;    /* NULL until first published, and after a failure */
    gboolean committed;        /* the group holds this service's records */
    guint renames;
    gboolean gave_up; /* MAX_RENAMES reached: left unpublished */
} Service;

typedef enum {
    EVENT_COLLISION,
    EVENT_AVAHI_STATE,
} EventKind;

typedef struct {
    EventKind kind;
    char *old_name, *new_name; /* EVENT_COLLISION */
    gboolean running;          /* EVENT_AVAHI_STATE */
} Event;

struct _PorchPublisher {
    GObject parent_instance;

    GMainContext *context; /* the thread-default context at creation */
    AvahiGLibPoll *poll;
    AvahiClient *client; /* NULL before the first apply, and while no bus could be reached */
    int client_error;    /* why avahi_client_new() last returned NULL */
    char *fp;            /* TXT value of fp= */
    char *default_name;  /* the display name when the configuration sets none; NULL: its own */
    guint16 port;
    GPtrArray *services;  /* of Service *: the host's first, then the shares', the printers' */
    PorchConfig *config;  /* the snapshot last applied; NULL before the first apply */
    GHashTable *printers; /* printer name -> GStrv: its TXT, while its queue is available */
    gboolean applied;
    int running;        /* last reported avahi state: -1 none yet, else FALSE or TRUE */
    GSource *reconnect; /* pending: replace the client */
    GSource *retry;     /* pending: publish what avahi-daemon refused */
    guint retry_seconds;
    GSource *emit; /* pending: emit the queued events */
    GQueue events; /* of Event * */
    /* The indexes of the interfaces to publish on (porch-interfaces.h), as last looked up;
     * every service is published on each of them, none on the others. */
    GArray *interfaces;
    GNetworkMonitor *monitor; /* tells when interfaces or their addresses change */
    gulong monitor_handler;
};

enum {
    SIGNAL_COLLISION,
    SIGNAL_AVAHI_STATE,
    N_SIGNALS,
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(PorchPublisher, porch_publisher, G_TYPE_OBJECT)

static void service_publish(PorchPublisher *self, Service *svc);

/* ---- sources and events ---- */

static void
source_clear(GSource **source)
{
    if (*source != NULL) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = NULL;
    }
}

static void
source_schedule(PorchPublisher *self, GSource **slot, guint seconds, GSourceFunc func)
{
    if (*slot != NULL)
        return;
    *slot = seconds == 0 ? g_idle_source_new() : g_timeout_source_new_seconds(seconds);
    g_source_set_callback(*slot, func, self, NULL);
    g_source_attach(*slot, self->context);
}

static void
event_free(gpointer data)
{
    Event *e = data;

    g_free(e->old_name);
    g_free(e->new_name);
    g_free(e);
}

static gboolean
emit_events(gpointer data)
{
    g_autoptr(PorchPublisher) self = g_object_ref(data);
    Event *e;

    source_clear(&self->emit);
    while ((e = g_queue_pop_head(&self->events)) != NULL) {
        if (e->kind == EVENT_COLLISION)
            g_signal_emit(self, signals[SIGNAL_COLLISION], 0, e->old_name, e->new_name);
        else
            g_signal_emit(self, signals[SIGNAL_AVAHI_STATE], 0, e->running);
        event_free(e);
    }
    return G_SOURCE_REMOVE;
}

static void
queue_event(PorchPublisher *self, Event *e)
{
    g_queue_push_tail(&self->events, e);
    source_schedule(self, &self->emit, 0, emit_events);
}

static void
report_running(PorchPublisher *self, gboolean running)
{
    Event *e;

    if (self->running == running)
        return;
    self->running = running;
    e = g_new0(Event, 1);
    e->kind = EVENT_AVAHI_STATE;
    e->running = running;
    queue_event(self, e);
}

/* ---- services ---- */

static Service *
service_new(PorchPublisher *self, const char *type, const char *name, GStrv txt)
{
    Service *svc = g_new0(Service, 1);

    svc->publisher = self;
    svc->type = type;
    svc->base = g_strdup(name);
    svc->name = g_strdup(name);
    svc->txt = txt;
    return svc;
}

/* Frees the group, if any: avahi-daemon withdraws its records (goodbye packets) before the
 * D-Bus call returns. Without a connection, only the local object is freed. */
static void
service_withdraw(Service *svc)
{
    if (svc->group != NULL) {
        g_debug("withdrawing \"%s\" (%s)", svc->name, svc->type);
        avahi_entry_group_free(svc->group);
        svc->group = NULL;
    }
    svc->committed = FALSE;
}

static void
service_free(gpointer data)
{
    Service *svc = data;

    if (svc == NULL) /* taken over by a newer list */
        return;
    service_withdraw(svc);
    g_free(svc->base);
    g_free(svc->name);
    g_strfreev(svc->txt);
    g_free(svc);
}

/* Moves svc to the next alternative name and reports it. FALSE (and svc given up, reported
 * with a NULL new name) when there is none or after MAX_RENAMES. */
static gboolean
service_rename(PorchPublisher *self, Service *svc)
{
    char *alt = svc->renames < MAX_RENAMES ? avahi_alternative_service_name(svc->name) : NULL;
    Event *e = g_new0(Event, 1);

    e->kind = EVENT_COLLISION;
    e->old_name = g_strdup(svc->name);
    e->new_name = g_strdup(alt);
    queue_event(self, e);
    if (alt == NULL) {
        g_debug("giving up \"%s\" (%s) after %u renames", svc->name, svc->type, svc->renames);
        svc->gave_up = TRUE;
        return FALSE;
    }
    g_debug("\"%s\" (%s) collides: renamed \"%s\"", svc->name, svc->type, alt);
    svc->renames++;
    g_free(svc->name);
    svc->name = g_strdup(alt);
    avahi_free(alt);
    return TRUE;
}

static gboolean
client_running(PorchPublisher *self)
{
    return self->client != NULL && avahi_client_get_state(self->client) == AVAHI_CLIENT_S_RUNNING;
}

static gboolean
on_retry(gpointer data)
{
    PorchPublisher *self = data;

    source_clear(&self->retry);
    self->retry_seconds = MIN(self->retry_seconds * 2, RETRY_MAX_SECONDS);
    for (guint i = 0; i < self->services->len; i++)
        service_publish(self, g_ptr_array_index(self->services, i));
    return G_SOURCE_REMOVE;
}

static void
on_group_state(AvahiEntryGroup *group, AvahiEntryGroupState state, void *user_data)
{
    Service *svc = user_data;
    PorchPublisher *self = svc->publisher;

    switch (state) {
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
        break;
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
        g_debug("published \"%s\" (%s)", svc->name, svc->type);
        svc->renames = 0; /* the budget is per collision episode, not per lifetime */
        break;
    case AVAHI_ENTRY_GROUP_COLLISION:
        /* avahi-daemon has withdrawn the records; the same group takes them again. */
        avahi_entry_group_reset(group);
        svc->committed = FALSE;
        if (service_rename(self, svc))
            service_publish(self, svc);
        break;
    case AVAHI_ENTRY_GROUP_FAILURE:
        g_debug("\"%s\" (%s) failed: %s", svc->name, svc->type,
                avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
        /* service_publish() replaces a failed group; not from inside its own callback. */
        svc->committed = FALSE;
        source_schedule(self, &self->retry, self->retry_seconds, on_retry);
        break;
    }
}

/* Adds svc to its (uncommitted) group once per interface to publish on: avahi-daemon then
 * answers on each of them with that interface's own addresses for the host name. A refusal
 * leaves the group empty. */
static int
add_service_everywhere(PorchPublisher *self, Service *svc, AvahiStringList *txt)
{
    for (guint i = 0; i < self->interfaces->len; i++) {
        AvahiIfIndex index = g_array_index(self->interfaces, int, i);
        int r = avahi_entry_group_add_service_strlst(svc->group, index, AVAHI_PROTO_UNSPEC, 0,
                                                     svc->name, svc->type, NULL, NULL, self->port,
                                                     txt);
        if (r != AVAHI_OK) {
            avahi_entry_group_reset(svc->group);
            return r;
        }
    }
    return AVAHI_OK;
}

/* Adds svc's records to its group (a new one if needed) and commits them, when avahi-daemon
 * is running, there is an interface to publish on and they are not there yet. On a refusal the
 * group is freed and a retry scheduled. */
static void
service_publish(PorchPublisher *self, Service *svc)
{
    AvahiStringList *txt = NULL;
    int r = AVAHI_OK;

    if (svc->committed || svc->gave_up || !client_running(self) || self->interfaces->len == 0)
        return;
    if (svc->group != NULL && avahi_entry_group_get_state(svc->group) == AVAHI_ENTRY_GROUP_FAILURE)
        service_withdraw(svc);
    if (svc->group == NULL &&
        (svc->group = avahi_entry_group_new(self->client, on_group_state, svc)) == NULL)
        r = avahi_client_errno(self->client) != AVAHI_OK ? avahi_client_errno(self->client)
                                                         : AVAHI_ERR_FAILURE;
    if (r == AVAHI_OK) {
        txt = avahi_string_list_new_from_array((const char **)svc->txt, -1);
        /* A service of that name published by another program on this host is refused
         * at once: a collision too. */
        do {
            r = add_service_everywhere(self, svc, txt);
        } while (r == AVAHI_ERR_COLLISION && service_rename(self, svc));
        avahi_string_list_free(txt);
    }
    if (r == AVAHI_OK)
        r = avahi_entry_group_commit(svc->group);
    if (r != AVAHI_OK) {
        g_debug("cannot publish \"%s\" (%s): %s", svc->name, svc->type, avahi_strerror(r));
        service_withdraw(svc);
        if (!svc->gave_up)
            source_schedule(self, &self->retry, self->retry_seconds, on_retry);
        return;
    }
    g_debug("publishing \"%s\" (%s)", svc->name, svc->type);
    svc->committed = TRUE;
}

/* Gives a kept service the TXT strings of its new version, in place when it is published. */
static void
service_update_txt(PorchPublisher *self, Service *svc, GStrv txt)
{
    AvahiStringList *list;
    int r = AVAHI_OK;

    g_strfreev(svc->txt);
    svc->txt = txt;
    if (!svc->committed)
        return;
    list = avahi_string_list_new_from_array((const char **)svc->txt, -1);
    /* The TXT record of each interface's copy (the group holds one per interface). */
    for (guint i = 0; i < self->interfaces->len && r == AVAHI_OK; i++)
        r = avahi_entry_group_update_service_txt_strlst(
                svc->group, g_array_index(self->interfaces, int, i), AVAHI_PROTO_UNSPEC, 0,
                svc->name, svc->type, NULL, list);
    avahi_string_list_free(list);
    if (r != AVAHI_OK) {
        g_debug("cannot update \"%s\" (%s): %s; publishing it again", svc->name, svc->type,
                avahi_strerror(r));
        service_withdraw(svc);
        service_publish(self, svc);
    }
}

/* ---- the interfaces ---- */

/* Looks up again the interfaces to publish on. When they changed, every service published is
 * taken back (its group reset: goodbye packets on the interfaces it was on) for the callers
 * to publish again on the new set. TRUE when they changed. */
static gboolean
refresh_interfaces(PorchPublisher *self)
{
    const char *const *configured =
            self->config != NULL ? porch_config_get_interfaces(self->config) : NULL;
    g_autoptr(GArray) now = NULL;
    gboolean others;

    porch_interfaces_scan(configured, &now, &others);
    if (!others) {
        /* Every interface avahi-daemon uses is wanted (or there is none yet, or they could not
         * be listed): one copy on all of them, avahi-daemon's own choice (see the top of this
         * file for why not one per interface). */
        AvahiIfIndex all = AVAHI_IF_UNSPEC;
        g_array_set_size(now, 0);
        g_array_append_val(now, all);
    }
    if (now->len == self->interfaces->len &&
        memcmp(now->data, self->interfaces->data, now->len * sizeof(int)) == 0)
        return FALSE;
    g_debug("publishing on %s%u interface(s) now", others ? "" : "all ", now->len);
    g_array_unref(self->interfaces);
    self->interfaces = g_steal_pointer(&now);
    for (guint i = 0; i < self->services->len; i++)
        service_withdraw(g_ptr_array_index(self->services, i));
    return TRUE;
}

/* An interface came or went, or its addresses or routes changed (the monitor does not say
 * which): publish on the interfaces there are now. */
static void
on_network_changed(GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
    PorchPublisher *self = user_data;

    (void)monitor;
    (void)available;
    if (refresh_interfaces(self))
        for (guint i = 0; i < self->services->len; i++)
            service_publish(self, g_ptr_array_index(self->services, i));
}

/* ---- the client ---- */

static void client_start(PorchPublisher *self);

/* Forgets every group and the client (both dead or dying), keeping the services; a new
 * avahi-daemon gets a fresh try at names given up. */
static void
client_drop(PorchPublisher *self)
{
    for (guint i = 0; i < self->services->len; i++) {
        Service *svc = g_ptr_array_index(self->services, i);
        service_withdraw(svc);
        svc->gave_up = FALSE;
        svc->renames = 0;
    }
    if (self->client != NULL) {
        avahi_client_free(self->client);
        self->client = NULL;
    }
}

static gboolean
on_reconnect(gpointer data)
{
    PorchPublisher *self = data;

    source_clear(&self->reconnect);
    client_drop(self);
    client_start(self);
    return G_SOURCE_REMOVE;
}

static void
on_client_state(AvahiClient *client, AvahiClientState state, void *user_data)
{
    PorchPublisher *self = user_data;

    /* The first call may come from inside avahi_client_new(), before it returned. */
    self->client = client;
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
        g_debug("avahi-daemon is running");
        report_running(self, TRUE);
        self->retry_seconds = RETRY_SECONDS;
        refresh_interfaces(self);
        for (guint i = 0; i < self->services->len; i++)
            service_publish(self, g_ptr_array_index(self->services, i));
        break;
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
        g_debug("avahi-daemon is establishing its host name (state %d)", state);
        for (guint i = 0; i < self->services->len; i++) {
            Service *svc = g_ptr_array_index(self->services, i);
            if (svc->committed)
                avahi_entry_group_reset(svc->group);
            svc->committed = FALSE;
        }
        break;
    case AVAHI_CLIENT_CONNECTING:
        g_debug("waiting for avahi-daemon");
        report_running(self, FALSE);
        break;
    case AVAHI_CLIENT_FAILURE:
        g_debug("lost avahi-daemon: %s", avahi_strerror(avahi_client_errno(client)));
        report_running(self, FALSE);
        /* Not from inside the client's own callback. */
        source_schedule(self, &self->reconnect, 0, on_reconnect);
        break;
    }
}

static void
client_start(PorchPublisher *self)
{
    /* The error goes into the publisher, not a local: avahi_client_new() keeps the address
     * only for the call, but GCC cannot know that, and at -O3 (GCC 12) it takes every later
     * call here for a possible use of a dangling pointer to the local. */
    AvahiClient *client = avahi_client_new(avahi_glib_poll_get(self->poll), AVAHI_CLIENT_NO_FAIL,
                                           on_client_state, self, &self->client_error);

    if (client == NULL) {
        /* No system bus at all (NO_FAIL covers only a missing avahi-daemon). Any group made
         * from a callback went with the client. */
        g_debug("cannot reach the system bus: %s", avahi_strerror(self->client_error));
        for (guint i = 0; i < self->services->len; i++) {
            Service *svc = g_ptr_array_index(self->services, i);
            svc->group = NULL;
            svc->committed = FALSE;
        }
        self->client = NULL;
        report_running(self, FALSE);
        source_schedule(self, &self->reconnect, RETRY_SECONDS, on_reconnect);
        return;
    }
    self->client = client;
}

/* ---- what to publish ---- */

/* @text cut to at most @max bytes at a character boundary (@text is valid UTF-8). */
static void
utf8_cut(char *text, size_t max)
{
    if (strlen(text) > max) {
        while (max > 0 && ((guchar)text[max] & 0xC0) == 0x80)
            max--;
        text[max] = '\0';
    }
}

/* @text as an instance name: valid UTF-8 (libdbus aborts the process on a string that is not)
 * and at most PORCH_NAME_MAX bytes (a DNS label), cut at a character boundary. The
 * configuration checks display and share names; a default name from the host name is not. */
static char *
instance_name(const char *text)
{
    char *s = g_utf8_make_valid(text, -1);

    if (strlen(s) > PORCH_NAME_MAX) {
        utf8_cut(s, PORCH_NAME_MAX);
        g_strchomp(s);
    }
    return s;
}

static GStrv
txt_new(const char *first, ...)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    va_list ap;

    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        g_strv_builder_add(b, s);
    va_end(ap);
    return g_strv_builder_end(b);
}

GStrv
porch_publish_printer_txt(const PorchPrinterStatus *status)
{
    static const char *const states[] = {
            [PORCH_PRINTER_IDLE] = "state=idle",
            [PORCH_PRINTER_PROCESSING] = "state=processing",
            [PORCH_PRINTER_STOPPED] = "state=stopped",
    };
    const char *model;
    g_autofree char *valid = NULL;
    g_autofree char *ty = NULL;

    g_return_val_if_fail(status != NULL, NULL);
    g_return_val_if_fail((guint)status->state < G_N_ELEMENTS(states), NULL);

    model = status->make_and_model && *status->make_and_model ? status->make_and_model : "Unknown";
    /* libdbus aborts on strings that are not UTF-8; a TXT string holds 255 bytes */
    valid = g_utf8_make_valid(model, -1);
    ty = g_strconcat("ty=", valid, NULL);
    utf8_cut(ty, 255);
    return txt_new("v=1", ty, status->color ? "Color=T" : "Color=F",
                   status->duplex ? "Duplex=T" : "Duplex=F", states[status->state],
                   status->accepting ? "accepting=T" : "accepting=F", NULL);
}

/* The services @config asks for, in order: the host's, then each visible share's, then each
 * visible printer's whose queue is available. */
static GPtrArray *
wanted_services(PorchPublisher *self, const PorchConfig *config)
{
    GPtrArray *wanted = g_ptr_array_new_with_free_func(service_free);
    g_autofree char *host =
            instance_name(self->default_name != NULL && !porch_config_has_name(config)
                                  ? self->default_name
                                  : porch_config_get_name(config));
    g_autofree char *fp = g_strconcat("fp=", self->fp, NULL);
    gboolean inbox = FALSE;

    /* inbox=1: `porch send` can work here (an inbox whose folder is there) */
    for (guint i = 0; i < porch_config_get_n_shares(config) && !inbox; i++) {
        const PorchShare *share = porch_config_get_share(config, i);
        inbox = share->inbox && !share->offline;
    }
    g_ptr_array_add(wanted, service_new(self, PORCH_PUBLISH_HOST_TYPE, host,
                                        txt_new("v=1", fp, inbox ? "inbox=1" : NULL, NULL)));
    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *share = porch_config_get_share(config, i);
        g_autofree char *full = NULL;
        g_autofree char *instance = NULL;
        g_autofree char *path = NULL;
        gboolean guest = share->read.guest || share->write.guest;

        /* an offline share (its folder is missing) is withdrawn until it is back; an inbox
         * is hidden */
        if (share->hidden || share->offline)
            continue;
        full = g_strdup_printf("%s on %s", share->name, host);
        instance = instance_name(full);
        path = g_strconcat("path=/", share->name, NULL);
        g_ptr_array_add(wanted, service_new(self, PORCH_PUBLISH_SHARE_TYPE, instance,
                                            txt_new(path, guest ? "u=guest" : NULL, NULL)));
    }
    for (guint i = 0; i < porch_config_get_n_printers(config); i++) {
        const PorchPrinter *printer = porch_config_get_printer(config, i);
        GStrv txt = g_hash_table_lookup(self->printers, printer->name);
        g_autofree char *full = NULL;
        g_autofree char *instance = NULL;

        if (printer->hidden || txt == NULL)
            continue;
        full = g_strdup_printf("%s on %s", printer->name, host);
        instance = instance_name(full);
        g_ptr_array_add(wanted,
                        service_new(self, PORCH_PUBLISH_PRINTER_TYPE, instance, g_strdupv(txt)));
    }
    return wanted;
}

static gboolean
same_service(const Service *a, const Service *b)
{
    return strcmp(a->type, b->type) == 0 && strcmp(a->base, b->base) == 0;
}

/* ---- public ---- */

PorchPublisher *
porch_publisher_new(const char *fingerprint, guint16 port)
{
    PorchPublisher *self;

    g_return_val_if_fail(fingerprint != NULL && g_str_has_prefix(fingerprint, "SHA256:"), NULL);
    g_return_val_if_fail(port > 0, NULL);

    self = g_object_new(PORCH_TYPE_PUBLISHER, NULL);
    self->fp = g_strdup(fingerprint + strlen("SHA256:"));
    self->port = port;
    return self;
}

void
porch_publisher_set_default_name(PorchPublisher *self, const char *name)
{
    g_return_if_fail(PORCH_IS_PUBLISHER(self) && !self->applied);
    g_free(self->default_name);
    self->default_name = g_strdup(name);
}

/* Makes the services those that self->config and the printers' statuses ask for. */
static void
update(PorchPublisher *self)
{
    g_autoptr(GPtrArray) wanted = NULL;
    g_autoptr(GPtrArray) old = NULL;

    wanted = wanted_services(self, self->config);
    self->retry_seconds = RETRY_SECONDS;
    old = g_steal_pointer(&self->services);

    /* Keep what is still wanted (same type and configured name), in its new place. */
    for (guint i = 0; i < wanted->len; i++) {
        Service *want = g_ptr_array_index(wanted, i);
        for (guint j = 0; j < old->len; j++) {
            Service *have = g_ptr_array_index(old, j);
            if (have != NULL && same_service(have, want)) {
                GStrv txt = g_steal_pointer(&want->txt);
                g_ptr_array_index(old, j) = NULL;
                g_ptr_array_index(wanted, i) = have;
                service_free(want);
                if (!g_strv_equal((const char *const *)txt, (const char *const *)have->txt))
                    service_update_txt(self, have, txt);
                else
                    g_strfreev(txt);
                break;
            }
        }
    }
    /* Withdraw the rest first: a new service may reuse a withdrawn one's name. */
    g_ptr_array_set_size(old, 0);
    self->services = g_steal_pointer(&wanted);

    refresh_interfaces(self);
    if (!self->applied) {
        self->applied = TRUE;
        /* The default monitor (netlink, or NetworkManager's) signals from the main context
         * of the thread that first asked for it: this one, in porchd. */
        self->monitor = g_object_ref(g_network_monitor_get_default());
        self->monitor_handler = g_signal_connect(self->monitor, "network-changed",
                                                 G_CALLBACK(on_network_changed), self);
        client_start(self);
    } else {
        for (guint i = 0; i < self->services->len; i++)
            service_publish(self, g_ptr_array_index(self->services, i));
    }
}

void
porch_publisher_apply(PorchPublisher *self, const PorchConfig *config)
{
    GHashTableIter it;
    gpointer name;

    g_return_if_fail(PORCH_IS_PUBLISHER(self));
    g_return_if_fail(config != NULL);

    /* A printer gone, or pointed at another queue, waits for its next status. */
    g_hash_table_iter_init(&it, self->printers);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        const PorchPrinter *now = porch_config_lookup_printer(config, name);
        const PorchPrinter *before =
                self->config ? porch_config_lookup_printer(self->config, name) : NULL;

        if (now == NULL || before == NULL || strcmp(now->queue, before->queue) != 0)
            g_hash_table_iter_remove(&it);
    }
    /* porch_config_ref() takes a non-const pointer; the snapshot is immutable all the same */
    porch_config_ref((PorchConfig *)config);
    g_clear_pointer(&self->config, porch_config_unref);
    self->config = (PorchConfig *)config;
    update(self);
}

void
porch_publisher_set_printer(PorchPublisher *self, const char *name,
                            const PorchPrinterStatus *status)
{
    GStrv have;
    GStrv txt = NULL;

    g_return_if_fail(PORCH_IS_PUBLISHER(self));
    g_return_if_fail(name != NULL);

    if (self->config == NULL || porch_config_lookup_printer(self->config, name) == NULL)
        return;
    if (status != NULL && (txt = porch_publish_printer_txt(status)) == NULL)
        return;
    have = g_hash_table_lookup(self->printers, name);
    if (have == NULL && txt == NULL)
        return;
    if (have != NULL && txt != NULL &&
        g_strv_equal((const char *const *)have, (const char *const *)txt)) {
        g_strfreev(txt);
        return;
    }
    if (txt != NULL)
        g_hash_table_insert(self->printers, g_strdup(name), txt);
    else
        g_hash_table_remove(self->printers, name);
    update(self);
}

char **
porch_publisher_dup_names(PorchPublisher *self)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    g_return_val_if_fail(PORCH_IS_PUBLISHER(self), NULL);

    for (guint i = 0; i < self->services->len; i++) {
        Service *svc = g_ptr_array_index(self->services, i);
        if (svc->committed &&
            avahi_entry_group_get_state(svc->group) == AVAHI_ENTRY_GROUP_ESTABLISHED)
            g_strv_builder_add(b, svc->name);
    }
    return g_strv_builder_end(b);
}

gboolean
porch_publisher_get_avahi_running(PorchPublisher *self)
{
    g_return_val_if_fail(PORCH_IS_PUBLISHER(self), FALSE);

    return client_running(self);
}

/* ---- GObject ---- */

static void
porch_publisher_dispose(GObject *object)
{
    PorchPublisher *self = PORCH_PUBLISHER(object);

    if (self->monitor != NULL) {
        g_clear_signal_handler(&self->monitor_handler, self->monitor);
        g_clear_object(&self->monitor);
    }
    source_clear(&self->reconnect);
    source_clear(&self->retry);
    source_clear(&self->emit);
    g_queue_clear_full(&self->events, event_free);
    /* Groups first, each with a synchronous Free call, then the client. */
    if (self->services != NULL)
        g_ptr_array_set_size(self->services, 0);
    if (self->client != NULL) {
        avahi_client_free(self->client);
        self->client = NULL;
    }
    G_OBJECT_CLASS(porch_publisher_parent_class)->dispose(object);
}

static void
porch_publisher_finalize(GObject *object)
{
    PorchPublisher *self = PORCH_PUBLISHER(object);

    g_clear_pointer(&self->services, g_ptr_array_unref);
    g_clear_pointer(&self->config, porch_config_unref);
    g_clear_pointer(&self->printers, g_hash_table_unref);
    g_clear_pointer(&self->interfaces, g_array_unref);
    g_clear_pointer(&self->poll, avahi_glib_poll_free);
    g_clear_pointer(&self->context, g_main_context_unref);
    g_free(self->fp);
    g_free(self->default_name);
    G_OBJECT_CLASS(porch_publisher_parent_class)->finalize(object);
}

static void
porch_publisher_class_init(PorchPublisherClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = porch_publisher_dispose;
    object_class->finalize = porch_publisher_finalize;

    signals[SIGNAL_COLLISION] =
            g_signal_new("collision", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
    signals[SIGNAL_AVAHI_STATE] =
            g_signal_new("avahi-state", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
porch_publisher_init(PorchPublisher *self)
{
    self->context = g_main_context_ref_thread_default();
    self->poll = avahi_glib_poll_new(self->context, G_PRIORITY_DEFAULT);
    self->services = g_ptr_array_new_with_free_func(service_free);
    self->printers =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
    self->interfaces = g_array_new(FALSE, FALSE, sizeof(int));
    self->running = -1;
    self->retry_seconds = RETRY_SECONDS;
    g_queue_init(&self->events);
}
