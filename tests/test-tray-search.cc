// test-tray-search.cc — porch-tray's search of the neighbours' files (gui/tray-search.h) and
// its fetch of a large file from several sources, on a test LAN of three hosts: porchd on
// host 1 ("Alice's laptop": Public to guests, Private to the peer bob only) and on host 3
// ("Carol's desktop": Media to guests), each with its content index; this process is the tray's
// user on host 2 (its own key, a guest to both). What is checked is what a user sees, through
// GTK's widget API: the pattern typed lists the matches of both hosts and never a file of a
// share the user may not read; nothing is asked of a neighbour whose key is not pinned; a
// result fetched lands verified; a large file both hosts hold comes from 2 sources and the
// transfer says so. Screenshots: tests/artifacts/porch-tray-search.png (the results) and
// porch-tray-multisource.png (the transfer) in the build folder.
#include <glib/gstdio.h>

#include "porch-multiget.h"
#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;
using porch::test::MakeDirs;
using porch::test::MakeKey;

constexpr const char *kCarol = "Carol's desktop";
constexpr const char *kCarolHost = "porchtl3.local";
// a little over the threshold from which a fetch looks for other sources
constexpr off_t kBigBytes = PORCH_MULTIGET_THRESHOLD + 9 * 1024 * 1024 + 5;

