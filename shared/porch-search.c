/* porch-search.c — asking the neighbours what they hold (porch-search.h).
 *
 * A thread of its own per neighbour rather than GTask's shared pool: that pool is small and
 * also runs the tray's transfers and listings, and a search of many silent neighbours would
 * hold all of it for a connect timeout. */
#include <string.h>

#include "porch-neighbours.h"
#include "porch-search.h"

typedef struct {
    GMainContext *context;
    PorchSearchCallbacks callbacks;
    GCancellable *cancellable; /* may be NULL */
    char *pattern;
    char *sha256;
    guint pending; /* threads not ended yet; main context only */
} Run;

typedef struct {
    Run *run;
    PorchNeighbour *neighbour;
    /* the answer */
    GPtrArray *matches;
    GError *error;
} Ask;

static void
run_free(Run *run)
{
    if (run->callbacks.data_free != NULL)
        run->callbacks.data_free(run->callbacks.data);
    g_main_context_unref(run->context);
    g_clear_object(&run->cancellable);
    g_free(run->pattern);
    g_free(run->sha256);
    g_free(run);
}

static gboolean
cancelled(const Run *run)
{
    return run->cancellable != NULL && g_cancellable_is_cancelled(run->cancellable);
}

/* In the caller's main context: one neighbour's answer. */
static gboolean
on_answer(gpointer data)
{
    Ask *a = data;
    Run *run = a->run;

    if (!cancelled(run))
        run->callbacks.answer(a->neighbour, a->matches, a->error, run->callbacks.data);
    if (--run->pending == 0) {
        if (!cancelled(run) && run->callbacks.done != NULL)
            run->callbacks.done(run->callbacks.data);
        run_free(run);
    }
    porch_neighbour_unref(a->neighbour);
    if (a->matches != NULL)
        g_ptr_array_unref(a->matches);
    g_clear_error(&a->error);
    g_free(a);
    return G_SOURCE_REMOVE;
}

static gpointer
ask_thread(gpointer data)
{
    Ask *a = data;
    Run *run = a->run;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GSource) idle = g_idle_source_new();

    if (!g_cancellable_set_error_if_cancelled(run->cancellable, &a->error)) {
        client = run->callbacks.connect(a->neighbour, TRUE, run->callbacks.data, run->cancellable,
                                        &a->error);
        if (client != NULL)
            porch_client_search(client, run->pattern, run->sha256, &a->matches, &a->error);
    }
    /* Let go of the connection before the answer goes: the last answer may end the program
     * (porch search returns once every neighbour answered), and a client half freed at exit
     * is memory that nothing points to any more (LeakSanitizer said so, now and then). */
    g_clear_pointer(&client, porch_client_free);
    g_source_set_callback(idle, on_answer, a, NULL);
    g_source_attach(idle, run->context);
    return NULL;
}

guint
porch_search_start(GPtrArray *neighbours, const char *pattern, const char *sha256,
                   const PorchSearchCallbacks *callbacks, GCancellable *cancellable)
{
    Run *run = g_new0(Run, 1);
    guint asked = 0;

    g_return_val_if_fail(callbacks != NULL && callbacks->connect != NULL &&
                                 callbacks->answer != NULL && (pattern == NULL) != (sha256 == NULL),
                         0);
    run->context = g_main_context_ref_thread_default();
    run->callbacks = *callbacks;
    run->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
    run->pattern = g_strdup(pattern);
    run->sha256 = g_strdup(sha256);
    /* counted before the first thread starts: none can end the run before the last starts */
    for (guint i = 0; i < neighbours->len; i++)
        if (porch_neighbour_is_porch(g_ptr_array_index(neighbours, i)))
            run->pending++;
    if (run->pending == 0) {
        if (callbacks->done != NULL)
            callbacks->done(callbacks->data);
        run_free(run);
        return 0;
    }
    for (guint i = 0; i < neighbours->len; i++) {
        PorchNeighbour *n = g_ptr_array_index(neighbours, i);
        Ask *a;

        if (!porch_neighbour_is_porch(n))
            continue;
        a = g_new0(Ask, 1);
        a->run = run;
        a->neighbour = porch_neighbour_ref(n);
        asked++;
        g_thread_unref(g_thread_new("porch-search", ask_thread, a));
    }
    return asked;
}

