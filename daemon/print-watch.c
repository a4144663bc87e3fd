/* print-watch.c — see print-watch.h.
 *
 * One round at a time: a GTask in GLib's thread pool asks CUPS about each queue over the
 * watch's own connection (used by that one thread only, never by the main loop), then the
 * main loop compares the answers with what it knew and tells the publisher and the log. The
 * watch is reference-counted so that a round still running when porchd stops finds it alive.
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "print-watch.h"

#include <gio/gio.h>

#include "porch-cups.h"

/* What is known of a printer's queue, for logging each change once. */
typedef enum {
    QUEUE_UNKNOWN,
    QUEUE_AVAILABLE,
    QUEUE_MISSING,
    QUEUE_FAILING,   /* CUPS answered with another error */
    QUEUE_CUPS_DOWN, /* said once for all printers */
} QueueState;

struct _PorchPrintWatch {
    PorchPublisher *publisher; /* NULL once stopped */
    PorchConfig *config;
    guint timeout;
    guint generation;  /* bumped by each apply: older rounds' answers are stale */
    gboolean polling;  /* a round runs in the thread pool */
    gboolean again;    /* apply() came during a round: start another when it ends */
    int cups_up;       /* last logged: -1 not yet, FALSE, TRUE */
    GHashTable *known; /* "NAME\nQUEUE" -> QueueState */
    http_t *http;      /* the rounds' connection: touched by the round's thread only */
};

typedef struct {
    char *name;
    char *queue;
    PorchCupsPrinter info;
    GError *error;
} Probe;

typedef struct {
    PorchPrintWatch *watch; /* a reference */
    guint generation;
    GPtrArray *probes; /* of Probe * */
} Round;

static void
probe_free(Probe *p)
{
    g_free(p->name);
    g_free(p->queue);
    porch_cups_printer_clear(&p->info);
    g_clear_error(&p->error);
    g_free(p);
}

static void
watch_clear(PorchPrintWatch *w)
{
    g_clear_pointer(&w->config, porch_config_unref);
    g_clear_pointer(&w->known, g_hash_table_unref);
    g_clear_pointer(&w->http, httpClose);
}

static void
watch_release(PorchPrintWatch *w)
{
    g_rc_box_release_full(w, (GDestroyNotify)watch_clear);
}

static void
round_free(Round *r)
{
    watch_release(r->watch);
    g_ptr_array_unref(r->probes);
    g_free(r);
}

/* In the worker thread: one Get-Printer-Attributes per queue. When CUPS cannot be reached
 * the rest of the round is not tried: every queue gets that answer. */
