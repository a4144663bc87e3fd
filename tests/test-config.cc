// test-config.cc — porch.conf as a user writes it: what loads, what is refused and how
// the refusal reads, and how a snapshot behaves across reloads.
#include <gtest/gtest.h>

#include <clocale>
#include <fstream>
#include <sstream>
#include <string>

#include <glib/gstdio.h>

#include "test-util.h"

extern "C" {
#include "manager.h"
#include "porch-config.h"
}

namespace
{

using porch::test::ReadFile;

// A public key line from tests/data (made with ssh-keygen), without the newline.
std::string
Key(const char *name)
{
    std::string s = ReadFile(std::string(PORCH_TEST_DATA) + "/" + name + ".pub");
    while (!s.empty() && s.back() == '\n')
        s.pop_back();
    return s;
}

// Fingerprints as `ssh-keygen -lf tests/data/NAME.pub` prints them.
constexpr const char *kBobFp = "SHA256:QUhObE2gOmqxPt0Rz7/E++TZxc5x9tTX8dBXYRbK4uc";
constexpr const char *kBobEcdsaFp = "SHA256:Eqvz//aqxSnhUHJLtj6HmtSxRsYhEPX8OQNCW9D6tdw";
constexpr const char *kCarolFp = "SHA256:wu6v+1n+lqMH8E37oOsERPcQvOvlwww4EADp7NpvCxY";
constexpr const char *kCarolRsaFp = "SHA256:rr1dcG391N5cEZ5xT3Us15kkJVpgGXuqEDDs7p2fUno";

struct Result {
    PorchConfig *config = nullptr;
    GError *error = nullptr;
    ~Result()
    {
        porch_config_unref(config);
        g_clear_error(&error);
    }
};

void
Load(const std::string &text, Result *r)
{
    r->config = porch_config_load_data(text.c_str(), -1, "test.conf", &r->error);
}

std::string
Peers()
{
    return "[peer bob]\nkey = " + Key("bob") + "\n[peer carol]\nkey = " + Key("carol") + "\n";
}

// ---- configurations that load -------------------------------------------------------

TEST(Config, MinimalFileGetsTheDefaultsOfTheSpec)
{
    Result r;
    Load("[porch]\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_STREQ(porch_config_get_name(r.config), g_get_host_name());
    EXPECT_EQ(porch_config_get_port(r.config), 4422);
    EXPECT_EQ(porch_config_get_max_sessions(r.config), 64u);
    const char *const *listen = porch_config_get_listen(r.config);
    ASSERT_EQ(g_strv_length((GStrv)listen), 2u);
    EXPECT_STREQ(listen[0], "0.0.0.0");
    EXPECT_STREQ(listen[1], "::");
    EXPECT_EQ(porch_config_get_n_shares(r.config), 0u);
    EXPECT_EQ(porch_config_get_n_printers(r.config), 0u);
}

TEST(Config, LimitsHaveTheirDefaults)
{
    Result r;
    Load("[porch]\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_SESSIONS), 64u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_GUEST_SESSIONS), 32u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_SESSIONS_PER_ADDRESS), 16u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_STARTUPS), 16u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_LOGIN_GRACE_TIME), 30u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_IDLE_TIMEOUT), 300u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_HANDLES), 256u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PACKET_SIZE), 256u * 1024);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PENDING), 64u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PENDING_PER_ADDRESS), 4u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_PENDING_EXPIRY), 7u * 86400);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PRINT_SIZE), 1u << 30);
    EXPECT_STREQ(porch_config_limit_key(PORCH_LIMIT_IDLE_TIMEOUT), "idle-timeout");
}

TEST(Config, LimitsReadCountsTimesAndSizes)
{
    Result r;
    Load("[porch]\nmax-sessions = 10\nidle-timeout = 2m\nlogin-grace-time = 45s\n"
         "pending-expiry = 3d\nmax-print-size = 20M\nmax-packet-size = 64KiB\n"
         "max-pending = 0\n",
         &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_EQ(porch_config_get_max_sessions(r.config), 10u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_GUEST_SESSIONS), 5u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_IDLE_TIMEOUT), 120u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_LOGIN_GRACE_TIME), 45u);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_PENDING_EXPIRY), 3u * 86400);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PRINT_SIZE), 20u << 20);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PACKET_SIZE), 64u << 10);
    EXPECT_EQ(porch_config_get_limit(r.config, PORCH_LIMIT_MAX_PENDING), 0u);

    Result one;
    Load("[porch]\nmax-sessions = 1\nidle-timeout = 0\n", &one);
    ASSERT_NE(one.config, nullptr) << one.error->message;
    EXPECT_EQ(porch_config_get_limit(one.config, PORCH_LIMIT_MAX_GUEST_SESSIONS), 1u);
    EXPECT_EQ(porch_config_get_limit(one.config, PORCH_LIMIT_IDLE_TIMEOUT), 0u);
}

// A missing folder (an unplugged disk) is no mistake in the file: the share loads, and is
// offline while the folder is missing (porchd then serves the other shares).
TEST(Config, ShareWithAMissingFolderLoadsAndIsOffline)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchConfig) c = porch_config_load_data(
            "[share Usb]\npath = /nonexistent/porch-test\n[share Root]\npath = /\n", -1,
            "test.conf", &error);
    ASSERT_NE(c, nullptr) << error->message;
    const PorchShare *usb = porch_config_lookup_share(c, "Usb");
    ASSERT_NE(usb, nullptr);
    EXPECT_STREQ(usb->path, "/nonexistent/porch-test");
    EXPECT_FALSE(usb->offline);
    g_autofree char *why = NULL;
    EXPECT_TRUE(porch_share_folder_missing(usb, &why));
    EXPECT_STREQ(why, "missing");
    EXPECT_FALSE(porch_share_folder_missing(porch_config_lookup_share(c, "Root"), NULL));
    porch_config_set_offline(c, "Usb", TRUE);
    EXPECT_TRUE(usb->offline);
    porch_config_set_offline(c, "NoSuchShare", TRUE); // ignored
}

