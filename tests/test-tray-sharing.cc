// test-tray-sharing.cc — porch-tray's Sharing window (gui/tray-sharing.c) on the test LAN:
// the system porchd on host 1 (with its control socket in a runtime folder of the test's,
// found through PORCH_SYSTEM_RUNTIME_DIR as the porch command finds it), this process as the
// desktop user of host 1 under Xvfb, with a private session bus and dunst for notifications
// (tray-fixture.h), and a neighbour with a key porchd does not know on host 2.
//
// The tray shares an ordinary user's folder: porchd refuses user shares from root, so the
// tray's control connection is made as nobody (ConnectAsNobody: a child that becomes nobody
// connects, and hands the socket over; porchd judges by the peer credentials fixed at
// connect()), while the test process stays root to run the LAN. Checked: the page shows what
// porchd shares, a folder shared through the page (the folder chooser's next step) is in
// `porch share list --json` (run as nobody) and online on the page, a refusal shows porchd's
// reason, a change of who may write and a removal go through porchd's requests; a request for
// access from an unknown key becomes a notification with Allow… and Deny, whose Allow… lets it
// into a share of nobody's (porchd's peers-accept: then it fetches from it) and Forget takes it
// out again; Deny by nobody is porchd's to refuse (the tray hides it and says so), by root it
// turns the key away; and with no porchd the page says so, with the fix. Screenshots under
// tests/artifacts/ in the build folder.
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <handy.h>
#include <json-glib/json-glib.h>

#include "porch-control.h"
#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;
using porch::test::Contains;
using porch::test::MakeDirs;
using porch::test::MakeKey;
using porch::test::RunResult;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;

// The texts of the labels under @w, joined by newlines.
std::string
Texts(GtkWidget *w)
{
    std::string out;
    WalkAll(w, [&](GtkWidget *c) {
        if (GTK_IS_LABEL(c) && gtk_widget_is_drawable(c))
            out += std::string(gtk_label_get_text(GTK_LABEL(c))) + "\n";
    });
    return out;
}

class TraySharingTest : public TrayDesktopFixture
{
  protected:
    TraySharingTest()
    {
        app_id_ = "org.porch.TraySharingTest";
    }

