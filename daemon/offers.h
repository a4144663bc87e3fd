/* offers.h — the offers of files that porchd's network side holds for the inboxes' owners
 * (`porch send`, porch-send.h).
 *
 * A session that received an offer for an inbox whose 'ask' rule names its sender adds it
 * here; the offer waits for its owner, who lists and answers the offers of their own inboxes
 * over the control socket (`porch inbox list|accept|decline`, porch-tray), as the kernel tells
 * who they are. An offer not answered within PORCH_SEND_OFFER_TIMEOUT_S (or the seconds in the
 * environment's PORCH_OFFER_TIMEOUT) expires; one whose
 * session ended (the sender withdrew it) goes. An accepted offer's key is remembered for a
 * day, so that sending the same files again after an interruption goes on without a second
 * question. Nothing here is kept on disk: a restart forgets the offers, and their senders
 * (whose connections end with it) send again. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
    PORCH_OFFER_WAITING,
    PORCH_OFFER_ACCEPTED,
    PORCH_OFFER_DECLINED,
    PORCH_OFFER_EXPIRED,
} PorchOfferState;

/* Offers held at once, of one sender address at once, and names kept per offer. */
#define PORCH_OFFERS_MAX             64
#define PORCH_OFFERS_MAX_PER_ADDRESS 4
#define PORCH_OFFERS_MAX_NAMES       16

/* The environment variable that sets how long an offer waits, in seconds, and its most. */
#define PORCH_OFFER_TIMEOUT_ENV    "PORCH_OFFER_TIMEOUT"
#define PORCH_OFFERS_MAX_TIMEOUT_S 86400

typedef struct _PorchOffers PorchOffers;

/* Called once when an offer is answered or expires (not when it is withdrawn). */
typedef void (*PorchOfferFunc)(guint id, PorchOfferState state, gpointer user_data);

PorchOffers *porch_offers_new(void);
void porch_offers_free(PorchOffers *offers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchOffers, porch_offers_free)

/* How long an offer waits for its owner's answer, in seconds. */
guint porch_offers_get_timeout(PorchOffers *offers);

/* Whether an offer with @key was accepted within the last day. */
gboolean porch_offers_was_accepted(PorchOffers *offers, const char *key);
/* Remembers @key as accepted (an inbox's 'accept' rule let it in). */
void porch_offers_remember(PorchOffers *offers, const char *key);

/* Adds a waiting offer and returns its id (> 0); 0 when too many are held (in all, or from
 * @address). @names (sanitised, at most PORCH_OFFERS_MAX_NAMES) is copied. */
guint porch_offers_add(PorchOffers *offers, const char *key, const char *inbox, const char *owner,
                       const char *sender, const char *address, const char *const *names,
                       guint count, guint64 total, PorchOfferFunc func, gpointer user_data);

/* The sender withdrew offer @id: it goes, without a call. */
void porch_offers_withdraw(PorchOffers *offers, guint id);

/* The owner's answer: TRUE when @id waits and @user (NULL: root, anyone's) owns its inbox;
 * else FALSE with @error saying why. */
gboolean porch_offers_answer(PorchOffers *offers, guint id, const char *user, gboolean accept,
                             GError **error);

/* Adds an array of the waiting offers of @user's inboxes (NULL: all) to @b, one object each:
 * "id", "inbox", "owner", "sender" (a peer's name or "guest"), "address", "names" (the first
 * PORCH_OFFERS_MAX_NAMES), "count", "total" (bytes), "since" (Unix time), "expires" (Unix
 * time). */
void porch_offers_add_json(PorchOffers *offers, JsonBuilder *b, const char *user);

G_END_DECLS
