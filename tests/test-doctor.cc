// test-doctor.cc — `porch doctor` and `porch doctor HOST` as a user runs them on the test LAN:
// real porchds and avahi-daemons, the real porch command, judged by its lines and exit status.
//
//   LocalChecksAndAFirewallRule   on host 2 (porchd running): porchd, avahi-daemon, eth0 with
//                                 Porch published there and the name are ok, the clock as the
//                                 kernel says (kept in step or not); after an nft rule
//                                 dropping 5353/udp, that rule is named with the command that
//                                 removes it; exit status 1 exactly when a line is a problem
//   IptablesRules                 an iptables-legacy rule rejecting Porch's port and an
//                                 iptables-nft multiport rule dropping 5353/udp: each named
//                                 once, with the iptables command that deletes it
//   AvahiAndPorchdNotRunning      on host 3 with avahi-daemon stopped and no porchd: both named,
//                                 each with its fix
//   ContainerBridgeAndLinkLocalOnly  on host 3, docker0 is named as where no neighbour can be,
//                                 and an interface with only an IPv6 link-local address as
//                                 information (Porch works there), not a problem
//   ConfiguredInterfaces          on host 3, interfaces named in [porch] interfaces are not taken
//                                 for VPNs or container bridges (a veth and a wg-named link),
//                                 and those it leaves out are said to be left out
//   NameCollision                 a second porchd called like host 1's: published "NAME #2",
//                                 which the doctor names
//   HostWalk                      porch doctor "Doctor one" from host 2: seen on eth0, resolved,
//                                 TCP, key not pinned yet (and nothing pinned), peer login,
//                                 shares with read or read/write, the printer it may print on
//                                 and its clock near ours (its porchd's status); exit 0;
//                                 --json the same
//   HostProblems                  a changed host key, a key the host does not know (guest,
//                                 who may print on nothing), a clock an hour off, a host that
//                                 is down: each one problem line, exit 1
//
// Host 1 runs porchd "Doctor one" with Work (me may write), Docs (me may read) and Public
// (guests may read); host 2 runs porchd "Doctor two" and the client, with its own
// $XDG_CONFIG_HOME per test.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include <json-glib/json-glib.h>

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

