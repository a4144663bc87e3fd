// tray-fixture.h — what the tests of porch-tray's core on the test LAN share. Helpers (files,
// Xvfb, the trust hook, a tree view's column); TrayDesktopFixture: porchd on host 1, and this
// process as a desktop user of a host (its main thread joins that host's network namespace, so
// the GTask workers it starts are there too, and so does GDBus's worker thread; avahi is the
// host's through DBUS_SYSTEM_BUS_ADDRESS), GTK on an Xvfb display started here, a home, XDG
// folders and a Downloads folder of its own; TrayLanFixture: two hosts, porchd on host 1
// sharing Public to guests, this process browsing and fetching as host 2. For the icon: a
// private session bus with dunst (Session) and the real status-notifier-watcher and
// gtk-sni-tray-standalone tray host on it (Watcher); MenuLabels/MenuItem read the icon's menu.
// ConnectAsNobody: the tray's control connection to porchd, made as the user nobody.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>

#include "porch-sftp-client.h"
#include "porch-tray-internal.h"
#include "test-util.h"
#include "testlan.h"

namespace porch::test::tray
{

using porch::test::Exists;
using porch::test::MakeRandomFile;
using porch::test::ReadFile;
using porch::test::Sha256File;
using porch::test::TestLan;
using porch::test::WaitFor;
using porch::test::WriteFile;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
inline constexpr const char *kDisplayName = "Alice's laptop";
inline constexpr const char *kHost = "porchtl1.local";

// porch-tray's GSettings schema from the build tree, in memory: what a test's window remembers
// stays in its process (and a schema installed on this machine, with dconf, is not used). Set
// before main(), before anything reads GSettings.
inline const bool kGSettingsInMemory = [] {
    setenv("GSETTINGS_SCHEMA_DIR", PORCH_TRAY_SCHEMA_DIR, 1);
    setenv("GSETTINGS_BACKEND", "memory", 1);
    return true;
}();

// Starts Xvfb on a display of its own (StartXvfb) and stops it at the end.
class Xvfb
{
  public:
    bool Start()
    {
        pid_ = porch::test::StartXvfb("1280x900x24", "", true, &display_);
        return pid_ > 0;
    }
    ~Xvfb()
    {
        if (pid_ <= 0)
            return;
        kill(-pid_, SIGTERM);
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    const std::string &display() const
    {
        return display_;
    }

  private:
    pid_t pid_ = -1;
    std::string display_;
};

// The trust hook: what was asked, and the answer to give.
struct TrustLog {
    int asked = 0;
    std::string pin_name, fingerprint;
    bool advertised = false;
    bool answer = true;
};

inline gboolean
TrustPolicy(const char *pin_name, const char *fingerprint, gboolean advertised, gpointer data)
{
    auto *log = static_cast<TrustLog *>(data);
    log->asked++;
    log->pin_name = pin_name;
    log->fingerprint = fingerprint;
    log->advertised = advertised;
    return log->answer;
}

// The names in column `column` of a tree view's model, as the view shows them.
inline std::vector<std::string>
Column(GtkTreeView *view, int column)
{
    std::vector<std::string> out;
    GtkTreeModel *model = gtk_tree_view_get_model(view);
    GtkTreeIter iter;
    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autofree char *s = nullptr;
        gtk_tree_model_get(model, &iter, column, &s, -1);
        out.push_back(s ? s : "");
    }
    return out;
}

inline bool
Has(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Every widget at and below w, internal children included: the header bar, the popovers.
inline void
WalkAll(GtkWidget *w, const std::function<void(GtkWidget *)> &fn)
{
    fn(w);
    if (GTK_IS_CONTAINER(w))
        gtk_container_forall(
                GTK_CONTAINER(w),
                +[](GtkWidget *child, gpointer data) {
                    WalkAll(child, *static_cast<const std::function<void(GtkWidget *)> *>(data));
                },
                const_cast<std::function<void(GtkWidget *)> *>(&fn));
}

inline std::string
A11yName(GtkWidget *w)
{
    const char *n = atk_object_get_name(gtk_widget_get_accessible(w));
    return n ? n : "";
}

// The widget of type @type named @name (accessible name) in @top, or nullptr.
inline GtkWidget *
Find(GtkWindow *top, GType type, const std::string &name)
{
    GtkWidget *found = nullptr;
    if (!top)
        return nullptr;
    WalkAll(GTK_WIDGET(top), [&](GtkWidget *w) {
        if (!found && G_TYPE_CHECK_INSTANCE_TYPE(w, type) && A11yName(w) == name)
            found = w;
    });
    return found;
}

// The visible toplevel window titled title, or nullptr.
inline GtkWindow *
Toplevel(const std::string &title)
{
    GtkWindow *found = nullptr;
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l; l = l->next)
        if (g_strcmp0(gtk_window_get_title(GTK_WINDOW(l->data)), title.c_str()) == 0 &&
            gtk_widget_get_visible(GTK_WIDGET(l->data)))
            found = GTK_WINDOW(l->data);
    g_list_free(tops);
    return found;
}

// ---- processes of a private desktop session (test-tray-ui's, test-tray-print's) ----------

inline constexpr const char *kWatcherName = "org.kde.StatusNotifierWatcher";

inline void
DieWithParent(gpointer)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

// Starts argv in the background (stdout and stderr to log); -1 when it cannot.
inline pid_t
StartProcess(const std::vector<std::string> &argv, const std::string &log)
{
    std::vector<char *> args;
    for (const std::string &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    GPid pid = -1;
    g_autoptr(GError) error = nullptr;
    gboolean ok =
            g_spawn_async_with_fds(nullptr, args.data(), nullptr,
                                   GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD),
                                   DieWithParent, nullptr, &pid, -1, fd, fd, &error);
    if (fd >= 0)
        close(fd);
    return ok ? pid : -1;
}

inline void
Stop(pid_t &pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) == 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    pid = -1;
}

