/* offers.c — the offers held for the inboxes' owners (offers.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "offers.h"

#include <gio/gio.h>

#include "porch-send.h"
#include "porch-text.h"

#define REMEMBER_SECONDS (24 * 3600)

typedef struct {
    guint id;
    char *key;
    char *inbox;
    char *owner;
    char *sender;
    char *address;
    GStrv names;
    guint count;
    guint64 total;
    gint64 since;
    guint timeout;
    PorchOfferFunc func;
    gpointer user_data;
    PorchOffers *offers;
} Offer;

struct _PorchOffers {
    GHashTable *by_id;    /* id -> Offer* (owned) */
    GHashTable *accepted; /* key -> gint64* monotonic µs when accepted */
    guint next_id;
    guint timeout_s; /* how long an offer waits (porch_offers_get_timeout()) */
};

static void
offer_free(Offer *o)
{
    if (o->timeout != 0)
        g_source_remove(o->timeout);
    g_free(o->key);
    g_free(o->inbox);
    g_free(o->owner);
    g_free(o->sender);
    g_free(o->address);
    g_strfreev(o->names);
    g_free(o);
}

PorchOffers *
porch_offers_new(void)
{
    PorchOffers *self = g_new0(PorchOffers, 1);
    const char *env = g_getenv(PORCH_OFFER_TIMEOUT_ENV);
    guint64 timeout;

    self->by_id = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)offer_free);
    self->accepted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    self->next_id = 1;
    self->timeout_s = PORCH_SEND_OFFER_TIMEOUT_S;
    if (env != NULL &&
        !porch_text_to_unsigned(env, 10, 1, PORCH_OFFERS_MAX_TIMEOUT_S, &timeout, NULL)) {
        g_autofree char *shown = porch_text_escape(env, -1, 64);
        g_warning("%s=%s is not 1 to %d seconds; offers wait %d s", PORCH_OFFER_TIMEOUT_ENV, shown,
                  PORCH_OFFERS_MAX_TIMEOUT_S, PORCH_SEND_OFFER_TIMEOUT_S);
    } else if (env != NULL) {
        self->timeout_s = (guint)timeout;
    }
    return self;
}

guint
porch_offers_get_timeout(PorchOffers *offers)
{
    return offers->timeout_s;
}

void
porch_offers_free(PorchOffers *offers)
{
    if (offers == NULL)
        return;
    g_hash_table_unref(offers->by_id);
    g_hash_table_unref(offers->accepted);
    g_free(offers);
}

gboolean
porch_offers_was_accepted(PorchOffers *offers, const char *key)
{
    gint64 *when = g_hash_table_lookup(offers->accepted, key);

    return when != NULL &&
           g_get_monotonic_time() - *when < (gint64)REMEMBER_SECONDS * G_USEC_PER_SEC;
}

void
porch_offers_remember(PorchOffers *offers, const char *key)
{
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer value;

    /* the old ones go; at most a few thousand are kept (each a sent batch of a day) */
    g_hash_table_iter_init(&it, offers->accepted);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (now - *(gint64 *)value >= (gint64)REMEMBER_SECONDS * G_USEC_PER_SEC)
            g_hash_table_iter_remove(&it);
    if (g_hash_table_size(offers->accepted) >= 4096)
        g_hash_table_remove_all(offers->accepted);
    g_hash_table_insert(offers->accepted, g_strdup(key), g_memdup2(&now, sizeof now));
}

/* Ends offer @o with @state: its sender is told, it goes. */
static void
settle(Offer *o, PorchOfferState state)
{
    PorchOfferFunc func = o->func;
    gpointer data = o->user_data;
    guint id = o->id;

    if (state == PORCH_OFFER_ACCEPTED)
        porch_offers_remember(o->offers, o->key);
    g_hash_table_remove(o->offers->by_id, GUINT_TO_POINTER(id));
    if (func != NULL)
        func(id, state, data);
}

static gboolean
on_expired(gpointer user_data)
{
    Offer *o = user_data;

    o->timeout = 0;
    g_message("offer %u of %s (%s) to the inbox %s expired unanswered", o->id, o->sender,
              o->address, o->inbox);
    settle(o, PORCH_OFFER_EXPIRED);
    return G_SOURCE_REMOVE;
}