/* ------------------------------------------------------------------------------------------
 * The holders of a file */

typedef struct {
    PorchNeighbour *neighbour;
    const char *sha256_hex;
    guint64 size;
    PorchSearchConnectFunc connect;
    gpointer data;
    GCancellable *cancellable;
    PorchSearchHolder *holder; /* the answer, when it holds the file */
} Candidate;

void
porch_search_holder_free(PorchSearchHolder *holder)
{
    if (holder == NULL)
        return;
    porch_neighbour_unref(holder->neighbour);
    porch_client_free(holder->client);
    g_free(holder->remote);
    g_free(holder);
}

/* In a thread: does the neighbour hold the file? Then an SFTP connection to fetch it. */
static gpointer
ask_candidate(gpointer data)
{
    Candidate *c = data;
    g_autoptr(PorchClient) exec = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autoptr(GError) error = NULL;
    const PorchSearchMatch *hit = NULL;
    PorchClient *client;

    exec = c->connect(c->neighbour, TRUE, c->data, c->cancellable, &error);
    if (exec == NULL || !porch_client_search(exec, NULL, c->sha256_hex, &found, &error)) {
        g_debug("%s not asked for a source: %s", porch_neighbour_get_name(c->neighbour),
                error->message);
        return NULL;
    }
    for (guint i = 0; i < found->len && hit == NULL; i++) {
        const PorchSearchMatch *m = g_ptr_array_index(found, i);
        if ((c->size == G_MAXUINT64 || m->size == c->size) && strcmp(m->sha256, c->sha256_hex) == 0)
            hit = m;
    }
    if (hit == NULL)
        return NULL;
    client = c->connect(c->neighbour, FALSE, c->data, c->cancellable, &error);
    if (client == NULL) {
        g_debug("%s holds the file but cannot be reached: %s",
                porch_neighbour_get_name(c->neighbour), error->message);
        return NULL;
    }
    c->holder = g_new0(PorchSearchHolder, 1);
    c->holder->neighbour = porch_neighbour_ref(c->neighbour);
    c->holder->client = client;
    c->holder->remote = g_strdup_printf("/%s/%s", hit->share, hit->path);
    c->holder->size = hit->size;
    return NULL;
}

GPtrArray *
porch_search_find_holders(GPtrArray *neighbours, const char *sha256_hex, guint64 size, guint max,
                          PorchSearchConnectFunc connect, gpointer data, GCancellable *cancellable)
{
    g_autofree Candidate *asked = g_new0(Candidate, neighbours->len + 1);
    g_autofree GThread **threads = g_new0(GThread *, neighbours->len + 1);
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)porch_search_holder_free);

    for (guint i = 0; i < neighbours->len; i++) {
        PorchNeighbour *n = g_ptr_array_index(neighbours, i);

        if (!porch_neighbour_is_porch(n))
            continue;
        asked[i] = (Candidate){n, sha256_hex, size, connect, data, cancellable, NULL};
        threads[i] = g_thread_new("porch-source", ask_candidate, &asked[i]);
    }
    for (guint i = 0; i < neighbours->len; i++) {
        if (threads[i] != NULL)
            g_thread_join(threads[i]);
        if (asked[i].holder != NULL && found->len < max)
            g_ptr_array_add(found, g_steal_pointer(&asked[i].holder));
        porch_search_holder_free(asked[i].holder);
    }
    return found;
}

void
porch_search_add_remembered(GPtrArray *all, GPtrArray *remembered)
{
    for (guint i = 0; remembered != NULL && i < remembered->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(remembered, i);
        gboolean seen = FALSE;

        for (guint j = 0; j < all->len && !seen; j++) {
            const PorchNeighbour *n = g_ptr_array_index(all, j);
            seen = porch_neighbour_is_porch(n) &&
                   ((r->fingerprint != NULL &&
                     g_strcmp0(porch_neighbour_get_fingerprint(n), r->fingerprint) == 0) ||
                    g_strcmp0(porch_neighbour_get_name(n), r->name) == 0);
        }
        if (!seen)
            g_ptr_array_add(all, porch_remembered_to_neighbour(r));
    }
}