// Runs argv to completion; its stdout, or "" with *ok false.
inline std::string
RunTool(const std::vector<std::string> &argv, bool *ok = nullptr)
{
    std::vector<char *> args;
    for (const std::string &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    g_autofree char *out = nullptr;
    int status = -1;
    gboolean ran = g_spawn_sync(nullptr, args.data(), nullptr,
                                GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL),
                                nullptr, nullptr, &out, nullptr, &status, nullptr);
    bool good = ran && g_spawn_check_wait_status(status, nullptr);
    if (ok)
        *ok = good;
    return good && out ? out : "";
}

// A private session bus (no service activation) and dunst, the notification server, showing
// on the Xvfb display. Start() points DBUS_SESSION_BUS_ADDRESS and DISPLAY at them: a
// GtkApplication registered afterwards is on that bus.
class Session
{
  public:
    bool Start(const std::string &dir, const std::string &display, std::string *why_not)
    {
        dir_ = dir;
        fs::create_directories(dir);
        std::string socket = dir + "/bus";
        address_ = "unix:path=" + socket;
        std::string conf = dir + "/bus.conf";
        WriteFile(conf, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
                        "1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/"
                        "busconfig.dtd\">\n<busconfig>\n  <type>session</type>\n  <listen>" +
                                address_ +
                                "</listen>\n  <auth>EXTERNAL</auth>\n  <policy "
                                "context=\"default\">\n    <allow send_destination=\"*\" "
                                "eavesdrop=\"true\"/>\n    <allow eavesdrop=\"true\"/>\n    "
                                "<allow own=\"*\"/>\n  </policy>\n</busconfig>\n");
        bus_ = StartProcess({"dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile",
                             "--print-address"},
                            dir + "/dbus.log");
        for (int i = 0; i < 200 && !Exists(socket); i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        if (bus_ < 0 || !Exists(socket)) {
            *why_not = "the session dbus-daemon did not start: " + ReadFile(dir + "/dbus.log");
            return false;
        }
        g_setenv("DBUS_SESSION_BUS_ADDRESS", address_.c_str(), TRUE);
        g_setenv("DISPLAY", display.c_str(), TRUE);
        dunst_ = StartProcess({"dunst"}, dir + "/dunst.log");
        bool ok = false;
        for (int i = 0; i < 200 && !ok; i++) {
            RunTool({"dunstctl", "debug"}, &ok);
            if (!ok)
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        if (!ok) {
            *why_not = "dunst did not come up: " + ReadFile(dir + "/dunst.log");
            return false;
        }
        return true;
    }
    ~Session()
    {
        Stop(dunst_);
        Stop(bus_);
    }
    const std::string &address() const
    {
        return address_;
    }
    // Its folder: the bus's socket and the logs of what runs on it.
    const std::string &dir() const
    {
        return dir_;
    }

  private:
    pid_t bus_ = -1, dunst_ = -1;
    std::string address_, dir_;
};

// Watches the Notify calls on the session bus (a bus monitor): the actions each one offered.
class NotifyMonitor
{
  public:
    bool Start(const std::string &address)
    {
        conn_ = g_dbus_connection_new_for_address_sync(
                address.c_str(),
                GDBusConnectionFlags(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
                nullptr, nullptr, nullptr);
        if (!conn_)
            return false;
        g_dbus_connection_add_filter(conn_, Filter, this, nullptr);
        const char *rules[] = {"type='method_call',interface='org.freedesktop.Notifications',"
                               "member='Notify'",
                               nullptr};
        g_autoptr(GVariant) r =
                g_dbus_connection_call_sync(conn_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus.Monitoring", "BecomeMonitor",
                                            g_variant_new("(^asu)", rules, 0u), nullptr,
                                            G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
        return r != nullptr;
    }
    ~NotifyMonitor()
    {
        if (conn_) {
            g_dbus_connection_close_sync(conn_, nullptr, nullptr);
            g_object_unref(conn_);
        }
    }
    // "summary: action label, action label…" per Notify seen.
    std::vector<std::string> Seen()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }

  private:
    static GDBusMessage *Filter(GDBusConnection *, GDBusMessage *m, gboolean incoming,
                                gpointer data)
    {
        auto *self = static_cast<NotifyMonitor *>(data);
        GDBusMessageType type = g_dbus_message_get_message_type(m);
        // replies (BecomeMonitor's) go on; copies of calls and signals must not be answered
        if (type != G_DBUS_MESSAGE_TYPE_METHOD_CALL && type != G_DBUS_MESSAGE_TYPE_SIGNAL)
            return m;
        GVariant *body = g_dbus_message_get_body(m);
        if (incoming && g_strcmp0(g_dbus_message_get_member(m), "Notify") == 0 && body &&
            g_variant_is_of_type(body, G_VARIANT_TYPE("(susssasa{sv}i)"))) {
            const char *summary = nullptr;
            g_autofree const char **actions = nullptr;
            g_variant_get(body, "(&su&s&s&s^a&s@a{sv}i)", nullptr, nullptr, nullptr, &summary,
                          nullptr, &actions, nullptr, nullptr);
            std::string s = std::string(summary) + ":";
            for (guint i = 0; actions && actions[i] && actions[i + 1]; i += 2)
                s += std::string(" ") + actions[i] + "=" + actions[i + 1] + ";";
            std::lock_guard<std::mutex> lock(self->mutex_);
            self->seen_.push_back(s);
        }
        if (incoming)
            g_object_unref(m);
        return incoming ? nullptr : m; // a monitor only watches
    }
    GDBusConnection *conn_ = nullptr;
    std::mutex mutex_;
    std::vector<std::string> seen_;
};

// ---- a StatusNotifierWatcher and a tray host ---------------------------------------------
// The real ones, on a session bus (Session's) and its Xvfb display: status-notifier-watcher
// (haskell-status-notifier-item-utils) owns org.kde.StatusNotifierWatcher and records
// RegisterStatusNotifierItem; gtk-sni-tray-standalone (haskell-gtk-sni-tray-utils), a GTK
// StatusNotifier host, registers with it and shows the items in a bar on the display. The item
// is found in the watcher's RegisteredStatusNotifierItems; what it exports is read back over
// D-Bus. (A desktop's own host, Plasma's or GNOME's AppIndicator extension, needs the whole
// desktop and does not run here.)

class Watcher
{
  public:
    // Starts the watcher, waits until it owns its name, then the host, and waits until the
    // watcher has it (IsStatusNotifierHostRegistered). On failure *why_not says why.
    bool Start(const Session &session, std::string *why_not)
    {
        log_dir_ = session.dir();
        conn_ = g_dbus_connection_new_for_address_sync(
                session.address().c_str(),
                GDBusConnectionFlags(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
                nullptr, nullptr, nullptr);
        if (!conn_) {
            *why_not = "cannot connect to the session bus " + session.address();
            return false;
        }
        watcher_ = StartProcess({"status-notifier-watcher"}, log_dir_ + "/sni-watcher.log");
        if (watcher_ < 0) {
            *why_not = "cannot start status-notifier-watcher (Debian: "
                       "haskell-status-notifier-item-utils)";
            return false;
        }
        auto owned = [&] {
            g_autoptr(GVariant) r = CallSync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "NameHasOwner",
                                             g_variant_new("(s)", kWatcherName), "(b)");
            gboolean has = FALSE;
            if (r)
                g_variant_get(r, "(b)", &has);
            return has == TRUE;
        };
        if (!Poll(owned, 10)) {
            *why_not = std::string("status-notifier-watcher did not own ") + kWatcherName + ": " +
                       ReadFile(log_dir_ + "/sni-watcher.log");
            return false;
        }
        host_ = StartProcess({"gtk-sni-tray-standalone"}, log_dir_ + "/sni-host.log");
        if (host_ < 0) {
            *why_not = "cannot start gtk-sni-tray-standalone (Debian: haskell-gtk-sni-tray-utils)";
            return false;
        }
        auto host_registered = [&] {
            g_autoptr(GVariant) v = WatcherProperty("IsStatusNotifierHostRegistered");
            return v && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean(v);
        };
        if (!Poll(host_registered, 10)) {
            *why_not = "gtk-sni-tray-standalone did not register as the host: " +
                       ReadFile(log_dir_ + "/sni-host.log");
            return false;
        }
        return true;
    }
    ~Watcher()
    {
        Stop(host_);
        Stop(watcher_);
        if (conn_) {
            g_dbus_connection_close_sync(conn_, nullptr, nullptr);
            g_object_unref(conn_);
        }
    }
    Watcher() = default;
    Watcher(const Watcher &) = delete;
    Watcher &operator=(const Watcher &) = delete;

    // Whether this process's item is in the watcher's RegisteredStatusNotifierItems (an entry
    // is a bus name, or a bus name followed by the item's object path); sets item_sender and
    // item_path. Asks the bus at most every 50 ms (it is called in IterateUntil's loop).
    bool FindItem()
    {
        if (!item_sender.empty())
            return true;
        if (Clock::now() < next_look_)
            return false;
        next_look_ = Clock::now() + std::chrono::milliseconds(50);
        g_autoptr(GVariant) items = WatcherProperty("RegisteredStatusNotifierItems");
        if (!items || !g_variant_is_of_type(items, G_VARIANT_TYPE_STRING_ARRAY))
            return false;
        g_autofree const char **v = g_variant_get_strv(items, nullptr);
        for (const char **e = v; *e; e++) {
            std::string entry = *e, name = entry, path;
            size_t slash = entry.find('/');
            if (slash != std::string::npos) {
                name = entry.substr(0, slash);
                path = entry.substr(slash);
            }
            g_autoptr(GVariant) r =
                    Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                         "GetConnectionUnixProcessID", g_variant_new("(s)", name.c_str()), "(u)");
            guint32 pid = 0;
            if (r)
                g_variant_get(r, "(u)", &pid);
            if (pid != (guint32)getpid())
                continue;
            if (path.empty()) {
                g_autoptr(GVariant) p =
                        Call(kWatcherName, "/StatusNotifierWatcher", kWatcherName,
                             "GetObjectPathForItemName", g_variant_new("(s)", name.c_str()), "(s)");
                if (!p)
                    continue;
                const char *s = nullptr;
                g_variant_get(p, "(&s)", &s);
                path = s;
            }
            item_sender = name;
            item_path = path;
            return true;
        }
        return false;
    }

    // A property of the registered item, read over the bus (the main loop runs meanwhile: the
    // item answers from this process).
    std::string ItemProperty(const char *prop)
    {
        if (item_sender.empty())
            return "";
        g_autoptr(GVariant) reply =
                Call(item_sender.c_str(), item_path.c_str(), "org.freedesktop.DBus.Properties",
                     "Get", g_variant_new("(ss)", "org.kde.StatusNotifierItem", prop), "(v)");
        if (!reply)
            return "";
        g_autoptr(GVariant) v = nullptr;
        g_variant_get(reply, "(v)", &v);
        return g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ? g_variant_get_string(v, nullptr)
                                                              : "";
    }

    std::string item_sender, item_path;

  private:
    // A method call, its reply or nullptr; the main loop runs while it waits (the item, in this
    // process, may be asked something meanwhile).
    GVariant *Call(const char *dest, const char *path, const char *iface, const char *method,
                   GVariant *params, const char *reply_type)
    {
        struct Ctx {
            GVariant *reply = nullptr;
            bool done = false;
        } ctx;
        g_dbus_connection_call(
                conn_, dest, path, iface, method, params, G_VARIANT_TYPE(reply_type),
                G_DBUS_CALL_FLAGS_NONE, 5000, nullptr,
                [](GObject *src, GAsyncResult *res, gpointer d) {
                    auto *c = static_cast<Ctx *>(d);
                    c->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, nullptr);
                    c->done = true;
                },
                &ctx);
        while (!ctx.done)
            g_main_context_iteration(nullptr, TRUE);
        return ctx.reply;
    }
    // The same without running the main loop (before the item exists: nothing to serve).
    GVariant *CallSync(const char *dest, const char *path, const char *iface, const char *method,
                       GVariant *params, const char *reply_type)
    {
        return g_dbus_connection_call_sync(conn_, dest, path, iface, method, params,
                                           G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NONE, 5000,
                                           nullptr, nullptr);
    }
    GVariant *WatcherProperty(const char *prop)
    {
        g_autoptr(GVariant) r =
                Call(kWatcherName, "/StatusNotifierWatcher", "org.freedesktop.DBus.Properties",
                     "Get", g_variant_new("(ss)", kWatcherName, prop), "(v)");
        GVariant *v = nullptr;
        if (r)
            g_variant_get(r, "(v)", &v);
        return v;
    }
    // Polls pred every 25 ms for up to `seconds`.
    static bool Poll(const std::function<bool()> &pred, double seconds)
    {
        auto end = Clock::now() + std::chrono::duration<double>(seconds);
        while (!pred()) {
            if (Clock::now() > end)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        return true;
    }

    GDBusConnection *conn_ = nullptr;
    pid_t watcher_ = -1, host_ = -1;
    std::string log_dir_;
    Clock::time_point next_look_{};
};

// ---- the icon's menu ---------------------------------------------------------------------

// The labels of a menu's items (separators left out), in order.
inline std::vector<std::string>
MenuLabels(GtkMenu *menu)
{
    std::vector<std::string> out;
    GList *kids = gtk_container_get_children(GTK_CONTAINER(menu));
    for (GList *l = kids; l; l = l->next)
        if (GTK_IS_MENU_ITEM(l->data) && !GTK_IS_SEPARATOR_MENU_ITEM(l->data)) {
            const char *label = gtk_menu_item_get_label(GTK_MENU_ITEM(l->data));
            out.push_back(label ? label : "");
        }
    g_list_free(kids);
    return out;
}

// The item of a menu labelled label, or nullptr.
inline GtkMenuItem *
MenuItem(GtkMenu *menu, const std::string &label)
{
    GtkMenuItem *found = nullptr;
    GList *kids = gtk_container_get_children(GTK_CONTAINER(menu));
    for (GList *l = kids; l && !found; l = l->next)
        if (GTK_IS_MENU_ITEM(l->data) &&
            g_strcmp0(gtk_menu_item_get_label(GTK_MENU_ITEM(l->data)), label.c_str()) == 0)
            found = GTK_MENU_ITEM(l->data);
    g_list_free(kids);
    return found;
}

// ---- porchd's control socket as the user nobody -----------------------------------------
// porchd refuses user shares and inboxes from root; the tests stay root to run the LAN, and
// the tray's control connection is made as nobody.

// What ConnectAsNobody needs, computed before any fork.
struct NobodyConnect {
    uid_t uid = 65534;
    gid_t gid = 65534;
    struct sockaddr_un address = {};
    std::atomic<int> calls{0};
};

// Sends @fd over @sock (SCM_RIGHTS); in a forked child: system calls only.
inline bool
SendFd(int sock, int fd)
{
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
    } control = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1;
}

inline int
ReceiveFd(int sock)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
    } control = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