std::vector<std::string>
Lines(const std::string &text)
{
    std::vector<std::string> lines;
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

// The lines that start with `status` ("ok", "problem", "skipped") and name `check`.
std::vector<std::string>
Checks(const std::string &out, const std::string &status, const std::string &check = "")
{
    std::vector<std::string> found;
    for (const std::string &line : Lines(out)) {
        std::string head = line.substr(0, line.find(' '));
        if (head != status)
            continue;
        std::string rest = line.substr(line.find_first_not_of(' ', head.size()));
        if (check.empty() || rest.rfind(check + ": ", 0) == 0)
            found.push_back(line);
    }
    return found;
}

class DoctorTest : public ::testing::Test
{
  protected:
    static void SetUpTestSuite()
    {
        std::string missing = TestLan::missing_tools({"ssh-keygen", "nft"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing;
            may_skip_ = !TestLan::must_run();
            return;
        }
        lan_ = TestLan::Create(3, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        const std::string h1 = lan_->host_dir(1), h2 = lan_->host_dir(2);
        const std::string keys = h2 + "/keys";
        for (const std::string &d : {h1 + "/work", h1 + "/docs", h1 + "/public", keys})
            if (!MakeDirs(d)) {
                why_not_ = "cannot make " + d;
                return;
            }
        my_key_ = MakeKey(keys + "/me", "me@host2");
        stranger_key_ = MakeKey(keys + "/stranger", "stranger@host2");
        if (my_key_.empty() || stranger_key_.empty()) {
            why_not_ = "ssh-keygen failed";
            return;
        }
        keys_ = keys;
        std::string conf1 = "[porch]\nname = Doctor one\nlisten = " + lan_->address(1) +
                            "\n\n[peer me]\nkey = " + my_key_ + "\n\n[share Work]\npath = " + h1 +
                            "/work\nwrite = me\n\n[share Docs]\npath = " + h1 +
                            "/docs\nread = me\n\n[share Public]\npath = " + h1 +
                            "/public\nread = guest\n\n[printer Office]\nqueue = NoSuchQueue\n"
                            "print = me\n";
        std::string conf2 = "[porch]\nname = Doctor two\nlisten = " + lan_->address(2) + "\n";
        if (!StartPorchd(1, conf1, &porchd1_) || !StartPorchd(2, conf2, &porchd2_))
            return;
        ready_ = true;
    }

    // Starts porchd on host i with conf in host_dir(i)/porch.conf, state in host_dir(i)/state.
    static bool StartPorchd(int i, const std::string &conf, pid_t *pid, const std::string &tag = "")
    {
        const std::string h = lan_->host_dir(i) + "/" + tag;
        const std::string log = h + "porchd.log";
        if (!WriteFile(h + "porch.conf", conf)) {
            why_not_ = "cannot write porch.conf";
            return false;
        }
        *pid = lan_->spawn(i, {kPorchd, "--config", h + "porch.conf", "--state-dir", h + "state"},
                           log);
        if (!PorchdStarted(lan_, *pid, log)) {
            why_not_ = "porchd did not start on host " + std::to_string(i) + "; its log:\n" +
                       ReadFile(log);
            may_skip_ = false;
            return false;
        }
        return true;
    }

    static void TearDownTestSuite()
    {
        delete lan_;
        lan_ = nullptr;
        ready_ = false;
    }

    void SetUp() override
    {
        if (!lan_ || !ready_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_not_;
            GTEST_FAIL() << "test LAN unavailable: " << why_not_
                         << (TestLan::must_run() ? " (CI is set: LAN tests must run)" : "");
        }
        name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        xdg_ = ConfigHome(name_, "me");
        ASSERT_FALSE(xdg_.empty());
    }

    // A new $XDG_CONFIG_HOME on host 2 whose porch key is keys/<key>.
    static std::string ConfigHome(const std::string &name, const std::string &key)
    {
        std::string xdg = lan_->host_dir(2) + "/xdg-" + name + "-" + key;
        if (!MakeDirs(xdg + "/porch", 0700) ||
            !WriteFile(xdg + "/porch/id_ed25519", ReadFile(keys_ + "/" + key), 0600) ||
            !WriteFile(xdg + "/porch/id_ed25519.pub", ReadFile(keys_ + "/" + key + ".pub")))
            return "";
        return xdg;
    }

    // porch on host `host` as a user with $XDG_CONFIG_HOME `xdg`.
    RunResult Porch(int host, const std::vector<std::string> &args, const std::string &xdg = "")
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                                         "XDG_CONFIG_HOME=" + (xdg.empty() ? xdg_ : xdg), kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(host, argv, 60);
    }

    // `porch doctor` for this machine on host i, with its porchd's config and state folder.
    RunResult DoctorLocal(int i, const std::vector<std::string> &extra = {})
    {
        const std::string h = lan_->host_dir(i);
        std::vector<std::string> args = {"doctor", "--config", h + "/porch.conf", "--state-dir",
                                         h + "/state"};
        args.insert(args.end(), extra.begin(), extra.end());
        return Porch(i, args);
    }

    static std::string Say(const RunResult &r)
    {
        return r.describe() + "\n  stdout:\n" + r.out;
    }

    // Exit status 1 exactly when some line is a problem, else 0.
    static void ExpectStatusMatchesLines(const RunResult &r)
    {
        EXPECT_EQ(r.exit_status, Checks(r.out, "problem").empty() ? 0 : 1) << Say(r);
    }

    static TestLan *lan_;
    static std::string why_not_, my_key_, stranger_key_, keys_;
    static bool may_skip_, ready_;
    static pid_t porchd1_, porchd2_;
    std::string name_, xdg_;
};

TestLan *DoctorTest::lan_ = nullptr;
std::string DoctorTest::why_not_, DoctorTest::my_key_, DoctorTest::stranger_key_, DoctorTest::keys_;
bool DoctorTest::may_skip_ = false, DoctorTest::ready_ = false;
pid_t DoctorTest::porchd1_ = -1, DoctorTest::porchd2_ = -1;

TEST_F(DoctorTest, LocalChecksAndAFirewallRule)
{
    RunResult r = DoctorLocal(2);
    EXPECT_EQ(Checks(r.out, "ok", "porchd").size(), 1u) << Say(r);
    EXPECT_EQ(Checks(r.out, "ok", "avahi-daemon").size(), 1u) << Say(r);
    EXPECT_EQ(Checks(r.out, "ok", "porch.conf").size(), 1u) << Say(r);
    EXPECT_EQ(Checks(r.out, "ok", "firewall").size(), 1u) << Say(r);
    auto eth0 = Checks(r.out, "ok", "eth0");
    ASSERT_EQ(eth0.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(eth0[0], "Porch published here")) << Say(r);
    auto name = Checks(r.out, "ok", "name");
    ASSERT_EQ(name.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(name[0], "'Doctor two'")) << Say(r);
    // the kernel says whether a time server keeps the clock in step: ok or worth knowing
    auto clock = Checks(r.out, "ok", "clock");
    auto unsynced = Checks(r.out, "info", "clock");
    clock.insert(clock.end(), unsynced.begin(), unsynced.end());
    ASSERT_EQ(clock.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(clock[0], "kept in step by a time server (off by") ||
                (Contains(clock[0], "info     clock: not kept in step by a time server") &&
                 Contains(clock[0], "fix: sudo timedatectl set-ntp true")))
            << Say(r);
    ExpectStatusMatchesLines(r);

    // a firewall on host 2 that drops mDNS
    for (const std::vector<std::string> &cmd :
         {std::vector<std::string>{"nft", "add", "table", "inet", "doctortest"},
          std::vector<std::string>{"nft", "add", "chain", "inet", "doctortest", "input",
                                   "{ type filter hook input priority 0; policy accept; }"},
          std::vector<std::string>{"nft", "add", "rule", "inet", "doctortest", "input", "udp",
                                   "dport", "5353", "counter", "drop"}}) {
        RunResult n = lan_->run(2, cmd);
        ASSERT_TRUE(n.ok()) << n.describe();
    }
    RunResult handles = lan_->run(2, {"nft", "-a", "list", "chain", "inet", "doctortest", "input"});
    ASSERT_TRUE(handles.ok()) << handles.describe();
    std::string handle = handles.out.substr(handles.out.rfind("# handle ") + 9);
    handle = handle.substr(0, handle.find_first_not_of("0123456789"));

    r = DoctorLocal(2);
    auto firewall = Checks(r.out, "problem", "firewall");
    ASSERT_EQ(firewall.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(firewall[0], "5353/udp")) << Say(r);
    EXPECT_TRUE(Contains(firewall[0], "table inet doctortest")) << Say(r);
    EXPECT_TRUE(Contains(firewall[0],
                         "fix: sudo nft delete rule inet doctortest input handle " + handle))
            << Say(r);
    EXPECT_EQ(r.exit_status, 1) << Say(r);

    // the same as JSON: an array of objects, the rule among them
    r = DoctorLocal(2, {"--json"});
    EXPECT_EQ(r.exit_status, 1) << Say(r);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(json_parser_load_from_data(parser, r.out.c_str(), -1, &error))
            << error->message << "\n"
            << Say(r);
    JsonNode *root = json_parser_get_root(parser);
    ASSERT_TRUE(root != nullptr && JSON_NODE_HOLDS_ARRAY(root)) << Say(r);
    JsonArray *checks = json_node_get_array(root);
    int rules = 0;
    for (guint i = 0; i < json_array_get_length(checks); i++) {
        JsonObject *c = json_array_get_object_element(checks, i);
        ASSERT_TRUE(c != nullptr && json_object_has_member(c, "check") &&
                    json_object_has_member(c, "status") && json_object_has_member(c, "message"))
                << Say(r);
        if (std::string(json_object_get_string_member(c, "check")) == "firewall") {
            EXPECT_STREQ(json_object_get_string_member(c, "status"), "problem");
            EXPECT_TRUE(Contains(json_object_get_string_member_with_default(c, "fix", ""),
                                 "nft delete rule inet doctortest input handle " + handle));
            rules++;
        }
    }
    EXPECT_EQ(rules, 1) << Say(r);

    ASSERT_TRUE(lan_->run(2, {"nft", "delete", "table", "inet", "doctortest"}).ok());
    r = DoctorLocal(2);
    EXPECT_EQ(Checks(r.out, "ok", "firewall").size(), 1u) << Say(r);
}

TEST_F(DoctorTest, IptablesRules)
{
    PORCH_REQUIRE_TOOLS("iptables-legacy", "iptables-nft");
    // a legacy rule, which nft does not see, and an iptables-nft one that nft shows only as an
    // opaque extension (multiport)
    RunResult n = lan_->run(
            2, {"iptables-legacy", "-A", "INPUT", "-p", "tcp", "--dport", "4422", "-j", "REJECT"});
    ASSERT_TRUE(n.ok()) << n.describe();
    n = lan_->run(2, {"iptables-nft", "-A", "INPUT", "-p", "udp", "-m", "multiport", "--dports",
                      "5000,5353", "-j", "DROP"});
    ASSERT_TRUE(n.ok()) << n.describe();
    RunResult r = DoctorLocal(2);
    auto firewall = Checks(r.out, "problem", "firewall");
    ASSERT_EQ(firewall.size(), 2u) << Say(r);
    EXPECT_TRUE(Contains(firewall[0], "iptables-legacy rule '-A INPUT -p tcp -m tcp --dport 4422"))
            << Say(r);
    EXPECT_TRUE(Contains(firewall[0], "4422/tcp")) << Say(r);
    EXPECT_TRUE(Contains(firewall[0], "fix: sudo iptables-legacy -D INPUT -p tcp -m tcp --dport "
                                      "4422 -j REJECT"))
            << Say(r);
    EXPECT_TRUE(Contains(firewall[1], "--dports 5000,5353 -j DROP' drops 5353/udp")) << Say(r);
    EXPECT_TRUE(Contains(firewall[1], "fix: sudo iptables -D INPUT -p udp -m multiport")) << Say(r);
    EXPECT_EQ(r.exit_status, 1) << Say(r);
}

TEST_F(DoctorTest, AvahiAndPorchdNotRunning)
{
    ASSERT_GE(lan_->stop(lan_->avahi_pid(3)), 0);
    RunResult r = DoctorLocal(3);
    auto avahi = Checks(r.out, "problem", "avahi-daemon");
    ASSERT_EQ(avahi.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(avahi[0], "not running")) << Say(r);
    EXPECT_TRUE(Contains(avahi[0], "fix: sudo systemctl enable --now avahi-daemon")) << Say(r);
    auto porchd = Checks(r.out, "problem", "porchd");
    ASSERT_EQ(porchd.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(porchd[0], "not running")) << Say(r);
    EXPECT_TRUE(Contains(porchd[0], "porchd.pid")) << Say(r);
    EXPECT_EQ(Checks(r.out, "skipped", "published").size(), 1u) << Say(r);
    EXPECT_EQ(r.exit_status, 1) << Say(r);
    EXPECT_TRUE(lan_->restart_avahi(3));
}

TEST_F(DoctorTest, ContainerBridgeAndLinkLocalOnly)
{
    // host 3 gains a Docker-like bridge and an interface with only an IPv6 link-local address
    for (const std::vector<std::string> &cmd :
         {std::vector<std::string>{"ip", "link", "add", "docker0", "type", "bridge"},
          std::vector<std::string>{"ip", "addr", "add", "172.17.0.1/16", "dev", "docker0"},
          std::vector<std::string>{"ip", "link", "set", "docker0", "up"},
          // a veth whose other end stays down: eth1 has no carrier, so only the address given
          std::vector<std::string>{"ip", "link", "add", "eth1", "type", "veth", "peer", "name",
                                   "eth1-peer"},
          std::vector<std::string>{"ip", "addr", "add", "fe80::3:1/64", "dev", "eth1"},
          std::vector<std::string>{"ip", "link", "set", "eth1", "up"}}) {
        RunResult n = lan_->run(3, cmd);
        ASSERT_TRUE(n.ok()) << n.describe();
    }
    RunResult r = DoctorLocal(3);
    auto docker = Checks(r.out, "ok", "docker0");
    ASSERT_EQ(docker.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(docker[0], "a Docker bridge: no neighbour can be there")) << Say(r);
    EXPECT_TRUE(Checks(r.out, "problem", "eth1").empty()) << Say(r);
    auto eth1 = Checks(r.out, "info", "eth1");
    ASSERT_EQ(eth1.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(eth1[0], "IPv6 link-local only (no IPv4, no global IPv6 address)"))
            << Say(r);
    EXPECT_TRUE(Contains(eth1[0], "Porch reaches neighbours there as fe80::...%eth1")) << Say(r);
    EXPECT_EQ(Checks(r.out, "ok", "eth0").size(), 1u) << Say(r);
    EXPECT_EQ(r.exit_status, 1) << Say(r);
}

TEST_F(DoctorTest, ConfiguredInterfaces)
{
    // host 3 gains a veth pair and a link named like a WireGuard tunnel, each with an address
    for (const std::vector<std::string> &cmd :
         {std::vector<std::string>{"ip", "link", "add", "veth-c", "type", "veth", "peer", "name",
                                   "wg7"},
          std::vector<std::string>{"ip", "addr", "add", "10.55.0.1/24", "dev", "veth-c"},
          std::vector<std::string>{"ip", "addr", "add", "10.55.0.2/24", "dev", "wg7"},
          std::vector<std::string>{"ip", "link", "set", "veth-c", "up"},
          std::vector<std::string>{"ip", "link", "set", "wg7", "up"}}) {
        RunResult n = lan_->run(3, cmd);
        ASSERT_TRUE(n.ok()) << n.describe();
    }
    const std::string h = lan_->host_dir(3) + "/ifs-";
    auto doctor = [&](const std::string &extra) {
        EXPECT_TRUE(WriteFile(h + "porch.conf", "[porch]\nname = Doctor three\n" + extra));
        return Porch(3, {"doctor", "--config", h + "porch.conf", "--state-dir", h + "state"});
    };

    // by default both are where no neighbour can be
    RunResult r = doctor("");
    for (const char *name : {"veth-c", "wg7"}) {
        auto line = Checks(r.out, "ok", name);
        ASSERT_EQ(line.size(), 1u) << name << Say(r);
        EXPECT_TRUE(Contains(line[0], "no neighbour can be there")) << Say(r);
    }

    // named: taken as LAN interfaces, not flagged; eth0, left out, is said to be
    r = doctor("interfaces = veth-c; wg7\n");
    for (const char *name : {"veth-c", "wg7"}) {
        EXPECT_TRUE(Checks(r.out, "problem", name).empty()) << name << Say(r);
        auto line = Checks(r.out, "ok", name);
        ASSERT_EQ(line.size(), 1u) << name << Say(r);
        EXPECT_TRUE(Contains(line[0], "named in [porch] interfaces: not taken for a VPN or "
                                      "container bridge"))
                << Say(r);
        EXPECT_FALSE(Contains(line[0], "no neighbour can be there")) << Say(r);
    }
    auto eth0 = Checks(r.out, "ok", "eth0");
    ASSERT_EQ(eth0.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(eth0[0], "not in [porch] interfaces")) << Say(r);
    EXPECT_TRUE(Checks(r.out, "problem", "network").empty()) << Say(r);

    for (const char *name : {"veth-c"})
        lan_->run(3, {"ip", "link", "delete", name});
}

TEST_F(DoctorTest, NameCollision)
{
    // host 3 calls itself what host 1 is already called: avahi renames it
    pid_t twin = -1;
    ASSERT_TRUE(WaitFor(
            [&] {
                return Contains(lan_->run(3, {"avahi-browse", "-pt", "_porch._tcp"}).out,
                                ";Doctor\\032one;");
            },
            15))
            << "host 1's porchd is not seen from host 3";
    ASSERT_TRUE(StartPorchd(3, "[porch]\nname = Doctor one\nlisten = " + lan_->address(3) + "\n",
                            &twin))
            << why_not_;
    const std::string log = lan_->host_dir(3) + "/porchd.log";
    EXPECT_TRUE(WaitFor([&] { return Contains(ReadFile(log), "is taken on the network"); }, 15))
            << ReadFile(log);
    // the renamed service is probed for a moment before avahi-daemon publishes it
    RunResult r;
    WaitFor(
            [&] {
                r = DoctorLocal(3);
                return !Checks(r.out, "problem", "name").empty();
            },
            15);
    auto name = Checks(r.out, "problem", "name");
    ASSERT_EQ(name.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(name[0], "'Doctor one #2', not 'Doctor one'")) << Say(r);
    EXPECT_TRUE(Contains(name[0], "fix: ")) << Say(r);
    EXPECT_EQ(r.exit_status, 1) << Say(r);
    lan_->stop(twin);
}

TEST_F(DoctorTest, HostWalk)
{
    RunResult r = Porch(2, {"doctor", "Doctor one"});
    EXPECT_EQ(r.exit_status, 0) << Say(r);
    EXPECT_TRUE(Checks(r.out, "problem").empty()) << Say(r);
    auto mdns = Checks(r.out, "ok", "mdns");
    ASSERT_EQ(mdns.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(mdns[0], "seen on eth0")) << Say(r);
    auto name = Checks(r.out, "ok", "name");
    ASSERT_EQ(name.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(name[0], lan_->address(1))) << Say(r);
    EXPECT_EQ(Checks(r.out, "ok", "tcp").size(), 1u) << Say(r);
    auto key = Checks(r.out, "ok", "key");
    ASSERT_EQ(key.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(key[0], "not pinned yet")) << Say(r);
    EXPECT_FALSE(porch::test::Exists(xdg_ + "/porch/known_peers")) << "the doctor pinned a key";
    auto login = Checks(r.out, "ok", "login");
    ASSERT_EQ(login.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(login[0], "as a peer")) << Say(r);
    auto shares = Checks(r.out, "ok", "shares");
    ASSERT_EQ(shares.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(shares[0], "Docs (read), Public (read), Work (read, write)")) << Say(r);
    auto printers = Checks(r.out, "ok", "printers");
    ASSERT_EQ(printers.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(printers[0], "you may print on Office")) << Say(r);
    auto clock = Checks(r.out, "ok", "clock");
    ASSERT_EQ(clock.size(), 1u) << Say(r);
    EXPECT_TRUE(Contains(clock[0], "s of ours")) << Say(r);

    // once pinned by a real command, the key matches the pin
    ASSERT_TRUE(Porch(2, {"ls", "Doctor one"}).ok());
    r = Porch(2, {"doctor", "--json", "Doctor one"});
    EXPECT_EQ(r.exit_status, 0) << Say(r);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(json_parser_load_from_data(parser, r.out.c_str(), -1, &error))
            << error->message << "\n"
            << Say(r);
    JsonNode *root = json_parser_get_root(parser);
    ASSERT_TRUE(root != nullptr && JSON_NODE_HOLDS_ARRAY(root)) << Say(r);
    JsonArray *checks = json_node_get_array(root);
    bool key_matches = false;
    for (guint i = 0; i < json_array_get_length(checks); i++) {
        JsonObject *c = json_array_get_object_element(checks, i);
        ASSERT_TRUE(c != nullptr) << Say(r);
        EXPECT_STRNE(json_object_get_string_member(c, "status"), "problem") << Say(r);
        if (std::string(json_object_get_string_member(c, "check")) == "key")
            key_matches = Contains(json_object_get_string_member(c, "message"), "matches the pin");
    }
    EXPECT_TRUE(key_matches) << Say(r);
}

TEST_F(DoctorTest, HostProblems)
{
    const std::string host = lan_->address(1);
    {
        SCOPED_TRACE("the host key changed");
        ASSERT_TRUE(Porch(2, {"ls", host}).ok());
        const std::string pins = xdg_ + "/porch/known_peers";
        std::string text = ReadFile(pins);
        // the pin's key replaced by another key (type and base64 of the stranger's)
        size_t at = text.find(host + " ");
        ASSERT_NE(at, std::string::npos) << text;
        size_t end = text.find('\n', at);
        std::string other = stranger_key_.substr(0, stranger_key_.rfind(' '));
        text.replace(at, end - at, host + " " + other);
        ASSERT_TRUE(WriteFile(pins, text, 0600));
        RunResult r = Porch(2, {"doctor", host});
        auto problems = Checks(r.out, "problem");
        ASSERT_EQ(problems.size(), 1u) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "key: the key changed")) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "delete line")) << Say(r);
        EXPECT_TRUE(Contains(problems[0], pins)) << Say(r);
        EXPECT_EQ(r.exit_status, 1) << Say(r);
    }
    {
        SCOPED_TRACE("a key the host does not know: guest");
        const std::string xdg = ConfigHome(name_, "stranger");
        ASSERT_FALSE(xdg.empty());
        RunResult r = Porch(2, {"doctor", "Doctor one"}, xdg);
        auto problems = Checks(r.out, "problem");
        ASSERT_EQ(problems.size(), 1u) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "login: only as a guest")) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "porch peers accept")) << Say(r);
        auto shares = Checks(r.out, "ok", "shares");
        ASSERT_EQ(shares.size(), 1u) << Say(r);
        EXPECT_TRUE(Contains(shares[0], "Public (read)")) << Say(r);
        EXPECT_FALSE(Contains(shares[0], "Work")) << Say(r);
        auto printers = Checks(r.out, "ok", "printers");
        ASSERT_EQ(printers.size(), 1u) << Say(r);
        EXPECT_TRUE(Contains(printers[0], "none you may print on")) << Say(r);
        EXPECT_EQ(r.exit_status, 1) << Say(r);
    }
    {
        SCOPED_TRACE("a clock an hour behind the neighbour's");
        // This machine's clock cannot be moved for one process: a preloaded library
        // (tests/fake-clock.c) sets porch's CLOCK_REALTIME an hour back; porchd's stays true.
        RunResult r =
                lan_->run(2,
                          {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_,
                           std::string("LD_PRELOAD=") + PORCH_TEST_FAKE_CLOCK,
                           "PORCH_TEST_CLOCK_OFFSET=-3600", "ASAN_OPTIONS=verify_asan_link_order=0",
                           kPorch, "doctor", "Doctor one"},
                          60);
        auto problems = Checks(r.out, "problem");
        ASSERT_EQ(problems.size(), 1u) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "clock: its clock is 3600 s ahead of ours")) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "timedatectl set-ntp true")) << Say(r);
        EXPECT_EQ(r.exit_status, 1) << Say(r);
    }
    {
        SCOPED_TRACE("a host that is down");
        const std::string down = "10.88.0.9"; // on the LAN's subnet, no host there
        RunResult r = Porch(2, {"doctor", "--connect-timeout", "3", down});
        auto problems = Checks(r.out, "problem");
        ASSERT_EQ(problems.size(), 1u) << Say(r);
        EXPECT_TRUE(Contains(problems[0], "tcp: cannot connect to " + down)) << Say(r);
        EXPECT_TRUE(Checks(r.out, "ok", "login").empty()) << Say(r);
        EXPECT_EQ(r.exit_status, 1) << Say(r);
    }
}

} // namespace