    static void SetUpTestSuite()
    {
        std::string missing = TestLan::missing_tools({"Xvfb", "dbus-daemon", "dunst", "dunstctl"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing;
            may_skip_ = !TestLan::must_run();
            return;
        }
        lan_ = TestLan::Create(2, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        may_skip_ = false;
        if (getpwnam("nobody") == nullptr) {
            why_not_ = "no user nobody";
            return;
        }
        std::string h1 = lan_->host_dir(1);
        // every folder on the way must be searchable by porch and nobody
        for (std::string p = h1; p != "/" && p.size() > 1; p = p.substr(0, p.rfind('/')))
            chmod(p.c_str(), 0755);
        pics_ = h1 + "/home/Pictures";
        rootdir_ = h1 + "/rootdir";
        run_ = h1 + "/run";
        if (!MakeDirs(pics_, 0755) || !MakeDirs(rootdir_, 0755) ||
            !WriteFile(pics_ + "/beach.jpg", "sand and sea\n") ||
            system(("chown -R nobody: " + h1 + "/home").c_str()) != 0) {
            why_not_ = "cannot make the folders";
            return;
        }
        std::string bob = MakeKey(lan_->host_dir(2) + "/bob", "bob");
        if (bob.empty()) {
            why_not_ = "ssh-keygen failed";
            return;
        }
        std::string conf = "[porch]\nname = " + std::string(kDisplayName) +
                           "\nlisten = " + lan_->address(1) + "\n\n[peer bob]\nkey = " + bob +
                           "\n\n[group family]\nmembers = bob\n";
        std::string log = h1 + "/porchd.log";
        if (!WriteFile(h1 + "/porch.conf", conf)) {
            why_not_ = "cannot write porch.conf";
            return;
        }
        porchd_ = lan_->spawn(1,
                              {kPorchd, "--config", h1 + "/porch.conf", "--state-dir",
                               h1 + "/state", "--runtime-dir", run_},
                              log);
        if (!PorchdStarted(lan_, porchd_, log)) {
            why_not_ = "porchd did not start; its log:\n" + ReadFile(log);
            return;
        }
        g_setenv("PORCH_SYSTEM_RUNTIME_DIR", run_.c_str(), TRUE);
        if (!BecomeDesktopUser(1))
            return;
        session_ = new Session();
        if (!session_->Start(h1 + "/session", xvfb_->display(), &why_not_))
            return;
        ready_ = true;
    }

    static void TearDownTestSuite()
    {
        delete session_;
        session_ = nullptr;
        TearDownLan();
    }

    void SetUp() override
    {
        struct passwd *pw = getpwnam("nobody");
        if (pw) {
            nobody_.uid = pw->pw_uid;
            nobody_.gid = pw->pw_gid;
        }
        nobody_.address.sun_family = AF_UNIX;
        snprintf(nobody_.address.sun_path, sizeof nobody_.address.sun_path, "%s/%s", run_.c_str(),
                 PORCH_CTL_SOCKET);
        TrayDesktopFixture::SetUp();
        if (tray_)
            porch_tray_set_control_connect(tray_, ConnectAsNobody, &nobody_, "nobody");
    }

    PorchTraySharing *sharing()
    {
        return porch_tray_get_sharing(tray_);
    }

    // Runs the main loop until porchd has answered once more after now.
    bool NextAnswer(double seconds = 20)
    {
        guint before = porch_tray_sharing_get_answers(sharing());
        return IterateUntil(
                [&] {
                    return porch_tray_sharing_get_answers(sharing()) > before &&
                           !porch_tray_sharing_is_busy(sharing());
                },
                seconds);
    }

    // `porch ARGS` on host 1 as nobody, finding porchd by itself.
    RunResult Porch(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"setpriv",
                                         "--reuid=nobody",
                                         "--regid=" + std::to_string(nobody_.gid),
                                         "--clear-groups",
                                         "env",
                                         "LANG=C.UTF-8",
                                         "PORCH_SYSTEM_RUNTIME_DIR=" + run_,
                                         "XDG_RUNTIME_DIR=/nonexistent",
                                         kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(1, argv, 30);
    }

    // The member of share @name in `porch share list --json`: strings, or arrays joined by ;
    // "(absent)" when there is no such share.
    std::string Listed(const std::string &name, const std::string &member)
    {
        RunResult r = Porch({"share", "list", "--json"});
        EXPECT_TRUE(r.ok()) << r.describe();
        g_auto(GStrv) lines = g_strsplit(r.out.c_str(), "\n", -1);
        for (guint i = 0; lines[i]; i++) {
            g_autoptr(JsonParser) p = json_parser_new();
            if (!*lines[i] || !json_parser_load_from_data(p, lines[i], -1, nullptr) ||
                !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
                continue;
            JsonObject *o = json_node_get_object(json_parser_get_root(p));
            if (g_strcmp0(json_object_get_string_member_with_default(o, "name", ""),
                          name.c_str()) != 0)
                continue;
            JsonNode *n = json_object_get_member(o, member.c_str());
            if (!n)
                return "";
            if (JSON_NODE_HOLDS_ARRAY(n)) {
                g_auto(GStrv) v = porch_ctl_get_strv(o, member.c_str());
                g_autofree char *j = g_strjoinv(";", v);
                return j;
            }
            if (json_node_get_value_type(n) == G_TYPE_BOOLEAN)
                return json_node_get_boolean(n) ? "true" : "false";
            return json_node_get_string(n) ? json_node_get_string(n) : "";
        }
        return "(absent)";
    }

    // The row of share @name on the page (nullptr when not shown) and whether it says online.
    GtkWidget *ShareRow(const std::string &name, bool *online = nullptr)
    {
        GtkWidget *found = nullptr;
        GtkWindow *w = porch_tray_sharing_get_window(sharing());
        if (!w)
            return nullptr;
        WalkAll(GTK_WIDGET(w), [&](GtkWidget *c) {
            const char *s =
                    static_cast<const char *>(g_object_get_data(G_OBJECT(c), "porch-share"));
            if (!found && HDY_IS_ACTION_ROW(c) && s && name == s && gtk_widget_is_drawable(c))
                found = c;
        });
        if (found && online)
            *online = g_object_get_data(G_OBJECT(found), "porch-online") != nullptr;
        return found;
    }

    void Shot(GtkWindow *window, const std::string &name)
    {
        Spin(0.5);
        GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(window));
        ASSERT_NE(gw, nullptr);
        g_autoptr(GdkPixbuf) shot = gdk_pixbuf_get_from_window(gw, 0, 0, gdk_window_get_width(gw),
                                                               gdk_window_get_height(gw));
        ASSERT_NE(shot, nullptr);
        std::string dir = PORCH_ARTIFACTS_DIR;
        fs::create_directories(dir);
        std::string png = dir + "/porch-tray-" + name + ".png";
        g_autoptr(GError) error = nullptr;
        EXPECT_TRUE(gdk_pixbuf_save(shot, png.c_str(), "png", &error, nullptr))
                << (error ? error->message : "");
        printf("screenshot: %s\n", png.c_str());
    }

    // Checks the box named @name in @dialog.
    void Check(GtkWindow *dialog, const std::string &name, bool on)
    {
        GtkWidget *b = Find(dialog, GTK_TYPE_TOGGLE_BUTTON, name);
        ASSERT_NE(b, nullptr) << "no check box " << name;
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b), on);
    }

