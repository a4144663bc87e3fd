// test-print.cc — printing through Porch as users and CUPS run it (issue 6): the real porch
// command, the real CUPS backend and real cupsds on a test LAN. porchd on host 1 prints into
// its own private cupsd's file-backed queue; host 2 has a private cupsd of its own, where
// `porch printer add` makes a queue whose device is Porch's backend. Judged by the exit status,
// the words on stderr, CUPS's own view of its jobs (Get-Jobs through ipptool) and the bytes in
// the queue's output file.
//
//   PermittedPeerPrints                  porch print: "job N", a job of "me@porch" in CUPS,
//                                        a PDF/PostScript document in the output file; --copies
//   UnpermittedPeersAreRefusedBefore...  a peer without the print right and a guest: exit 1,
//                                        "not allowed", no job reaches CUPS
//   GuestsPrintWhereAllowed              an unknown key prints on a guest printer as
//                                        guest+ADDRESS@porch and sees only that guest's jobs
//   GuestsSeeAndCancelOnlyTheirOwnJobs   a guest from host 1 neither lists nor cancels the job
//                                        of a guest from host 2 (the same key, even); host 2's can
//   OversizedDocumentIsRefused           a document over max-print-size: exit 65, "larger
//                                        than", its job cancelled, nothing printed
//   IdleTimeoutComesFromTheConfig        a document that stalls is given up after porch.conf's
//                                        idle-timeout (exit 74), its job cancelled
//   JobsListsAndCancelCancelsOwnJobs     porch jobs shows my pending job; another peer cannot
//                                        cancel it; I can, once
//   MissingQueueUnknownPrinterAndCups... a printer whose queue CUPS lacks, a printer porchd
//                                        does not have, a document CUPS refuses, CUPS stopped
//                                        (files still served) and back again
//   InterruptedDocumentIsCancelled       the exec channel from OpenSSH's ssh: a whole document
//                                        prints; a client killed midway leaves a cancelled job
//   ALongAnswerWhileTheClientStillSends  porchd-print answers at length while stdin still comes
//   BackendRunAsCupsdRunsIt              porch-backend's discovery line, a job through it with
//                                        the machine's host key, a host key that is no peer
//   PrinterAddPrintsEndToEnd             porch printer add; lp on host 2 lands in host 1's
//                                        queue (host 2's cupsd -> backend -> porchd -> cupsd)
//   PrinterAddByDisplayName              the same by display name (resolved over mDNS by the
//                                        backend in cupsd and by porch), every time
//   PrintersAreAdvertisedWithTheirState  _porch-print._tcp records and TXT seen from host 2;
//                                        a stopped queue, CUPS down and back; Ghost and the
//                                        hidden Lobby never
//
// porchd's configuration (host 1): [peer me] (the client's key), [peer carol] (may not print),
// [peer host2] (host 2's machine key, the one its backend uses); [printer Office] printable by
// me and host2, [printer Ghost] whose queue CUPS does not have, [printer Lobby] (hidden, the
// same queue as Office) printable by guests, [share Docs] readable by me and [share Public]
// readable by guests.
//
// Every command that talks to CUPS gets CUPS_SERVER, the socket of the host's own cupsd: never
// the machine's.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "testlan.h"
#include "test-util.h"

namespace
{

using Clock = std::chrono::steady_clock;
using porch::test::Contains;
using porch::test::ContainsNoCase;
using porch::test::MakeDirs;
using porch::test::MakeKey;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::TestLan;
using porch::test::WaitFor;
using porch::test::WriteFile;
namespace fs = std::filesystem;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr const char *kDisplayName = "Alice's laptop";

// ---- small helpers ---------------------------------------------------------------------------

bool
ContainsAnyNoCase(const std::string &haystack, const std::vector<std::string> &needles)
{
    for (const std::string &n : needles)
        if (ContainsNoCase(haystack, n))
            return true;
    return false;
}

// The number in group 1 of the first match of `pattern` in `text`, 0 if none. (GRegex: GCC 12
// warns about its own <regex> in the sanitizer build.)
static int
FirstNumber(const std::string &text, const std::string &pattern, int flags = 0)
{
    GRegex *re =
            g_regex_new(pattern.c_str(), (GRegexCompileFlags)flags, (GRegexMatchFlags)0, nullptr);
    GMatchInfo *match = nullptr;
    int n = 0;

    if (re != nullptr && g_regex_match(re, text.c_str(), (GRegexMatchFlags)0, &match)) {
        char *digits = g_match_info_fetch(match, 1);
        n = digits != nullptr ? atoi(digits) : 0;
        g_free(digits);
    }
    if (match != nullptr)
        g_match_info_free(match);
    if (re != nullptr)
        g_regex_unref(re);
    return n;
}

// The lines of text, without empty ones.
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

// The whitespace-separated words of a line.
std::vector<std::string>
Words(const std::string &line)
{
    std::vector<std::string> words;
    std::stringstream in(line);
    for (std::string w; in >> w;)
        words.push_back(w);
    return words;
}

// The first `n` bytes of a file ("" when it cannot be read).
std::string
Head(const std::string &path, size_t n)
{
    return ReadFile(path).substr(0, n);
}

// The repository's packaging/porch.ppd.
std::string
PorchPpd()
{
    std::error_code ec;
    fs::path p = fs::weakly_canonical(
            fs::path(PORCH_TEST_DATA) / ".." / ".." / "packaging" / "porch.ppd", ec);
    return ec ? "" : p.string();
}

// An avahi-browse -p field with its escapes (\DDD decimal, \X) undone.
std::string
Unescape(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && isdigit((unsigned char)s[i + 1]) &&
            isdigit((unsigned char)s[i + 2]) && isdigit((unsigned char)s[i + 3])) {
            out += char(std::stoi(s.substr(i + 1, 3)));
            i += 3;
        } else if (s[i] == '\\' && i + 1 < s.size()) {
            out += s[++i];
        } else {
            out += s[i];
        }
    }
    return out;
}

// The TXT strings of an avahi-browse -p record: "a=b" "c=d" -> {a: b, c: d}.
std::map<std::string, std::string>
ParseTxt(const std::string &txt)
{
    std::map<std::string, std::string> kv;
    for (size_t i = 0; i < txt.size(); i++) {
        if (txt[i] != '"')
            continue;
        std::string item;
        for (i++; i < txt.size() && txt[i] != '"'; i++) {
            if (txt[i] == '\\' && i + 1 < txt.size())
                i++;
            item += txt[i];
        }
        size_t eq = item.find('=');
        kv[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
    }
    return kv;
}

std::string
DescribeTxt(const std::map<std::string, std::string> &kv)
{
    std::string s;
    for (const auto &[k, v] : kv)
        s += (s.empty() ? "" : " ") + k + "=" + v;
    return s;
}

// One job as CUPS reports it.
struct Job {
    int id = 0;
    std::string state;  // pending, held, processing, stopped, canceled, aborted, completed
    std::string user;   // job-originating-user-name
    std::string copies; // copies ("" when the job has none: 1)
    std::string name;   // job-name
};

const char *const kGetJobsTest = R"({
  NAME "Get-Jobs"
  OPERATION Get-Jobs
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name root
  ATTR keyword which-jobs all
  ATTR keyword requested-attributes job-id,job-state,job-originating-user-name,copies,job-name
  STATUS successful-ok
  DISPLAY job-id
  DISPLAY job-state
  DISPLAY job-originating-user-name
  DISPLAY copies
  DISPLAY job-name
}
)";

const char *const kGetPrinterTest = R"({
  NAME "Get-Printer-Attributes"
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name root
  ATTR keyword requested-attributes printer-make-and-model,color-supported,sides-supported,printer-state,printer-is-accepting-jobs
  STATUS successful-ok
}
)";

// ---- the fixture: porchd and cupsd on host 1, porch, the backend and a cupsd on host 2 -------

