// test-publish.cc — porchd on the local network as a neighbour's avahi-browse sees it: porchd
// on test-LAN host 1 (and host 3), avahi-browse on host 2, a real avahi-daemon on each host.
//
//   ExactlyTheDocumentedRecords   _porch._tcp with v= and fp=, one _sftp-ssh._tcp per visible
//                                 share with path= and u=guest where guests may read; nothing
//                                 else; hidden shares absent
//   SameNameOnTwoHostsIsRenamed   the second porchd takes "NAME #2" and logs it
//   AvahiRestart...               avahi-daemon stopped and started again: records come back,
//                                 files are served meanwhile
//   AvahiStartedLate...           porchd started while avahi-daemon is away publishes once it
//                                 comes
//   ReloadPublishesOnly...        SIGHUP: a share added, one removed, one's guest flag changed;
//                                 the others are never withdrawn. Prints the time from SIGHUP to
//                                 resolved on host 2, beside avahi-publish's for comparison
//   NewDisplayName...             everything again under the new name, cut at 63 bytes on a
//                                 UTF-8 boundary
//   StopWithdraws...              SIGTERM: every record gone from host 2 within ~1.5 s; exit 0
//   PublisherObject...            the library in this process: signals, names, and that the
//                                 last unref withdraws while the process lives on
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "porch-config.h"
#include "porch-publish.h"
#include "testlan.h"
#include "test-util.h"

namespace
{

using Clock = std::chrono::steady_clock;
using porch::test::RunResult;
using porch::test::TestLan;

constexpr int kPort = 4422;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr const char *kHostType = "_porch._tcp";
constexpr const char *kShareType = "_sftp-ssh._tcp";

using porch::test::ReadFile;

size_t
Count(const std::string &text, const std::string &what)
{
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        n++;
    return n;
}

double
Seconds(Clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

// Polls ready() every 10 ms until it holds (true) or `seconds` have passed (false).
bool
WaitFor(const std::function<bool()> &ready, double seconds)
{
    auto end = Clock::now() +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (;;) {
        if (ready())
            return true;
        if (Clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Undoes avahi-browse -p's escaping: "\DDD" is the byte of decimal value DDD, "\c" is c.
std::string
Unescape(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
        } else if (i + 3 < s.size() && g_ascii_isdigit(s[i + 1]) && g_ascii_isdigit(s[i + 2]) &&
                   g_ascii_isdigit(s[i + 3])) {
            out += (char)std::stoi(s.substr(i + 1, 3));
            i += 3;
        } else {
            out += s[++i];
        }
    }
    return out;
}

// The strings of avahi-browse -p's TXT field: each in double quotes, escaped as above.
std::multiset<std::string>
ParseTxt(const std::string &field)
{
    std::multiset<std::string> txt;
    for (size_t i = 0; i < field.size(); i++) {
        if (field[i] != '"')
            continue;
        std::string raw;
        for (i++; i < field.size() && field[i] != '"'; i++) {
            if (field[i] == '\\' && i + 1 < field.size())
                raw += field[i++];
            raw += field[i];
        }
        txt.insert(Unescape(raw));
    }
    return txt;
}

// One resource record (or question) of an mDNS packet.
struct Rr {
    bool query = false; // in a query (QR = 0): a question, or a probe's proposed record
    int section = 0;    // 0 question, 1 answer, 2 authority, 3 additional
    std::string name;   // labels joined with '.'
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::string target; // PTR records: the name pointed to
};

// The name at p[at] (labels joined with '.', compression followed); advances `at` past it.
bool
ReadName(const std::string &p, size_t &at, std::string *name)
{
    size_t pos = at;
    bool jumped = false;
    name->clear();
    for (int hops = 0; hops < 64; hops++) {
        if (pos >= p.size())
            return false;
        uint8_t len = (uint8_t)p[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 1 >= p.size())
                return false;
            if (!jumped)
                at = pos + 2;
            jumped = true;
            pos = ((len & 0x3F) << 8) | (uint8_t)p[pos + 1];
        } else if (len == 0) {
            if (!jumped)
                at = pos + 1;
            return true;
        } else {
            if (pos + 1 + len > p.size())
                return false;
            *name += (name->empty() ? "" : ".") + p.substr(pos + 1, len);
            pos += 1 + len;
        }
    }
    return false;
}

// The records of a DNS message; stops at the first malformed one.
std::vector<Rr>
ParseDns(const std::string &p)
{
    std::vector<Rr> out;
    auto u16 = [&](size_t at) { return (uint16_t)((uint8_t)p[at] << 8 | (uint8_t)p[at + 1]); };
    if (p.size() < 12)
        return out;
    bool query = !(p[2] & 0x80);
    int counts[4] = {u16(4), u16(6), u16(8), u16(10)};
    size_t at = 12;
    for (int section = 0; section < 4; section++) {
        for (int i = 0; i < counts[section]; i++) {
            Rr rr;
            rr.query = query;
            rr.section = section;
            if (!ReadName(p, at, &rr.name) || at + 4 > p.size())
                return out;
            rr.type = u16(at);
            at += 4;
            if (section > 0) {
                if (at + 6 > p.size())
                    return out;
                rr.ttl = (uint32_t)u16(at) << 16 | u16(at + 2);
                size_t rdlen = u16(at + 4), rdata = at + 6;
                if (rdata + rdlen > p.size())
                    return out;
                if (rr.type == 12) { // PTR
                    size_t t = rdata;
                    ReadName(p, t, &rr.target);
                }
                at = rdata + rdlen;
            }
            out.push_back(rr);
        }
    }
    return out;
}

// The IPv4 mDNS packets a host hears: a UDP socket on port 5353 beside its avahi-daemon (both
// bind with SO_REUSEADDR), in the group 224.0.0.251 on eth0. Use it on a host where nothing
// queries, so that it cannot take a unicast reply meant for that host's avahi-daemon.
class MdnsListener
{
  public:
    MdnsListener(TestLan &lan, int host)
    {
        lan.in_netns(host, [&] {
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, big = 1 << 20;
            struct sockaddr_in a = {};
            a.sin_family = AF_INET;
            a.sin_port = htons(5353);
            struct ip_mreqn m = {};
            inet_pton(AF_INET, "224.0.0.251", &m.imr_multiaddr);
            m.imr_ifindex = (int)if_nametoindex("eth0");
            if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) == 0 &&
                bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0)
                fd_ = fd;
            else if (fd >= 0)
                close(fd);
        });
    }
    ~MdnsListener()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    bool ok() const
    {
        return fd_ >= 0;
    }
    // Every record in the packets from `from` (an IPv4 address) that arrived since the last
    // call.
    std::vector<Rr> Drain(const std::string &from)
    {
        std::vector<Rr> out;
        char buf[9000];
        for (;;) {
            struct sockaddr_in src = {};
            socklen_t len = sizeof src;
            ssize_t n = recvfrom(fd_, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&src, &len);
            if (n < 0)
                break;
            char addr[INET_ADDRSTRLEN] = "";
            inet_ntop(AF_INET, &src.sin_addr, addr, sizeof addr);
            if (from == addr)
                for (const Rr &rr : ParseDns(std::string(buf, (size_t)n)))
                    out.push_back(rr);
        }
        return out;
    }

