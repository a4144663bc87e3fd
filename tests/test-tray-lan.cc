// test-tray-lan.cc — porch-tray's core (gui/porch-tray-internal.h) driven in this process on
// the test LAN: a real porchd on host 1 sharing Public to guests, this process browsing and
// fetching as host 2 (its main thread joins host 2's network namespace, so the GTask workers
// it starts are there too; avahi is host 2's through DBUS_SYSTEM_BUS_ADDRESS), GTK on an Xvfb
// display started here. What is checked is what a user sees: the neighbour in the model and
// in the window's list (through GTK's widget API, not pixels), its share and a folder listed,
// the first-contact question, a fetch byte-exact in the Downloads folder, a cancel that leaves
// nothing under the final name, and a resume. A screenshot of the window with the neighbour
// listed is saved as tests/artifacts/porch-tray-window.png in the build folder.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "porch-sftp-client.h"
#include "porch-tray-internal.h"
#include "test-util.h"
#include "testlan.h"

namespace
{

using porch::test::ReadFile;
using porch::test::TestLan;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char *kPorchd = PORCH_BUILD_DIR "/daemon/porchd";
constexpr const char *kDisplayName = "Alice's laptop";
constexpr const char *kHost = "porchtl1.local";

bool
WriteFile(const std::string &path, const std::string &data)
{
    return g_file_set_contents(path.c_str(), data.data(), (gssize)data.size(), nullptr);
}

std::string
Sha256File(const std::string &path)
{
    g_autoptr(GMappedFile) m = g_mapped_file_new(path.c_str(), FALSE, nullptr);
    if (!m)
        return "";
    g_autofree char *hex = g_compute_checksum_for_data(
            G_CHECKSUM_SHA256, (const guchar *)g_mapped_file_get_contents(m),
            g_mapped_file_get_length(m));
    return hex;
}

// bytes pseudo-random bytes (xorshift) at path; returns their SHA-256, "" on failure.
std::string
MakeRandomFile(const std::string &path, off_t bytes, uint64_t seed)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return "";
    std::vector<uint64_t> block((1 << 20) / sizeof(uint64_t));
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    bool ok = true;
    for (off_t left = bytes; left > 0 && ok;) {
        for (uint64_t &w : block) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w = x;
        }
        size_t n = std::min<off_t>(left, 1 << 20);
        ok = write(fd, block.data(), n) == ssize_t(n);
        left -= n;
    }
    close(fd);
    return ok ? Sha256File(path) : "";
}