class PrintTest : public ::testing::Test
{
  protected:
    // One LAN for every test of the suite (ctest runs each test in its own process, so there
    // each test brings up its own).
    static void SetUpTestSuite()
    {
        may_skip_ = !TestLan::must_run();
        if (geteuid() != 0) {
            why_not_ = "needs root (network namespaces, cupsd)";
            return;
        }
        std::string missing =
                TestLan::missing_tools({"cupsd", "lpadmin", "lpstat", "lp", "cupsenable",
                                        "cupsdisable", "ipptool", "ssh-keygen", "avahi-browse"});
        if (!missing.empty()) {
            why_not_ = "missing tools: " + missing +
                       " (Debian: cups cups-ipp-utils openssh-client avahi-utils)";
            return;
        }
        lan_ = TestLan::Create(2, &why_not_, &may_skip_).release();
        if (!lan_)
            return;
        may_skip_ = false;
        for (const char *bin : {kPorch, kPorchd})
            if (access(bin, X_OK) != 0) {
                why_not_ = std::string(bin) + " is not built";
                return;
            }
        if (access(PORCH_PROGRAM_PORCH_BACKEND, X_OK) == 0)
            backend_ = PORCH_PROGRAM_PORCH_BACKEND;
        ppd_ = PorchPpd();
        if (access(ppd_.c_str(), R_OK) != 0)
            ppd_.clear();

        h1_ = lan_->host_dir(1);
        h2_ = lan_->host_dir(2);
        out_ = h1_ + "/out/office.out";
        keys_ = h2_ + "/keys";
        host2_state_ = h2_ + "/porch-state";
        const std::string docs = h1_ + "/docs", state1 = h1_ + "/state";
        for (const std::string &d : {h1_ + "/out", docs, keys_})
            if (!MakeDirs(d)) {
                why_not_ = "cannot make " + d;
                return;
            }
        if (!MakeDirs(host2_state_, 0700) || !MakeDirs(h2_ + "/stranger-state", 0700)) {
            why_not_ = "cannot make the backends' state folders";
            return;
        }
        my_key_ = MakeKey(keys_ + "/me", "me@host2");
        std::string carol = MakeKey(keys_ + "/carol", "carol@elsewhere");
        std::string host2 = MakeKey(host2_state_ + "/ssh_host_ed25519_key", "root@porchtl2");
        std::string stranger =
                MakeKey(h2_ + "/stranger-state/ssh_host_ed25519_key", "root@stranger");
        if (my_key_.empty() || carol.empty() || host2.empty() || stranger.empty() ||
            !WriteFile(docs + "/readme.txt", "files still work\n")) {
            why_not_ = "ssh-keygen failed";
            return;
        }

        // Host 1's cupsd and its file queue; host 2's cupsd with Porch's backend installed.
        if (lan_->start_cupsd(1, &why_not_).empty())
            return;
        TestLan::CupsdOptions o2;
        o2.porch_backend = backend_;
        o2.porch_state_dir = host2_state_;
        if (lan_->start_cupsd(2, &why_not_, o2).empty())
            return;
        std::vector<std::string> add = {"lpadmin", "-p", "Office", "-E", "-v", "file://" + out_};
        if (!ppd_.empty())
            add.insert(add.end(), {"-P", ppd_});
        else
            add.insert(add.end(), {"-m", "drv:///sample.drv/generic.ppd"});
        RunResult r = lan_->run_cups(1, add, 30);
        if (!r.ok()) {
            why_not_ = "lpadmin on host 1: " + r.describe();
            return;
        }

        carol_ = carol;
        host2_ = host2;
        docs_ = docs;
        if (!WriteFile(h1_ + "/porch.conf", Conf())) {
            why_not_ = "cannot write porch.conf";
            return;
        }
        std::string log = h1_ + "/porchd.log";
        porchd_ = lan_->spawn(1,
                              {"env", "CUPS_SERVER=" + lan_->cups_server(1), kPorchd, "--config",
                               h1_ + "/porch.conf", "--state-dir", state1},
                              log);
        if (!PorchdStarted(lan_, porchd_, log)) {
            why_not_ = "porchd did not start; its log:\n" + ReadFile(log);
            return;
        }
        ready_ = true;
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
                GTEST_SKIP() << "print test LAN unavailable: " << why_not_;
            GTEST_FAIL() << "print test LAN unavailable: " << why_not_
                         << (TestLan::must_run() ? " (CI is set: LAN tests must run)" : "");
        }
        name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        xdg_ = NewConfigHome(name_);
        ASSERT_FALSE(xdg_.empty());
        local_ = h2_ + "/" + name_;
        ASSERT_TRUE(MakeDirs(local_));
        doc_ = local_ + "/hello.txt";
        ASSERT_TRUE(WriteFile(doc_, "Hello from Porch's print test " + name_ +
                                            ".\nA second line.\nAnd a third one.\n"));
        // What an earlier test of this process may have left: host 1's cupsd running, Office
        // enabled and accepting.
        if (!lan_->running(lan_->cupsd_pid(1))) {
            std::string why;
            ASSERT_FALSE(lan_->start_cupsd(1, &why).empty()) << why;
        }
        Cups(1, {"cupsenable", "Office"});
        Cups(1, {"cupsaccept", "Office"});
    }

    void TearDown() override
    {
        if (reconfigured_ && lan_) {
            EXPECT_TRUE(Reconfigure("")) << "porchd did not reload its normal configuration";
        }
        if (HasFailure() && lan_) {
            fprintf(stderr, "---- porchd log (tail) ----\n%s\n", Tail(h1_ + "/porchd.log").c_str());
            for (int host : {1, 2})
                fprintf(stderr, "---- host %d's jobs ----\n%s\n", host,
                        lan_->run_cups(host, {"lpstat", "-W", "all", "-o"}).out.c_str());
        }
    }

    static std::string Tail(const std::string &path, size_t max = 6000)
    {
        std::string s = ReadFile(path);
        return s.size() > max ? "..." + s.substr(s.size() - max) : s;
    }

    // porchd's configuration (see the top of this file), with `porch_extra` lines in [porch].
    static std::string Conf(const std::string &porch_extra = "")
    {
        return "[porch]\nname = " + std::string(kDisplayName) + "\nlisten = " + lan_->address(1) +
               "\n" + porch_extra + "\n[peer me]\nkey = " + my_key_ +
               "\n\n[peer carol]\nkey = " + carol_ + "\n\n[peer host2]\nkey = " + host2_ +
               "\n\n[share Docs]\npath = " + docs_ + "\nread = me\n" +
               "\n[share Public]\npath = " + docs_ + "\nread = guest\n" +
               "\n[printer Office]\nprint = me;host2\n" +
               "\n[printer Ghost]\nqueue = NoSuchQueue\nprint = me\n" +
               "\n[printer Lobby]\nqueue = Office\nprint = guest\nhidden = true\n";
    }

    // Rewrites porchd's configuration with `porch_extra` in [porch] and reloads it (SIGHUP);
    // true once porchd logged that it is in force. A test that calls it puts the normal one
    // back before it ends (TearDown() does it too).
    bool Reconfigure(const std::string &porch_extra)
    {
        const std::string log = h1_ + "/porchd.log";
        auto reloads = [&] {
            size_t n = 0;
            const std::string text = ReadFile(log);
            for (size_t at = 0; (at = text.find(": reloaded", at)) != std::string::npos; at++)
                n++;
            return n;
        };
        size_t before = reloads();
        reconfigured_ = !porch_extra.empty();
        return WriteFile(h1_ + "/porch.conf", Conf(porch_extra)) && kill(porchd_, SIGHUP) == 0 &&
               WaitFor([&] { return reloads() > before; }, 10);
    }

    // argv of OpenSSH's ssh as the client `me` of host 2, to be followed by a command.
    static std::vector<std::string> SshArgv()
    {
        std::vector<std::string> ssh = {"ssh", "-p", "4422", "-i", keys_ + "/me"};
        for (const char *o : {"IdentitiesOnly=yes", "StrictHostKeyChecking=no",
                              "UserKnownHostsFile=/dev/null", "BatchMode=yes", "LogLevel=ERROR"})
            ssh.insert(ssh.end(), {"-o", o});
        ssh.push_back("me@" + lan_->address(1));
        return ssh;
    }

    // The jobs of Office that are not in `before`.
    static std::vector<int> NewJobs(const std::map<int, Job> &before)
    {
        std::vector<int> ids;
        for (const auto &[jid, j] : Jobs(1, "Office"))
            if (!before.count(jid))
                ids.push_back(jid);
        return ids;
    }

    // A new $XDG_CONFIG_HOME with the client's key in porch/id_ed25519 (0600); "" on failure.
    static std::string NewConfigHome(const std::string &name)
    {
        static int serial = 0;
        std::string xdg = h2_ + "/xdg-" + name + "-" + std::to_string(++serial);
        std::string key = ReadFile(keys_ + "/me");
        if (!MakeDirs(xdg + "/porch", 0700) || key.empty() ||
            !WriteFile(xdg + "/porch/id_ed25519", key, 0600) ||
            !WriteFile(xdg + "/porch/id_ed25519.pub", my_key_ + "\n"))
            return "";
        return xdg;
    }

    // argv that runs porch with `args` as a user of host 2 (with host 2's cupsd as its CUPS).
    std::vector<std::string> PorchArgv(const std::vector<std::string> &args,
                                       const std::string &xdg = "",
                                       const std::vector<std::string> &env = {}) const
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                                         "XDG_CONFIG_HOME=" + (xdg.empty() ? xdg_ : xdg),
                                         "CUPS_SERVER=" + lan_->cups_server(2)};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.push_back(kPorch);
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    // Runs porch on host 2 (stdin not a terminal).
    RunResult Porch(const std::vector<std::string> &args, double timeout = 60,
                    const std::string &xdg = "", const std::vector<std::string> &env = {})
    {
        return lan_->run(2, PorchArgv(args, xdg, env), timeout);
    }

    // For assertion messages.
    static std::string Say(const std::vector<std::string> &args, const RunResult &r,
                           const char *cmd = "porch")
    {
        std::string s = cmd;
        for (const std::string &a : args)
            s += " '" + a + "'";
        return s + "\n  -> " + r.describe() + (r.out.empty() ? "" : "\n  stdout: " + r.out);
    }

    // "10.88.0.1/" + path: a printer (or share) on host 1's porchd by address.
    static std::string Remote(const std::string &path)
    {
        return lan_->address(1) + "/" + path;
    }

    // A CUPS command on host `host`'s cupsd.
    static RunResult Cups(int host, const std::vector<std::string> &argv, double timeout = 20)
    {
        return lan_->run_cups(host, argv, timeout);
    }

    // The ipp:// URI of a queue of host `host`'s cupsd, reached over its socket.
    static std::string QueueUri(int host, const std::string &queue)
    {
        std::string sock;
        for (char c : lan_->cups_server(host))
            sock += c == '/' ? std::string("%2F") : std::string(1, c);
        return "ipp://" + sock + "/printers/" + queue;
    }

    // Writes an ipptool test file into the LAN's folder; its path.
    static std::string IppTest(const std::string &name, const char *text)
    {
        std::string path = lan_->state_dir() + "/" + name;
        return WriteFile(path, text) ? path : "";
    }

    // Every job of `queue` on host `host`'s cupsd, by id; *error (if given) says why when CUPS
    // could not be asked.
    static std::map<int, Job> Jobs(int host, const std::string &queue, std::string *error = nullptr)
    {
        std::map<int, Job> jobs;
        RunResult r = Cups(
                host, {"ipptool", "-c", QueueUri(host, queue), IppTest("jobs.test", kGetJobsTest)});
        if (!r.ok()) {
            if (error)
                *error = "ipptool Get-Jobs: " + r.describe() + r.out;
            return jobs;
        }
        std::vector<std::string> lines = Lines(r.out);
        for (size_t i = 1; i < lines.size(); i++) { // the first line names the columns
            std::string line = lines[i];
            Job j;
            std::vector<std::string> f;
            for (int k = 0; k < 4; k++) {
                size_t comma = line.find(',');
                f.push_back(line.substr(0, comma));
                line = comma == std::string::npos ? "" : line.substr(comma + 1);
            }
            j.id = atoi(f[0].c_str());
            j.state = f[1];
            j.user = f[2];
            j.copies = f[3];
            j.name = line;
            if (j.name.size() >= 2 && j.name.front() == '"' && j.name.back() == '"')
                j.name = j.name.substr(1, j.name.size() - 2);
            if (j.id > 0)
                jobs[j.id] = j;
        }
        return jobs;
    }

    static std::string Describe(const std::map<int, Job> &jobs)
    {
        std::string s;
        for (const auto &[id, j] : jobs)
            s += "  job " + std::to_string(id) + " " + j.state + " user=" + j.user +
                 " copies=" + j.copies + " name=\"" + j.name + "\"\n";
        return s.empty() ? "  (no jobs)\n" : s;
    }

    // Waits at most `seconds` until job `id` of `queue` (host `host`) is in one of `states`;
    // returns its last state as CUPS reported it ("" if CUPS does not list it).
    static std::string WaitJob(int host, const std::string &queue, int id,
                               const std::set<std::string> &states, double seconds = 30)
    {
        std::string state;
        WaitFor(
                [&] {
                    auto jobs = Jobs(host, queue);
                    auto it = jobs.find(id);
                    state = it == jobs.end() ? "" : it->second.state;
                    return states.count(state) > 0;
                },
                seconds);
        return state;
    }

    // What host `host`'s cupsd logged about job `id` (for failure messages).
    static std::string JobLog(int host, int id)
    {
        std::string text, tag = "[Job " + std::to_string(id) + "]";
        for (const std::string &l : Lines(ReadFile(lan_->cups_dir(host) + "/log/error_log")))
            if (Contains(l, tag) && !Contains(l, "envp[") && !Contains(l, "cupsdSetBusyState"))
                text += l + "\n";
        return text.size() > 6000 ? "..." + text.substr(text.size() - 6000) : text;
    }

    // The attributes CUPS reports for `queue` (host `host`): name -> value as ipptool shows it
    // (several values comma-separated).
    static std::map<std::string, std::string> PrinterAttributes(int host, const std::string &queue)
    {
        std::map<std::string, std::string> attrs;
        RunResult r = Cups(host, {"ipptool", "-t", "-v", QueueUri(host, queue),
                                  IppTest("printer.test", kGetPrinterTest)});
        bool response = false;
        for (const std::string &l : Lines(r.out)) {
            if (Contains(l, "RECEIVED:"))
                response = true;
            size_t paren = l.find(" ("), eq = l.find(") = ");
            if (response && paren != std::string::npos && eq != std::string::npos) {
                size_t start = l.find_first_not_of(' ');
                attrs[l.substr(start, paren - start)] = l.substr(eq + 4);
            }
        }
        return attrs;
    }

    // The job number in porch print's output ("job 12"), 0 if there is none.
    static int JobNumber(const std::string &out)
    {
        return FirstNumber(out, "\\bjob #?([0-9]+)\\b", G_REGEX_CASELESS);
    }

    // Prints the document with porch as `me` (retrying for at most `retry_s` seconds while
    // porch fails, e.g. while porchd has not seen CUPS come back); returns the job number, 0
    // on failure (with a failure added).
    int PrintAsMe(const std::string &printer = "Office", double retry_s = 0)
    {
        std::vector<std::string> args = {"print", Remote(printer), doc_};
        RunResult r;
        WaitFor(
                [&] {
                    r = Porch(args);
                    return r.ok();
                },
                retry_s);
        EXPECT_TRUE(r.ok()) << Say(args, r);
        int id = JobNumber(r.out);
        EXPECT_GT(id, 0) << "porch print should say \"job N\"\n" << Say(args, r);
        return r.ok() ? id : 0;
    }

    // The lines of `porch jobs` output that mention job id as a word of their own.
    static std::vector<std::string> JobLines(const std::string &out, int id)
    {
        std::vector<std::string> found;
        const std::string want = std::to_string(id);
        for (const std::string &l : Lines(out))
            for (const std::string &w : Words(l))
                if (w == want || w == "#" + want || w == "Office-" + want) {
                    found.push_back(l);
                    break;
                }
        return found;
    }

    // The _porch-print._tcp services host 2 sees (avahi-browse -rtp in its avahi namespace):
    // instance name -> TXT; IPv4 records only (the same TXT is on IPv6).
    static std::map<std::string, std::map<std::string, std::string>>
    BrowsePrinters(std::string *raw = nullptr)
    {
        std::map<std::string, std::map<std::string, std::string>> found;
        RunResult r = lan_->run_in_avahi_ns(2, {"avahi-browse", "-rtp", "_porch-print._tcp"}, 20);
        if (raw)
            *raw = r.describe() + "\n" + r.out;
        for (const std::string &l : Lines(r.out)) {
            if (l[0] != '=')
                continue;
            std::vector<std::string> f;
            std::stringstream in(l);
            for (std::string x; f.size() < 9 && std::getline(in, x, ';');)
                f.push_back(x);
            std::string txt;
            std::getline(in, txt, '\0');
            if (f.size() == 9 && f[2] == "IPv4")
                found[Unescape(f[3])] = ParseTxt(txt);
        }
        return found;
    }

    static TestLan *lan_;
    static std::string why_not_;
    static bool may_skip_, ready_;
    static pid_t porchd_;
    static std::string h1_, h2_, out_, keys_, host2_state_, my_key_, backend_, ppd_;
    static std::string carol_, host2_, docs_; // carol's and host 2's keys, the Docs folder

    bool reconfigured_ = false; // porch.conf has extra [porch] lines (Reconfigure())
    std::string name_;          // the current test's name
    std::string xdg_;           // its $XDG_CONFIG_HOME (the client's key)
    std::string local_;         // a folder of its own on host 2
    std::string doc_;           // a small text document in it
};

