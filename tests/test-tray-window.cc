// test-tray-window.cc — porch-tray's window (gui/tray-window.c) as a user meets it, on the test
// LAN under Xvfb: each state's page and its text (no neighbours yet and why, a neighbour to
// select, a neighbour's shares, a neighbour whose key changed), the folder view's keyboard
// (Enter opens a folder and downloads a file, Backspace and Alt+Up go up), a file dragged out
// (XDS), the window's size and the last neighbour remembered (GSettings, the memory backend), and
// the leaflet folded at 360 px. Every state is saved as a PNG under tests/artifacts/ in the build
// folder, for review.
#include <handy.h>

#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;

std::string
AccessibleName(GtkWidget *w)
{
    const char *n = atk_object_get_name(gtk_widget_get_accessible(w));
    return n ? n : "";
}

GtkWidget *
FindNamed(GtkWindow *window, GType type, const std::string &name)
{
    GtkWidget *found = nullptr;
    WalkAll(GTK_WIDGET(window), [&](GtkWidget *w) {
        if (!found && G_TYPE_CHECK_INSTANCE_TYPE(w, type) && AccessibleName(w) == name)
            found = w;
    });
    return found;
}

// The status page on screen (title and description), or nullptr.
HdyStatusPage *
ShownStatusPage(GtkWindow *window)
{
    HdyStatusPage *found = nullptr;
    WalkAll(GTK_WIDGET(window), [&](GtkWidget *w) {
        if (!found && HDY_IS_STATUS_PAGE(w) && gtk_widget_is_drawable(w))
            found = HDY_STATUS_PAGE(w);
    });
    return found;
}

std::string
ShownTitle(GtkWindow *window)
{
    HdyStatusPage *page = ShownStatusPage(window);
    const char *t = page ? hdy_status_page_get_title(page) : nullptr;
    return t ? t : "";
}

std::string
ShownDescription(GtkWindow *window)
{
    HdyStatusPage *page = ShownStatusPage(window);
    const char *t = page ? hdy_status_page_get_description(page) : nullptr;
    return t ? t : "";
}

// Presses and releases keyval (with modifiers) in window, as the keyboard would: the window
// hands it to its focus widget.
void
SendKey(GtkWindow *window, guint keyval, guint state = 0)
{
    GdkDisplay *display = gdk_display_get_default();
    GdkKeymapKey *keys = nullptr;
    gint n = 0;
    gdk_keymap_get_entries_for_keyval(gdk_keymap_get_for_display(display), keyval, &keys, &n);
    for (GdkEventType type : {GDK_KEY_PRESS, GDK_KEY_RELEASE}) {
        GdkEvent *e = gdk_event_new(type);
        e->key.window = GDK_WINDOW(g_object_ref(gtk_widget_get_window(GTK_WIDGET(window))));
        e->key.send_event = TRUE;
        e->key.time = GDK_CURRENT_TIME;
        e->key.keyval = keyval;
        e->key.state = state;
        e->key.hardware_keycode = n > 0 ? keys[0].keycode : 0;
        e->key.group = n > 0 ? keys[0].group : 0;
        gdk_event_set_device(e, gdk_seat_get_keyboard(gdk_display_get_default_seat(display)));
        gtk_main_do_event(e);
        gdk_event_free(e);
    }
    g_free(keys);
}

// Puts the folder view's cursor (and selection) on the row named name.
bool
CursorOn(GtkTreeView *view, const std::string &name)
{
    GtkTreeModel *model = gtk_tree_view_get_model(view);
    GtkTreeIter iter;
    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autofree char *s = nullptr;
        gtk_tree_model_get(model, &iter, 1, &s, -1);
        if (name == s) {
            g_autoptr(GtkTreePath) path = gtk_tree_model_get_path(model, &iter);
            gtk_tree_view_set_cursor(view, path, nullptr, FALSE);
            return true;
        }
    }
    return false;
}

class TrayWindowTest : public TrayLanFixture
{
  protected:
    static void SetUpTestSuite()
    {
        SetUpLan(256ll * 1024 * 1024); // big.bin: a transfer that runs a while
    }

