// test-interfaces.cc — the interfaces Porch publishes on and browses from, and a LAN with
// only IPv6 link-local addresses.
//
//   Rules                          which interface names are left out by default, and what
//                                  [porch] interfaces = accepts
//   DockerBridgeGetsNoRecords      host 1 has a second interface named docker0, linked to
//                                  host 2's veth-x: porchd's records are on eth0 (with eth0's
//                                  addresses) and not on docker0, seen from host 1 itself and
//                                  from host 2, though other programs' records cross that link
//   ConfiguredInterfaces           interfaces = docker0;eth0 publishes on both (each with its
//                                  own addresses); a reload to eth0 alone takes docker0's back;
//                                  interfaces = docker0 alone (and a new name): host 2's avahi
//                                  sees porchd on veth-x only, and `porch browse` ignores it,
//                                  unless host 2's own porch.conf names veth-x
//   InterfaceAddedLater            an interface that appears while porchd runs gets the records
//                                  within seconds
//   Ipv6LinkLocalOnly              no IPv4 address on either host: porch browse finds host 1
//                                  with its fe80:: address, porch get fetches a file and porch
//                                  print prints through it
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include <glib.h>
#include <unistd.h>

#include "porch-config.h"
#include "porch-interfaces.h"
#include "testlan.h"
#include "test-util.h"

namespace
{

using porch::test::Contains;
using porch::test::MakeDirs;
using porch::test::MakeKey;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::TestLan;
using porch::test::WaitFor;
using porch::test::WriteFile;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;

// ---- which interfaces ----------------------------------------------------------------------

TEST(Interfaces, Rules)
{
    for (const char *name : {"eth0", "enp3s0", "wlan0", "wlp2s0", "br0", "bond0", "eno1"})
        EXPECT_TRUE(porch_interface_wanted(name, nullptr)) << name;
    for (const char *name : {"lo", "docker0", "br-3f2a1b", "veth12ab", "virbr0", "vnet3", "tun0",
                             "tap1", "wg0", "tailscale0", "lxcbr0", "podman1"})
        EXPECT_FALSE(porch_interface_wanted(name, nullptr)) << name;
    EXPECT_STREQ(porch_interface_virtual_kind("docker0"), "a Docker bridge");
    EXPECT_EQ(porch_interface_virtual_kind("eth0"), nullptr);
    EXPECT_EQ(porch_interface_virtual_kind("lo"), nullptr);

    // configured: exactly those names
    const char *const configured[] = {"docker0", "eth0", nullptr};
    EXPECT_TRUE(porch_interface_wanted("docker0", configured));
    EXPECT_TRUE(porch_interface_wanted("eth0", configured));
    EXPECT_FALSE(porch_interface_wanted("wlan0", configured));
}

TEST(Interfaces, ConfigKey)
{
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) c =
            porch_config_load_data("[porch]\ninterfaces = docker0; eth0 ;\n", -1, "t", &error);
    ASSERT_NE(c, nullptr) << error->message;
    const char *const *names = porch_config_get_interfaces(c);
    ASSERT_NE(names, nullptr);
    ASSERT_EQ(g_strv_length(const_cast<char **>(names)), 2u);
    EXPECT_STREQ(names[0], "docker0");
    EXPECT_STREQ(names[1], "eth0");

    g_autoptr(PorchConfig) unset = porch_config_load_data("[porch]\n", -1, "t", &error);
    ASSERT_NE(unset, nullptr) << error->message;
    EXPECT_EQ(porch_config_get_interfaces(unset), nullptr);

    for (const char *bad :
         {"interfaces = ;", "interfaces = eth0;a/b", "interfaces = averyveryverylongname",
          "interfaces = eth0:1", "interfaces = ..", "interfaces = a b"}) {
        g_autoptr(GError) e = nullptr;
        std::string text = std::string("[porch]\n") + bad + "\n";
        g_autoptr(PorchConfig) x = porch_config_load_data(text.c_str(), -1, "t", &e);
        EXPECT_EQ(x, nullptr) << bad;
        if (e != nullptr) {
            EXPECT_TRUE(Contains(e->message, "interfaces")) << e->message;
        }
    }
}

// ---- on the test LAN -----------------------------------------------------------------------

// One resolved record of `avahi-browse -rpt`.
struct Record {
    std::string iface, proto, name, type, host, address;
};

