// test-tray-lan.cc — porch-tray's core (gui/porch-tray-internal.h) driven in this process on
// the test LAN: a real porchd on host 1 sharing Public to guests, this process browsing and
// fetching as host 2 (its main thread joins host 2's network namespace, so the GTask workers
// it starts are there too; avahi is host 2's through DBUS_SYSTEM_BUS_ADDRESS), GTK on an Xvfb
// display started here. What is checked is what a user sees: the neighbour in the model and
// in the window's list (through GTK's widget API, not pixels), its share and a folder listed,
// the first-contact question, a fetch byte-exact in the Downloads folder, a cancel that leaves
// nothing under the final name, and a resume. A screenshot of the window with the neighbour
// listed is saved as tests/artifacts/porch-tray-window.png in the build folder.
#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;

class TrayLanTest : public TrayLanFixture
{
};

TEST_F(TrayLanTest, NeighbourIsListedLiveAndItsShareBrowses)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr) << "porchd on host 1 never reached the neighbour model";
    EXPECT_STREQ(porch_neighbour_get_name(alice), kDisplayName);
    EXPECT_NE(strstr(gtk_window_get_title(window_), "Porch"), nullptr);

    // The window's list shows it (name, address, share count), the devices list does not.
    GtkTreeView *list = porch_tray_get_neighbour_view(tray_);
    ASSERT_NE(list, nullptr);
    EXPECT_TRUE(IterateUntil([&] { return gtk_widget_get_mapped(GTK_WIDGET(list)); }, 5));
    EXPECT_TRUE(Has(Column(list, PORCH_TRAY_NCOL_NAME), kDisplayName));
    EXPECT_TRUE(Has(Column(list, PORCH_TRAY_NCOL_ADDRESS), lan_->address(1)));
    EXPECT_FALSE(
            Has(Column(porch_tray_get_device_view(tray_), PORCH_TRAY_NCOL_NAME), kDisplayName));
    EXPECT_STREQ(atk_object_get_name(gtk_widget_get_accessible(GTK_WIDGET(list))),
                 "Neighbours running Porch");

    // Selecting it shows its share.
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    EXPECT_TRUE(IterateUntil(
            [&] { return Has(Column(porch_tray_get_share_view(tray_), 0), "Public"); }, 5));

    // The screenshot, for review: the window with the neighbour listed and selected.
    Spin(0.5);
    GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(window_));
    ASSERT_NE(gw, nullptr);
    g_autoptr(GdkPixbuf) shot = gdk_pixbuf_get_from_window(gw, 0, 0, gdk_window_get_width(gw),
                                                           gdk_window_get_height(gw));
    ASSERT_NE(shot, nullptr);
    std::string dir = PORCH_ARTIFACTS_DIR;
    fs::create_directories(dir);
    std::string png = dir + "/porch-tray-window.png";
    g_autoptr(GError) error = nullptr;
    EXPECT_TRUE(gdk_pixbuf_save(shot, png.c_str(), "png", &error, nullptr))
            << (error ? error->message : "");
    printf("screenshot: %s\n", png.c_str());

    // Opening the share lists its folder (a worker connects: first contact is asked).
    porch_tray_browse(tray_, kHost, "/Public");
    ASSERT_TRUE(IterateUntil(
            [&] {
                return !porch_tray_is_listing(tray_) &&
                       Has(Column(porch_tray_get_folder_view(tray_), 1), "small.bin");
            },
            20));
    std::vector<std::string> names = Column(porch_tray_get_folder_view(tray_), 1);
    EXPECT_TRUE(Has(names, "tree"));
    EXPECT_TRUE(Has(names, "big.bin"));
    g_autofree char *size = g_format_size(3 * 1024 * 1024 + 17); // "3.1 MB"
    EXPECT_TRUE(Has(Column(porch_tray_get_folder_view(tray_), 2), size));
    EXPECT_EQ(trust_.asked, 1);
    EXPECT_EQ(trust_.pin_name, kDisplayName);
    EXPECT_STREQ(trust_.fingerprint.c_str(), porch_neighbour_get_fingerprint(alice));
    EXPECT_TRUE(trust_.advertised);

    // A subfolder, then up again.
    porch_tray_browse(tray_, kHost, "/Public/tree");
    EXPECT_TRUE(IterateUntil(
            [&] {
                return !porch_tray_is_listing(tray_) &&
                       Has(Column(porch_tray_get_folder_view(tray_), 1), "a.txt");
            },
            20));
    EXPECT_EQ(trust_.asked, 1) << "the pin is remembered";
}