TEST(Config, ShareOwnerIsAUserNameOrTheFoldersOwner)
{
    Result r;
    Load("[share A]\npath = /\nowner = alice_1.x-y\n[share B]\npath = /tmp\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_STREQ(porch_config_lookup_share(r.config, "A")->owner, "alice_1.x-y");
    EXPECT_EQ(porch_config_lookup_share(r.config, "B")->owner, nullptr);
}

TEST(Config, FixtureFileLoadsEverySectionInFileOrder)
{
    std::string file = std::string(PORCH_TEST_DATA) + "/matrix.conf";
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) c = porch_config_load_file(file.c_str(), &error);
    ASSERT_NE(c, nullptr) << error->message;

    EXPECT_STREQ(porch_config_get_origin(c), file.c_str());
    EXPECT_STREQ(porch_config_get_name(c), "Alice's laptop");
    EXPECT_EQ(porch_config_get_max_sessions(c), 8u);
    EXPECT_STREQ(porch_config_get_listen(c)[0], "127.0.0.1");
    EXPECT_STREQ(porch_config_get_listen(c)[1], "::1");

    ASSERT_EQ(porch_config_get_n_peers(c), 4u);
    EXPECT_STREQ(porch_config_get_peer(c, 0)->name, "bob");
    EXPECT_STREQ(porch_config_get_peer(c, 3)->name, "erin");
    ASSERT_EQ(porch_config_get_n_groups(c), 2u);
    EXPECT_STREQ(porch_config_get_group(c, 0)->name, "family");

    ASSERT_EQ(porch_config_get_n_shares(c), 5u);
    const char *order[] = {"Photos", "Music", "Private", "Dropbox", "Empty"};
    for (guint i = 0; i < 5; i++)
        EXPECT_STREQ(porch_config_get_share(c, i)->name, order[i]);

    const PorchShare *photos = porch_config_lookup_share(c, "Photos");
    ASSERT_NE(photos, nullptr);
    EXPECT_STREQ(photos->path, "/usr/share");
    EXPECT_STREQ(photos->comment, "Holiday pictures");
    EXPECT_FALSE(photos->hidden);
    EXPECT_TRUE(photos->read.guest);
    EXPECT_STREQ(photos->read.principals[0], "@family");
    EXPECT_TRUE(porch_config_lookup_share(c, "Private")->hidden);
    EXPECT_STREQ(porch_config_lookup_share(c, "Music")->comment, "");

    ASSERT_EQ(porch_config_get_n_printers(c), 3u);
    EXPECT_STREQ(porch_config_lookup_printer(c, "Office")->queue, "HP_LaserJet_4000");
    EXPECT_STREQ(porch_config_lookup_printer(c, "Lobby")->queue, "Lobby");
    EXPECT_TRUE(porch_config_lookup_printer(c, "Locked")->hidden);
    EXPECT_EQ(porch_config_lookup_share(c, "photos"), nullptr) << "look-ups are exact";
}

