// test-cli-help.cc — what the porch command tells people: its help, its errors, ls -l -h, and
// shell completion (packaging/completion/).
//
// Without a network:
//   HelpFitsIn80Columns           porch --help and every command's --help (the commands read
//                                 from porch --help, so new ones are checked too): no line
//                                 wider than 80 columns
//   HelpCommand                   porch help = porch --help; porch help CMD = porch CMD
//                                 --help; an unknown CMD is a usage error
//   BashCompletionLoads           `complete -p porch` after sourcing porch.bash
//   BashCompletesCommandsAndOptions  every command porch --help lists, each command's options
//   BashCompletesNeighboursFromCache  HOST/, HOST/SHARE/, HOST/PRINTER from a cached
//                                 `porch browse --json` answer; a cache that is a link or too
//                                 old is not read (no browsing: no D-Bus)
//   ZshCompletionParses           zsh -n _porch
// Against porchd on the test LAN (host 1; porch and the completion on host 2):
//   UnknownShareNamesTheShares    ls/get/put of HOST/Fotos: "no share 'Fotos' on HOST; it
//                                 shares: Music, Photos", exit 1; hidden and others' shares
//                                 not named
//   ShareNamesMatchWithoutCase    HOST/photos and HOST/PHOTOS reach [share Photos]
//   LsLongHumanSizes              ls -l shows bytes, ls -l -h 1.5 KiB
//   PrinterNamesMatchWithoutCase...  HOST/office reaches [printer Office] (jobs, print); an
//                                 unknown printer: "no such printer", then the printers the
//                                 host advertises
//   BashCompletesLiveNeighbours   the completion browses (porch browse --json) and offers
//                                 "Alice's laptop/" and its shares
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <glib.h>

#include "test-util.h"
#include "testlan.h"