    void SetUp() override
    {
        // what an earlier test of this process remembered (the memory backend) goes
        g_autoptr(GSettings) settings = g_settings_new("org.porch.Tray");
        for (const char *key :
             {"window-width", "window-height", "window-maximized", "last-neighbour"})
            g_settings_reset(settings, key);
        TrayLanFixture::SetUp();
    }

    // Saves the window as tests/artifacts/porch-tray-NAME.png.
    void Shot(const std::string &name)
    {
        Spin(0.5);
        GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(window_));
        ASSERT_NE(gw, nullptr);
        g_autoptr(GdkPixbuf) shot = gdk_pixbuf_get_from_window(gw, 0, 0, gdk_window_get_width(gw),
                                                               gdk_window_get_height(gw));
        ASSERT_NE(shot, nullptr);
        fs::create_directories(PORCH_ARTIFACTS_DIR);
        std::string png = std::string(PORCH_ARTIFACTS_DIR) + "/porch-tray-" + name + ".png";
        g_autoptr(GError) error = nullptr;
        EXPECT_TRUE(gdk_pixbuf_save(shot, png.c_str(), "png", &error, nullptr))
                << (error ? error->message : "");
        printf("screenshot: %s\n", png.c_str());
    }

    bool Listed(const std::string &name)
    {
        return !porch_tray_is_listing(tray_) &&
               Has(Column(porch_tray_get_folder_view(tray_), 1), name);
    }
};

class TrayWindowAloneTest : public TrayWindowTest
{
  protected:
    TrayWindowAloneTest()
    {
        start_browsing_ = false;
    }
};

TEST_F(TrayWindowAloneTest, NoNeighboursYetSaysWhyAComputerMayNotShow)
{
    ASSERT_TRUE(IterateUntil([&] { return !ShownTitle(window_).empty(); }, 5));
    EXPECT_EQ(ShownTitle(window_), "No neighbours yet");
    EXPECT_NE(ShownDescription(window_).find("show up here by themselves"), std::string::npos);
    auto *why = GTK_BUTTON(FindNamed(window_, GTK_TYPE_BUTTON, "Why can't I see a computer?"));
    ASSERT_NE(why, nullptr);
    EXPECT_TRUE(gtk_widget_is_drawable(GTK_WIDGET(why)));
    Shot("no-neighbours");

    // The action shows the checks to make.
    gtk_button_clicked(why);
    GtkWindow *dialog = nullptr;
    ASSERT_TRUE(IterateUntil(
            [&] {
                GList *tops = gtk_window_list_toplevels();
                for (GList *l = tops; l; l = l->next)
                    if (g_strcmp0(gtk_window_get_title(GTK_WINDOW(l->data)),
                                  "Why can't I see a computer?") == 0 &&
                        gtk_widget_get_visible(GTK_WIDGET(l->data)))
                        dialog = GTK_WINDOW(l->data);
                g_list_free(tops);
                return dialog != nullptr;
            },
            5));
    auto *text = GTK_TEXT_VIEW(FindNamed(dialog, GTK_TYPE_TEXT_VIEW, "The checks to make"));
    ASSERT_NE(text, nullptr);
    GtkTextBuffer *buffer = gtk_text_view_get_buffer(text);
    GtkTextIter start, end;
    gtk_text_buffer_get_bounds(buffer, &start, &end);
    g_autofree char *checks = gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
    EXPECT_NE(strstr(checks, "same network"), nullptr) << checks;
    EXPECT_NE(strstr(checks, "Avahi"), nullptr) << checks;
    EXPECT_NE(strstr(checks, "UDP port 5353"), nullptr) << checks;
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

TEST_F(TrayWindowTest, NeighboursListedThenOnesSharesAndPrinters)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    ASSERT_TRUE(IterateUntil([&] { return ShownTitle(window_) == "Select a neighbour"; }, 5))
            << ShownTitle(window_);
    EXPECT_EQ(FindNamed(window_, GTK_TYPE_BUTTON, "Why can't I see a computer?") != nullptr &&
                      gtk_widget_is_drawable(GTK_WIDGET(
                              FindNamed(window_, GTK_TYPE_BUTTON, "Why can't I see a computer?"))),
              false)
            << "the explanation is for when nobody shows";
    Shot("neighbours");

    // The search bar (Ctrl+F) filters the neighbours by name.
    auto *search = GTK_ENTRY(FindNamed(window_, GTK_TYPE_SEARCH_ENTRY, "Search the neighbours"));
    ASSERT_NE(search, nullptr);
    SendKey(window_, GDK_KEY_f, GDK_CONTROL_MASK);
    EXPECT_TRUE(IterateUntil([&] { return gtk_widget_is_drawable(GTK_WIDGET(search)) == TRUE; }, 5))
            << "Ctrl+F did not open the search bar";
    gtk_entry_set_text(search, "zzz");
    EXPECT_TRUE(IterateUntil(
            [&] { return Column(porch_tray_get_neighbour_view(tray_), 0).empty(); }, 5));
    gtk_entry_set_text(search, "alice");
    EXPECT_TRUE(IterateUntil(
            [&] {
                return Has(Column(porch_tray_get_neighbour_view(tray_), PORCH_TRAY_NCOL_NAME),
                           kDisplayName);
            },
            5));
    gtk_entry_set_text(search, "");

    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    ASSERT_TRUE(IterateUntil(
            [&] { return Has(Column(porch_tray_get_share_view(tray_), 0), "Public"); }, 5));
    EXPECT_EQ(ShownStatusPage(window_), nullptr) << "the neighbour's page shows";
    Shot("neighbour");
}