TEST(Config, FingerprintsMatchSshKeygen)
{
    Result r;
    Load("[peer bob]\nkey = " + Key("bob") + ";" + Key("bob-ecdsa") +
                 "\n[peer carol]\nkey = " + Key("carol-rsa") + " ; " + Key("carol") + ";\n",
         &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    const PorchPeer *bob = porch_config_lookup_peer(r.config, "bob");
    ASSERT_NE(bob, nullptr);
    ASSERT_EQ(bob->n_keys, 2u);
    EXPECT_STREQ(bob->keys[0].type, "ssh-ed25519");
    EXPECT_STREQ(bob->keys[0].fingerprint, kBobFp);
    EXPECT_STREQ(bob->keys[0].comment, "bob@test");
    EXPECT_STREQ(bob->keys[1].type, "ecdsa-sha2-nistp256");
    EXPECT_STREQ(bob->keys[1].fingerprint, kBobEcdsaFp);

    const PorchPeer *carol = porch_config_lookup_peer(r.config, "carol");
    ASSERT_EQ(carol->n_keys, 2u);
    EXPECT_STREQ(carol->keys[0].fingerprint, kCarolRsaFp);
    EXPECT_STREQ(carol->keys[1].fingerprint, kCarolFp);

    EXPECT_EQ(porch_config_lookup_peer_by_fingerprint(r.config, kBobEcdsaFp), bob);
    EXPECT_EQ(porch_config_lookup_peer_by_fingerprint(r.config, kCarolFp), carol);
    EXPECT_EQ(porch_config_lookup_peer_by_fingerprint(r.config, "SHA256:nope"), nullptr);
}

TEST(Config, KeyWithoutCommentLoads)
{
    std::string bob = Key("bob");
    bob = bob.substr(0, bob.rfind(' '));
    Result r;
    Load("[peer bob]\nkey = " + bob + "\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_STREQ(porch_config_lookup_peer(r.config, "bob")->keys[0].comment, "");
    EXPECT_STREQ(porch_config_lookup_peer(r.config, "bob")->keys[0].fingerprint, kBobFp);
}

TEST(Config, BooleansAcceptTheWordsSambaUsersWrite)
{
    const char *yes[] = {"true", "yes", "Yes", "on", "1"};
    const char *no[] = {"false", "no", "NO", "off", "0"};
    for (const char *v : yes) {
        Result r;
        Load(std::string("[share S]\npath = /\nhidden = ") + v + "\n", &r);
        ASSERT_NE(r.config, nullptr) << v << ": " << r.error->message;
        EXPECT_TRUE(porch_config_lookup_share(r.config, "S")->hidden) << v;
    }
    for (const char *v : no) {
        Result r;
        Load(std::string("[share S]\npath = /\nhidden = ") + v + "\n", &r);
        ASSERT_NE(r.config, nullptr) << v << ": " << r.error->message;
        EXPECT_FALSE(porch_config_lookup_share(r.config, "S")->hidden) << v;
    }
}

TEST(Config, ShareNamesMayHoldSpacesAndUtf8)
{
    Result r;
    Load("[share  Fotos de férias ]\npath = /tmp/\ncomment = Été 2026\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    const PorchShare *s = porch_config_lookup_share(r.config, "Fotos de férias");
    ASSERT_NE(s, nullptr);
    EXPECT_STREQ(s->path, "/tmp") << "the path is kept canonical";
    EXPECT_STREQ(s->comment, "Été 2026");
}

// Notepad and other editors may start a UTF-8 file with a byte order mark: it is skipped,
// and lines are counted as the user sees them.
TEST(Config, AByteOrderMarkAtTheStartIsSkipped)
{
    Result r;
    Load("\xEF\xBB\xBF[porch]\nport = 4423\n[share S]\npath = /tmp\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_EQ(porch_config_get_port(r.config), 4423);
    EXPECT_NE(porch_config_lookup_share(r.config, "S"), nullptr);

    Result crlf;
    Load("\xEF\xBB\xBF# Alice\r\n[porch]\r\nport = 4423\r\n", &crlf);
    ASSERT_NE(crlf.config, nullptr) << crlf.error->message;
    EXPECT_EQ(porch_config_get_port(crlf.config), 4423);

    Result bad;
    Load("\xEF\xBB\xBF[porch]\nport = 4423\nport = 4424\n", &bad);
    ASSERT_NE(bad.error, nullptr);
    EXPECT_TRUE(g_str_has_prefix(bad.error->message, "test.conf:3: [porch] port: "))
            << bad.error->message;
}

// porchd and the CLI run in the user's locale; porch.conf's numbers do not follow it. The
// locale is made with localedef into a temporary LOCPATH when the system has not installed it.
class ConfigInALocale : public ::testing::Test
{
  protected:
    void TearDown() override
    {
        setlocale(LC_ALL, "C");
        if (dir_ != nullptr) {
            g_unsetenv("LOCPATH");
            const char *argv[] = {"rm", "-rf", dir_, nullptr};
            g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                         nullptr, nullptr, nullptr, nullptr);
            g_free(dir_);
        }
    }
    // Switches LC_ALL to @name (LANGUAGE_TERRITORY.UTF-8); "" or why not.
    std::string Use(const std::string &name)
    {
        if (setlocale(LC_ALL, name.c_str()) != nullptr)
            return "";
        dir_ = g_dir_make_tmp("porch-locale-XXXXXX", nullptr);
        if (dir_ == nullptr)
            return "no temporary folder";
        std::string source = name.substr(0, name.find('.'));
        std::string out = std::string(dir_) + "/" + name;
        const char *argv[] = {"localedef", "-i",        source.c_str(), "-f",
                              "UTF-8",     out.c_str(), nullptr};
        int status = 0;
        if (!g_spawn_sync(nullptr, (char **)argv, nullptr,
                          (GSpawnFlags)(G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                        G_SPAWN_STDERR_TO_DEV_NULL),
                          nullptr, nullptr, nullptr, nullptr, &status, nullptr) ||
            !g_spawn_check_wait_status(status, nullptr))
            return name + " is not installed and localedef could not make it (package locales)";
        g_setenv("LOCPATH", dir_, TRUE);
        if (setlocale(LC_ALL, name.c_str()) == nullptr)
            return name + " made by localedef does not load";
        return "";
    }
    char *dir_ = nullptr;
};

TEST_F(ConfigInALocale, NumbersReadTheSameWithADecimalComma)
{
    const char *text = "[porch]\nport = 4423\nmax-sessions = 10\nidle-timeout = 2m\n"
                       "max-print-size = 20M\nmax-packet-size = 64KiB\n";
    Result c;
    Load(text, &c);
    ASSERT_NE(c.config, nullptr) << c.error->message;

    std::string why = Use("de_DE.UTF-8");
    if (!why.empty())
        GTEST_SKIP() << why;
    ASSERT_STREQ(localeconv()->decimal_point, ",") << "the locale is in effect";
    Result de;
    Load(text, &de);
    ASSERT_NE(de.config, nullptr) << de.error->message;
    EXPECT_EQ(porch_config_get_port(de.config), 4423);
    for (int i = 0; i < PORCH_N_LIMITS; i++)
        EXPECT_EQ(porch_config_get_limit(de.config, (PorchLimit)i),
                  porch_config_get_limit(c.config, (PorchLimit)i))
                << porch_config_limit_key((PorchLimit)i);
    EXPECT_EQ(porch_config_get_limit(de.config, PORCH_LIMIT_MAX_PRINT_SIZE), 20u << 20);

    // A decimal number is refused alike, with either mark.
    for (const char *v : {"1.5G", "1,5G"}) {
        Result r;
        Load(std::string("[porch]\nmax-print-size = ") + v + "\n", &r);
        EXPECT_EQ(r.config, nullptr) << v;
    }
    // Syntax errors keep their file and line (GLib's own words may be translated).
    Result bad;
    Load("[porch]\n\n[]\n", &bad);
    ASSERT_NE(bad.error, nullptr);
    EXPECT_TRUE(g_str_has_prefix(bad.error->message, "test.conf:3: ")) << bad.error->message;
}

TEST(Config, ListsToleratesSpacesAndTrailingSeparator)
{
    Result r;
    Load(Peers() + "[share S]\npath = /\nread = bob ; carol ;\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    const PorchShare *s = porch_config_lookup_share(r.config, "S");
    ASSERT_EQ(g_strv_length(s->read.principals), 2u);
    EXPECT_STREQ(s->read.principals[1], "carol");
    EXPECT_TRUE(g_hash_table_contains(s->read.peers, "carol"));
}

TEST(Config, NestedGroupsExpandToTheirPeers)
{
    Result r;
    Load(Peers() + "[group all]\nmembers = @a;@b\n[group a]\nmembers = bob\n"
                   "[group b]\nmembers = carol;@a\n[share S]\npath = /\nread = @all\n",
         &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    GHashTable *peers = porch_config_lookup_share(r.config, "S")->read.peers;
    EXPECT_EQ(g_hash_table_size(peers), 2u);
    EXPECT_TRUE(g_hash_table_contains(peers, "bob"));
    EXPECT_TRUE(g_hash_table_contains(peers, "carol"));
}

TEST(Config, EmptyGroupIsAllowedAndGrantsNothing)
{
    Result r;
    Load("[group nobody]\nmembers =\n[share S]\npath = /\nread = @nobody\n", &r);
    ASSERT_NE(r.config, nullptr) << r.error->message;
    EXPECT_EQ(g_hash_table_size(porch_config_lookup_share(r.config, "S")->read.peers), 0u);
}

// ---- configurations that are refused ------------------------------------------------

struct Bad {
    const char *test_name;
    std::string text;
    PorchConfigError code;
    std::vector<std::string> says; // the message must contain each of these
};

class ConfigRefused : public ::testing::TestWithParam<Bad>
{
};

TEST_P(ConfigRefused, WithItsCodeAndAMessageNamingFileSectionKey)
{
    const Bad &b = GetParam();
    Result r;
    Load(b.text, &r);
    ASSERT_EQ(r.config, nullptr) << "accepted:\n" << b.text;
    ASSERT_NE(r.error, nullptr);
    EXPECT_EQ(r.error->domain, PORCH_CONFIG_ERROR);
    EXPECT_EQ(r.error->code, b.code) << r.error->message;
    EXPECT_TRUE(g_str_has_prefix(r.error->message, "test.conf")) << r.error->message;
    for (const std::string &s : b.says)
        EXPECT_NE(std::string(r.error->message).find(s), std::string::npos)
                << "'" << s << "' missing from: " << r.error->message;
}

std::vector<Bad>
BadConfigs()
{
    const std::string peers = Peers();
    const std::string bob = Key("bob");
    const std::string bob_blob = bob.substr(bob.find(' ') + 1, bob.rfind(' ') - bob.find(' ') - 1);
    return {
            {"EmptyFile", "", PORCH_CONFIG_ERROR_EMPTY, {"no sections"}},
            {"OnlyComments",
             "# nothing here\n\n   # still nothing\n",
             PORCH_CONFIG_ERROR_EMPTY,
             {"no sections"}},
            // Syntax: each named by its line, in words (not GLib's).
            {"StrayLine",
             "[porch]\nport 4422\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:2: 'port 4422' is neither KEY = VALUE, a [section] nor a # comment"}},
            {"KeyBeforeAnySection",
             "port = 4422\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:1: 'port = …' comes before the first [section]"}},
            {"KeyBeforeAnySectionAfterComments",
             "# my porch\n\n  port=4422\n[porch]\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:3: 'port = …' comes before the first [section]"}},
            {"StrayLineBeforeAnySection",
             "hello\n[porch]\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:1: 'hello' is neither"}},
            {"SemicolonComment",
             "[porch]\nport = 4422\n; the shares\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:3: '; the shares': a comment starts with '#', not ';'"}},
            // GKeyFile would take this one as the key ";port"
            {"SemicolonCommentedKey",
             "[porch]\n;port = 4422\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:2: ';port = 4422': a comment starts with '#'"}},
            {"SemicolonCommentInACrlfFile",
             "[porch]\r\n\r\n  ; x\r\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:3: '; x': a comment"}},
            {"UnclosedSection",
             "[porch]\nport = 4422\n\n[share Photos\npath = /\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:4: '[share Photos' has no closing ']'"}},
            {"UnclosedSectionAtTheEnd",
             "[porch",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:1: '[porch'"}},
            {"TextAfterASection",
             "[porch] # this machine\nport = 4422\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:1: '[porch] # this machine': nothing may follow the ']' of a section"}},
            // What GKeyFile alone refuses: its message, after the line.
            {"SectionNameWithABracket",
             "[porch]\n\n[share a[b]\npath = /\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:3: ", "a[b"}},
            {"EmptySectionName", "# x\n[]\n", PORCH_CONFIG_ERROR_SYNTAX, {"test.conf:2: "}},
            {"NoKeyBeforeTheEquals",
             "[porch]\nport = 4422\n = 1\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:3: ", "= 1"}},
            // A byte order mark elsewhere than at the start is not skipped.
            {"ByteOrderMarkInsideTheFile",
             "[porch]\n\xEF\xBB\xBF[share S]\npath = /\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:2: "}},
            {"UnknownSection",
             "[porch]\n[sharez Photos]\npath = /\n",
             PORCH_CONFIG_ERROR_UNKNOWN_SECTION,
             {"test.conf:2:", "[sharez Photos]"}},
            {"ShareWithoutName",
             "[share]\npath = /\n",
             PORCH_CONFIG_ERROR_UNKNOWN_SECTION,
             {"[share]", "needs a name"}},
            {"PorchWithName",
             "[porch main]\n",
             PORCH_CONFIG_ERROR_UNKNOWN_SECTION,
             {"[porch main]"}},
            {"UnknownShareKey",
             "[share Photos]\npath = /\ncolour = red\n",
             PORCH_CONFIG_ERROR_UNKNOWN_KEY,
             {"test.conf:3:", "[share Photos] colour:"}},
            {"UnknownPorchKey",
             "[porch]\nport = 4422\nworkgroup = HOME\n",
             PORCH_CONFIG_ERROR_UNKNOWN_KEY,
             {"[porch] workgroup:", "max-sessions"}},
            {"PrinterKeyInShare",
             "[share S]\npath = /\nprint = guest\n",
             PORCH_CONFIG_ERROR_UNKNOWN_KEY,
             {"[share S] print:"}},
            {"ShareWithoutPath",
             "[share Photos]\nread = guest\n",
             PORCH_CONFIG_ERROR_MISSING_KEY,
             {"[share Photos]", "path"}},
            {"SharePathIsAFile",
             "[share Photos]\npath = /bin/sh\n",
             PORCH_CONFIG_ERROR_NOT_A_DIRECTORY,
             {"[share Photos] path:", "/bin/sh"}},
            {"SharePathRelative",
             "[share Photos]\npath = srv/photos\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share Photos] path:", "absolute"}},
            {"UndefinedPeerInRead",
             peers + "[share S]\npath = /\nread = bob;mallory\n",
             PORCH_CONFIG_ERROR_UNDEFINED_PEER,
             {"[share S] read:", "mallory"}},
            {"UndefinedGroupInWrite",
             peers + "[share S]\npath = /\nwrite = @family\n",
             PORCH_CONFIG_ERROR_UNDEFINED_GROUP,
             {"[share S] write:", "family"}},
            {"UndefinedPeerInPrint",
             "[printer P]\nprint = bob\n",
             PORCH_CONFIG_ERROR_UNDEFINED_PEER,
             {"[printer P] print:", "bob"}},
            {"UndefinedPeerInGroup",
             peers + "[group family]\nmembers = bob;zed\n",
             PORCH_CONFIG_ERROR_UNDEFINED_PEER,
             {"[group family] members:", "zed"}},
            {"UndefinedGroupInGroup",
             "[group family]\nmembers = @kids\n",
             PORCH_CONFIG_ERROR_UNDEFINED_GROUP,
             {"[group family] members:", "kids"}},
            {"GroupContainsItself",
             peers + "[group g]\nmembers = bob;@g\n",
             PORCH_CONFIG_ERROR_GROUP_CYCLE,
             {"[group g] members:", "@g -> @g"}},
            {"GroupCycleOfThree",
             peers + "[group a]\nmembers = @b\n[group b]\nmembers = @c\n[group c]\nmembers = "
                     "bob;@a\n",
             PORCH_CONFIG_ERROR_GROUP_CYCLE,
             {"members:", "@a -> @b -> @c -> @a"}},
            {"GuestInGroup",
             peers + "[group g]\nmembers = bob;guest\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[group g] members:", "guest"}},
            {"MalformedKeyBlob",
             "[peer bob]\nkey = ssh-ed25519 AAAA!!notbase64 bob\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:", "malformed"}},
            {"TruncatedKeyBlob",
             "[peer bob]\nkey = ssh-ed25519 " + bob_blob.substr(0, 40) + "\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:"}},
            {"KeyWithoutBlob",
             "[peer bob]\nkey = ssh-ed25519\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:", "TYPE BASE64"}},
            {"KeyTypeDisagreesWithBlob",
             "[peer bob]\nkey = ecdsa-sha2-nistp256 " + bob_blob + "\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:", "ssh-ed25519"}},
            {"UnknownKeyType",
             "[peer bob]\nkey = ssh-foo " + bob_blob + "\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:", "ssh-foo"}},
            {"DsaKeyRefused",
             "[peer old]\nkey = " + Key("dsa") + "\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer old] key:", "ssh-dss"}},
            {"PeerWithoutEd25519",
             "[peer bob]\nkey = " + Key("bob-ecdsa") + "\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:", "ssh-ed25519"}},
            {"PeerWithoutKey",
             "[peer bob]\n",
             PORCH_CONFIG_ERROR_MISSING_KEY,
             {"[peer bob]", "key"}},
            {"PeerWithEmptyKey",
             "[peer bob]\nkey =\n",
             PORCH_CONFIG_ERROR_BAD_KEY,
             {"[peer bob] key:"}},
            {"PeerNamedGuest",
             "[peer guest]\nkey = " + bob + "\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[peer guest]"}},
            {"PeerNameWithSpace",
             "[peer bob smith]\nkey = " + bob + "\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[peer bob smith]"}},
            {"SameKeyForTwoPeers",
             "[peer bob]\nkey = " + bob + "\n[peer bobby]\nkey = " + bob + "\n",
             PORCH_CONFIG_ERROR_DUPLICATE,
             {"[peer bobby] key:", kBobFp, "'bob'"}},
            {"SectionTwice",
             "[share Photos]\npath = /\n\n[share Photos]\npath = /tmp\n",
             PORCH_CONFIG_ERROR_DUPLICATE,
             {"test.conf:4:", "[share Photos]", "lines 1 and 4"}},
            {"KeyTwice",
             peers + "[share Photos]\npath = /\nread = bob\nread = carol\n",
             PORCH_CONFIG_ERROR_DUPLICATE,
             {"[share Photos] read:", "set twice"}},
            {"ShareNamesDifferOnlyInCase",
             "[share Photos]\npath = /\n[share photos]\npath = /\n",
             PORCH_CONFIG_ERROR_DUPLICATE,
             {"[share photos]", "[share Photos]"}},
            {"PrinterNamesDifferOnlyInCase",
             "[printer Office]\n[printer OFFICE]\n",
             PORCH_CONFIG_ERROR_DUPLICATE,
             {"[printer OFFICE]"}},
            {"PortZero",
             "[porch]\nport = 0\n",
             PORCH_CONFIG_ERROR_BAD_PORT,
             {"[porch] port:", "'0'"}},
            {"PortTooLarge",
             "[porch]\nport = 65536\n",
             PORCH_CONFIG_ERROR_BAD_PORT,
             {"[porch] port:", "65536"}},
            {"PortNotANumber",
             "[porch]\nport = ssh\n",
             PORCH_CONFIG_ERROR_BAD_PORT,
             {"[porch] port:"}},
            {"PortNegative",
             "[porch]\nport = -22\n",
             PORCH_CONFIG_ERROR_BAD_PORT,
             {"[porch] port:"}},
            {"PortWithInlineComment",
             "[porch]\nport = 4422   # TCP port\n",
             PORCH_CONFIG_ERROR_BAD_PORT,
             {"[porch] port:"}},
            {"MaxSessionsZero",
             "[porch]\nmax-sessions = 0\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-sessions:"}},
            {"ValueEndsInABackslash",
             "[porch]\nname = \\7\\\n",
             PORCH_CONFIG_ERROR_SYNTAX,
             {"test.conf:2: [porch] name:", "lone backslash"}},
            {"OwnerRoot",
             "[share S]\npath = /\nowner = root\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share S] owner:", "never served as root"}},
            {"OwnerNotAUserName",
             "[share S]\npath = /\nowner = Alice Smith\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share S] owner:", "'Alice Smith' is not a user name"}},
            {"IdleTimeoutNotATime",
             "[porch]\nidle-timeout = soon\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"test.conf:2: [porch] idle-timeout:", "'soon' is not a time", "5m"}},
            {"IdleTimeoutUnknownUnit",
             "[porch]\nidle-timeout = 5w\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] idle-timeout:", "5w"}},
            {"LoginGraceTooLong",
             "[porch]\nlogin-grace-time = 1h\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] login-grace-time:", "from 1s to 10m"}},
            {"PacketSizeTooSmall",
             "[porch]\nmax-packet-size = 1K\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-packet-size:", "is not a size from 64K to 4M"}},
            {"PrintSizeOverflows",
             "[porch]\nmax-print-size = 99999999999999999999G\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-print-size:"}},
            {"PrintSizeNegative",
             "[porch]\nmax-print-size = -1\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-print-size:"}},
            {"HandlesTooMany",
             "[porch]\nmax-handles = 100000\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-handles:", "from 4 to 400"}},
            {"MoreGuestsThanSessions",
             "[porch]\nmax-sessions = 4\nmax-guest-sessions = 5\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-guest-sessions:", "more than max-sessions (4)"}},
            {"PendingPerAddressZero",
             "[porch]\nmax-pending-per-address = 0\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] max-pending-per-address:"}},
            {"ListenNotAnAddress",
             "[porch]\nlisten = 0.0.0.0;eth0\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] listen:", "eth0"}},
            {"ListenEmpty",
             "[porch]\nlisten =\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] listen:"}},
            {"HiddenNotABoolean",
             "[share S]\npath = /\nhidden = maybe\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share S] hidden:", "maybe"}},
            {"InlineCommentInRule",
             "[share S]\npath = /\nread = guest   # anyone\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share S] read:", "own"}},
            {"CommaSeparatedPrincipals",
             peers + "[share S]\npath = /\nread = bob, carol\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share S] read:", "';'"}},
            {"ShareNameWithSlash",
             "[share a/b]\npath = /\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share a/b]", "'/'"}},
            {"ShareNameDotDot",
             "[share ..]\npath = /\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[share ..]"}},
            {"ShareNameTooLong",
             "[share " + std::string(64, 'x') + "]\npath = /\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"63 bytes"}},
            {"DisplayNameTooLong",
             "[porch]\nname = " + std::string(70, 'n') + "\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[porch] name:", "63 bytes"}},
            {"QueueNameWithSpace",
             "[printer Office]\nqueue = HP LaserJet\n",
             PORCH_CONFIG_ERROR_INVALID_VALUE,
             {"[printer Office] queue:"}},
    };
}

