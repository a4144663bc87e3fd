// test-tray-send.cc — sending files in porch-tray (gui/tray-send.c) on the test LAN: the system
// porchd on host 1 with an inbox of the user nobody's (`porch inbox enable --ask guest`, run as
// nobody), this process as the desktop user of host 2 under Xvfb with a private session bus and
// dunst (tray-fixture.h), its control connection to host 1's porchd made as nobody
// (ConnectAsNobody: the socket is a file, reachable from any network namespace), so that the
// same tray is the inbox's owner and, connecting as a guest, a sender to it.
//
// Checked: an offer from `porch send` on host 2 becomes a notification "… wants to send 2
// files (…)" with Accept and Decline and a dialog listing the files; the notification's Accept
// delivers (the files land verified, owned by nobody, the receiving transfer ends done and the
// sender exits 0); Decline writes nothing and the sender exits with the declined status; files
// dropped (text/uri-list, through the drop handler GTK calls) on the neighbour's row are sent,
// shown waiting for the owner, then delivered; "Send Files…" shows only on a neighbour whose
// TXT says inbox=1; the neighbour chooser of `porch-tray --send` sends. Screenshots under
// tests/artifacts/ in the build folder.
#include <json-glib/json-glib.h>

#include "porch-control.h"
#include "porch-send.h"
#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;
using porch::test::Contains;
using porch::test::MakeDirs;
using porch::test::RunResult;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr int kCliDeclined = 5; // porch send's exit status when the owner declines

// A size as the tray writes it (g_format_size(): "3.1 MB", with a no-break space).
std::string
Size(guint64 bytes)
{
    g_autofree char *s = g_format_size(bytes);
    return s;
}

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

class TraySendTest : public TrayDesktopFixture
{
  protected:
    TraySendTest()
    {
        app_id_ = "org.porch.TraySendTest";
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
        inbox_ = h1 + "/nobody/Downloads/Porch";
        run_ = h1 + "/run";
        std::string nobody_run = h1 + "/nobody-run";
        if (!MakeDirs(inbox_, 0755) || !MakeDirs(nobody_run, 0700) ||
            system(("chown -R nobody: " + h1 + "/nobody " + nobody_run).c_str()) != 0) {
            why_not_ = "cannot make the folders";
            return;
        }
        std::string conf = "[porch]\nname = " + std::string(kDisplayName) +
                           "\nlisten = " + lan_->address(1) + "\n";
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
        // nobody's inbox: guests (the tray and porch send here) wait for nobody's answer
        RunResult r = lan_->run(1,
                                {"setpriv", "--reuid=nobody",
                                 "--regid=" + std::to_string(getpwnam("nobody")->pw_gid),
                                 "--clear-groups", "env", "LANG=C.UTF-8",
                                 "PORCH_SYSTEM_RUNTIME_DIR=" + run_,
                                 "XDG_RUNTIME_DIR=" + nobody_run, "HOME=" + h1 + "/nobody", kPorch,
                                 "inbox", "enable", inbox_, "--ask", "guest"},
                                30);
        if (!r.ok()) {
            why_not_ = "porch inbox enable failed: " + r.describe();
            return;
        }
        g_setenv("PORCH_SYSTEM_RUNTIME_DIR", run_.c_str(), TRUE);
        if (!BecomeDesktopUser(2))
            return;
        out_ = lan_->host_dir(2) + "/out";
        if (!MakeDirs(out_, 0755)) {
            why_not_ = "cannot make the folder of the files sent";
            return;
        }
        session_ = new Session();
        if (!session_->Start(lan_->host_dir(2) + "/session", xvfb_->display(), &why_not_))
            return;
        ready_ = true;
    }

    static void TearDownTestSuite()
    {
        delete session_;
        session_ = nullptr;
        TearDownLan();
    }