TestLan *PrintTest::lan_ = nullptr;
std::string PrintTest::why_not_;
bool PrintTest::may_skip_ = false, PrintTest::ready_ = false;
pid_t PrintTest::porchd_ = -1;
std::string PrintTest::h1_, PrintTest::h2_, PrintTest::out_, PrintTest::keys_,
        PrintTest::host2_state_, PrintTest::my_key_, PrintTest::backend_, PrintTest::ppd_;
std::string PrintTest::carol_, PrintTest::host2_, PrintTest::docs_;

// A document as a printer receives it: PDF (porch.ppd) or PostScript (generic.ppd).
::testing::AssertionResult
IsPrinted(const std::string &path)
{
    std::string head = Head(path, 5);
    if (head == "%PDF-" || head.rfind("%!PS", 0) == 0)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << path << " does not start with %PDF- or %!PS: \"" << head << "\"";
}

// ---- printing --------------------------------------------------------------------------------

TEST_F(PrintTest, PermittedPeerPrints)
{
    std::map<int, Job> before = Jobs(1, "Office");
    std::vector<std::string> args = {"print", Remote("Office"), doc_};
    RunResult r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    int id = JobNumber(r.out);
    ASSERT_GT(id, 0) << "porch print should say \"job N\"\n" << Say(args, r);
    EXPECT_EQ(before.count(id), 0u) << "a new job\n" << Describe(before);

    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);
    std::map<int, Job> jobs = Jobs(1, "Office");
    ASSERT_EQ(jobs.count(id), 1u) << Describe(jobs);
    EXPECT_EQ(jobs[id].user, "me@porch") << Describe(jobs);
    EXPECT_EQ(jobs[id].name, "hello.txt") << "named after the file, as lp does\n" << Describe(jobs);
    EXPECT_EQ(jobs.size(), before.size() + 1) << "exactly one job\n" << Describe(jobs);
    EXPECT_TRUE(IsPrinted(out_));

    // --copies reaches CUPS
    args = {"print", Remote("Office"), doc_, "--copies", "2", "--title", "Quarterly report"};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    int id2 = JobNumber(r.out);
    jobs = Jobs(1, "Office");
    ASSERT_EQ(jobs.count(id2), 1u) << Say(args, r) << "\n" << Describe(jobs);
    EXPECT_EQ(jobs[id2].copies, "2") << Describe(jobs);
    EXPECT_EQ(jobs[id2].name, "Quarterly report") << Describe(jobs);
    EXPECT_EQ(jobs[id2].user, "me@porch") << Describe(jobs);
    EXPECT_EQ(WaitJob(1, "Office", id2, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id2);

    // lpstat, as an administrator would look: the job belongs to me@porch
    RunResult lp = Cups(1, {"lpstat", "-W", "all", "-o", "Office"});
    bool listed = false;
    for (const std::string &l : Lines(lp.out)) {
        std::vector<std::string> w = Words(l);
        listed |= w.size() >= 2 && w[0] == "Office-" + std::to_string(id) && w[1] == "me@porch";
    }
    EXPECT_TRUE(listed) << lp.describe() << "\n" << lp.out;
}