INSTANTIATE_TEST_SUITE_P(Config, ConfigRefused, ::testing::ValuesIn(BadConfigs()),
                         [](const ::testing::TestParamInfo<Bad> &i) { return i.param.test_name; });

TEST(Config, UnreadableFileIsAnIoError)
{
    g_autoptr(GError) error = nullptr;
    PorchConfig *c = porch_config_load_file("/nonexistent/porch.conf", &error);
    EXPECT_EQ(c, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->domain, PORCH_CONFIG_ERROR);
    EXPECT_EQ(error->code, PORCH_CONFIG_ERROR_IO);
    EXPECT_NE(std::string(error->message).find("/nonexistent/porch.conf"), std::string::npos);
}

TEST(Config, ErrorsAreReportedInFileOrderOneAtATime)
{
    // Two mistakes: the first one in the file is the one reported.
    Result r;
    Load("[share A]\npath = relative/a\n[share B]\npath = relative/b\n", &r);
    ASSERT_NE(r.error, nullptr);
    EXPECT_NE(std::string(r.error->message).find("[share A]"), std::string::npos);
    EXPECT_EQ(std::string(r.error->message).find("[share B]"), std::string::npos);
}

// ---- snapshots and reload -------------------------------------------------------------

class ConfigReload : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        dir_ = g_dir_make_tmp("porch-test-XXXXXX", nullptr);
        ASSERT_NE(dir_, nullptr);
        file_ = std::string(dir_) + "/porch.conf";
    }
    void TearDown() override
    {
        g_unlink(file_.c_str());
        g_rmdir(dir_);
        g_free(dir_);
    }
    void Write(const std::string &text)
    {
        ASSERT_TRUE(g_file_set_contents(file_.c_str(), text.c_str(), -1, nullptr));
    }
    char *dir_ = nullptr;
    std::string file_;
};