// The tray's way to porchd (PorchTrayControlConnect), as the user nobody: a child process
// takes nobody's uid and gid, connects to the system porchd's control socket, and hands the
// connection over. Runs in the tray's worker thread.
inline int
ConnectAsNobody(gboolean *ret_system, GError **error, gpointer data)
{
    auto *n = static_cast<NobodyConnect *>(data);
    int sv[2];
    n->calls++;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int s;
        if (setgroups(0, nullptr) != 0 || setresgid(n->gid, n->gid, n->gid) != 0 ||
            setresuid(n->uid, n->uid, n->uid) != 0)
            _exit(1);
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (const struct sockaddr *)&n->address, sizeof n->address) != 0)
            _exit(2);
        _exit(SendFd(sv[1], s) ? 0 : 3);
    }
    close(sv[1]);
    int fd = pid > 0 ? ReceiveFd(sv[0]) : -1;
    close(sv[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "as nobody: cannot connect to %s (child status %d)", n->address.sun_path,
                    status);
        return -1;
    }
    if (ret_system)
        *ret_system = TRUE;
    return fd;
}

// What every tray test on the test LAN has: a LAN (lan_, set up by the derived fixture), this
// process as a desktop user of one host under Xvfb (BecomeDesktopUser), and a PorchTray of its
// own in each test, its window shown. ready_ says whether the suite's setup worked, why_not_
// why not; may_skip_ whether a test may then skip (else it fails).
class TrayDesktopFixture : public ::testing::Test
{
  protected:
    // Starts porchd on host 1 with conf as its porch.conf (its log: porchd.log there), through
    // `env ENV...` when env is not empty; true once it says it is running.
    static bool StartPorchd(const std::string &conf, const std::vector<std::string> &env = {})
    {
        std::string h1 = lan_->host_dir(1), log = h1 + "/porchd.log";
        if (!WriteFile(h1 + "/porch.conf", conf)) {
            why_not_ = "cannot write porch.conf";
            return false;
        }
        std::vector<std::string> argv;
        if (!env.empty()) {
            argv.push_back("env");
            argv.insert(argv.end(), env.begin(), env.end());
        }
        argv.insert(argv.end(),
                    {kPorchd, "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"});
        porchd_ = lan_->spawn(1, argv, log);
        if (porchd_ < 0 ||
            !WaitFor(
                    [&] {
                        return ReadFile(log).find(" running: ") != std::string::npos ||
                               !lan_->running(porchd_);
                    },
                    15) ||
            !lan_->running(porchd_)) {
            why_not_ = "porchd did not start; its log:\n" + ReadFile(log);
            return false;
        }
        return true;
    }