TEST_F(PrintTest, UnpermittedPeersAreRefusedBeforeCups)
{
    std::map<int, Job> before = Jobs(1, "Office");
    struct Case {
        const char *who;
        std::string key;
    } cases[] = {
            {"carol, a peer without the print right", keys_ + "/carol"},
            {"a key porchd does not know (a guest)", h2_ + "/stranger-state/ssh_host_ed25519_key"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.who);
        const std::string xdg = NewConfigHome(name_ + "-" + std::to_string(&c - cases));
        std::vector<std::string> args = {"print", "--identity", c.key, Remote("Office"), doc_};
        RunResult r = Porch(args, 60, xdg);
        EXPECT_EQ(r.exit_status, 1) << Say(args, r);
        EXPECT_TRUE(ContainsAnyNoCase(r.err, {"not allowed", "permission", "denied"}))
                << Say(args, r);
        EXPECT_EQ(JobNumber(r.out), 0) << Say(args, r);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::map<int, Job> after = Jobs(1, "Office");
    EXPECT_EQ(after.size(), before.size()) << "no job may reach CUPS\nbefore:\n"
                                           << Describe(before) << "after:\n"
                                           << Describe(after);
}

// A key porchd does not know is a guest: it prints where guests may (Lobby, a hidden printer)
// as guest+ADDRESS@porch (guests have no key: their address tells them apart), and sees only
// that guest's jobs.
TEST_F(PrintTest, GuestsPrintWhereAllowed)
{
    const std::string guest_key = h2_ + "/stranger-state/ssh_host_ed25519_key";
    const std::string guest_user = "guest+" + lan_->address(2) + "@porch";
    const std::string xdg = NewConfigHome(name_ + "-guest");
    std::vector<std::string> args = {"print", "--identity", guest_key, Remote("Lobby"), doc_};
    RunResult r = Porch(args, 60, xdg);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    int id = JobNumber(r.out);
    ASSERT_GT(id, 0) << Say(args, r);
    std::map<int, Job> jobs = Jobs(1, "Office");
    ASSERT_EQ(jobs.count(id), 1u) << Describe(jobs);
    EXPECT_EQ(jobs[id].user, guest_user) << Describe(jobs);
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);

    args = {"jobs", "--identity", guest_key, Remote("Lobby")};
    r = Porch(args, 60, xdg);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(JobLines(r.out, id).size(), 1u) << Say(args, r);
    // 'guest' means anyone, a peer included: me prints there too, but as me@porch
    int mine = PrintAsMe("Lobby");
    ASSERT_GT(mine, 0);
    jobs = Jobs(1, "Office");
    EXPECT_EQ(jobs[mine].user, "me@porch") << Describe(jobs);
    // the guest sees only its own jobs
    r = Porch(args, 60, xdg);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    for (const auto &[jid, j] : Jobs(1, "Office")) {
        if (j.user != guest_user) {
            EXPECT_TRUE(JobLines(r.out, jid).empty()) << "job " << jid << " is " << j.user << "'s\n"
                                                      << Say(args, r);
        }
    }
}

