// test-browse.cc — shared/porch-browse and `porch browse` against real avahi-daemons on a test
// LAN: records published with avahi-publish and CUPS's ippeveprinter on hosts 1 and 3, browsed
// from host 2 — by the porch command, as a user or a script would, and in this process through
// the GObject API (avahi-client reaches host 2's avahi-daemon over host 2's system bus).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <gio/gio.h>
#include <glib.h>

#include "porch-browse.h"
#include "porch-txt.h"
#include "testlan.h"
#include "test-util.h"

namespace
{

using Clock = std::chrono::steady_clock;
using porch::test::TestLan;

const std::string kPorch = PORCH_PROGRAM_PORCH_CLI;

using porch::test::ReadFile;

double
SecondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Polls pred every 10 ms for at most seconds; true as soon as it holds.
bool
WaitFor(const std::function<bool()> &pred, double seconds)
{
    for (auto end = Clock::now() + std::chrono::duration<double>(seconds);; g_usleep(10000)) {
        if (pred())
            return true;
        if (Clock::now() > end)
            return false;
    }
}

// Starts `avahi-publish -s ARGS...` on each host given, all at once, and waits until
// avahi-daemon has established every service (probing done). Returns their pids; on failure,
// adds a failure and returns fewer.
std::vector<pid_t>
PublishAll(TestLan &lan, const std::vector<std::pair<int, std::vector<std::string>>> &services)
{
    std::vector<pid_t> pids;
    for (const auto &[host, args] : services) {
        std::vector<std::string> argv = {"avahi-publish", "-s"};
        argv.insert(argv.end(), args.begin(), args.end());
        pid_t pid = lan.spawn(host, argv);
        if (pid <= 0) {
            ADD_FAILURE() << "cannot start avahi-publish " << args[0];
            return {};
        }
        pids.push_back(pid);
    }
    for (size_t i = 0; i < pids.size(); i++) {
        auto established = [&] {
            return ReadFile(lan.spawn_log(pids[i])).find("Established") != std::string::npos;
        };
        if (!WaitFor(established, 10)) {
            ADD_FAILURE() << "avahi-publish " << services[i].second[0] << " on host "
                          << services[i].first
                          << " not established: " << ReadFile(lan.spawn_log(pids[i]));
            return {};
        }
    }
    return pids;
}

pid_t
Publish(TestLan &lan, int host, const std::vector<std::string> &args)
{
    auto pids = PublishAll(lan, {{host, args}});
    return pids.empty() ? -1 : pids[0];
}

// Runs jq -c FILTER on json (what a script would do with porch browse --json); its output
// without the final newline, or "jq failed: ..." when json does not parse.
// With slurp, the input's objects (one per line for --watch) are read into one array first.
std::string
Jq(TestLan &lan, const std::string &json, const std::string &filter, bool slurp = false)
{
    std::string path = lan.state_dir() + "/jq-input.json";
    if (!g_file_set_contents(path.c_str(), json.c_str(), -1, nullptr))
        return "cannot write " + path;
    auto r = TestLan::run_local({"jq", slurp ? "-cs" : "-c", filter, path});
    if (!r.ok())
        return "jq failed: " + r.describe();
    if (!r.out.empty() && r.out.back() == '\n')
        r.out.pop_back();
    return r.out;
}

// The lines of text that contain every one of needles.
std::vector<std::string>
LinesWith(const std::string &text, const std::vector<std::string> &needles)
{
    std::vector<std::string> found;
    g_auto(GStrv) lines = g_strsplit(text.c_str(), "\n", -1);
    for (char **l = lines; *l; l++) {
        bool all = true;
        for (const std::string &n : needles)
            all = all && strstr(*l, n.c_str()) != nullptr;
        if (all && **l)
            found.emplace_back(*l);
    }
    return found;
}

// Point 3 and 5: one object per host, its services merged (porch, share, printer; IPv4 and
// IPv6), the browsing host's own services left out, keys in the documented order.
TEST(Browse, JsonListsEachNeighbourOnceWithItsSharesButNotItself)
{
    PORCH_REQUIRE_TOOLS("avahi-publish", "jq");
    PORCH_REQUIRE_LAN(lan, 3);
    // Host 1 has a global IPv6 address too. avahi-daemon then publishes that one alone (link-local
    // addresses only on a link without a global one: avahi-core/iface.c); host 3 has only its
    // link-local one, listed with its scope.
    auto ip = lan->run(1, {"ip", "-6", "addr", "add", "fd00:88::1/64", "dev", "eth0", "nodad"});
    ASSERT_TRUE(ip.ok()) << ip.describe();
    ASSERT_EQ(PublishAll(*lan,
                         {
                                 {1, {"Alice's laptop", "_porch._tcp", "4422", "v=1", "fp=XYZ"}},
                                 {1,
                                  {"Photos on Alice's laptop", "_sftp-ssh._tcp", "4422",
                                   "path=/Photos", "u=guest"}},
                                 {3, {"Carol's desktop", "_porch._tcp", "4422", "v=1", "fp=C4r0l"}},
                                 {3,
                                  {"Music on Carol's desktop", "_sftp-ssh._tcp", "4422",
                                   "path=/Music"}},
                                 {3,
                                  {"Office on Carol's desktop", "_porch-print._tcp", "4422",
                                   "ty=HP LaserJet 4000", "color=F"}},
                                 // Host 2's own records: the browser there must not list them.
                                 {2, {"Bob's desktop", "_porch._tcp", "4422", "v=1", "fp=B0b"}},
                                 {2, {"Bob's printer", "_ipp._tcp", "631", "rp=printers/bob"}},
                         })
                      .size(),
              7u);

    auto t0 = Clock::now();
    auto r = lan->run(2, {kPorch, "browse", "--json", "--timeout", "3"}, 20);
    double took = SecondsSince(t0);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_GE(took, 3.0);
    EXPECT_LT(took, 5.0);
    std::string j = r.out;

    EXPECT_EQ(Jq(*lan, j, "[.[].host]"), R"(["porchtl1.local","porchtl3.local"])") << j;
    EXPECT_EQ(Jq(*lan, j, "[.[].name]"), R"(["Alice's laptop","Carol's desktop"])");
    EXPECT_EQ(Jq(*lan, j, "[.[] | keys_unsorted] | unique"),
              R"([["name","host","porch","port","fingerprint","ipv4","ipv6","shares",)"
              R"("printers","services","remembered"]])");
    EXPECT_EQ(Jq(*lan, j, ".[0] | [.porch, .port, .fingerprint, .ipv4, .ipv6]"),
              R"([true,4422,"SHA256:XYZ",["10.88.0.1"],["fd00:88::1"]])");
    EXPECT_EQ(Jq(*lan, j, ".[0].shares"), R"([{"name":"Photos","path":"/Photos","guest":true,)"
                                          R"("uri":"sftp://guest@porchtl1.local:4422/Photos"}])");
    EXPECT_EQ(Jq(*lan, j, ".[0] | [.printers, .services]"), "[[],[]]");
    EXPECT_EQ(Jq(*lan, j, ".[1] | [.porch, .port, .fingerprint, .ipv4, .ipv6]"),
              R"([true,4422,"SHA256:C4r0l",["10.88.0.3"],["fe80::88:3%eth0"]])");
    EXPECT_EQ(Jq(*lan, j, ".[1].shares"), R"([{"name":"Music","path":"/Music","guest":false,)"
                                          R"("uri":"sftp://porchtl3.local:4422/Music"}])");
    EXPECT_EQ(Jq(*lan, j, ".[1].printers"),
              R"([{"name":"Office","instance":"Office on Carol's desktop",)"
              R"("txt":{"color":"F","ty":"HP LaserJet 4000"}}])");
    EXPECT_EQ(j.find("porchtl2"), std::string::npos) << j;
    EXPECT_EQ(j.find("Bob"), std::string::npos) << j;

    // The form for people.
    r = lan->run(2, {kPorch, "browse", "--timeout", "2"}, 20);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_NE(r.out.find("Alice's laptop (porchtl1.local), Porch on port 4422\n"
                         "    addresses    10.88.0.1, fd00:88::1\n"
                         "    host key     SHA256:XYZ\n"
                         "    share        Photos  sftp://guest@porchtl1.local:4422/Photos  "
                         "(guests may read)\n"),
              std::string::npos)
            << r.out;
    EXPECT_NE(r.out.find("    printer      Office  HP LaserJet 4000\n"), std::string::npos)
            << r.out;
    EXPECT_EQ(r.out.find("Bob"), std::string::npos) << r.out;

    // --watch for people: one line an event, the first "added", the last the whole picture,
    // and no line for a change the line does not show (an address).
    r = lan->run(2, {kPorch, "browse", "--watch", "--timeout", "2"}, 20);
    ASSERT_TRUE(r.ok()) << r.describe();
    for (auto [host, last] : {std::pair<std::string, std::string>{
                                      "porchtl1.local", "Alice's laptop (porchtl1.local): Porch on "
                                                        "port 4422; shares Photos"},
                              {"porchtl3.local", "Carol's desktop (porchtl3.local): Porch on port "
                                                 "4422; shares Music; printers Office"}}) {
        auto lines = LinesWith(r.out, {"(" + host + ")"});
        ASSERT_FALSE(lines.empty()) << r.out;
        EXPECT_EQ(lines.front().rfind("added    ", 0), 0u) << r.out;
        EXPECT_EQ(lines.back().substr(9), last) << r.out;
        for (size_t i = 1; i < lines.size(); i++)
            EXPECT_NE(lines[i].substr(9), lines[i - 1].substr(9)) << r.out;
    }
}

// Point 5: --watch streams one JSON object per line, and a host whose records are withdrawn is
// reported removed about as fast as avahi itself notices (bench/bench-discovery measures it).
TEST(Browse, WatchReportsANeighbourThatGoes)
{
    PORCH_REQUIRE_TOOLS("avahi-publish", "jq");
    PORCH_REQUIRE_LAN(lan, 3);
    ASSERT_GT(Publish(*lan, 1, {"Alice's laptop", "_porch._tcp", "4422", "v=1", "fp=XYZ"}), 0);
    pid_t carol = Publish(*lan, 3, {"Carol's desktop", "_porch._tcp", "4422", "v=1", "fp=C"});
    pid_t music =
            Publish(*lan, 3, {"Music on Carol's desktop", "_sftp-ssh._tcp", "4422", "path=/Music"});
    ASSERT_GT(carol, 0);
    ASSERT_GT(music, 0);

    std::string log = lan->host_dir(2) + "/watch.log";
    pid_t watch = lan->spawn(2, {kPorch, "browse", "--watch", "--json"}, log);
    ASSERT_GT(watch, 0);
    ASSERT_TRUE(WaitFor(
            [&] {
                std::string t = ReadFile(log);
                return !LinesWith(t, {R"("host":"porchtl3.local")", R"("path":"/Music")"})
                                .empty() &&
                       !LinesWith(t, {R"("host":"porchtl1.local")", R"("porch":true)"}).empty();
            },
            5))
            << ReadFile(log);

    auto t0 = Clock::now();
    lan->stop(music);
    lan->stop(carol);
    const std::string removed =
            R"({"event":"removed","neighbour":{"name":"Carol's desktop","host":"porchtl3.local",)";
    bool gone = WaitFor([&] { return ReadFile(log).find(removed) != std::string::npos; }, 3);
    double took = SecondsSince(t0);
    EXPECT_TRUE(gone) << ReadFile(log);
    std::printf("[ FIGURE   ] removal reported %.2f s after the publishers stopped\n", took);

    EXPECT_EQ(lan->stop(watch, SIGINT), 0);
    std::string t = ReadFile(log);
    // Every line is one JSON object, the event first; host 1 stayed.
    EXPECT_EQ(Jq(*lan, t, "length", true), std::to_string(LinesWith(t, {""}).size())) << t;
    EXPECT_EQ(Jq(*lan, t, "[.[] | keys_unsorted] | unique", true), R"([["event","neighbour"]])");
    auto events = Jq(*lan, t, "select(.neighbour.host == \"porchtl1.local\") | .event");
    EXPECT_EQ(events.find("removed"), std::string::npos) << t;
    EXPECT_EQ(events.rfind("\"added\"", 0), 0u) << t;
    EXPECT_EQ(LinesWith(t, {R"("event":"removed")"}).size(), 1u) << t;
    EXPECT_EQ(t.find("porchtl2"), std::string::npos) << t;
}

// Point 4: devices that do not run Porch — a real IPP Everywhere printer (CUPS's ippeveprinter,
// which registers itself through avahi) and Samba, WebDAV and OpenSSH services — are
// neighbours with the URI a user would open.
TEST(Browse, NearbyDevicesThatDoNotRunPorchComeWithTheirUris)
{
    PORCH_REQUIRE_TOOLS("avahi-publish", "jq", "ippeveprinter");
    PORCH_REQUIRE_LAN(lan, 3);
    std::string spool = lan->host_dir(3) + "/spool";
    ASSERT_EQ(g_mkdir_with_parents(spool.c_str(), 0755), 0);
    pid_t printer = lan->spawn(3, {"ippeveprinter", "-p", "8631", "-d", spool, "Test Printer"});
    ASSERT_GT(printer, 0);
    ASSERT_EQ(PublishAll(*lan, {{3, {"Files", "_smb._tcp", "445"}},
                                {3, {"Docs", "_webdav._tcp", "8080", "path=/dav", "u=carol"}},
                                {3, {"Secure docs", "_webdavs._tcp", "8443"}},
                                {3, {"Carol's ssh", "_sftp-ssh._tcp", "22"}}})
                      .size(),
              4u);

    // ippeveprinter says nothing when avahi has established it: ask until it is there.
    std::string j;
    bool found = WaitFor(
            [&] {
                auto r = lan->run(2, {kPorch, "browse", "--json", "--timeout", "2"}, 20);
                j = r.out;
                return r.ok() && j.find("_ipp._tcp") != std::string::npos;
            },
            12);
    ASSERT_TRUE(found) << j << "\nippeveprinter:\n" << ReadFile(lan->spawn_log(printer));
    EXPECT_EQ(Jq(*lan, j, "[.[].host]"), R"(["porchtl3.local"])") << j;
    EXPECT_EQ(Jq(*lan, j, ".[0] | [.name, .porch, .port, .fingerprint, .shares, .printers]"),
              R"(["porchtl3",false,null,null,[],[]])");
    EXPECT_EQ(Jq(*lan, j, ".[0] | [.ipv4, .ipv6]"), R"([["10.88.0.3"],["fe80::88:3%eth0"]])");
    EXPECT_EQ(Jq(*lan, j, "[.[0].services[] | [.type, .name, .port, .uri]]"),
              R"([["_ipp._tcp","Test Printer",8631,"ipp://porchtl3.local:8631/ipp/print"],)"
              R"(["_ipps._tcp","Test Printer",8631,"ipps://porchtl3.local:8631/ipp/print"],)"
              R"(["_sftp-ssh._tcp","Carol's ssh",22,"sftp://porchtl3.local:22/"],)"
              R"(["_smb._tcp","Files",445,"smb://porchtl3.local/"],)"
              R"(["_webdav._tcp","Docs",8080,"dav://carol@porchtl3.local:8080/dav"],)"
              R"(["_webdavs._tcp","Secure docs",8443,"davs://porchtl3.local:8443/"]])")
            << j;
    // The printer's own TXT record comes along (ippeveprinter's defaults).
    EXPECT_EQ(Jq(*lan, j, ".[0].services[0].txt | [.rp, .ty]"),
              R"(["ipp/print","Example Printer"])");

    auto r = lan->run(2, {kPorch, "browse"}, 20);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_NE(r.out.find("porchtl3 (porchtl3.local), not a Porch host\n"), std::string::npos)
            << r.out;
    EXPECT_NE(r.out.find("    ipp          Test Printer  ipp://porchtl3.local:8631/ipp/print\n"),
              std::string::npos)
            << r.out;
    EXPECT_NE(r.out.find("    smb          Files  smb://porchtl3.local/\n"), std::string::npos)
            << r.out;
}

// Point 5: no avahi-daemon, a clear message and exit status 1 — on a host whose daemon stopped,
// and where even the system bus is missing.
TEST(Browse, SaysSoWhenAvahiDaemonCannotBeReached)
{
    auto r = TestLan::run_local({"env",
                                 "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/porch-test-bus",
                                 kPorch, "browse", "--json"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_NE(r.err.find("cannot reach avahi-daemon on the D-Bus system bus "
                         "(unix:path=/nonexistent/porch-test-bus)"),
              std::string::npos)
            << r.err;
    EXPECT_EQ(r.out, "");

    PORCH_REQUIRE_LAN(lan, 1);
    lan->stop(lan->avahi_pid(1));
    for (const char *mode : {"--json", "--watch"}) {
        auto t0 = Clock::now();
        r = lan->run(1, {kPorch, "browse", mode}, 10);
        EXPECT_EQ(r.exit_status, 1) << mode << ": " << r.describe();
        EXPECT_NE(r.err.find("porch browse: avahi-daemon is not running"), std::string::npos)
                << mode << ": " << r.err;
        EXPECT_EQ(r.out, "") << mode;
        EXPECT_LT(SecondsSince(t0), 1.5) << mode << ": it should not wait for a daemon";
    }
}

TEST(Browse, UsageErrorsAndTheOtherCommands)
{
    auto r = TestLan::run_local({kPorch, "browse", "--timeout", "0"});
    EXPECT_EQ(r.exit_status, 2) << r.describe();
    EXPECT_NE(r.err.find("--timeout"), std::string::npos) << r.err;
    r = TestLan::run_local({kPorch, "browse", "alice"});
    EXPECT_EQ(r.exit_status, 2) << r.describe();
    r = TestLan::run_local({kPorch, "browse", "--help"});
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_NE(r.out.find("--watch"), std::string::npos) << r.out;
    r = TestLan::run_local({kPorch, "--help"});
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_NE(r.out.find("porch browse [--json] [--timeout SECONDS] [--watch]"), std::string::npos)
            << r.out;
    r = TestLan::run_local({kPorch, "--version"});
    EXPECT_EQ(r.out, "porch " PORCH_VERSION "\n");
    // the other commands check their arguments before looking for the neighbour
    r = TestLan::run_local({kPorch, "print", "alice/Office"});
    EXPECT_EQ(r.exit_status, 2) << r.describe();
    EXPECT_NE(r.err.find("HOST/PRINTER and FILE"), std::string::npos) << r.err;
    r = TestLan::run_local({kPorch, "print", "alice/Office", "/nonexistent/file"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_EQ(r.err, "porch: /nonexistent/file: No such file or directory\n");
}

// ------------------------------------------------------------------------------------------
// The GObject API, in this process: signals on the thread-default main context.

struct Event {
    std::string what; // "added", "changed", "removed"
    PorchNeighbour *n;
};

struct Recorder {
    GMainContext *context = nullptr;
    std::vector<Event> events;
    int wrong_context = 0;
    int state_notifications = 0;
    ~Recorder()
    {
        for (Event &e : events)
            porch_neighbour_unref(e.n);
    }
    void record(const char *what, PorchNeighbour *n)
    {
        if (!g_main_context_is_owner(context) || g_main_context_get_thread_default() != context)
            wrong_context++;
        events.push_back({what, porch_neighbour_ref(n)});
    }
    // Index of the first event at or after from that matches, or -1.
    int find(size_t from, const std::string &what, const std::string &host,
             const std::function<bool(const PorchNeighbour *)> &also = nullptr) const
    {
        for (size_t i = from; i < events.size(); i++)
            if (events[i].what == what && host == porch_neighbour_get_host_name(events[i].n) &&
                (!also || also(events[i].n)))
                return static_cast<int>(i);
        return -1;
    }
};

void
OnAdded(PorchBrowser *, PorchNeighbour *n, gpointer data)
{
    static_cast<Recorder *>(data)->record("added", n);
}

void
OnChanged(PorchBrowser *, PorchNeighbour *n, gpointer data)
{
    static_cast<Recorder *>(data)->record("changed", n);
}

void
OnRemoved(PorchBrowser *, PorchNeighbour *n, gpointer data)
{
    static_cast<Recorder *>(data)->record("removed", n);
}

void
OnState(PorchBrowser *, GParamSpec *, gpointer data)
{
    static_cast<Recorder *>(data)->state_notifications++;
}

// Runs context until pred holds, for at most seconds.
bool
IterateUntil(GMainContext *context, const std::function<bool()> &pred, double seconds)
{
    for (auto end = Clock::now() + std::chrono::duration<double>(seconds); !pred();) {
        if (Clock::now() > end)
            return false;
        if (!g_main_context_iteration(context, FALSE))
            g_usleep(5000);
    }
    return true;
}

guint
ShareCount(const PorchNeighbour *n)
{
    guint count = 0;
    porch_neighbour_get_shares(n, &count);
    return count;
}

TEST(Browser, SignalsNeighboursAddedChangedRemovedAndSurvivesAvahiRestart)
{
    PORCH_REQUIRE_TOOLS("avahi-publish");
    PORCH_REQUIRE_LAN(lan, 2);
    // avahi-client finds avahi-daemon on the system bus: host 2's, for this process.
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", lan->bus_address(2).c_str(), TRUE);
    ASSERT_GT(Publish(*lan, 2, {"Bob's desktop", "_porch._tcp", "4422", "fp=B0b"}), 0);

    GMainContext *context = g_main_context_new();
    g_main_context_push_thread_default(context);
    Recorder rec;
    rec.context = context;
    {
        g_autoptr(PorchBrowser) browser = porch_browser_new();
        g_signal_connect(browser, "neighbour-added", G_CALLBACK(OnAdded), &rec);
        g_signal_connect(browser, "neighbour-changed", G_CALLBACK(OnChanged), &rec);
        g_signal_connect(browser, "neighbour-removed", G_CALLBACK(OnRemoved), &rec);
        g_signal_connect(browser, "notify::state", G_CALLBACK(OnState), &rec);
        EXPECT_EQ(porch_browser_get_state(browser), PORCH_BROWSER_STOPPED);
        g_autoptr(GError) error = nullptr;
        ASSERT_TRUE(porch_browser_start(browser, &error)) << error->message;
        EXPECT_EQ(porch_browser_get_state(browser), PORCH_BROWSER_RUNNING);
        EXPECT_TRUE(IterateUntil(
                context, [&] { return rec.state_notifications == 1; }, 1));

        // A Porch host appears: added, with what its _porch._tcp record says.
        pid_t alice = Publish(*lan, 1, {"Alice's laptop", "_porch._tcp", "4422", "v=1", "fp=XYZ"});
        ASSERT_GT(alice, 0);
        ASSERT_TRUE(IterateUntil(
                context, [&] { return rec.find(0, "added", "porchtl1.local") >= 0; }, 3));
        const PorchNeighbour *n = rec.events[rec.find(0, "added", "porchtl1.local")].n;
        EXPECT_STREQ(porch_neighbour_get_name(n), "Alice's laptop");
        EXPECT_TRUE(porch_neighbour_is_porch(n));
        EXPECT_EQ(porch_neighbour_get_port(n), 4422);
        EXPECT_STREQ(porch_neighbour_get_fingerprint(n), "SHA256:XYZ");

        // It adds a share: changed, and the snapshot announced before stays as it was.
        size_t before = rec.events.size();
        pid_t photos = Publish(
                *lan, 1,
                {"Photos on Alice's laptop", "_sftp-ssh._tcp", "4422", "path=/Photos", "u=guest"});
        ASSERT_GT(photos, 0);
        auto has_share = [](const PorchNeighbour *x) { return ShareCount(x) == 1; };
        ASSERT_TRUE(IterateUntil(
                context,
                [&] { return rec.find(before, "changed", "porchtl1.local", has_share) >= 0; }, 3));
        n = rec.events[rec.find(before, "changed", "porchtl1.local", has_share)].n;
        guint count = 0;
        const PorchNeighbourShare *shares = porch_neighbour_get_shares(n, &count);
        ASSERT_EQ(count, 1u);
        EXPECT_STREQ(shares[0].name, "Photos");
        EXPECT_STREQ(shares[0].path, "/Photos");
        EXPECT_TRUE(shares[0].guest);
        EXPECT_STREQ(shares[0].uri, "sftp://guest@porchtl1.local:4422/Photos");
        EXPECT_EQ(ShareCount(rec.events[rec.find(0, "added", "porchtl1.local")].n), 0u);
        // Wait for the addresses too, then the model has settled.
        ASSERT_TRUE(IterateUntil(
                context,
                [&] {
                    g_autoptr(GPtrArray) all = porch_browser_get_neighbours(browser);
                    if (all->len != 1)
                        return false;
                    auto *x = static_cast<PorchNeighbour *>(g_ptr_array_index(all, 0));
                    return ShareCount(x) == 1 &&
                           g_strv_length((char **)porch_neighbour_get_ipv4_addresses(x)) == 1 &&
                           g_strv_length((char **)porch_neighbour_get_ipv6_addresses(x)) == 1;
                },
                3));
        {
            g_autoptr(GPtrArray) all = porch_browser_get_neighbours(browser);
            auto *x = static_cast<PorchNeighbour *>(g_ptr_array_index(all, 0));
            EXPECT_STREQ(porch_neighbour_get_ipv4_addresses(x)[0], "10.88.0.1");
            // This process is not in host 2's network namespace: the scope is eth0's index
            // there, or a name that index has here.
            EXPECT_TRUE(g_str_has_prefix(porch_neighbour_get_ipv6_addresses(x)[0], "fe80::88:1%"));
            g_autofree char *hp = porch_neighbour_address_with_port(
                    porch_neighbour_get_ipv6_addresses(x)[0], 4422);
            EXPECT_TRUE(g_str_has_prefix(hp, "[fe80::88:1%")) << hp;
            EXPECT_TRUE(g_str_has_suffix(hp, "]:4422")) << hp;
            g_autoptr(GError) parse_error = nullptr;
            g_autoptr(GSocketConnectable) parsed = g_network_address_parse(hp, 0, &parse_error);
            EXPECT_NE(parsed, nullptr) << hp << ": " << parse_error->message;
        }

        // The share goes (changed), then the host (removed) — within what avahi needs.
        before = rec.events.size();
        lan->stop(photos);
        auto no_share = [](const PorchNeighbour *x) { return ShareCount(x) == 0; };
        EXPECT_TRUE(IterateUntil(
                context,
                [&] { return rec.find(before, "changed", "porchtl1.local", no_share) >= 0; }, 3));
        auto t0 = Clock::now();
        lan->stop(alice);
        EXPECT_TRUE(IterateUntil(
                context, [&] { return rec.find(before, "removed", "porchtl1.local") >= 0; }, 3));
        std::printf("[ FIGURE   ] neighbour-removed %.2f s after the publisher stopped\n",
                    SecondsSince(t0));
        g_autoptr(GPtrArray) none = porch_browser_get_neighbours(browser);
        EXPECT_EQ(none->len, 0u);

        // avahi-daemon stops: the neighbours go with it; it comes back: so do they.
        alice = Publish(*lan, 1, {"Alice's laptop", "_porch._tcp", "4422", "v=1", "fp=XYZ"});
        ASSERT_GT(alice, 0);
        before = rec.events.size();
        ASSERT_TRUE(IterateUntil(
                context, [&] { return rec.find(before, "added", "porchtl1.local") >= 0; }, 3));
        before = rec.events.size();
        int notified = rec.state_notifications;
        lan->stop(lan->avahi_pid(2));
        EXPECT_TRUE(IterateUntil(
                context,
                [&] {
                    return rec.find(before, "removed", "porchtl1.local") >= 0 &&
                           porch_browser_get_state(browser) == PORCH_BROWSER_CONNECTING &&
                           rec.state_notifications > notified;
                },
                3));
        before = rec.events.size();
        const char *script = "mkdir -p /run/avahi-daemon && "
                             "mount -t tmpfs -o mode=0755 porch-testlan /run/avahi-daemon && "
                             "mount --bind \"$1\" /etc/avahi && "
                             "exec avahi-daemon --no-chroot --no-drop-root --no-rlimits";
        ASSERT_GT(lan->spawn(2, {"unshare", "-m", "--propagation", "private", "sh", "-c", script,
                                 "sh", lan->host_dir(2) + "/avahi"}),
                  0);
        EXPECT_TRUE(IterateUntil(
                context, [&] { return rec.find(before, "added", "porchtl1.local") >= 0; }, 10));
        EXPECT_EQ(porch_browser_get_state(browser), PORCH_BROWSER_RUNNING);
    }
    // Nothing of host 2's own, and every signal from the thread-default context.
    EXPECT_EQ(rec.find(0, "added", "porchtl2.local"), -1);
    EXPECT_EQ(rec.wrong_context, 0);
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
}

} // namespace

namespace
{

// porchd on `host` with `conf` (its [porch] section gets listen = the host's address); waits
// until it has published. Returns its pid, -1 on failure (a failure is added).
pid_t
StartPorchd(TestLan &lan, int host, const std::string &conf)
{
    std::string d = lan.host_dir(host);
    std::string full = "[porch]\nlisten = " + lan.address(host) + "\n" + conf;
    g_mkdir_with_parents((d + "/state").c_str(), 0700);
    g_file_set_contents((d + "/porch.conf").c_str(), full.c_str(), -1, nullptr);
    std::string log = d + "/porchd.log";
    pid_t pid = lan.spawn(
            host,
            {PORCH_PROGRAM_PORCHD, "--config", d + "/porch.conf", "--state-dir", d + "/state"},
            log);
    if (!WaitFor([&] { return ReadFile(log).find("running") != std::string::npos; }, 10)) {
        ADD_FAILURE() << "porchd on host " << host << ": " << ReadFile(log);
        return -1;
    }
    return pid;
}

// The fingerprint of host `host`'s porchd, as ssh-keygen prints it.
std::string
HostKeyFingerprint(TestLan &lan, int host)
{
    auto r = TestLan::run_local(
            {"ssh-keygen", "-lf", lan.host_dir(host) + "/state/ssh_host_ed25519_key"});
    size_t at = r.out.find("SHA256:");
    return at == std::string::npos ? "" : r.out.substr(at, r.out.find(' ', at) - at);
}

} // namespace

// The issue's end-to-end check: real porchds on hosts 1 and 3, `porch browse --json` on host 2
// lists both with their advertised shares and host-key fingerprints; when porchd on host 3
// stops, `porch browse --watch` reports it gone.
TEST(Browse, PorchdNeighboursAreListedAndAStoppedOneGoes)
{
    PORCH_REQUIRE_TOOLS("jq");
    PORCH_REQUIRE_LAN(lan, 3);
    for (int h : {1, 3})
        for (const char *s : {"/photos", "/secret"})
            g_mkdir_with_parents((lan->host_dir(h) + s).c_str(), 0755);
    std::string d1 = lan->host_dir(1), d3 = lan->host_dir(3);
    ASSERT_GT(StartPorchd(*lan, 1,
                          "name = Alice's laptop\n[share Photos]\npath = " + d1 +
                                  "/photos\nread = guest\n[share Secret]\npath = " + d1 +
                                  "/secret\nread = *\nhidden = true\n"),
              0);
    pid_t carol = StartPorchd(
            *lan, 3, "name = Carol's desktop\n[share Music]\npath = " + d3 + "/photos\nread = *\n");
    ASSERT_GT(carol, 0);
    std::string fp1 = HostKeyFingerprint(*lan, 1), fp3 = HostKeyFingerprint(*lan, 3);
    ASSERT_FALSE(fp1.empty());

    // porchd needs avahi's probing (about 1 s) before the records are out
    std::string json;
    ASSERT_TRUE(WaitFor(
            [&] {
                json = lan->run(2, {kPorch, "browse", "--json", "--timeout", "2"}, 10).out;
                return Jq(*lan, json, "[.[] | select(.porch)] | length") == "2";
            },
            10))
            << json;
    EXPECT_EQ(
            Jq(*lan, json,
               "[.[] | select(.porch) | [.name, .fingerprint, (.shares | map([.name, .guest]))]]"),
            "[[\"Alice's laptop\",\"" + fp1 + "\",[[\"Photos\",true]]],[\"Carol's desktop\",\"" +
                    fp3 + "\",[[\"Music\",false]]]]")
            << json;
    EXPECT_EQ(json.find("Secret"), std::string::npos) << "hidden shares are not advertised";

    std::string log = lan->host_dir(2) + "/watch.log";
    pid_t watch = lan->spawn(2, {kPorch, "browse", "--watch", "--json"}, log);
    ASSERT_TRUE(
            WaitFor([&] { return ReadFile(log).find("Carol's desktop") != std::string::npos; }, 5))
            << ReadFile(log);
    EXPECT_EQ(lan->stop(carol, SIGTERM), 0) << "porchd exits 0 on SIGTERM";
    EXPECT_TRUE(WaitFor(
            [&] {
                return !LinesWith(ReadFile(log), {R"("event":"removed")", "Carol's desktop"})
                                .empty();
            },
            3))
            << ReadFile(log);
    EXPECT_TRUE(LinesWith(ReadFile(log), {R"("event":"removed")", "Alice's laptop"}).empty());
    lan->stop(watch, SIGINT);
}

// mDNS has no authentication: a second _porch._tcp instance that claims a host with another
// key makes porch browse show no fingerprint for it, rather than pick one to trust.
TEST(Browse, ConflictingFingerprintsForOneHostAreNotBelieved)
{
    PORCH_REQUIRE_TOOLS("avahi-publish", "jq");
    PORCH_REQUIRE_LAN(lan, 2);
    ASSERT_EQ(PublishAll(*lan, {{1, {"Alice's laptop", "_porch._tcp", "4422", "v=1", "fp=AAA"}},
                                {1, {"!Alice", "_porch._tcp", "4422", "v=1", "fp=EVIL"}}})
                      .size(),
              2u);
    std::string json;
    ASSERT_TRUE(WaitFor(
            [&] {
                json = lan->run(2, {kPorch, "browse", "--json", "--timeout", "2"}, 10).out;
                return Jq(*lan, json, "length") == "1";
            },
            10))
            << json;
    EXPECT_EQ(Jq(*lan, json, ".[0].fingerprint"), "null") << json;
    EXPECT_EQ(Jq(*lan, json, ".[0].porch"), "true") << json;
}

// ---- a neighbour's TXT record (shared/porch-txt.c: pure, no LAN needed) ----------------------

// A TXT record as avahi-client hands it over: the entries in wire order, each prepended, so
// that the list runs last entry first.
static AvahiStringList *
TxtList(const std::vector<std::string> &entries)
{
    AvahiStringList *l = nullptr;
    for (const std::string &e : entries)
        l = avahi_string_list_add_arbitrary(l, (const uint8_t *)e.data(), e.size());
    return l;
}

static std::vector<std::string>
Decoded(const std::vector<std::string> &entries)
{
    AvahiStringList *l = TxtList(entries);
    g_auto(GStrv) txt = porch_txt_decode(l);
    avahi_string_list_free(l);
    std::vector<std::string> out;
    for (guint i = 0; txt[i]; i++)
        out.emplace_back(txt[i]);
    return out;
}

TEST(Txt, DecodedInAdvertisedOrderAsValidUtf8)
{
    EXPECT_EQ(Decoded({"v=1", "fp=AAAA", "", "flag"}),
              (std::vector<std::string>{"v=1", "fp=AAAA", "", "flag"}));
    EXPECT_EQ(Decoded({}), std::vector<std::string>{});
    EXPECT_EQ(Decoded({std::string("ty=A\xff\0B", 7)}),
              (std::vector<std::string>{"ty=A\xef\xbf\xbd\xef\xbf\xbd"
                                        "B"}));

    // at most PORCH_TXT_MAX_ENTRIES: the first ones
    std::vector<std::string> many;
    for (int i = 0; i < PORCH_TXT_MAX_ENTRIES + 10; i++)
        many.push_back("k" + std::to_string(i) + "=v");
    std::vector<std::string> kept = Decoded(many);
    ASSERT_EQ(kept.size(), (size_t)PORCH_TXT_MAX_ENTRIES);
    EXPECT_EQ(kept.front(), "k0=v");
    EXPECT_EQ(kept.back(), "k" + std::to_string(PORCH_TXT_MAX_ENTRIES - 1) + "=v");
}

TEST(Txt, LookupIsCaseInsensitiveAndTheFirstWins)
{
    const char *txt[] = {"v=1", "FP=first", "fp=second", "flag", "path=/a=b", nullptr};
    EXPECT_STREQ(porch_txt_lookup(txt, "fp"), "first");
    EXPECT_STREQ(porch_txt_lookup(txt, "Flag"), "");
    EXPECT_STREQ(porch_txt_lookup(txt, "path"), "/a=b");
    EXPECT_EQ(porch_txt_lookup(txt, "u"), nullptr);
    EXPECT_EQ(porch_txt_lookup(nullptr, "u"), nullptr);
    EXPECT_STREQ(porch_neighbour_txt_lookup(txt, "FP"), "first");

    g_autofree char *fp = porch_txt_fingerprint(txt);
    EXPECT_STREQ(fp, "SHA256:first");
    const char *empty[] = {"fp=", nullptr};
    EXPECT_EQ(porch_txt_fingerprint(empty), nullptr);
}

TEST(Txt, SharePath)
{
    struct Case {
        std::vector<const char *> txt;
        const char *path;
        bool guest;
    } cases[] = {
            {{"path=/Photos", "u=guest"}, "/Photos", true},
            {{"path=/Photos", "u=bob"}, "/Photos", false},
            {{"path=//Photos"}, "//Photos", false},
            {{"path=/"}, nullptr, false},
            {{"path=//"}, nullptr, false},
            {{"path=Photos", "u=guest"}, nullptr, true},
            {{"u=guest"}, nullptr, true},
    };
    for (Case &c : cases) {
        c.txt.push_back(nullptr);
        gboolean guest = !c.guest;
        const char *path = porch_txt_share_path(c.txt.data(), &guest);
        EXPECT_STREQ(path, c.path) << c.txt[0];
        EXPECT_EQ(guest, c.guest) << c.txt[0];
    }
}

TEST(Txt, ServiceUris)
{
    auto uri = [](const char *type, const char *host, guint16 port, std::vector<const char *> txt) {
        txt.push_back(nullptr);
        g_autofree char *u = porch_txt_service_uri(type, host, port, txt.data());
        return std::string(u ? u : "(null)");
    };
    EXPECT_EQ(uri("_sftp-ssh._tcp", "porchtl1.local", 4422, {"path=/Photos", "u=guest"}),
              "sftp://guest@porchtl1.local:4422/Photos");
    EXPECT_EQ(uri("_sftp-ssh._tcp", "nas.local", 22, {}), "sftp://nas.local:22/");
    EXPECT_EQ(uri("_webdav._tcp", "10.0.0.5", 80, {"path=dav", "u=a:b"}), "dav://10.0.0.5:80/dav");
    EXPECT_EQ(uri("_webdavs._tcp", "fe80::1", 443, {"path=/My Files"}),
              "davs://[fe80::1]:443/My%20Files");
    EXPECT_EQ(uri("_ipp._tcp", "printer.local", 631, {"rp=ipp/print"}),
              "ipp://printer.local:631/ipp/print");
    EXPECT_EQ(uri("_ipps._tcp", "printer.local", 443, {}), "ipps://printer.local:443/");
    EXPECT_EQ(uri("_smb._tcp", "nas.local", 445, {}), "smb://nas.local/");
    EXPECT_EQ(uri("_smb._tcp", "nas.local", 1445, {}), "smb://nas.local:1445/");
    EXPECT_EQ(uri("_porch._tcp", "x.local", 4422, {}), "(null)");
    // a host name no URI can hold (anyone on the link may advertise one) gives none
    EXPECT_EQ(uri("_sftp-ssh._tcp", "files.lo\t\xef\xbf\xbdl", 8443, {"path=/dav"}), "(null)");
}