class TraySearchTest : public TrayDesktopFixture
{
  protected:
    static void SetUpTestSuite()
    {
        std::string missing = TestLan::missing_tools({"Xvfb", "sqlite3", "ssh-keygen"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing;
            may_skip_ = !TestLan::must_run();
            return;
        }
        lan_ = TestLan::Create(3, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        may_skip_ = false;
        std::string h1 = lan_->host_dir(1), h3 = lan_->host_dir(3);
        std::string bob = MakeKey(lan_->host_dir(2) + "/bob", "bob");
        for (const std::string &d : {h1 + "/public", h1 + "/private", h3 + "/media"})
            MakeDirs(d, 0755);
        big_sha_ = MakeRandomFile(h1 + "/public/big.iso", kBigBytes, 7);
        if (bob.empty() || big_sha_.empty() ||
            !WriteFile(h1 + "/public/report-alice.txt", "Alice's report\n") ||
            !WriteFile(h1 + "/private/report-private.txt", "not for guests\n") ||
            !WriteFile(h3 + "/media/report-carol.txt", "Carol's report\n") ||
            !TestLan::run_local({"cp", h1 + "/public/big.iso", h3 + "/media/big.iso"}).ok()) {
            why_not_ = "cannot write the shared files";
            return;
        }
        std::string peer = "\n\n[peer bob]\nkey = " + bob + "\n";
        std::string conf1 =
                "[porch]\nname = " + std::string(kDisplayName) + "\nlisten = " + lan_->address(1) +
                peer + "\n[share Public]\npath = " + h1 +
                "/public\nread = guest\n\n[share Private]\npath = " + h1 + "/private\nread = bob\n";
        std::string conf3 = "[porch]\nname = " + std::string(kCarol) +
                            "\nlisten = " + lan_->address(3) + peer +
                            "\n[share Media]\npath = " + h3 + "/media\nread = guest\n";
        if (!StartPorchd(conf1))
            return;
        if (!WriteFile(h3 + "/porch.conf", conf3)) {
            why_not_ = "cannot write host 3's porch.conf";
            return;
        }
        carol_ = lan_->spawn(3,
                             {kPorchd, "--config", h3 + "/porch.conf", "--state-dir", h3 + "/state",
                              "--runtime-dir", h3 + "/run"},
                             h3 + "/porchd.log");
        if (!porch::test::PorchdStarted(lan_, carol_, h3 + "/porchd.log")) {
            why_not_ = "porchd on host 3 did not start:\n" + ReadFile(h3 + "/porchd.log");
            return;
        }
        // both indexes built: 3 files on host 1, 2 on host 3
        for (auto [n, count] : {std::pair{1, 3}, std::pair{3, 2}}) {
            std::string db = lan_->host_dir(n) + "/state/index.sqlite";
            if (!WaitFor(
                        [&] {
                            auto r = TestLan::run_local(
                                    {"sqlite3", db, "SELECT count(*) FROM files"});
                            return r.ok() && r.out == std::to_string(count) + "\n";
                        },
                        60)) {
                why_not_ = "host " + std::to_string(n) + "'s index was not built";
                return;
            }
        }
        if (!BecomeDesktopUser(2))
            return;
        ready_ = true;
    }

    // Both neighbours in the model, with their shares and addresses.
    bool WaitForBoth()
    {
        return IterateUntil(
                [&] {
                    for (const char *host : {kHost, kCarolHost}) {
                        g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray_, host);
                        if (!n || !porch_neighbour_is_porch(n) ||
                            !porch_neighbour_get_ipv4_addresses(n)[0])
                            return false;
                    }
                    return true;
                },
                30);
    }

    // Pins both keys as a first contact does: browsing a share of each.
    void PinBoth()
    {
        for (auto [host, path] : {std::pair{kHost, "/Public"}, std::pair{kCarolHost, "/Media"}}) {
            porch_tray_browse(tray_, host, path);
            ASSERT_TRUE(IterateUntil(
                    [&] {
                        return !porch_tray_is_listing(tray_) &&
                               Has(Column(porch_tray_get_folder_view(tray_), 1), "big.iso");
                    },
                    30))
                    << host;
        }
    }

    // Types pattern in the search box; waits for every neighbour's answer.
    bool Search(const char *pattern)
    {
        porch_tray_search(tray_, pattern);
        return IterateUntil(
                [&] {
                    PorchTraySearch *s = porch_tray_get_search(tray_);
                    return s && !porch_tray_search_is_running(s);
                },
                30);
    }

    // The results as "NAME|HOST|SHARE|FOLDER|SIZE" rows.
    std::vector<std::string> Results()
    {
        std::vector<std::string> rows;
        GtkTreeModel *m =
                gtk_tree_view_get_model(porch_tray_search_get_view(porch_tray_get_search(tray_)));
        GtkTreeIter iter;
        for (gboolean ok = gtk_tree_model_get_iter_first(m, &iter); ok;
             ok = gtk_tree_model_iter_next(m, &iter)) {
            g_autofree char *name = nullptr, *host = nullptr, *share = nullptr, *folder = nullptr,
                            *size = nullptr;
            gtk_tree_model_get(m, &iter, PORCH_TRAY_SCOL_NAME, &name, PORCH_TRAY_SCOL_HOST, &host,
                               PORCH_TRAY_SCOL_SHARE, &share, PORCH_TRAY_SCOL_FOLDER, &folder,
                               PORCH_TRAY_SCOL_SIZE_TEXT, &size, -1);
            rows.push_back(std::string(name) + "|" + host + "|" + share + "|" + folder + "|" +
                           size);
        }
        return rows;
    }

    // Selects the result NAME of HOST (a display name); false when there is none.
    bool SelectResult(const std::string &name, const std::string &host)
    {
        GtkTreeView *view = porch_tray_search_get_view(porch_tray_get_search(tray_));
        GtkTreeModel *m = gtk_tree_view_get_model(view);
        GtkTreeIter iter;
        gtk_tree_selection_unselect_all(gtk_tree_view_get_selection(view));
        for (gboolean ok = gtk_tree_model_get_iter_first(m, &iter); ok;
             ok = gtk_tree_model_iter_next(m, &iter)) {
            g_autofree char *n = nullptr, *h = nullptr;
            gtk_tree_model_get(m, &iter, PORCH_TRAY_SCOL_NAME, &n, PORCH_TRAY_SCOL_HOST, &h, -1);
            if (name == n && host == h) {
                gtk_tree_selection_select_iter(gtk_tree_view_get_selection(view), &iter);
                return true;
            }
        }
        return false;
    }

    void Screenshot(const std::string &file)
    {
        Spin(0.5);
        GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(window_));
        ASSERT_NE(gw, nullptr);
        g_autoptr(GdkPixbuf) shot = gdk_pixbuf_get_from_window(gw, 0, 0, gdk_window_get_width(gw),
                                                               gdk_window_get_height(gw));
        ASSERT_NE(shot, nullptr);
        std::string dir = PORCH_ARTIFACTS_DIR;
        fs::create_directories(dir);
        std::string png = dir + "/" + file;
        g_autoptr(GError) error = nullptr;
        EXPECT_TRUE(gdk_pixbuf_save(shot, png.c_str(), "png", &error, nullptr))
                << (error ? error->message : "");
        printf("screenshot: %s\n", png.c_str());
    }