// Two guests, one on host 2 and one on host 1 (with the very same key: a guest's key proves
// nothing), are two owners in CUPS: the one cannot list nor cancel the other's pending job.
TEST_F(PrintTest, GuestsSeeAndCancelOnlyTheirOwnJobs)
{
    const std::string guest_key = h2_ + "/stranger-state/ssh_host_ed25519_key";
    const std::string xdg_b = NewConfigHome(name_ + "-guest-b");
    const std::string xdg_a = NewConfigHome(name_ + "-guest-a");
    // a stopped queue keeps the job pending
    ASSERT_TRUE(Cups(1, {"cupsdisable", "Office"}).ok());

    // guest B, on host 2, prints
    std::vector<std::string> args = {"print", "--identity", guest_key, Remote("Lobby"), doc_};
    RunResult r = Porch(args, 60, xdg_b);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    int id = JobNumber(r.out);
    ASSERT_GT(id, 0) << Say(args, r);
    ASSERT_EQ(WaitJob(1, "Office", id, {"pending"}, 5), "pending") << Describe(Jobs(1, "Office"));
    EXPECT_EQ(Jobs(1, "Office")[id].user, "guest+" + lan_->address(2) + "@porch")
            << Describe(Jobs(1, "Office"));

    // guest A, on host 1, sees nothing of it and cannot cancel it
    auto as_a = [&](const std::vector<std::string> &a) {
        return lan_->run(1, PorchArgv(a, xdg_a), 60);
    };
    args = {"jobs", "--identity", guest_key, Remote("Lobby")};
    r = as_a(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_TRUE(JobLines(r.out, id).empty()) << "guest B's job, listed to guest A\n"
                                             << Say(args, r);
    args = {"jobs", "--identity", guest_key, lan_->address(1)};
    r = as_a(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_TRUE(JobLines(r.out, id).empty()) << Say(args, r);
    args = {"cancel", "--identity", guest_key, Remote("Lobby"), std::to_string(id)};
    r = as_a(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, std::to_string(id))) << Say(args, r);
    EXPECT_EQ(WaitJob(1, "Office", id, {"pending"}, 0), "pending")
            << "guest A cancelled guest B's job\n"
            << Describe(Jobs(1, "Office"));

    // guest B does both
    args = {"jobs", "--identity", guest_key, Remote("Lobby")};
    r = Porch(args, 60, xdg_b);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(JobLines(r.out, id).size(), 1u) << Say(args, r);
    args = {"cancel", "--identity", guest_key, Remote("Lobby"), std::to_string(id)};
    r = Porch(args, 60, xdg_b);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(WaitJob(1, "Office", id, {"canceled"}, 10), "canceled")
            << Describe(Jobs(1, "Office"));
    EXPECT_TRUE(Cups(1, {"cupsenable", "Office"}).ok());
}

// A document larger than max-print-size is cut off there: the client is told so, with the
// exit status 65 (EX_DATAERR), and its job is cancelled, so that nothing of it prints. One
// within the limit prints as ever.
TEST_F(PrintTest, OversizedDocumentIsRefused)
{
    ASSERT_TRUE(Reconfigure("max-print-size = 64K\n"));
    std::string big;
    while (big.size() < 200 * 1024)
        big += "A line of a document larger than this printer takes.\n";
    const std::string big_doc = local_ + "/big.txt";
    ASSERT_TRUE(WriteFile(big_doc, big));
    const std::string before_out = ReadFile(out_);

    std::map<int, Job> before = Jobs(1, "Office");
    std::vector<std::string> args = {"print", Remote("Office"), big_doc};
    RunResult r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "larger than") && Contains(r.err, "64")) << Say(args, r);
    EXPECT_EQ(JobNumber(r.out), 0) << Say(args, r);
    std::vector<int> ids = NewJobs(before);
    EXPECT_LE(ids.size(), 1u) << Describe(Jobs(1, "Office"));
    for (int id : ids)
        EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}, 15), "canceled")
                << Describe(Jobs(1, "Office")) << JobLog(1, id);

    // the protocol's own status, through OpenSSH's client
    if (TestLan::missing_tools({"ssh"}).empty()) {
        before = Jobs(1, "Office");
        std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" < \"$0\"", big_doc};
        std::vector<std::string> ssh = SshArgv();
        argv.insert(argv.end(), ssh.begin(), ssh.end());
        argv.insert(argv.end(), {"print", "Office"});
        r = lan_->run(2, argv, 60);
        EXPECT_EQ(r.exit_status, 65) << r.describe();
        EXPECT_TRUE(Contains(r.err, "max-print-size")) << r.describe();
        for (int id : NewJobs(before))
            EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}, 15),
                      "canceled")
                    << Describe(Jobs(1, "Office")) << JobLog(1, id);
    }
    EXPECT_EQ(ReadFile(out_), before_out) << "nothing of it may print";

    // within the limit: printed
    int id = PrintAsMe();
    ASSERT_GT(id, 0);
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);
    EXPECT_TRUE(Reconfigure(""));
}

// A document that stops arriving is given up after porch.conf's idle-timeout (here 2 s, not the
// default 5 minutes): exit status 74 (EX_IOERR), its job cancelled.
TEST_F(PrintTest, IdleTimeoutComesFromTheConfig)
{
    if (!TestLan::missing_tools({"ssh", "bash"}).empty()) {
        if (TestLan::must_run())
            GTEST_FAIL() << "missing tools (CI is set): ssh, bash";
        GTEST_SKIP() << "missing tools: ssh (Debian: openssh-client), bash";
    }
    ASSERT_TRUE(Reconfigure("idle-timeout = 2\n"));
    std::map<int, Job> before = Jobs(1, "Office");
    // 1000 bytes, then nothing (the writer sleeps on, ssh's stdin stays open)
    std::vector<std::string> argv = {
            "bash", "-c", "exec \"$@\" < <(exec 2>/dev/null; head -c 1000 \"$0\"; exec sleep 30)",
            doc_};
    std::vector<std::string> ssh = SshArgv();
    argv.insert(argv.end(), ssh.begin(), ssh.end());
    argv.insert(argv.end(), {"print", "Office"});
    auto start = Clock::now();
    RunResult r = lan_->run(2, argv, 25);
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(r.exit_status, 74) << r.describe() << " after " << took << " s";
    EXPECT_LT(took, 15) << "idle-timeout is 2 s";
    // not before: a pause shorter than idle-timeout is no reason to give up a document
    EXPECT_GE(took, 2) << "idle-timeout is 2 s";
    EXPECT_TRUE(ContainsNoCase(r.err, "did not arrive whole")) << r.describe();
    std::vector<int> ids = NewJobs(before);
    ASSERT_EQ(ids.size(), 1u) << Describe(Jobs(1, "Office"));
    EXPECT_EQ(WaitJob(1, "Office", ids[0], {"completed", "aborted", "canceled"}, 15), "canceled")
            << Describe(Jobs(1, "Office")) << JobLog(1, ids[0]);
    EXPECT_TRUE(Reconfigure(""));
}