    void BeforeStart() override
    {
        // no key: the tray sends as a guest
        porch_tray_set_files(tray_, (lan_->host_dir(2) + "/no-such-key").c_str(),
                             (lan_->host_dir(2) + "/known_peers").c_str());
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

    PorchTraySending *sending()
    {
        return porch_tray_get_sending(tray_);
    }

    // `porch send FILES... HOST1` on host 2 as a guest, in the background.
    pid_t StartSend(const std::vector<std::string> &files)
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8",
                                         "XDG_CONFIG_HOME=" + lan_->host_dir(2) + "/xdg", kPorch,
                                         "send"};
        argv.insert(argv.end(), files.begin(), files.end());
        argv.push_back(lan_->address(1));
        return lan_->spawn(2, argv,
                           lan_->host_dir(2) + "/send-" + std::to_string(++sends_) + ".log");
    }

    // The id of the first offer the tray knows of; 0 when none comes.
    guint WaitForOffer(double seconds = 30)
    {
        guint id = 0;
        IterateUntil(
                [&] {
                    g_autoptr(GArray) ids = porch_tray_sending_get_offers(sending());
                    if (ids->len > 0)
                        id = g_array_index(ids, guint, 0);
                    return id != 0;
                },
                seconds);
        return id;
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

    // The names in the inbox folder, hidden ones too, sorted.
    std::vector<std::string> InInbox()
    {
        std::vector<std::string> names;
        g_autoptr(GDir) d = g_dir_open(inbox_.c_str(), 0, nullptr);
        for (const char *n; d && (n = g_dir_read_name(d)) != nullptr;)
            names.push_back(n);
        std::sort(names.begin(), names.end());
        return names;
    }

    // Waits for a process spawn()ed to end; its exit status.
    int Exited(pid_t pid, double seconds = 60)
    {
        IterateUntil([&] { return !lan_->running(pid); }, seconds);
        return lan_->stop(pid);
    }

    // The neighbour on host 1, once the tray sees its inbox.
    bool WaitForInbox()
    {
        return IterateUntil(
                [&] {
                    g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray_, kHost);
                    return n && porch_neighbour_has_inbox(n) &&
                           porch_neighbour_get_ipv4_addresses(n)[0];
                },
                30);
    }

    // Opens the window's transfers popover; its toplevel for a screenshot.
    void ShowTransfers()
    {
        auto *button = GTK_MENU_BUTTON(Find(window_, GTK_TYPE_MENU_BUTTON, "Transfers"));
        ASSERT_NE(button, nullptr);
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(button), TRUE);
        GtkPopover *popover = gtk_menu_button_get_popover(button);
        ASSERT_TRUE(IterateUntil([&] { return gtk_widget_is_drawable(GTK_WIDGET(popover)); }, 5));
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

    inline static Session *session_ = nullptr;
    inline static std::string inbox_, run_, out_;
    NobodyConnect nobody_;
    int sends_ = 0;
};

// A drop's data, as GTK hands it to a drop target: the text/uri-list of @uris, obtained
// through a selection this process owns.
struct UriSelection {
    std::vector<std::string> uris;
    static void Get(GtkClipboard *, GtkSelectionData *data, guint, gpointer self)
    {
        auto *s = static_cast<UriSelection *>(self);
        std::vector<char *> v;
        for (auto &u : s->uris)
            v.push_back(const_cast<char *>(u.c_str()));
        v.push_back(nullptr);
        gtk_selection_data_set_uris(data, v.data());
    }
    GtkSelectionData *Make()
    {
        GtkClipboard *cb = gtk_clipboard_get(gdk_atom_intern_static_string("PORCH_TEST_DROP"));
        GtkTargetList *list = gtk_target_list_new(nullptr, 0);
        gtk_target_list_add_uri_targets(list, 0);
        int n = 0;
        GtkTargetEntry *targets = gtk_target_table_new_from_list(list, &n);
        gtk_clipboard_set_with_data(cb, targets, n, Get, nullptr, this);
        gtk_target_table_free(targets, n);
        gtk_target_list_unref(list);
        return gtk_clipboard_wait_for_contents(cb, gdk_atom_intern_static_string("text/uri-list"));
    }
};

