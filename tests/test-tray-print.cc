// test-tray-print.cc — printing from porch-tray (gui/tray-print.c), driven in this process on a
// three-host test LAN through the functions the window's buttons and the menu items call:
//
//   host 1  porchd sharing the printer Office (its own cupsd, a file-backed queue), printable by
//           the tray user's key "me" and by host 2's machine key (the porch backend's)
//   host 2  this process (tray-fixture.h's desktop user: its main thread and GDBus's worker
//           join host 2's network namespace; GTK on an Xvfb display), with a cupsd of its own
//           where "Add to this computer" makes queues (CUPS_SERVER), Porch's backend there
//   host 3  no porchd: an IPP Everywhere printer (ippeveprinter, registered with host 3's
//           avahi-daemon through host 3's D-Bus), a device nearby
//
//   PrintAFileLandsInHostOnesQueue       "Print a file…": a job of me@porch on host 1, the
//                                        document in the queue's output file; with a key that
//                                        may not print, a failure dialog that says so
//   AddToThisComputerThenLpPrints        "Add to this computer" for Office: the queue on host
//                                        2's cupsd (porch://Alice's%20laptop/Office), and lp
//                                        on host 2 prints onto host 1's queue; lpadmin's own
//                                        words in a dialog when CUPS is not there
//   IppPrinterNearbyIsAddedDriverless    ippeveprinter on host 3 listed among the nearby
//                                        devices, "Add to this computer" makes a driverless
//                                        queue (lpadmin -m everywhere asks the printer over
//                                        IPP), lp prints into ippeveprinter's spool folder
//   TrayPrintMenuTest.TheIconsMenuAddsBothPrinters
//                                        the same through the tray icon's menu (a private
//                                        session bus with the real status-notifier-watcher
//                                        and gtk-sni-tray-standalone host): Office's
//                                        submenu under the neighbour, "Add Porch Test IPP to
//                                        this computer" under the device; their activation
//                                        makes the same queues as the window's buttons
#include "tray-fixture.h"

namespace
{

using namespace porch::test::tray;
using porch::test::Contains;
using porch::test::MakeKey;
using porch::test::RunResult;

constexpr const char *kDevice = "porchtl3.local";
constexpr const char *kIppName = "Porch Test IPP";
constexpr int kIppPort = 8631;

// A document as a printer receives it: PDF (porch.ppd, everywhere) or PostScript.
::testing::AssertionResult
IsPrinted(const std::string &path)
{
    std::string head = ReadFile(path).substr(0, 5);
    if (head == "%PDF-" || head.rfind("%!PS", 0) == 0)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << path << " does not start with %PDF- or %!PS: \"" << head << "\"";
}

// The visible dialog titled `title`: its primary and secondary text, "" when there is none.
std::string
DialogText(const char *title)
{
    std::string text;
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l; l = l->next)
        if (GTK_IS_MESSAGE_DIALOG(l->data) &&
            g_strcmp0(gtk_window_get_title(GTK_WINDOW(l->data)), title) == 0 &&
            gtk_widget_get_visible(GTK_WIDGET(l->data))) {
            g_autofree char *primary = nullptr, *secondary = nullptr;
            g_object_get(l->data, "text", &primary, "secondary-text", &secondary, nullptr);
            text = std::string(primary ? primary : "") + "\n" + (secondary ? secondary : "");
        }
    g_list_free(tops);
    return text;
}

// The widget of type `type` below `w` whose accessible name is `name`, or nullptr.
GtkWidget *
FindWidget(GtkWidget *w, GType type, const char *name)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(w, type) &&
        g_strcmp0(atk_object_get_name(gtk_widget_get_accessible(w)), name) == 0)
        return w;
    GtkWidget *found = nullptr;
    if (GTK_IS_CONTAINER(w)) {
        GList *kids = gtk_container_get_children(GTK_CONTAINER(w));
        for (GList *l = kids; l && !found; l = l->next)
            found = FindWidget(GTK_WIDGET(l->data), type, name);
        g_list_free(kids);
    }
    return found;
}

