/* upload-journal.c — the journal of unfinished uploads (upload-journal.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "upload-journal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "files.h"
#include "porch-state.h"
#include "session.h"

struct _PorchUploadJournal {
    char *dir; /* the state folder's PORCH_STATE_UPLOADS */
    guint serial;
    GHashTable *client_temps; /* "share/rel" of a porch put's new file -> its entry */
};

PorchUploadJournal *
porch_upload_journal_new(const char *state_dir)
{
    PorchUploadJournal *journal = g_new0(PorchUploadJournal, 1);

    journal->dir = porch_state_file(state_dir, PORCH_STATE_UPLOADS);
    /* the entries stay: what is still listed at the end goes with the session */
    journal->client_temps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return journal;
}

void
porch_upload_journal_free(PorchUploadJournal *journal)
{
    if (journal == NULL)
        return;
    g_hash_table_unref(journal->client_temps);
    g_free(journal->dir);
    g_free(journal);
}

static char *
parent_rel(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? g_strndup(rel, slash - rel) : g_strdup("");
}

char *
porch_upload_journal_add(PorchUploadJournal *journal, const char *share, const char *rel,
                         const char *temp_name, GError **error)
{
    g_autofree char *name = g_strdup_printf("%d.%u", (int)getpid(), ++journal->serial);
    g_autofree char *path = g_build_filename(journal->dir, name, NULL);
    g_autofree char *rel_dir = parent_rel(rel);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;

    if (g_mkdir_with_parents(journal->dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", journal->dir,
                    g_strerror(e));
        return NULL;
    }
    g_key_file_set_string(kf, "upload", "share", share);
    g_key_file_set_string(kf, "upload", "dir", rel_dir);
    g_key_file_set_string(kf, "upload", "name", temp_name);
    data = g_key_file_to_data(kf, NULL, NULL);
    if (!g_file_set_contents_full(path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
        return NULL;
    return g_steal_pointer(&path);
}

void
porch_upload_journal_remove(const char *entry)
{
    if (entry != NULL)
        g_unlink(entry);
}

void
porch_upload_journal_keep_client_temp(PorchUploadJournal *journal, const char *share,
                                      const char *rel, char *entry)
{
    g_hash_table_insert(journal->client_temps, g_strconcat(share, "/", rel, NULL), entry);
}

void
porch_upload_journal_forget_client_temp(PorchUploadJournal *journal, const char *share,
                                        const char *rel)
{
    g_autofree char *key = g_strconcat(share, "/", rel, NULL);
    const char *entry = g_hash_table_lookup(journal->client_temps, key);

    if (entry != NULL) {
        g_unlink(entry);
        g_hash_table_remove(journal->client_temps, key);
    }
}

/* ---- after a session ----------------------------------------------------------------- */

static gboolean
cleanup_entry(const PorchConfig *config, const char *path, PorchSftpFilesFunc files_for,
              void *user_data, gboolean *keep)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *share_name = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    g_autoptr(PorchFiles) files = NULL;
    const PorchShare *share;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return FALSE;
    share_name = g_key_file_get_string(kf, "upload", "share", NULL);
    dir = g_key_file_get_string(kf, "upload", "dir", NULL);
    name = g_key_file_get_string(kf, "upload", "name", NULL);
    share = porch_config_lookup_share(config, share_name);
    /* its folder is away (an unplugged disk): the note stays for when it is back */
    if (share != NULL && share->offline) {
        *keep = TRUE;
        return FALSE;
    }
    if (share == NULL || dir == NULL || name == NULL || strchr(name, '/') != NULL ||
        (!g_str_has_prefix(name, PORCH_UPLOAD_PREFIX) &&
         !g_str_has_prefix(name, PORCH_CLIENT_TEMP_PREFIX)))
        return FALSE;
    files = files_for != NULL ? files_for(user_data, share, NULL)
                              : porch_files_new_direct(share->path, NULL);
    return files != NULL && porch_files_unlink_in(files, dir, name) == 0;
}

/* Whether @pid is a porchd-session of @state_dir still running: not a zombie that has not
 * been reaped yet, not a reused pid of another program. */
static gboolean
session_alive(GPid pid, const char *state_dir)
{
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *cmd_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *stat = NULL;
    g_autofree char *cmd = NULL;
    gsize len = 0;
    const char *state;

    if (pid <= 0 || !g_file_get_contents(stat_path, &stat, NULL, NULL) ||
        !g_file_get_contents(cmd_path, &cmd, &len, NULL))
        return FALSE;
    /* "pid (comm) S ...": the state follows the last ')' */
    state = strrchr(stat, ')');
    if (state == NULL || state[1] == '\0' || state[2] == 'Z' || state[2] == 'X')
        return FALSE;
    if (!g_str_has_suffix(cmd, PORCH_SESSION_PROGRAM))
        return FALSE;
    for (gsize i = 0; i + 1 < len; i++)
        if (cmd[i] == '\0' && g_str_equal(cmd + i + 1, state_dir))
            return TRUE;
    return FALSE;
}

guint
porch_upload_journal_cleanup(const PorchConfig *config, const char *state_dir, GPid pid,
                             PorchSftpFilesFunc files_for, void *user_data)
{
    g_autofree char *dir = porch_state_file(state_dir, PORCH_STATE_UPLOADS);
    g_autofree char *prefix = g_strdup_printf("%d.", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint removed = 0;

    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = NULL;
        gboolean keep = FALSE;

        if (pid != 0 && !g_str_has_prefix(n, prefix))
            continue;
        /* sessions outlive a porchd killed with SIGKILL: their uploads are theirs */
        if (pid == 0 && session_alive((GPid)g_ascii_strtoll(n, NULL, 10), state_dir))
            continue;
        path = g_build_filename(dir, n, NULL);
        if (cleanup_entry(config, path, files_for, user_data, &keep))
            removed++;
        if (!keep)
            g_unlink(path);
    }
    return removed;
}
