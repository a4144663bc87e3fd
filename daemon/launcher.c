/* launcher.c — porchd's launcher (launcher.h): starts the network side as 'porch' and file
 * workers as the shares' owners; keeps root for that alone. */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "launcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "fd-pass.h"
#include "manager.h"
#include "porch-config.h"
#include "porch-state.h"
#include "usershares.h"
#include "workers.h"

/* Who a process runs as, worked out before the fork: the child only makes system calls. */
typedef struct {
    uid_t uid;
    gid_t gid;
    gid_t groups[64];
    int n_groups;
} Credentials;

typedef struct {
    GMainLoop *loop;
    char *config_file;
    char *user_file;     /* the user shares (usershares.h): root's file in the state folder */
    PorchConfig *config; /* porch.conf with the user shares */
    char *worker_program;
    Credentials service; /* the user 'porch' */
    GSubprocess *network;
    int control;
    int status;
    gboolean stopping; /* SIGTERM was passed on */
    GCancellable *cancellable;
} Launcher;

/* In the child, before exec: become @data's user, with its groups and no capabilities. */
static void
become(gpointer data)
{
    const Credentials *c = data;

    if (setgroups((size_t)c->n_groups, c->groups) != 0 || setresgid(c->gid, c->gid, c->gid) != 0 ||
        setresuid(c->uid, c->uid, c->uid) != 0)
        _exit(126);
    /* after the change of user, which clears it: when the launcher dies (SIGKILL), so does
     * this process, rather than keep the port as an orphan */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        _exit(126);
}

static gboolean
credentials_of(const struct passwd *pw, Credentials *ret, GError **error)
{
    int n = G_N_ELEMENTS(ret->groups);

    ret->uid = pw->pw_uid;
    ret->gid = pw->pw_gid;
    if (getgrouplist(pw->pw_name, pw->pw_gid, ret->groups, &n) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "user %s is in more than %u groups",
                    pw->pw_name, (guint)G_N_ELEMENTS(ret->groups));
        return FALSE;
    }
    ret->n_groups = n;
    return TRUE;
}

struct passwd *
porch_share_user(const PorchShare *share, GError **error)
{
    struct passwd *pw;
    struct stat st;

    if (share->owner != NULL) {
        pw = getpwnam(share->owner);
        if (pw == NULL || pw->pw_uid == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "owner: there is no user %s",
                        share->owner);
            return NULL;
        }
        return pw;
    }
    if (stat(share->path, &st) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "path: %s: %s", share->path,
                    g_strerror(errno));
        return NULL;
    }
    pw = st.st_uid == 0 ? getpwnam(PORCH_SERVICE_USER) : getpwuid(st.st_uid);
    if (pw == NULL && st.st_uid == 0)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "path: %s belongs to root, and there is no user %s to serve it as", share->path,
                    PORCH_SERVICE_USER);
    else if (pw == NULL)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "path: %s belongs to uid %u, which is no user (set owner =)", share->path,
                    (guint)st.st_uid);
    return pw;
}

/* The credentials of the user @share is served as (porch_share_user()). */
static gboolean
share_credentials(const PorchShare *share, Credentials *ret, GError **error)
{
    struct passwd *pw = porch_share_user(share, error);

    if (pw == NULL) {
        g_prefix_error(error, "[share %s] ", share->name);
        return FALSE;
    }
    return credentials_of(pw, ret, error);
}

/* porch.conf with the user shares this launcher keeps (never a file another user wrote). */
static PorchConfig *
load_config(const Launcher *l, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *user = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;

    if (!g_file_get_contents(l->config_file, &data, &len, error))
        return NULL;
    user = porch_user_shares_read(l->user_file, 0, &local);
    if (user == NULL)
        g_warning("launcher: no user share is served: %s", local->message);
    return porch_config_load_merged(data, (gssize)len, l->config_file, user, l->user_file, NULL,
                                    NULL, error);
}

static gboolean
reload(Launcher *l, GError **error)
{
    PorchConfig *c = load_config(l, error);

    if (c == NULL)
        return FALSE;
    porch_config_unref(l->config);
    l->config = c;
    return TRUE;
}

/* Starts the worker of [share @name] (with @indexer: its indexer, porchd-worker --index) and
 * returns its control socket. */