TEST_F(PrintTest, JobsListsAndCancelCancelsOwnJobs)
{
    // A stopped queue keeps the job pending.
    RunResult r = Cups(1, {"cupsdisable", "Office"});
    ASSERT_TRUE(r.ok()) << r.describe();
    int id = PrintAsMe();
    ASSERT_GT(id, 0);
    ASSERT_EQ(WaitJob(1, "Office", id, {"pending"}, 5), "pending") << Describe(Jobs(1, "Office"));

    std::vector<std::string> args = {"jobs", Remote("Office")};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    std::vector<std::string> lines = JobLines(r.out, id);
    ASSERT_EQ(lines.size(), 1u) << "my job, once\n" << Say(args, r);
    EXPECT_TRUE(ContainsNoCase(lines[0], "pending")) << Say(args, r);
    args = {"jobs", lan_->address(1)};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(JobLines(r.out, id).size(), 1u) << "all printers: my job too\n" << Say(args, r);

    // Others cannot cancel it: carol (no print right) and host2 (may print, not its job).
    struct Other {
        const char *who;
        std::string key;
    } others[] = {{"carol", keys_ + "/carol"}, {"host2", host2_state_ + "/ssh_host_ed25519_key"}};
    for (const Other &o : others) {
        SCOPED_TRACE(o.who);
        const std::string xdg = NewConfigHome(name_ + "-" + o.who);
        args = {"cancel", "--identity", o.key, Remote("Office"), std::to_string(id)};
        r = Porch(args, 60, xdg);
        EXPECT_EQ(r.exit_status, 1) << Say(args, r);
        EXPECT_FALSE(r.err.empty()) << Say(args, r);
        EXPECT_EQ(WaitJob(1, "Office", id, {"pending"}, 0), "pending")
                << "the job must still be there\n"
                << Describe(Jobs(1, "Office"));
        if (std::string(o.who) == "host2") {
            args = {"jobs", "--identity", o.key, Remote("Office")};
            r = Porch(args, 60, xdg);
            EXPECT_TRUE(r.ok()) << Say(args, r);
            EXPECT_TRUE(JobLines(r.out, id).empty()) << "not host2's job\n" << Say(args, r);
        }
    }

    // A job that does not exist
    args = {"cancel", Remote("Office"), "99999"};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "99999")) << Say(args, r);

    // I can.
    args = {"cancel", Remote("Office"), std::to_string(id)};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(WaitJob(1, "Office", id, {"canceled"}, 10), "canceled")
            << Describe(Jobs(1, "Office"));
    args = {"jobs", Remote("Office")};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    lines = JobLines(r.out, id);
    if (!lines.empty()) { // CUPS still remembers it: then as canceled
        EXPECT_TRUE(ContainsNoCase(lines[0], "cancel")) << Say(args, r);
    }
    // A job that has ended cannot be cancelled: CUPS says why.
    args = {"cancel", Remote("Office"), std::to_string(id)};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(ContainsNoCase(r.err, "already")) << Say(args, r);
    EXPECT_TRUE(Cups(1, {"cupsenable", "Office"}).ok());
}

TEST_F(PrintTest, MissingQueueUnknownPrinterAndCupsDown)
{
    std::map<int, Job> before = Jobs(1, "Office");
    // Ghost: in porch.conf, but CUPS has no queue NoSuchQueue.
    std::vector<std::string> args = {"print", Remote("Ghost"), doc_};
    RunResult r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(Contains(r.err, "Ghost")) << "the message should name the printer\n"
                                          << Say(args, r);
    EXPECT_TRUE(ContainsAnyNoCase(r.err, {"not available", "does not exist", "no such", "not found",
                                          "missing", "unavailable"}))
            << Say(args, r);

    // Nope: not a printer of porchd's.
    args = {"print", Remote("Nope"), doc_};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(ContainsAnyNoCase(r.err, {"no such", "not found", "unknown"})) << Say(args, r);
    EXPECT_EQ(Jobs(1, "Office").size(), before.size()) << Describe(Jobs(1, "Office"));

    // An empty document: CUPS refuses it, porch says CUPS's reason, nothing prints.
    ASSERT_TRUE(WriteFile(local_ + "/empty.txt", ""));
    before = Jobs(1, "Office");
    args = {"print", Remote("Office"), local_ + "/empty.txt"};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(ContainsNoCase(r.err, "no file")) << "CUPS's own words\n" << Say(args, r);
    for (const auto &[jid, j] : Jobs(1, "Office")) {
        if (!before.count(jid)) {
            EXPECT_NE(j.state, "completed") << Describe(Jobs(1, "Office"));
        }
    }

    // CUPS stopped: printing fails with a reason, files are still served.
    EXPECT_EQ(lan_->stop_cupsd(1), 0);
    args = {"print", Remote("Office"), doc_};
    r = Porch(args);
    EXPECT_EQ(r.exit_status, 1) << Say(args, r);
    EXPECT_TRUE(ContainsAnyNoCase(r.err, {"not running", "unavailable", "try again"}))
            << Say(args, r);
    args = {"ls", lan_->address(1)};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_TRUE(Contains(r.out, "Docs")) << Say(args, r);
    args = {"get", Remote("Docs/readme.txt"), local_ + "/readme.txt"};
    r = Porch(args);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    EXPECT_EQ(ReadFile(local_ + "/readme.txt"), "files still work\n");
    EXPECT_TRUE(lan_->running(porchd_)) << "porchd must survive CUPS going away";

    // CUPS back: printing works again, without restarting porchd.
    std::string why;
    ASSERT_FALSE(lan_->start_cupsd(1, &why).empty()) << why;
    int id = PrintAsMe("Office", 15);
    ASSERT_GT(id, 0);
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);
    EXPECT_TRUE(IsPrinted(out_));
}

// The exec channel as OpenSSH's client speaks it (the contract: `ssh -p 4422 HOST print
// PRINTER < FILE` works), and a document that never arrives whole: the client killed midway
// leaves a cancelled job, nothing printed.
TEST_F(PrintTest, InterruptedDocumentIsCancelled)
{
    if (!TestLan::missing_tools({"ssh"}).empty()) {
        if (TestLan::must_run())
            GTEST_FAIL() << "missing tools (CI is set): ssh";
        GTEST_SKIP() << "missing tools: ssh (Debian: openssh-client)";
    }
    std::vector<std::string> ssh = {"ssh", "-p", "4422", "-i", keys_ + "/me"};
    for (const char *o : {"IdentitiesOnly=yes", "StrictHostKeyChecking=no",
                          "UserKnownHostsFile=/dev/null", "BatchMode=yes", "LogLevel=ERROR"})
        ssh.insert(ssh.end(), {"-o", o});
    ssh.push_back("me@" + lan_->address(1));
    // a whole document
    std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" < \"$0\"", doc_};
    argv.insert(argv.end(), ssh.begin(), ssh.end());
    argv.insert(argv.end(), {"print", "Office"});
    RunResult r = lan_->run(2, argv, 60);
    ASSERT_TRUE(r.ok()) << r.describe();
    int id = atoi(r.out.c_str());
    EXPECT_EQ(r.out, std::to_string(id) + "\n") << "the job id, alone on its line";
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);

    // 1 MiB of a document, then the client stalls and is killed
    std::string big;
    while (big.size() < (2 << 20))
        big += "A line of a long document that will never arrive whole.\n";
    ASSERT_TRUE(WriteFile(local_ + "/big.txt", big));
    std::map<int, Job> before = Jobs(1, "Office");
    argv = {"sh", "-c", "(head -c 1048576 \"$0\"; sleep 60) | \"$@\"", local_ + "/big.txt"};
    argv.insert(argv.end(), ssh.begin(), ssh.end());
    argv.insert(argv.end(), {"print", "Office"});
    pid_t client = lan_->spawn(2, argv, local_ + "/ssh.log");
    ASSERT_GT(client, 0);
    id = 0;
    std::map<int, Job> jobs;
    ASSERT_TRUE(WaitFor(
            [&] {
                jobs = Jobs(1, "Office");
                for (const auto &[jid, j] : jobs)
                    if (!before.count(jid))
                        id = jid;
                return id > 0;
            },
            15))
            << "no job was created\n"
            << Describe(jobs) << ReadFile(local_ + "/ssh.log");
    std::this_thread::sleep_for(std::chrono::seconds(1)); // the first MiB goes through
    EXPECT_TRUE(lan_->running(client)) << ReadFile(local_ + "/ssh.log");
    {
        // the session relays the document; porchd-print, started by the network side for
        // it, is the one process that loads libcups (daemon/print-relay.h)
        pid_t network = porch::test::NetworkSide(porchd_);
        std::vector<pid_t> sessions = porch::test::PorchdSessions(porchd_);
        std::vector<pid_t> helpers = porch::test::ChildProcesses(network, "porchd-print");
        ASSERT_EQ(sessions.size(), 1u) << "porchd " << porchd_ << ", network side " << network;
        ASSERT_EQ(helpers.size(), 1u) << "porchd-print processes of the network side";
        EXPECT_FALSE(
                Contains(ReadFile("/proc/" + std::to_string(sessions[0]) + "/maps"), "libcups"));
        EXPECT_TRUE(Contains(ReadFile("/proc/" + std::to_string(helpers[0]) + "/maps"), "libcups"));
    }
    lan_->stop(client, SIGKILL);
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}, 15), "canceled")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);
    EXPECT_TRUE(lan_->running(porchd_));
    EXPECT_TRUE(WaitFor(
            [&] {
                return porch::test::ChildProcesses(porch::test::NetworkSide(porchd_),
                                                   "porchd-print")
                        .empty();
            },
            10))
            << "porchd-print outlived its session";
}