namespace
{

using porch::test::Contains;
using porch::test::GiveToShareOwner;
using porch::test::MakeDirs;
using porch::test::MakeKey;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::TestLan;
using porch::test::WaitFor;
using porch::test::WriteFile;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr const char *kBash = PORCH_SOURCE_DIR "/packaging/completion/porch.bash";
constexpr const char *kZsh = PORCH_SOURCE_DIR "/packaging/completion/_porch";
constexpr const char *kDisplayName = "Alice's laptop";

std::vector<std::string>
Lines(const std::string &text)
{
    std::vector<std::string> lines;
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Columns a terminal gives the UTF-8 line: wide characters two, combining ones none.
int
DisplayWidth(const std::string &line)
{
    int n = 0;
    if (!g_utf8_validate(line.c_str(), -1, nullptr))
        return 1000;
    for (const char *p = line.c_str(); *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        n += g_unichar_iszerowidth(c) ? 0 : g_unichar_iswide(c) ? 2 : 1;
    }
    return n;
}

// Runs argv in this process's namespaces, in a C.UTF-8 locale, with no system bus (nothing
// here may browse the machine's own network).
RunResult
Local(std::vector<std::string> argv, const std::vector<std::string> &env = {})
{
    std::vector<std::string> full = {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                                     "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent"};
    full.insert(full.end(), env.begin(), env.end());
    full.insert(full.end(), argv.begin(), argv.end());
    return TestLan::run_local(full, 30);
}

// The command names porch --help lists, as the completion reads them: "  porch NAME ...".
std::vector<std::string>
Commands()
{
    std::vector<std::string> names;
    for (const std::string &line : Lines(Local({kPorch, "--help"}).out))
        if (line.rfind("  porch ", 0) == 0) {
            std::string rest = line.substr(8);
            names.push_back(rest.substr(0, rest.find(' ')));
        }
    return names;
}

// The long options the --help of `command` shows in its option column.
std::set<std::string>
LongOptions(const std::string &command)
{
    std::set<std::string> options;
    for (const std::string &line : Lines(Local({kPorch, command, "--help"}).out)) {
        if (line.rfind("  -", 0) != 0)
            continue;
        size_t at = line.find("--");
        if (at == std::string::npos || at > 6)
            continue;
        size_t end = line.find_first_of(" =", at);
        options.insert(line.substr(at, end - at));
    }
    return options;
}

// A bash script that sources porch.bash, completes the words "$@" (the last one being
// completed) and prints COMPREPLY, one entry a line.
const char *kComplete = "source \"$COMPLETION\" || exit 9\n"
                        "COMP_WORDS=(\"$@\")\n"
                        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                        "COMPREPLY=()\n"
                        "_porch\n"
                        "printf '%s\\n' \"${COMPREPLY[@]}\"\n";

std::set<std::string>
Completions(const std::vector<std::string> &words, const std::vector<std::string> &env = {})
{
    std::vector<std::string> argv = {"bash", "-c", kComplete, "bash", kPorch};
    argv.insert(argv.end(), words.begin(), words.end());
    std::vector<std::string> e = env;
    e.push_back(std::string("COMPLETION=") + kBash);
    RunResult r = Local(argv, e);
    EXPECT_TRUE(r.ok()) << r.describe();
    std::set<std::string> out;
    for (const std::string &line : Lines(r.out))
        if (!line.empty())
            out.insert(line);
    return out;
}

std::string
Show(const std::set<std::string> &s)
{
    std::string out;
    for (const std::string &x : s)
        out += "[" + x + "] ";
    return out;
}

// A folder of this test's own, removed at the end.
class TempDir
{
  public:
    TempDir()
    {
        char tmpl[] = "/tmp/porch-test-cli-help-XXXXXX";
        path_ = mkdtemp(tmpl) ? tmpl : "";
    }
    ~TempDir()
    {
        if (!path_.empty())
            TestLan::run_local({"rm", "-rf", "--", path_});
    }
    const std::string &path() const
    {
        return path_;
    }

  private:
    std::string path_;
};

// ---- help ------------------------------------------------------------------------------------

TEST(CliHelp, HelpFitsIn80Columns)
{
    std::vector<std::string> commands = Commands();
    // the ten of the first version at least: an empty parse must not pass
    for (const char *c :
         {"browse", "ls", "get", "put", "print", "jobs", "cancel", "printer", "id", "peers"})
        EXPECT_NE(std::find(commands.begin(), commands.end(), c), commands.end())
                << c << " missing from porch --help";

    std::vector<std::vector<std::string>> runs = {{kPorch, "--help"}};
    for (const std::string &c : commands)
        runs.push_back({kPorch, c, "--help"});
    for (const auto &argv : runs) {
        RunResult r = Local(argv);
        EXPECT_TRUE(r.ok()) << argv[1] << " " << (argv.size() > 2 ? argv[2] : "") << ": "
                            << r.describe();
        EXPECT_GT(r.out.size(), 40u) << argv[1];
        for (const std::string &line : Lines(r.out))
            EXPECT_LE(DisplayWidth(line), 80)
                    << "porch " << argv[1] << (argv.size() > 2 ? " " + argv[2] : "")
                    << ": a line of " << DisplayWidth(line) << " columns:\n"
                    << line;
    }
}

TEST(CliHelp, HelpCommand)
{
    RunResult top = Local({kPorch, "--help"});
    RunResult help = Local({kPorch, "help"});
    ASSERT_TRUE(top.ok()) << top.describe();
    EXPECT_TRUE(help.ok()) << help.describe();
    EXPECT_EQ(help.out, top.out);

    for (const std::string &c : Commands()) {
        RunResult own = Local({kPorch, c, "--help"});
        RunResult via = Local({kPorch, "help", c});
        EXPECT_TRUE(via.ok()) << c << ": " << via.describe();
        EXPECT_EQ(via.out, own.out) << c;
        EXPECT_TRUE(Contains(via.out, "porch " + c)) << via.out;
    }

    RunResult unknown = Local({kPorch, "help", "nosuchcommand"});
    EXPECT_EQ(unknown.exit_status, 2) << unknown.describe();
    EXPECT_TRUE(Contains(unknown.err, "unknown command 'nosuchcommand'")) << unknown.err;
    EXPECT_TRUE(unknown.out.empty()) << unknown.out;
    RunResult two = Local({kPorch, "help", "ls", "get"});
    EXPECT_EQ(two.exit_status, 2) << two.describe();
}

// ---- completion, without a network -------------------------------------------------------------

TEST(CliHelp, BashCompletionLoads)
{
    PORCH_REQUIRE_TOOLS("bash");
    RunResult r = Local({"bash", "-c", "source \"$1\" && complete -p porch", "bash", kBash});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.out, "complete -F _porch porch\n");
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(CliHelp, BashCompletesCommandsAndOptions)
{
    PORCH_REQUIRE_TOOLS("bash");
    std::vector<std::string> commands = Commands();
    ASSERT_FALSE(commands.empty());

    std::set<std::string> all = Completions({""});
    for (const std::string &c : commands)
        EXPECT_TRUE(all.count(c)) << c << " not completed: " << Show(all);
    EXPECT_TRUE(all.count("help")) << Show(all);
    EXPECT_EQ(Completions({"pe"}), (std::set<std::string>{"peers"}));
    EXPECT_EQ(Completions({"help", "can"}), (std::set<std::string>{"cancel"}));

    // each command's options are the ones its --help shows
    for (const std::string &c : commands) {
        std::set<std::string> want = LongOptions(c);
        EXPECT_TRUE(want.count("--help")) << c;
        EXPECT_EQ(Completions({c, "--"}), want) << c;
    }
    EXPECT_TRUE(Completions({"ls", "--"}).count("--human-readable"));
    EXPECT_EQ(Completions({"get", "--no-r"}), (std::set<std::string>{"--no-resume"}));
    EXPECT_EQ(Completions({"peers", "ac"}), (std::set<std::string>{"accept"}));
}

TEST(CliHelp, BashCompletesNeighboursFromCache)
{
    PORCH_REQUIRE_TOOLS("bash", "awk", "stat");
    TempDir run;
    ASSERT_FALSE(run.path().empty());
    ASSERT_EQ(chmod(run.path().c_str(), 0700), 0);
    // porch browse --json as porch(1) documents it; "Printer box" does not run Porch
    std::string cache = run.path() + "/porch-complete-browse.json";
    ASSERT_TRUE(WriteFile(
            cache,
            "[\n"
            "{\"name\":\"Alice's laptop\",\"host\":\"alice.local\",\"porch\":true,\"port\":4422,"
            "\"fingerprint\":null,\"ipv4\":[\"10.0.0.1\"],\"ipv6\":[],\"shares\":[{\"name\":"
            "\"Photos\",\"path\":\"/Photos\",\"guest\":false,\"uri\":\"sftp://a/Photos\"},"
            "{\"name\":\"Old \\\"tapes\\\"\",\"path\":\"/x\",\"guest\":true,\"uri\":\"sftp://a/"
            "x\"}],\"printers\":[{\"name\":\"Laser\",\"instance\":\"Laser on Alice\",\"txt\":"
            "{\"ty\":\"name\"}}],\"services\":[]},\n"
            "{\"name\":\"Bob\",\"host\":\"bob.local\",\"porch\":true,\"port\":4422,\"fingerprint\":"
            "null,\"ipv4\":[],\"ipv6\":[],\"shares\":[],\"printers\":[],\"services\":[]},\n"
            "{\"name\":\"Printer box\",\"host\":\"pb.local\",\"porch\":false,\"port\":null,"
            "\"fingerprint\":null,\"ipv4\":[],\"ipv6\":[],\"shares\":[],\"printers\":[{\"name\":"
            "\"Ink\",\"instance\":\"Ink\",\"txt\":{}}],\"services\":[]}\n"
            "]\n",
            0600));
    std::vector<std::string> env = {"XDG_RUNTIME_DIR=" + run.path()};

    EXPECT_EQ(Completions({"ls", ""}, env), (std::set<std::string>{"Alice's laptop/", "Bob/"}));
    EXPECT_EQ(Completions({"ls", "Al"}, env), (std::set<std::string>{"Alice's laptop/"}));
    // as typed at the prompt: backslashes, or an open quote
    EXPECT_EQ(Completions({"ls", "Alice\\'s\\ laptop/"}, env),
              (std::set<std::string>{"Alice's laptop/Photos/", "Alice's laptop/Old \"tapes\"/"}));
    EXPECT_EQ(Completions({"get", "\"alice's laptop/P"}, env),
              (std::set<std::string>{"alice's laptop/Photos/"}));
    EXPECT_EQ(Completions({"put", "-r", "x", "Alice\\'s\\ laptop/Ph"}, env),
              (std::set<std::string>{"Alice's laptop/Photos/"}));
    EXPECT_EQ(Completions({"print", "Alice\\'s\\ laptop/"}, env),
              (std::set<std::string>{"Alice's laptop/Laser"}));
    EXPECT_EQ(Completions({"printer", "add", "Alice\\'s\\ laptop/L"}, env),
              (std::set<std::string>{"Alice's laptop/Laser"}));
    EXPECT_TRUE(Completions({"ls", "Alice\\'s\\ laptop/Photos/"}, env).empty());
    EXPECT_TRUE(Completions({"ls", "Pr"}, env).empty()) << "not a Porch host";
    // local arguments are local files
    ASSERT_TRUE(WriteFile(run.path() + "/notes.txt", "x"));
    EXPECT_EQ(Completions({"put", run.path() + "/no"}, env),
              (std::set<std::string>{run.path() + "/notes.txt"}));
    EXPECT_EQ(Completions({"ls", "--identity", run.path() + "/no"}, env),
              (std::set<std::string>{run.path() + "/notes.txt"}));

    // a cache older than PORCH_COMPLETE_TTL is browsed again: here browsing finds nothing (no
    // system bus), so nothing is offered
    struct utimbuf old = {time(nullptr) - 60, time(nullptr) - 60};
    ASSERT_EQ(utime(cache.c_str(), &old), 0);
    EXPECT_TRUE(Completions({"ls", "Al"}, env).empty());
    std::vector<std::string> long_ttl = env;
    long_ttl.push_back("PORCH_COMPLETE_TTL=3600");
    ASSERT_TRUE(porch::test::Exists(cache)) << "a failed browse must not remove the cache";
    EXPECT_EQ(Completions({"ls", "Al"}, long_ttl), (std::set<std::string>{"Alice's laptop/"}));

    // a cache that is a link is never read
    std::string target = run.path() + "/elsewhere.json";
    ASSERT_EQ(rename(cache.c_str(), target.c_str()), 0);
    ASSERT_EQ(symlink(target.c_str(), cache.c_str()), 0);
    EXPECT_TRUE(Completions({"ls", "Al"}, long_ttl).empty());
}

TEST(CliHelp, ZshCompletionParses)
{
    if (!TestLan::missing_tools({"zsh"}).empty()) {
        if (TestLan::must_run())
            GTEST_FAIL() << "zsh is not installed (CI is set; scripts/dev deps installs it)";
        GTEST_SKIP() << "zsh is not installed: cannot check _porch";
    }
    RunResult r = Local({"zsh", "-n", kZsh});
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(ReadFile(kZsh), "#compdef porch"));
}

// ---- against porchd on the test LAN ------------------------------------------------------------

// porchd on host 1 ("Alice's laptop") shares Photos (me may write), Music (me may read),
// Attic (hidden, me may read) and Secret (carol only); porch runs on host 2 with me's key.
class CliHelpLan : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        PORCH_REQUIRE_TOOLS("ssh-keygen", "bash", "awk");
        std::string why;
        bool may_skip = false;
        lan_ = TestLan::Create(2, &why, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why;
            GTEST_FAIL() << "test LAN unavailable: " << why;
        }
        std::string h1 = lan_->host_dir(1), h2 = lan_->host_dir(2);
        photos_ = h1 + "/photos";
        xdg_ = h2 + "/xdg";
        local_ = h2 + "/local";
        for (const std::string &d :
             {photos_, h1 + "/music", h1 + "/attic", h1 + "/secret", xdg_ + "/porch", local_})
            ASSERT_TRUE(MakeDirs(d));
        ASSERT_TRUE(WriteFile(photos_ + "/beach.jpg", std::string(1536, 'b')));
        ASSERT_TRUE(WriteFile(h1 + "/music/song.ogg", "la"));
        ASSERT_TRUE(GiveToShareOwner(photos_));
        std::string me = MakeKey(xdg_ + "/porch/id_ed25519", "me@host2");
        std::string carol = MakeKey(h1 + "/carol", "carol@elsewhere");
        ASSERT_FALSE(me.empty());
        ASSERT_FALSE(carol.empty());
        std::string conf = std::string("[porch]\nname = ") + kDisplayName +
                           "\nlisten = " + lan_->address(1) + "\n\n[peer me]\nkey = " + me +
                           "\n\n[peer carol]\nkey = " + carol +
                           "\n\n[share Photos]\npath = " + photos_ +
                           "\nwrite = me\n\n[share Music]\npath = " + h1 +
                           "/music\nread = me\n\n[share Attic]\npath = " + h1 +
                           "/attic\nread = me\nhidden = yes\n\n[share Secret]\npath = " + h1 +
                           "/secret\nread = carol\n";
        if (with_cups_) {
            std::string why_not;
            ASSERT_FALSE(lan_->start_cupsd(1, &why_not).empty()) << why_not;
            RunResult r = lan_->run_cups(1,
                                         {"lpadmin", "-p", "Office", "-E", "-v",
                                          "file://" + h1 + "/office.out", "-P",
                                          PORCH_SOURCE_DIR "/packaging/porch.ppd"},
                                         30);
            ASSERT_TRUE(r.ok()) << "lpadmin: " << r.describe();
            conf += "\n[printer Office]\nprint = me\n";
        }
        ASSERT_TRUE(WriteFile(h1 + "/porch.conf", conf));
        std::string log = h1 + "/porchd.log";
        pid_t porchd = lan_->spawn(1,
                                   {"env", "CUPS_SERVER=" + lan_->cups_server(1), kPorchd,
                                    "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"},
                                   log);
        ASSERT_GT(porchd, 0);
        ASSERT_TRUE(PorchdStarted(lan_.get(), porchd, log)) << ReadFile(log);
    }

    // porch on host 2 as me.
    RunResult Porch(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                                         "XDG_CONFIG_HOME=" + xdg_, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(2, argv, 60);
    }

    std::string Remote(const std::string &path) const
    {
        return lan_->address(1) + "/" + path;
    }

    std::unique_ptr<TestLan> lan_;
    std::string photos_, xdg_, local_;
    bool with_cups_ = false; // host 1 runs cupsd with the queue Office, shared as [printer Office]
};