  private:
    int fd_ = -1;
};

// One line of `avahi-browse -p`.
struct Entry {
    char event = 0; // '+' appeared, '-' withdrawn, '=' resolved
    std::string iface, proto, name, type, domain;
    std::string host, address; // '=' lines only
    int port = 0;
    std::multiset<std::string> txt;
};

// "+;IFACE;PROTO;NAME;TYPE;DOMAIN" or "-;..." or "=;...;HOST;ADDRESS;PORT;TXT"; false for
// anything else. TXT may hold ';', names have it escaped.
bool
ParseLine(const std::string &line, Entry *e)
{
    std::vector<std::string> f;
    size_t at = 0;
    for (size_t semi; f.size() < 9 && (semi = line.find(';', at)) != std::string::npos;
         at = semi + 1)
        f.push_back(line.substr(at, semi - at));
    f.push_back(line.substr(at));
    if (f.size() < 6 || f[0].size() != 1 || std::string("+-=").find(f[0][0]) == std::string::npos)
        return false;
    *e = Entry();
    e->event = f[0][0];
    e->iface = f[1];
    e->proto = f[2];
    e->name = Unescape(f[3]);
    e->type = f[4];
    e->domain = f[5];
    if (e->event == '=') {
        if (f.size() != 10)
            return false;
        e->host = f[6];
        e->address = f[7];
        e->port = atoi(f[8].c_str());
        e->txt = ParseTxt(f[9]);
    }
    return true;
}

// (type, instance name) -> TXT strings.
using Instances = std::map<std::pair<std::string, std::string>, std::multiset<std::string>>;

std::string
Describe(const Instances &instances)
{
    std::string s;
    for (const auto &[key, txt] : instances) {
        s += "  " + key.first + " \"" + key.second + "\":";
        for (const std::string &t : txt)
            s += " \"" + t + "\"";
        s += "\n";
    }
    return s.empty() ? "  (nothing)\n" : s;
}