static int
start_worker(Launcher *l, const char *name, gboolean indexer, GError **error)
{
    const PorchShare *share = porch_config_lookup_share(l->config, name);
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    Credentials *who;
    int pair[2];

    if (share == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no [share %s] in %s", name,
                    l->config_file);
        return -1;
    }
    who = g_new0(Credentials, 1);
    if (!share_credentials(share, who, error)) {
        g_free(who);
        return -1;
    }
    /* a user share is its owner's folder: served only while it still is */
    if (share->user) {
        struct stat st;

        if (stat(share->path, &st) != 0 || st.st_uid != who->uid) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                        "user share %s: %s no longer belongs to its owner", share->name,
                        share->path);
            g_free(who);
            return -1;
        }
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
                    g_strerror(errno));
        g_free(who);
        return -1;
    }
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_child_setup(launcher, become, who, g_free);
    g_subprocess_launcher_take_fd(launcher, pair[1], 3);
    proc = g_subprocess_launcher_spawn(launcher, error, l->worker_program, "--root", share->path,
                                       porch_share_worker_mode(share, indexer), NULL);
    if (proc == NULL) {
        close(pair[0]);
        return -1;
    }
    g_message("share %s: %s %s as uid %u", share->name, indexer ? "indexer" : "file worker",
              g_subprocess_get_identifier(proc), (guint)who->uid);
    g_subprocess_wait_async(proc, l->cancellable, NULL, NULL);
    return pair[0];
}

/* Answers @fd: "ok", or "refused " and @error's message. */
static void
answer(int fd, GError *error)
{
    g_autofree char *text = NULL;

    if (error == NULL) {
        porch_fd_send(fd, PORCH_LAUNCHER_OK, strlen(PORCH_LAUNCHER_OK), NULL, 0);
        return;
    }
    text = g_strconcat(PORCH_LAUNCHER_REFUSED, error->message, NULL);
    if (strlen(text) > PORCH_LAUNCHER_MAX)
        text[PORCH_LAUNCHER_MAX] = '\0';
    porch_fd_send(fd, text, strlen(text), NULL, 0);
}

/* A change of the user shares (usershares.h), asked by the local user at the other end of
 * @fds[0], the connection to the control socket that the network side passed on: who that
 * is, the kernel says. */
static gboolean
change_user_shares(Launcher *l, const char *request, const int *fds, guint n_fds, GError **error)
{
    uid_t caller;

    if (n_fds < 1 || !porch_user_shares_caller(fds[0], &caller, error))
        return FALSE;
    if (g_str_has_prefix(request, PORCH_LAUNCHER_USER_SHARE_PUT)) {
        g_autofree char *name = NULL;

        if (!porch_user_shares_put(l->user_file, l->config_file, caller, n_fds > 1 ? fds[1] : -1,
                                   request + strlen(PORCH_LAUNCHER_USER_SHARE_PUT), &name, error))
            return FALSE;
        g_message("launcher: uid %u put the user share %s", (guint)caller, name);
    } else if (g_str_has_prefix(request, PORCH_LAUNCHER_USER_SHARE_REMOVE)) {
        const char *name = request + strlen(PORCH_LAUNCHER_USER_SHARE_REMOVE);

        if (!porch_user_shares_remove(l->user_file, caller, name, error))
            return FALSE;
        g_message("launcher: uid %u removed a user share", (guint)caller);
    } else if (g_str_has_prefix(request, PORCH_LAUNCHER_USER_PEER)) {
        if (!porch_user_shares_accept_peer(l->user_file, l->config_file, caller,
                                           request + strlen(PORCH_LAUNCHER_USER_PEER), error))
            return FALSE;
        g_message("launcher: uid %u accepted a peer into their user shares", (guint)caller);
    } else {
        if (!porch_user_shares_forget_peer(
                    l->user_file, caller, request + strlen(PORCH_LAUNCHER_USER_PEER_FORGET), error))
            return FALSE;
        g_message("launcher: uid %u forgot a peer of their user shares", (guint)caller);
    }
    return reload(l, error);
}