class CliHelpPrintLan : public CliHelpLan
{
  protected:
    void SetUp() override
    {
        with_cups_ = true;
        CliHelpLan::SetUp();
    }
};

TEST_F(CliHelpLan, UnknownShareNamesTheShares)
{
    const std::string host = lan_->address(1);
    const std::string want = "porch: no share 'Fotos' on " + host + "; it shares: ";
    std::vector<std::vector<std::string>> commands = {
            {"ls", Remote("Fotos")},
            {"ls", "-l", Remote("Fotos/2024")},
            {"get", Remote("Fotos/beach.jpg"), local_},
            {"put", photos_ + "/beach.jpg", Remote("Fotos/")},
    };
    for (const auto &args : commands) {
        RunResult r = Porch(args);
        EXPECT_EQ(r.exit_status, 1) << args[0] << ": " << r.describe();
        EXPECT_TRUE(Contains(r.err, want)) << args[0] << ": " << r.err;
        // the shares this key may see, and only those
        EXPECT_TRUE(Contains(r.err, "Photos")) << r.err;
        EXPECT_TRUE(Contains(r.err, "Music")) << r.err;
        EXPECT_FALSE(Contains(r.err, "Attic")) << "hidden: " << r.err;
        EXPECT_FALSE(Contains(r.err, "Secret")) << "carol's: " << r.err;
        size_t first = r.err.find("no share");
        EXPECT_EQ(r.err.find("no share", first + 1), std::string::npos) << "said once: " << r.err;
    }
    EXPECT_FALSE(porch::test::Exists(local_ + "/beach.jpg"));
    // a hidden share is reached by its name, and is no error
    RunResult attic = Porch({"ls", Remote("Attic")});
    EXPECT_TRUE(attic.ok()) << attic.describe();
    // a file missing from a share that exists is the file's error, not the share's
    RunResult nofile = Porch({"ls", Remote("Photos/nope.jpg")});
    EXPECT_EQ(nofile.exit_status, 1) << nofile.describe();
    EXPECT_FALSE(Contains(nofile.err, "no share")) << nofile.err;
}