void
CloseDialogs()
{
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l; l = l->next)
        if (GTK_IS_MESSAGE_DIALOG(l->data))
            gtk_dialog_response(GTK_DIALOG(l->data), GTK_RESPONSE_CLOSE);
    g_list_free(tops);
}

class TrayPrintTest : public TrayDesktopFixture
{
  protected:
    TrayPrintTest()
    {
        app_id_ = "org.porch.TrayPrintTest";
    }

    static void SetUpTestSuite()
    {
        may_skip_ = !TestLan::must_run();
        if (geteuid() != 0) {
            why_not_ = "needs root (network namespaces, cupsd)";
            return;
        }
        std::string missing = TestLan::missing_tools(
                {"Xvfb", "cupsd", "lpadmin", "lpstat", "lp", "ssh-keygen", "avahi-browse"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing + " (Debian: xvfb cups openssh-client)";
            return;
        }
        lan_ = TestLan::Create(3, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        may_skip_ = false;
        std::string backend = PORCH_PROGRAM_PORCH_BACKEND;
        std::error_code ec;
        std::string ppd =
                fs::weakly_canonical(
                        fs::path(PORCH_TEST_DATA) / ".." / ".." / "packaging" / "porch.ppd", ec)
                        .string();
        if (access(backend.c_str(), X_OK) != 0 || access(kPorchd, X_OK) != 0 ||
            access(ppd.c_str(), R_OK) != 0) {
            why_not_ = "porchd, porch-backend or packaging/porch.ppd missing";
            return;
        }
        std::string h1 = lan_->host_dir(1), h2 = lan_->host_dir(2);
        out_ = h1 + "/out/office.out";
        keys_ = h2 + "/keys";
        std::string state2 = h2 + "/porch-state";
        fs::create_directories(h1 + "/out");
        fs::create_directories(keys_);
        fs::create_directories(state2);
        chmod(state2.c_str(), 0700);
        std::string me = MakeKey(keys_ + "/me", "me@host2");
        std::string carol = MakeKey(keys_ + "/carol", "carol@host2");
        std::string host2 = MakeKey(state2 + "/ssh_host_ed25519_key", "root@porchtl2");
        if (me.empty() || carol.empty() || host2.empty()) {
            why_not_ = "ssh-keygen failed";
            return;
        }

        // Host 1's cupsd with the file queue Office; host 2's with Porch's backend.
        if (lan_->start_cupsd(1, &why_not_).empty())
            return;
        TestLan::CupsdOptions o2;
        o2.porch_backend = backend;
        o2.porch_state_dir = state2;
        if (lan_->start_cupsd(2, &why_not_, o2).empty())
            return;
        RunResult r = lan_->run_cups(
                1, {"lpadmin", "-p", "Office", "-E", "-v", "file://" + out_, "-P", ppd}, 30);
        if (!r.ok()) {
            why_not_ = "lpadmin on host 1: " + r.describe();
            return;
        }

        std::string conf = "[porch]\nname = " + std::string(kDisplayName) +
                           "\nlisten = " + lan_->address(1) + "\n\n[peer me]\nkey = " + me +
                           "\n\n[peer carol]\nkey = " + carol + "\n\n[peer host2]\nkey = " + host2 +
                           "\n\n[printer Office]\nprint = me;host2\n";
        if (!StartPorchd(conf, {"CUPS_SERVER=" + lan_->cups_server(1)}) || !BecomeDesktopUser(2))
            return;

        // The user of host 2, whose CUPS is host 2's cupsd.
        doc_ = home_ + "/letter.txt";
        if (!WriteFile(doc_, "Dear neighbour,\nprinted from porch-tray.\n")) {
            why_not_ = "cannot write the document";
            return;
        }
        g_setenv("CUPS_SERVER", lan_->cups_server(2).c_str(), TRUE);
        g_setenv("PORCH_PPD", ppd.c_str(), TRUE);
        ready_ = true;
    }

    // The tray's identity is the user's key "me" (a test may change it).
    void BeforeStart() override
    {
        porch_tray_set_files(tray_, (keys_ + "/me").c_str(), (home_ + "/known_peers").c_str());
    }

    void TearDown() override
    {
        TrayDesktopFixture::TearDown();
        if (HasFailure() && lan_)
            for (int host : {1, 2})
                fprintf(stderr, "---- host %d's jobs ----\n%s\n", host,
                        lan_->run_cups(host, {"lpstat", "-W", "all", "-o"}).out.c_str());
    }

    // Waits until porchd on host 1 is in the model with the printer Office and an address.
    bool WaitForAlice()
    {
        return IterateUntil(
                [&] {
                    g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray_, kHost);
                    guint printers = 0;
                    const PorchNeighbourPrinter *p =
                            n ? porch_neighbour_get_printers(n, &printers) : nullptr;
                    return n && porch_neighbour_is_porch(n) && printers == 1 &&
                           strcmp(p[0].name, "Office") == 0 &&
                           porch_neighbour_get_ipv4_addresses(n)[0];
                },
                20);
    }

    // Waits for operation `id` to end; its state, and its message in *message.
    PorchTrayPrintState WaitForOp(guint id, double seconds, std::string *message,
                                  std::string *queue = nullptr)
    {
        PorchTrayPrintState state = PORCH_TRAY_PRINT_RUNNING;
        IterateUntil(
                [&] {
                    return porch_tray_print_get(tray_, id, &state, nullptr, nullptr) &&
                           state != PORCH_TRAY_PRINT_RUNNING;
                },
                seconds);
        g_autofree char *m = nullptr, *q = nullptr;
        porch_tray_print_get(tray_, id, nullptr, &m, &q);
        *message = m ? m : "";
        if (queue)
            *queue = q ? q : "";
        return state;
    }

    // The lines of `lpstat -W all -o QUEUE` on host `host` that name `user`.
    static int JobsOf(int host, const std::string &queue, const std::string &user)
    {
        RunResult r = lan_->run_cups(host, {"lpstat", "-W", "all", "-o", queue});
        int n = 0;
        for (size_t at = 0; (at = r.out.find(" " + user + " ", at)) != std::string::npos; at++)
            n++;
        return n;
    }

    // Whether the local job QUEUE-N on host `host` completed within `seconds`.
    static bool JobCompleted(int host, const std::string &queue, const std::string &job,
                             double seconds)
    {
        return WaitFor(
                [&] {
                    RunResult r = lan_->run_cups(host, {"lpstat", "-W", "completed", "-o", queue});
                    return Contains(r.out, job + " ");
                },
                seconds);
    }

    inline static std::string out_, keys_, doc_;
};

TEST_F(TrayPrintTest, PrintAFileLandsInHostOnesQueue)
{
    ASSERT_TRUE(WaitForAlice()) << "porchd on host 1 and its printer never reached the model";
    // The window lists the printer once the neighbour is selected.
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kHost));
    GtkWidget *found = FindWidget(GTK_WIDGET(window_), GTK_TYPE_TREE_VIEW, "Printers");
    ASSERT_NE(found, nullptr) << "no list named Printers in the window";
    EXPECT_TRUE(IterateUntil([&] { return Has(Column(GTK_TREE_VIEW(found), 0), "Office"); }, 5));

    unlink(out_.c_str());
    int before = JobsOf(1, "Office", "me@porch");
    guint id = porch_tray_print_file(tray_, kHost, "Office", doc_.c_str());
    ASSERT_GT(id, 0u);
    std::string message;
    ASSERT_EQ(WaitForOp(id, 60, &message), PORCH_TRAY_PRINT_DONE) << message;
    EXPECT_TRUE(Contains(message, "on Office")) << message;
    int job = atoi(message.c_str() + (message.rfind("job ", 0) == 0 ? 4 : 0));
    EXPECT_GT(job, 0) << message;
    EXPECT_TRUE(JobCompleted(1, "Office", "Office-" + std::to_string(job), 30))
            << lan_->run_cups(1, {"lpstat", "-W", "all", "-o"}).out;
    EXPECT_EQ(JobsOf(1, "Office", "me@porch"), before + 1);
    EXPECT_TRUE(WaitFor([&] { return IsPrinted(out_); }, 10)) << IsPrinted(out_).message();
    EXPECT_EQ(DialogText("Porch — printing failed"), "");

    // Carol's key is a peer of host 1 without the print right: refused, and the user is told.
    porch_tray_set_files(tray_, (keys_ + "/carol").c_str(), (home_ + "/known_peers").c_str());
    int all_before = JobsOf(1, "Office", "carol@porch");
    id = porch_tray_print_file(tray_, kHost, "Office", doc_.c_str());
    ASSERT_EQ(WaitForOp(id, 60, &message), PORCH_TRAY_PRINT_FAILED) << message;
    EXPECT_TRUE(Contains(message, "not allowed")) << message;
    std::string shown;
    EXPECT_TRUE(IterateUntil(
            [&] { return !(shown = DialogText("Porch — printing failed")).empty(); }, 5));
    EXPECT_TRUE(Contains(shown, "Could not print letter.txt on Office")) << shown;
    EXPECT_TRUE(Contains(shown, "not allowed")) << shown;
    EXPECT_TRUE(Contains(shown, "print right")) << shown;
    EXPECT_EQ(JobsOf(1, "Office", "carol@porch"), all_before) << "no job reached CUPS";
    CloseDialogs();

    // A file that cannot be read fails before any connection.
    id = porch_tray_print_file(tray_, kHost, "Office", (home_ + "/no-such.pdf").c_str());
    ASSERT_EQ(WaitForOp(id, 10, &message), PORCH_TRAY_PRINT_FAILED) << message;
    EXPECT_TRUE(Contains(message, "no-such.pdf")) << message;
    // Not a Porch neighbour: nothing starts.
    EXPECT_EQ(porch_tray_print_file(tray_, "nobody.local", "Office", doc_.c_str()), 0u);
}

