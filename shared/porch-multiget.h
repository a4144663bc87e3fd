/* porch-multiget.h — one file fetched from several neighbours at once, each range verified
 * against the hashes of the neighbour it was asked of (the origin).
 *
 * The file is cut into ranges of the origin's range size (PORCH_MULTIGET_RANGE, the range
 * size of check-file and of the content index). Each source has a thread and a connection of
 * its own; a thread takes the next range nobody has taken yet (a fast source takes more:
 * work stealing) and fetches it whole into memory with many READs in flight; the source's
 * verifier thread hashes it and writes it to NAME.part (with O_DIRECT where that pays) only
 * when its SHA-256 is the origin's. A source whose connection
 * ends, or that sends no whole reply for its stall timeout, is dropped and its range goes
 * back to the others; one that sends wrong bytes is dropped and named. Once no range is left
 * to take, an idle source fetches a range another is still on (the first to finish wins), so
 * that a slow source does not hold up the end.
 *
 * NAME.part is resumed: ranges already in it that hash to the origin's are not fetched
 * again. NAME appears only when every range was verified. */
#pragma once

#include <gio/gio.h>

#include "porch-hash.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

#define PORCH_MULTIGET_RANGE (8u << 20)
/* a file this large is worth looking for other sources of (porch get, porch-tray) */
#define PORCH_MULTIGET_THRESHOLD (64u << 20)

typedef struct {
    PorchClient *client; /* the caller's; used by one thread of the fetch only while it runs */
    const char *name;    /* for messages: the neighbour's name */
    const char *remote;  /* the file's path there */
    /* filled in by the fetch */
    guint64 bytes; /* verified bytes this source delivered */
    char *dropped; /* why it was dropped, or NULL */
} PorchMultigetSource;

typedef struct {
    guint64 size;
    GBytes *ranges; /* the origin's SHA-256 of each PORCH_MULTIGET_RANGE bytes */
    gint64 mtime;   /* given to NAME; -1: none (its mode is the umask's) */
    /* when not NULL: the whole file's SHA-256 must be this too (porch get --sha256), checked
     * by reading NAME.part once more at the end */
    const guint8 *sha256;
    int stall_seconds; /* a source silent this long is dropped (0: 5) */
} PorchMultigetPlan;

typedef struct {
    /* at most every 50 ms, and at the end: verified bytes, sources still working */
    void (*progress)(guint64 done, guint64 total, guint sources, gpointer user_data);
    /* a source was dropped: @why says it for people */
    void (*dropped)(const PorchMultigetSource *source, const char *why, gpointer user_data);
    gpointer user_data;
} PorchMultigetCallbacks;

/* Fetches @plan's file from @sources (@n_sources of them, the origin among them) into @local
 * (through @local.part). TRUE once @local holds it, verified. FALSE with @error when every
 * source was dropped with ranges still missing (NAME.part is kept for a resume), on a local
 * error, or when the whole file's hash is not @plan->sha256 (NAME.part is removed). */
gboolean porch_multiget(PorchMultigetSource *sources, guint n_sources,
                        const PorchMultigetPlan *plan, const char *local,
                        const PorchMultigetCallbacks *callbacks, GCancellable *cancellable,
                        GError **error);

/* The same in steps, for sources found while the fetch runs: start (NAME.part opened,
 * resumed, its room checked; NULL with @error), add sources (each starts fetching at once; the
 * source must outlive the fetch), then finish: waits until the file is whole or every source
 * was dropped, and renames it (TRUE) or keeps NAME.part (FALSE with @error). The fetch is
 * freed by finish. @plan and @callbacks must outlive it. */
typedef struct _PorchMultiget PorchMultiget;
PorchMultiget *porch_multiget_start(const PorchMultigetPlan *plan, const char *local,
                                    const PorchMultigetCallbacks *callbacks,
                                    GCancellable *cancellable, GError **error);
void porch_multiget_add(PorchMultiget *fetch, PorchMultigetSource *source);
/* The verified bytes so far (from any thread, until finish). */
guint64 porch_multiget_get_done(PorchMultiget *fetch);
gboolean porch_multiget_finish(PorchMultiget *fetch, GError **error);

/* Whether a source found now could still help a fetch that verified @done of @size bytes in
 * @elapsed_us microseconds: FALSE when, at that pace, the rest comes within
 * PORCH_MULTIGET_JOIN_S, about what logging in to another source and its first range take
 * (then asking the neighbours would only cost their logins). TRUE while nothing arrived. */
#define PORCH_MULTIGET_JOIN_S 1.0
gboolean porch_multiget_worth_more_sources(guint64 done, guint64 size, gint64 elapsed_us);

/* The origin's range hashes of @remote (@size bytes) on @client, from check-file-name with
 * 8 MiB blocks (from its content index when it has one), 16 GiB per request. */
GBytes *porch_multiget_range_hashes(PorchClient *client, const char *remote, guint64 size,
                                    GCancellable *cancellable, GError **error);

/* The whole file's SHA-256 of @remote on @client (check-file-name, one hash). */
gboolean porch_multiget_file_hash(PorchClient *client, const char *remote, guint8 *ret_sha256,
                                  GCancellable *cancellable, GError **error);

G_END_DECLS
