// test-cli-peers.cc — `porch id` and `porch peers` as a user meets them: the real porch
// binary, its key checked against ssh-keygen, porch.conf edited and checked with the real
// loader, and a real porchd made to reload.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "porch-config.h"
#include "porch-pending.h"
#include "porch-state.h"
#include "test-util.h"

namespace
{

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;
constexpr uid_t kNobody = 65534;

using porch::test::ReadFile;

struct ProcResult {
    int status = -1;
    std::string out, err;
};

void
BecomeNobody(gpointer)
{
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0)
        _exit(126);
}

// Runs `porch ARGS...` with the environment's variables overridden by `env` ("NAME=VALUE"),
// as user nobody when `nobody`.
ProcResult
Porch(const std::vector<std::string> &args, const std::vector<std::string> &env = {},
      bool nobody = false)
{
    std::vector<const char *> argv = {kPorch};
    for (const std::string &a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    g_auto(GStrv) envp = g_get_environ();
    for (const std::string &e : env) {
        std::string name = e.substr(0, e.find('='));
        envp = g_environ_setenv(envp, name.c_str(), e.c_str() + name.size() + 1, TRUE);
    }
    ProcResult r;
    g_autofree char *out = nullptr;
    g_autofree char *err = nullptr;
    g_autoptr(GError) error = nullptr;
    int wait_status = 0;
    EXPECT_TRUE(g_spawn_sync(nullptr, (char **)argv.data(), envp, G_SPAWN_DEFAULT,
                             nobody ? BecomeNobody : nullptr, nullptr, &out, &err, &wait_status,
                             &error))
            << (error ? error->message : "");
    r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    r.out = out ? out : "";
    r.err = err ? err : "";
    return r;
}

// The standard output of a shell command, "" when it fails.
std::string
Output(const std::string &cmd)
{
    const char *argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    g_autofree char *out = nullptr;
    int status = 0;
    if (!g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_STDERR_TO_DEV_NULL, nullptr, nullptr,
                      &out, nullptr, &status, nullptr) ||
        !g_spawn_check_wait_status(status, nullptr))
        return "";
    return out ? out : "";
}

std::vector<std::string>
Lines(const std::string &s)
{
    std::vector<std::string> v;
    size_t at = 0;
    for (size_t nl; (nl = s.find('\n', at)) != std::string::npos; at = nl + 1)
        v.push_back(s.substr(at, nl - at));
    if (at < s.size())
        v.push_back(s.substr(at));
    return v;
}

// The n-th (0-based) space-separated field of `s`, without the line's end.
std::string
Field(const std::string &s, int n)
{
    g_autofree char *line = g_strstrip(g_strdup(s.c_str()));
    g_auto(GStrv) f = g_strsplit(line, " ", -1);
    return (int)g_strv_length(f) > n ? f[n] : "";
}

// "SHA256:..." as ssh-keygen -l prints it for the key in `file`.
std::string
SshKeygenFingerprint(const std::string &file)
{
    return Field(Output("ssh-keygen -lf " + file), 1);
}

int
FreePort()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

