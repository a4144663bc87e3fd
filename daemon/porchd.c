/* porchd — the Porch service: options, main loop, signals. */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include <errno.h>
#include <malloc.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "control.h"
#include "launcher.h"
#include "listener.h"
#include "manager.h"
#include "indexer.h"
#include "offline.h"
#include "porch-control.h"
#include "porch-cups.h"
#include "porch-identity.h"
#include "porch-publish.h"
#include "porch-risk.h"
#include "porch-sandbox.h"
#include "porch-state.h"
#include "porch-text.h"
#include "print-watch.h"
#include "session.h"
#include "upload-journal.h"
#include "workers.h"

/* --check-config waits this long for CUPS to accept and to answer each question */
#define CHECK_CUPS_TIMEOUT_MS 2000
/* --reload waits this long for the verdict unless --timeout says otherwise */
#define RELOAD_TIMEOUT_S     10
#define RELOAD_TIMEOUT_MAX_S 3600
/* how often --reload looks at the reload file */
#define RELOAD_POLL_MS 50
/* the most of the daemon's reason --reload shows */
#define RELOAD_REASON_MAX 4096

typedef struct {
    GMainLoop *loop;
    PorchManager *manager;
    PorchListener *listener;
    PorchPublisher *publisher;
    PorchPrintWatch *print_watch;
    PorchWorkers *workers;
    PorchOffline *offline;
    PorchIndexer *indexer; /* NULL: no content index */
    const char *state_dir;
    char *run;       /* "PID-START": this network side, in the reload file (porch-state.h) */
    guint64 reloads; /* SIGHUPs handled */
} Daemon;

static void
log_summary(PorchConfig *config)
{
    g_message("configuration %s: name \"%s\", port %u, %u shares, %u printers, %u peers",
              porch_config_get_origin(config), porch_config_get_name(config),
              porch_config_get_port(config), porch_config_get_n_shares(config),
              porch_config_get_n_printers(config), porch_config_get_n_peers(config));
}

/* The risky rules of @config (porch-risk.h): served all the same, and said in the log. */
static void
log_risks(PorchConfig *config)
{
    g_autoptr(GPtrArray) risks = porch_config_risks(config);

    for (guint i = 0; i < risks->len; i++) {
        g_autofree char *line = porch_risk_format(risks->pdata[i]);
        g_warning("%s", line);
    }
}

/* Reads porch.conf and the user shares again and puts them in force; FALSE with the reason
 * when porch.conf is refused (the previous configuration stays). SIGHUP, and the control
 * socket's changes and reloads. */
static gboolean
reload(gpointer user_data, GError **error)
{
    Daemon *d = user_data;
    g_autoptr(PorchConfig) config = NULL;
    g_autoptr(PorchConfig) before = porch_manager_get_config(d->manager);

    d->reloads++;
    if (!porch_manager_reload(d->manager, error)) {
        g_autoptr(GError) local = NULL;

        g_warning("reload refused, the previous configuration stays in force: %s",
                  (*error)->message);
        /* for porchd --reload (systemctl reload) to show */
        if (!porch_state_write_reload(d->state_dir, d->run, d->reloads, (*error)->message, &local))
            g_warning("cannot write the reload verdict: %s", local->message);
        return FALSE;
    }
    config = porch_manager_get_config(d->manager);
    g_message("reloaded");
    log_summary(config);
    log_risks(config);
    porch_offline_check(d->offline, config);
    if (porch_config_get_port(config) != porch_config_get_port(before) ||
        !g_strv_equal((const char *const *)porch_config_get_listen(config),
                      (const char *const *)porch_config_get_listen(before)))
        g_warning("the new port or listen addresses take effect when porchd restarts");
    porch_workers_apply(d->workers, config);
    if (d->indexer != NULL)
        porch_indexer_apply(d->indexer, config);
    porch_listener_reloaded(d->listener);
    porch_publisher_apply(d->publisher, config);
    porch_print_watch_apply(d->print_watch, config);
    {
        g_autoptr(GError) local = NULL;

        /* last: "ok" means in force */
        if (!porch_state_write_reload(d->state_dir, d->run, d->reloads, NULL, &local))
            g_warning("cannot write the reload verdict: %s", local->message);
    }
    return TRUE;
}

static gboolean
on_sighup(gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    reload(user_data, &error);
    return G_SOURCE_CONTINUE;
}