TEST_F(ConfigReload, HolderKeepsItsSnapshotAcrossReload)
{
    Write("[porch]\nport = 4000\n[share Photos]\npath = /tmp\nread = guest\n");
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchManager) m =
            porch_manager_new(file_.c_str(), nullptr, nullptr, 0, nullptr, &error);
    ASSERT_NE(m, nullptr) << error->message;
    g_autoptr(PorchConfig) before = porch_manager_get_config(m);

    Write("[porch]\nport = 5000\n[share Music]\npath = /usr\n");
    ASSERT_TRUE(porch_manager_reload(m, &error)) << error->message;
    g_autoptr(PorchConfig) after = porch_manager_get_config(m);

    EXPECT_NE(before, after);
    EXPECT_EQ(porch_config_get_port(before), 4000);
    ASSERT_NE(porch_config_lookup_share(before, "Photos"), nullptr);
    EXPECT_EQ(porch_config_lookup_share(before, "Music"), nullptr);
    EXPECT_EQ(porch_config_get_port(after), 5000);
    EXPECT_EQ(porch_config_lookup_share(after, "Photos"), nullptr);
    ASSERT_NE(porch_config_lookup_share(after, "Music"), nullptr);
}

TEST_F(ConfigReload, BadFileKeepsThePreviousConfiguration)
{
    Write("[porch]\nport = 4000\n");
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchManager) m =
            porch_manager_new(file_.c_str(), nullptr, nullptr, 0, nullptr, &error);
    ASSERT_NE(m, nullptr);
    g_autoptr(PorchConfig) before = porch_manager_get_config(m);

    Write("[porch]\nport = 99999\n");
    EXPECT_FALSE(porch_manager_reload(m, &error));
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->code, PORCH_CONFIG_ERROR_BAD_PORT);
    EXPECT_NE(std::string(error->message).find(file_), std::string::npos);

    g_autoptr(PorchConfig) current = porch_manager_get_config(m);
    EXPECT_EQ(current, before) << "the old snapshot stays current";
    EXPECT_EQ(porch_config_get_port(current), 4000);
}