// A child process, killed (SIGKILL) and reaped when it goes out of scope, whatever happened.
struct Child {
    pid_t pid = -1;
    Child() = default;
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child()
    {
        if (pid > 0) {
            // and its process group, if it leads one: porchd's launcher does, and its network
            // side does not end with a launcher killed by SIGKILL
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
    bool Alive() const
    {
        return pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0;
    }
    // SIGTERM; the exit status, -1 if it did not end within 10 s.
    int Stop()
    {
        kill(pid, SIGTERM);
        for (int i = 0; i < 500; i++) {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }
};

// An Ed25519 key made by ssh-keygen.
struct Key {
    std::string file;        // the private key
    std::string line;        // "ssh-ed25519 BASE64"
    std::string fingerprint; // "SHA256:..."
};

class CliTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("porch-cli-peers-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        config_home_ = dir_ + "/config";
        conf_ = dir_ + "/porch.conf";
        state_ = dir_ + "/state";
        share_ = dir_ + "/Photos";
        ASSERT_EQ(g_mkdir(share_.c_str(), 0755), 0);
        ASSERT_EQ(g_mkdir(state_.c_str(), 0700), 0);
    }
    void TearDown() override
    {
        g_chmod(dir_.c_str(), 0700);
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    // What the user's own files may be: nothing outside the temporary folder.
    std::vector<std::string> Env() const
    {
        return {"XDG_CONFIG_HOME=" + config_home_, "XDG_STATE_HOME=" + dir_ + "/xdg-state",
                "HOME=" + dir_};
    }
    ProcResult Id(std::vector<std::string> args = {})
    {
        args.insert(args.begin(), "id");
        return Porch(args, Env());
    }
    // `porch peers ARGS... --config CONF --state-dir STATE`.
    ProcResult Peers(std::vector<std::string> args, bool nobody = false)
    {
        args.insert(args.begin(), "peers");
        for (const char *a : {"--config", conf_.c_str(), "--state-dir", state_.c_str()})
            args.push_back(a);
        return Porch(args, Env(), nobody);
    }
    Key MakeKey(const std::string &name, const std::string &comment = "someone@somewhere")
    {
        Key k;
        k.file = dir_ + "/" + name;
        std::string cmd = "ssh-keygen -q -t ed25519 -N '' -C '" + comment + "' -f '" + k.file + "'";
        EXPECT_NE(Output(cmd + " && echo ok"), "") << cmd;
        std::string pub = ReadFile(k.file + ".pub");
        k.line = Field(pub, 0) + " " + Field(pub, 1);
        k.fingerprint = SshKeygenFingerprint(k.file);
        EXPECT_EQ(k.fingerprint.rfind("SHA256:", 0), 0u) << k.fingerprint;
        return k;
    }
    // A request for access, as porchd records it when an unknown key logs in.
    void Ask(const Key &k, const std::string &name, const std::string &address = "192.168.1.20",
             gint64 when = 0)
    {
        g_autoptr(GError) error = nullptr;
        std::string line = k.line + " " + name;
        ASSERT_TRUE(porch_pending_record(state_.c_str(), &limits_, name.c_str(), line.c_str(),
                                         k.fingerprint.c_str(), address.c_str(),
                                         when ? when : Now(), &error))
                << error->message;
    }
    static gint64 Now()
    {
        return g_get_real_time() / G_USEC_PER_SEC;
    }
    guint Pending()
    {
        g_autoptr(GPtrArray) list = porch_pending_list(state_.c_str(), 0);
        return list->len;
    }
    void Write(const std::string &text)
    {
        ASSERT_TRUE(g_file_set_contents(conf_.c_str(), text.c_str(), -1, nullptr));
    }
    // A porch.conf with comments everywhere, as people write them.
    std::string Commented()
    {
        if (port_ == 0)
            port_ = FreePort();
        return "# Alice's porch.conf\n"
               "[porch]\n"
               "# only here\n"
               "listen = 127.0.0.1\n"
               "port = " +
               std::to_string(port_) +
               "\n"
               "\n"
               "# holidays\n"
               "[share Photos]\n"
               "path = " +
               share_ +
               "\n"
               "read = guest\n"
               "# no trailing newline below";
    }
    // Starts porchd on the config and state of this test, its log in porchd.log.
    void StartPorchd(Child &c)
    {
        std::string log = dir_ + "/porchd.log";
        c.pid = fork();
        ASSERT_GE(c.pid, 0);
        if (c.pid == 0) {
            setpgid(0, 0);
            FILE *f = freopen(log.c_str(), "w", stderr);
            (void)f;
            execl(kPorchd, kPorchd, "--config", conf_.c_str(), "--state-dir", state_.c_str(),
                  (char *)nullptr);
            _exit(127);
        }
        setpgid(c.pid, c.pid);
    }
    std::string Log()
    {
        return ReadFile(dir_ + "/porchd.log");
    }
    bool WaitForLog(const std::string &text)
    {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (Log().find(text) != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    std::string dir_, config_home_, conf_, state_, share_;
    int port_ = 0;
    // porch.conf's defaults
    PorchPendingLimits limits_ = {64, 4, 7 * 24 * 3600};
};

// ---- porch id -------------------------------------------------------------------------------

TEST_F(CliTest, IdCreatesTheKeyAndPrintsItsLineAndFingerprint)
{
    ProcResult r = Id();
    ASSERT_EQ(r.status, 0) << r.err;
    std::string key = config_home_ + "/porch/id_ed25519";
    struct stat st;
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(stat((config_home_ + "/porch").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_NE(r.err.find("created a new key in " + key), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("[peer"), std::string::npos) << "no hint when not on a terminal";

    std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    // The line is the key's, as ssh-keygen reads it from the private key.
    std::string pub = Output("ssh-keygen -y -f " + key);
    EXPECT_EQ(Field(lines[0], 0), "ssh-ed25519");
    EXPECT_EQ(Field(lines[0], 1), Field(pub, 1));
    EXPECT_EQ(lines[1], SshKeygenFingerprint(key));

    // Pasted into a neighbour's porch.conf under its comment's name, it is that peer's key.
    std::string name = Field(lines[0], 2);
    ASSERT_FALSE(name.empty()) << lines[0];
    std::string conf = "[peer " + name + "]\nkey = " + lines[0] + "\n";
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) config = porch_config_load_data(conf.c_str(), -1, "pasted", &error);
    ASSERT_NE(config, nullptr) << error->message;
    const PorchPeer *peer = porch_config_lookup_peer_by_fingerprint(config, lines[1].c_str());
    ASSERT_NE(peer, nullptr);
    EXPECT_EQ(std::string(peer->name), name);
}

TEST_F(CliTest, IdPrintsTheSameKeyEachTime)
{
    ProcResult first = Id();
    ASSERT_EQ(first.status, 0) << first.err;
    ProcResult second = Id();
    ASSERT_EQ(second.status, 0) << second.err;
    EXPECT_EQ(second.out, first.out);
    EXPECT_EQ(second.err, "");
}

TEST_F(CliTest, IdentityOptionUsesAnExistingOpenSshKey)
{
    Key k = MakeKey("my_key", "me@elsewhere");
    for (const char *option : {"--identity", "-i"}) {
        ProcResult r = Id({option, k.file});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.err, "");
        std::vector<std::string> lines = Lines(r.out);
        ASSERT_EQ(lines.size(), 2u) << r.out;
        EXPECT_EQ(lines[0].rfind(k.line + " ", 0), 0u) << lines[0];
        EXPECT_EQ(lines[1], k.fingerprint);
    }
    EXPECT_FALSE(g_file_test((config_home_ + "/porch/id_ed25519").c_str(), G_FILE_TEST_EXISTS))
            << "the default key is not made when another one is used";
}

TEST_F(CliTest, IdentityThatIsNotAKeyFailsNamingTheFile)
{
    std::string bad = dir_ + "/not-a-key";
    ASSERT_TRUE(g_file_set_contents(bad.c_str(), "hello\n", -1, nullptr));
    ProcResult r = Id({"--identity", bad});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(bad), "hello\n");

    ProcResult extra = Id({"now"});
    EXPECT_EQ(extra.status, 2);
    EXPECT_NE(extra.err.find("'now'"), std::string::npos) << extra.err;
}

// ---- keys: only porch id makes one at a path someone named ---------------------------------

// A listening TCP socket on 127.0.0.1 that accepts nothing by itself: whether anyone
// connected shows in Connected().
struct Listener {
    int fd = -1;
    int port = 0;
    Listener()
    {
        struct sockaddr_in a = {};
        socklen_t len = sizeof a;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
            port = ntohs(a.sin_port);
    }
    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;
    ~Listener()
    {
        if (fd >= 0)
            close(fd);
    }
    bool Connected() const
    {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0)
            return false;
        close(c);
        return true;
    }
};

TEST_F(CliTest, AKeyFileThatDoesNotExistIsAUsageErrorAndNothingIsMade)
{
    Listener server;
    ASSERT_GT(server.port, 0);
    const std::string host = "127.0.0.1:" + std::to_string(server.port);
    const std::string doc = dir_ + "/doc.txt";
    ASSERT_TRUE(g_file_set_contents(doc.c_str(), "hello\n", -1, nullptr));
    struct Case {
        std::string key;  // the missing key file
        std::string hint; // how the message names it in the command to run
    };
    const std::string plain = dir_ + "/nokeys/id_rsa";
    const std::string spaced = dir_ + "/my keys/id";
    for (const Case &c : {Case{plain, plain}, Case{spaced, "'" + spaced + "'"}}) {
        const std::vector<std::vector<std::string>> commands = {
                {"ls", "-i", c.key, host + "/Photos"},
                {"ls", "--identity", c.key, host},
                {"get", "-i", c.key, host + "/Photos/x.jpg", dir_ + "/x.jpg"},
                {"put", "-i", c.key, doc, host + "/Photos/"},
                {"print", "-i", c.key, host + "/Office", doc},
                {"jobs", "-i", c.key, host + "/Office"},
                {"cancel", "-i", c.key, host + "/Office", "1"},
                // a name to look for on the network: the key is checked before looking
                {"ls", "-i", c.key, "--timeout", "30", "no-such-neighbour/Photos"},
        };
        for (const std::vector<std::string> &args : commands) {
            SCOPED_TRACE("porch " + args[0] + " " + args[1] + " " + c.key);
            auto start = std::chrono::steady_clock::now();
            ProcResult r = Porch(args, Env());
            EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10))
                    << "it fails before looking for the host";
            EXPECT_EQ(r.status, 2) << r.err;
            EXPECT_EQ(r.out, "");
            EXPECT_NE(r.err.find("porch " + args[0] + ": no such key file " + c.key + " (porch " +
                                 "id --identity " + c.hint + " creates one)\n"),
                      std::string::npos)
                    << r.err;
            EXPECT_EQ(r.err.find("guest"), std::string::npos) << r.err;
            EXPECT_FALSE(g_file_test(c.key.c_str(), G_FILE_TEST_EXISTS));
            g_autofree char *folder = g_path_get_dirname(c.key.c_str());
            EXPECT_FALSE(g_file_test(folder, G_FILE_TEST_EXISTS)) << "no folder made for it";
            EXPECT_FALSE(g_file_test((config_home_ + "/porch").c_str(), G_FILE_TEST_EXISTS))
                    << "nor the default key";
            EXPECT_FALSE(server.Connected()) << "no connection made";
        }
    }
}

TEST_F(CliTest, IdMakesAKeyAtANamedPathAndSaysSo)
{
    const std::string key = dir_ + "/new/keys/me";
    ProcResult r = Id({"-i", key});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("porch id: created a new key in " + key + "\n"), std::string::npos)
            << r.err;
    struct stat st;
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    EXPECT_EQ(lines[1], SshKeygenFingerprint(key));
    EXPECT_FALSE(g_file_test((config_home_ + "/porch").c_str(), G_FILE_TEST_EXISTS))
            << "the default key is not made when another one is named";