    // Xvfb, and this process as a user of host `host`: a home of its own (home_), Downloads
    // where user-dirs.dirs says (downloads_), XDG folders, GTK on the Xvfb display, no session
    // bus, host's avahi (DBUS_SYSTEM_BUS_ADDRESS); this thread and GDBus's worker thread in
    // host's network namespace. False (why_not_ says why) when something of it failed.
    static bool BecomeDesktopUser(int host)
    {
        xvfb_ = new Xvfb();
        if (!xvfb_->Start()) {
            why_not_ = "Xvfb did not start";
            return false;
        }

        std::string dir = lan_->host_dir(host);
        home_ = dir + "/home";
        downloads_ = home_ + "/Incoming";
        std::string config = home_ + "/.config", runtime = dir + "/runtime";
        fs::create_directories(config);
        fs::create_directories(runtime);
        chmod(runtime.c_str(), 0700);
        WriteFile(config + "/user-dirs.dirs", "XDG_DOWNLOAD_DIR=\"$HOME/Incoming\"\n");
        g_setenv("HOME", home_.c_str(), TRUE);
        g_setenv("XDG_CONFIG_HOME", config.c_str(), TRUE);
        g_setenv("XDG_DATA_HOME", (home_ + "/.local/share").c_str(), TRUE);
        g_setenv("XDG_CACHE_HOME", (home_ + "/.cache").c_str(), TRUE);
        g_setenv("XDG_RUNTIME_DIR", runtime.c_str(), TRUE);
        g_setenv("DISPLAY", xvfb_->display().c_str(), TRUE);
        g_setenv("GDK_BACKEND", "x11", TRUE);
        g_setenv("NO_AT_BRIDGE", "1", TRUE);
        g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
        // no session bus at all (as under a bare X server), and the host's avahi
        g_setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/porch-test-session-bus", TRUE);
        g_setenv("DBUS_SYSTEM_BUS_ADDRESS", lan_->bus_address(host).c_str(), TRUE);

        // This thread joins the host's network; threads and processes started from now on are
        // there too.
        own_netns_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int fd = open(("/run/netns/" + lan_->ns(host)).c_str(), O_RDONLY | O_CLOEXEC);
        if (own_netns_ < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
            int err = errno;
            why_not_ = "cannot join host " + std::to_string(host) +
                       "'s network namespace: " + strerror(err);
            if (fd >= 0)
                close(fd);
            return false;
        }
        // GLib's GDBus worker thread predates this (the harness talked to the hosts' buses)
        // and starts GTask pool threads too (when it flushes a connection); the tray's workers
        // may run in those: it joins the host as well.
        bool moved = MoveGDBusWorker(fd, lan_->bus_address(host));
        close(fd);
        if (!moved) {
            why_not_ = "cannot move GDBus's worker thread into host " + std::to_string(host) +
                       "'s network namespace";
            return false;
        }
        return true;
    }

