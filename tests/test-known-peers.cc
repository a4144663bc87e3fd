// test-known-peers.cc — the host keys the client pins (known_peers, shared/porch-sftp-client.h):
// the file itself, and what a connection makes of it, against the real porchd-session of
// tests/local-session.h (no root, no network).
//
//   AddThenLookUp                 the file and its folder are made (0600, 0700), the pin is
//                                 found with its line; more pins are appended
//   NamesAreUriEscaped            spaces, '%', '#', tabs and newlines in a name are escaped
//                                 (UTF-8 is kept): one field of one line, which never matches
//                                 another name
//   MalformedLinesAreSkipped      comments, blank lines, missing fields, bad keys: skipped; the
//                                 first good line of a name counts
//   FirstContactPinsTheKey        trust asked once, the pin written; the next contact
//                                 asks nothing
//   ChangedKeyIsRefused           another key under the same name: refused, naming the file
//                                 and line; nothing changed in the file
//   UntrustedOrMismatchingKey     trust said no, or the key is not the one advertised:
//                                 refused, nothing pinned
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/stat.h>

#include <glib.h>

#include "local-session.h"
#include "test-util.h"

extern "C" {
#include "porch-identity.h"
#include "porch-sftp-client-private.h"
#include "porch-state.h"
#include "session.h"
}

namespace
{

using porch::test::Contains;
using porch::test::Exists;
using porch::test::LocalSession;
using porch::test::MakeDirs;
using porch::test::ReadFile;
using porch::test::WriteFile;
namespace fs = std::filesystem;

struct KeyFree {
    void operator()(ssh_key k) const
    {
        ssh_key_free(k);
    }
};
using Key = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyFree>;

class KnownPeers : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *base = g_dir_make_tmp("porch-known-peers-XXXXXX", nullptr);
        ASSERT_NE(base, nullptr) << "$TMPDIR must be writable";
        base_ = base;
        file_ = base_ + "/config/porch/known_peers";
    }
    void TearDown() override
    {
        std::error_code ec;
        fs::remove_all(base_, ec);
    }

    // A new Ed25519 key (a host key, as porchd makes it), saved under name in base_.
    Key NewKey(const std::string &name)
    {
        g_autoptr(GError) error = nullptr;
        ssh_key k = porch_identity_load_or_create((base_ + "/" + name).c_str(), &error);
        EXPECT_NE(k, nullptr) << error->message;
        return Key(k);
    }
    static std::string Fingerprint(const Key &k)
    {
        g_autofree char *fp = porch_key_fingerprint(k.get());
        return fp != nullptr ? fp : "";
    }
    // The fingerprint pinned for name ("" when none) and its line (0 when none).
    std::string Lookup(const std::string &name, guint *line = nullptr)
    {
        guint l = 0;
        g_autofree char *fp = porch_known_peers_lookup(file_.c_str(), name.c_str(), &l);
        if (line != nullptr)
            *line = fp != nullptr ? l : 0;
        return fp != nullptr ? fp : "";
    }
    bool Add(const std::string &name, const Key &k)
    {
        g_autoptr(GError) error = nullptr;
        bool ok = porch_known_peers_add(file_.c_str(), name.c_str(), k.get(), &error);
        EXPECT_TRUE(ok) << error->message;
        return ok;
    }

    std::string base_, file_;
};

