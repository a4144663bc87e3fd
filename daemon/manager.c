/* manager.c — the current configuration of porchd. */
#include "manager.h"

struct _PorchManager {
    char *file;
    PorchConfig *config;
};

PorchManager *
porch_manager_new(const char *config_file, GError **error)
{
    PorchConfig *config;
    PorchManager *m;

    g_return_val_if_fail(config_file != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    config = porch_config_load_file(config_file, error);
    if (config == NULL)
        return NULL;
    m = g_new0(PorchManager, 1);
    m->file = g_strdup(config_file);
    m->config = config;
    return m;
}

void
porch_manager_free(PorchManager *manager)
{
    if (manager == NULL)
        return;
    porch_config_unref(manager->config);
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

    config = porch_config_load_file(manager->file, error);
    if (config == NULL)
        return FALSE;
    porch_config_unref(manager->config);
    manager->config = config;
    return TRUE;
}

const char *
porch_manager_get_file(PorchManager *manager)
{
    return manager->file;
}
