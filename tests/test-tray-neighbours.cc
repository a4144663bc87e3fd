// test-tray-neighbours.cc — porch-tray's neighbours remembered by address (gui/tray-remembered.c)
// on the test LAN, where host 2 drops mDNS (an nft rule on 5353/udp, made before porchd on
// host 1 publishes anything): porchd on host 1 sharing Public to guests, this process as the
// desktop user of host 2 under Xvfb (tray-fixture.h).
//
//   ConnectToAddress   host 1 is not in the list; the page shown while no neighbour is selected
//                      offers "Connect to address…"; its dialog refuses text that is no
//                      address, says why an address where nothing listens does not answer and
//                      remembers nothing, and on host 1's address asks about the first contact
//                      (pinned under the address), shows its name, key and share, remembers it
//                      in the file `porch neighbours` uses and selects it in the list; its
//                      share lists and a file of it fetches byte-exact, with no other question.
//                      Screenshots of the dialog and the window.
//   PolledAndRestored  a tray started anew shows what the file says at once, then what host 1
//                      answers to a poll (its real name and share instead of a stale one); a
//                      neighbour added to the file while it runs comes at the next round, and
//                      one where nothing listens is marked unreachable.
#include "porch-neighbours.h"
#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;
using porch::test::Contains;
using porch::test::RunResult;

class TrayNeighboursTest : public TrayLanFixture
{
  protected:
    TrayNeighboursTest()
    {
        app_id_ = "org.porch.TrayNeighboursTest";
    }

    static void SetUpTestSuite()
    {
        SetUpLan(0, [] {
            for (const std::vector<std::string> &cmd :
                 {std::vector<std::string>{"nft", "add", "table", "inet", "t"},
                  std::vector<std::string>{"nft", "add", "chain", "inet", "t", "in",
                                           "{ type filter hook input priority 0; }"},
                  std::vector<std::string>{"nft", "add", "rule", "inet", "t", "in", "udp", "dport",
                                           "5353", "drop"}}) {
                RunResult r = lan_->run(2, cmd);
                if (!r.ok()) {
                    why_not_ = "cannot drop mDNS on host 2: " + r.describe();
                    return false;
                }
            }
            return true;
        });
    }

    void BeforeStart() override
    {
        porch_tray_set_poll_interval(tray_, 2);
    }

    static std::string NeighboursFile()
    {
        return std::string(g_get_user_config_dir()) + "/porch/neighbours";
    }

    // The "Connect to address" dialog's verdict on `text`, once the check is over ("" after
    // `seconds`).
    std::string ConnectTo(GtkWindow *dialog, const std::string &text, double seconds = 30)
    {
        GtkWidget *entry = Find(dialog, GTK_TYPE_ENTRY, "Address");
        GtkWidget *connect = Find(dialog, GTK_TYPE_BUTTON, "Connect");
        GtkWidget *result = Find(dialog, GTK_TYPE_LABEL, "Result");
        if (!entry || !connect || !result)
            return "(the dialog lacks its address, Connect or result)";
        gtk_entry_set_text(GTK_ENTRY(entry), text.c_str());
        gtk_button_clicked(GTK_BUTTON(connect));
        // while it checks, the entry and the button wait
        bool done = IterateUntil(
                [&] {
                    const char *t = gtk_label_get_text(GTK_LABEL(result));
                    return gtk_widget_get_sensitive(connect) && t &&
                           !g_str_has_prefix(t, "Connecting to");
                },
                seconds);
        return done ? gtk_label_get_text(GTK_LABEL(result)) : "";
    }

    void SaveShot(GtkWindow *window, const std::string &name)
    {
        Spin(0.5);
        GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(window));
        ASSERT_NE(gw, nullptr);
        g_autoptr(GdkPixbuf) shot = gdk_pixbuf_get_from_window(gw, 0, 0, gdk_window_get_width(gw),
                                                               gdk_window_get_height(gw));
        ASSERT_NE(shot, nullptr);
        std::string dir = PORCH_ARTIFACTS_DIR;
        fs::create_directories(dir);
        std::string png = dir + "/" + name;
        g_autoptr(GError) error = nullptr;
        EXPECT_TRUE(gdk_pixbuf_save(shot, png.c_str(), "png", &error, nullptr))
                << (error ? error->message : "");
        printf("screenshot: %s\n", png.c_str());
    }

    // The model's row of host: its neighbour (a new reference), or nullptr.
    PorchNeighbour *Row(const std::string &host)
    {
        return porch_tray_find_neighbour(tray_, host.c_str());
    }
};

