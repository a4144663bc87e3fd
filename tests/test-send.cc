// test-send.cc — sending files to a neighbour's inbox: an ordinary user's `porch inbox enable`
// on the system porchd of test-LAN host 1 (as nobody, without root or an edit of porch.conf),
// `porch send` from host 2 as the peer bob (in the inbox's 'accept' rule: no question) or as a
// guest (in 'ask': the owner answers with `porch inbox accept|decline`), refusals before any
// data, a killed send resumed, hostile names, a full disk, and the inbox=1 TXT key. The
// manifest parser, the name sanitiser and the clash names are tested without a network first.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <glib.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include "porch-send.h"
#include "test-util.h"
#include "testlan.h"

using namespace porch::test;

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;

// ---- without a network -----------------------------------------------------------------------

TEST(SendNames, SanitisedNamesStayInTheInbox)
{
    struct {
        const char *in, *out;
    } cases[] = {
            {"report.pdf", "report.pdf"},
            {"../../etc/passwd", "passwd"},
            {"/etc/shadow", "shadow"},
            {"..", "file"},
            {".", "file"},
            {"...", "file"},
            {".bashrc", "bashrc"},
            {"dir\\..\\evil.exe", "evil.exe"},
            {"a\nb\x01"
             "c",
             "a_b_c"},
            {"\x1b[31mred", "_[31mred"},
            {"trailing. . ", "trailing"},
            {"", "file"},
            {"caf\xc3\xa9.txt", "caf\xc3\xa9.txt"},
            {"bad\xff"
             "utf8",
             "bad_utf8"},
            /* a right-to-left override or isolate would show "gpj.exe" reversed */
            {"photo\xe2\x80\xaegpj.exe", "photo_gpj.exe"},
            {"photo\xe2\x81\xa7gpj.exe", "photo_gpj.exe"},
            {"zero\xe2\x80\x8bwidth", "zero_width"},
    };
    for (const auto &c : cases) {
        g_autofree char *got = porch_send_sanitise_name(c.in);
        g_autofree char *shown = g_strescape(c.in, nullptr);
        EXPECT_STREQ(got, c.out) << "for " << shown;
        EXPECT_NE(got[0], '.');
        EXPECT_EQ(strchr(got, '/'), nullptr);
    }
    std::string longname(400, 'x');
    g_autofree char *cut = porch_send_sanitise_name((longname + ".txt").c_str());
    EXPECT_LE(strlen(cut), (size_t)PORCH_SEND_NAME_MAX);
    // a name cut at the limit never ends in a dot or a space
    std::string dotted = std::string(PORCH_SEND_NAME_MAX - 1, 'y') + ". .tail";
    g_autofree char *trimmed = porch_send_sanitise_name(dotted.c_str());
    EXPECT_EQ(std::string(trimmed), std::string(PORCH_SEND_NAME_MAX - 1, 'y'));
}

TEST(SendNames, ClashNamesKeepTheExtension)
{
    g_autofree char *a = porch_send_clash_name("photo.jpg", 2);
    g_autofree char *b = porch_send_clash_name("README", 3);
    g_autofree char *c = porch_send_clash_name("archive.tar.gz", 2);
    EXPECT_STREQ(a, "photo (2).jpg");
    EXPECT_STREQ(b, "README (3)");
    EXPECT_STREQ(c, "archive.tar (2).gz");
    std::string longname(PORCH_SEND_NAME_MAX - 4, 'y');
    g_autofree char *d = porch_send_clash_name((longname + ".txt").c_str(), 999);
    EXPECT_LE(strlen(d), (size_t)PORCH_SEND_NAME_MAX);
    EXPECT_TRUE(g_str_has_suffix(d, " (999).txt")) << d;
}