    // A new key on host 2 asks host 1 as NAME (a refused `porch ls NAME@HOST/` records the
    // request by that name);
    // returns the key's file, "" when it cannot be made.
    std::string Ask(const std::string &name)
    {
        std::string key = lan_->host_dir(2) + "/" + name;
        if (MakeKey(key, name).empty())
            return "";
        RunResult r =
                lan_->run(2,
                          {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + lan_->host_dir(2) + "/xdg",
                           kPorch, "ls", name + "@" + lan_->address(1) + "/", "--identity", key},
                          30);
        EXPECT_FALSE(r.ok()) << r.describe();
        return key;
    }

    // The fingerprint of the request from NAME once the tray knows of it; "" when it never does.
    std::string WaitForRequest(const std::string &name)
    {
        std::string fp;
        IterateUntil(
                [&] {
                    porch_tray_sharing_refresh(sharing());
                    g_auto(GStrv) v = porch_tray_sharing_get_requests(sharing());
                    for (guint i = 0; v[i]; i++)
                        if (g_str_has_prefix(v[i], (name + " ").c_str()))
                            fp = v[i] + name.size() + 1;
                    return !fp.empty();
                },
                30);
        if (fp.empty()) {
            g_auto(GStrv) v = porch_tray_sharing_get_requests(sharing());
            g_autofree char *all = g_strjoinv("; ", v);
            ADD_FAILURE() << "the tray knows of these requests: " << all;
        }
        return fp;
    }

    // The text of the page's infobar while it is shown.
    std::string InfoText(GtkWindow *page)
    {
        std::string text;
        WalkAll(GTK_WIDGET(page), [&](GtkWidget *w) {
            if (text.empty() && GTK_IS_INFO_BAR(w) && gtk_widget_get_visible(w))
                text = Texts(w);
        });
        return text;
    }

    inline static Session *session_ = nullptr;
    inline static std::string pics_, rootdir_, run_;
    NobodyConnect nobody_;
};

