/* manager.c — the current configuration of porchd. */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "manager.h"

#include <gio/gio.h>

#include "usershares.h"

struct _PorchManager {
    char *file;
    char *snapshot_file;
    char *user_file;
    uid_t user_owner;
    char *user_snapshot_file;
    PorchConfig *config;
    GStrv problems;
};

static gboolean
write_snapshot(const char *file, const char *data, gsize len, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (file == NULL || g_file_set_contents_full(file, data, (gssize)len,
                                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
        return TRUE;
    g_set_error(error, PORCH_CONFIG_ERROR, PORCH_CONFIG_ERROR_IO, "%s", local->message);
    return FALSE;
}

/* Reads and validates the file and the user shares; on success writes the snapshots and
 * returns the config. */
static PorchConfig *
load(PorchManager *m, GStrv *ret_problems, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *user = NULL;
    g_autofree char *accepted = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    g_autoptr(PorchConfig) config = NULL;
    g_auto(GStrv) problems = NULL;

    if (!g_file_get_contents(m->file, &data, &len, &local)) {
        g_set_error(error, PORCH_CONFIG_ERROR, PORCH_CONFIG_ERROR_IO, "%s", local->message);
        return NULL;
    }
    if (m->user_file != NULL) {
        user = porch_user_shares_read(m->user_file, m->user_owner, &local);
        if (user == NULL) {
            g_warning("no user share is served: %s", local->message);
            g_clear_error(&local);
        }
    }
    config = porch_config_load_merged(data, (gssize)len, m->file, user, m->user_file, &accepted,
                                      &problems, error);
    if (config == NULL)
        return NULL;
    /* the user shares' snapshot first: a session that starts in between reads the new one
     * with the old porch.conf, and leaves out what that refuses */
    if (m->user_file != NULL &&
        !write_snapshot(m->user_snapshot_file, accepted, strlen(accepted), error))
        return NULL;
    if (!write_snapshot(m->snapshot_file, data, len, error))
        return NULL;
    for (guint i = 0; problems[i] != NULL; i++)
        g_warning("%s", problems[i]);
    *ret_problems = g_steal_pointer(&problems);
    return g_steal_pointer(&config);
}

PorchManager *
porch_manager_new(const char *config_file, const char *snapshot_file, const char *user_file,
                  uid_t user_owner, const char *user_snapshot_file, GError **error)
{
    PorchManager *m;

    g_return_val_if_fail(config_file != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    m = g_new0(PorchManager, 1);
    m->file = g_strdup(config_file);
    m->snapshot_file = g_strdup(snapshot_file);
    m->user_file = g_strdup(user_file);
    m->user_owner = user_owner;
    m->user_snapshot_file = g_strdup(user_snapshot_file);
    m->config = load(m, &m->problems, error);
    if (m->config == NULL) {
        porch_manager_free(m);
        return NULL;
    }
    return m;
}

void
porch_manager_free(PorchManager *manager)
{
    if (manager == NULL)
        return;
    porch_config_unref(manager->config);
    g_strfreev(manager->problems);
    g_free(manager->user_snapshot_file);
    g_free(manager->user_file);
    g_free(manager->snapshot_file);
    g_free(manager->file);
    g_free(manager);
}

PorchConfig *
porch_manager_get_config(PorchManager *manager)
{
    g_return_val_if_fail(manager != NULL, NULL);
    return porch_config_ref(manager->config);
}

const char *const *
porch_manager_get_problems(PorchManager *manager)
{
    g_return_val_if_fail(manager != NULL, NULL);
    return (const char *const *)manager->problems;
}

gboolean
porch_manager_reload(PorchManager *manager, GError **error)
{
    PorchConfig *config;
    GStrv problems = NULL;

    g_return_val_if_fail(manager != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    config = load(manager, &problems, error);
    if (config == NULL)
        return FALSE;
    porch_config_unref(manager->config);
    manager->config = config;
    g_strfreev(manager->problems);
    manager->problems = problems;
    return TRUE;
}

PorchConfig *
porch_config_load_snapshot(const char *snapshot_file, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *dir = g_path_get_dirname(snapshot_file);
    g_autofree char *user_file = g_build_filename(dir, PORCH_STATE_RUNNING_USER_SHARES, NULL);
    g_autofree char *user = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(snapshot_file, &data, &len, &local)) {
        g_set_error(error, PORCH_CONFIG_ERROR, PORCH_CONFIG_ERROR_IO, "%s", local->message);
        return NULL;
    }
    /* porchd wrote it, 0600, in a folder only it may write: missing when it has none */
    g_file_get_contents(user_file, &user, NULL, NULL);
    return porch_config_load_merged(data, (gssize)len, snapshot_file, user, user_file, NULL, NULL,
                                    error);
}