TEST(SendManifest, RoundTripsAndRefusesWhatIsMalformed)
{
    g_autoptr(GArray) files = porch_send_files_new();
    PorchSendFile f = {g_strdup("a b%c\n.txt"), 12345, {0}};
    for (int i = 0; i < PORCH_SHA256_LEN; i++)
        f.sha256[i] = (guint8)i;
    g_array_append_val(files, f);
    g_autofree char *text = porch_send_manifest_format(files);
    g_autoptr(GError) error = nullptr;
    g_autoptr(GArray) back = porch_send_manifest_parse(text, strlen(text), &error);
    ASSERT_NE(back, nullptr) << error->message;
    ASSERT_EQ(back->len, 1u);
    EXPECT_STREQ(g_array_index(back, PorchSendFile, 0).name, "a b%c\n.txt");
    EXPECT_EQ(g_array_index(back, PorchSendFile, 0).size, 12345u);
    EXPECT_EQ(memcmp(g_array_index(back, PorchSendFile, 0).sha256, f.sha256, PORCH_SHA256_LEN), 0);

    const std::string hash(64, 'a');
    const char *bad[] = {
            "",
            "porch-send 2\nend\n",
            "porch-send 1\nend\n", // no file
            "porch-send 1\nfile 1 aa x\nend\n",
            "porch-send 1\nfile -1 HASH x\nend\n",
            "porch-send 1\nfile 1 HASH \nend\n",
            "porch-send 1\nfile 1 HASH x\n",                                       // no end
            "porch-send 1\nfile 1 HASH x\nend\nmore\n",                            // after end
            "porch-send 1\nfile 1 HASH %ff%fe\nend\n",                             // not UTF-8
            "porch-send 1\nfile 1 HASH x\nend",                                    // no line end
            "porch-send 1\nfile 9223372036854775807 HASH a\nfile 1 HASH b\nend\n", // overflow
    };
    for (const char *b : bad) {
        std::string m = b;
        for (size_t at; (at = m.find("HASH")) != std::string::npos;)
            m.replace(at, 4, hash);
        g_autoptr(GError) e = nullptr;
        g_autoptr(GArray) r = porch_send_manifest_parse(m.data(), m.size(), &e);
        EXPECT_EQ(r, nullptr) << "took: " << b;
        if (r == nullptr) {
            EXPECT_TRUE(g_error_matches(e, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
        }
    }
    // an upper-case hash is not the form porch writes
    std::string upper = "porch-send 1\nfile 1 " + std::string(64, 'A') + " x\nend\n";
    g_autoptr(GArray) u = porch_send_manifest_parse(upper.data(), upper.size(), nullptr);
    EXPECT_EQ(u, nullptr);
}

TEST(SendManifest, TheOfferKeyFollowsSenderInboxAndFiles)
{
    g_autoptr(GArray) files = porch_send_files_new();
    PorchSendFile f = {g_strdup("x"), 1, {0}};
    g_array_append_val(files, f);
    g_autofree char *k1 = porch_send_offer_key("bob", "Inbox", files);
    g_autofree char *k2 = porch_send_offer_key("bob", "Inbox", files);
    g_autofree char *k3 = porch_send_offer_key("guest+10.0.0.1", "Inbox", files);
    g_array_index(files, PorchSendFile, 0).size = 2;
    g_autofree char *k4 = porch_send_offer_key("bob", "Inbox", files);
    EXPECT_EQ(strlen(k1), 64u);
    EXPECT_STREQ(k1, k2);
    EXPECT_STRNE(k1, k3);
    EXPECT_STRNE(k1, k4);
}

// ---- on the test LAN ---------------------------------------------------------------------------

class Send : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        std::string why_not;
        bool may_skip = false;
        lan_ = TestLan::Create(2, &why_not, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why_not;
            GTEST_FAIL() << "test LAN unavailable: " << why_not;
        }
        if (getpwnam("porch") == nullptr || getpwnam("nobody") == nullptr)
            GTEST_FAIL() << "no system user porch or nobody (scripts/dev deps makes porch)";
        dir_ = lan_->host_dir(1);
        for (std::string p = dir_; p != "/" && p.size() > 1; p = p.substr(0, p.rfind('/')))
            chmod(p.c_str(), 0755);
        home_ = dir_ + "/home";
        inbox_ = home_ + "/Downloads/Porch";
        nobody_run_ = dir_ + "/nobody-run";
        ASSERT_TRUE(MakeDirs(inbox_, 0755) && MakeDirs(nobody_run_, 0700));
        std::string cmd = "chown -R nobody: " + home_ + " " + nobody_run_;
        ASSERT_EQ(system(cmd.c_str()), 0);
        bob_key_ = lan_->host_dir(2) + "/bob";
        carol_key_ = lan_->host_dir(2) + "/carol";
        std::string bob = MakeKey(bob_key_, "bob"), carol = MakeKey(carol_key_, "carol");
        ASSERT_FALSE(bob.empty() || carol.empty());
        conf_ = dir_ + "/porch.conf";
        ASSERT_TRUE(WriteFile(conf_, "[porch]\nname = Send Test\nlisten = " + lan_->address(1) +
                                             "\n\n[peer bob]\nkey = " + bob +
                                             "\n\n[peer carol]\nkey = " + carol + "\n"));
        xdg_ = lan_->host_dir(2) + "/xdg";
        ASSERT_TRUE(MakeDirs(xdg_ + "/porch", 0700));
        out_ = lan_->host_dir(2) + "/send";
        ASSERT_TRUE(MakeDirs(out_, 0755));
        ASSERT_TRUE(StartPorchd());
    }

    // porchd on host 1, with @env (NAME=VALUE) added to its environment.
    bool StartPorchd(const std::vector<std::string> &env = {})
    {
        std::vector<std::string> argv = {"env"};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.insert(argv.end(), {kPorchd, "--config", conf_, "--state-dir", dir_ + "/state",
                                 "--runtime-dir", dir_ + "/run"});
        log_ = dir_ + "/porchd-" + std::to_string(++starts_) + ".log";
        porchd_ = lan_->spawn(1, argv, log_);
        bool ok = PorchdStarted(lan_.get(), porchd_, log_);
        if (!ok)
            fprintf(stderr, "porchd did not start: %s\n", ReadFile(log_).c_str());
        return ok;
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            fprintf(stderr, "---- porchd log ----\n%s\n", ReadFile(log_).c_str());
        if (!mounted_.empty())
            TestLan::run_local({"umount", "-l", mounted_});
        lan_.reset();
    }

    // `porch ARGS` on host 1 as nobody, the inbox's owner.
    RunResult Owner(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"setpriv",
                                         "--reuid=nobody",
                                         "--regid=" + std::to_string(getpwnam("nobody")->pw_gid),
                                         "--clear-groups",
                                         "env",
                                         "LANG=C.UTF-8",
                                         "PORCH_SYSTEM_RUNTIME_DIR=" + dir_ + "/run",
                                         "XDG_RUNTIME_DIR=" + nobody_run_,
                                         "XDG_CONFIG_HOME=" + home_ + "/.config",
                                         "HOME=" + home_,
                                         kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(1, argv, 30);
    }

    // The argv of `porch send FILES... HOST[/INBOX]` on host 2, as bob or (@key "") a guest.
    std::vector<std::string> SendArgv(const std::vector<std::string> &files, const std::string &key,
                                      const std::string &inbox = "")
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch,
                                         "send"};
        argv.insert(argv.end(), files.begin(), files.end());
        argv.push_back(lan_->address(1) + (inbox.empty() ? "" : "/" + inbox));
        if (!key.empty()) {
            argv.push_back("--identity");
            argv.push_back(key);
        }
        return argv;
    }

    RunResult Sends(const std::vector<std::string> &files, const std::string &key,
                    const std::string &inbox = "")
    {
        return lan_->run(2, SendArgv(files, key, inbox), 120);
    }

    // The waiting offers' ids, from `porch inbox list --json` as the owner.
    std::vector<int> Offers()
    {
        std::vector<int> ids;
        RunResult r = Owner({"inbox", "list", "--json"});
        g_autoptr(JsonParser) p = json_parser_new();
        // a list that could not be had is no empty list: "no offer waits" must be seen
        if (!r.ok() || !json_parser_load_from_data(p, r.out.c_str(), -1, nullptr)) {
            ADD_FAILURE() << "porch inbox list --json: " << r.describe();
            return ids;
        }
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        JsonArray *a = json_object_get_array_member(o, "offers");
        for (guint i = 0; a && i < json_array_get_length(a); i++)
            ids.push_back(
                    (int)json_object_get_int_member(json_array_get_object_element(a, i), "id"));
        return ids;
    }

    // The names in the inbox folder, hidden ones too, sorted.
    std::vector<std::string> InInbox()
    {
        std::vector<std::string> names;
        g_autoptr(GDir) d = g_dir_open(inbox_.c_str(), 0, nullptr);
        for (const char *n; d && (n = g_dir_read_name(d)) != nullptr;)
            names.push_back(n);
        std::sort(names.begin(), names.end());
        return names;
    }

    // Bytes received by host 1 on its network interface so far.
    long long HostRxBytes()
    {
        RunResult r = lan_->run(1, {"cat", "/sys/class/net/eth0/statistics/rx_bytes"});
        return r.ok() ? atoll(r.out.c_str()) : -1;
    }

    bool Enable(const std::vector<std::string> &extra)
    {
        std::vector<std::string> args = {"inbox", "enable"};
        args.insert(args.end(), extra.begin(), extra.end());
        RunResult r = Owner(args);
        if (!r.ok())
            fprintf(stderr, "inbox enable: %s\n", r.describe().c_str());
        return r.ok();
    }

    std::unique_ptr<TestLan> lan_;
    pid_t porchd_ = -1;
    int starts_ = 0;
    std::string dir_, home_, inbox_, nobody_run_, conf_, xdg_, out_, log_, bob_key_, carol_key_;
    std::string mounted_; // a tmpfs this test mounted, unmounted at teardown
};

