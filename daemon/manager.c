/* manager.c — the current configuration of porchd. */
#include "manager.h"

#include <gio/gio.h>

struct _PorchManager {
    char *file;
    char *snapshot_file;
    PorchConfig *config;
};

/* Reads and validates the file; on success writes the snapshot and returns the config. */
static PorchConfig *
load(PorchManager *m, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    g_autoptr(PorchConfig) config = NULL;

    if (!g_file_get_contents(m->file, &data, &len, &local)) {
        g_set_error(error, PORCH_CONFIG_ERROR, PORCH_CONFIG_ERROR_IO, "%s", local->message);
        return NULL;
    }
    config = porch_config_load_data(data, (gssize)len, m->file, error);
    if (config == NULL)
        return NULL;
    if (m->snapshot_file != NULL &&
        !g_file_set_contents_full(m->snapshot_file, data, (gssize)len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local)) {
        g_set_error(error, PORCH_CONFIG_ERROR, PORCH_CONFIG_ERROR_IO, "%s", local->message);
        return NULL;
    }
    return g_steal_pointer(&config);
}

PorchManager *
porch_manager_new(const char *config_file, const char *snapshot_file, GError **error)
{
    PorchManager *m;

    g_return_val_if_fail(config_file != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    m = g_new0(PorchManager, 1);
    m->file = g_strdup(config_file);
    m->snapshot_file = g_strdup(snapshot_file);
    m->config = load(m, error);
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

gboolean
porch_manager_reload(PorchManager *manager, GError **error)
{
    PorchConfig *config;

    g_return_val_if_fail(manager != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    config = load(manager, error);
    if (config == NULL)
        return FALSE;
    porch_config_unref(manager->config);
    manager->config = config;
    return TRUE;
}
