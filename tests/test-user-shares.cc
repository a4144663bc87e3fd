// test-user-shares.cc — sharing without an editor and without root: an ordinary user's
// `porch share add` of a folder of their own, over the running porchd's control socket, is
// published and fetchable from a neighbour at once, served with that user's rights, kept
// across restarts; nobody may share or remove what is not theirs; `porch allow` and `deny`
// change a live session's next request; the per-user porchd does the same alone. porchd on
// test-LAN host 1 (as root: the launcher; or as nobody: the per-user service), the porch
// command as nobody on host 1, and clients on host 2.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <glib.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include "raw-sftp.h"
#include "test-util.h"
#include "testlan.h"

using namespace porch::test;
using namespace porch::test::sftp_names;

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr const char *kName = "Shares Test";

struct passwd *
Nobody()
{
    return getpwnam("nobody");
}

class UserShares : public ::testing::Test
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
        if (getpwnam("porch") == nullptr || Nobody() == nullptr)
            GTEST_FAIL() << "no system user porch or nobody (scripts/dev deps makes porch)";
        dir_ = lan_->host_dir(1);
        // every folder on the way must be searchable by porch and nobody
        for (std::string p = dir_; p != "/" && p.size() > 1; p = p.substr(0, p.rfind('/')))
            chmod(p.c_str(), 0755);
        pics_ = dir_ + "/home/Pictures";
        nobody_run_ = dir_ + "/nobody-run";
        ASSERT_TRUE(MakeDirs(pics_, 0755) && MakeDirs(dir_ + "/rootdir", 0755) &&
                    MakeDirs(nobody_run_, 0700));
        // only nobody may read it: porchd serves it with nobody's rights or not at all
        ASSERT_TRUE(WriteFile(pics_ + "/beach.jpg", "sand and sea\n", 0600));
        std::string cmd = "chown -R nobody: " + dir_ + "/home " + nobody_run_;
        ASSERT_EQ(system(cmd.c_str()), 0);
        bob_key_ = lan_->host_dir(2) + "/bob";
        bob_ = MakeKey(bob_key_, "bob");
        ASSERT_FALSE(bob_.empty());
        conf_ = dir_ + "/porch.conf";
        ASSERT_TRUE(MakeDirs(dir_ + "/pub", 0755));
        ASSERT_TRUE(WriteFile(dir_ + "/pub/notes.txt", "for every peer\n", 0644));
        original_ = "[porch]\nname = " + std::string(kName) + "\nlisten = " + lan_->address(1) +
                    "\n\n# bob's laptop\n[peer bob]\nkey = " + bob_ +
                    "\n\n[group family]\nmembers = bob\n\n# every peer of this file\n"
                    "[share Pub]\npath = " +
                    dir_ + "/pub\nread =  *\n";
        ASSERT_TRUE(WriteFile(conf_, original_));
        log_ = dir_ + "/porchd.log";
        xdg_ = lan_->host_dir(2) + "/xdg";
        ASSERT_TRUE(MakeDirs(xdg_ + "/porch", 0700));
    }

    void TearDown() override
    {
        if (HasFailure() && lan_)
            for (int i = 1; i <= starts_; i++)
                fprintf(stderr, "---- porchd log %d ----\n%s\n", i,
                        ReadFile(dir_ + "/porchd-" + std::to_string(i) + ".log").c_str());
        lan_.reset();
    }

    // The system service on host 1, its control socket in dir_/run.
    bool StartSystem()
    {
        log_ = dir_ + "/porchd-" + std::to_string(++starts_) + ".log";
        porchd_ = lan_->spawn(1,
                              {kPorchd, "--config", conf_, "--state-dir", dir_ + "/state",
                               "--runtime-dir", dir_ + "/run"},
                              log_);
        return PorchdStarted(lan_.get(), porchd_, log_);
    }

    // `porch ARGS` on host 1 as @user (nobody by default), finding porchd by itself: the
    // system service's runtime folder is dir_/run, the user's own nobody_run_/porch.
    RunResult Local(const std::vector<std::string> &args, const std::string &user = "nobody")
    {
        struct passwd *pw = getpwnam(user.c_str());
        std::vector<std::string> argv = {"setpriv",
                                         "--reuid=" + user,
                                         "--regid=" + std::to_string(pw ? pw->pw_gid : 65534),
                                         "--clear-groups",
                                         "env",
                                         "LANG=C.UTF-8",
                                         "PORCH_SYSTEM_RUNTIME_DIR=" + dir_ + "/run",
                                         "XDG_RUNTIME_DIR=" + nobody_run_,
                                         "HOME=" + dir_ + "/home",
                                         kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return lan_->run(1, argv, 30);
    }

    // porch on host 2 as a guest, or with the key @key.
    RunResult Remote(const std::vector<std::string> &args, const std::string &key = "")
    {
        std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg_, kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        if (!key.empty()) {
            argv.push_back("--identity");
            argv.push_back(key);
        }
        return lan_->run(2, argv, 60);
    }

    bool Fetches(const std::string &remote, const std::string &expect, const std::string &key = "")
    {
        static int serial = 0;
        std::string to = lan_->host_dir(2) + "/got-" + std::to_string(++serial);
        RunResult r = Remote({"get", "--quiet", lan_->address(1) + remote, to}, key);
        if (!r.ok())
            fprintf(stderr, "get %s: %s\n", remote.c_str(), r.describe().c_str());
        return r.ok() && ReadFile(to) == expect;
    }

    std::string Browsed()
    {
        return lan_->run(2, {"avahi-browse", "-ptk", "_sftp-ssh._tcp"}, 15).out;
    }

    std::unique_ptr<TestLan> lan_;
    pid_t porchd_ = -1;
    int starts_ = 0;
    std::string original_;
    std::string dir_, pics_, nobody_run_, conf_, log_, xdg_, bob_, bob_key_;
};