// The session relays the client's stdin to porchd-print while porchd-print answers: a long
// answer (search: 200 paths of ~4 KiB) while the client still sends more than the socket
// between them holds. Both sides sending with blocking sends waited for each other for ever;
// the session must keep reading the answer (daemon/print-relay.c).
TEST_F(PrintTest, ALongAnswerWhileTheClientStillSends)
{
    if (!TestLan::missing_tools({"ssh", "sh", "head"}).empty()) {
        if (TestLan::must_run())
            GTEST_FAIL() << "missing tools (CI is set): ssh, sh, head";
        GTEST_SKIP() << "missing tools: ssh (Debian: openssh-client), sh, head";
    }
    // 19 folders of 200 characters, then 200 files of ~230: paths of ~4050 bytes
    std::string deep = docs_ + "/deep";
    for (int i = 0; i < 19; i++)
        deep += "/" + std::string(199, char('a' + i)) + "d";
    ASSERT_TRUE(MakeDirs(deep)) << deep;
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "haystack-needle-%03d-", i);
        ASSERT_TRUE(WriteFile(deep + "/" + name + std::string(200, 'x') + ".txt",
                              "needle " + std::to_string(i) + "\n"));
    }
    std::vector<std::string> search = SshArgv();
    search.insert(search.end(), {"search", "haystack-needle"});
    auto lines = [](const std::string &out) {
        return size_t(std::count(out.begin(), out.end(), '\n'));
    };
    RunResult r;
    EXPECT_TRUE(WaitFor(
            [&] {
                r = lan_->run(2, search, 20);
                return r.ok() && lines(r.out) == 200;
            },
            90))
            << "the index never held the 200 files: " << r.describe().substr(0, 2000);
    ASSERT_GT(r.out.size(), 600000u) << "the answer must be far larger than the socket holds";

    // the same, with 16 MiB coming on stdin all the while
    std::vector<std::string> argv = {"sh", "-c", "head -c 16777216 /dev/zero | \"$@\"", "sh"};
    argv.insert(argv.end(), search.begin(), search.end());
    auto start = Clock::now();
    r = lan_->run(2, argv, 60);
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(r.exit_status, 0) << r.describe().substr(0, 2000) << " after " << took << " s";
    EXPECT_EQ(lines(r.out), 200u) << "after " << took << " s";
    std::error_code ec;
    std::filesystem::remove_all(docs_ + "/deep", ec);
}

// ---- the CUPS backend ------------------------------------------------------------------------

TEST_F(PrintTest, BackendRunAsCupsdRunsIt)
{
    ASSERT_FALSE(backend_.empty()) << PORCH_PROGRAM_PORCH_BACKEND " is not built";

    // Without arguments: the discovery line lpinfo -v shows.
    RunResult r = Cups(2, {backend_});
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.out.rfind("network porch", 0), 0u) << r.out;

    // As cupsd runs it: job-id user title copies options, the document on stdin, the host key
    // of the machine in PORCH_STATE_DIR. Its own copy of host 2's key, its own known_peers.
    const std::string state = local_ + "/state";
    ASSERT_TRUE(MakeDirs(state, 0700));
    ASSERT_TRUE(WriteFile(state + "/ssh_host_ed25519_key",
                          ReadFile(host2_state_ + "/ssh_host_ed25519_key"), 0600));
    ASSERT_TRUE(WriteFile(state + "/ssh_host_ed25519_key.pub",
                          ReadFile(host2_state_ + "/ssh_host_ed25519_key.pub")));
    auto run_backend = [&](const std::string &state_dir, const std::string &title) {
        return Cups(2,
                    {"env", "DEVICE_URI=porch://" + lan_->address(1) + "/Office",
                     "PORCH_STATE_DIR=" + state_dir, "DOC=" + doc_, "sh", "-c",
                     "exec \"$0\" \"$@\" < \"$DOC\"", backend_, "42", "alice", title, "1", ""},
                    60);
    };
    std::map<int, Job> before = Jobs(1, "Office");
    const std::string title = "backend " + name_;
    r = run_backend(state, title);
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_FALSE(Contains(r.err, "ERROR:")) << r.describe();
    std::map<int, Job> after = Jobs(1, "Office");
    int id = 0;
    for (const auto &[jid, j] : after)
        if (!before.count(jid))
            id = jid;
    ASSERT_GT(id, 0) << "no new job on host 1\n" << Describe(after);
    EXPECT_EQ(after[id].user, "host2@porch") << Describe(after);
    EXPECT_EQ(after[id].name, title) << Describe(after);
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);
    EXPECT_TRUE(IsPrinted(out_));
    EXPECT_TRUE(Contains(ReadFile(state + "/known_peers"), "ssh-ed25519"))
            << "the backend pins host 1's key in PORCH_STATE_DIR/known_peers";

    // A machine whose host key is no peer of host 1: CUPS must not retry (5, CANCEL).
    before = Jobs(1, "Office");
    r = run_backend(h2_ + "/stranger-state", title + " stranger");
    EXPECT_EQ(r.exit_status, 5) << r.describe();
    EXPECT_TRUE(Contains(r.err, "ERROR:")) << r.describe();
    EXPECT_EQ(Jobs(1, "Office").size(), before.size()) << Describe(Jobs(1, "Office"));
}