    // Runs setns(netns_fd) in GDBus's worker thread (where filter functions run), through a
    // connection to the bus at address. True when it did.
    static bool MoveGDBusWorker(int netns_fd, const std::string &address)
    {
        struct Ctx {
            int fd;
            std::atomic<int> result{-2}; // -2: not run yet
        } ctx;
        ctx.fd = netns_fd;
        g_autoptr(GDBusConnection) conn = g_dbus_connection_new_for_address_sync(
                address.c_str(),
                GDBusConnectionFlags(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
                nullptr, nullptr, nullptr);
        if (!conn)
            return false;
        guint filter = g_dbus_connection_add_filter(
                conn,
                [](GDBusConnection *, GDBusMessage *m, gboolean, gpointer data) -> GDBusMessage * {
                    auto *c = static_cast<Ctx *>(data);
                    if (c->result == -2)
                        c->result = setns(c->fd, CLONE_NEWNET);
                    return m;
                },
                &ctx, nullptr);
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetId", nullptr, nullptr, G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
        g_dbus_connection_remove_filter(conn, filter);
        g_dbus_connection_close_sync(conn, nullptr, nullptr);
        return ctx.result == 0;
    }

    static void TearDownTestSuite()
    {
        TearDownLan();
    }

    // Back to this process's own network namespace; Xvfb and the LAN stopped.
    static void TearDownLan()
    {
        if (own_netns_ >= 0) {
            setns(own_netns_, CLONE_NEWNET);
            close(own_netns_);
            own_netns_ = -1;
        }
        delete xvfb_;
        xvfb_ = nullptr;
        delete lan_;
        lan_ = nullptr;
        ready_ = false;
    }

    void SetUp() override
    {
        if (!ready_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_not_;
            GTEST_FAIL() << "test LAN unavailable: " << why_not_
                         << (TestLan::must_run() ? " (CI is set: LAN tests must run)" : "");
        }
        app_ = gtk_application_new(app_id_, G_APPLICATION_NON_UNIQUE);
        g_autoptr(GError) error = nullptr;
        ASSERT_TRUE(g_application_register(G_APPLICATION(app_), nullptr, &error)) << error->message;
        // No CSS transitions (as with "reduce animation"): a state change (selection, focus, a
        // dialog putting the window in backdrop) starts Adwaita's transitions, and GTK 3.24
        // leaks small CSS values of theirs (24-byte objects allocated under the frame clock's
        // style validation, no Porch frame on the stack), which failed these tests under ASan.
        g_object_set(gtk_settings_get_default(), "gtk-enable-animations", FALSE, nullptr);
        tray_ = porch_tray_new(app_);
        if (override_trust_)
            porch_tray_set_trust_policy(tray_, TrustPolicy, &trust_);
        BeforeStart();
        if (start_browsing_) {
            ASSERT_TRUE(porch_tray_start(tray_, &error)) << error->message;
        }
        if (show_window_)
            window_ = porch_tray_show_window(tray_);
    }

    // What a derived fixture does to tray_ before it starts (porch_tray_set_files, say).
    virtual void BeforeStart()
    {
    }

    void TearDown() override
    {
        if (tray_)
            porch_tray_free(tray_);
        tray_ = nullptr;
        g_clear_object(&app_);
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log ----\n%s\n",
                    ReadFile(lan_->host_dir(1) + "/porchd.log").c_str());
    }