/* Shares whose folder went missing or came back (offline.h). Polled rather than watched with
 * a GFileMonitor: inotify reports no mount or unmount at a path (a watch on the parent of a
 * mount point sees nothing when a disk is unplugged or a bind mount is undone, and a missing
 * folder's nearest existing parent may be several levels up), while a stat() of each share's
 * folder every PORCH_OFFLINE_POLL_SECONDS is cheap and sees every case. */
static gboolean
on_offline_poll(gpointer user_data)
{
    Daemon *d = user_data;
    g_autoptr(PorchConfig) config = porch_manager_get_config(d->manager);

    if (porch_offline_check(d->offline, config)) {
        porch_workers_apply(d->workers, config);
        if (d->indexer != NULL)
            porch_indexer_apply(d->indexer, config);
        porch_listener_reloaded(d->listener);
        porch_publisher_apply(d->publisher, config);
    } else if (d->indexer != NULL && porch_indexer_restart_due(d->indexer)) {
        porch_indexer_apply(d->indexer, config);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm(gpointer user_data)
{
    Daemon *d = user_data;

    g_message("stopping");
    g_main_loop_quit(d->loop);
    /* kept: a second SIGTERM (systemd's, a process group's) must not kill porchd mid-stop */
    return G_SOURCE_CONTINUE;
}

static void
on_collision(PorchPublisher *publisher, const char *old_name, const char *new_name,
             gpointer user_data)
{
    if (new_name != NULL)
        g_message("the name \"%s\" is taken on the network: published as \"%s\"", old_name,
                  new_name);
    else
        g_warning("the name \"%s\" and its alternatives are taken on the network: not "
                  "published; choose another name",
                  old_name);
}

static void
on_avahi_state(PorchPublisher *publisher, gboolean running, gpointer user_data)
{
    if (running)
        g_message("avahi-daemon is running: publishing on the local network");
    else
        g_warning("avahi-daemon is not running: neighbours do not see this machine until it is "
                  "back; serving goes on");
}

/* The line of @file where [@section]'s @key is set, else where [@section] starts; 0 when
 * neither is found. For messages in the form porch-config.c gives them. */
static guint
config_line(const char *file, const char *section, const char *key)
{
    g_autofree char *text = NULL;
    g_autofree char *header = g_strconcat("[", section, "]", NULL);
    g_auto(GStrv) lines = NULL;
    guint section_line = 0;

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return 0;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *line = g_strstrip(lines[i]);

        if (line[0] == '[') {
            if (section_line > 0)
                break;
            if (strcmp(line, header) == 0)
                section_line = i + 1;
        } else if (section_line > 0 && g_str_has_prefix(line, key)) {
            const char *rest = line + strlen(key);
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (*rest == '=')
                return i + 1;
        }
    }
    return section_line;
}

/* --check-config's look at CUPS: every [printer]'s queue must exist. Prints the first
 * missing one as porch-config.c prints a mistake and returns FALSE. When CUPS is not
 * reachable it says so as a warning and returns TRUE: CUPS may well start later. */
static gboolean
check_queues(PorchConfig *config, const char *file)
{
    g_autoptr(GError) error = NULL;
    http_t *http;

    if (porch_config_get_n_printers(config) == 0)
        return TRUE;
    http = porch_cups_connect(CHECK_CUPS_TIMEOUT_MS, &error);
    for (guint i = 0; http != NULL && i < porch_config_get_n_printers(config); i++) {
        const PorchPrinter *p = porch_config_get_printer(config, i);
        g_auto(PorchCupsPrinter) info = {0};
        g_autofree char *section = NULL;
        guint line;

        if (porch_cups_get_printer(http, p->queue, &info, &error))
            continue;
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
            g_clear_pointer(&http, httpClose);
            break;
        }
        section = g_strconcat("printer ", p->name, NULL);
        line = config_line(file, section, "queue");
        fprintf(stderr, "%s", file);
        if (line > 0)
            fprintf(stderr, ":%u", line);
        fprintf(stderr, ": [%s] queue: CUPS has no queue '%s' (lpstat -e lists them)\n", section,
                p->queue);
        httpClose(http);
        return FALSE;
    }
    if (http == NULL) {
        fprintf(stderr, "porchd: warning: the printers' queues were not checked: %s\n",
                error->message);
        return TRUE;
    }
    httpClose(http);
    return TRUE;
}