TEST_F(TrayWindowTest, FolderViewKeyboardOpensGoesUpAndDownloads)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    porch_tray_browse(tray_, kHost, "/Public");
    ASSERT_TRUE(IterateUntil([&] { return Listed("tree"); }, 20));
    GtkTreeView *files = porch_tray_get_folder_view(tray_);
    EXPECT_EQ(gtk_tree_selection_get_mode(gtk_tree_view_get_selection(files)),
              GTK_SELECTION_MULTIPLE);
    gtk_widget_grab_focus(GTK_WIDGET(files));

    // Enter on a folder opens it.
    ASSERT_TRUE(CursorOn(files, "tree"));
    SendKey(window_, GDK_KEY_Return);
    ASSERT_TRUE(IterateUntil([&] { return Listed("a.txt"); }, 20)) << "Enter did not open tree/";
    Shot("folder");

    // Enter on sub/, then Backspace goes up to tree/, and Alt+Up up to the share.
    ASSERT_TRUE(CursorOn(files, "sub"));
    SendKey(window_, GDK_KEY_Return);
    ASSERT_TRUE(IterateUntil([&] { return Listed("b.txt"); }, 20));
    SendKey(window_, GDK_KEY_BackSpace);
    ASSERT_TRUE(IterateUntil([&] { return Listed("a.txt"); }, 20)) << "Backspace did not go up";
    SendKey(window_, GDK_KEY_Up, GDK_MOD1_MASK);
    ASSERT_TRUE(IterateUntil([&] { return Listed("small.bin"); }, 20)) << "Alt+Up did not go up";

    // Enter on a file downloads it, byte-exact, into Downloads.
    ASSERT_TRUE(CursorOn(files, "tree"));
    SendKey(window_, GDK_KEY_Return);
    ASSERT_TRUE(IterateUntil([&] { return Listed("a.txt"); }, 20));
    ASSERT_TRUE(CursorOn(files, "a.txt"));
    SendKey(window_, GDK_KEY_Return);
    std::string dest = downloads_ + "/a.txt";
    EXPECT_TRUE(IterateUntil(
            [&] { return porch_tray_transfers_running(tray_) == 0 && ReadFile(dest) == "a\n"; },
            30))
            << "Enter on a.txt did not download it";
    EXPECT_TRUE(Listed("a.txt")) << "downloading a file stays in its folder";
}