    // Other commands use it from then on, and say nothing about keys (nothing listens there:
    // the host is unreachable once the key is read).
    ProcResult ls = Porch({"ls", "-i", key, "127.0.0.1:" + std::to_string(FreePort())}, Env());
    EXPECT_EQ(ls.status, 3) << ls.err;
    EXPECT_EQ(ls.err.find("key"), std::string::npos) << ls.err;
}

TEST_F(CliTest, FirstUseWithoutAKeySaysOnceWhereTheNewKeyIs)
{
    // Nothing listens there: the key is made before connecting, then the host is unreachable.
    const std::string host = "127.0.0.1:" + std::to_string(FreePort());
    const std::string key = config_home_ + "/porch/id_ed25519";
    ProcResult first = Porch({"ls", host + "/Photos"}, Env());
    EXPECT_EQ(first.status, 3) << first.err;
    EXPECT_NE(first.err.find("porch: made a new key for this user in " + key +
                             "; `porch id` shows it\n"),
              std::string::npos)
            << first.err;
    struct stat st;
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    ProcResult second = Porch({"ls", host + "/Photos"}, Env());
    EXPECT_EQ(second.status, 3) << second.err;
    EXPECT_EQ(second.err.find("key"), std::string::npos) << "said once only\n" << second.err;

    // porch id shows that key, as made before.
    ProcResult id = Id();
    ASSERT_EQ(id.status, 0) << id.err;
    EXPECT_EQ(id.err, "");
    std::vector<std::string> lines = Lines(id.out);
    ASSERT_EQ(lines.size(), 2u) << id.out;
    EXPECT_EQ(lines[1], SshKeygenFingerprint(key));
}