    // Runs the main loop until pred holds; false after `seconds`.
    bool IterateUntil(const std::function<bool()> &pred, double seconds)
    {
        auto end = Clock::now() + std::chrono::duration<double>(seconds);
        while (!pred()) {
            if (Clock::now() > end)
                return false;
            if (!g_main_context_iteration(nullptr, FALSE))
                g_usleep(5000);
        }
        return true;
    }

    void Spin(double seconds)
    {
        IterateUntil([] { return false; }, seconds);
    }

    inline static TestLan *lan_ = nullptr;
    inline static std::string why_not_, home_, downloads_;
    inline static bool may_skip_ = false, ready_ = false;
    inline static pid_t porchd_ = -1;
    inline static Xvfb *xvfb_ = nullptr;
    inline static int own_netns_ = -1;

    // Set in a derived fixture's constructor: the application id, whether SetUp() answers
    // first contacts with TrustPolicy (else the tray's own dialog asks), opens the window and
    // starts browsing.
    const char *app_id_ = "org.porch.TrayLanTest";
    bool override_trust_ = true;
    bool show_window_ = true;
    bool start_browsing_ = true; // false: the tray sees no neighbours

    GtkApplication *app_ = nullptr;
    PorchTray *tray_ = nullptr;
    GtkWindow *window_ = nullptr;
    TrustLog trust_;
};