// The instances of resolved entries. The lines of one instance (IPv4, IPv6) must agree: a
// disagreement shows as an extra "(lines differ)" string.
Instances
Summarise(const std::vector<Entry> &entries)
{
    Instances out;
    for (const Entry &e : entries) {
        auto key = std::make_pair(e.type, e.name);
        auto found = out.find(key);
        if (found == out.end())
            out[key] = e.txt;
        else if (found->second != e.txt)
            found->second.insert("(lines differ)");
    }
    return out;
}

std::string
HostName(int host)
{
    return "porchtl" + std::to_string(host) + ".local";
}

// `avahi-browse -arpk` left running on a host: every line it printed, each with the time the
// test first saw it (the test looks at least every 10 ms while it waits).
class Watcher
{
  public:
    struct Seen {
        Entry entry;
        Clock::time_point at;
    };
    Watcher(TestLan &lan, int host) : log_(lan.host_dir(host) + "/avahi-browse-watch.log")
    {
        // stdbuf: a line is in the log as soon as avahi-browse has printed it.
        pid_ = lan.spawn(host, {"stdbuf", "-oL", "avahi-browse", "-arpk"}, log_);
    }
    bool started() const
    {
        return pid_ > 0;
    }
    // Every line so far.
    const std::vector<Seen> &Lines()
    {
        std::string text = ReadFile(log_);
        auto now = Clock::now();
        for (size_t nl; (nl = text.find('\n', parsed_)) != std::string::npos; parsed_ = nl + 1) {
            Seen s;
            if (ParseLine(text.substr(parsed_, nl - parsed_), &s.entry)) {
                s.at = now;
                lines_.push_back(s);
            }
        }
        return lines_;
    }
    // The first line from index `from` on with `event` for (type, name) — and on host
    // `host` when not 0 (resolved lines only) —, waiting at most `seconds` for it.
    std::optional<Seen> Await(char event, const std::string &type, const std::string &name,
                              double seconds, size_t from = 0, int host = 0)
    {
        std::optional<Seen> found;
        WaitFor(
                [&] {
                    const std::vector<Seen> &lines = Lines();
                    for (size_t i = from; i < lines.size() && !found; i++) {
                        const Entry &e = lines[i].entry;
                        if (e.event == event && e.type == type && e.name == name &&
                            (host == 0 || e.host == HostName(host)))
                            found = lines[i];
                    }
                    return found.has_value();
                },
                seconds);
        return found;
    }
    // How many lines with `event` for (type, name) there are.
    size_t Count(char event, const std::string &type, const std::string &name)
    {
        size_t n = 0;
        for (const Seen &s : Lines())
            n += s.entry.event == event && s.entry.type == type && s.entry.name == name;
        return n;
    }
    std::string Text() const
    {
        return ReadFile(log_);
    }

  private:
    std::string log_;
    pid_t pid_ = -1;
    size_t parsed_ = 0;
    std::vector<Seen> lines_;
};

// A share: its name and the lines of its section after path=.
struct Share {
    std::string name;
    std::string rules;
};