/* One request of the network side. FALSE: the connection is over. */
static gboolean
on_request(int fd, GIOCondition cond, gpointer user_data)
{
    Launcher *l = user_data;
    char buf[PORCH_LAUNCHER_MAX + 1];
    g_autoptr(GError) error = NULL;
    guint n_fds = 0;
    int fds[PORCH_FD_PASS_MAX], worker = -1;
    gssize n = porch_fd_recv(fd, buf, sizeof buf - 1, fds, PORCH_FD_PASS_MAX, &n_fds);

    if (n <= 0) {
        if (n < 0)
            g_warning("launcher: a malformed request: %s", g_strerror(errno));
        l->control = -1;
        close(fd);
        return G_SOURCE_REMOVE;
    }
    buf[n] = '\0';
    if (strlen(buf) != (gsize)n) {
        /* falls through to the unknown request below */
    } else if (strcmp(buf, PORCH_LAUNCHER_RELOAD) == 0 && n_fds == 0) {
        reload(l, &error);
        answer(fd, error);
        return G_SOURCE_CONTINUE;
    } else if ((g_str_has_prefix(buf, PORCH_LAUNCHER_USER_SHARE_PUT) ||
                g_str_has_prefix(buf, PORCH_LAUNCHER_USER_SHARE_REMOVE) ||
                g_str_has_prefix(buf, PORCH_LAUNCHER_USER_PEER) ||
                g_str_has_prefix(buf, PORCH_LAUNCHER_USER_PEER_FORGET)) &&
               n_fds >= 1) {
        change_user_shares(l, buf, fds, n_fds, &error);
        for (guint i = 0; i < n_fds; i++)
            close(fds[i]);
        answer(fd, error);
        return G_SOURCE_CONTINUE;
    } else if (n_fds == 0 && ((n > (gssize)strlen(PORCH_LAUNCHER_WORKER) &&
                               g_str_has_prefix(buf, PORCH_LAUNCHER_WORKER)) ||
                              (n > (gssize)strlen(PORCH_LAUNCHER_INDEXER) &&
                               g_str_has_prefix(buf, PORCH_LAUNCHER_INDEXER)))) {
        gboolean indexer = g_str_has_prefix(buf, PORCH_LAUNCHER_INDEXER);
        worker = start_worker(
                l, buf + strlen(indexer ? PORCH_LAUNCHER_INDEXER : PORCH_LAUNCHER_WORKER), indexer,
                &error);
        if (worker < 0) {
            g_warning("launcher: %s", error->message);
            answer(fd, error);
            return G_SOURCE_CONTINUE;
        }
        porch_fd_send(fd, PORCH_LAUNCHER_OK, strlen(PORCH_LAUNCHER_OK), &worker, 1);
        close(worker);
        return G_SOURCE_CONTINUE;
    }
    for (guint i = 0; i < n_fds; i++)
        close(fds[i]);
    g_warning("launcher: an unknown request from the network side; ending it");
    l->control = -1;
    close(fd);
    g_subprocess_send_signal(l->network, SIGTERM);
    return G_SOURCE_REMOVE;
}