/* Whether the user @pw may @mode (access(2)'s R_OK, W_OK, X_OK) @path, every folder on the
 * way, groups and ACLs counted: asked in a child that becomes that user (as root), or here
 * when it is this process's user. -1: it cannot be told (another user, and not root). */
static int
user_may(const struct passwd *pw, const char *path, int mode)
{
    gid_t groups[64];
    int n = G_N_ELEMENTS(groups), status = 0;
    pid_t child;

    if (pw->pw_uid == geteuid())
        return access(path, mode) == 0;
    if (geteuid() != 0 || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
        return -1;
    child = fork();
    if (child == 0) {
        if (setgroups((size_t)n, groups) != 0 ||
            setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
            _exit(2);
        _exit(access(path, mode) == 0 ? 0 : 1);
    }
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) > 1)
        return -1;
    return WEXITSTATUS(status) == 0;
}

/* --check-config's look at each share's owner (the user its worker runs as): it must be able
 * to read the folder, and to write it where a rule gives write. Prints each problem as
 * porch-config.c prints a mistake, with the fix, and returns FALSE if there was one. */
static gboolean
check_owners(PorchConfig *config, const char *file)
{
    gboolean ok = TRUE;

    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *share = porch_config_get_share(config, i);
        g_autofree char *section = g_strconcat("share ", share->name, NULL);
        g_autoptr(GError) error = NULL;
        gboolean write = porch_share_writable(share);
        struct passwd *pw = porch_share_user(share, &error);
        g_autofree char *user = NULL;
        g_autofree char *why = NULL;
        int readable, writable = 1;
        guint line;

        /* an unplugged disk is no mistake in the file: porchd serves the other shares */
        if (porch_share_folder_missing(share, &why)) {
            fprintf(stderr,
                    "porchd: warning: [%s] path: folder %s %s: the share is offline until it "
                    "is back\n",
                    section, share->path, why);
            continue;
        }
        if (pw == NULL) {
            line = config_line(file, section, share->owner ? "owner" : "path");
            fprintf(stderr, "%s:%u: [%s] %s\n", file, line, section, error->message);
            ok = FALSE;
            continue;
        }
        user = g_strdup(pw->pw_name);
        readable = user_may(pw, share->path, R_OK | X_OK);
        if (readable == 1 && write)
            writable = user_may(pw, share->path, W_OK | X_OK);
        if (readable == -1) {
            fprintf(stderr,
                    "porchd: warning: [%s] is served as %s, whose rights only root can check "
                    "(run porchd --check-config as root)\n",
                    section, user);
            continue;
        }
        if (readable == 1 && writable == 1)
            continue;
        line = config_line(file, section, "path");
        fprintf(stderr,
                "%s:%u: [%s] path: %s is served as %s%s, who cannot %s it: give %s that right "
                "(chown, chmod, setfacl), or set owner = a user who has it\n",
                file, line, section, share->path, user,
                share->owner ? "" : " (the folder's owner, or porch for root's)",
                readable == 1 ? "write in" : "read", user);
        ok = FALSE;
    }
    return ok;
}

/* What the network side does besides the calls every Porch process makes and file access:
 * it listens, accepts, and starts sessions (and, without a launcher, workers). */
static const char *const network_syscalls[] = {
        "bind",
        "listen",
        "accept",
        "accept4",
        "clone",
        "execve",
        "wait4",
        "waitid",
        "kill",
        "close_range",
        "setpgid",
        "getpgid",
        "setsid",
        "vfork",
        "inotify_init1",
        "inotify_add_watch",
        "inotify_rm_watch",
        "sendfile",
        "splice",
        "pidfd_open",
        "pidfd_send_signal",
        "rt_sigtimedwait",
        /* what its sessions and workers confine themselves with (they can only add limits) */
        "seccomp",
        "landlock_create_ruleset",
        "landlock_add_rule",
        "landlock_restrict_self",
        NULL,
};

/* The network side, once it listens and before it reads from the network: no new privileges,
 * and the system calls it makes (seccomp; its sessions and workers add their own, stricter,
 * filters). It runs as 'porch' without capabilities (the launcher saw to that), or as the
 * user of the per-user service. */
static gboolean
confine(GError **error)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) allowed = NULL;

    g_strv_builder_addv(b, (const char **)porch_sandbox_base_syscalls);
    g_strv_builder_addv(b, (const char **)porch_sandbox_file_syscalls);
    g_strv_builder_addv(b, (const char **)network_syscalls);
    allowed = g_strv_builder_end(b);
    return porch_sandbox_seccomp((const char *const *)allowed,
                                 porch_sandbox_fatal_syscalls_but_exec, 0, error);
}

