/* porch-state.c — porchd's state folder, its pid file and the reload handshake. */
#include "porch-state.h"

#include <string.h>

#include <glib/gstdio.h>

#include "porch-text.h"

/* How often porch_state_wait_running() looks at the running-config file. */
#define WAIT_STEP_MS 50

char *
porch_state_default_dir(gboolean system)
{
    if (system)
        return g_strdup("/var/lib/porch");
    return g_build_filename(g_get_user_state_dir(), "porch", NULL);
}

char *
porch_state_file(const char *state_dir, const char *name)
{
    return g_build_filename(state_dir, name, NULL);
}

char *
porch_state_write_pid(const char *state_dir, pid_t pid, GError **error)
{
    g_autofree char *path = porch_state_file(state_dir, PORCH_STATE_PID_FILE);
    g_autofree char *text = g_strdup_printf("%ld\n", (long)pid);

    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
        return NULL;
    return g_steal_pointer(&path);
}

gboolean
porch_state_remove_pid(const char *path, pid_t pid)
{
    g_autofree char *text = NULL;
    g_autofree char *mine = g_strdup_printf("%ld\n", (long)pid);

    if (path == NULL || !g_file_get_contents(path, &text, NULL, NULL) || g_strcmp0(text, mine) != 0)
        return TRUE;
    return g_unlink(path) == 0;
}

pid_t
porch_state_find_porchd(const char *state_dir, char **ret_why)
{
    g_autofree char *pid_file = porch_state_file(state_dir, PORCH_STATE_PID_FILE);
    g_autofree char *text = NULL;
    g_autofree char *comm_file = NULL;
    g_autofree char *comm = NULL;
    g_autoptr(GError) error = NULL;
    guint64 pid = 0;

    if (!g_file_get_contents(pid_file, &text, NULL, &error)) {
        *ret_why = g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                           ? g_strdup_printf("no %s", pid_file)
                           : g_strdup(error->message);
        return 0;
    }
    g_strstrip(text);
    if (!porch_text_to_unsigned(text, 10, 2, G_MAXINT32, &pid, NULL)) {
        *ret_why = g_strdup_printf("%s holds no process id", pid_file);
        return 0;
    }
    /* A pid left behind by a porchd that was killed may belong to another program now. */
    comm_file = g_strdup_printf("/proc/%" G_GUINT64_FORMAT "/comm", pid);
    if (!g_file_get_contents(comm_file, &comm, NULL, NULL) ||
        strcmp(g_strchomp(comm), "porchd") != 0) {
        *ret_why = g_strdup_printf("%s names process %" G_GUINT64_FORMAT ", which is not porchd",
                                   pid_file, pid);
        return 0;
    }
    return (pid_t)pid;
}

gboolean
porch_state_wait_running(const char *state_dir, const char *text, gsize len, guint timeout_ms)
{
    g_autofree char *running = porch_state_file(state_dir, PORCH_STATE_RUNNING_CONFIG);

    for (guint waited = 0; waited <= timeout_ms; waited += WAIT_STEP_MS) {
        g_autofree char *now = NULL;
        gsize now_len = 0;

        if (g_file_get_contents(running, &now, &now_len, NULL) && now_len == len &&
            memcmp(now, text, len) == 0)
            return TRUE;
        g_usleep(WAIT_STEP_MS * 1000);
    }
    return FALSE;
}

/* A reload file larger than this is not one porchd wrote. */
#define RELOAD_FILE_MAX (64 * 1024)
#define RELOAD_OK       "ok"
#define RELOAD_REFUSED  "refused"

gboolean
porch_state_write_reload(const char *state_dir, const char *run, guint64 serial,
                         const char *refusal, GError **error)
{
    g_autofree char *path = porch_state_file(state_dir, PORCH_STATE_RELOAD);
    g_autofree char *one_line = refusal ? g_strdelimit(g_strdup(refusal), "\r\n", ' ') : NULL;
    g_autofree char *text =
            refusal ? g_strdup_printf("%s %" G_GUINT64_FORMAT "\n" RELOAD_REFUSED "\n%s\n", run,
                                      serial, one_line)
                    : g_strdup_printf("%s %" G_GUINT64_FORMAT "\n" RELOAD_OK "\n", run, serial);

    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

char *
porch_state_read_reload(const char *state_dir, char **ret_refusal)
{
    g_autofree char *path = porch_state_file(state_dir, PORCH_STATE_RELOAD);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    gsize len = 0;

    if (ret_refusal != NULL)
        *ret_refusal = NULL;
    if (!g_file_get_contents(path, &text, &len, NULL) || len > RELOAD_FILE_MAX ||
        strlen(text) != len)
        return NULL;
    lines = g_strsplit(text, "\n", 4);
    if (lines[0] == NULL || lines[0][0] == '\0' || lines[1] == NULL)
        return NULL;
    if (strcmp(lines[1], RELOAD_OK) == 0)
        return g_strdup(lines[0]);
    if (strcmp(lines[1], RELOAD_REFUSED) != 0 || lines[2] == NULL)
        return NULL;
    if (ret_refusal != NULL)
        *ret_refusal = g_strdup(lines[2]);
    return g_strdup(lines[0]);
}