TEST_F(ConfigReload, SnapshotOutlivesTheManager)
{
    Write("[share Photos]\npath = /tmp\nread = guest\n");
    g_autoptr(GError) error = nullptr;
    PorchManager *m = porch_manager_new(file_.c_str(), nullptr, nullptr, 0, nullptr, &error);
    ASSERT_NE(m, nullptr);
    g_autoptr(PorchConfig) held = porch_manager_get_config(m);
    porch_manager_free(m);
    EXPECT_STREQ(porch_config_lookup_share(held, "Photos")->path, "/tmp");
}

TEST_F(ConfigReload, ManagerRefusesABadFileAtStart)
{
    Write("[share Photos]\n");
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchManager) m =
            porch_manager_new(file_.c_str(), nullptr, nullptr, 0, nullptr, &error);
    EXPECT_EQ(m, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->code, PORCH_CONFIG_ERROR_MISSING_KEY);
}

// The one rule for a [peer] name (porch.conf, `porch peers`, porchd) and the names made of a
// login or SSH user name.
TEST(PeerName, OneRule)
{
    for (const char *ok : {"bob", "b", "Bob.Smith_2-x", "9lives"})
        EXPECT_TRUE(porch_config_peer_name_valid(ok)) << ok;
    const std::string longest(PORCH_PEER_NAME_MAX, 'a');
    EXPECT_TRUE(porch_config_peer_name_valid(longest.c_str()));
    for (const char *bad : {"", "guest", "-bob", ".bob", "_bob", "bob smith", "bob@host", "böb"})
        EXPECT_FALSE(porch_config_peer_name_valid(bad)) << bad;
    EXPECT_FALSE(porch_config_peer_name_valid((longest + "a").c_str()));
    EXPECT_FALSE(porch_config_peer_name_valid(nullptr));
}