void
OnSelectionReceived(GtkWidget *, GtkSelectionData *data, guint, gpointer out)
{
    const guchar *bytes = gtk_selection_data_get_data(data);
    int length = gtk_selection_data_get_length(data);
    *static_cast<std::string *>(out) =
            length > 0 ? std::string(reinterpret_cast<const char *>(bytes), length) : "(none)";
}

// A drag of a file out of the folder view, as Files takes it (XDS): porch-tray proposes the
// name, the target names where it goes and asks for the data; porch-tray fetches it there.
// The drag is started with GTK's API and the target's request is a selection conversion,
// which GTK hands to the drag's source as a drag-data-get.
TEST_F(TrayWindowTest, DraggingAFileOutFetchesItWhereItIsDropped)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    porch_tray_browse(tray_, kHost, "/Public/tree");
    ASSERT_TRUE(IterateUntil([&] { return Listed("a.txt"); }, 20));
    GtkTreeView *files = porch_tray_get_folder_view(tray_);
    ASSERT_TRUE(CursorOn(files, "a.txt"));

    GdkAtom xds = gdk_atom_intern_static_string("XdndDirectSave0");
    g_autoptr(GtkTargetList) targets = gtk_target_list_new(nullptr, 0);
    gtk_target_list_add(targets, xds, 0, 0);
    GdkDragContext *context = gtk_drag_begin_with_coordinates(GTK_WIDGET(files), targets,
                                                              GDK_ACTION_COPY, 1, nullptr, 10, 10);
    ASSERT_NE(context, nullptr);
    GdkWindow *source = gdk_drag_context_get_source_window(context);
    guchar *prop = nullptr;
    gint length = 0;
    ASSERT_TRUE(gdk_property_get(source, xds, gdk_atom_intern_static_string("text/plain"), 0, 4096,
                                 FALSE, nullptr, nullptr, &length, &prop));
    EXPECT_EQ(std::string(reinterpret_cast<char *>(prop), length), "a.txt")
            << "the name proposed to the drop target";
    g_free(prop);

    // the target: where the file goes, then its request
    std::string dropped = home_ + "/dropped";
    fs::create_directories(dropped);
    g_autofree char *uri = g_filename_to_uri((dropped + "/a.txt").c_str(), nullptr, nullptr);
    gdk_property_change(source, xds, gdk_atom_intern_static_string("text/plain"), 8,
                        GDK_PROP_MODE_REPLACE, reinterpret_cast<const guchar *>(uri),
                        static_cast<int>(strlen(uri)));
    GtkWidget *target = gtk_invisible_new();
    gtk_widget_realize(target);
    std::string reply;
    g_signal_connect(target, "selection-received", G_CALLBACK(OnSelectionReceived), &reply);
    ASSERT_TRUE(gtk_selection_convert(target, gdk_atom_intern_static_string("XdndSelection"), xds,
                                      GDK_CURRENT_TIME));
    EXPECT_TRUE(IterateUntil([&] { return !reply.empty(); }, 10));
    EXPECT_EQ(reply, "S") << "XDS: S for a fetch started";
    EXPECT_TRUE(IterateUntil(
            [&] {
                return porch_tray_transfers_running(tray_) == 0 &&
                       ReadFile(dropped + "/a.txt") == "a\n";
            },
            30))
            << "the dragged file did not land where it was dropped";
    EXPECT_FALSE(Exists(downloads_ + "/a.txt")) << "it went to Downloads instead";

    // A target that is not a local folder gets E, and nothing is fetched.
    EXPECT_FALSE(porch_tray_drop_to(tray_, "sftp://elsewhere/a.txt"));
    gtk_drag_cancel(context);
    gtk_widget_destroy(target);
}