// Two hosts: porchd on host 1 sharing Public to guests, this process as the user of host 2.
class TrayLanFixture : public TrayDesktopFixture
{
  protected:
    static void SetUpTestSuite()
    {
        SetUpLan(384ll * 1024 * 1024);
    }

    // Brings up the LAN: porchd on host 1 sharing Public (small.bin, tree/, and big.bin of
    // big_bytes random bytes when big_bytes > 0), and BecomeDesktopUser(2). before_porchd, when
    // given, runs first once the LAN is up (false, with why_not_ set, stops there).
    static void SetUpLan(off_t big_bytes, const std::function<bool()> &before_porchd = nullptr)
    {
        std::string missing = TestLan::missing_tools({"Xvfb"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing;
            may_skip_ = !TestLan::must_run();
            return;
        }
        lan_ = TestLan::Create(2, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        may_skip_ = false;
        if (before_porchd && !before_porchd())
            return;
        public_ = lan_->host_dir(1) + "/public";
        fs::create_directories(public_ + "/tree/sub");
        small_sha_ = MakeRandomFile(public_ + "/small.bin", 3 * 1024 * 1024 + 17, 1);
        if (big_bytes > 0)
            big_sha_ = MakeRandomFile(public_ + "/big.bin", big_bytes, 2);
        if (small_sha_.empty() || (big_bytes > 0 && big_sha_.empty()) ||
            !WriteFile(public_ + "/tree/a.txt", "a\n") ||
            !WriteFile(public_ + "/tree/sub/b.txt", "bee\n")) {
            why_not_ = "cannot write the shared files";
            return;
        }
        std::string conf = "[porch]\nname = " + std::string(kDisplayName) +
                           "\nlisten = " + lan_->address(1) +
                           "\n\n[share Public]\npath = " + public_ + "\nread = guest\n";
        if (!StartPorchd(conf) || !BecomeDesktopUser(2))
            return;
        ready_ = true;
    }

    // Waits until porchd on host 1 is in the model with its share and an address.
    PorchNeighbour *WaitForAlice()
    {
        PorchNeighbour *found = nullptr;
        IterateUntil(
                [&] {
                    g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray_, kHost);
                    guint shares = 0;
                    if (!n || !porch_neighbour_is_porch(n))
                        return false;
                    porch_neighbour_get_shares(n, &shares);
                    if (shares != 1 || !porch_neighbour_get_ipv4_addresses(n)[0])
                        return false;
                    found = porch_neighbour_ref(n);
                    return true;
                },
                20);
        return found;
    }

    PorchTrayTransferState WaitForTransfer(guint id, double seconds, std::string *status)
    {
        PorchTrayTransferState state = PORCH_TRAY_TRANSFER_RUNNING;
        IterateUntil(
                [&] {
                    return porch_tray_transfer_get(tray_, id, &state, nullptr, nullptr, nullptr) &&
                           state != PORCH_TRAY_TRANSFER_RUNNING;
                },
                seconds);
        g_autofree char *s = nullptr;
        porch_tray_transfer_get(tray_, id, nullptr, nullptr, &s, nullptr);
        *status = s ? s : "";
        return state;
    }

    inline static std::string public_, small_sha_, big_sha_;
};

} // namespace porch::test::tray