TEST_F(PrintTest, PrinterAddPrintsEndToEnd)
{
    ASSERT_FALSE(backend_.empty()) << PORCH_PROGRAM_PORCH_BACKEND " is not built";
    ASSERT_FALSE(ppd_.empty()) << "packaging/porch.ppd is missing";

    // porch printer add, on host 2's own cupsd
    const std::vector<std::string> env = {"PORCH_PPD=" + ppd_};
    std::vector<std::string> args = {"printer", "add", Remote("Office"), "--name", "OfficeRemote"};
    RunResult r = Porch(args, 60, "", env);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    r = Cups(2, {"lpstat", "-v", "OfficeRemote"});
    EXPECT_TRUE(Contains(r.out, "porch://" + lan_->address(1) + "/Office"))
            << r.describe() << r.out;
    r = Cups(2, {"lpstat", "-p", "OfficeRemote"});
    EXPECT_TRUE(r.ok() && Contains(r.out, "enabled")) << r.describe() << r.out;

    // an application prints to it: host 2's cupsd -> porch backend -> porchd -> host 1's cupsd
    std::map<int, Job> before = Jobs(1, "Office");
    const std::string title = "lp " + name_;
    r = Cups(2, {"lp", "-d", "OfficeRemote", "-t", title, doc_});
    ASSERT_TRUE(r.ok()) << r.describe();
    int local_id = 0;
    local_id = FirstNumber(r.out, "OfficeRemote-([0-9]+)");
    ASSERT_GT(local_id, 0) << r.out;
    EXPECT_EQ(WaitJob(2, "OfficeRemote", local_id, {"completed", "aborted", "canceled"}, 60),
              "completed")
            << Describe(Jobs(2, "OfficeRemote")) << "host 2's cupsd:\n"
            << JobLog(2, local_id);
    std::map<int, Job> after;
    int id = 0;
    WaitFor(
            [&] {
                after = Jobs(1, "Office");
                for (const auto &[jid, j] : after)
                    if (!before.count(jid))
                        id = jid;
                return id > 0;
            },
            10);
    ASSERT_GT(id, 0) << "nothing arrived at host 1\n"
                     << Describe(after) << "host 2's cupsd:\n"
                     << JobLog(2, local_id);
    EXPECT_EQ(after[id].user, "host2@porch") << Describe(after);
    EXPECT_EQ(WaitJob(1, "Office", id, {"completed", "aborted", "canceled"}), "completed")
            << Describe(Jobs(1, "Office")) << JobLog(1, id);
    EXPECT_TRUE(IsPrinted(out_));

    // Without --name: PRINTER@HOST
    args = {"printer", "add", Remote("Office")};
    r = Porch(args, 60, "", env);
    EXPECT_TRUE(r.ok()) << Say(args, r);
    r = Cups(2, {"lpstat", "-v"});
    EXPECT_TRUE(Contains(r.out, "Office@" + lan_->address(1) + ":")) << r.describe() << r.out;
}

// The way a user adds a neighbour's printer: by its display name, which the backend (run by
// host 2's cupsd, with host 2's D-Bus) and porch resolve over mDNS every time. porchd listens
// on IPv4 only while mDNS gives both an IPv4 and an IPv6 address: every attempt must still
// reach it.
TEST_F(PrintTest, PrinterAddByDisplayName)
{
    ASSERT_FALSE(backend_.empty()) << PORCH_PROGRAM_PORCH_BACKEND " is not built";
    ASSERT_FALSE(ppd_.empty()) << "packaging/porch.ppd is missing";
    const std::string target = std::string(kDisplayName) + "/Office";
    std::vector<std::string> args = {"printer", "add", target};
    RunResult r;
    // the first call may come before host 2 has seen porchd's record
    WaitFor(
            [&] {
                r = Porch(args, 60, "", {"PORCH_PPD=" + ppd_});
                return r.exit_status != 3;
            },
            15);
    ASSERT_TRUE(r.ok()) << Say(args, r);
    // the default queue name: PRINTER@HOST, what CUPS refuses in a name replaced by '_'
    const std::string queue = "Office@Alice_s_laptop";
    r = Cups(2, {"lpstat", "-v", queue});
    EXPECT_TRUE(Contains(r.out, "porch://Alice's%20laptop/Office")) << r.describe() << r.out;
    r = Cups(2, {"lpstat", "-l", "-p", queue});
    EXPECT_TRUE(Contains(r.out, std::string("Description: Office on ") + kDisplayName))
            << r.describe() << r.out;

    std::map<int, Job> before = Jobs(1, "Office");
    r = Cups(2, {"lp", "-d", queue, "-t", "by name " + name_, doc_});
    ASSERT_TRUE(r.ok()) << r.describe();
    int local_id = 0;
    local_id = FirstNumber(r.out, queue + "-([0-9]+)");
    ASSERT_GT(local_id, 0) << r.out;
    EXPECT_EQ(WaitJob(2, queue, local_id, {"completed", "aborted", "canceled"}, 25), "completed")
            << "(held: the backend asked CUPS to retry later)\n"
            << Describe(Jobs(2, queue)) << "host 2's cupsd:\n"
            << JobLog(2, local_id);
    std::map<int, Job> after = Jobs(1, "Office");
    int arrived = 0;
    for (const auto &[jid, j] : after)
        arrived += !before.count(jid) && j.user == "host2@porch";
    EXPECT_EQ(arrived, 1) << Describe(after);

    // and porch itself, by display name, every time
    args = {"jobs", target};
    std::string failures;
    for (int i = 0; i < 20; i++) {
        r = Porch(args);
        if (!r.ok())
            failures += "  attempt " + std::to_string(i + 1) + ": " + r.describe();
    }
    EXPECT_EQ(failures, "") << "porch jobs '" << target << "' failed:\n" << failures;
}

// ---- mDNS ------------------------------------------------------------------------------------

TEST_F(PrintTest, PrintersAreAdvertisedWithTheirState)
{
    const std::string office = std::string("Office on ") + kDisplayName;
    std::map<std::string, std::string> attrs = PrinterAttributes(1, "Office");
    ASSERT_TRUE(attrs.count("printer-make-and-model")) << Cups(1, {"lpstat", "-l", "-p"}).out;
    const std::string color = attrs["color-supported"] == "true" ? "T" : "F";
    const std::string duplex = Contains(attrs["sides-supported"], "two-sided") ? "T" : "F";

    std::string raw;
    std::map<std::string, std::map<std::string, std::string>> seen;
    auto txt_is = [&](const std::string &key, const std::string &value) {
        seen = BrowsePrinters(&raw);
        return seen.count(office) && seen[office][key] == value;
    };
    ASSERT_TRUE(WaitFor([&] { return txt_is("state", "idle"); }, 15))
            << "\"" << office << "\" with state=idle not seen from host 2:\n"
            << raw;
    std::map<std::string, std::string> txt = seen[office];
    EXPECT_EQ(txt["v"], "1") << DescribeTxt(txt);
    EXPECT_EQ(txt["ty"], attrs["printer-make-and-model"]) << DescribeTxt(txt);
    EXPECT_EQ(txt["Color"], color) << DescribeTxt(txt);
    EXPECT_EQ(txt["Duplex"], duplex) << DescribeTxt(txt);
    EXPECT_EQ(txt["accepting"], "T") << DescribeTxt(txt);
    std::set<std::string> keys;
    for (const auto &[k, v] : txt)
        keys.insert(k);
    EXPECT_EQ(keys, (std::set<std::string>{"v", "ty", "Color", "Duplex", "state", "accepting"}))
            << "nothing else in the TXT: " << DescribeTxt(txt);
    for (const auto &[name, t] : seen) {
        EXPECT_FALSE(Contains(name, "Ghost")) << "Ghost has no queue: not advertised\n" << raw;
        EXPECT_FALSE(Contains(name, "Lobby")) << "Lobby is hidden: not advertised\n" << raw;
    }
    EXPECT_EQ(seen.size(), 1u) << raw;

    // A stopped queue: state=stopped within ~10 s; enabled again: idle.
    ASSERT_TRUE(Cups(1, {"cupsdisable", "Office"}).ok());
    EXPECT_TRUE(WaitFor([&] { return txt_is("state", "stopped"); }, 12))
            << "state=stopped not seen:\n"
            << raw;
    ASSERT_TRUE(Cups(1, {"cupsenable", "Office"}).ok());
    EXPECT_TRUE(WaitFor([&] { return txt_is("state", "idle"); }, 12)) << "state=idle not seen:\n"
                                                                      << raw;

    // CUPS down: not advertised; back: advertised again.
    EXPECT_EQ(lan_->stop_cupsd(1), 0);
    EXPECT_TRUE(WaitFor(
            [&] {
                seen = BrowsePrinters(&raw);
                return !seen.count(office) && raw.rfind("exit status 0", 0) == 0;
            },
            15))
            << "still advertised while CUPS is down:\n"
            << raw;
    std::string why;
    ASSERT_FALSE(lan_->start_cupsd(1, &why).empty()) << why;
    EXPECT_TRUE(WaitFor([&] { return txt_is("state", "idle"); }, 15))
            << "not advertised again after CUPS came back:\n"
            << raw;
}

} // namespace