TEST_F(TrayWindowTest, ARunningTransferShowsInTheHeaderBarsPopover)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    guint id = porch_tray_fetch(tray_, alice, "/Public/big.bin", nullptr);
    guint64 done = 0;
    ASSERT_TRUE(IterateUntil(
            [&] {
                PorchTrayTransferState state;
                porch_tray_transfer_get(tray_, id, &state, nullptr, nullptr, &done);
                return done > 0 || state != PORCH_TRAY_TRANSFER_RUNNING;
            },
            60));
    auto *button = GTK_MENU_BUTTON(FindNamed(window_, GTK_TYPE_MENU_BUTTON, "Transfers"));
    ASSERT_NE(button, nullptr);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(button), TRUE);
    GtkPopover *popover = gtk_menu_button_get_popover(button);
    ASSERT_TRUE(IterateUntil([&] { return gtk_widget_is_drawable(GTK_WIDGET(popover)); }, 5));
    auto *list = GTK_LIST_BOX(FindNamed(window_, GTK_TYPE_LIST_BOX, "Transfers"));
    ASSERT_NE(list, nullptr);
    EXPECT_TRUE(gtk_widget_is_ancestor(GTK_WIDGET(list), GTK_WIDGET(popover)));
    GtkListBoxRow *row = gtk_list_box_get_row_at_index(list, 0);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(gtk_list_box_get_row_at_index(list, 1), nullptr) << "one row per transfer";
    // its progress bar moves, and its cancel button is there while it runs
    GtkProgressBar *bar = nullptr;
    GtkButton *cancel = nullptr, *open = nullptr;
    WalkAll(GTK_WIDGET(row), [&](GtkWidget *w) {
        if (GTK_IS_PROGRESS_BAR(w))
            bar = GTK_PROGRESS_BAR(w);
        if (GTK_IS_BUTTON(w) && AccessibleName(w).rfind("Cancel the transfer of ", 0) == 0)
            cancel = GTK_BUTTON(w);
        if (GTK_IS_BUTTON(w) && AccessibleName(w).rfind("Open the folder of ", 0) == 0)
            open = GTK_BUTTON(w);
    });
    ASSERT_NE(bar, nullptr);
    ASSERT_NE(cancel, nullptr);
    ASSERT_NE(open, nullptr);
    EXPECT_TRUE(IterateUntil([&] { return gtk_progress_bar_get_fraction(bar) > 0; }, 10));
    EXPECT_TRUE(gtk_widget_is_drawable(GTK_WIDGET(cancel)));
    EXPECT_FALSE(gtk_widget_get_visible(GTK_WIDGET(open))) << "Open folder is for when it is done";
    Shot("transfer");
    gtk_button_clicked(cancel);
    std::string status;
    EXPECT_EQ(WaitForTransfer(id, 30, &status), PORCH_TRAY_TRANSFER_CANCELLED) << status;
}

TEST_F(TrayWindowTest, AChangedKeyShowsItsPageAndWhatToDo)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    // A pin of another key under Alice's name, in a known_peers of this test's own.
    std::string known = home_ + "/window-changed-known_peers";
    ssh_key other = nullptr;
    ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &other), SSH_OK);
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(porch_known_peers_add(known.c_str(), kDisplayName, other, &error))
            << error->message;
    ssh_key_free(other);
    porch_tray_set_files(tray_, nullptr, known.c_str());

    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    porch_tray_browse(tray_, kHost, "/Public");
    ASSERT_TRUE(IterateUntil([&] { return ShownTitle(window_) == "Key changed"; }, 30))
            << ShownTitle(window_);
    std::string text = ShownDescription(window_);
    EXPECT_NE(text.find(kDisplayName), std::string::npos) << text;
    EXPECT_NE(text.find("reinstalled"), std::string::npos) << text;
    auto *detail = GTK_LABEL(FindNamed(window_, GTK_TYPE_LABEL, "What to do"));
    ASSERT_NE(detail, nullptr);
    std::string what = gtk_label_get_text(detail);
    EXPECT_NE(what.find("delete line"), std::string::npos) << what;
    EXPECT_NE(what.find(known), std::string::npos) << what;
    EXPECT_TRUE(Has(Column(porch_tray_get_neighbour_view(tray_), PORCH_TRAY_NCOL_ICON),
                    "security-low"));
    // the blocking warning goes first, so that the picture is of the window
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l; l = l->next)
        if (g_strcmp0(gtk_window_get_title(GTK_WINDOW(l->data)), "Porch — key changed") == 0)
            gtk_widget_destroy(GTK_WIDGET(l->data));
    g_list_free(tops);
    auto *leaflet = HDY_LEAFLET(FindNamed(window_, HDY_TYPE_LEAFLET, ""));
    ASSERT_NE(leaflet, nullptr);
    EXPECT_FALSE(hdy_leaflet_get_folded(leaflet)) << "the long refusal folded the window";
    Shot("key-changed");
}