std::string
NameFrom(const char *text, PorchPeerNameStyle style)
{
    g_autofree char *s = porch_config_peer_name_from(text, style);
    return s;
}

TEST(PeerName, OwnNameIsAlwaysValid)
{
    EXPECT_EQ(NameFrom("bob", PORCH_PEER_NAME_OWN), "bob");
    EXPECT_EQ(NameFrom("Bob Smith", PORCH_PEER_NAME_OWN), "Bob-Smith");
    EXPECT_EQ(NameFrom("__bob  @ home", PORCH_PEER_NAME_OWN), "bob-home");
    EXPECT_EQ(NameFrom("bob_2.x", PORCH_PEER_NAME_OWN), "bob_2.x");
    EXPECT_EQ(NameFrom("", PORCH_PEER_NAME_OWN), "user");
    EXPECT_EQ(NameFrom(nullptr, PORCH_PEER_NAME_OWN), "user");
    EXPECT_EQ(NameFrom("@@", PORCH_PEER_NAME_OWN), "user");
    EXPECT_EQ(NameFrom("guest", PORCH_PEER_NAME_OWN), "guest-user");
    EXPECT_EQ(NameFrom(std::string(100, 'x').c_str(), PORCH_PEER_NAME_OWN),
              std::string(PORCH_PEER_NAME_MAX, 'x'));
    for (const char *text : {"bob", "Bob Smith", "", "guest", "\x1b[2J", "ünï", "-x-"})
        EXPECT_TRUE(porch_config_peer_name_valid(NameFrom(text, PORCH_PEER_NAME_OWN).c_str()))
                << text;
}

TEST(PeerName, StrangersNameShowsTheirTextCharacterForCharacter)
{
    EXPECT_EQ(NameFrom("bob", PORCH_PEER_NAME_STRANGER), "bob");
    EXPECT_EQ(NameFrom("bob smith\n", PORCH_PEER_NAME_STRANGER), "bob_smith_");
    EXPECT_EQ(NameFrom("\x1b[2J", PORCH_PEER_NAME_STRANGER), "peer__2J");
    EXPECT_EQ(NameFrom("", PORCH_PEER_NAME_STRANGER), "peer");
    EXPECT_EQ(NameFrom(nullptr, PORCH_PEER_NAME_STRANGER), "peer");
    EXPECT_EQ(NameFrom(".x", PORCH_PEER_NAME_STRANGER), "peer.x");
    EXPECT_EQ(NameFrom(std::string(40, 'x').c_str(), PORCH_PEER_NAME_STRANGER),
              std::string(32, 'x'));
    // as it always was: "guest" stays, and `porch peers` says it is not a valid name
    EXPECT_EQ(NameFrom("guest", PORCH_PEER_NAME_STRANGER), "guest");
}