class Publish : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        PORCH_REQUIRE_TOOLS("avahi-browse", "avahi-publish", "stdbuf", "ssh-keygen", "sftp");
        lan_ = TestLan::Create(3, &why_, &may_skip_);
        if (!lan_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_;
            GTEST_FAIL() << "test LAN unavailable: " << why_;
        }
    }

    // Writes host `host`'s porch.conf: display name, port, a peer bob, and the shares, each
    // a folder under the host's folder holding hello.txt.
    void Configure(int host, const std::string &name, const std::vector<Share> &shares)
    {
        std::string dir = lan_->host_dir(host);
        if (!g_file_test((dir + "/bob.pub").c_str(), G_FILE_TEST_EXISTS)) {
            ASSERT_TRUE(lan_->run(host, {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bob",
                                         "-f", dir + "/bob"})
                                .ok());
        }
        std::string conf = "[porch]\nname = " + name + "\nport = " + std::to_string(kPort) +
                           "\n[peer bob]\nkey = " + ReadFile(dir + "/bob.pub");
        for (const Share &s : shares) {
            std::string path = dir + "/shares/" + s.name;
            ASSERT_EQ(g_mkdir_with_parents(path.c_str(), 0755), 0);
            ASSERT_TRUE(g_file_set_contents((path + "/hello.txt").c_str(), "hello\n", -1, nullptr));
            conf += "[share " + s.name + "]\npath = " + path + "\n" + s.rules + "\n";
        }
        ASSERT_TRUE(g_file_set_contents((dir + "/porch.conf").c_str(), conf.c_str(), -1, nullptr));
    }

    std::string LogPath(int host) const
    {
        return lan_->host_dir(host) + "/porchd.log";
    }
    std::string Log(int host) const
    {
        return ReadFile(LogPath(host));
    }

    // Starts porchd on `host` and waits for "running" in its log.
    ::testing::AssertionResult Start(int host)
    {
        std::string dir = lan_->host_dir(host);
        pid_t pid = lan_->spawn(
                host, {kPorchd, "--config", dir + "/porch.conf", "--state-dir", dir + "/state"},
                LogPath(host));
        if (pid <= 0)
            return ::testing::AssertionFailure() << "cannot start porchd";
        porchd_[host] = pid;
        if (!WaitFor([&] { return Log(host).find(" running: ") != std::string::npos; }, 15) ||
            !lan_->running(pid))
            return ::testing::AssertionFailure() << "porchd did not start:\n" << Log(host);
        return ::testing::AssertionSuccess();
    }

    // SIGHUP to porchd on `host`; true once it logged that the new configuration is in force.
    bool Reload(int host)
    {
        size_t before = Count(Log(host), ": reloaded");
        kill(porchd_[host], SIGHUP);
        return WaitFor([&] { return Count(Log(host), ": reloaded") > before; }, 10);
    }

    // The instances of host `of` that `avahi-browse -arpkt` on host 2 resolves.
    Instances Browse(int of)
    {
        RunResult r = lan_->run(2, {"avahi-browse", "-arpkt"}, 30);
        std::vector<Entry> entries;
        for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) {
            Entry e;
            if (ParseLine(r.out.substr(at, nl - at), &e) && e.event == '=' &&
                e.host == HostName(of)) {
                EXPECT_EQ(e.port, kPort) << e.type << " \"" << e.name << "\"";
                entries.push_back(e);
            }
        }
        return Summarise(entries);
    }

    // Waits (at most `seconds`) until host 2 sees exactly `want` of host `of`; *got (if
    // given) is what it saw last.
    bool AwaitInstances(int of, const Instances &want, double seconds, Instances *got = nullptr)
    {
        Instances seen;
        bool same = WaitFor(
                [&] {
                    seen = Browse(of);
                    return seen == want;
                },
                seconds);
        if (got)
            *got = seen;
        return same;
    }

    // The host key's fingerprint as `ssh-keygen -l` prints it, "SHA256:...".
    std::string Fingerprint(int host)
    {
        RunResult r = lan_->run(
                host, {"ssh-keygen", "-lf", lan_->host_dir(host) + "/state/ssh_host_ed25519_key"});
        gchar **words = g_strsplit(r.out.c_str(), " ", 3);
        std::string fp = words[0] && words[1] ? words[1] : "";
        g_strfreev(words);
        return fp;
    }

    // The OpenSSH sftp client on host 2, as guest, fetching /SHARE/hello.txt from host 1.
    bool FetchAsGuest(const std::string &share)
    {
        std::string dir = lan_->host_dir(2), got = dir + "/fetched.txt";
        std::string batch = "get /" + share + "/hello.txt " + got + "\n";
        g_unlink(got.c_str());
        g_file_set_contents((dir + "/batch.txt").c_str(), batch.c_str(), -1, nullptr);
        RunResult r =
                lan_->run(2,
                          {"sftp", "-b", dir + "/batch.txt", "-P", std::to_string(kPort), "-o",
                           "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                           "BatchMode=yes", "guest@" + lan_->address(1)},
                          20);
        EXPECT_TRUE(r.ok()) << r.describe() << r.out;
        return r.ok() && ReadFile(got) == "hello\n";
    }

    std::unique_ptr<TestLan> lan_;
    std::string why_;
    bool may_skip_ = false;
    std::map<int, pid_t> porchd_;
};

TEST_F(Publish, ExactlyTheDocumentedRecords)
{
    Configure(1, "Alice's laptop",
              {{"Photos", "read = guest"},
               {"Drop", "write = guest"},
               {"Private", "read = bob"},
               {"Secret", "read = guest\nhidden = yes"}});
    ASSERT_TRUE(Start(1));
    std::string fp = Fingerprint(1);
    ASSERT_EQ(fp.rfind("SHA256:", 0), 0u) << fp;
    ASSERT_EQ(fp.find('='), std::string::npos) << "unpadded: " << fp;

    Instances want = {
            {{kHostType, "Alice's laptop"}, {"v=1", "fp=" + fp.substr(7)}},
            {{kShareType, "Photos on Alice's laptop"}, {"path=/Photos", "u=guest"}},
            {{kShareType, "Drop on Alice's laptop"}, {"path=/Drop", "u=guest"}},
            {{kShareType, "Private on Alice's laptop"}, {"path=/Private"}},
    };
    Instances got;
    EXPECT_TRUE(AwaitInstances(1, want, 15, &got)) << "expected on host 2:\n"
                                                   << Describe(want) << "host 2 sees of host 1:\n"
                                                   << Describe(got);
}