TEST_F(TraySendTest, AnOfferIsANotificationWhoseAcceptDelivers)
{
    std::string photo = out_ + "/photo.jpg", notes = out_ + "/notes.txt";
    std::string sum = MakeRandomFile(photo, 3 * 1024 * 1024 + 5, 7);
    ASSERT_FALSE(sum.empty());
    ASSERT_TRUE(WriteFile(notes, "for the fridge\n"));
    NotifyMonitor monitor;
    ASSERT_TRUE(monitor.Start(session_->address()));

    pid_t sender = StartSend({photo, notes});
    ASSERT_GT(sender, 0);
    guint id = WaitForOffer();
    ASSERT_NE(id, 0u) << "the tray never saw the offer; sender: "
                      << ReadFile(lan_->spawn_log(sender));
    ASSERT_TRUE(IterateUntil([&] { return !monitor.Seen().empty(); }, 10))
            << "no notification of the offer";
    std::string seen = monitor.Seen()[0];
    EXPECT_TRUE(
            Contains(seen, "guest wants to send 2 files (" + Size(3 * 1024 * 1024 + 5 + 15) + "):"))
            << seen;
    EXPECT_TRUE(Contains(seen, "=Accept;")) << seen;
    EXPECT_TRUE(Contains(seen, "=Decline;")) << seen;

    // the notification's default action: the dialog with the file names
    g_action_group_activate_action(G_ACTION_GROUP(app_), "inbox-offer", g_variant_new_uint32(id));
    GtkWindow *dialog = nullptr;
    ASSERT_TRUE(IterateUntil(
            [&] { return (dialog = Toplevel("Porch — files offered")) != nullptr; }, 5));
    std::string text = Texts(GTK_WIDGET(dialog));
    EXPECT_TRUE(Contains(text, "photo.jpg\nnotes.txt")) << text;
    EXPECT_TRUE(Contains(text, inbox_)) << text;
    Shot(dialog, "send-offer");
    EXPECT_TRUE(InInbox().empty()) << "nothing is written before the answer";

    // Accept, as the notification's button
    g_action_group_activate_action(G_ACTION_GROUP(app_), "inbox-accept", g_variant_new_uint32(id));
    guint transfer = 0;
    ASSERT_TRUE(IterateUntil(
            [&] { return (transfer = porch_tray_sending_get_receiving(sending(), id)) != 0; }, 20));
    std::string status;
    EXPECT_EQ(WaitForTransfer(transfer, 60, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_TRUE(Contains(status, "Received 2 files (" + Size(3 * 1024 * 1024 + 5 + 15) +
                                         ") from guest into " + inbox_))
            << status;
    EXPECT_EQ(Toplevel("Porch — files offered"), nullptr) << "the dialog goes with the offer";
    EXPECT_EQ(Exited(sender), 0) << ReadFile(lan_->spawn_log(sender));

    EXPECT_EQ(Sha256File(inbox_ + "/photo.jpg"), sum);
    EXPECT_EQ(ReadFile(inbox_ + "/notes.txt"), "for the fridge\n");
    struct stat st;
    ASSERT_EQ(stat((inbox_ + "/photo.jpg").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, getpwnam("nobody")->pw_uid) << "files land as the inbox's owner";
    ASSERT_TRUE(IterateUntil(
            [&] {
                for (auto &s : monitor.Seen())
                    if (Contains(s, "Files received:") && Contains(s, "=Open folder;"))
                        return true;
                return false;
            },
            10))
            << "no notification with Open folder";
    ShowTransfers();
    Shot(window_, "send-received");
    unlink((inbox_ + "/photo.jpg").c_str());
    unlink((inbox_ + "/notes.txt").c_str());
}

TEST_F(TraySendTest, DeclineWritesNothing)
{
    std::string file = out_ + "/unwanted.bin";
    ASSERT_FALSE(MakeRandomFile(file, 512 * 1024, 9).empty());
    std::vector<std::string> before = InInbox();
    pid_t sender = StartSend({file});
    ASSERT_GT(sender, 0);
    guint id = WaitForOffer();
    ASSERT_NE(id, 0u) << ReadFile(lan_->spawn_log(sender));
    g_action_group_activate_action(G_ACTION_GROUP(app_), "inbox-decline", g_variant_new_uint32(id));
    EXPECT_EQ(Exited(sender), kCliDeclined) << ReadFile(lan_->spawn_log(sender));
    EXPECT_EQ(InInbox(), before) << "a declined offer writes nothing, not even a hidden file";
    EXPECT_EQ(porch_tray_sending_get_receiving(sending(), id), 0u);
    ASSERT_TRUE(IterateUntil(
            [&] {
                g_autoptr(GArray) ids = porch_tray_sending_get_offers(sending());
                return ids->len == 0;
            },
            10));
}

TEST_F(TraySendTest, FilesDroppedOnANeighbourAreSent)
{
    std::string file = out_ + "/holiday.mov";
    std::string sum = MakeRandomFile(file, 2 * 1024 * 1024 + 1, 11);
    ASSERT_FALSE(sum.empty());
    ASSERT_TRUE(WaitForInbox()) << "the neighbour's TXT never said inbox=1";
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    Spin(0.3);
    GtkWidget *send = Find(window_, GTK_TYPE_BUTTON, "Send files to this neighbour");
    ASSERT_NE(send, nullptr);
    EXPECT_TRUE(gtk_widget_is_drawable(send)) << "Send Files… shows where the TXT says inbox=1";
    Shot(window_, "send-neighbour");

    // the drop on the neighbour's row, as GTK delivers it
    GtkTreeView *view = porch_tray_get_neighbour_view(tray_);
    ASSERT_NE(view, nullptr);
    GtkTreeModel *model = gtk_tree_view_get_model(view);
    GtkTreeIter iter;
    g_autoptr(GtkTreePath) path = nullptr;
    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok && !path;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autofree char *host = nullptr;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &host, -1);
        if (g_strcmp0(host, kHost) == 0)
            path = gtk_tree_model_get_path(model, &iter);
    }
    ASSERT_NE(path, nullptr);
    GdkRectangle cell;
    gtk_tree_view_get_background_area(view, path, nullptr, &cell);
    int x = 0, y = 0;
    gtk_tree_view_convert_bin_window_to_widget_coords(view, cell.x + 10, cell.y + cell.height / 2,
                                                      &x, &y);
    g_autofree char *uri = g_filename_to_uri(file.c_str(), nullptr, nullptr);
    UriSelection drop{{uri}};
    GtkSelectionData *data = drop.Make();
    ASSERT_NE(data, nullptr);
    guint before = porch_tray_transfers_running(tray_);
    g_signal_emit_by_name(view, "drag-data-received", nullptr, x, y, data, 0u,
                          (guint)GDK_CURRENT_TIME);
    gtk_selection_data_free(data);
    EXPECT_EQ(porch_tray_transfers_running(tray_), before + 1) << "the drop started no send";

    // it waits for the owner (this same tray), who accepts
    guint id = WaitForOffer();
    ASSERT_NE(id, 0u) << "no offer from the tray's send";
    GtkTreeModel *transfers = GTK_TREE_MODEL(porch_tray_get_transfer_model(tray_));
    guint sent = 0;
    g_autofree char *waiting = nullptr;
    ASSERT_TRUE(IterateUntil(
            [&] {
                GtkTreeIter it;
                for (gboolean ok = gtk_tree_model_get_iter_first(transfers, &it); ok;
                     ok = gtk_tree_model_iter_next(transfers, &it)) {
                    g_free(waiting);
                    gtk_tree_model_get(transfers, &it, PORCH_TRAY_TCOL_ID, &sent,
                                       PORCH_TRAY_TCOL_STATUS, &waiting, -1);
                }
                return waiting && Contains(waiting, "Waiting for nobody to accept");
            },
            20))
            << (waiting ? waiting : "");
    ShowTransfers();
    Shot(window_, "send-waiting");
    g_action_group_activate_action(G_ACTION_GROUP(app_), "inbox-accept", g_variant_new_uint32(id));
    std::string status;
    EXPECT_EQ(WaitForTransfer(sent, 60, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray_, kHost);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(status, "Delivered 1 file (" + Size(2 * 1024 * 1024 + 1) + ") to " +
                              porch_neighbour_get_name(n));
    EXPECT_EQ(Sha256File(inbox_ + "/holiday.mov"), sum);
    Spin(0.5);
    Shot(window_, "send-delivered");
    unlink((inbox_ + "/holiday.mov").c_str());
}

TEST_F(TraySendTest, TheNeighbourChooserOfSendSends)
{
    std::string file = out_ + "/letter.txt";
    ASSERT_TRUE(WriteFile(file, "dear neighbour\n"));
    ASSERT_TRUE(WaitForInbox());
    const char *paths[] = {file.c_str(), nullptr};
    GtkWindow *picker = porch_tray_sending_pick(sending(), paths);
    ASSERT_NE(picker, nullptr);
    GtkWidget *list = Find(picker, GTK_TYPE_TREE_VIEW, "Neighbours that take files");
    ASSERT_NE(list, nullptr);
    // (porchd may have republished under "NAME #2" after the inbox's reload: its name now)
    g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray_, kHost);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(Column(GTK_TREE_VIEW(list), PORCH_TRAY_NCOL_NAME),
              std::vector<std::string>{porch_neighbour_get_name(n)});
    EXPECT_TRUE(Contains(Texts(GTK_WIDGET(picker)), "Send “letter.txt” to:"));
    g_autoptr(GtkTreePath) first = gtk_tree_path_new_first();
    gtk_tree_selection_select_path(gtk_tree_view_get_selection(GTK_TREE_VIEW(list)), first);
    Shot(picker, "send-picker");
    gtk_dialog_response(GTK_DIALOG(picker), GTK_RESPONSE_ACCEPT);
    guint sent = porch_tray_sending_get_picked(sending());
    ASSERT_NE(sent, 0u);
    guint id = WaitForOffer();
    ASSERT_NE(id, 0u);
    porch_tray_sending_answer(sending(), id, TRUE);
    std::string status;
    EXPECT_EQ(WaitForTransfer(sent, 60, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_EQ(ReadFile(inbox_ + "/letter.txt"), "dear neighbour\n");
    unlink((inbox_ + "/letter.txt").c_str());
}

} // namespace