TEST_F(TrayLanTest, FetchLandsByteExactInDownloads)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    g_autofree char *downloads = porch_tray_default_download_dir();
    EXPECT_EQ(std::string(downloads), downloads_) << "user-dirs.dirs names the Downloads folder";

    guint id = porch_tray_fetch(tray_, alice, "/Public/small.bin", nullptr);
    std::string status;
    ASSERT_EQ(WaitForTransfer(id, 60, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_EQ(Sha256File(downloads_ + "/small.bin"), small_sha_);
    EXPECT_FALSE(Exists(downloads_ + "/small.bin.part"));
    EXPECT_LE(trust_.asked, 1) << "asked once at most (another test may have pinned it)";
    g_autofree char *known =
            g_build_filename(g_get_user_config_dir(), "porch", "known_peers", nullptr);
    EXPECT_NE(ReadFile(known).find("Alice"), std::string::npos) << ReadFile(known);

    // A folder, into a chosen folder.
    std::string chosen = home_ + "/chosen";
    id = porch_tray_fetch(tray_, alice, "/Public/tree", chosen.c_str());
    ASSERT_EQ(WaitForTransfer(id, 60, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_EQ(ReadFile(chosen + "/tree/a.txt"), "a\n");
    EXPECT_EQ(ReadFile(chosen + "/tree/sub/b.txt"), "bee\n");

    // The transfers list shows them done, at 100 %.
    GtkTreeModel *model = GTK_TREE_MODEL(porch_tray_get_transfer_model(tray_));
    EXPECT_EQ(gtk_tree_model_iter_n_children(model, nullptr), 2);
    GtkTreeIter iter;
    ASSERT_TRUE(gtk_tree_model_get_iter_first(model, &iter));
    int percent = 0;
    gtk_tree_model_get(model, &iter, PORCH_TRAY_TCOL_PERCENT, &percent, -1);
    EXPECT_EQ(percent, 100);
}

TEST_F(TrayLanTest, CancelLeavesNothingUnderTheFinalNameAndResumeCompletes)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    std::string dest = downloads_ + "/big.bin";

    guint id = porch_tray_fetch(tray_, alice, "/Public/big.bin", nullptr);
    guint64 done = 0;
    ASSERT_TRUE(IterateUntil(
            [&] {
                PorchTrayTransferState state;
                porch_tray_transfer_get(tray_, id, &state, nullptr, nullptr, &done);
                return done > 0 || state != PORCH_TRAY_TRANSFER_RUNNING;
            },
            60));
    porch_tray_transfer_cancel(tray_, id);
    std::string status;
    ASSERT_EQ(WaitForTransfer(id, 30, &status), PORCH_TRAY_TRANSFER_CANCELLED) << status;
    EXPECT_FALSE(Exists(dest)) << "a cancelled fetch left a file under its final name";
    EXPECT_TRUE(Exists(dest + ".part")) << "the part stays for a resume";

    // Fetching it again resumes and completes, byte-exact.
    id = porch_tray_fetch(tray_, alice, "/Public/big.bin", nullptr);
    ASSERT_EQ(WaitForTransfer(id, 120, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_EQ(Sha256File(dest), big_sha_);
    EXPECT_FALSE(Exists(dest + ".part"));
}

TEST_F(TrayLanTest, ChangedKeyIsRefusedWithABlockingWarning)
{
    g_autoptr(PorchNeighbour) alice = WaitForAlice();
    ASSERT_NE(alice, nullptr);
    // A pin of another key under Alice's name, in a known_peers of this test's own.
    std::string known = home_ + "/changed-known_peers";
    ssh_key other = nullptr;
    ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &other), SSH_OK);
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(porch_known_peers_add(known.c_str(), kDisplayName, other, &error))
            << error->message;
    ssh_key_free(other);
    porch_tray_set_files(tray_, nullptr, known.c_str());

    std::string chosen = home_ + "/changed";
    guint id = porch_tray_fetch(tray_, alice, "/Public/small.bin", chosen.c_str());
    std::string status;
    ASSERT_EQ(WaitForTransfer(id, 60, &status), PORCH_TRAY_TRANSFER_FAILED) << status;
    EXPECT_NE(status.find("CHANGED"), std::string::npos) << status;
    EXPECT_EQ(trust_.asked, 0) << "a changed key is not a first contact";
    EXPECT_FALSE(Exists(chosen + "/small.bin"));
    // The warning is a modal dialog over the window.
    bool warned = false;
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l; l = l->next)
        if (g_strcmp0(gtk_window_get_title(GTK_WINDOW(l->data)), "Porch — key changed") == 0 &&
            gtk_window_get_modal(GTK_WINDOW(l->data)) &&
            gtk_widget_get_visible(GTK_WIDGET(l->data)))
            warned = true;
    g_list_free(tops);
    EXPECT_TRUE(warned) << "no blocking warning shown";
}

} // namespace