/* The per-user service's listener when porch.conf sets no port: 4422 when it is free, else the
 * port this porchd chose before (STATE/port), else a free one, which it keeps there. The
 * system service may well hold 4422 on the same machine; mDNS carries the port. */
static PorchListener *
listen_as_user(PorchManager *manager, PorchWorkers *workers, const char *session_program,
               const char *snapshot, const char *state_dir, GError **error)
{
    g_autofree char *file = porch_state_file(state_dir, PORCH_STATE_PORT);
    g_autofree char *text = NULL;
    guint64 kept = 0;
    guint16 tries[3];
    guint n = 0;

    if (g_file_get_contents(file, &text, NULL, NULL))
        porch_text_to_unsigned(g_strstrip(text), 10, 1, 65535, &kept, NULL);
    tries[n++] = PORCH_DEFAULT_PORT;
    if (kept != 0 && kept != PORCH_DEFAULT_PORT)
        tries[n++] = (guint16)kept;
    tries[n++] = 0;
    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        PorchListener *l = porch_listener_new(manager, workers, tries[i], session_program, snapshot,
                                              state_dir, &local);
        guint16 port;

        if (l == NULL) {
            if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE) && i + 1 < n)
                continue;
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
        port = porch_listener_get_port(l);
        if (port != PORCH_DEFAULT_PORT && port != kept) {
            g_autofree char *line = g_strdup_printf("%u\n", port);
            if (!g_file_set_contents(file, line, -1, &local))
                g_warning("cannot keep the port %u for next time: %s", port, local->message);
        }
        if (port != PORCH_DEFAULT_PORT)
            g_message("port %u is taken (by the system service?): listening on %u",
                      PORCH_DEFAULT_PORT, port);
        return l;
    }
    g_assert_not_reached();
}

/* @name (porchd-session, porchd-worker) beside this program (a build tree, or the same
 * folder), else where it is installed. */
static char *
find_program(const char *name)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    g_autofree char *beside = dir ? g_build_filename(dir, name, NULL) : NULL;

    if (beside != NULL && g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer(&beside);
    return g_build_filename(PORCH_LIBEXECDIR, name, NULL);
}

/* The network side of the system service (@network_side: the launcher started it), or a
 * per-user porchd: everything but the launcher. Returns porchd's exit status. */
