/* porch-search.h — asking the neighbours what they hold, from their content indexes
 * ("search", porch-print-client.h): by name (`porch search`, the tray's search box) or by
 * SHA-256 (the other sources of a multi-source fetch, porch-multiget.h).
 *
 * Each neighbour is asked in a thread of its own, all at once, so that a slow or silent one
 * holds up no other. How to connect is the caller's (the CLI's options, the tray's trust
 * rules): a PorchSearchConnectFunc, called in those threads. Both porch and porch-tray ask
 * only neighbours whose keys are pinned already; that rule is kept by the connect function. */
#pragma once

#include <gio/gio.h>

#include "porch-browse.h"
#include "porch-print-client.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

/* In a worker thread: connects to @n, for one print-channel command ("search") when
 * @for_print, else for SFTP. NULL with @error. */
typedef PorchClient *(*PorchSearchConnectFunc)(const PorchNeighbour *n, gboolean for_print,
                                               gpointer data, GCancellable *cancellable,
                                               GError **error);

typedef struct {
    PorchSearchConnectFunc connect;
    /* One neighbour's answer, in the main context that was the thread-default of
     * porch_search_start()'s caller: its matches (PorchSearchMatch*, maybe none), or NULL and
     * @error (the connection's or the command's). */
    void (*answer)(const PorchNeighbour *n, GPtrArray *matches, const GError *error, gpointer data);
    /* Every neighbour has answered (in the same main context); may be NULL. */
    void (*done)(gpointer data);
    gpointer data;
    /* Frees @data once the last thread has ended (in the same main context); may be NULL. */
    GDestroyNotify data_free;
} PorchSearchCallbacks;

/* Asks every Porch neighbour of @neighbours (PorchNeighbour*; others are skipped) for the
 * files matching @pattern, or (@pattern NULL) whose SHA-256 is @sha256. Returns how many are
 * asked; with none, @callbacks->done and ->data_free are called before it returns. Once
 * @cancellable is cancelled, neither ->answer nor ->done is called any more (a new search
 * replaces an old one without hearing from it); ->data_free still is, once the threads that
 * were under way have ended. */
guint porch_search_start(GPtrArray *neighbours, const char *pattern, const char *sha256,
                         const PorchSearchCallbacks *callbacks, GCancellable *cancellable);

/* A neighbour that holds a file with a given SHA-256, and a connection to fetch it. */
typedef struct {
    PorchNeighbour *neighbour;
    PorchClient *client; /* SFTP */
    char *remote;        /* "/SHARE/PATH" there */
    guint64 size;
} PorchSearchHolder;

void porch_search_holder_free(PorchSearchHolder *holder);

/* Asks every Porch neighbour of @neighbours at once whether it holds a file whose SHA-256 is
 * @sha256_hex (64 lower-case hexadecimal digits) and, when @size is not G_MAXUINT64, whose size
 * is @size; each that does gets an SFTP connection from @connect. Blocks until every neighbour
 * has answered (call it from a worker thread or a command-line tool). Returns at most @max
 * PorchSearchHolder*, in the order of @neighbours; those that could not be asked are left
 * out. */
GPtrArray *porch_search_find_holders(GPtrArray *neighbours, const char *sha256_hex, guint64 size,
                                     guint max, PorchSearchConnectFunc connect, gpointer data,
                                     GCancellable *cancellable);

/* Adds to @all (PorchNeighbour*, as porch_browser_get_neighbours() gives them) the neighbours
 * of @remembered (PorchRemembered*, porch-neighbours.h) that it does not hold yet, by key or
 * by name. */
void porch_search_add_remembered(GPtrArray *all, GPtrArray *remembered);

G_END_DECLS