// avahi-browse -p escapes: "\032" (decimal) and "\." style.
std::string
Unescape(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && isdigit((unsigned char)s[i + 1]) &&
            isdigit((unsigned char)s[i + 2]) && isdigit((unsigned char)s[i + 3])) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 3)));
            i += 3;
        } else if (s[i] == '\\' && i + 1 < s.size()) {
            out += s[++i];
        } else {
            out += s[i];
        }
    }
    return out;
}

// The resolved records of `type` that host sees, all interfaces ("=" lines).
std::vector<Record>
Browse(TestLan &lan, int host, const std::string &type, std::string *raw = nullptr)
{
    std::vector<Record> found;
    RunResult r = lan.run(host, {"avahi-browse", "-rpt", type}, 20);
    if (raw)
        *raw = r.describe() + "\n" + r.out;
    std::stringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> f;
        std::stringstream fields(line);
        for (std::string x; f.size() < 9 && std::getline(fields, x, ';');)
            f.push_back(x);
        if (f.size() == 9 && f[0] == "=")
            found.push_back({f[1], f[2], Unescape(f[3]), f[4], f[6], f[7]});
    }
    return found;
}

// The records named `name` among `records` on interface `iface`.
std::vector<Record>
On(const std::vector<Record> &records, const std::string &iface, const std::string &name)
{
    std::vector<Record> on;
    for (const Record &r : records)
        if (r.iface == iface && r.name == name)
            on.push_back(r);
    return on;
}

std::string
Describe(const std::vector<Record> &records)
{
    std::string s;
    for (const Record &r : records)
        s += "  " + r.iface + " " + r.proto + " \"" + r.name + "\" " + r.type + " " + r.host + " " +
             r.address + "\n";
    return s;
}

class InterfacesTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        std::string why;
        bool may_skip = false;
        std::string missing = TestLan::missing_tools({"avahi-browse", "avahi-publish", "jq"});
        if (!missing.empty()) {
            if (TestLan::must_run())
                GTEST_FAIL() << "missing tools (CI is set): " << missing;
            GTEST_SKIP() << "missing tools: " << missing;
        }
        lan_ = TestLan::Create(2, &why, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why;
            GTEST_FAIL() << "test LAN unavailable: " << why;
        }
        h1_ = lan_->host_dir(1);
        ASSERT_TRUE(MakeDirs(h1_ + "/work"));
        ASSERT_TRUE(WriteFile(h1_ + "/work/readme.txt", "over link-local\n"));
    }

    void TearDown() override
    {
        if (HasFailure() && lan_ && porchd_ > 0)
            fprintf(stderr, "---- porchd log ----\n%s\n", ReadFile(log_).c_str());
    }

    // Links host 1's interface `name1` to host 2's `name2` (a veth pair), with the addresses
    // PREFIX4.<i>/24 and fe80::PREFIX6:<i>/64 (usable at once: no DAD), both ends up.
    void Link(const std::string &name1, const std::string &name2, const std::string &prefix4,
              const std::string &prefix6)
    {
        std::vector<std::vector<std::string>> cmds[3] = {
                {},
                {{"ip", "link", "add", name1, "type", "veth", "peer", "name", name2, "netns",
                  lan_->ns(2)}},
                {}};
        const std::string names[3] = {"", name1, name2};
        for (int i : {1, 2})
            for (auto c : std::vector<std::vector<std::string>>{
                         {"ip", "link", "set", names[i], "addrgenmode", "none"},
                         {"ip", "addr", "add", prefix4 + "." + std::to_string(i) + "/24", "dev",
                          names[i]},
                         {"ip", "addr", "add", "fe80::" + prefix6 + ":" + std::to_string(i) + "/64",
                          "dev", names[i], "nodad"},
                         {"ip", "link", "set", names[i], "up"}})
                cmds[i].push_back(c);
        for (int i : {1, 2})
            for (const auto &c : cmds[i]) {
                RunResult r = lan_->run(i, c);
                ASSERT_TRUE(r.ok()) << "host " << i << ": " << c[0] << " " << c[1] << " " << c[2]
                                    << ": " << r.describe();
            }
    }

    // Writes host 1's porch.conf ([porch] name = name_, `extra` lines in [porch], the share
    // Work readable by guests, `more` after it) and starts porchd with it.
    void StartPorchd(const std::string &extra, const std::string &more = "",
                     const std::vector<std::string> &env = {})
    {
        conf_ = h1_ + "/porch.conf";
        ASSERT_TRUE(WriteFile(conf_, Conf(extra, more)));
        log_ = h1_ + "/porchd.log";
        std::vector<std::string> argv = {"env"};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.insert(argv.end(), {kPorchd, "--config", conf_, "--state-dir", h1_ + "/state"});
        porchd_ = lan_->spawn(1, argv, log_);
        ASSERT_TRUE(PorchdStarted(lan_.get(), porchd_, log_)) << ReadFile(log_);
    }

    std::string Conf(const std::string &extra, const std::string &more = "")
    {
        return "[porch]\nname = " + name_ + "\n" + extra + "\n[share Work]\npath = " + h1_ +
               "/work\nread = guest\n" + more;
    }

    // Rewrites porch.conf with `extra` in [porch] and reloads porchd; true once it says so.
    bool Reload(const std::string &extra)
    {
        size_t before = Count(ReadFile(log_), "reloaded");
        if (!WriteFile(conf_, Conf(extra)) || kill(porchd_, SIGHUP) != 0)
            return false;
        return WaitFor([&] { return Count(ReadFile(log_), "reloaded") > before; }, 10);
    }

    static size_t Count(const std::string &text, const std::string &what)
    {
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
            n++;
        return n;
    }

    // Waits until host `host` sees porchd's _porch._tcp record on `iface` (or, with
    // present = false, no longer sees it there) for at most `seconds`; the last records of
    // both kinds seen in *last.
    bool WaitRecords(int host, const std::string &iface, bool present, double seconds,
                     std::vector<Record> *last)
    {
        return WaitFor(
                [&] {
                    *last = Browse(*lan_, host, "_porch._tcp");
                    auto share = Browse(*lan_, host, "_sftp-ssh._tcp");
                    last->insert(last->end(), share.begin(), share.end());
                    return On(*last, iface, name_).empty() != present &&
                           On(*last, iface, Share()).empty() != present;
                },
                seconds);
    }

    // porch browse --json on host 2 (with $XDG_CONFIG_HOME `xdg` when given): the names it
    // lists, one per line.
    std::string PorchBrowseNames(const std::string &xdg = "")
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8"};
        if (!xdg.empty())
            argv.push_back("XDG_CONFIG_HOME=" + xdg);
        argv.insert(argv.end(), {kPorch, "browse", "--json"});
        RunResult r = lan_->run(2, argv, 30);
        EXPECT_TRUE(r.ok()) << r.describe();
        std::string path = lan_->state_dir() + "/browse.json";
        if (!WriteFile(path, r.out))
            return "cannot write " + path;
        RunResult jq = TestLan::run_local({"jq", "-r", ".[].name", path});
        return jq.ok() ? jq.out : "jq failed: " + jq.describe() + "\n" + r.out;
    }

    // porchd's display name, and its share's instance name
    std::string name_ = "Bridge one";
    std::string Share() const
    {
        return "Work on " + name_;
    }
    std::unique_ptr<TestLan> lan_;
    std::string h1_, conf_, log_;
    pid_t porchd_ = -1;
};

TEST_F(InterfacesTest, DockerBridgeGetsNoRecords)
{
    Link("docker0", "veth-x", "172.17.0", "17");
    StartPorchd("");

    // Another program's service crosses the docker0 link: host 2 sees it on veth-x.
    pid_t control = lan_->spawn(1, {"avahi-publish", "-s", "Control one", "_http._tcp", "80"});
    ASSERT_GT(control, 0);
    std::vector<Record> http;
    ASSERT_TRUE(WaitFor(
            [&] {
                http = Browse(*lan_, 2, "_http._tcp");
                return !On(http, "veth-x", "Control one").empty();
            },
            20))
            << "mDNS does not cross the docker0 link:\n"
            << Describe(http);

    // porchd's records: on eth0, with eth0's addresses only...
    std::vector<Record> seen;
    ASSERT_TRUE(WaitRecords(2, "eth0", true, 20, &seen)) << Describe(seen);
    for (const Record &r : On(seen, "eth0", name_))
        EXPECT_TRUE(r.address == lan_->address(1) || r.address == lan_->address6(1))
                << "an address reachable on eth0\n"
                << Describe(seen);
    // ... and never on docker0, though avahi has had time to announce there.
    g_usleep(2 * G_USEC_PER_SEC);
    seen = Browse(*lan_, 2, "_porch._tcp");
    auto shares = Browse(*lan_, 2, "_sftp-ssh._tcp");
    seen.insert(seen.end(), shares.begin(), shares.end());
    EXPECT_TRUE(On(seen, "veth-x", name_).empty()) << Describe(seen);
    EXPECT_TRUE(On(seen, "veth-x", Share()).empty()) << Describe(seen);
    EXPECT_FALSE(On(seen, "eth0", Share()).empty()) << Describe(seen);

    // Host 1's own avahi-daemon holds them for eth0, not for docker0.
    std::vector<Record> local = Browse(*lan_, 1, "_porch._tcp");
    EXPECT_FALSE(On(local, "eth0", name_).empty()) << Describe(local);
    EXPECT_TRUE(On(local, "docker0", name_).empty()) << Describe(local);
    std::vector<Record> local_http = Browse(*lan_, 1, "_http._tcp");
    EXPECT_FALSE(On(local_http, "docker0", "Control one").empty())
            << "host 1's avahi-daemon publishes on docker0\n"
            << Describe(local_http);
}