static int
serve(const char *config_file, const char *state_dir, const char *runtime_dir,
      const char *worker_program, gboolean system, gboolean network_side)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchManager) manager = NULL;
    g_autoptr(PorchConfig) config = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(PorchListener) listener = NULL;
    g_autoptr(PorchPublisher) publisher = NULL;
    g_autoptr(PorchPrintWatch) print_watch = NULL;
    g_autofree char *snapshot = NULL;
    g_autofree char *host_key_file = NULL;
    g_autofree char *fingerprint = NULL;
    g_autofree char *session_program = NULL;
    g_autoptr(PorchWorkers) workers = NULL;
    g_autoptr(PorchOffline) offline = NULL;
    g_autoptr(PorchControl) control = NULL;
    g_autoptr(PorchIndexer) indexer = NULL;
    g_autofree char *user_file = NULL;
    g_autofree char *user_snapshot = NULL;
    g_autofree char *default_name = NULL;
    PorchControlContext ctx;
    /* the launcher's pid, when there is one: a reload goes through it (porch-state.h) */
    pid_t pid_in_file = network_side ? getppid() : getpid();
    g_autofree char *pid_file = NULL;
    ssh_key host_key = NULL;
    guint removed;
    g_autofree char *run =
            g_strdup_printf("%ld-%" G_GINT64_FORMAT, (long)getpid(), g_get_real_time());
    Daemon d;

    /* A fixed trim threshold, so that what the index's thread gives back when it is quiet
     * (indexer.c) leaves the process: with glibc's sliding one, raised by the first big block
     * freed, the freed top of that thread's malloc arena stays mapped for good. */
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    workers = porch_workers_new(network_side ? PORCH_LAUNCHER_FD : -1, worker_program);
    if (g_mkdir_with_parents(state_dir, 0700) != 0) {
        g_printerr("porchd: cannot create the state directory %s: %s\n", state_dir,
                   g_strerror(errno));
        return 1;
    }
    snapshot = porch_state_file(state_dir, PORCH_STATE_RUNNING_CONFIG);
    user_file = porch_state_file(state_dir, PORCH_STATE_USER_SHARES);
    user_snapshot = porch_state_file(state_dir, PORCH_STATE_RUNNING_USER_SHARES);
    /* the system service's user shares are the launcher's (root's) file */
    manager = porch_manager_new(config_file, snapshot, user_file, network_side ? 0 : getuid(),
                                user_snapshot, &error);
    if (manager == NULL) {
        g_printerr("porchd: %s\n", error->message);
        return 1;
    }
    host_key_file = porch_state_file(state_dir, PORCH_STATE_HOST_KEY);
    host_key = porch_identity_load_or_create(host_key_file, &error);
    if (host_key == NULL) {
        g_printerr("porchd: %s\n", error->message);
        return 1;
    }
    fingerprint = porch_key_fingerprint(host_key);
    ssh_key_free(host_key);
    config = porch_manager_get_config(manager);
    /* before any session starts: they read which shares are offline from the state folder */
    offline = porch_offline_new(state_dir);
    porch_offline_check(offline, config);
    if ((removed = porch_upload_journal_cleanup(config, state_dir, 0, porch_workers_files_for,
                                                workers)) > 0)
        g_message("removed %u unfinished upload(s) left by an earlier run", removed);
    /* The content index: sharing goes on without it (sessions then hash on demand). */
    indexer = porch_indexer_new(state_dir, workers, &error);
    if (indexer == NULL) {
        g_warning("no content index: %s", error->message);
        g_clear_error(&error);
    }
    session_program = find_program(PORCH_SESSION_PROGRAM);
    if (!system && !network_side && !porch_config_has_port(config))
        listener = listen_as_user(manager, workers, session_program, snapshot, state_dir, &error);
    else
        listener = porch_listener_new(manager, workers, porch_config_get_port(config),
                                      session_program, snapshot, state_dir, &error);
    if (listener == NULL) {
        g_printerr("porchd: cannot listen: %s\n", error->message);
        return 1;
    }

    /* Signals first: "running" in the log means SIGHUP and SIGTERM are handled. */
    loop = g_main_loop_new(NULL, FALSE);
    /* Published with the port being served: a new port takes effect only at a restart. */
    publisher = porch_publisher_new(fingerprint, porch_listener_get_port(listener));
    /* a per-user porchd never publishes under the machine's (the system service's) name */
    if (!system && !network_side) {
        default_name = g_strdup_printf("%s on %s", g_get_user_name(), g_get_host_name());
        porch_publisher_set_default_name(publisher, default_name);
        porch_listener_set_default_name(listener, default_name);
    }
    g_signal_connect(publisher, "collision", G_CALLBACK(on_collision), NULL);
    g_signal_connect(publisher, "avahi-state", G_CALLBACK(on_avahi_state), NULL);
    print_watch = porch_print_watch_new(publisher);
    d = (Daemon){.loop = loop,
                 .manager = manager,
                 .listener = listener,
                 .publisher = publisher,
                 .print_watch = print_watch,
                 .workers = workers,
                 .offline = offline,
                 .indexer = indexer,
                 .state_dir = state_dir,
                 .run = run};
    g_unix_signal_add(SIGHUP, on_sighup, &d);
    g_unix_signal_add(SIGTERM, on_sigterm, &d);
    g_unix_signal_add(SIGINT, on_sigterm, &d);
    g_timeout_add_seconds(PORCH_OFFLINE_POLL_SECONDS, on_offline_poll, &d);

    /* the verdict on the configuration it starts with, before the pid file: whoever finds
     * this porchd finds a verdict of its own, not one left by an earlier run */
    if (!porch_state_write_reload(state_dir, run, 0, NULL, &error)) {
        g_warning("cannot write the reload verdict (porchd --reload cannot tell whether a reload "
                  "worked): %s",
                  error->message);
        g_clear_error(&error);
    }
    /* for porch peers accept and porchd --reload (porch-state.h) */
    pid_file = porch_state_write_pid(state_dir, pid_in_file, &error);
    if (pid_file == NULL) {
        /* serving goes on without it */
        g_warning("cannot write the pid file (porch peers accept cannot reload porchd): %s",
                  error->message);
        g_clear_error(&error);
    }
    ctx = (PorchControlContext){.manager = manager,
                                .workers = workers,
                                .listener = listener,
                                .config_file = config_file,
                                .state_dir = state_dir,
                                .fingerprint = fingerprint,
                                .port = porch_listener_get_port(listener),
                                .pid = pid_in_file,
                                .system = network_side,
                                .default_name = default_name,
                                .indexer = indexer,
                                .reload = reload,
                                .data = &d};
    control = porch_control_new(runtime_dir, &ctx, &error);
    if (control == NULL) {
        /* sharing goes on; `porch share`, `status` cannot reach this porchd */
        g_warning("no control socket: %s", error->message);
        g_clear_error(&error);
    }
    porch_sandbox_raise_nofile();
    if (!confine(&error)) {
        g_printerr("porchd: cannot confine the network side: %s\n", error->message);
        return 1;
    }
    log_summary(config);
    log_risks(config);
    g_message("porchd %s running: SFTP on port %u, host key %s, state in %s", PORCH_VERSION,
              porch_listener_get_port(listener), fingerprint, state_dir);
    porch_publisher_apply(publisher, config);
    porch_print_watch_apply(print_watch, config);
    if (indexer != NULL)
        porch_indexer_apply(indexer, config);

    g_main_loop_run(loop);
    /* Withdraw from the network before exiting: avahi-daemon has sent its goodbyes once
     * the last reference is gone. */
    g_clear_pointer(&control, porch_control_free);
    g_clear_pointer(&print_watch, porch_print_watch_free);
    g_clear_object(&publisher);
    if (!porch_state_remove_pid(pid_file, pid_in_file))
        g_warning("cannot remove the pid file %s: %s", pid_file, g_strerror(errno));
    g_message("stopped");
    return 0;
}