bool
Exists(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

// Starts Xvfb on a display of its own (local connections only) and stops it at the end.
class Xvfb
{
  public:
    bool Start()
    {
        int n = 100 + (int)(getpid() % 800);
        while (Exists("/tmp/.X" + std::to_string(n) + "-lock") ||
               Exists("/tmp/.X11-unix/X" + std::to_string(n)))
            n++;
        display_ = ":" + std::to_string(n);
        pid_ = fork();
        if (pid_ == 0) {
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGKILL); // also gone when this test aborts
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            execlp("Xvfb", "Xvfb", display_.c_str(), "-nolisten", "tcp", "-screen", "0",
                   "1280x900x24", (char *)nullptr);
            _exit(127);
        }
        std::string socket = "/tmp/.X11-unix/X" + std::to_string(n);
        for (int i = 0; i < 200; i++) {
            if (Exists(socket))
                return true;
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
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

gboolean
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
std::vector<std::string>
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

bool
Has(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

class TrayLanTest : public ::testing::Test
{
  protected:
    static void SetUpTestSuite()
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
        std::string h1 = lan_->host_dir(1), h2 = lan_->host_dir(2);
        public_ = h1 + "/public";
        fs::create_directories(public_ + "/tree/sub");
        small_sha_ = MakeRandomFile(public_ + "/small.bin", 3 * 1024 * 1024 + 17, 1);
        big_sha_ = MakeRandomFile(public_ + "/big.bin", 384ll * 1024 * 1024, 2);
        if (small_sha_.empty() || big_sha_.empty() || !WriteFile(public_ + "/tree/a.txt", "a\n") ||
            !WriteFile(public_ + "/tree/sub/b.txt", "bee\n")) {
            why_not_ = "cannot write the shared files";
            return;
        }
        std::string conf = "[porch]\nname = " + std::string(kDisplayName) +
                           "\nlisten = " + lan_->address(1) +
                           "\n\n[share Public]\npath = " + public_ + "\nread = guest\n";
        std::string log = h1 + "/porchd.log";
        if (!WriteFile(h1 + "/porch.conf", conf)) {
            why_not_ = "cannot write porch.conf";
            return;
        }
        porchd_ = lan_->spawn(
                1, {kPorchd, "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"}, log);
        auto end = Clock::now() + std::chrono::seconds(15);
        while (porchd_ > 0 && lan_->running(porchd_) &&
               ReadFile(log).find(" running: ") == std::string::npos && Clock::now() < end)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (porchd_ < 0 || !lan_->running(porchd_) ||
            ReadFile(log).find(" running: ") == std::string::npos) {
            why_not_ = "porchd did not start; its log:\n" + ReadFile(log);
            return;
        }
        xvfb_ = new Xvfb();
        if (!xvfb_->Start()) {
            why_not_ = "Xvfb did not start";
            return;
        }

        // A user of host 2: a home of its own, Downloads where user-dirs.dirs says.
        home_ = h2 + "/home";
        downloads_ = home_ + "/Incoming";
        std::string config = home_ + "/.config", runtime = h2 + "/runtime";
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
        // no session bus at all (as under a bare X server), and host 2's avahi
        g_setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/porch-test-session-bus", TRUE);
        g_setenv("DBUS_SYSTEM_BUS_ADDRESS", lan_->bus_address(2).c_str(), TRUE);

        // This thread joins host 2's network; threads started from now on are there too.
        own_netns_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int fd = open(("/run/netns/" + lan_->ns(2)).c_str(), O_RDONLY | O_CLOEXEC);
        if (own_netns_ < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
            why_not_ = std::string("cannot join host 2's network namespace: ") + strerror(errno);
            if (fd >= 0)
                close(fd);
            return;
        }
        close(fd);
        ready_ = true;
    }

    static void TearDownTestSuite()
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
            GTEST_FAIL() << "test LAN unavailable: " << why_not_;
        }
        app_ = gtk_application_new("org.porch.TrayLanTest", G_APPLICATION_NON_UNIQUE);
        g_autoptr(GError) error = nullptr;
        ASSERT_TRUE(g_application_register(G_APPLICATION(app_), nullptr, &error)) << error->message;
        // With animations on, GTK 3.24.38 leaks small CSS values (24 bytes each, allocated
        // under gtk_container_check_resize) while the spinner shown during a listing turns;
        // LeakSanitizer reports them. Off, nothing leaks.
        g_object_set(gtk_settings_get_default(), "gtk-enable-animations", FALSE, nullptr);
        tray_ = porch_tray_new(app_);
        porch_tray_set_trust_policy(tray_, TrustPolicy, &trust_);
        ASSERT_TRUE(porch_tray_start(tray_, &error)) << error->message;
        window_ = porch_tray_show_window(tray_);
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

    static TestLan *lan_;
    static std::string why_not_, public_, small_sha_, big_sha_, home_, downloads_;
    static bool may_skip_, ready_;
    static pid_t porchd_;
    static Xvfb *xvfb_;
    static int own_netns_;

    GtkApplication *app_ = nullptr;
    PorchTray *tray_ = nullptr;
    GtkWindow *window_ = nullptr;
    TrustLog trust_;
};

TestLan *TrayLanTest::lan_ = nullptr;
std::string TrayLanTest::why_not_, TrayLanTest::public_, TrayLanTest::small_sha_,
        TrayLanTest::big_sha_, TrayLanTest::home_, TrayLanTest::downloads_;
bool TrayLanTest::may_skip_ = false, TrayLanTest::ready_ = false;
pid_t TrayLanTest::porchd_ = -1;
Xvfb *TrayLanTest::xvfb_ = nullptr;
int TrayLanTest::own_netns_ = -1;

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
    std::string dir = std::string(PORCH_BUILD_DIR) + "/tests/artifacts";
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