TEST_F(CliHelpLan, ShareNamesMatchWithoutCase)
{
    RunResult ls = Porch({"ls", Remote("photos")});
    EXPECT_TRUE(ls.ok()) << ls.describe();
    EXPECT_EQ(ls.out, "beach.jpg\n");
    RunResult attic = Porch({"ls", Remote("ATTIC")});
    EXPECT_TRUE(attic.ok()) << "a hidden share too: " << attic.describe();

    RunResult get = Porch({"get", Remote("PHOTOS/beach.jpg"), local_});
    EXPECT_TRUE(get.ok()) << get.describe();
    EXPECT_EQ(ReadFile(local_ + "/beach.jpg"), std::string(1536, 'b'));

    ASSERT_TRUE(WriteFile(local_ + "/new.txt", "new\n"));
    RunResult put = Porch({"put", local_ + "/new.txt", Remote("pHoToS/")});
    EXPECT_TRUE(put.ok()) << put.describe();
    EXPECT_EQ(ReadFile(photos_ + "/new.txt"), "new\n");
}

TEST_F(CliHelpLan, LsLongHumanSizes)
{
    RunResult exact = Porch({"ls", "-l", Remote("Photos")});
    ASSERT_TRUE(exact.ok()) << exact.describe();
    EXPECT_TRUE(Contains(exact.out, " 1536 ")) << exact.out;
    RunResult human = Porch({"ls", "-l", "-h", Remote("Photos")});
    ASSERT_TRUE(human.ok()) << human.describe();
    EXPECT_TRUE(Contains(human.out, " 1.5 KiB ")) << human.out;
    EXPECT_FALSE(Contains(human.out, "1536")) << human.out;
    RunResult bundled = Porch({"ls", "-lh", Remote("Photos/beach.jpg")});
    ASSERT_TRUE(bundled.ok()) << bundled.describe();
    EXPECT_TRUE(Contains(bundled.out, " 1.5 KiB ")) << bundled.out;
    // -h is ls's own: the help is --help (and -?)
    RunResult help = Porch({"ls", "--help"});
    EXPECT_TRUE(help.ok());
    EXPECT_TRUE(Contains(help.out, "--human-readable")) << help.out;
}