    void TearDown() override
    {
        TrayDesktopFixture::TearDown();
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log on host 3 ----\n%s\n",
                    ReadFile(lan_->host_dir(3) + "/porchd.log").c_str());
    }

    inline static std::string big_sha_;
    inline static pid_t carol_ = -1;
};

bool
HasPrefix(const std::vector<std::string> &rows, const std::string &prefix)
{
    return std::any_of(rows.begin(), rows.end(),
                       [&](const std::string &r) { return r.rfind(prefix, 0) == 0; });
}

TEST_F(TraySearchTest, TypingListsMatchesOfBothHostsNeverAnUnreadableShare)
{
    ASSERT_TRUE(WaitForBoth()) << "the two porchd never reached the neighbour model";
    // No key pinned yet: nobody is contacted, nobody is asked to trust a key.
    g_autofree char *known =
            g_build_filename(g_get_user_config_dir(), "porch", "known_peers", nullptr);
    g_remove(known);
    ASSERT_TRUE(Search("report"));
    EXPECT_TRUE(Results().empty());
    EXPECT_EQ(trust_.asked, 0);
    EXPECT_NE(std::string(porch_tray_search_get_status(porch_tray_get_search(tray_)))
                      .find("could not be asked"),
              std::string::npos)
            << porch_tray_search_get_status(porch_tray_get_search(tray_));
    porch_tray_search(tray_, "");

    PinBoth();
    // Typing: nothing is asked before the pause after the last key.
    porch_tray_search(tray_, "rep");
    Spin(0.05);
    porch_tray_search(tray_, "report");
    EXPECT_TRUE(porch_tray_search_is_running(porch_tray_get_search(tray_)));
    EXPECT_TRUE(Results().empty());
    ASSERT_TRUE(Search("report"));
    std::vector<std::string> rows = Results();
    std::string all;
    for (const std::string &r : rows)
        all += r + "\n";
    EXPECT_EQ(rows.size(), 2u) << all;
    EXPECT_TRUE(HasPrefix(rows, "report-alice.txt|Alice's laptop|Public||")) << all;
    EXPECT_TRUE(HasPrefix(rows, "report-carol.txt|Carol's desktop|Media||")) << all;
    EXPECT_EQ(all.find("Private"), std::string::npos) << all;
    EXPECT_EQ(all.find("report-private"), std::string::npos) << all;
    EXPECT_STREQ(porch_tray_search_get_status(porch_tray_get_search(tray_)),
                 "2 files found on 2 neighbours");
    // The sidebar keeps the neighbours that hold what was found.
    std::vector<std::string> listed =
            Column(porch_tray_get_neighbour_view(tray_), PORCH_TRAY_NCOL_NAME);
    EXPECT_TRUE(Has(listed, kDisplayName) && Has(listed, kCarol));
    // The results page is what the window shows.
    GtkWidget *view = GTK_WIDGET(porch_tray_search_get_view(porch_tray_get_search(tray_)));
    EXPECT_TRUE(IterateUntil([&] { return gtk_widget_get_mapped(view); }, 5));
    ASSERT_TRUE(Search("*.iso"));
    rows = Results();
    EXPECT_EQ(rows.size(), 2u);
    ASSERT_TRUE(SelectResult("big.iso", kCarol));
    Screenshot("porch-tray-search.png");

    // A glob of nothing, then the box emptied: the neighbours' page is back.
    ASSERT_TRUE(Search("zzz*"));
    EXPECT_TRUE(Results().empty());
    EXPECT_STREQ(porch_tray_search_get_status(porch_tray_get_search(tray_)),
                 "Nothing found on 2 neighbours");
    porch_tray_search(tray_, "");
    EXPECT_TRUE(IterateUntil([&] { return !gtk_widget_get_mapped(view); }, 5));
}

