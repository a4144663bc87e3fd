/* manager.h — owns porchd's current configuration and swaps it on reload. */
#pragma once

#include <sys/types.h>

#include "porch-config.h"
#include "porch-state.h"

G_BEGIN_DECLS

typedef struct _PorchManager PorchManager;

/* Loads @config_file, with the user shares of @user_file (NULL: none; it must be a file of
 * @user_owner's: usershares.h). Returns a new manager (free with porch_manager_free()), or
 * NULL with @error set (PORCH_CONFIG_ERROR) when porch.conf is not valid; user shares that
 * are not are left out (porch_manager_get_problems()). When @snapshot_file is not NULL, the
 * text of every porch.conf that becomes current is written there, and the user shares taken
 * with it to @user_snapshot_file (both mode 0600, replaced atomically): session processes
 * read their rules from them (porch_config_load_snapshot()), so that they follow what porchd
 * validated, never a file being edited. */
PorchManager *porch_manager_new(const char *config_file, const char *snapshot_file,
                                const char *user_file, uid_t user_owner,
                                const char *user_snapshot_file, GError **error);

void porch_manager_free(PorchManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchManager, porch_manager_free)

/* Returns a new reference to the current snapshot. A holder keeps seeing exactly that
 * snapshot, whatever reloads happen, until it unrefs it. */
PorchConfig *porch_manager_get_config(PorchManager *manager);

/* What was left out of the current configuration: the user shares it does not serve, one
 * sentence each (NULL-terminated; the manager's). */
const char *const *porch_manager_get_problems(PorchManager *manager);

/* Reads the files again. On success the new snapshot becomes current and TRUE is returned;
 * on failure the current snapshot stays in force, FALSE is returned and @error says why. */
gboolean porch_manager_reload(PorchManager *manager, GError **error);

/* What a session runs with: the snapshot porchd wrote to @snapshot_file (running.conf), with
 * the user shares of PORCH_STATE_RUNNING_USER_SHARES beside it. */
PorchConfig *porch_config_load_snapshot(const char *snapshot_file, GError **error);

G_END_DECLS