TEST_F(TrayPrintTest, AddToThisComputerThenLpPrints)
{
    ASSERT_TRUE(WaitForAlice()) << "porchd on host 1 and its printer never reached the model";
    guint id = porch_tray_add_porch_printer(tray_, kHost, "Office");
    ASSERT_GT(id, 0u);
    std::string message, queue;
    ASSERT_EQ(WaitForOp(id, 60, &message, &queue), PORCH_TRAY_PRINT_DONE) << message;
    EXPECT_EQ(queue, "Office@Alice_s_laptop") << "named as porch printer add names it";
    EXPECT_TRUE(Contains(message, "porch id --identity")) << "what the neighbour's owner does\n"
                                                          << message;
    RunResult r = lan_->run_cups(2, {"lpstat", "-v", queue});
    EXPECT_TRUE(Contains(r.out, "porch://Alice's%20laptop/Office")) << r.describe() << r.out;
    r = lan_->run_cups(2, {"lpstat", "-l", "-p", queue});
    EXPECT_TRUE(Contains(r.out, "enabled")) << r.out;
    EXPECT_TRUE(Contains(r.out, std::string("Description: Office on ") + kDisplayName)) << r.out;

    // An application on host 2 prints to it: host 2's cupsd -> backend -> porchd -> host 1.
    unlink(out_.c_str());
    int before = JobsOf(1, "Office", "host2@porch");
    r = lan_->run_cups(2, {"lp", "-d", queue, "-t", "from the tray's queue", doc_});
    ASSERT_TRUE(r.ok()) << r.describe();
    size_t dash = r.out.find(queue + "-");
    ASSERT_NE(dash, std::string::npos) << r.out;
    std::string local = queue + "-" + std::to_string(atoi(r.out.c_str() + dash + queue.size() + 1));
    EXPECT_TRUE(JobCompleted(2, queue, local, 60))
            << lan_->run_cups(2, {"lpstat", "-W", "all", "-o"}).out;
    EXPECT_TRUE(WaitFor([&] { return JobsOf(1, "Office", "host2@porch") == before + 1; }, 20))
            << lan_->run_cups(1, {"lpstat", "-W", "all", "-o"}).out;
    EXPECT_TRUE(WaitFor([&] { return IsPrinted(out_); }, 20)) << IsPrinted(out_).message();

    // CUPS not there: lpadmin's own words, in a dialog.
    std::string server = g_getenv("CUPS_SERVER");
    g_setenv("CUPS_SERVER", (lan_->host_dir(2) + "/no-cups.sock").c_str(), TRUE);
    id = porch_tray_add_porch_printer(tray_, kHost, "Office");
    g_setenv("CUPS_SERVER", server.c_str(), TRUE);
    ASSERT_EQ(WaitForOp(id, 60, &message), PORCH_TRAY_PRINT_FAILED) << message;
    EXPECT_TRUE(Contains(message, "lpadmin")) << "lpadmin's stderr: " << message;
    std::string shown;
    EXPECT_TRUE(IterateUntil(
            [&] { return !(shown = DialogText("Porch — adding the printer failed")).empty(); }, 5));
    EXPECT_TRUE(Contains(shown, "Could not add the printer Office on Alice's laptop")) << shown;
    EXPECT_TRUE(Contains(shown, message)) << shown;
    CloseDialogs();
}