TEST_F(Publish, SameNameOnTwoHostsIsRenamed)
{
    Configure(1, "Twin", {{"Photos", "read = guest"}});
    Configure(3, "Twin", {{"Photos", "read = guest"}});
    ASSERT_TRUE(Start(1));
    Instances first = {{{kHostType, "Twin"}, {}}, {{kShareType, "Photos on Twin"}, {}}};
    auto names = [](const Instances &in) {
        Instances out;
        for (const auto &i : in)
            out[i.first] = {};
        return out;
    };
    Instances got;
    ASSERT_TRUE(WaitFor([&] { return names(got = Browse(1)) == first; }, 15)) << Describe(got);

    ASSERT_TRUE(Start(3));
    Instances second = {{{kHostType, "Twin #2"}, {}}, {{kShareType, "Photos on Twin #2"}, {}}};
    EXPECT_TRUE(WaitFor([&] { return names(got = Browse(3)) == second; }, 15))
            << "host 2 sees of host 3:\n"
            << Describe(got);
    EXPECT_EQ(names(Browse(1)), first) << "the first porchd keeps its names";
    EXPECT_NE(Log(3).find("the name \"Twin\" is taken on the network: published as \"Twin #2\""),
              std::string::npos)
            << Log(3);
    EXPECT_NE(Log(3).find("the name \"Photos on Twin\" is taken on the network: published as "
                          "\"Photos on Twin #2\""),
              std::string::npos)
            << Log(3);
    EXPECT_EQ(Log(1).find("is taken"), std::string::npos) << Log(1);
}

TEST_F(Publish, AvahiRestartRepublishesAndServingGoesOn)
{
    Configure(1, "Home", {{"Files", "read = guest"}});
    Watcher watch(*lan_, 2);
    ASSERT_TRUE(watch.started());
    ASSERT_TRUE(Start(1));
    ASSERT_TRUE(watch.Await('=', kShareType, "Files on Home", 15, 0, 1)) << watch.Text();
    ASSERT_TRUE(watch.Await('=', kHostType, "Home", 15, 0, 1)) << watch.Text();

    // avahi-daemon stops: it withdraws every record it held (goodbyes).
    size_t mark = watch.Lines().size();
    ASSERT_EQ(kill(lan_->avahi_pid(1), SIGTERM), 0);
    EXPECT_TRUE(watch.Await('-', kShareType, "Files on Home", 10, mark)) << watch.Text();
    EXPECT_TRUE(WaitFor(
            [&] { return Log(1).find("avahi-daemon is not running") != std::string::npos; }, 10))
            << Log(1);
    EXPECT_TRUE(FetchAsGuest("Files")) << "serving goes on without avahi-daemon";

    // Back: the records return within a few seconds of avahi-daemon running again.
    mark = watch.Lines().size();
    auto t0 = Clock::now();
    ASSERT_TRUE(lan_->restart_avahi(1));
    auto running = Clock::now();
    auto host = watch.Await('=', kHostType, "Home", 10, mark, 1);
    auto share = watch.Await('=', kShareType, "Files on Home", 10, mark, 1);
    ASSERT_TRUE(host && share) << watch.Text() << Log(1);
    double back = Seconds(std::max(host->at, share->at) - running);
    std::cout << "avahi-daemon running again " << Seconds(running - t0)
              << " s after its start; porchd's records resolved on host 2 " << back << " s later\n";
    EXPECT_LT(back, 5.0);
    EXPECT_EQ(Count(Log(1), "avahi-daemon is running"), 2u) << Log(1);
    EXPECT_TRUE(lan_->running(porchd_[1]));
    EXPECT_TRUE(FetchAsGuest("Files"));
}