TEST_F(Send, AnOrdinaryUserEnablesAnInboxThatIsAdvertised)
{
    std::string before = ReadFile(conf_);
    // the default folder: the owner's Downloads/Porch
    RunResult r = Owner({"inbox", "enable", "--accept", "bob", "--ask", "guest"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "files sent to 'nobody' land in " + inbox_)) << r.out;
    EXPECT_TRUE(Contains(r.out, "default inbox")) << r.out;
    EXPECT_EQ(ReadFile(conf_), before) << "an inbox of a user's is no edit of porch.conf";

    r = Owner({"inbox", "list"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "inbox nobody: " + inbox_ + " (default)")) << r.out;
    // porch status lists it with its rules
    r = Owner({"status"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "inboxes:\n  nobody  online  " + inbox_ +
                                        "  (nobody's)  default\n"
                                        "      accept: bob  ask: guest\n"))
            << r.out;

    // _porch._tcp says inbox=1 to the neighbours
    EXPECT_TRUE(WaitFor(
            [&] {
                return Contains(lan_->run(2, {"avahi-browse", "-rptk", "_porch._tcp"}, 15).out,
                                "\"inbox=1\"");
            },
            15));
    // it is no share: not listed, not readable
    RunResult ls = lan_->run(2,
                             {"env", "XDG_CONFIG_HOME=" + xdg_, kPorch, "ls", lan_->address(1),
                              "--identity", bob_key_},
                             30);
    EXPECT_FALSE(Contains(ls.out, "nobody")) << ls.out;

    r = Owner({"inbox", "disable"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(Owner({"status"}).out, "inboxes: none\n"));
    EXPECT_TRUE(WaitFor(
            [&] {
                return !Contains(lan_->run(2, {"avahi-browse", "-rptk", "_porch._tcp"}, 15).out,
                                 "\"inbox=1\"");
            },
            15));
}

TEST_F(Send, APeerInAcceptDeliversVerifiedFilesAsTheOwnerWithNoQuestion)
{
    ASSERT_TRUE(Enable({"--accept", "bob", "--ask", "guest"}));
    std::string a = MakeRandomFile(out_ + "/photo.jpg", 3 * 1024 * 1024 + 17, 1);
    ASSERT_TRUE(WriteFile(out_ + "/notes.txt", "hello inbox\n"));
    ASSERT_TRUE(WriteFile(inbox_ + "/notes.txt", "already here\n"));
    ASSERT_EQ(chown((inbox_ + "/notes.txt").c_str(), getpwnam("nobody")->pw_uid,
                    getpwnam("nobody")->pw_gid),
              0);

    RunResult r = Sends({out_ + "/photo.jpg", out_ + "/notes.txt"}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Contains(r.err, "waiting")) << r.err;
    EXPECT_TRUE(Contains(r.err, "delivered 2 files")) << r.err;
    EXPECT_EQ(Sha256File(inbox_ + "/photo.jpg"), a);
    // never an overwrite: the second notes.txt is "notes (2).txt"
    EXPECT_EQ(ReadFile(inbox_ + "/notes.txt"), "already here\n");
    EXPECT_EQ(ReadFile(inbox_ + "/notes (2).txt"), "hello inbox\n");
    struct stat st;
    ASSERT_EQ(stat((inbox_ + "/photo.jpg").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, getpwnam("nobody")->pw_uid) << "files land as the inbox's owner";
    EXPECT_EQ(InInbox(), (std::vector<std::string>{"notes (2).txt", "notes.txt", "photo.jpg"}))
            << "no temporary file is left";
    EXPECT_TRUE(Contains(ReadFile(log_), "delivered 2 file(s)")) << ReadFile(log_);
}

TEST_F(Send, AnAskSenderWaitsForTheOwnersAcceptOrDecline)
{
    ASSERT_TRUE(Enable({"--accept", "bob", "--ask", "guest"}));
    std::string sum = MakeRandomFile(out_ + "/video.mkv", 1024 * 1024, 2);

    // accepted
    std::string slog = lan_->host_dir(2) + "/send-1.log";
    pid_t sender = lan_->spawn(2, SendArgv({out_ + "/video.mkv"}, ""), slog);
    ASSERT_GT(sender, 0);
    std::vector<int> ids;
    ASSERT_TRUE(WaitFor([&] { return !(ids = Offers()).empty(); }, 30)) << ReadFile(slog);
    EXPECT_TRUE(WaitFor([&] { return Contains(ReadFile(slog), "waiting for nobody"); }, 10))
            << ReadFile(slog);
    EXPECT_EQ(InInbox(), std::vector<std::string>{}) << "nothing arrives before the answer";
    RunResult list = Owner({"inbox", "list"});
    EXPECT_TRUE(Contains(list.out, "guest (" + lan_->address(2) + ") wants to send 1 file"))
            << list.out;
    EXPECT_TRUE(Contains(list.out, "video.mkv")) << list.out;
    RunResult r = Owner({"inbox", "accept", std::to_string(ids[0])});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(WaitFor([&] { return !lan_->running(sender); }, 60));
    EXPECT_EQ(lan_->stop(sender), 0) << ReadFile(slog);
    EXPECT_EQ(Sha256File(inbox_ + "/video.mkv"), sum);

    // declined: nothing is written, and the sender's status says so
    ASSERT_TRUE(WriteFile(out_ + "/other.txt", "not wanted\n"));
    slog = lan_->host_dir(2) + "/send-2.log";
    sender = lan_->spawn(2, SendArgv({out_ + "/other.txt"}, ""), slog);
    ASSERT_TRUE(WaitFor([&] { return !(ids = Offers()).empty(); }, 30)) << ReadFile(slog);
    // someone else may not answer it
    RunResult root = lan_->run(
            1, {"env", "PORCH_SYSTEM_RUNTIME_DIR=" + dir_ + "/run", kPorch, "inbox", "list"});
    EXPECT_TRUE(Contains(root.out, "other.txt")) << "root sees every offer: " << root.out;
    r = Owner({"inbox", "decline", std::to_string(ids[0])});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(WaitFor([&] { return !lan_->running(sender); }, 30));
    EXPECT_EQ(lan_->stop(sender), 5) << ReadFile(slog);
    EXPECT_TRUE(Contains(ReadFile(slog), "declined")) << ReadFile(slog);
    EXPECT_EQ(InInbox(), std::vector<std::string>{"video.mkv"});
    EXPECT_TRUE(Offers().empty());
}

TEST_F(Send, CtrlCWithdrawsAWaitingOffer)
{
    ASSERT_TRUE(Enable({"--ask", "guest"}));
    ASSERT_TRUE(WriteFile(out_ + "/maybe.txt", "maybe\n"));
    std::string slog = lan_->host_dir(2) + "/send.log";
    pid_t sender = lan_->spawn(2, SendArgv({out_ + "/maybe.txt"}, ""), slog);
    ASSERT_GT(sender, 0);
    std::vector<int> ids;
    ASSERT_TRUE(WaitFor([&] { return !(ids = Offers()).empty(); }, 30)) << ReadFile(slog);
    EXPECT_EQ(lan_->stop(sender, SIGINT), 130) << ReadFile(slog);
    EXPECT_TRUE(Contains(ReadFile(slog), "the offer is withdrawn")) << ReadFile(slog);
    EXPECT_TRUE(WaitFor([&] { return Offers().empty(); }, 10)) << "the offer is still held";
    RunResult r = Owner({"inbox", "accept", std::to_string(ids[0])});
    EXPECT_FALSE(r.ok()) << "a withdrawn offer cannot be accepted";
    EXPECT_EQ(InInbox(), std::vector<std::string>{});
}

// An offer its owner leaves unanswered expires (PORCH_OFFER_TIMEOUT shortens porchd's five
// minutes): the sender says so with its own exit status, the offer goes, nothing is written.
TEST_F(Send, AnOfferNobodyAnswersExpires)
{
    ASSERT_EQ(lan_->stop(porchd_), 0);
    ASSERT_TRUE(StartPorchd({"PORCH_OFFER_TIMEOUT=4"}));
    ASSERT_TRUE(Enable({"--ask", "guest"}));
    ASSERT_TRUE(WriteFile(out_ + "/unanswered.txt", "anyone there?\n"));
    std::string slog = lan_->host_dir(2) + "/send.log";
    pid_t sender = lan_->spawn(2, SendArgv({out_ + "/unanswered.txt"}, ""), slog);
    ASSERT_GT(sender, 0);

    // the list says when it expires
    RunResult list;
    ASSERT_TRUE(WaitFor(
            [&] {
                list = Owner({"inbox", "list", "--json"});
                return Contains(list.out, "unanswered.txt");
            },
            30))
            << ReadFile(slog);
    g_autoptr(JsonParser) p = json_parser_new();
    ASSERT_TRUE(json_parser_load_from_data(p, list.out.c_str(), -1, nullptr)) << list.out;
    JsonArray *offers =
            json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "offers");
    ASSERT_EQ(json_array_get_length(offers), 1u) << list.out;
    JsonObject *o = json_array_get_object_element(offers, 0);
    EXPECT_EQ(json_object_get_int_member(o, "expires") - json_object_get_int_member(o, "since"), 4)
            << list.out;

    EXPECT_TRUE(WaitFor([&] { return !lan_->running(sender); }, 20)) << ReadFile(slog);
    EXPECT_EQ(lan_->stop(sender), 6) << ReadFile(slog);
    EXPECT_TRUE(Contains(ReadFile(slog), "did not answer within 4 s")) << ReadFile(slog);
    EXPECT_TRUE(Offers().empty());
    RunResult r = Owner({"inbox", "accept", std::to_string(json_object_get_int_member(o, "id"))});
    EXPECT_FALSE(r.ok()) << "an expired offer cannot be accepted";
    EXPECT_EQ(InInbox(), std::vector<std::string>{});
}

// Without a system service, an ordinary user's own porchd takes sends into their inbox alike.
TEST_F(Send, ThePerUserServiceTakesSendsToo)
{
    ASSERT_EQ(lan_->stop(porchd_), 0);
    const struct passwd *nobody = getpwnam("nobody");
    ASSERT_TRUE(MakeDirs(home_ + "/.config/porch", 0755));
    std::string bob = ReadFile(bob_key_ + ".pub");
    ASSERT_FALSE(bob.empty());
    bob.pop_back(); // its newline
    ASSERT_TRUE(WriteFile(home_ + "/.config/porch/porch.conf",
                          "[porch]\nname = Send Test\nlisten = " + lan_->address(1) +
                                  "\n\n[peer bob]\nkey = " + bob + "\n"));
    std::string cmd = "chown -R nobody: " + home_;
    ASSERT_EQ(system(cmd.c_str()), 0);
    log_ = dir_ + "/porchd-user.log";
    porchd_ = lan_->spawn(1,
                          {"setpriv", "--reuid=nobody", "--regid=" + std::to_string(nobody->pw_gid),
                           "--clear-groups", "env", "HOME=" + home_,
                           "XDG_CONFIG_HOME=" + home_ + "/.config",
                           "XDG_STATE_HOME=" + home_ + "/.local/state",
                           "XDG_RUNTIME_DIR=" + nobody_run_, "USER=nobody", kPorchd},
                          log_);
    ASSERT_TRUE(PorchdStarted(lan_.get(), porchd_, log_)) << ReadFile(log_);
    RunResult r = Owner({"status", "--json"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "\"system\" : false")) << r.out;

    ASSERT_TRUE(Enable({"--accept", "bob"}));
    std::string sum = MakeRandomFile(out_ + "/holiday.jpg", 512 * 1024, 7);
    r = Sends({out_ + "/holiday.jpg"}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(inbox_ + "/holiday.jpg"), sum);
    struct stat st;
    ASSERT_EQ(stat((inbox_ + "/holiday.jpg").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, nobody->pw_uid);
    EXPECT_EQ(InInbox(), std::vector<std::string>{"holiday.jpg"});
}

TEST_F(Send, ARefusedSenderSendsNoData)
{
    // carol is in neither rule ('guest' would be anyone, a peer too)
    ASSERT_TRUE(Enable({"--accept", "bob"}));
    MakeRandomFile(out_ + "/big.bin", 8 * 1024 * 1024, 3);
    long long before = HostRxBytes();
    ASSERT_GE(before, 0);
    RunResult r = Sends({out_ + "/big.bin"}, carol_key_);
    EXPECT_EQ(r.exit_status, 4) << r.describe();
    EXPECT_TRUE(Contains(r.err, "you may not send files to nobody")) << r.err;
    long long received = HostRxBytes() - before;
    EXPECT_LT(received, 256 * 1024) << "the refused sender's data crossed the network";
    EXPECT_EQ(InInbox(), std::vector<std::string>{});
    EXPECT_TRUE(Contains(ReadFile(log_), "carol may not send to the inbox nobody: refused"));
}

TEST_F(Send, AKilledSendGoesOnWhereItStopped)
{
    ASSERT_TRUE(Enable({"--accept", "bob"}));
    const off_t size = 48 * 1024 * 1024;
    std::string sum = MakeRandomFile(out_ + "/disk.img", size, 4);
    std::string slog = lan_->host_dir(2) + "/send.log";
    // host 2 sends slowly (40 Mbit/s) until the sender is killed, so that it is killed half way
    RunResult tc = lan_->run(2, {"tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate",
                                 "40mbit", "burst", "64kb", "latency", "400ms"});
    ASSERT_TRUE(tc.ok()) << tc.describe();
    pid_t sender = lan_->spawn(2, SendArgv({out_ + "/disk.img"}, bob_key_), slog);
    ASSERT_GT(sender, 0);
    // killed once a part has arrived in the hidden file
    auto partial = [&] {
        for (const std::string &n : InInbox()) {
            struct stat st;
            if (g_str_has_prefix(n.c_str(), PORCH_SEND_TEMP_PREFIX) &&
                stat((inbox_ + "/" + n).c_str(), &st) == 0 && st.st_size > 8 * 1024 * 1024)
                return true;
        }
        return false;
    };
    ASSERT_TRUE(WaitFor(partial, 60)) << ReadFile(slog);
    lan_->stop(sender, SIGKILL);
    EXPECT_FALSE(Exists(inbox_ + "/disk.img")) << "a partial file never has the final name";
    tc = lan_->run(2, {"tc", "qdisc", "del", "dev", "eth0", "root"});
    ASSERT_TRUE(tc.ok()) << tc.describe();

    RunResult r = Sends({out_ + "/disk.img"}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(Sha256File(inbox_ + "/disk.img"), sum);
    EXPECT_EQ(InInbox(), std::vector<std::string>{"disk.img"});
    // the second send carried only the rest
    std::string log = ReadFile(log_);
    size_t at = log.find("sent disk.img to the inbox nobody (");
    ASSERT_NE(at, std::string::npos) << log;
    unsigned long long whole = 0, this_time = 0;
    ASSERT_EQ(sscanf(log.c_str() + at,
                     "sent disk.img to the inbox nobody (%llu bytes, %llu this time)", &whole,
                     &this_time),
              2);
    EXPECT_EQ(whole, (unsigned long long)size);
    EXPECT_LT(this_time, whole);
}

// porchd ends a send part way (here: a file changed after the sender hashed it, while the
// offer waited): the sender says porchd's reason and exits with its status, not "the
// neighbour stopped taking data", though it was still sending the next file's bytes.
TEST_F(Send, ASendPorchdEndsPartWaySaysWhy)
{
    ASSERT_TRUE(Enable({"--ask", "guest"}));
    ASSERT_FALSE(MakeRandomFile(out_ + "/first.bin", 1024 * 1024, 5).empty());
    ASSERT_FALSE(MakeRandomFile(out_ + "/second.bin", 64 * 1024 * 1024, 6).empty());
    std::string slog = lan_->host_dir(2) + "/send.log";
    pid_t sender = lan_->spawn(2, SendArgv({out_ + "/first.bin", out_ + "/second.bin"}, ""), slog);
    ASSERT_GT(sender, 0);
    std::vector<int> ids;
    ASSERT_TRUE(WaitFor([&] { return !(ids = Offers()).empty(); }, 30)) << ReadFile(slog);
    // the same size, other bytes: what arrives is not what was offered
    ASSERT_FALSE(MakeRandomFile(out_ + "/first.bin", 1024 * 1024, 7).empty());
    RunResult r = Owner({"inbox", "accept", std::to_string(ids[0])});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(WaitFor([&] { return !lan_->running(sender); }, 60));
    EXPECT_EQ(lan_->stop(sender), 1) << ReadFile(slog);
    std::string said = ReadFile(slog);
    EXPECT_TRUE(Contains(said, "first.bin did not arrive as it was sent (SHA-256): discarded"))
            << said;
    EXPECT_FALSE(Contains(said, "stopped taking data")) << said;
    EXPECT_FALSE(Exists(inbox_ + "/first.bin"));
    EXPECT_FALSE(Exists(inbox_ + "/second.bin"));
}

// An inbox's worker that does not answer (stopped here; a hung network mount would do the
// same) does not stop porchd: the offer's free-space check gives up after 2 s, porchd answers
// other clients meanwhile, and the send goes on once the worker does.
TEST_F(Send, AStuckInboxWorkerDoesNotStopPorchd)
{
    ASSERT_TRUE(Enable({"--accept", "bob"}));
    ASSERT_TRUE(WriteFile(out_ + "/one.txt", "one\n"));
    RunResult r = Sends({out_ + "/one.txt"}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    // the inbox's worker stays for 10 s after its last session
    pid_t worker = -1;
    for (pid_t p : ChildProcesses(porchd_, "porchd-worker"))
        if (Contains(ReadFile("/proc/" + std::to_string(p) + "/cmdline"),
                     std::string("--inbox\0", 8)))
            worker = p;
    ASSERT_GT(worker, 0) << "no porchd-worker --inbox";
    ASSERT_EQ(kill(worker, SIGSTOP), 0);

    ASSERT_TRUE(WriteFile(out_ + "/two.txt", "two\n"));
    std::string slog = lan_->host_dir(2) + "/send.log";
    pid_t sender = lan_->spawn(2, SendArgv({out_ + "/two.txt"}, bob_key_), slog);
    ASSERT_GT(sender, 0);
    EXPECT_TRUE(WaitFor([&] { return Contains(ReadFile(log_), "did not answer within"); }, 10))
            << ReadFile(log_);
    // porchd's main loop answers a local client while the worker is stopped
    gint64 asked = g_get_monotonic_time();
    RunResult status = lan_->run(
            1, {"env", "PORCH_SYSTEM_RUNTIME_DIR=" + dir_ + "/run", kPorch, "status"}, 20);
    EXPECT_TRUE(status.ok()) << status.describe();
    EXPECT_LT(g_get_monotonic_time() - asked, 5 * G_USEC_PER_SEC);

    ASSERT_EQ(kill(worker, SIGCONT), 0);
    EXPECT_TRUE(WaitFor([&] { return !lan_->running(sender); }, 30)) << ReadFile(slog);
    EXPECT_EQ(lan_->stop(sender), 0) << ReadFile(slog);
    EXPECT_EQ(ReadFile(inbox_ + "/two.txt"), "two\n");
}

TEST_F(Send, LeftoversOfSendsInterruptedLongAgoGo)
{
    ASSERT_TRUE(Enable({"--accept", "bob"}));
    std::string old_temp = inbox_ + "/" PORCH_SEND_TEMP_PREFIX "0123456789abcdef0123456789abcdef-0";
    std::string new_temp = inbox_ + "/" PORCH_SEND_TEMP_PREFIX "fedcba9876543210fedcba9876543210-0";
    ASSERT_TRUE(WriteFile(old_temp, "old part\n") && WriteFile(new_temp, "recent part\n"));
    RunResult t = TestLan::run_local({"touch", "-d", "10 days ago", old_temp});
    ASSERT_TRUE(t.ok()) << t.describe();
    ASSERT_TRUE(WriteFile(out_ + "/a.txt", "a\n"));
    RunResult r = Sends({out_ + "/a.txt"}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Exists(old_temp)) << "kept for a week, no longer";
    EXPECT_EQ(ReadFile(new_temp), "recent part\n") << "a recent part waits for its resumption";
    EXPECT_EQ(ReadFile(inbox_ + "/a.txt"), "a\n");
}

TEST_F(Send, HostileNamesStayInsideTheInbox)
{
    ASSERT_TRUE(Enable({"--accept", "bob"}));
    std::string hostile = out_ + "/hostile";
    ASSERT_TRUE(MakeDirs(hostile));
    ASSERT_TRUE(WriteFile(hostile + "/.bashrc", "dotfile\n"));
    ASSERT_TRUE(WriteFile(hostile + "/...", "dots\n"));
    ASSERT_TRUE(WriteFile(hostile + "/a\nb\x1b[31m.txt", "control\n"));
    RunResult r = Sends({hostile}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    std::vector<std::string> got = InInbox();
    EXPECT_EQ(got, (std::vector<std::string>{"a_b_[31m.txt", "bashrc", "file"}));
    EXPECT_EQ(ReadFile(inbox_ + "/bashrc"), "dotfile\n");
    EXPECT_EQ(ReadFile(inbox_ + "/file"), "dots\n");
    // nothing outside the inbox
    EXPECT_FALSE(Exists(home_ + "/Downloads/.bashrc"));
    EXPECT_FALSE(Exists(home_ + "/.bashrc"));
}

TEST_F(Send, AFullDiskRefusesTheOfferCleanly)
{
    // a small disk, mounted before porchd and the porch commands start (each `ip netns exec`
    // gets a copy of this mount table)
    std::string small = home_ + "/small";
    ASSERT_TRUE(MakeDirs(small, 0755));
    lan_->stop(porchd_);
    RunResult m =
            TestLan::run_local({"mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", small});
    ASSERT_TRUE(m.ok()) << m.describe();
    mounted_ = small;
    ASSERT_EQ(chown(small.c_str(), getpwnam("nobody")->pw_uid, getpwnam("nobody")->pw_gid), 0);
    ASSERT_TRUE(StartPorchd());
    ASSERT_TRUE(Enable({small, "--name", "Small", "--accept", "bob"}));
    MakeRandomFile(out_ + "/large.bin", 4 * 1024 * 1024, 5);

    RunResult r = Sends({out_ + "/large.bin"}, bob_key_, "Small");
    EXPECT_EQ(r.exit_status, 4) << r.describe();
    EXPECT_TRUE(Contains(r.err, "not enough free space in Small")) << r.err;
    g_autoptr(GDir) d = g_dir_open(small.c_str(), 0, nullptr);
    EXPECT_EQ(g_dir_read_name(d), nullptr) << "nothing was written";

    // max-size refuses the same way, before any byte
    ASSERT_TRUE(Enable({"--accept", "bob", "--max-size", "1M"}));
    r = Sends({out_ + "/large.bin"}, bob_key_, "nobody");
    EXPECT_EQ(r.exit_status, 4) << r.describe();
    EXPECT_TRUE(Contains(r.err, "max-size")) << r.err;
}

} // namespace
