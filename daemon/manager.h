/* manager.h — owns porchd's current configuration and swaps it on reload. */
#pragma once

#include "porch-config.h"

G_BEGIN_DECLS

typedef struct _PorchManager PorchManager;

/* Loads @config_file. Returns a new manager (free with porch_manager_free()), or NULL with
 * @error set (PORCH_CONFIG_ERROR) when the file is not valid. When @snapshot_file is not
 * NULL, the text of every configuration that becomes current is written there (mode
 * 0600, replaced atomically): session processes read their rules from it, so that they
 * follow what porchd validated, never a file being edited. */
PorchManager *porch_manager_new(const char *config_file, const char *snapshot_file, GError **error);

void porch_manager_free(PorchManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchManager, porch_manager_free)

/* Returns a new reference to the current snapshot. A holder keeps seeing exactly that
 * snapshot, whatever reloads happen, until it unrefs it. */
PorchConfig *porch_manager_get_config(PorchManager *manager);

/* Reads the file again. On success the new snapshot becomes current and TRUE is returned;
 * on failure the current snapshot stays in force, FALSE is returned and @error says why. */
gboolean porch_manager_reload(PorchManager *manager, GError **error);

G_END_DECLS