TEST_F(TraySearchTest, FetchingAResultLandsVerified)
{
    ASSERT_TRUE(WaitForBoth());
    PinBoth();
    ASSERT_TRUE(Search("report-carol"));
    ASSERT_TRUE(SelectResult("report-carol.txt", kCarol));
    guint id = porch_tray_search_download_selected(porch_tray_get_search(tray_));
    ASSERT_GT(id, 0u);
    PorchTrayTransferState state = PORCH_TRAY_TRANSFER_RUNNING;
    ASSERT_TRUE(IterateUntil(
            [&] {
                return porch_tray_transfer_get(tray_, id, &state, nullptr, nullptr, nullptr) &&
                       state != PORCH_TRAY_TRANSFER_RUNNING;
            },
            60));
    g_autofree char *status = nullptr;
    porch_tray_transfer_get(tray_, id, nullptr, nullptr, &status, nullptr);
    ASSERT_EQ(state, PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_EQ(ReadFile(downloads_ + "/report-carol.txt"), "Carol's report\n");
    EXPECT_FALSE(Exists(downloads_ + "/report-carol.txt.part"));
}

// Finds the header bar's button named `name` for assistive tools.
GtkWidget *
FindNamed(GtkWidget *w, const char *name)
{
    if (g_strcmp0(atk_object_get_name(gtk_widget_get_accessible(w)), name) == 0)
        return w;
    GtkWidget *found = nullptr;
    if (GTK_IS_CONTAINER(w)) {
        g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(w));
        for (GList *l = children; l && !found; l = l->next)
            found = FindNamed(GTK_WIDGET(l->data), name);
    }
    return found;
}

TEST_F(TraySearchTest, LargeFileOnTwoHostsComesFromTwoSources)
{
    ASSERT_TRUE(WaitForBoth());
    PinBoth();
    ASSERT_TRUE(Search("big.iso"));
    ASSERT_TRUE(SelectResult("big.iso", kDisplayName));
    GtkWidget *transfers = FindNamed(gtk_window_get_titlebar(window_), "Transfers");
    ASSERT_NE(transfers, nullptr);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(transfers), TRUE);
    g_remove((downloads_ + "/big.iso").c_str());
    guint id = porch_tray_search_download_selected(porch_tray_get_search(tray_));
    ASSERT_GT(id, 0u);
    PorchTrayTransferState state = PORCH_TRAY_TRANSFER_RUNNING;
    bool progress_said = false;
    ASSERT_TRUE(IterateUntil(
            [&] {
                g_autofree char *s = nullptr;
                if (!porch_tray_transfer_get(tray_, id, &state, nullptr, &s, nullptr))
                    return false;
                if (s && strstr(s, " from 2 sources"))
                    progress_said = true;
                return state != PORCH_TRAY_TRANSFER_RUNNING;
            },
            120));
    g_autofree char *status = nullptr;
    porch_tray_transfer_get(tray_, id, nullptr, nullptr, &status, nullptr);
    ASSERT_EQ(state, PORCH_TRAY_TRANSFER_DONE) << status;
    EXPECT_NE(strstr(status, "Done from 2 sources: "), nullptr) << status;
    EXPECT_EQ(Sha256File(downloads_ + "/big.iso"), big_sha_);
    EXPECT_FALSE(Exists(downloads_ + "/big.iso.part"));
    if (!progress_said)
        printf("the progress of a fetch this fast was not seen before its end\n");
    Screenshot("porch-tray-multisource.png");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(transfers), FALSE);
    Spin(0.2);
}

} // namespace