TEST_F(TraySharingTest, AFolderSharedThroughThePageIsServedAndListed)
{
    GtkWindow *page = porch_tray_show_sharing(tray_);
    ASSERT_NE(page, nullptr);
    ASSERT_TRUE(NextAnswer()) << "porchd's status never reached the page";
    EXPECT_GT(nobody_.calls.load(), 0);
    EXPECT_TRUE(Contains(Texts(GTK_WIDGET(page)), "Nothing is shared")) << Texts(GTK_WIDGET(page));
    Shot(page, "sharing-empty");

    // "Share a folder…" opens a folder chooser...
    GtkWidget *share = Find(page, GTK_TYPE_BUTTON, "Share a folder…");
    ASSERT_NE(share, nullptr);
    gtk_button_clicked(GTK_BUTTON(share));
    GtkWindow *chooser = nullptr;
    ASSERT_TRUE(IterateUntil([&] { return (chooser = Toplevel("Share a folder")) != nullptr; }, 5));
    ASSERT_TRUE(GTK_IS_FILE_CHOOSER(chooser));
    EXPECT_EQ(gtk_file_chooser_get_action(GTK_FILE_CHOOSER(chooser)),
              GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
    gtk_dialog_response(GTK_DIALOG(chooser), GTK_RESPONSE_CANCEL);
    Spin(0.2);

    // ...whose next step, for the folder chosen, asks who may read and who may write: the
    // peers and groups porchd knows, guests and every peer
    GtkWindow *dialog = porch_tray_sharing_share_folder(sharing(), pics_.c_str());
    ASSERT_NE(dialog, nullptr);
    EXPECT_STREQ(gtk_window_get_title(dialog), "Share Pictures");
    for (const char *who : {"guest", "*", "bob", "@family"})
        EXPECT_NE(Find(dialog, GTK_TYPE_TOGGLE_BUTTON, std::string("Read: ") + who), nullptr)
                << who;
    Check(dialog, "Read: @family", true);
    Check(dialog, "Write: bob", true); // who may write may read
    GtkWidget *read_bob = Find(dialog, GTK_TYPE_TOGGLE_BUTTON, "Read: bob");
    ASSERT_NE(read_bob, nullptr);
    EXPECT_TRUE(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(read_bob)));
    Shot(dialog, "sharing-share-dialog");
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    ASSERT_TRUE(NextAnswer());

    // porchd took it: listed by the porch command, shown online on the page
    EXPECT_EQ(Listed("Pictures", "owner"), "nobody");
    EXPECT_EQ(Listed("Pictures", "user"), "true");
    EXPECT_EQ(Listed("Pictures", "read"), "bob;@family");
    EXPECT_EQ(Listed("Pictures", "write"), "bob");
    bool online = false;
    ASSERT_TRUE(IterateUntil([&] { return ShareRow("Pictures", &online) != nullptr; }, 10));
    EXPECT_TRUE(online);
    std::string text = Texts(GTK_WIDGET(page));
    EXPECT_TRUE(Contains(text, "Online — " + pics_ + " — your user share")) << text;
    EXPECT_TRUE(Contains(text, "Read: bob, the group family")) << text;
    Shot(page, "sharing");

    // a folder that is not nobody's: porchd's refusal, with its reason, on the page
    dialog = porch_tray_sharing_share_folder(sharing(), rootdir_.c_str());
    ASSERT_NE(dialog, nullptr);
    Check(dialog, "Read: guest", true);
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    ASSERT_TRUE(NextAnswer());
    GtkWidget *bar = nullptr;
    WalkAll(GTK_WIDGET(page), [&](GtkWidget *w) {
        if (!bar && GTK_IS_INFO_BAR(w))
            bar = w;
    });
    ASSERT_NE(bar, nullptr);
    EXPECT_TRUE(gtk_widget_get_visible(bar));
    EXPECT_EQ(gtk_info_bar_get_message_type(GTK_INFO_BAR(bar)), GTK_MESSAGE_ERROR);
    EXPECT_TRUE(Contains(Texts(bar), "belongs to uid 0, not to you")) << Texts(bar);
    EXPECT_EQ(Listed("rootdir", "name"), "(absent)");
    Shot(page, "sharing-refused");

    // who may write, changed: porchd's deny request
    GtkWidget *change = Find(page, GTK_TYPE_BUTTON, "Change who may use Pictures");
    ASSERT_NE(change, nullptr);
    gtk_button_clicked(GTK_BUTTON(change));
    dialog = Toplevel("Who may use Pictures");
    ASSERT_NE(dialog, nullptr);
    Check(dialog, "Write: bob", false);
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    ASSERT_TRUE(NextAnswer());
    EXPECT_EQ(Listed("Pictures", "write"), "");
    EXPECT_EQ(Listed("Pictures", "read"), "bob;@family");

    // and no longer shared
    GtkWidget *stop = Find(page, GTK_TYPE_BUTTON, "Stop sharing Pictures");
    ASSERT_NE(stop, nullptr);
    gtk_button_clicked(GTK_BUTTON(stop));
    ASSERT_TRUE(NextAnswer());
    EXPECT_EQ(Listed("Pictures", "name"), "(absent)");
    EXPECT_TRUE(IterateUntil([&] { return ShareRow("Pictures") == nullptr; }, 10));
}