TEST_F(Publish, AvahiStartedLaterIsUsedOnceItRuns)
{
    pid_t avahi = lan_->avahi_pid(1);
    ASSERT_EQ(kill(avahi, SIGTERM), 0);
    ASSERT_TRUE(WaitFor([&] { return !lan_->running(avahi); }, 10));

    Configure(1, "Home", {{"Files", "read = guest"}});
    Watcher watch(*lan_, 2);
    ASSERT_TRUE(watch.started());
    ASSERT_TRUE(Start(1));
    EXPECT_TRUE(WaitFor(
            [&] { return Log(1).find("avahi-daemon is not running") != std::string::npos; }, 10))
            << Log(1);
    EXPECT_TRUE(FetchAsGuest("Files"));

    ASSERT_TRUE(lan_->restart_avahi(1));
    auto running = Clock::now();
    auto share = watch.Await('=', kShareType, "Files on Home", 10, 0, 1);
    ASSERT_TRUE(share) << watch.Text() << Log(1);
    std::cout << "resolved on host 2 " << Seconds(share->at - running)
              << " s after avahi-daemon started running\n";
    EXPECT_LT(Seconds(share->at - running), 5.0);
    EXPECT_TRUE(watch.Await('=', kHostType, "Home", 5, 0, 1)) << watch.Text();
}

TEST_F(Publish, ReloadPublishesOnlyTheDifference)
{
    Configure(1, "Home",
              {{"Keep", "read = guest"}, {"Gone", "read = guest"}, {"Flip", "read = bob"}});
    Watcher watch(*lan_, 2);
    ASSERT_TRUE(watch.started());
    MdnsListener wire(*lan_, 3);
    ASSERT_TRUE(wire.ok());
    ASSERT_TRUE(Start(1));
    for (const char *name : {"Keep on Home", "Gone on Home", "Flip on Home"})
        ASSERT_TRUE(watch.Await('=', kShareType, name, 15, 0, 1)) << name << watch.Text();
    ASSERT_TRUE(watch.Await('=', kHostType, "Home", 15, 0, 1)) << watch.Text();

    // Gone removed, New added, Flip now readable by guests.
    Configure(1, "Home",
              {{"Keep", "read = guest"}, {"Flip", "read = guest"}, {"New", "read = guest"}});
    wire.Drain(lan_->address(1));
    size_t mark = watch.Lines().size();
    auto t0 = Clock::now();
    ASSERT_TRUE(Reload(1)) << Log(1);
    auto added = watch.Await('=', kShareType, "New on Home", 10, mark, 1);
    ASSERT_TRUE(added) << watch.Text();
    EXPECT_TRUE(watch.Await('-', kShareType, "Gone on Home", 10, mark)) << watch.Text();
    std::vector<double> reload = {Seconds(added->at - t0)};

    Instances want = {
            {{kHostType, "Home"}, {"v=1", "fp=" + Fingerprint(1).substr(7)}},
            {{kShareType, "Keep on Home"}, {"path=/Keep", "u=guest"}},
            {{kShareType, "Flip on Home"}, {"path=/Flip", "u=guest"}},
            {{kShareType, "New on Home"}, {"path=/New", "u=guest"}},
    };
    Instances got;
    EXPECT_TRUE(AwaitInstances(1, want, 10, &got)) << "host 2 sees:\n" << Describe(got);

    // On the wire since the SIGHUP: a goodbye (TTL 0) for Gone, probes for New, Flip's new TXT
    // announced; and neither goodbye nor probe for what stayed. avahi-browse alone would not
    // tell: a record withdrawn and announced again within a second never leaves its cache.
    auto goodbyes = [](const std::vector<Rr> &rrs, const std::string &instance) {
        size_t n = 0;
        for (const Rr &rr : rrs)
            n += rr.section > 0 && rr.ttl == 0 && (rr.name == instance || rr.target == instance);
        return n;
    };
    auto probes = [](const std::vector<Rr> &rrs, const std::string &instance) {
        size_t n = 0;
        for (const Rr &rr : rrs)
            n += rr.query && rr.section == 0 && rr.name == instance;
        return n;
    };
    auto txt_announced = [](const std::vector<Rr> &rrs, const std::string &instance) {
        size_t n = 0;
        for (const Rr &rr : rrs)
            n += !rr.query && rr.section > 0 && rr.type == 16 && rr.ttl > 0 && rr.name == instance;
        return n;
    };
    std::vector<Rr> heard = wire.Drain(lan_->address(1));
    const std::string share_suffix = std::string(".") + kShareType + ".local";
    EXPECT_GT(goodbyes(heard, "Gone on Home" + share_suffix), 0u);
    EXPECT_GT(probes(heard, "New on Home" + share_suffix), 0u);
    EXPECT_GT(txt_announced(heard, "Flip on Home" + share_suffix), 0u);
    for (std::string instance : {"Keep on Home" + share_suffix, "Flip on Home" + share_suffix,
                                 std::string("Home.") + kHostType + ".local"}) {
        EXPECT_EQ(goodbyes(heard, instance), 0u) << instance;
        EXPECT_EQ(probes(heard, instance), 0u) << instance;
    }

    // More samples of the time from SIGHUP to resolved on host 2.
    std::vector<Share> shares = {{"Keep", "read = guest"}, {"Flip", "read = guest"}};
    for (int i = 1; i <= 4; i++) {
        std::string name = "More" + std::to_string(i);
        shares.push_back({name, "read = guest"});
        Configure(1, "Home", shares);
        mark = watch.Lines().size();
        t0 = Clock::now();
        ASSERT_TRUE(Reload(1));
        auto seen = watch.Await('=', kShareType, name + " on Home", 10, mark, 1);
        ASSERT_TRUE(seen) << watch.Text();
        reload.push_back(Seconds(seen->at - t0));
    }
    // What avahi itself needs, in the same run: avahi-publish on host 1.
    std::vector<double> baseline;
    for (int i = 1; i <= 3; i++) {
        std::string name = "Baseline" + std::to_string(i);
        mark = watch.Lines().size();
        t0 = Clock::now();
        pid_t p = lan_->spawn(1, {"avahi-publish", "-s", name, kShareType, "4422"});
        auto seen = watch.Await('=', kShareType, name, 10, mark, 1);
        ASSERT_TRUE(seen) << watch.Text();
        baseline.push_back(Seconds(seen->at - t0));
        lan_->stop(p);
    }
    std::cout << "SIGHUP (share added) to resolved on host 2, s:";
    for (double s : reload)
        std::cout << " " << s;
    std::cout << "\navahi-publish started to resolved on host 2, s:";
    for (double s : baseline)
        std::cout << " " << s;
    std::cout << "\n";

    // Nothing that stayed was withdrawn on the way (a browser reports it anew only after).
    for (const char *name : {"Keep on Home", "Flip on Home"})
        EXPECT_EQ(watch.Count('-', kShareType, name), 0u) << name << "\n" << watch.Text();
    EXPECT_EQ(watch.Count('-', kHostType, "Home"), 0u) << watch.Text();
}