TEST_F(TrayPrintTest, IppPrinterNearbyIsAddedDriverless)
{
    std::string missing = TestLan::missing_tools({"ippeveprinter"});
    if (!missing.empty()) {
        if (TestLan::must_run())
            GTEST_FAIL() << "missing tools (CI is set): " << missing;
        GTEST_SKIP() << "missing tools: " << missing << " (Debian: cups-ipp-utils)";
    }
    // An IPP Everywhere printer on host 3: registered with host 3's avahi-daemon (the harness
    // gives it host 3's D-Bus), listening in host 3's network namespace only (on every address
    // there: with -n ADDRESS it binds that address and then fails to make its IPv6 listener).
    std::string spool = lan_->host_dir(3) + "/ipp-spool";
    fs::create_directories(spool);
    pid_t ipp = lan_->spawn(3, {"ippeveprinter", "-p", std::to_string(kIppPort), "-d", spool, "-k",
                                "-f", "application/pdf,image/pwg-raster,image/jpeg", kIppName});
    ASSERT_GT(ipp, 0);

    // It is a device nearby, not a Porch neighbour.
    const PorchNeighbourService *svc = nullptr;
    g_autoptr(PorchNeighbour) dev = nullptr;
    ASSERT_TRUE(IterateUntil(
            [&] {
                g_clear_pointer(&dev, porch_neighbour_unref);
                dev = porch_tray_find_neighbour(tray_, kDevice);
                guint count = 0;
                const PorchNeighbourService *s =
                        dev ? porch_neighbour_get_services(dev, &count) : nullptr;
                for (guint i = 0; i < count; i++)
                    if (strcmp(s[i].type, "_ipp._tcp") == 0 && strcmp(s[i].name, kIppName) == 0)
                        svc = &s[i];
                return svc && porch_neighbour_get_ipv4_addresses(dev)[0];
            },
            30))
            << "ippeveprinter on host 3 never reached the model; its log:\n"
            << ReadFile(lan_->spawn_log(ipp));
    EXPECT_FALSE(porch_neighbour_is_porch(dev));
    EXPECT_TRUE(IterateUntil(
            [&] {
                return Has(Column(porch_tray_get_device_view(tray_), PORCH_TRAY_NCOL_HOST),
                           kDevice);
            },
            5))
            << "not in the window's nearby devices";
    // Selected in the window, its services list it; "Add to this computer" there is active
    // only while an IPP printer is selected.
    ASSERT_TRUE(porch_tray_select_neighbour(tray_, kDevice));
    GtkTreeView *services =
            GTK_TREE_VIEW(FindWidget(GTK_WIDGET(window_), GTK_TYPE_TREE_VIEW, "Services"));
    GtkWidget *add = FindWidget(GTK_WIDGET(window_), GTK_TYPE_BUTTON,
                                "Add the selected printer to this computer");
    ASSERT_NE(services, nullptr);
    ASSERT_NE(add, nullptr);
    EXPECT_TRUE(IterateUntil([&] { return Has(Column(services, 0), kIppName); }, 5));
    EXPECT_FALSE(gtk_widget_get_sensitive(add)) << "nothing selected yet";
    GtkTreeModel *model = gtk_tree_view_get_model(services);
    GtkTreeIter iter;
    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autofree char *type = nullptr;
        gtk_tree_model_get(model, &iter, 1, &type, -1);
        if (g_strcmp0(type, "_ipp._tcp") == 0)
            gtk_tree_selection_select_iter(gtk_tree_view_get_selection(services), &iter);
    }
    EXPECT_TRUE(gtk_widget_get_sensitive(add)) << "an IPP printer is selected";
    g_autofree char *uri = porch_tray_ipp_device_uri(dev, svc);
    EXPECT_STREQ(
            uri,
            ("ipp://" + lan_->address(3) + ":" + std::to_string(kIppPort) + "/ipp/print").c_str());

    guint id = porch_tray_add_ipp_printer(tray_, kDevice, kIppName);
    ASSERT_GT(id, 0u);
    std::string message, queue;
    ASSERT_EQ(WaitForOp(id, 90, &message, &queue), PORCH_TRAY_PRINT_DONE)
            << message << "\nippeveprinter's log:\n"
            << ReadFile(lan_->spawn_log(ipp));
    EXPECT_EQ(queue, "Porch_Test_IPP");
    RunResult r = lan_->run_cups(2, {"lpstat", "-v", queue});
    EXPECT_TRUE(Contains(r.out, uri)) << r.describe() << r.out;
    r = lan_->run_cups(2, {"lpstat", "-l", "-p", queue});
    EXPECT_TRUE(Contains(r.out, "enabled")) << r.out;

    // lp on host 2 prints onto it: the document lands in ippeveprinter's spool folder.
    r = lan_->run_cups(2, {"lp", "-d", queue, "-t", "driverless", doc_});
    ASSERT_TRUE(r.ok()) << r.describe();
    size_t dash = r.out.find(queue + "-");
    ASSERT_NE(dash, std::string::npos) << r.out;
    std::string local = queue + "-" + std::to_string(atoi(r.out.c_str() + dash + queue.size() + 1));
    EXPECT_TRUE(JobCompleted(2, queue, local, 90))
            << lan_->run_cups(2, {"lpstat", "-W", "all", "-o"}).out << "\nippeveprinter's log:\n"
            << ReadFile(lan_->spawn_log(ipp));
    std::string printed;
    EXPECT_TRUE(WaitFor(
            [&] {
                std::error_code ec;
                for (const auto &e : fs::recursive_directory_iterator(spool, ec))
                    if (e.is_regular_file() && e.file_size() > 0)
                        printed = e.path().string();
                return !printed.empty();
            },
            30))
            << "nothing in " << spool << "; ippeveprinter's log:\n"
            << ReadFile(lan_->spawn_log(ipp));
    std::string head = ReadFile(printed).substr(0, 5);
    EXPECT_TRUE(head == "%PDF-" || head.rfind("RaS2", 0) == 0)
            << printed << " is neither PDF nor PWG raster: \"" << head << "\"";
    lan_->stop(ipp);

    // Not an IPP service of that device: nothing starts.
    EXPECT_EQ(porch_tray_add_ipp_printer(tray_, kDevice, "No such printer"), 0u);
}