static void
round_run(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Round *r = data;
    PorchPrintWatch *w = r->watch;
    GError *down = NULL;

    for (guint i = 0; i < r->probes->len; i++) {
        Probe *p = g_ptr_array_index(r->probes, i);

        if (down == NULL && w->http == NULL)
            w->http = porch_cups_connect(PORCH_PRINT_WATCH_TIMEOUT_MS, &down);
        if (down == NULL && !porch_cups_get_printer(w->http, p->queue, &p->info, &p->error) &&
            g_error_matches(p->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
            /* a new connection next round; libcups's own reconnect may wait 30 s */
            g_clear_pointer(&w->http, httpClose);
            down = g_error_copy(p->error);
        }
        if (down != NULL && p->error == NULL)
            p->error = g_error_copy(down);
    }
    g_clear_error(&down);
    g_task_return_boolean(task, TRUE);
}

static void round_start(PorchPrintWatch *w);

static QueueState
state_of(const Probe *p)
{
    if (p->error == NULL)
        return QUEUE_AVAILABLE;
    if (g_error_matches(p->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        return QUEUE_CUPS_DOWN;
    if (g_error_matches(p->error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return QUEUE_MISSING;
    return QUEUE_FAILING;
}

/* Logs the change of one printer's queue, if it changed. */
static void
report(PorchPrintWatch *w, const Probe *p, QueueState now)
{
    g_autofree char *key = g_strconcat(p->name, "\n", p->queue, NULL);
    QueueState before = GPOINTER_TO_INT(g_hash_table_lookup(w->known, key));
    const PorchPrinter *printer = porch_config_lookup_printer(w->config, p->name);

    if (now == before)
        return;
    g_hash_table_insert(w->known, g_steal_pointer(&key), GINT_TO_POINTER(now));
    switch (now) {
    case QUEUE_AVAILABLE:
        g_message("[printer %s]: CUPS queue '%s' (%s) is available%s", p->name, p->queue,
                  *p->info.make_and_model ? p->info.make_and_model : "no model",
                  printer && printer->hidden ? "; hidden, so not advertised" : ": advertised");
        break;
    case QUEUE_MISSING:
        g_warning("[printer %s]: CUPS has no queue '%s': not advertised, and print jobs are "
                  "refused until it exists",
                  p->name, p->queue);
        break;
    case QUEUE_FAILING:
        g_warning("[printer %s]: CUPS queue '%s': %s: not advertised", p->name, p->queue,
                  p->error->message);
        break;
    case QUEUE_CUPS_DOWN: /* reported once for all, in apply_round() */
    case QUEUE_UNKNOWN:
        break;
    }
}

/* Tells the log and the publisher what a round found. */
static void
apply_round(PorchPrintWatch *w, Round *r)
{
    const GError *down = NULL;

    for (guint i = 0; i < r->probes->len; i++) {
        const Probe *p = g_ptr_array_index(r->probes, i);
        if (state_of(p) == QUEUE_CUPS_DOWN)
            down = p->error;
    }
    if (down != NULL && w->cups_up != FALSE)
        g_warning("%s: no printer is advertised until CUPS is back; files are served meanwhile",
                  down->message);
    else if (down == NULL && w->cups_up == FALSE)
        g_message("CUPS is reachable again");
    w->cups_up = down == NULL;

    for (guint i = 0; i < r->probes->len; i++) {
        const Probe *p = g_ptr_array_index(r->probes, i);
        QueueState state = state_of(p);
        PorchPrinterStatus status = {
                .make_and_model = p->info.make_and_model,
                .color = p->info.color,
                .duplex = p->info.duplex,
                .state = p->info.state == PORCH_CUPS_PRINTER_STOPPED      ? PORCH_PRINTER_STOPPED
                         : p->info.state == PORCH_CUPS_PRINTER_PROCESSING ? PORCH_PRINTER_PROCESSING
                                                                          : PORCH_PRINTER_IDLE,
                .accepting = p->info.accepting,
        };

        report(w, p, state);
        porch_publisher_set_printer(w->publisher, p->name,
                                    state == QUEUE_AVAILABLE ? &status : NULL);
    }
}

static void
round_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Round *r = g_task_get_task_data(G_TASK(result));
    PorchPrintWatch *w = r->watch;

    w->polling = FALSE;
    if (w->publisher == NULL)
        return; /* stopped */
    if (r->generation == w->generation)
        apply_round(w, r);
    if (w->again) {
        w->again = FALSE;
        round_start(w);
    }
}

static void
round_start(PorchPrintWatch *w)
{
    g_autoptr(GTask) task = NULL;
    Round *r;

    if (w->polling) {
        w->again = TRUE;
        return;
    }
    if (w->config == NULL || porch_config_get_n_printers(w->config) == 0)
        return;
    r = g_new0(Round, 1);
    r->watch = g_rc_box_acquire(w);
    r->generation = w->generation;
    r->probes = g_ptr_array_new_with_free_func((GDestroyNotify)probe_free);
    for (guint i = 0; i < porch_config_get_n_printers(w->config); i++) {
        const PorchPrinter *printer = porch_config_get_printer(w->config, i);
        Probe *p = g_new0(Probe, 1);

        p->name = g_strdup(printer->name);
        p->queue = g_strdup(printer->queue);
        g_ptr_array_add(r->probes, p);
    }
    w->polling = TRUE;
    task = g_task_new(NULL, NULL, round_done, NULL);
    g_task_set_task_data(task, r, (GDestroyNotify)round_free);
    g_task_run_in_thread(task, round_run);
}

static gboolean
on_tick(gpointer user_data)
{
    PorchPrintWatch *w = user_data;

    if (!w->polling)
        round_start(w);
    return G_SOURCE_CONTINUE;
}

PorchPrintWatch *
porch_print_watch_new(PorchPublisher *publisher)
{
    PorchPrintWatch *w;

    g_return_val_if_fail(PORCH_IS_PUBLISHER(publisher), NULL);

    w = g_rc_box_new0(PorchPrintWatch);
    w->publisher = g_object_ref(publisher);
    w->cups_up = -1;
    w->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return w;
}

void
porch_print_watch_apply(PorchPrintWatch *w, PorchConfig *config)
{
    GHashTableIter it;
    gpointer key;

    g_return_if_fail(w != NULL && w->publisher != NULL && config != NULL);

    porch_config_ref(config);
    g_clear_pointer(&w->config, porch_config_unref);
    w->config = config;
    w->generation++;
    /* forget printers removed or pointed at another queue: logged afresh if they come back */
    g_hash_table_iter_init(&it, w->known);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_auto(GStrv) name_queue = g_strsplit(key, "\n", 2);
        const PorchPrinter *p = porch_config_lookup_printer(config, name_queue[0]);

        if (p == NULL || g_strcmp0(p->queue, name_queue[1]) != 0)
            g_hash_table_iter_remove(&it);
    }
    if (porch_config_get_n_printers(config) == 0) {
        g_clear_handle_id(&w->timeout, g_source_remove);
        w->cups_up = -1;
        return;
    }
    if (w->timeout == 0)
        w->timeout = g_timeout_add_seconds(PORCH_PRINT_WATCH_SECONDS, on_tick, w);
    round_start(w);
}

void
porch_print_watch_free(PorchPrintWatch *w)
{
    if (w == NULL)
        return;
    g_clear_handle_id(&w->timeout, g_source_remove);
    g_clear_object(&w->publisher);
    watch_release(w);
}