TEST_F(Publish, NewDisplayNameRepublishesEverythingCutAtCharacters)
{
    Configure(1, "Home", {{"Photos", "read = guest"}});
    Watcher watch(*lan_, 2);
    ASSERT_TRUE(watch.started());
    ASSERT_TRUE(Start(1));
    ASSERT_TRUE(watch.Await('=', kShareType, "Photos on Home", 15, 0, 1)) << watch.Text();

    // 61 bytes; "Photos on " and it is 71, and its byte 63 is the second of "ö".
    const std::string name = "Datorn i köket på övervåningen i stugorna vid sjön, Åsa";
    Configure(1, name, {{"Photos", "read = guest"}});
    ASSERT_TRUE(Reload(1));
    Instances want = {
            {{kHostType, name}, {"v=1", "fp=" + Fingerprint(1).substr(7)}},
            {{kShareType, "Photos on Datorn i köket på övervåningen i stugorna vid sj"},
             {"path=/Photos", "u=guest"}},
    };
    Instances got;
    EXPECT_TRUE(AwaitInstances(1, want, 15, &got)) << "host 2 sees:\n" << Describe(got);
    EXPECT_TRUE(watch.Await('-', kShareType, "Photos on Home", 5)) << watch.Text();
    EXPECT_TRUE(watch.Await('-', kHostType, "Home", 5)) << watch.Text();
}

TEST_F(Publish, StopWithdrawsEverythingAndExitsZero)
{
    Configure(1, "Home", {{"Photos", "read = guest"}, {"Private", "read = bob"}});
    Watcher watch(*lan_, 2);
    ASSERT_TRUE(watch.started());
    ASSERT_TRUE(Start(1));
    std::vector<std::pair<std::string, std::string>> ours = {
            {kHostType, "Home"}, {kShareType, "Photos on Home"}, {kShareType, "Private on Home"}};
    for (const auto &[type, name] : ours)
        ASSERT_TRUE(watch.Await('=', type, name, 15, 0, 1)) << name << watch.Text();
    // Every (interface, protocol) a record was seen on, once resolved lines stop coming.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    auto t0 = Clock::now();
    EXPECT_EQ(lan_->stop(porchd_[1], SIGTERM), 0) << Log(1);
    Clock::time_point last = t0;
    bool gone = WaitFor(
            [&] {
                for (const auto &[type, name] : ours)
                    if (watch.Count('-', type, name) < watch.Count('+', type, name))
                        return false;
                for (const auto &s : watch.Lines())
                    if (s.entry.event == '-')
                        last = std::max(last, s.at);
                return true;
            },
            10);
    ASSERT_TRUE(gone) << watch.Text();
    double took = Seconds(last - t0);
    std::cout << "SIGTERM to withdrawn on host 2: " << took << " s\n";
    EXPECT_LT(took, 1.5) << watch.Text();
    EXPECT_NE(Log(1).find("stopped"), std::string::npos) << Log(1);
}