TEST_F(TraySharingTest, ARequestIsAcceptedFromItsNotificationIntoAShareOfTheUsers)
{
    ASSERT_NE(g_application_get_dbus_connection(G_APPLICATION(app_)), nullptr)
            << "the application is not on the session bus";
    NotifyMonitor monitor;
    ASSERT_TRUE(monitor.Start(session_->address()));

    // carol's key, which porchd does not know, tries host 1 from host 2: refused, recorded;
    // the tray sees it (it looks every few seconds; now, here) and notifies
    std::string carol = Ask("carol");
    ASSERT_FALSE(carol.empty());
    std::string fp = WaitForRequest("carol");
    ASSERT_FALSE(fp.empty()) << "no request for access reached the tray";
    ASSERT_TRUE(IterateUntil([&] { return !monitor.Seen().empty(); }, 10))
            << "no notification was sent";
    std::string seen = monitor.Seen()[0];
    EXPECT_TRUE(Contains(seen, "carol asks to use your shares")) << seen;
    EXPECT_TRUE(Contains(seen, "=Allow…;")) << seen;
    EXPECT_TRUE(Contains(seen, "=Deny;")) << seen;

    // Allow… (the notification's button: the application's action) while nobody shares
    // nothing: the dialog says so, and offers to share a folder
    g_action_group_activate_action(G_ACTION_GROUP(app_), "sharing-allow",
                                   g_variant_new_string(fp.c_str()));
    GtkWindow *dialog = nullptr;
    ASSERT_TRUE(IterateUntil([&] { return (dialog = Toplevel("Let carol in?")) != nullptr; }, 20));
    EXPECT_NE(porch_tray_sharing_get_window(sharing()), nullptr);
    std::string text = Texts(GTK_WIDGET(dialog));
    EXPECT_TRUE(Contains(text, "You share no folder of your own yet")) << text;
    EXPECT_TRUE(Contains(text, fp)) << text;
    EXPECT_NE(Find(dialog, GTK_TYPE_BUTTON, "Share a folder…"), nullptr);
    Shot(dialog, "sharing-allow-no-share");
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_CLOSE);

    // with a user share of nobody's (made with the porch command)
    RunResult r = Porch({"share", "add", pics_, "--read", "bob"});
    ASSERT_TRUE(r.ok()) << r.describe();
    ASSERT_TRUE(NextAnswer());
    GtkWindow *page = porch_tray_sharing_get_window(sharing());
    ASSERT_NE(page, nullptr);
    ASSERT_TRUE(IterateUntil([&] { return ShareRow("Pictures") != nullptr; }, 10));
    GtkWidget *allow = Find(page, GTK_TYPE_BUTTON, "Allow carol…");
    ASSERT_NE(allow, nullptr) << "the page lists the request";
    Shot(page, "sharing-with-request");

    // Allow…: the key, the address, the name it gave (a valid peer name), and the user's own
    // shares to pick, through the widgets; Accept takes one share at least
    g_action_group_activate_action(G_ACTION_GROUP(app_), "sharing-allow",
                                   g_variant_new_string(fp.c_str()));
    ASSERT_TRUE(IterateUntil([&] { return (dialog = Toplevel("Let carol in?")) != nullptr; }, 10));
    text = Texts(GTK_WIDGET(dialog));
    EXPECT_TRUE(Contains(text, fp)) << text;
    EXPECT_TRUE(Contains(text, lan_->address(2))) << text;
    GtkWidget *entry = Find(dialog, GTK_TYPE_ENTRY, "The peer's name");
    ASSERT_NE(entry, nullptr);
    EXPECT_STREQ(gtk_entry_get_text(GTK_ENTRY(entry)), "carol");
    GtkWidget *accept = gtk_dialog_get_widget_for_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    ASSERT_NE(accept, nullptr);
    EXPECT_FALSE(gtk_widget_get_sensitive(accept)) << "no share is picked yet";
    EXPECT_TRUE(Contains(Texts(GTK_WIDGET(dialog)), "Pick a share it may read"));
    gtk_entry_set_text(GTK_ENTRY(entry), "bob");
    EXPECT_TRUE(Contains(Texts(GTK_WIDGET(dialog)), "There is a peer called bob already"));
    gtk_entry_set_text(GTK_ENTRY(entry), "carol");
    Check(dialog, "Read: Pictures", true);
    EXPECT_TRUE(gtk_widget_get_sensitive(accept));
    Shot(dialog, "sharing-allow");
    gtk_button_clicked(GTK_BUTTON(accept));

    // porchd's verdict on the page; the request is gone, porchd and the porch command agree
    ASSERT_TRUE(IterateUntil(
            [&] { return Contains(InfoText(page), "carol may now read Pictures"); }, 20))
            << InfoText(page);
    g_auto(GStrv) left = porch_tray_sharing_get_requests(sharing());
    EXPECT_EQ(g_strv_length(left), 0u);
    r = Porch({"peers", "list", "--json"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Contains(r.out, fp)) << r.out;
    EXPECT_EQ(Listed("Pictures", "read"), "bob;carol");
    ASSERT_TRUE(
            IterateUntil([&] { return Contains(Texts(GTK_WIDGET(page)), "Read: bob, carol"); }, 10))
            << Texts(GTK_WIDGET(page));
    Shot(page, "sharing-accepted");

    // and carol's key fetches from the share
    std::string to = lan_->host_dir(2) + "/carol-beach.jpg";
    r = lan_->run(2,
                  {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + lan_->host_dir(2) + "/xdg", kPorch,
                   "get", "--quiet", lan_->address(1) + "/Pictures/beach.jpg", to, "--identity",
                   carol},
                  60);
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(ReadFile(to), "sand and sea\n");

    // Forget (on the page): out of the share again
    GtkWidget *forget = Find(page, GTK_TYPE_BUTTON, "Forget carol");
    ASSERT_NE(forget, nullptr) << Texts(GTK_WIDGET(page));
    gtk_button_clicked(GTK_BUTTON(forget));
    ASSERT_TRUE(IterateUntil([&] { return Contains(InfoText(page), "Forgot carol"); }, 20))
            << InfoText(page);
    EXPECT_EQ(Listed("Pictures", "read"), "bob");
    EXPECT_TRUE(Porch({"share", "remove", "Pictures"}).ok());
}