TEST_F(InterfacesTest, ConfiguredInterfaces)
{
    Link("docker0", "veth-x", "172.17.0", "17");
    StartPorchd("interfaces = docker0;eth0\n");

    // On both, each interface's records with that interface's addresses.
    std::vector<Record> seen;
    ASSERT_TRUE(WaitRecords(2, "veth-x", true, 20, &seen)) << Describe(seen);
    ASSERT_TRUE(WaitRecords(2, "eth0", true, 20, &seen)) << Describe(seen);
    for (const Record &r : On(seen, "veth-x", name_))
        EXPECT_TRUE(r.address == "172.17.0.1" || r.address == "fe80::17:1") << Describe(seen);
    for (const Record &r : On(seen, "eth0", name_))
        EXPECT_TRUE(r.address == lan_->address(1) || r.address == lan_->address6(1))
                << Describe(seen);
    EXPECT_TRUE(Contains(PorchBrowseNames(), name_));

    // A reload to eth0 alone takes docker0's records back. Seen from host 1's avahi-daemon,
    // which holds them: whether host 2 drops them at once depends on a goodbye packet, which
    // mDNS does not repeat.
    ASSERT_TRUE(Reload("interfaces = eth0\n")) << ReadFile(log_);
    EXPECT_TRUE(WaitRecords(1, "docker0", false, 10, &seen)) << Describe(seen);
    EXPECT_TRUE(WaitRecords(1, "eth0", true, 10, &seen)) << Describe(seen);

    // docker0 alone, under a name host 2 has not seen before: host 2's avahi-daemon sees it on
    // veth-x only, and porch browse ignores it there.
    name_ = "Bridge two";
    ASSERT_TRUE(Reload("interfaces = docker0\n")) << ReadFile(log_);
    EXPECT_TRUE(WaitRecords(2, "veth-x", true, 10, &seen)) << Describe(seen);
    EXPECT_TRUE(On(seen, "eth0", name_).empty()) << Describe(seen);
    EXPECT_TRUE(WaitRecords(1, "eth0", false, 10, &seen)) << Describe(seen);
    std::string names = PorchBrowseNames();
    EXPECT_FALSE(Contains(names, name_)) << names;

    // unless host 2's porch.conf names veth-x in [porch] interfaces: porch browse takes the
    // rule of this machine's porchd
    const std::string xdg = lan_->host_dir(2) + "/xdg-ifs";
    ASSERT_TRUE(MakeDirs(xdg + "/porch", 0700));
    ASSERT_TRUE(WriteFile(xdg + "/porch/porch.conf",
                          "[porch]\nname = Bridge host two\ninterfaces = eth0;veth-x\n"));
    names = PorchBrowseNames(xdg);
    EXPECT_TRUE(Contains(names, name_)) << names;
    // a porch.conf that does not load leaves the default rule
    ASSERT_TRUE(WriteFile(xdg + "/porch/porch.conf", "[porch]\ninterfaces = a b\n"));
    names = PorchBrowseNames(xdg);
    EXPECT_FALSE(Contains(names, name_)) << names;
}