// ---- the tray icon's menu ----------------------------------------------------------------
// The same fixture plus a private session bus with a notification server (tray-fixture.h's
// Session), on which the real status-notifier-watcher and gtk-sni-tray-standalone host run
// (Watcher); no window: the icon is the way in.
class TrayPrintMenuTest : public TrayPrintTest
{
  protected:
    TrayPrintMenuTest()
    {
        app_id_ = "org.porch.TrayPrintMenuTest";
        show_window_ = false;
    }

    static void SetUpTestSuite()
    {
        TrayPrintTest::SetUpTestSuite();
        if (!ready_)
            return;
        ready_ = false;
        std::string missing =
                TestLan::missing_tools({"dbus-daemon", "dunst", "dunstctl", "ippeveprinter"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing + " (Debian: dbus-daemon dunst cups-ipp-utils)";
            return;
        }
        // before SetUp() registers the application: it is then on this bus
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

    static void OnPresented(PorchTray *, gboolean shown, gpointer data)
    {
        *static_cast<int *>(data) = shown ? 1 : 0;
    }

    // The submenu of the item labelled label in menu, or nullptr.
    static GtkMenu *Submenu(GtkMenu *menu, const std::string &label)
    {
        GtkMenuItem *item = menu ? MenuItem(menu, label) : nullptr;
        GtkWidget *sub = item ? gtk_menu_item_get_submenu(item) : nullptr;
        return sub ? GTK_MENU(sub) : nullptr;
    }

    // The id the next print operation gets: the first that porch_tray_print_get() does not
    // know (operations are kept, numbered from 1, for the tray's life).
    guint NextOpId()
    {
        guint id = 1;
        while (porch_tray_print_get(tray_, id, nullptr, nullptr, nullptr))
            id++;
        return id;
    }

    // Activates `item` as a click in the tray host's menu does; the operation it started, 0
    // when it started none.
    guint Activate(GtkMenuItem *item)
    {
        guint id = NextOpId();
        gtk_menu_item_activate(item);
        return porch_tray_print_get(tray_, id, nullptr, nullptr, nullptr) ? id : 0;
    }

    // The *NickName line of a PPD file, "" without one.
    static std::string NickName(const std::string &ppd)
    {
        std::string text = ReadFile(ppd);
        size_t at = text.find("*NickName:");
        return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
    }

    // The PPD file host `host`'s cupsd keeps for `queue`.
    static std::string QueuePpd(int host, const std::string &queue)
    {
        return lan_->cups_dir(host) + "/etc/ppd/" + queue + ".ppd";
    }

    inline static Session *session_ = nullptr;
};

TEST_F(TrayPrintMenuTest, TheIconsMenuAddsBothPrinters)
{
    // The IPP Everywhere printer on host 3, as in IppPrinterNearbyIsAddedDriverless.
    std::string spool = lan_->host_dir(3) + "/ipp-spool";
    fs::create_directories(spool);
    pid_t ipp = lan_->spawn(3, {"ippeveprinter", "-p", std::to_string(kIppPort), "-d", spool, "-k",
                                "-f", "application/pdf,image/pwg-raster,image/jpeg", kIppName});
    ASSERT_GT(ipp, 0);

    // The icon goes up: a watcher and a tray host are there.
    Watcher watcher;
    std::string why_not;
    ASSERT_TRUE(watcher.Start(*session_, &why_not)) << why_not;
    int shown = -1;
    porch_tray_present(tray_, FALSE, OnPresented, &shown);
    ASSERT_TRUE(IterateUntil([&] { return shown >= 0; }, 10));
    ASSERT_EQ(shown, 1) << "the icon did not go up";
    EXPECT_EQ(porch_tray_get_window(tray_), nullptr) << "the icon is the way in: no window";
    ASSERT_TRUE(WaitForAlice()) << "porchd on host 1 and its printer never reached the model";

    // The neighbour's submenu has "Printer Office", whose submenu has both actions; the
    // device's has its IPP printer's "Add … to this computer". The menu is rebuilt when the
    // model changes: every look (and activation) starts from porch_tray_icon_get_menu().
    g_autoptr(PorchNeighbour) dev = nullptr;
    const std::string add_ipp = std::string("Add ") + kIppName + " to this computer";
    auto office = [&] {
        return Submenu(Submenu(porch_tray_icon_get_menu(porch_tray_get_icon(tray_)), kDisplayName),
                       "Printer Office");
    };
    auto device = [&]() -> GtkMenu * {
        g_clear_pointer(&dev, porch_neighbour_unref);
        dev = porch_tray_find_neighbour(tray_, kDevice);
        return dev ? Submenu(porch_tray_icon_get_menu(porch_tray_get_icon(tray_)),
                             porch_neighbour_get_name(dev))
                   : nullptr;
    };
    ASSERT_TRUE(IterateUntil([&] { return office() != nullptr; }, 10))
            << "no Printer Office in the neighbour's submenu; the menu: "
            << testing::PrintToString(
                       MenuLabels(porch_tray_icon_get_menu(porch_tray_get_icon(tray_))));
    std::vector<std::string> labels = MenuLabels(office());
    EXPECT_EQ(labels, (std::vector<std::string>{"Print a file…", "Add to this computer"}));
    ASSERT_TRUE(IterateUntil(
            [&] {
                GtkMenu *m = device();
                return m && Has(MenuLabels(m), add_ipp) &&
                       porch_neighbour_get_ipv4_addresses(dev)[0];
            },
            30))
            << "ippeveprinter on host 3 never reached the icon's menu; its log:\n"
            << ReadFile(lan_->spawn_log(ipp));
    labels = MenuLabels(device());
    EXPECT_EQ(std::count(labels.begin(), labels.end(), add_ipp), 1)
            << "one entry per printer, not one per IPP service type: "
            << testing::PrintToString(labels);
    EXPECT_FALSE(Has(
            MenuLabels(Submenu(porch_tray_icon_get_menu(porch_tray_get_icon(tray_)), kDisplayName)),
            add_ipp));

    // "Add to this computer" of Office: the queue AddToThisComputerThenLpPrints checks.
    GtkMenuItem *add = MenuItem(office(), "Add to this computer");
    ASSERT_NE(add, nullptr);
    ASSERT_TRUE(gtk_widget_is_sensitive(GTK_WIDGET(add)));
    guint id = Activate(add);
    ASSERT_GT(id, 0u) << "the menu item started nothing";
    std::string message, queue;
    ASSERT_EQ(WaitForOp(id, 30, &message, &queue), PORCH_TRAY_PRINT_DONE) << message;
    EXPECT_EQ(queue, "Office@Alice_s_laptop");
    RunResult r = lan_->run_cups(2, {"lpstat", "-v", queue});
    EXPECT_TRUE(Contains(r.out, "porch://Alice's%20laptop/Office")) << r.describe() << r.out;
    r = lan_->run_cups(2, {"lpstat", "-l", "-p", queue});
    EXPECT_TRUE(Contains(r.out, "enabled")) << r.out;
    EXPECT_TRUE(Contains(r.out, std::string("Description: Office on ") + kDisplayName)) << r.out;
    std::string porch_ppd = NickName(g_getenv("PORCH_PPD"));
    ASSERT_NE(porch_ppd, "");
    EXPECT_EQ(NickName(QueuePpd(2, queue)), porch_ppd) << "not Porch's PPD";

    // The device's entry: a driverless queue (lpadmin -m everywhere) for ippeveprinter.
    GtkMenu *dm = device();
    ASSERT_NE(dm, nullptr);
    GtkMenuItem *add_dev = MenuItem(dm, add_ipp);
    ASSERT_NE(add_dev, nullptr);
    id = Activate(add_dev);
    ASSERT_GT(id, 0u) << "the menu item started nothing";
    ASSERT_EQ(WaitForOp(id, 30, &message, &queue), PORCH_TRAY_PRINT_DONE)
            << message << "\nippeveprinter's log:\n"
            << ReadFile(lan_->spawn_log(ipp));
    EXPECT_EQ(queue, "Porch_Test_IPP");
    r = lan_->run_cups(2, {"lpstat", "-v", queue});
    EXPECT_TRUE(Contains(r.out, "ipp://" + lan_->address(3) + ":" + std::to_string(kIppPort) +
                                        "/ipp/print"))
            << r.describe() << r.out;
    r = lan_->run_cups(2, {"lpstat", "-l", "-p", queue});
    EXPECT_TRUE(Contains(r.out, "enabled")) << r.out;
    EXPECT_TRUE(Contains(NickName(QueuePpd(2, queue)), "IPP Everywhere"))
            << "not a driverless queue: " << NickName(QueuePpd(2, queue));

    EXPECT_EQ(DialogText("Porch — adding the printer failed"), "");
    lan_->stop(ipp);
}

} // namespace
