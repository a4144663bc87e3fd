/* offline.c — shares whose folder is missing (offline.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "offline.h"

#include <string.h>

#include "porch-state.h"
#include "porch-text.h"

/* The state file is porchd's own, but a session still reads no more than this of it. */
#define OFFLINE_FILE_MAX (64 * 1024)

struct _PorchOffline {
    char *file;
    GHashTable *paths; /* name of an offline share -> its folder, as logged */
    guint64 epoch;     /* 0: the file was never written */
};

PorchOffline *
porch_offline_new(const char *state_dir)
{
    PorchOffline *o = g_new0(PorchOffline, 1);

    o->file = porch_state_file(state_dir, PORCH_STATE_OFFLINE);
    o->paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return o;
}

void
porch_offline_free(PorchOffline *o)
{
    if (o == NULL)
        return;
    g_hash_table_unref(o->paths);
    g_free(o->file);
    g_free(o);
}

static void
write_file(PorchOffline *o)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    GHashTableIter it;
    gpointer name;

    g_string_append_printf(text, "%" G_GUINT64_FORMAT "\n", o->epoch);
    g_hash_table_iter_init(&it, o->paths);
    while (g_hash_table_iter_next(&it, &name, NULL))
        g_string_append_printf(text, "%s\n", (const char *)name);
    /* temporary file and rename: a session never reads half of it */
    if (!g_file_set_contents_full(o->file, text->str, (gssize)text->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
        g_warning("cannot tell sessions which shares are offline: %s", error->message);
}

gboolean
porch_offline_check(PorchOffline *o, PorchConfig *config)
{
    gboolean changed = o->epoch == 0;
    GHashTableIter it;
    gpointer name, path;

    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *share = porch_config_get_share(config, i);
        g_autofree char *why = NULL;
        gboolean missing = porch_share_folder_missing(share, &why);
        const char *was = g_hash_table_lookup(o->paths, share->name);

        porch_config_set_offline(config, share->name, missing);
        if (missing && g_strcmp0(was, share->path) != 0) {
            g_warning("share %s offline: folder %s %s", share->name, share->path, why);
            g_hash_table_insert(o->paths, g_strdup(share->name), g_strdup(share->path));
            changed = TRUE;
        } else if (!missing && was != NULL) {
            g_message("share %s online again: folder %s is back", share->name, share->path);
            g_hash_table_remove(o->paths, share->name);
            changed = TRUE;
        }
    }
    /* shares a reload removed are no longer anything */
    g_hash_table_iter_init(&it, o->paths);
    while (g_hash_table_iter_next(&it, &name, &path)) {
        if (porch_config_lookup_share(config, name) == NULL) {
            g_hash_table_iter_remove(&it);
            changed = TRUE;
        }
    }
    if (changed) {
        o->epoch++;
        write_file(o);
    }
    porch_config_set_offline_epoch(config, o->epoch);
    return changed;
}

void
porch_offline_read(PorchConfig *config, const char *state_dir)
{
    g_autofree char *file = porch_state_file(state_dir, PORCH_STATE_OFFLINE);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint64 epoch = 0;
    gsize len = 0;

    if (!g_file_get_contents(file, &text, &len, NULL) || len > OFFLINE_FILE_MAX)
        return;
    lines = g_strsplit(text, "\n", -1);
    if (lines[0] == NULL || !porch_text_to_unsigned(lines[0], 10, 0, G_MAXUINT64, &epoch, NULL))
        return;
    for (guint i = 1; lines[i] != NULL; i++)
        if (lines[i][0] != '\0')
            porch_config_set_offline(config, lines[i], TRUE);
    porch_config_set_offline_epoch(config, epoch);
}
