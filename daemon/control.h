/* control.h — porchd's control socket, served by the network side (porch-control.h has the
 * protocol). Requests that change user shares are judged by whoever keeps them: the launcher
 * for the system service, to which the caller's connection and folder are handed with the
 * request (launcher.h); the per-user porchd itself otherwise (usershares.h). */
#pragma once

#include <glib.h>

#include "indexer.h"
#include "listener.h"
#include "manager.h"
#include "workers.h"

G_BEGIN_DECLS

typedef struct {
    PorchManager *manager;
    PorchWorkers *workers;
    PorchListener *listener;
    const char *config_file;
    const char *state_dir;
    const char *fingerprint;
    guint16 port;
    pid_t pid;                /* the process that takes SIGHUP */
    gboolean system;          /* the system service's network side */
    const char *default_name; /* the per-user porchd's name when porch.conf sets none */
    PorchIndexer *indexer;    /* NULL: no content index */
    /* what SIGHUP does in the network side: reload and apply; FALSE with the reason */
    gboolean (*reload)(gpointer data, GError **error);
    gpointer data;
} PorchControlContext;

typedef struct _PorchControl PorchControl;

/* Listens on @dir/PORCH_CTL_SOCKET (a stale socket there is replaced): mode 0666 for the
 * system service, whose callers are every local user (the folder, which the launcher made,
 * is 0755), 0600 for a user's. @ctx is copied; what it points to must outlive the control. */
PorchControl *porch_control_new(const char *dir, const PorchControlContext *ctx, GError **error);
void porch_control_free(PorchControl *control);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchControl, porch_control_free)

G_END_DECLS