TEST_F(CliHelpPrintLan, PrinterNamesMatchWithoutCaseAndUnknownOnesAreNamed)
{
    // by display name: porch then knows the printers it advertises
    RunResult r;
    EXPECT_TRUE(WaitFor(
            [&] {
                r = Porch({"jobs", std::string(kDisplayName) + "/offfice"});
                return Contains(r.err, "advertises the printers: Office");
            },
            20))
            << r.describe();
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no such printer")) << r.err;

    RunResult jobs = Porch({"jobs", std::string(kDisplayName) + "/OFFICE"});
    EXPECT_TRUE(jobs.ok()) << jobs.describe();
    ASSERT_TRUE(WriteFile(local_ + "/page.txt", "hello\n"));
    RunResult print = Porch({"print", lan_->address(1) + "/office", local_ + "/page.txt"});
    EXPECT_TRUE(print.ok()) << print.describe();
    EXPECT_TRUE(Contains(print.out, "on " + lan_->address(1) + "/office")) << print.out;
}

TEST_F(CliHelpLan, BashCompletesLiveNeighbours)
{
    std::string run = lan_->host_dir(2) + "/run";
    ASSERT_TRUE(MakeDirs(run, 0700));
    // PORCH_COMPLETE_TTL=0: each try browses again, until porchd's records are seen
    auto complete = [&](const std::string &word) {
        RunResult r = lan_->run(2,
                                {"env", "XDG_RUNTIME_DIR=" + run, "PORCH_COMPLETE_TTL=0",
                                 std::string("COMPLETION=") + kBash, "bash", "-c", kComplete,
                                 "bash", kPorch, "ls", word},
                                20);
        EXPECT_TRUE(r.ok()) << r.describe();
        return r.out;
    };
    std::string out;
    EXPECT_TRUE(WaitFor(
            [&] {
                out = complete("Ali");
                return out == std::string(kDisplayName) + "/\n";
            },
            20))
            << out;
    EXPECT_TRUE(WaitFor(
            [&] {
                out = complete("Alice\\'s\\ laptop/");
                return Contains(out, "Alice's laptop/Photos/\n") &&
                       Contains(out, "Alice's laptop/Music/\n");
            },
            20))
            << out;
    EXPECT_FALSE(Contains(out, "Attic")) << out;
    EXPECT_TRUE(porch::test::Exists(run + "/porch-complete-browse.json"));
}

} // namespace