TEST_F(TrayWindowTest, SizeAndLastNeighbourAreRemembered)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    gtk_window_resize(window_, 700, 500);
    int width = 0, height = 0;
    ASSERT_TRUE(IterateUntil(
            [&] {
                gtk_window_get_size(window_, &width, &height);
                return width == 700 && height == 500;
            },
            5))
            << width << "x" << height;
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    Spin(0.2);
    gtk_widget_destroy(GTK_WIDGET(window_));
    Spin(0.2);

    g_autoptr(GSettings) settings = g_settings_new("org.porch.Tray");
    EXPECT_EQ(g_settings_get_int(settings, "window-width"), 700);
    EXPECT_EQ(g_settings_get_int(settings, "window-height"), 500);
    g_autofree char *last = g_settings_get_string(settings, "last-neighbour");
    EXPECT_STREQ(last, kHost);

    // Opened again: the same size, the same neighbour shown.
    window_ = porch_tray_show_window(tray_);
    EXPECT_TRUE(IterateUntil(
            [&] {
                gtk_window_get_size(window_, &width, &height);
                return width == 700 && height == 500;
            },
            5))
            << width << "x" << height;
    EXPECT_TRUE(IterateUntil(
            [&] { return Has(Column(porch_tray_get_share_view(tray_), 0), "Public"); }, 5))
            << "the last neighbour is not shown again";
    GtkTreeModel *model = nullptr;
    GtkTreeIter iter;
    ASSERT_TRUE(gtk_tree_selection_get_selected(
            gtk_tree_view_get_selection(porch_tray_get_neighbour_view(tray_)), &model, &iter));
    g_autofree char *host = nullptr;
    gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &host, -1);
    EXPECT_STREQ(host, kHost);
}

TEST_F(TrayWindowTest, At360PixelsTheLeafletFoldsWithABackButton)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    gtk_window_resize(window_, 360, 640);
    int width = 0, height = 0;
    ASSERT_TRUE(IterateUntil(
            [&] {
                gtk_window_get_size(window_, &width, &height);
                return width == 360;
            },
            5))
            << "the window does not narrow to 360 px: " << width << [&] {
                   int hmin = 0, bmin = 0, n = 0;
                   gtk_widget_get_preferred_width(gtk_window_get_titlebar(window_), &hmin, &n);
                   gtk_widget_get_preferred_width(gtk_bin_get_child(GTK_BIN(window_)), &bmin, &n);
                   return " (header bar " + std::to_string(hmin) + ", body " +
                          std::to_string(bmin) + ")";
               }();
    auto *leaflet = HDY_LEAFLET(FindNamed(window_, HDY_TYPE_LEAFLET, ""));
    ASSERT_NE(leaflet, nullptr);
    ASSERT_TRUE(IterateUntil([&] { return hdy_leaflet_get_folded(leaflet); }, 5));
    Shot("narrow");

    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    GtkWidget *back = FindNamed(window_, GTK_TYPE_BUTTON, "Back to the neighbours");
    ASSERT_NE(back, nullptr);
    ASSERT_TRUE(IterateUntil([&] { return gtk_widget_is_drawable(back) == TRUE; }, 5));
    EXPECT_FALSE(gtk_widget_is_drawable(GTK_WIDGET(porch_tray_get_neighbour_view(tray_))));
    gtk_window_get_size(window_, &width, &height);
    EXPECT_EQ(width, 360) << "the neighbour's page widened the window";
    Shot("narrow-neighbour");
    gtk_button_clicked(GTK_BUTTON(back));
    EXPECT_TRUE(IterateUntil(
            [&] {
                return gtk_widget_is_drawable(GTK_WIDGET(porch_tray_get_neighbour_view(tray_)));
            },
            5));
}

} // namespace