TEST_F(KnownPeers, AddThenLookUp)
{
    Key a = NewKey("a"), b = NewKey("b");
    EXPECT_EQ(Lookup("Alice's laptop"), "") << "no file yet";
    ASSERT_TRUE(Add("Alice's laptop", a));

    struct stat st;
    ASSERT_EQ(stat(file_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(stat(fs::path(file_).parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::string text = ReadFile(file_);
    EXPECT_EQ(text.rfind("# ", 0), 0u) << "a new file says what it is: " << text;

    guint line = 0;
    EXPECT_EQ(Lookup("Alice's laptop", &line), Fingerprint(a));
    EXPECT_EQ(line, 2u) << "after the comment";
    EXPECT_EQ(Lookup("alice's laptop"), "") << "names are compared exactly";

    // appended: the first pin stays; a file without a final newline gets one first
    ASSERT_TRUE(WriteFile(file_, ReadFile(file_) + "# kept", 0600));
    ASSERT_TRUE(Add("bob", b));
    EXPECT_EQ(Lookup("Alice's laptop"), Fingerprint(a));
    EXPECT_EQ(Lookup("bob", &line), Fingerprint(b));
    EXPECT_EQ(line, 4u);
    EXPECT_TRUE(Contains(ReadFile(file_), "\n# kept\nbob ssh-ed25519 "));
}

TEST_F(KnownPeers, NamesAreUriEscaped)
{
    const std::vector<std::string> names = {
            "two words", "Alice's laptop", "100%",    "a%20b", "#not a comment",
            "tab\there", "new\nline",      "Büro-PC", "x y z", "[fe80::1%eth0]:4422",
    };
    std::vector<Key> keys;
    for (size_t i = 0; i < names.size(); i++) {
        keys.push_back(NewKey("k" + std::to_string(i)));
        ASSERT_TRUE(Add(names[i], keys.back()));
    }
    for (size_t i = 0; i < names.size(); i++) {
        guint line = 0;
        EXPECT_EQ(Lookup(names[i], &line), Fingerprint(keys[i])) << names[i];
        EXPECT_EQ(line, i + 2) << names[i];
    }
    // one line per pin, three fields each, nothing a shell or a reader would split
    std::string text = ReadFile(file_);
    g_auto(GStrv) lines = g_strsplit(text.c_str(), "\n", -1);
    ASSERT_EQ(g_strv_length(lines), names.size() + 2) << text; // the comment, the final ""
    for (guint i = 1; i <= names.size(); i++) {
        g_auto(GStrv) fields = g_strsplit(lines[i], " ", -1);
        EXPECT_EQ(g_strv_length(fields), 3u) << lines[i];
        for (const char *p = fields[0]; *p != '\0'; p++)
            EXPECT_TRUE((guchar)*p > ' ' && *p != 0x7f) << lines[i];
    }
    EXPECT_TRUE(Contains(text, "\ntwo%20words ssh-ed25519 "));
    EXPECT_TRUE(Contains(text, "\na%2520b ssh-ed25519 ")) << "'%' itself is escaped";
    EXPECT_TRUE(Contains(text, "\n%23not%20a%20comment ssh-ed25519 "));
    EXPECT_TRUE(Contains(text, "\nnew%0Aline ssh-ed25519 "));
    EXPECT_TRUE(Contains(text, "\nBüro-PC ssh-ed25519 ")) << "UTF-8 is kept as it is";
    // the escaped form of a name is another name
    EXPECT_EQ(Lookup("two%20words"), "");
    EXPECT_EQ(Lookup("a b"), "");
}

TEST_F(KnownPeers, MalformedLinesAreSkipped)
{
    Key good = NewKey("good"), other = NewKey("other");
    g_autofree char *line = porch_key_public_line(good.get(), nullptr);
    g_autofree char *other_line = porch_key_public_line(other.get(), nullptr);
    std::string base64 = std::string(line).substr(strlen("ssh-ed25519 "));
    ASSERT_TRUE(MakeDirs(fs::path(file_).parent_path().string(), 0700));
    ASSERT_TRUE(WriteFile(file_,
                          std::string("# host ") + line + "\n" // a comment
                                  + "\n"                       // blank
                                  + "host\n"                   // a name alone
                                  + "host ssh-ed25519\n"       // no key
                                  + "host ssh-ed25519 not-base64!\n" + "host ssh-ed25519 " +
                                  base64.substr(0, 20) + "\n" // cut
                                  + "host ssh-unknown " + base64 + "\n" + "host  " + line +
                                  "\n"                        // two spaces: an empty type field
                                  + "  host " + line + "\r\n" // surrounding space: stripped
                                  + "host " + other_line + "\n",
                          0600));
    guint n = 0;
    EXPECT_EQ(Lookup("host", &n), Fingerprint(good));
    EXPECT_EQ(n, 9u) << "the first line that holds a key counts";
    EXPECT_EQ(Lookup("# host"), "");
    EXPECT_EQ(Lookup(""), "");

    // a file of nothing but garbage, or not text at all, pins nothing
    ASSERT_TRUE(WriteFile(file_, "\xff\xfe garbage\n\n\n", 0600));
    EXPECT_EQ(Lookup("host"), "");
    ASSERT_TRUE(Add("host", good));
    EXPECT_EQ(Lookup("host"), Fingerprint(good)) << "a pin added after garbage is found";
}

// ---- on a connection: the real porchd-session ------------------------------------------

// What the trust callback was asked.
struct Asked {
    bool answer = true;
    std::vector<std::string> calls; // "NAME FINGERPRINT advertised|not"

    static gboolean Trust(const char *name, const char *fp, gboolean advertised, gpointer data)
    {
        Asked *a = static_cast<Asked *>(data);
        a->calls.push_back(std::string(name) + " " + fp + (advertised ? " advertised" : " not"));
        return a->answer;
    }
};

class KnownPeersConnect : public KnownPeers
{
  protected:
    void SetUp() override
    {
        KnownPeers::SetUp();
        ASSERT_TRUE(MakeDirs(base_ + "/share"));
        ASSERT_TRUE(WriteFile(base_ + "/porch.conf", "[porch]\n\n[share Public]\npath = " + base_ +
                                                             "/share\nread = guest\n"));
    }
    // Connects as guest to a new session whose state folder (and so host key) is state;
    // nullptr with *error on failure.
    PorchClient *Connect(const std::string &state, Asked *asked, GError **error,
                         const char *expected_fp = nullptr)
    {
        std::string why;
        EXPECT_TRUE(MakeDirs(base_ + "/" + state, 0700));
        auto session = LocalSession::Start(base_ + "/porch.conf", base_ + "/" + state, &why);
        EXPECT_NE(session, nullptr) << why;
        if (session == nullptr)
            return nullptr;
        PorchConnectOptions o = {};
        o.address = "192.0.2.7";
        o.pin_name = "Carol's desktop";
        o.expected_fingerprint = expected_fp;
        o.known_peers = file_.c_str();
        o.trust = Asked::Trust;
        o.trust_data = asked;
        o.timeout_seconds = 10;
        PorchClient *c =
                porch_client_connect_socket(&o, session->TakeClientSocket(), nullptr, error);
        sessions_.push_back(std::move(session));
        return c;
    }
    // The host key porchd-session made in state.
    std::string HostFingerprint(const std::string &state)
    {
        g_autoptr(GError) error = nullptr;
        ssh_key k = porch_identity_load_or_create(
                (base_ + "/" + state + "/" PORCH_STATE_HOST_KEY).c_str(), &error);
        EXPECT_NE(k, nullptr) << error->message;
        return Fingerprint(Key(k));
    }
    void TearDown() override
    {
        sessions_.clear();
        KnownPeers::TearDown();
    }

    std::vector<std::unique_ptr<LocalSession>> sessions_;
};

TEST_F(KnownPeersConnect, FirstContactPinsTheKey)
{
    Asked asked;
    g_autoptr(GError) error = nullptr;
    {
        g_autoptr(PorchClient) c = Connect("state", &asked, &error);
        ASSERT_NE(c, nullptr) << error->message;
        EXPECT_EQ(porch_client_get_host_fingerprint(c), HostFingerprint("state"));
    }
    std::string fp = HostFingerprint("state");
    EXPECT_EQ(asked.calls, (std::vector<std::string>{"Carol's desktop " + fp + " not"}));
    guint line = 0;
    EXPECT_EQ(Lookup("Carol's desktop", &line), fp) << "pinned under the pin name";
    EXPECT_EQ(Lookup("192.0.2.7"), "") << "not under the address";

    // the same key again: nothing asked, nothing added
    std::string before = ReadFile(file_);
    {
        g_autoptr(PorchClient) c = Connect("state", &asked, &error);
        ASSERT_NE(c, nullptr) << error->message;
    }
    EXPECT_EQ(asked.calls.size(), 1u);
    EXPECT_EQ(ReadFile(file_), before);
}

TEST_F(KnownPeersConnect, ChangedKeyIsRefused)
{
    Asked asked;
    g_autoptr(GError) error = nullptr;
    {
        g_autoptr(PorchClient) c = Connect("state", &asked, &error);
        ASSERT_NE(c, nullptr) << error->message;
    }
    std::string before = ReadFile(file_);

    // the same name, another host key (another state folder: a reinstalled machine, or
    // someone else)
    EXPECT_EQ(Connect("elsewhere", &asked, &error), nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED))
            << error->message;
    EXPECT_TRUE(Contains(error->message, HostFingerprint("elsewhere"))) << error->message;
    EXPECT_TRUE(Contains(error->message, HostFingerprint("state"))) << error->message;
    EXPECT_TRUE(Contains(error->message, file_ + ", line 2")) << error->message;
    EXPECT_EQ(asked.calls.size(), 1u) << "a changed key is not a question";
    EXPECT_EQ(ReadFile(file_), before);
    // the session saw no login
    EXPECT_EQ(sessions_.back()->Wait(10), PORCH_SESSION_EXIT_AUTH);
}

TEST_F(KnownPeersConnect, UntrustedOrMismatchingKey)
{
    Asked asked;
    asked.answer = false;
    g_autoptr(GError) error = nullptr;
    EXPECT_EQ(Connect("state", &asked, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_UNTRUSTED))
            << error->message;
    g_clear_error(&error);
    EXPECT_EQ(asked.calls.size(), 1u);
    EXPECT_FALSE(Exists(file_)) << "nothing pinned";

    // advertised (mDNS fp=) but another key shows up: refused before anything is asked
    EXPECT_EQ(
            Connect("state", &asked, &error, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            nullptr);
    EXPECT_TRUE(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH))
            << error->message;
    g_clear_error(&error);
    EXPECT_EQ(asked.calls.size(), 1u);
    EXPECT_FALSE(Exists(file_));

    // advertised and matching: trust is asked, and told so
    std::string fp = HostFingerprint("state");
    asked.answer = true;
    {
        g_autoptr(PorchClient) c = Connect("state", &asked, &error, fp.c_str());
        ASSERT_NE(c, nullptr) << error->message;
    }
    ASSERT_EQ(asked.calls.size(), 2u);
    EXPECT_EQ(asked.calls[1], "Carol's desktop " + fp + " advertised");
    EXPECT_EQ(Lookup("Carol's desktop"), fp);
}

} // namespace