// User shares load with porch.conf; each one porch.conf does not allow is left out with a
// reason, never failing the load.
TEST(UserShares, EachOneTheFileForbidsIsLeftOutWithAReason)
{
    const char *conf = "[porch]\nmax-user-shares = 3\n[peer bob]\nkey = ssh-ed25519 "
                       "AAAAC3NzaC1lZDI1NTE5AAAAIGm2Hq6LzF0n9e0J7iGqgkTtr/l5N0BCM6VdCgTcwpXi\n"
                       "[share Pub]\npath = /tmp\nread = guest\n";
    const char *bob[] = {"bob", nullptr}, *mallory[] = {"mallory", nullptr};
    g_autofree char *ok =
            porch_config_user_share_text("Pics", "/tmp", "nobody", bob, nullptr, "", FALSE);
    g_autofree char *clash =
            porch_config_user_share_text("pub", "/tmp", "nobody", nullptr, nullptr, "", FALSE);
    g_autofree char *unknown =
            porch_config_user_share_text("Other", "/tmp", "nobody", mallory, nullptr, "", TRUE);
    std::string users = std::string(ok) + clash + unknown +
                        "[share NoOwner]\npath = /tmp\n[share Rooted]\npath = /tmp\nowner = "
                        "root\n[peer eve]\nkey = x\n";
    g_autofree char *accepted = nullptr;
    g_auto(GStrv) problems = nullptr;
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) c = porch_config_load_merged(
            conf, -1, "porch.conf", users.c_str(), "usershares.conf", &accepted, &problems, &error);
    ASSERT_NE(c, nullptr) << error->message;
    ASSERT_EQ(porch_config_get_n_shares(c), 2u);
    const PorchShare *pics = porch_config_lookup_share(c, "Pics");
    ASSERT_NE(pics, nullptr);
    EXPECT_TRUE(pics->user);
    EXPECT_STREQ(pics->owner, "nobody");
    EXPECT_FALSE(porch_config_lookup_share(c, "Pub")->user);
    std::string all;
    for (guint i = 0; problems[i]; i++)
        all += std::string(problems[i]) + "\n";
    EXPECT_EQ(g_strv_length(problems), 5u) << all;
    EXPECT_NE(all.find("usershares.conf: [share pub]"), std::string::npos) << all;
    EXPECT_NE(all.find("mallory"), std::string::npos) << all;
    EXPECT_NE(all.find("[share NoOwner]: a user share needs its owner"), std::string::npos) << all;
    EXPECT_NE(all.find("never served as root"), std::string::npos) << all;
    EXPECT_NE(all.find("[peer eve]: a peer a user accepted needs its owner"), std::string::npos)
            << all;
    // porch.conf's text followed by what was taken loads as it is (the sessions' snapshot)
    std::string snapshot = std::string(conf) + accepted;
    g_autoptr(PorchConfig) again = porch_config_load_data(snapshot.c_str(), -1, "x", &error);
    ASSERT_NE(again, nullptr) << error->message;
    EXPECT_EQ(porch_config_get_n_shares(again), 2u);
}

// A peer an ordinary user accepted may be named in that user's shares only, and '*' in
// porch.conf does not grow by it.
TEST(UserShares, APeerAUserAcceptedIsForThatUsersSharesOnly)
{
    const char *conf = "[porch]\n[share All]\npath = /tmp\nread = *\n";
    std::string users = "[peer carol]\nkey = ssh-ed25519 "
                        "AAAAC3NzaC1lZDI1NTE5AAAAIHcRPfO+KdNDkZFZZAR6Irqkr8Q3sDxlCEkF59utRXda "
                        "carol\nowner = nobody\n"
                        "[share Mine]\npath = /tmp\nowner = nobody\nread = carol\n"
                        "[share Theirs]\npath = /tmp\nowner = daemon\nread = carol\n";
    g_auto(GStrv) problems = nullptr;
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) c = porch_config_load_merged(conf, -1, "porch.conf", users.c_str(), "u",
                                                        nullptr, &problems, &error);
    ASSERT_NE(c, nullptr) << error->message;
    const PorchPeer *carol = porch_config_lookup_peer(c, "carol");
    ASSERT_NE(carol, nullptr);
    EXPECT_STREQ(carol->owner, "nobody");
    ASSERT_NE(porch_config_lookup_share(c, "Mine"), nullptr);
    EXPECT_TRUE(g_hash_table_contains(porch_config_lookup_share(c, "Mine")->read.peers, "carol"));
    EXPECT_EQ(porch_config_lookup_share(c, "Theirs"), nullptr);
    ASSERT_EQ(g_strv_length(problems), 1u);
    EXPECT_NE(std::string(problems[0]).find("accepted by nobody, for nobody's shares only"),
              std::string::npos)
            << problems[0];
    EXPECT_FALSE(g_hash_table_contains(porch_config_lookup_share(c, "All")->read.peers, "carol"))
            << "'*' is the administrator's peers";
}

TEST(UserShares, TheAdminTurnsThemOffOrLimitsTheirNumber)
{
    g_autofree char *a =
            porch_config_user_share_text("A", "/tmp", "nobody", nullptr, nullptr, "", FALSE);
    g_autofree char *b =
            porch_config_user_share_text("B", "/tmp", "nobody", nullptr, nullptr, "", FALSE);
    std::string users = std::string(a) + b;
    g_auto(GStrv) problems = nullptr;
    g_autoptr(PorchConfig) off =
            porch_config_load_merged("[porch]\nuser-shares = no\n", -1, "c", users.c_str(), "u",
                                     nullptr, &problems, nullptr);
    ASSERT_NE(off, nullptr);
    EXPECT_EQ(porch_config_get_n_shares(off), 0u);
    EXPECT_FALSE(porch_config_get_user_shares(off));
    ASSERT_EQ(g_strv_length(problems), 1u);
    EXPECT_NE(std::string(problems[0]).find("user-shares = no"), std::string::npos);
    g_clear_pointer(&problems, g_strfreev);
    g_autoptr(PorchConfig) one =
            porch_config_load_merged("[porch]\nmax-user-shares = 1\n", -1, "c", users.c_str(), "u",
                                     nullptr, &problems, nullptr);
    ASSERT_NE(one, nullptr);
    EXPECT_EQ(porch_config_get_n_shares(one), 1u);
    ASSERT_EQ(g_strv_length(problems), 1u);
    EXPECT_NE(std::string(problems[0]).find("more than max-user-shares (1)"), std::string::npos)
            << problems[0];
    // a broken porch.conf still fails the load
    g_autoptr(GError) error = nullptr;
    EXPECT_EQ(porch_config_load_merged("[porch]\nbogus = 1\n", -1, "c", users.c_str(), "u", nullptr,
                                       nullptr, &error),
              nullptr);
}

} // namespace