TEST_F(TrayNeighboursTest, ConnectToAddress)
{
    const std::string one = lan_->address(1);
    fs::remove(NeighboursFile());

    // mDNS cannot show host 1 here
    Spin(3);
    g_autoptr(PorchNeighbour) browsed = Row(kHost);
    EXPECT_EQ(browsed, nullptr) << "host 2 still sees host 1 over mDNS";
    EXPECT_FALSE(
            Has(Column(porch_tray_get_neighbour_view(tray_), PORCH_TRAY_NCOL_NAME), kDisplayName));

    // the empty page offers to connect by address
    GtkWidget *offer = Find(window_, GTK_TYPE_BUTTON, "Connect to address…");
    ASSERT_NE(offer, nullptr);
    EXPECT_TRUE(gtk_widget_is_drawable(offer));
    SaveShot(window_, "porch-tray-no-neighbours.png");
    gtk_button_clicked(GTK_BUTTON(offer));
    GtkWindow *dialog = nullptr;
    ASSERT_TRUE(
            IterateUntil([&] { return (dialog = Toplevel("Connect to address")) != nullptr; }, 5));
    EXPECT_EQ(porch_tray_show_connect(tray_), dialog) << "one dialog at a time";

    // not an address; nothing listening
    std::string verdict = ConnectTo(dialog, "not an address");
    EXPECT_TRUE(Contains(verdict, "Not an address")) << verdict;
    verdict = ConnectTo(dialog, one + ":4499");
    EXPECT_TRUE(Contains(verdict, "Could not connect to " + one + ":4499")) << verdict;
    EXPECT_TRUE(Contains(verdict, "Nothing was remembered")) << verdict;
    EXPECT_FALSE(Exists(NeighboursFile()));
    EXPECT_EQ(trust_.asked, 0);

    // host 1: asked about, remembered, shown
    verdict = ConnectTo(dialog, " " + one + " ");
    EXPECT_TRUE(Contains(verdict, std::string("Connected to “") + kDisplayName + "” at " + one))
            << verdict;
    EXPECT_TRUE(Contains(verdict, "Key SHA256:")) << verdict;
    EXPECT_TRUE(Contains(verdict, "Shares: Public")) << verdict;
    EXPECT_EQ(trust_.asked, 1);
    EXPECT_EQ(trust_.pin_name, one) << "pinned under the address, as porch neighbours add pins";
    EXPECT_FALSE(trust_.advertised);
    EXPECT_TRUE(Contains(verdict, trust_.fingerprint)) << verdict;
    EXPECT_TRUE(Contains(ReadFile(NeighboursFile()), std::string("name=") + kDisplayName))
            << ReadFile(NeighboursFile());
    SaveShot(dialog, "porch-tray-connect.png");

    g_autoptr(PorchNeighbour) n = Row(one);
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(porch_neighbour_is_remembered(n));
    EXPECT_STREQ(porch_neighbour_get_name(n), kDisplayName);
    guint shares = 0;
    const PorchNeighbourShare *sh = porch_neighbour_get_shares(n, &shares);
    ASSERT_EQ(shares, 1u);
    EXPECT_STREQ(sh[0].name, "Public");
    GtkTreeView *list = porch_tray_get_neighbour_view(tray_);
    EXPECT_TRUE(Has(Column(list, PORCH_TRAY_NCOL_NAME), kDisplayName));
    EXPECT_TRUE(Has(Column(list, PORCH_TRAY_NCOL_ADDRESS), one));
    // selected: its share is on the page
    EXPECT_TRUE(IterateUntil(
            [&] { return Has(Column(porch_tray_get_share_view(tray_), 0), "Public"); }, 5));

    gtk_widget_destroy(GTK_WIDGET(dialog));
    SaveShot(window_, "porch-tray-remembered.png");

    // browsable and fetchable like any neighbour, under the pin made above
    porch_tray_browse(tray_, one.c_str(), "/Public");
    ASSERT_TRUE(IterateUntil(
            [&] {
                return !porch_tray_is_listing(tray_) &&
                       Has(Column(porch_tray_get_folder_view(tray_), 1), "small.bin");
            },
            20));
    guint id = porch_tray_fetch(tray_, n, "/Public/small.bin", nullptr);
    std::string status;
    ASSERT_EQ(WaitForTransfer(id, 60, &status), PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_EQ(Sha256File(downloads_ + "/small.bin"), small_sha_);
    EXPECT_EQ(trust_.asked, 1) << "no other question: the pin is the address's";
}

TEST_F(TrayNeighboursTest, PolledAndRestored)
{
    const std::string one = lan_->address(1);
    fs::remove(NeighboursFile());

    // remembered (and pinned) through the dialog
    GtkWindow *dialog = porch_tray_show_connect(tray_);
    ASSERT_NE(dialog, nullptr);
    std::string verdict = ConnectTo(dialog, one);
    ASSERT_TRUE(Contains(verdict, "Connected to")) << verdict;
    gtk_widget_destroy(GTK_WIDGET(dialog));

    // what the file says goes stale: another name, no share
    g_autoptr(GError) error = nullptr;
    g_autoptr(GPtrArray) list = porch_neighbours_load(nullptr, &error);
    ASSERT_NE(list, nullptr) << error->message;
    ASSERT_EQ(list->len, 1u);
    auto *r = static_cast<PorchRemembered *>(g_ptr_array_index(list, 0));
    g_free(r->name);
    r->name = g_strdup("Old name");
    g_strfreev(r->shares);
    r->shares = g_new0(char *, 1);
    ASSERT_TRUE(porch_neighbours_save(nullptr, list, &error)) << error->message;

    // a new tray, as after a restart: the file's at once, then host 1's answer
    porch_tray_free(tray_);
    window_ = nullptr;
    tray_ = porch_tray_new(app_);
    porch_tray_set_trust_policy(tray_, TrustPolicy, &trust_);
    porch_tray_set_poll_interval(tray_, 2);
    trust_.asked = 0;
    ASSERT_TRUE(porch_tray_start(tray_, &error)) << error->message;
    window_ = porch_tray_show_window(tray_);
    {
        g_autoptr(PorchNeighbour) n = Row(one);
        ASSERT_NE(n, nullptr) << "the file's neighbour is not shown at start";
        EXPECT_STREQ(porch_neighbour_get_name(n), "Old name");
    }
    EXPECT_TRUE(IterateUntil(
            [&] {
                g_autoptr(PorchNeighbour) n = Row(one);
                guint shares = 0;
                if (n)
                    porch_neighbour_get_shares(n, &shares);
                return n && shares == 1 &&
                       g_strcmp0(porch_neighbour_get_name(n), kDisplayName) == 0;
            },
            20))
            << "the poll did not refresh it";
    EXPECT_TRUE(IterateUntil(
            [&] {
                return Contains(ReadFile(NeighboursFile()), std::string("name=") + kDisplayName);
            },
            5))
            << "the file was not refreshed: " << ReadFile(NeighboursFile());
    EXPECT_EQ(trust_.asked, 0) << "a poll asks nothing";
    EXPECT_TRUE(
            Has(Column(porch_tray_get_neighbour_view(tray_), PORCH_TRAY_NCOL_NAME), kDisplayName));

    // one more in the file while it runs (as porch neighbours add writes it), where nothing
    // listens: it comes at the next round, marked unreachable; forgotten, it goes
    const std::string two = lan_->address(2);
    PorchRemembered nobody = {};
    char *none[] = {nullptr};
    nobody.address = const_cast<char *>(two.c_str());
    nobody.port = 4422;
    nobody.name = const_cast<char *>("Nobody home");
    nobody.shares = none;
    nobody.printers = none;
    ASSERT_TRUE(porch_neighbours_add(nullptr, &nobody, &error)) << error->message;
    auto detail_of = [&](const std::string &host) {
        g_autoptr(PorchNeighbour) n = Row(host);
        GtkTreeView *view = porch_tray_get_neighbour_view(tray_);
        std::vector<std::string> hosts = Column(view, PORCH_TRAY_NCOL_HOST);
        std::vector<std::string> details = Column(view, PORCH_TRAY_NCOL_DETAIL);
        for (size_t i = 0; i < hosts.size(); i++)
            if (hosts[i] == host)
                return details[i];
        return std::string("(no row)");
    };
    EXPECT_TRUE(IterateUntil(
            [&] { return g_str_has_prefix(detail_of(two).c_str(), "unreachable"); }, 20))
            << detail_of(two);
    EXPECT_TRUE(
            Has(Column(porch_tray_get_neighbour_view(tray_), PORCH_TRAY_NCOL_NAME), "Nobody home"));
    EXPECT_FALSE(g_str_has_prefix(detail_of(one).c_str(), "unreachable")) << detail_of(one);
    SaveShot(window_, "porch-tray-remembered-unreachable.png");

    g_autoptr(PorchRemembered) gone = porch_neighbours_remove(nullptr, "Nobody home", &error);
    ASSERT_NE(gone, nullptr) << error->message;
    EXPECT_TRUE(IterateUntil([&] { return detail_of(two) == "(no row)"; }, 20));
    EXPECT_NE(detail_of(one), "(no row)");
}

} // namespace