// ---- porch peers list -----------------------------------------------------------------------

TEST_F(CliTest, ListSaysWhenNobodyAsked)
{
    ProcResult r = Peers({});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Nobody has asked"), std::string::npos) << r.out;
    ProcResult j = Peers({"list", "--json"});
    EXPECT_EQ(j.status, 0) << j.err;
    EXPECT_EQ(j.out, "[]\n");
}

TEST_F(CliTest, ListShowsEachRequest)
{
    Key bob = MakeKey("bob");
    Key eve = MakeKey("eve");
    Ask(bob, "bob");
    Ask(bob, "bob");
    // A name from the network must not drive the terminal.
    Ask(eve, "eve\x1b]0;pwned\x07", "fd00::5");
    ProcResult r = Peers({"list"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("bob\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(bob.fingerprint), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("192.168.1.20"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("attempts     2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(eve.fingerprint), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("eve?]0;pwned?"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fd00::5"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
    EXPECT_EQ(r.out.find('\x07'), std::string::npos);
    EXPECT_NE(r.out.find("porch peers accept"), std::string::npos) << r.out;

    ProcResult j = Peers({"--json"});
    ASSERT_EQ(j.status, 0) << j.err;
    EXPECT_EQ(j.out.rfind("[\n{\"name\":", 0), 0u) << j.out;
    EXPECT_NE(j.out.find("{\"name\":\"bob\",\"fingerprint\":\"" + bob.fingerprint +
                         "\",\"key\":\"" + bob.line +
                         " bob\",\"address\":\"192.168.1.20\","
                         "\"first_seen\":"),
              std::string::npos)
            << j.out;
    EXPECT_NE(j.out.find("\"attempts\":2}"), std::string::npos) << j.out;
    EXPECT_EQ(j.out.find('\x1b'), std::string::npos) << "escaped in JSON";
}

TEST_F(CliTest, DefaultsAreThoseOfPorchd)
{
    // The state directory porchd would use: /var/lib/porch as root, else
    // $XDG_STATE_HOME/porch. An unknown name is refused before anything is touched.
    ProcResult r = Porch({"peers", "accept", "no-such-peer-here"}, Env());
    EXPECT_EQ(r.status, 1);
    std::string expected = geteuid() == 0 ? "/var/lib/porch/pending" : dir_ + "/xdg-state/porch";
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
}

TEST_F(CliTest, UsageErrors)
{
    for (const std::vector<std::string> &args : std::vector<std::vector<std::string>>{
                 {"frobnicate"},
                 {"accept"},
                 {"accept", "a", "b"},
                 {"list", "extra"},
                 {"list", "--as", "bob"},
                 {"accept", "bob", "--json"},
                 {"--no-such-option"},
         }) {
        ProcResult r = Peers(args);
        EXPECT_EQ(r.status, 2) << args[0] << ": " << r.err;
        EXPECT_NE(r.err.find("porch peers: "), std::string::npos) << r.err;
    }
}

// ---- porch peers accept ---------------------------------------------------------------------

TEST_F(CliTest, AcceptAppendsThePeerKeepsTheFileAndForgetsTheRequest)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    std::string before = Commented();
    Write(before);
    ASSERT_EQ(g_chmod(conf_.c_str(), 0640), 0);

    ProcResult r = Peers({"accept", "bob"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("Added [peer bob] to " + conf_), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("porchd is not running"), std::string::npos) << r.out;
    // The next step, exactly: a share names the peer.
    EXPECT_NE(r.out.find("bob has no rights yet"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(Photos)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("read = bob"), std::string::npos) << r.out;

    std::string after = ReadFile(conf_);
    EXPECT_EQ(after.rfind(before + "\n", 0), 0u) << "the file's text and comments are kept:\n"
                                                 << after;
    EXPECT_NE(after.find("\n[peer bob]\nkey = " + bob.line + " bob\n"), std::string::npos) << after;
    struct stat st;
    ASSERT_EQ(stat(conf_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);

    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) config = porch_config_load_file(conf_.c_str(), &error);
    ASSERT_NE(config, nullptr) << error->message;
    const PorchPeer *peer = porch_config_lookup_peer(config, "bob");
    ASSERT_NE(peer, nullptr);
    ASSERT_EQ(peer->n_keys, 1u);
    EXPECT_EQ(std::string(peer->keys[0].fingerprint), bob.fingerprint);
    EXPECT_EQ(Pending(), 0u);
}

TEST_F(CliTest, AcceptByFingerprintUnderAnotherName)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    Write(Commented());
    // With or without "SHA256:".
    ProcResult r = Peers({"accept", bob.fingerprint.substr(7), "--as", "robert"});
    ASSERT_EQ(r.status, 0) << r.err;
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) config = porch_config_load_file(conf_.c_str(), &error);
    ASSERT_NE(config, nullptr) << error->message;
    EXPECT_EQ(porch_config_lookup_peer(config, "bob"), nullptr);
    const PorchPeer *peer =
            porch_config_lookup_peer_by_fingerprint(config, bob.fingerprint.c_str());
    ASSERT_NE(peer, nullptr);
    EXPECT_EQ(std::string(peer->name), "robert");
    EXPECT_EQ(Pending(), 0u);
}

TEST_F(CliTest, AcceptOfAnUnknownNameFailsAndChangesNothing)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    Write(Commented());
    ProcResult r = Peers({"accept", "carol"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("nobody called 'carol' asked"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bob.fingerprint), std::string::npos) << "it says who did ask";
    EXPECT_EQ(ReadFile(conf_), Commented());
    EXPECT_EQ(Pending(), 1u);
}

TEST_F(CliTest, AcceptRefusesANameOrKeyThatIsThereAlready)
{
    Key bob = MakeKey("bob");
    Key other = MakeKey("other");
    Ask(bob, "bob");

    std::string with_name = Commented() + "\n[peer bob]\nkey = " + other.line + "\n";
    Write(with_name);
    ProcResult r = Peers({"accept", "bob"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("has a [peer bob] already"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--as"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(conf_), with_name);

    std::string with_key = Commented() + "\n[peer robert]\nkey = " + bob.line + "\n";
    Write(with_key);
    r = Peers({"accept", "bob"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("[peer robert]'s already"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(conf_), with_key);
    EXPECT_EQ(Pending(), 1u);
}

TEST_F(CliTest, AcceptOfAnAmbiguousNameListsTheCandidates)
{
    Key one = MakeKey("one");
    Key two = MakeKey("two");
    Ask(one, "bob");
    Ask(two, "bob", "192.168.1.30");
    Write(Commented());
    ProcResult r = Peers({"accept", "bob"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("2 requests go by 'bob'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(one.fingerprint), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(two.fingerprint), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(conf_), Commented());

    r = Peers({"accept", two.fingerprint});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(Pending(), 1u);
}

TEST_F(CliTest, AcceptOfANameThatIsNoPeerNameNeedsAs)
{
    Key k = MakeKey("k");
    Ask(k, "Jo Smith; [share x]");
    Write(Commented());
    ProcResult r = Peers({"accept", "Jo Smith; [share x]"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("not a valid peer name"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--as PEERNAME"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(conf_), Commented());

    r = Peers({"accept", "Jo Smith; [share x]", "--as", "bad name"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("'bad name' is not a valid peer name"), std::string::npos) << r.err;

    r = Peers({"accept", "Jo Smith; [share x]", "--as", "jo"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string after = ReadFile(conf_);
    // The key line is rebuilt: the name from the network does not reach the file.
    EXPECT_NE(after.find("[peer jo]\nkey = " + k.line + " jo\n"), std::string::npos) << after;
    EXPECT_EQ(after.find("Smith"), std::string::npos) << after;
}

TEST_F(CliTest, AcceptSaysWhichKeyFromWhereItAccepts)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob", "192.168.1.77");
    Write(Commented());
    ProcResult r = Peers({"accept", "bob"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Added [peer bob] to " + conf_ + " (key " + bob.fingerprint +
                         ", it asked from 192.168.1.77)"),
              std::string::npos)
            << r.out;
}

// A stranger's request may carry the name of a peer that is there already (from a new
// laptop, says the stranger): the name is not enough to accept it, under any name.
TEST_F(CliTest, AcceptOfARequestThatGivesAPeersNameNeedsTheFingerprint)
{
    Key bob = MakeKey("bob");
    Key stranger = MakeKey("stranger");
    Ask(stranger, "bob", "192.168.1.66");
    std::string conf = Commented() + "\n[peer bob]\nkey = " + bob.line + "\n";
    Write(conf);
    for (const std::vector<std::string> &args : std::vector<std::vector<std::string>>{
                 {"accept", "bob"},
                 {"accept", "bob", "--as", "bob-laptop"},
         }) {
        ProcResult r = Peers(args);
        EXPECT_EQ(r.status, 1) << args.size() << ": " << r.out;
        EXPECT_NE(r.err.find("has a [peer bob] already"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("porch peers accept " + stranger.fingerprint + " --as PEERNAME"),
                  std::string::npos)
                << r.err;
        EXPECT_EQ(ReadFile(conf_), conf);
        EXPECT_EQ(Pending(), 1u);
    }
    // by its fingerprint, under another name, it is accepted (the owner checked it)
    ProcResult r = Peers({"accept", stranger.fingerprint, "--as", "bob-laptop"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("(key " + stranger.fingerprint + ", it asked from 192.168.1.66)"),
              std::string::npos)
            << r.out;
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) config = porch_config_load_file(conf_.c_str(), &error);
    ASSERT_NE(config, nullptr) << error->message;
    const PorchPeer *peer = porch_config_lookup_peer(config, "bob");
    ASSERT_NE(peer, nullptr);
    EXPECT_EQ(std::string(peer->keys[0].fingerprint), bob.fingerprint) << "bob is still bob";
}

// Requests older than pending-expiry (since their last attempt) are gone for porch peers.
TEST_F(CliTest, ExpiredRequestsAreNeitherListedNorAccepted)
{
    Key old = MakeKey("old");
    Key fresh = MakeKey("fresh");
    // (recording removes what has expired by then: the old one goes in last)
    Ask(fresh, "fresh", "192.168.1.21", Now() - 3600);
    Ask(old, "old", "192.168.1.20", Now() - 8 * 24 * 3600);
    Write(Commented());
    ProcResult r = Peers({"list"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find(old.fingerprint), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fresh.fingerprint), std::string::npos) << r.out;
    r = Peers({"accept", "old"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("nobody called 'old' asked"), std::string::npos) << r.err;

    // pending-expiry is porch.conf's
    std::string longer = Commented();
    longer.insert(longer.find("listen ="), "pending-expiry = 30d\n");
    Write(longer);
    r = Peers({"list", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(old.fingerprint), std::string::npos) << r.out;
}

TEST_F(CliTest, AcceptLeavesAFileThatDoesNotLoadAlone)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    // (a missing folder would not do: that share is offline, the file valid)
    std::string broken = "[porch]\n[share Gone]\npath = " + dir_ + "\nread = ghost\n";
    Write(broken);
    ProcResult r = Peers({"accept", "bob"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(conf_ + " is not valid as it is"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("peer 'ghost' is not defined"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(conf_), broken);
    EXPECT_EQ(Pending(), 1u);
}

TEST_F(CliTest, AcceptIntoAMissingFolderFails)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    conf_ = dir_ + "/no-such-folder/porch.conf";
    ProcResult r = Peers({"accept", "bob"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(conf_ + ": No such file or directory"), std::string::npos) << r.err;
    EXPECT_FALSE(g_file_test((dir_ + "/no-such-folder").c_str(), G_FILE_TEST_EXISTS));
    EXPECT_EQ(Pending(), 1u);
}

TEST_F(CliTest, AcceptByAUserWhoCannotWriteTheFileSaysSo)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    Write(Commented());
    bool root = geteuid() == 0;
    if (root) {
        // As nobody, who may read all of it but write none (root may write anywhere).
        for (const std::string &d : {dir_, state_, state_ + "/pending", share_})
            ASSERT_EQ(g_chmod(d.c_str(), 0755), 0);
        g_autoptr(GDir) pending = g_dir_open((state_ + "/pending").c_str(), 0, nullptr);
        for (const char *n; (n = g_dir_read_name(pending)) != nullptr;)
            ASSERT_EQ(g_chmod((state_ + "/pending/" + n).c_str(), 0644), 0);
    } else {
        ASSERT_EQ(g_chmod(dir_.c_str(), 0555), 0);
        ASSERT_EQ(g_chmod(conf_.c_str(), 0444), 0);
    }
    ProcResult r = Peers({"accept", "bob"}, root);
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("cannot write " + conf_ + ": Permission denied — run as root / with sudo"),
              std::string::npos)
            << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(ReadFile(conf_), Commented());
    EXPECT_EQ(Pending(), 1u);
}

TEST_F(CliTest, AcceptMakesTheRunningPorchdReload)
{
    Key bob = MakeKey("bob");
    Write(Commented());
    // porchd run as root is the system service: its network side runs as 'porch', which
    // must reach porch.conf and the state folder in this (0700) temporary folder
    ASSERT_EQ(g_chmod(dir_.c_str(), 0755), 0);
    Child porchd;
    StartPorchd(porchd);
    ASSERT_TRUE(WaitForLog("running")) << Log();
    ASSERT_TRUE(WaitForLog(", 0 peers")) << Log();
    // It says where it runs.
    std::string pid_file = state_ + "/" PORCH_STATE_PID_FILE;
    EXPECT_EQ(ReadFile(pid_file), std::to_string(porchd.pid) + "\n");

    Ask(bob, "bob");
    ProcResult r = Peers({"accept", "bob"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("porchd (pid " + std::to_string(porchd.pid) + ") reloaded"),
              std::string::npos)
            << r.out;
    EXPECT_NE(Log().find("reloaded"), std::string::npos) << Log();
    EXPECT_TRUE(WaitForLog(", 1 peers")) << Log();
    EXPECT_EQ(ReadFile(state_ + "/" PORCH_STATE_RUNNING_CONFIG), ReadFile(conf_));
    EXPECT_TRUE(porchd.Alive());

    // A clean exit takes the pid file away.
    EXPECT_EQ(porchd.Stop(), 0);
    EXPECT_FALSE(g_file_test(pid_file.c_str(), G_FILE_TEST_EXISTS));
}

TEST_F(CliTest, AStalePidFileSignalsNobody)
{
    Key bob = MakeKey("bob");
    Ask(bob, "bob");
    Write(Commented());
    // porchd was killed; its pid now belongs to another program, which must not get SIGHUP.
    Child other;
    other.pid = fork();
    ASSERT_GE(other.pid, 0);
    if (other.pid == 0) {
        execlp("sleep", "sleep", "60", (char *)nullptr);
        _exit(127);
    }
    for (int i = 0;
         i < 250 && Output("cat /proc/" + std::to_string(other.pid) + "/comm") != "sleep\n"; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(g_file_set_contents((state_ + "/" PORCH_STATE_PID_FILE).c_str(),
                                    (std::to_string(other.pid) + "\n").c_str(), -1, nullptr));

    ProcResult r = Peers({"accept", "bob"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("which is not porchd"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("known when it starts"), std::string::npos) << r.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(other.Alive());
}

// ---- addresses users paste -------------------------------------------------------------------

// A service on 127.0.0.1 that is not SSH: to each connection it answers `reply` once it has
// read something (as an HTTP server does), then closes it. Served by a child process.
struct NotSsh {
    int port = 0;
    Child child;
    explicit NotSsh(const std::string &reply)
    {
        struct sockaddr_in a = {};
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) != 0)
            return;
        port = ntohs(a.sin_port);
        child.pid = fork();
        if (child.pid == 0) {
            for (;;) {
                int c = accept(fd, nullptr, nullptr);
                char buf[512];
                if (c < 0)
                    _exit(0);
                if (read(c, buf, sizeof buf) > 0 && write(c, reply.data(), reply.size()) < 0)
                    _exit(1);
                close(c);
            }
        }
        close(fd);
    }
};

TEST_F(CliTest, SftpUrlsAndUserAtHostReachTheShare)
{
    Key bob = MakeKey("bob");
    Write(Commented());
    ASSERT_TRUE(g_file_set_contents((share_ + "/a b.txt").c_str(), "spaced\n", -1, nullptr));
    ASSERT_EQ(g_chmod(dir_.c_str(), 0755), 0); // for porchd's network side, as root
    Child porchd;
    StartPorchd(porchd);
    ASSERT_TRUE(WaitForLog("running")) << Log();
    const std::string at = "127.0.0.1:" + std::to_string(port_);

    // What porch browse --json and file managers show, the path percent-encoded.
    for (const std::string &target :
         {"sftp://" + at + "/Photos", "SFTP://" + at + "/Photos/", "sftp://carol@" + at + "/Photos",
          "carol@" + at + "/Photos"}) {
        ProcResult r = Porch({"ls", "-i", bob.file, target}, Env());
        EXPECT_EQ(r.status, 0) << target << ": " << r.err;
        EXPECT_EQ(r.out, "a b.txt\n") << target;
    }
    ProcResult one = Porch({"ls", "-i", bob.file, "sftp://" + at + "/Photos/a%20b.txt"}, Env());
    EXPECT_EQ(one.status, 0) << one.err;
    EXPECT_EQ(one.out, "a b.txt\n");
    const std::string dest = dir_ + "/fetched.txt";
    ProcResult get = Porch(
            {"get", "-q", "-i", bob.file, "sftp://carol@" + at + "/Photos/a%20b.txt", dest}, Env());
    EXPECT_EQ(get.status, 0) << get.err;
    EXPECT_EQ(ReadFile(dest), "spaced\n");
    // Messages name the remote path as HOST/SHARE/PATH, decoded.
    ProcResult missing = Porch({"ls", "-i", bob.file, "sftp://" + at + "/Photos/no%20such"}, Env());
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.err.find("porch: " + at + "/Photos/no such: "), std::string::npos)
            << missing.err;
}

TEST_F(CliTest, UserAtHostNamesTheRequestForAccess)
{
    // USER is the user name sent with the key: porchd names a request for access after it
    // (recorded when the client did not go on as guest: no share here lets guests in).
    Key bob = MakeKey("bob");
    std::string conf = Commented();
    conf.replace(conf.find("read = guest"), strlen("read = guest"), "read = eve");
    conf += "\n[peer eve]\nkey = " + MakeKey("eve").line + "\n";
    Write(conf);
    ASSERT_EQ(g_chmod(dir_.c_str(), 0755), 0);
    Child porchd;
    StartPorchd(porchd);
    ASSERT_TRUE(WaitForLog("running")) << Log();
    const std::string at = "127.0.0.1:" + std::to_string(port_);

    ProcResult r = Porch({"ls", "-i", bob.file, "carol@" + at + "/Photos"}, Env());
    EXPECT_EQ(r.status, 4) << r.err;
    ProcResult u = Porch({"ls", "-i", bob.file, "sftp://dave@" + at + "/Photos"}, Env());
    EXPECT_EQ(u.status, 4) << u.err;
    // each session records its request when it ends: wait for the second
    guint attempts = 0;
    for (int i = 0; i < 500 && attempts < 2; i++) {
        g_autoptr(GPtrArray) asked = porch_pending_list(state_.c_str(), 0);
        attempts = asked->len == 1 ? ((PorchPendingPeer *)asked->pdata[0])->attempts : 0;
        if (attempts < 2)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(attempts, 2u) << Log();
    // one key, one request: named after the USER of its first connection
    g_autoptr(GPtrArray) asked = porch_pending_list(state_.c_str(), 0);
    ASSERT_EQ(asked->len, 1u) << Log();
    EXPECT_STREQ(((PorchPendingPeer *)asked->pdata[0])->name, "carol");
}

TEST_F(CliTest, ABadPortSaysSo)
{
    const std::string doc = dir_ + "/doc.txt";
    ASSERT_TRUE(g_file_set_contents(doc.c_str(), "hello\n", -1, nullptr));
    struct Case {
        std::string target, port;
    };
    for (const Case &c :
         {Case{"sftp://127.0.0.1:x/Photos", "x"}, Case{"sftp://bob@alice:http/Photos/a", "http"},
          Case{"sftp://[::1]:70000/Photos", "70000"}, Case{"sftp://alice:0/Photos", "0"},
          Case{"alice:99999/Photos", "99999"}, Case{"bob@[::1]:0/Photos", "0"}}) {
        for (const std::vector<std::string> &args :
             std::vector<std::vector<std::string>>{{"ls", c.target},
                                                   {"get", c.target + "/x.jpg", dir_ + "/x.jpg"},
                                                   {"put", doc, c.target},
                                                   {"jobs", c.target}}) {
            ProcResult r = Porch(args, Env());
            EXPECT_EQ(r.status, 2) << args[0] << " " << c.target << ": " << r.err;
            EXPECT_NE(r.err.find("bad port '" + c.port + "' in '"), std::string::npos) << r.err;
        }
    }
    for (const char *bad :
         {"sftp://bob:secret@alice/Photos", "sftp:///Photos", "sftp://alice/Photos?x"}) {
        ProcResult r = Porch({"ls", bad}, Env());
        EXPECT_EQ(r.status, 2) << bad << ": " << r.err;
        EXPECT_NE(r.err.find(std::string("porch ls: '") + bad + "'"), std::string::npos) << r.err;
    }
    for (const char *seconds : {"0", "-1", "x", "3601"}) {
        ProcResult r = Porch({"ls", "--connect-timeout", seconds, "127.0.0.1/Photos"}, Env());
        EXPECT_EQ(r.status, 2) << seconds << ": " << r.err;
        EXPECT_NE(r.err.find("connect-timeout"), std::string::npos) << r.err;
    }
}

TEST_F(CliTest, AServiceThatIsNotSshIsNamed)
{
    NotSsh http("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    ASSERT_GT(http.port, 0);
    const std::string at = "127.0.0.1:" + std::to_string(http.port);
    for (const std::vector<std::string> &args :
         std::vector<std::vector<std::string>>{{"ls", at + "/Photos"},
                                               {"ls", "sftp://" + at + "/Photos"},
                                               {"jobs", at + "/Office"}}) {
        auto start = std::chrono::steady_clock::now();
        ProcResult r = Porch(args, Env());
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
        EXPECT_EQ(r.status, 3) << r.err;
        EXPECT_NE(r.err.find("127.0.0.1 port " + std::to_string(http.port) +
                             " answers, but not with SSH (it said 'HTTP/1.1 400 Bad Request')"),
                  std::string::npos)
                << args[0] << ": " << r.err;
    }
}

TEST_F(CliTest, ConnectTimeoutBoundsASilentPort)
{
    // accepted by the kernel, never answered: no SSH banner ever comes
    Listener silent;
    ASSERT_GT(silent.port, 0);
    auto start = std::chrono::steady_clock::now();
    ProcResult r = Porch({"ls", "--connect-timeout", "1",
                          "127.0.0.1:" + std::to_string(silent.port) + "/Photos"},
                         Env());
    // 1 s to connect, and a short look at what answers there
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_EQ(r.err.find("not with SSH"), std::string::npos) << r.err;
}

} // namespace