TEST_F(InterfacesTest, InterfaceAddedLater)
{
    StartPorchd("");
    std::vector<Record> seen;
    ASSERT_TRUE(WaitRecords(2, "eth0", true, 20, &seen)) << Describe(seen);

    // A new interface of the default kind, then one that is a container's: only the first
    // gets the records, within seconds.
    Link("lan1", "lan2", "10.77.0", "77");
    Link("veth-y", "veth-z", "10.66.0", "66");
    EXPECT_TRUE(WaitRecords(2, "lan2", true, 10, &seen)) << Describe(seen);
    // veth-y: none on host 1's avahi-daemon (while porchd still published on every interface,
    // for a moment, they were there: their goodbye is not what is tested here).
    g_usleep(2 * G_USEC_PER_SEC);
    EXPECT_TRUE(WaitRecords(1, "veth-y", false, 1, &seen)) << Describe(seen);
    // Published again, now once per interface, on both that count.
    EXPECT_TRUE(WaitRecords(2, "eth0", true, 10, &seen)) << Describe(seen);
    EXPECT_TRUE(WaitRecords(2, "lan2", true, 10, &seen)) << Describe(seen);
}

TEST_F(InterfacesTest, Ipv6LinkLocalOnly)
{
    PORCH_REQUIRE_TOOLS("cupsd", "lpadmin", "ssh-keygen");
    // No IPv4 address anywhere: only fe80::88:<i> on eth0.
    for (int i : {1, 2}) {
        RunResult r =
                lan_->run(i, {"ip", "-4", "addr", "del", lan_->address(i) + "/24", "dev", "eth0"});
        ASSERT_TRUE(r.ok()) << r.describe();
        r = lan_->run(i, {"ip", "-4", "addr", "show", "dev", "eth0"});
        ASSERT_FALSE(Contains(r.out, "inet ")) << r.out;
    }

    // Host 1: a CUPS queue printing to a file, porchd sharing Work and the printer.
    std::string why;
    ASSERT_FALSE(lan_->start_cupsd(1, &why).empty()) << why;
    const std::string out = h1_ + "/office.out";
    RunResult r = lan_->run_cups(1,
                                 {"lpadmin", "-p", "Office", "-E", "-v", "file://" + out, "-m",
                                  "drv:///sample.drv/generic.ppd"},
                                 30);
    ASSERT_TRUE(r.ok()) << r.describe();
    const std::string h2 = lan_->host_dir(2), xdg = h2 + "/xdg";
    ASSERT_TRUE(MakeDirs(xdg + "/porch", 0700));
    std::string key = MakeKey(xdg + "/porch/id_ed25519", "me@host2");
    ASSERT_FALSE(key.empty());
    StartPorchd("", "\n[peer me]\nkey = " + key + "\n\n[printer Office]\nprint = me\n",
                {"CUPS_SERVER=" + lan_->cups_server(1)});

    auto porch = [&](const std::vector<std::string> &args) {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg,
                                         "CUPS_SERVER=" + lan_->cups_server(2), kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(2, argv, 60);
    };

    // browse: host 1 with its link-local address, scoped to eth0
    std::string json;
    ASSERT_TRUE(WaitFor(
            [&] {
                RunResult b = porch({"browse", "--json"});
                json = b.out;
                return Contains(b.out, "fe80::88:1%eth0") && Contains(b.out, "Office");
            },
            20))
            << json;
    std::string path = lan_->state_dir() + "/six.json";
    ASSERT_TRUE(WriteFile(path, json));
    RunResult jq = TestLan::run_local(
            {"jq", "-c", ".[] | select(.name == \"Bridge one\") | [.ipv4, .ipv6]", path});
    EXPECT_EQ(jq.out, "[[],[\"fe80::88:1%eth0\"]]\n") << json;

    // get, by the browsed name
    const std::string got = h2 + "/readme.txt";
    r = porch({"get", "--quiet", name_ + "/Work/readme.txt", got});
    ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out;
    EXPECT_EQ(ReadFile(got), "over link-local\n");
    // and by the scoped address itself
    const std::string got2 = h2 + "/readme-by-address.txt";
    r = porch({"get", "--quiet", "[" + lan_->address6(1) + "%eth0]/Work/readme.txt", got2});
    ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out;
    EXPECT_EQ(ReadFile(got2), "over link-local\n");

    // print, by the browsed name
    const std::string doc = h2 + "/hello.txt";
    ASSERT_TRUE(WriteFile(doc, "Hello over IPv6 link-local.\n"));
    r = porch({"print", name_ + "/Office", doc});
    ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out;
    EXPECT_TRUE(Contains(r.out, "job")) << r.out;
    EXPECT_TRUE(WaitFor(
            [&] {
                std::string head = ReadFile(out).substr(0, 4);
                return head == "%PDF" || head == "%!PS";
            },
            30))
            << "nothing printed to " << out << "\n"
            << lan_->run_cups(1, {"lpstat", "-W", "all", "-o"}).out;
}

} // namespace