static gboolean
on_sighup(gpointer user_data)
{
    Launcher *l = user_data;
    g_autoptr(GError) error = NULL;

    if (!reload(l, &error))
        g_warning("launcher: reload refused, the previous configuration stays: %s", error->message);
    /* the network side decides for itself, and says so */
    g_subprocess_send_signal(l->network, SIGHUP);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm(gpointer user_data)
{
    Launcher *l = user_data;

    l->stopping = TRUE;
    g_subprocess_send_signal(l->network, SIGTERM);
    return G_SOURCE_CONTINUE;
}

static void
on_network_exit(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Launcher *l = user_data;
    GSubprocess *proc = G_SUBPROCESS(source);

    if (!g_subprocess_wait_finish(proc, result, NULL))
        return;
    if (g_subprocess_get_if_exited(proc)) {
        l->status = g_subprocess_get_exit_status(proc);
    } else if (l->stopping && g_subprocess_get_term_sig(proc) == SIGTERM) {
        l->status = 0; /* stopped as asked, by a SIGTERM of its own as well */
    } else {
        g_warning("launcher: the network side died of signal %d", g_subprocess_get_term_sig(proc));
        l->status = 1;
    }
    g_main_loop_quit(l->loop);
}

/* Gives what @dir_fd holds to @c, walking by descriptor and never following a link. */
static gboolean
give_tree(int dir_fd, const char *path, const Credentials *c, GError **error)
{
    DIR *d = fdopendir(dir_fd);
    struct dirent *e;
    gboolean ok = TRUE;

    if (d == NULL) {
        close(dir_fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    while (ok && (e = readdir(d)) != NULL) {
        g_autofree char *sub = NULL;
        int fd;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        sub = g_build_filename(path, e->d_name, NULL);
        if (fchownat(dirfd(d), e->d_name, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) != 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", sub,
                        g_strerror(errno));
            ok = FALSE;
        } else if ((fd = openat(dirfd(d), e->d_name,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
            ok = give_tree(fd, sub, c, error);
        }
    }
    closedir(d);
    return ok;
}

/* The state folder belongs to 'porch'. When it does not yet (made by an earlier porchd that
 * ran as root, or just now), it and what it holds are given to porch: by descriptor, never
 * following a link. Once porch's, it is left alone: what porch may change, root does not walk
 * (a link planted there must not lead root's chown anywhere). */
static gboolean
give_state_dir(const char *dir, const Credentials *c, GError **error)
{
    struct stat st;
    int fd;

    /* the folders on the way, when missing, searchable by porch; the state folder 0700 */
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    if (st.st_uid == c->uid && st.st_gid == c->gid) {
        if ((st.st_mode & 07777) != 0700)
            fchmod(fd, 0700);
        close(fd);
        return TRUE;
    }
    /* the mode first: once the folder is porch's, root may change it only with CAP_FOWNER,
     * which the unit does not give */
    if (fchmod(fd, 0700) != 0 || fchown(fd, c->uid, c->gid) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        close(fd);
        return FALSE;
    }
    return give_tree(fd, dir, c, error);
}

/* What porch_launcher_run() holds, freed however it returns. */
static void
launcher_clear(Launcher *l)
{
    if (l->cancellable != NULL)
        g_cancellable_cancel(l->cancellable);
    g_clear_object(&l->cancellable);
    if (l->control >= 0)
        close(l->control);
    g_clear_object(&l->network);
    g_clear_pointer(&l->config, porch_config_unref);
    g_clear_pointer(&l->config_file, g_free);
    g_clear_pointer(&l->user_file, g_free);
    g_clear_pointer(&l->worker_program, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Launcher, launcher_clear)

/* The runtime folder, where the network side makes the control socket: porch's, 0755 (every
 * local user may reach the socket; porchd judges each request by who sends it). */
static gboolean
make_runtime_dir(const char *dir, const Credentials *c, GError **error)
{
    struct stat st;
    int fd;

    if (g_mkdir_with_parents(dir, 0755) != 0 ||
        (fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    /* the mode first, while the folder is still root's: once it is porch's, only porch (or
     * CAP_FOWNER, which the unit does not give) may change it; porch's own folder is left as
     * it is, and the network side sees to its mode */
    if (fstat(fd, &st) != 0 || ((st.st_uid != c->uid || st.st_gid != c->gid) &&
                                (fchmod(fd, 0755) != 0 || fchown(fd, c->uid, c->gid) != 0))) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir,
                    g_strerror(errno));
        close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

int
porch_launcher_run(const char *self, const char *config_file, const char *state_dir,
                   const char *runtime_dir, const char *worker_program)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    struct passwd *pw = getpwnam(PORCH_SERVICE_USER);
    g_auto(Launcher) l = {.loop = loop, .control = -1, .status = 1};
    int pair[2];

    if (pw == NULL || pw->pw_uid == 0) {
        g_printerr("porchd: there is no system user '%s' to run the network side as: create it "
                   "with systemd-sysusers (the package's porch.sysusers does)\n",
                   PORCH_SERVICE_USER);
        return 1;
    }
    if (!credentials_of(pw, &l.service, &error) || !give_state_dir(state_dir, &l.service, &error) ||
        !make_runtime_dir(runtime_dir, &l.service, &error)) {
        g_printerr("porchd: %s\n", error->message);
        return 1;
    }
    l.config_file = g_strdup(config_file);
    l.user_file = porch_state_file(state_dir, PORCH_STATE_USER_SHARES);
    l.config = load_config(&l, &error);
    if (l.config == NULL) {
        g_printerr("porchd: %s\n", error->message);
        return 1;
    }
    l.worker_program = g_strdup(worker_program);
    l.cancellable = g_cancellable_new();
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        g_printerr("porchd: socketpair: %s\n", g_strerror(errno));
        return 1;
    }
    l.control = pair[0];
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_child_setup(launcher, become, &l.service, NULL);
    g_subprocess_launcher_take_fd(launcher, pair[1], PORCH_LAUNCHER_FD);
    l.network = g_subprocess_launcher_spawn(launcher, &error, self, "--network-side", "--config",
                                            config_file, "--state-dir", state_dir, "--runtime-dir",
                                            runtime_dir, NULL);
    if (l.network == NULL) {
        g_printerr("porchd: cannot start the network side: %s\n", error->message);
        return 1;
    }
    g_unix_fd_add(l.control, G_IO_IN | G_IO_HUP | G_IO_ERR, on_request, &l);
    g_unix_signal_add(SIGHUP, on_sighup, &l);
    g_unix_signal_add(SIGTERM, on_sigterm, &l);
    g_unix_signal_add(SIGINT, on_sigterm, &l);
    g_subprocess_wait_async(l.network, NULL, on_network_exit, &l);
    g_main_loop_run(loop);
    return l.status;
}