/* porchd --reload: makes the porchd whose state is in @state_dir read its porch.conf again
 * and waits at most @timeout_s for its verdict (porch-state.h, the reload handshake). Exit
 * status 0 when it took the file; 1, having said why, when it refused it, when no porchd runs
 * or when it gave no answer in time. */
static int
reload_running(const char *state_dir, guint timeout_s)
{
    g_autofree char *why = NULL;
    g_autofree char *before = NULL;
    pid_t pid = porch_state_find_porchd(state_dir, &why);
    gint64 deadline;

    if (pid == 0) {
        fprintf(stderr,
                "porchd: no porchd is running with its state in %s (%s): nothing to "
                "reload\n",
                state_dir, why);
        return 1;
    }
    /* the verdict already there: the answer to this SIGHUP is the next one */
    before = porch_state_read_reload(state_dir, NULL);
    if (kill(pid, SIGHUP) != 0) {
        fprintf(stderr, "porchd: cannot make porchd (pid %ld) reload: %s\n", (long)pid,
                g_strerror(errno));
        return 1;
    }
    deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    for (;;) {
        g_autofree char *refusal = NULL;
        g_autofree char *now = porch_state_read_reload(state_dir, &refusal);

        if (now != NULL && g_strcmp0(now, before) != 0) {
            g_autofree char *shown = NULL;

            if (refusal == NULL) {
                printf("porchd (pid %ld) reloaded its configuration\n", (long)pid);
                return 0;
            }
            /* written by the network side, which runs as another user: shown as text only */
            shown = porch_text_show(refusal, -1, RELOAD_REASON_MAX, PORCH_TEXT_TERMINAL);
            fprintf(stderr,
                    "porchd: reload refused, the previous configuration stays in force: "
                    "%s\n",
                    shown);
            return 1;
        }
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            fprintf(stderr, "porchd: porchd (pid %ld) stopped before it answered\n", (long)pid);
            return 1;
        }
        if (g_get_monotonic_time() >= deadline) {
            fprintf(stderr,
                    "porchd: porchd (pid %ld) gave no verdict within %u s; see its log "
                    "(journalctl -u porchd)\n",
                    (long)pid, timeout_s);
            return 1;
        }
        g_usleep(RELOAD_POLL_MS * 1000);
    }
}