TEST_F(TraySharingTest, DenyByAnOrdinaryUserHidesTheRequestAndSaysWhoMayTurnItAway)
{
    NotifyMonitor monitor;
    ASSERT_TRUE(monitor.Start(session_->address()));
    ASSERT_FALSE(Ask("dave").empty());
    std::string fp = WaitForRequest("dave");
    ASSERT_FALSE(fp.empty()) << "no request for access reached the tray";
    ASSERT_TRUE(IterateUntil([&] { return !monitor.Seen().empty(); }, 10));

    // Deny from the notification: porchd refuses nobody, the tray hides it and says why
    g_action_group_activate_action(G_ACTION_GROUP(app_), "sharing-deny",
                                   g_variant_new_string(fp.c_str()));
    g_auto(GStrv) left = porch_tray_sharing_get_requests(sharing());
    EXPECT_EQ(g_strv_length(left), 0u);
    GtkWindow *page = nullptr;
    ASSERT_TRUE(IterateUntil(
            [&] {
                page = porch_tray_sharing_get_window(sharing());
                return page && Contains(InfoText(page), "is hidden here");
            },
            20))
            << "the refusal is not shown: " << (page ? InfoText(page) : "no window");
    std::string text = InfoText(page);
    EXPECT_TRUE(Contains(text, "dave is hidden here until porch-tray restarts")) << text;
    EXPECT_TRUE(Contains(text, "only root may turn requests away")) << text; // porchd's reason
    EXPECT_TRUE(Contains(text, "sudo porch peers deny " + fp)) << text;
    EXPECT_EQ(Find(page, GTK_TYPE_BUTTON, "Deny dave"), nullptr) << "the page still lists it";
    Shot(page, "sharing-deny-refused");
    // porchd still has it (only root may turn it away), the tray does not notify again
    RunResult r = Porch({"peers", "list", "--json"});
    EXPECT_TRUE(Contains(r.out, fp)) << r.describe();
    size_t notes = monitor.Seen().size();
    porch_tray_sharing_refresh(sharing());
    ASSERT_TRUE(NextAnswer());
    g_auto(GStrv) after = porch_tray_sharing_get_requests(sharing());
    EXPECT_EQ(g_strv_length(after), 0u);
    EXPECT_EQ(monitor.Seen().size(), notes);

    // the same Deny as root (the tray's own connection): porchd turns it away
    porch_tray_set_control_connect(tray_, nullptr, nullptr, nullptr);
    ASSERT_FALSE(Ask("erin").empty());
    fp = WaitForRequest("erin");
    ASSERT_FALSE(fp.empty());
    porch_tray_sharing_deny(sharing(), fp.c_str());
    ASSERT_TRUE(IterateUntil([&] { return Contains(InfoText(page), "Turned erin away"); }, 20))
            << InfoText(page);
    r = Porch({"peers", "list", "--json"});
    EXPECT_FALSE(Contains(r.out, fp)) << r.describe();
}