// The member @name of the share @share in `porch share list --json`, "" when absent.
std::string
ShareMember(const std::string &json, const std::string &share, const std::string &name)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, json.c_str(), -1, nullptr))
        return "(not JSON)";
    JsonArray *a = json_node_get_array(json_parser_get_root(p));
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (g_strcmp0(json_object_get_string_member(o, "name"), share.c_str()) != 0)
            continue;
        JsonNode *n = json_object_get_member(o, name.c_str());
        if (!n)
            return "";
        if (JSON_NODE_HOLDS_ARRAY(n)) {
            std::string out;
            JsonArray *v = json_node_get_array(n);
            for (guint j = 0; j < json_array_get_length(v); j++)
                out += (j ? ";" : "") + std::string(json_array_get_string_element(v, j));
            return out;
        }
        if (json_node_get_value_type(n) == G_TYPE_BOOLEAN)
            return json_node_get_boolean(n) ? "true" : "false";
        return json_node_get_string(n) ? json_node_get_string(n) : "";
    }
    return "";
}

TEST_F(UserShares, AnOrdinaryUserSharesTheirFolderWithNoEditAndNoRoot)
{
    ASSERT_TRUE(StartSystem());
    std::string before = ReadFile(conf_);

    RunResult r = Local({"share", "add", pics_, "--read", "guest", "--read", "@family"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "shared " + pics_ + " as 'Pictures'")) << r.out;
    EXPECT_EQ(ReadFile(conf_), before) << "a user share is no edit of porch.conf";

    // published, and fetched from host 2 with no manual edit; the file only nobody may read
    // is served, so with nobody's rights
    EXPECT_TRUE(WaitFor([&] { return Contains(Browsed(), "Pictures\\032on\\032Shares"); }, 15))
            << Browsed();
    EXPECT_TRUE(Fetches("/Pictures/beach.jpg", "sand and sea\n"));
    EXPECT_TRUE(Fetches("/Pictures/beach.jpg", "sand and sea\n", bob_key_));

    // listed with its owner
    r = Local({"share", "list", "--json"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(ShareMember(r.out, "Pictures", "owner"), "nobody") << r.out;
    EXPECT_EQ(ShareMember(r.out, "Pictures", "user"), "true") << r.out;
    EXPECT_EQ(ShareMember(r.out, "Pictures", "read"), "guest;@family") << r.out;

    // bob may write once allowed, and what he uploads is nobody's
    r = Local({"allow", "bob", "write", "pictures"});
    ASSERT_TRUE(r.ok()) << r.describe();
    std::string up = lan_->host_dir(2) + "/up.txt";
    ASSERT_TRUE(WriteFile(up, "from bob\n"));
    r = Remote({"put", "--quiet", up, lan_->address(1) + "/Pictures/up.txt"}, bob_key_);
    ASSERT_TRUE(r.ok()) << r.describe();
    struct stat st;
    ASSERT_EQ(stat((pics_ + "/up.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, Nobody()->pw_uid) << "an upload lands as the share owner's";

    // someone else's folder, or root's, is refused with the reason
    r = Local({"share", "add", dir_ + "/rootdir", "--read", "guest"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "belongs to uid 0, not to you")) << r.err;
    // a rule naming a peer porch.conf does not know is refused too
    r = Local({"share", "add", pics_, "--name", "Other", "--read", "mallory"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "mallory")) << r.err;
    // a name no section can hold is refused before anything is written
    for (const char *bad : {"a]b", ".hidden", "x/y"}) {
        r = Local({"share", "add", pics_, "--name", bad, "--read", "guest"});
        EXPECT_EQ(r.exit_status, 1) << bad << ": " << r.describe();
        EXPECT_TRUE(Contains(r.err, "not a share name")) << r.err;
    }
    EXPECT_FALSE(Contains(ReadFile(log_), "CRITICAL")) << ReadFile(log_);
    // and another user may neither change nor remove nobody's share
    r = Local({"share", "remove", "Pictures"}, "daemon");
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "nobody's")) << r.err;
    r = Local({"deny", "guest", "read", "Pictures"}, "daemon");
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Fetches("/Pictures/beach.jpg", "sand and sea\n"));

    // kept across a restart
    EXPECT_EQ(lan_->stop(porchd_), 0);
    ASSERT_TRUE(StartSystem());
    EXPECT_TRUE(Fetches("/Pictures/up.txt", "from bob\n"));
    r = Local({"share", "list"});
    EXPECT_TRUE(Contains(r.out, "(nobody's user share)")) << r.out;

    // removed by its owner: gone from the network and the SFTP root
    r = Local({"share", "remove", "Pictures"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Fetches("/Pictures/beach.jpg", "sand and sea\n"));
    EXPECT_TRUE(WaitFor([&] { return !Contains(Browsed(), "Pictures\\032on"); }, 15)) << Browsed();
    EXPECT_EQ(ReadFile(conf_), before);
}

TEST_F(UserShares, AllowAndDenyChangeALiveSessionsNextRequest)
{
    ASSERT_TRUE(StartSystem());
    RunResult r = Local({"share", "add", pics_, "--read", "guest"});
    ASSERT_TRUE(r.ok()) << r.describe();

    std::string address = lan_->address(1);
    ASSERT_TRUE(lan_->in_netns(2, [&] {
        RawSftp c;
        std::string err = c.Connect(address);
        ASSERT_EQ(err, "");
        Packet p = c.Open("/Pictures/beach.jpg", FXF_READ);
        ASSERT_EQ(p.type, FXP_HANDLE);
        c.Close(p.get_str());

        RunResult d = Local({"deny", "guest", "read", "Pictures"});
        ASSERT_TRUE(d.ok()) << d.describe();
        p = c.Open("/Pictures/beach.jpg", FXF_READ);
        EXPECT_NE(p.type, FXP_HANDLE) << "the same connection's next request is refused";
        EXPECT_TRUE(c.open()) << "and the session goes on";

        d = Local({"allow", "guest", "read", "Pictures"});
        ASSERT_TRUE(d.ok()) << d.describe();
        p = c.Open("/Pictures/beach.jpg", FXF_READ);
        EXPECT_EQ(p.type, FXP_HANDLE) << "allowed again on the next request";
    }));
}

TEST_F(UserShares, StatusAndRefusalsWhenNoDaemonRuns)
{
    RunResult r = Local({"status"});
    EXPECT_EQ(r.exit_status, 3) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no porchd is running")) << r.err;
    r = Local({"share", "add", pics_});
    EXPECT_EQ(r.exit_status, 3) << r.describe();
}

// Without a system service, the same commands reach the user's own porchd.
TEST_F(UserShares, ThePerUserServiceDoesTheSameAlone)
{
    std::string home = dir_ + "/home";
    ASSERT_TRUE(MakeDirs(home + "/.config/porch", 0755));
    ASSERT_TRUE(WriteFile(home + "/.config/porch/porch.conf",
                          "[porch]\nlisten = " + lan_->address(1) + "\n"));
    std::string cmd = "chown -R nobody: " + home + "/.config";
    ASSERT_EQ(system(cmd.c_str()), 0);
    pid_t d = lan_->spawn(1,
                          {"setpriv", "--reuid=nobody",
                           "--regid=" + std::to_string(Nobody()->pw_gid), "--clear-groups", "env",
                           "HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config",
                           "XDG_STATE_HOME=" + home + "/.local/state",
                           "XDG_RUNTIME_DIR=" + nobody_run_, "USER=nobody", kPorchd},
                          log_);
    ASSERT_TRUE(PorchdStarted(lan_.get(), d, log_)) << ReadFile(log_);
    RunResult r = Local({"share", "add", pics_, "--read", "guest"});
    ASSERT_TRUE(r.ok()) << r.describe();
    r = Local({"status", "--json"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "\"system\" : false")) << r.out;
    EXPECT_TRUE(Fetches("/Pictures/beach.jpg", "sand and sea\n"));
    // and a folder that is not nobody's is refused here too
    r = Local({"share", "add", dir_ + "/rootdir"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "not to you")) << r.err;
}

// porch status --json lists who is connected and what is being moved, as it happens.
TEST_F(UserShares, StatusListsAConnectedPeerAndARunningTransfer)
{
    ASSERT_TRUE(StartSystem());
    RunResult r = Local({"share", "add", pics_, "--read", "bob"});
    ASSERT_TRUE(r.ok()) << r.describe();
    std::string address = lan_->address(1);
    ASSERT_TRUE(lan_->in_netns(2, [&] {
        RawSftp c;
        ASSERT_EQ(c.Connect(address, 4422, "bob", bob_key_), "");
        Packet p = c.Open("/Pictures/beach.jpg", FXF_READ);
        ASSERT_EQ(p.type, FXP_HANDLE);
        std::string handle = p.get_str();
        p = c.Read(handle, 0, 4);
        ASSERT_EQ(p.type, FXP_DATA);

        RunResult st = Local({"status", "--json"});
        ASSERT_TRUE(st.ok()) << st.describe();
        EXPECT_TRUE(Contains(st.out, "\"peer\" : \"bob\"")) << st.out;
        EXPECT_TRUE(Contains(st.out, "\"address\" : \"" + lan_->address(2) + "\"")) << st.out;
        EXPECT_TRUE(Contains(st.out, "\"direction\" : \"download\"")) << st.out;
        EXPECT_TRUE(Contains(st.out, "\"path\" : \"Pictures/beach.jpg\"")) << st.out;
        EXPECT_TRUE(Contains(st.out, "\"size\" : 13")) << st.out;
        EXPECT_TRUE(Contains(st.out, "\"done\" : 4")) << st.out;
        st = Local({"status"});
        EXPECT_TRUE(Contains(st.out, "bob downloading Pictures/beach.jpg  4 B of 13 B")) << st.out;

        c.Close(handle);
        EXPECT_TRUE(WaitFor(
                [&] {
                    return !Contains(Local({"status", "--json"}).out, "beach.jpg");
                },
                5))
                << "a closed file is no transfer";
    }));
    r = Local({"status", "--json"});
    EXPECT_TRUE(WaitFor([&] { return Contains(Local({"status"}).out, "connected: nobody"); }, 10))
            << Local({"status"}).out;
}

// Peers accepted by an ordinary user for their own shares, with grants; denied requests;
// forgotten peers.
TEST_F(UserShares, PeersAcceptWithGrantsDenyAndForget)
{
    ASSERT_TRUE(StartSystem());
    ASSERT_TRUE(Local({"share", "add", pics_, "--read", "bob"}).ok());
    std::string h2 = lan_->host_dir(2), at = "@" + lan_->address(1);
    std::string carol = h2 + "/carol", dave = h2 + "/dave";
    ASSERT_FALSE(MakeKey(carol, "carol").empty());
    ASSERT_FALSE(MakeKey(dave, "dave").empty());
    ASSERT_FALSE(MakeKey(h2 + "/eve1", "eve").empty());
    ASSERT_FALSE(MakeKey(h2 + "/eve2", "eve").empty());

    // carol asks (a refused login records the request)
    RunResult r = Remote({"ls", "carol" + at + "/Pictures"}, carol);
    EXPECT_EQ(r.exit_status, 4) << r.describe();
    r = Local({"peers", "list", "--json"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "\"name\":\"carol\"") || Contains(r.out, "\"name\" : \"carol\""))
            << r.out;

    // nobody may let her into their own shares only
    r = Local({"peers", "accept", "carol", "--read", "Pub"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no user share of yours")) << r.err;
    r = Local({"peers", "accept", "carol", "--read", "Pictures"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.out, "Accepted carol (key SHA256:")) << r.out;
    EXPECT_EQ(ReadFile(conf_), original_) << "porch.conf is the administrator's";
    EXPECT_TRUE(Fetches("/Pictures/beach.jpg", "sand and sea\n", carol));
    EXPECT_FALSE(Fetches("/Pub/notes.txt", "for every peer\n", carol))
            << "'*' in porch.conf is the administrator's peers, not those of a user";
    EXPECT_TRUE(Fetches("/Pub/notes.txt", "for every peer\n", bob_key_));
    EXPECT_FALSE(Contains(Local({"peers", "list"}).out, "carol"));

    // forgotten: out again
    r = Local({"peers", "forget", "carol"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Fetches("/Pictures/beach.jpg", "sand and sea\n", carol));

    // two requests go by one name: the fingerprint must say which
    Remote({"ls", "eve" + at + "/Pictures"}, h2 + "/eve1");
    Remote({"ls", "eve" + at + "/Pictures"}, h2 + "/eve2");
    r = Local({"peers", "accept", "eve", "--read", "Pictures"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "by its fingerprint")) << r.err;

    // turning a stranger away is root's: it is not listed again, even when it asks again
    Remote({"ls", "dave" + at + "/Pictures"}, dave);
    r = Local({"peers", "deny", "dave"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    r = Local({"peers", "deny", "dave"}, "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    Remote({"ls", "dave" + at + "/Pictures"}, dave);
    EXPECT_FALSE(Contains(Local({"peers", "list"}).out, "dave"));
    EXPECT_TRUE(Contains(Local({"peers", "list"}).out, "eve"));
}

// The administrator's changes (--system) edit porch.conf and keep the rest of it byte for
// byte; porchd's verdict is the command's.
TEST_F(UserShares, SystemEditsKeepTheRestOfTheFileByteForByte)
{
    ASSERT_TRUE(StartSystem());
    ASSERT_TRUE(MakeDirs(dir_ + "/docs", 0755));
    ASSERT_TRUE(WriteFile(dir_ + "/docs/a.txt", "a document\n", 0644));

    RunResult r =
            Local({"share", "add", "--system", dir_ + "/docs", "--name", "Docs", "--read", "bob"},
                  "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    std::string now = ReadFile(conf_);
    EXPECT_EQ(now.substr(0, original_.size()), original_) << now;
    EXPECT_TRUE(Contains(now, "[share Docs]\npath = " + dir_ + "/docs\nread = bob\n")) << now;
    EXPECT_TRUE(Fetches("/Docs/a.txt", "a document\n", bob_key_));

    // a rule: one line changes, the rest stays as it was
    r = Local({"allow", "--system", "guest", "read", "docs"}, "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(ReadFile(conf_),
              original_ + "\n[share Docs]\npath = " + dir_ + "/docs\nread = bob; guest\n");
    EXPECT_TRUE(Fetches("/Docs/a.txt", "a document\n"));
    r = Local({"deny", "--system", "guest", "read", "Docs"}, "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Fetches("/Docs/a.txt", "a document\n"));

    // a change the file would not take is refused, and nothing is written
    std::string before = ReadFile(conf_);
    r = Local({"allow", "--system", "mallory", "read", "Docs"}, "root");
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "mallory")) << r.err;
    EXPECT_EQ(ReadFile(conf_), before);
    // an ordinary user may not write porch.conf
    r = Local({"allow", "--system", "guest", "read", "Docs"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_EQ(ReadFile(conf_), before);

    // root accepts a stranger into porch.conf, with a grant
    std::string carol = lan_->host_dir(2) + "/carol";
    ASSERT_FALSE(MakeKey(carol, "carol").empty());
    Remote({"ls", "carol@" + lan_->address(1) + "/Docs"}, carol);
    r = Local({"peers", "accept", "carol", "--read", "Docs", "--config", conf_, "--state-dir",
               dir_ + "/state"},
              "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(ReadFile(conf_), "read = bob; carol\n")) << ReadFile(conf_);
    EXPECT_TRUE(WaitFor([&] { return Fetches("/Docs/a.txt", "a document\n", carol); }, 5));

    // and forgets her: the section and every rule naming her go
    r = Local({"peers", "forget", "carol", "--config", conf_, "--state-dir", dir_ + "/state"},
              "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(Contains(ReadFile(conf_), "carol")) << ReadFile(conf_);

    // the share removed: the file is as it was at the start, byte for byte
    r = Local({"share", "remove", "--system", "Docs"}, "root");
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(ReadFile(conf_), original_);
    EXPECT_FALSE(Fetches("/Docs/a.txt", "a document\n", bob_key_));
}

} // namespace