// PorchPublisher itself, in this process, through host 1's avahi-daemon (its bus socket is a
// file, reachable from here). libdbus reads DBUS_SYSTEM_BUS_ADDRESS once per process: keep
// this the only test in this program that talks to a system bus itself.
TEST_F(Publish, PublisherObjectReportsAndWithdrawsOnUnref)
{
    // porchd on host 3 holds the name "Twin" first.
    Configure(3, "Twin", {});
    ASSERT_TRUE(Start(3));
    Watcher watch(*lan_, 2);
    ASSERT_TRUE(watch.started());
    ASSERT_TRUE(watch.Await('=', kHostType, "Twin", 15, 0, 3)) << watch.Text();

    std::string dir = lan_->host_dir(1) + "/photos";
    ASSERT_EQ(g_mkdir_with_parents(dir.c_str(), 0755), 0);
    std::string text = "[porch]\nname = Twin\n[share Photos]\npath = " + dir + "\nread = guest\n";
    GError *error = nullptr;
    PorchConfig *config = porch_config_load_data(text.c_str(), -1, "test.conf", &error);
    ASSERT_NE(config, nullptr) << error->message;

    setenv("DBUS_SYSTEM_BUS_ADDRESS", lan_->bus_address(1).c_str(), 1);
    GMainContext *context = g_main_context_new();
    g_main_context_push_thread_default(context);
    struct Heard {
        std::vector<std::pair<std::string, std::string>> collisions;
        std::vector<bool> states;
    } heard;
    PorchPublisher *publisher = porch_publisher_new("SHA256:AAAAbbbb+/", kPort);
    ASSERT_NE(publisher, nullptr);
    g_signal_connect(publisher, "collision",
                     G_CALLBACK(+[](PorchPublisher *, const char *old_name, const char *new_name,
                                    gpointer data) {
                         static_cast<Heard *>(data)->collisions.emplace_back(
                                 old_name, new_name ? new_name : "(none)");
                     }),
                     &heard);
    g_signal_connect(publisher, "avahi-state",
                     G_CALLBACK(+[](PorchPublisher *, gboolean running, gpointer data) {
                         static_cast<Heard *>(data)->states.push_back(running);
                     }),
                     &heard);
    EXPECT_FALSE(porch_publisher_get_avahi_running(publisher));
    porch_publisher_apply(publisher, config);

    // The names in use once established: the host's renamed, the share's not taken.
    std::vector<std::string> names;
    std::vector<std::string> want = {"Twin #2", "Photos on Twin"};
    EXPECT_TRUE(WaitFor(
            [&] {
                while (g_main_context_iteration(context, FALSE))
                    ;
                char **got = porch_publisher_dup_names(publisher);
                names.assign(got, got + g_strv_length(got));
                g_strfreev(got);
                return names == want;
            },
            15))
            << "established: " << names.size();
    EXPECT_TRUE(porch_publisher_get_avahi_running(publisher));
    EXPECT_EQ(heard.states, std::vector<bool>{true});
    ASSERT_EQ(heard.collisions.size(), 1u);
    EXPECT_EQ(heard.collisions[0], std::make_pair(std::string("Twin"), std::string("Twin #2")));
    auto seen = watch.Await('=', kHostType, "Twin #2", 5, 0, 1);
    ASSERT_TRUE(seen) << watch.Text();
    EXPECT_EQ(seen->entry.txt, (std::multiset<std::string>{"v=1", "fp=AAAAbbbb+/"}));
    ASSERT_TRUE(watch.Await('=', kShareType, "Photos on Twin", 5, 0, 1)) << watch.Text();

    // The last unref withdraws, while this process (and its D-Bus connection's owner) lives.
    size_t mark = watch.Lines().size();
    g_object_unref(publisher);
    EXPECT_TRUE(watch.Await('-', kHostType, "Twin #2", 3, mark)) << watch.Text();
    EXPECT_TRUE(watch.Await('-', kShareType, "Photos on Twin", 3, mark)) << watch.Text();
    EXPECT_EQ(watch.Count('-', kHostType, "Twin"), 0u) << "host 3's record stays";

    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
    porch_config_unref(config);
}

} // namespace