TEST_F(TraySharingTest, WithNoPorchdThePageSaysSoAndHowToStartOne)
{
    // porch_ctl_connect() itself, with neither porchd's runtime folder there
    std::string empty = lan_->host_dir(1) + "/no-porchd";
    ASSERT_TRUE(MakeDirs(empty, 0755));
    g_setenv("PORCH_SYSTEM_RUNTIME_DIR", empty.c_str(), TRUE);
    porch_tray_set_control_connect(tray_, nullptr, nullptr, nullptr);
    GtkWindow *page = porch_tray_show_sharing(tray_);
    bool answered = NextAnswer();
    g_setenv("PORCH_SYSTEM_RUNTIME_DIR", run_.c_str(), TRUE);
    ASSERT_TRUE(answered);
    HdyStatusPage *none = nullptr;
    WalkAll(GTK_WIDGET(page), [&](GtkWidget *w) {
        if (!none && HDY_IS_STATUS_PAGE(w) && gtk_widget_is_drawable(w))
            none = HDY_STATUS_PAGE(w);
    });
    ASSERT_NE(none, nullptr) << "the page does not say that no porchd runs";
    std::string says = hdy_status_page_get_description(none);
    EXPECT_TRUE(Contains(says, "no porchd is running")) << says;
    EXPECT_TRUE(Contains(says, "systemctl")) << says;
    Shot(page, "sharing-no-porchd");
}

} // namespace