int
main(int argc, char **argv)
{
    g_autofree char *config_file = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *runtime_dir = NULL;
    gboolean check_config = FALSE, version = FALSE, system = FALSE, network_side = FALSE;
    gboolean reload = FALSE;
    int timeout_s = RELOAD_TIMEOUT_S;
    GOptionEntry entries[] = {
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
             "Read FILE instead of the default porch.conf", "FILE"},
            {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
             "Keep the host key and pending peers in DIR", "DIR"},
            {"runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &runtime_dir,
             "Put the control socket in DIR (default: /run/porch for the system service, "
             "$XDG_RUNTIME_DIR/porch for a user's)",
             "DIR"},
            {"system", 0, 0, G_OPTION_ARG_NONE, &system,
             "Run as the system service: /etc/porch/porch.conf and /var/lib/porch "
             "(the default when run as root)",
             NULL},
            {"check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
             "Check the configuration, print OK or the error, and exit", NULL},
            {"reload", 0, 0, G_OPTION_ARG_NONE, &reload,
             "Make the running porchd read its configuration again; wait for its verdict and "
             "exit 0 when it took the file, 1 with its reason when it refused it",
             NULL},
            {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
             "With --reload: wait at most SECONDS for the verdict (default 10)", "SECONDS"},
            {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
            {"network-side", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &network_side,
             "Run as the launcher's network side (the launcher starts it)", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *worker_program = NULL;

    /* GLib's messages (options, errors) in the user's language and the log's characters in
     * its character set. What goes on the network does not follow the locale: porch.conf's
     * numbers are read digit by digit (porch-config.c), TXT records and SFTP replies hold
     * integers and the files' own names, and the session and worker programs porchd starts
     * keep the C locale. */
    setlocale(LC_ALL, "");
    g_option_context_set_summary(ctx, "Share folders and printers with the neighbours that "
                                      "porch.conf names.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "porchd: %s (see porchd --help)\n", error->message);
        return 2;
    }
    if (argc > 1) {
        fprintf(stderr, "porchd: unexpected argument '%s' (see porchd --help)\n", argv[1]);
        return 2;
    }
    if (version) {
        printf("porchd %s\n", PORCH_VERSION);
        return 0;
    }
    if (geteuid() == 0)
        system = TRUE;
    if (config_file == NULL)
        config_file = porch_config_default_file(system);
    if (state_dir == NULL)
        state_dir = porch_state_default_dir(system);
    if (runtime_dir == NULL)
        runtime_dir = porch_ctl_runtime_dir(system);

    if (reload) {
        if (check_config || network_side) {
            fprintf(stderr, "porchd: --reload goes with neither --check-config nor "
                            "--network-side\n");
            return 2;
        }
        if (timeout_s < 1 || timeout_s > RELOAD_TIMEOUT_MAX_S) {
            fprintf(stderr, "porchd: --timeout: %d is not a number of seconds from 1 to %d\n",
                    timeout_s, RELOAD_TIMEOUT_MAX_S);
            return 2;
        }
        /* the running porchd reads the file it was started with: --config names nothing here */
        return reload_running(state_dir, (guint)timeout_s);
    }

    if (check_config) {
        g_autoptr(PorchConfig) checked = porch_config_load_file(config_file, &error);
        if (checked == NULL) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        {
            /* risky rules are warnings: the file is valid, and porchd serves it */
            g_autoptr(GPtrArray) risks = porch_config_risks(checked);

            for (guint i = 0; i < risks->len; i++) {
                g_autofree char *line = porch_risk_format(risks->pdata[i]);
                fprintf(stderr, "porchd: warning: %s\n", line);
            }
        }
        if (!check_owners(checked, config_file) || !check_queues(checked, config_file))
            return 1;
        printf("OK\n");
        return 0;
    }
    worker_program = find_program(PORCH_WORKER_PROGRAM);
    /* The system service: root starts the network side as 'porch', and the workers as the
     * shares' owners, and does nothing else (launcher.h). */
    if (geteuid() == 0 && !network_side) {
        g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *launcher = find_program(PORCH_LAUNCHER_PROGRAM);
        char *args[] = {launcher, self, worker_program, config_file, state_dir, runtime_dir, NULL};

        if (self == NULL) {
            g_printerr("porchd: cannot find its own program in /proc/self/exe\n");
            return 1;
        }
        /* the same process goes on as the launcher, a smaller program (launcher-main.c) */
        execv(launcher, args);
        g_printerr("porchd: cannot start %s: %s\n", launcher, g_strerror(errno));
        return 1;
    }
    if (network_side) {
        struct stat st;
        if (fstat(PORCH_LAUNCHER_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            g_printerr("porchd: --network-side is for the launcher to use\n");
            return 2;
        }
    }
    return serve(config_file, state_dir, runtime_dir, worker_program, system, network_side);
}