guint
porch_offers_add(PorchOffers *offers, const char *key, const char *inbox, const char *owner,
                 const char *sender, const char *address, const char *const *names, guint count,
                 guint64 total, PorchOfferFunc func, gpointer user_data)
{
    GHashTableIter it;
    gpointer value;
    guint from_address = 0;
    Offer *o;

    g_hash_table_iter_init(&it, offers->by_id);
    while (g_hash_table_iter_next(&it, NULL, &value))
        from_address += g_strcmp0(((Offer *)value)->address, address) == 0 ? 1 : 0;
    if (g_hash_table_size(offers->by_id) >= PORCH_OFFERS_MAX ||
        from_address >= PORCH_OFFERS_MAX_PER_ADDRESS)
        return 0;
    o = g_new0(Offer, 1);
    /* small numbers, for `porch inbox accept ID`; never 0, never one still held */
    do {
        o->id = offers->next_id++;
        if (offers->next_id > 99999)
            offers->next_id = 1;
    } while (g_hash_table_contains(offers->by_id, GUINT_TO_POINTER(o->id)));
    o->key = g_strdup(key);
    o->inbox = g_strdup(inbox);
    o->owner = g_strdup(owner);
    o->sender = g_strdup(sender);
    o->address = g_strdup(address);
    o->names = g_strdupv((GStrv)names);
    o->count = count;
    o->total = total;
    o->since = g_get_real_time() / G_USEC_PER_SEC;
    o->func = func;
    o->user_data = user_data;
    o->offers = offers;
    o->timeout = g_timeout_add_seconds(offers->timeout_s, on_expired, o);
    g_hash_table_insert(offers->by_id, GUINT_TO_POINTER(o->id), o);
    return o->id;
}

void
porch_offers_withdraw(PorchOffers *offers, guint id)
{
    g_hash_table_remove(offers->by_id, GUINT_TO_POINTER(id));
}

gboolean
porch_offers_answer(PorchOffers *offers, guint id, const char *user, gboolean accept,
                    GError **error)
{
    Offer *o = g_hash_table_lookup(offers->by_id, GUINT_TO_POINTER(id));

    if (o == NULL || (user != NULL && g_strcmp0(o->owner, user) != 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "no offer %u waits for you (porch inbox list shows them)", id);
        return FALSE;
    }
    g_message("offer %u of %s (%s) to the inbox %s %s by %s", o->id, o->sender, o->address,
              o->inbox, accept ? "accepted" : "declined", user != NULL ? user : "root");
    settle(o, accept ? PORCH_OFFER_ACCEPTED : PORCH_OFFER_DECLINED);
    return TRUE;
}

static gint
by_id(gconstpointer a, gconstpointer b)
{
    guint x = (*(Offer *const *)a)->id, y = (*(Offer *const *)b)->id;

    return x < y ? -1 : x > y;
}

void
porch_offers_add_json(PorchOffers *offers, JsonBuilder *b, const char *user)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, offers->by_id);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (user == NULL || g_strcmp0(((Offer *)value)->owner, user) == 0)
            g_ptr_array_add(list, value);
    g_ptr_array_sort(list, by_id);
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        const Offer *o = list->pdata[i];

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_int_value(b, o->id);
        json_builder_set_member_name(b, "inbox");
        json_builder_add_string_value(b, o->inbox);
        json_builder_set_member_name(b, "owner");
        json_builder_add_string_value(b, o->owner);
        json_builder_set_member_name(b, "sender");
        json_builder_add_string_value(b, o->sender);
        json_builder_set_member_name(b, "address");
        json_builder_add_string_value(b, o->address);
        json_builder_set_member_name(b, "names");
        json_builder_begin_array(b);
        for (guint j = 0; o->names != NULL && o->names[j] != NULL; j++)
            json_builder_add_string_value(b, o->names[j]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "count");
        json_builder_add_int_value(b, o->count);
        json_builder_set_member_name(b, "total");
        json_builder_add_int_value(b, (gint64)o->total);
        json_builder_set_member_name(b, "since");
        json_builder_add_int_value(b, o->since);
        json_builder_set_member_name(b, "expires");
        json_builder_add_int_value(b, o->since + offers->timeout_s);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}
