// test-neighbours.cc — neighbours remembered by address when multicast fails, on the test LAN:
// real porchds and avahi-daemons, the real porch command.
//
//   MulticastBlocked   host 2 drops 5353/udp (nft): porch browse there does not see host 1,
//                      porch doctor names the rule; porch neighbours add ADDRESS makes host 1
//                      visible in porch browse --json under its display name, marked remembered,
//                      with its shares; a stale entry in the file is refreshed by porch browse
//                      (and --watch reports the change) from the neighbour's answer over
//                      unicast; porch doctor NAME says it is not seen over mDNS as
//                      information, not a problem; porch get "DISPLAY NAME"/Share/file fetches a
//                      file; the neighbour is in the file, so a new porch process finds it (list
//                      --json); remove forgets it, and the name no longer resolves
//   NothingListens     add of an address:port where nothing listens fails with a clear message
//                      and remembers nothing
//   StatusParser       the client's parser of porchd's "status" reply keeps to its bounds (its
//                      clock too)
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <json-glib/json-glib.h>

#include "porch-print-client.h"
#include "testlan.h"
#include "test-util.h"

namespace
{

using porch::test::Contains;
using porch::test::MakeDirs;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::TestLan;
using porch::test::WriteFile;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;

RunResult
Porch(TestLan *lan, const std::string &xdg, const std::vector<std::string> &args)
{
    std::vector<std::string> argv = {"env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                                     "XDG_CONFIG_HOME=" + xdg, kPorch};
    argv.insert(argv.end(), args.begin(), args.end());
    return lan->run(2, argv, 60);
}

// The objects of the JSON array `text` whose "name" is `name`.
std::vector<JsonObject *>
Named(JsonParser *parser, const std::string &text, const std::string &name)
{
    std::vector<JsonObject *> found;
    if (!json_parser_load_from_data(parser, text.c_str(), -1, nullptr))
        return found;
    JsonNode *root = json_parser_get_root(parser);
    if (root == nullptr || !JSON_NODE_HOLDS_ARRAY(root))
        return found;
    JsonArray *a = json_node_get_array(root);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (o != nullptr && json_object_has_member(o, "name") &&
            name == json_object_get_string_member(o, "name"))
            found.push_back(o);
    }
    return found;
}

TEST(Neighbours, MulticastBlocked)
{
    PORCH_REQUIRE_TOOLS("nft");
    PORCH_REQUIRE_LAN(lan, 2);
    const std::string h1 = lan->host_dir(1), h2 = lan->host_dir(2);
    const std::string xdg = h2 + "/xdg";
    ASSERT_TRUE(MakeDirs(h1 + "/public") && MakeDirs(xdg + "/porch", 0700) &&
                MakeDirs(h2 + "/down"));
    ASSERT_TRUE(WriteFile(h1 + "/public/hello.txt", "hello from one\n"));

    // host 2 drops mDNS before host 1 publishes anything
    for (const std::vector<std::string> &cmd :
         {std::vector<std::string>{"nft", "add", "table", "inet", "t"},
          std::vector<std::string>{"nft", "add", "chain", "inet", "t", "in",
                                   "{ type filter hook input priority 0; }"},
          std::vector<std::string>{"nft", "add", "rule", "inet", "t", "in", "udp", "dport", "5353",
                                   "drop"}}) {
        RunResult n = lan->run(2, cmd);
        ASSERT_TRUE(n.ok()) << n.describe();
    }
    std::string conf1 = "[porch]\nname = Neighbour one\nlisten = " + lan->address(1) +
                        "\n\n[share Public]\npath = " + h1 + "/public\nread = guest\n";
    ASSERT_TRUE(WriteFile(h1 + "/porch.conf", conf1));
    const std::string log1 = h1 + "/porchd.log";
    pid_t d1 = lan->spawn(
            1, {kPorchd, "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"}, log1);
    ASSERT_TRUE(porch::test::PorchdStarted(lan.get(), d1, log1)) << ReadFile(log1);
    std::string conf2 = "[porch]\nname = Neighbour two\nlisten = " + lan->address(2) + "\n";
    ASSERT_TRUE(WriteFile(h2 + "/porch.conf", conf2));
    const std::string log2 = h2 + "/porchd.log";
    pid_t d2 = lan->spawn(
            2, {kPorchd, "--config", h2 + "/porch.conf", "--state-dir", h2 + "/state"}, log2);
    ASSERT_TRUE(porch::test::PorchdStarted(lan.get(), d2, log2)) << ReadFile(log2);

    // mDNS cannot show host 1 to host 2
    RunResult r = Porch(lan.get(), xdg, {"browse", "--json", "--timeout", "3"});
    ASSERT_TRUE(r.ok()) << r.describe();
    g_autoptr(JsonParser) parser = json_parser_new();
    EXPECT_TRUE(Named(parser, r.out, "Neighbour one").empty()) << r.out;
    r = Porch(lan.get(), xdg,
              {"doctor", "--config", h2 + "/porch.conf", "--state-dir", h2 + "/state"});
    EXPECT_TRUE(Contains(r.out, "5353/udp") && Contains(r.out, "table inet t")) << r.out;

    // remembered by address: visible under its display name, with its share
    r = Porch(lan.get(), xdg, {"neighbours", "add", lan->address(1)});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Contains(r.err, "remembered 'Neighbour one'")) << r.err;
    r = Porch(lan.get(), xdg, {"browse", "--json", "--timeout", "2"});
    ASSERT_TRUE(r.ok()) << r.describe();
    auto one = Named(parser, r.out, "Neighbour one");
    ASSERT_EQ(one.size(), 1u) << r.out;
    EXPECT_TRUE(json_object_get_boolean_member(one[0], "remembered")) << r.out;
    EXPECT_EQ(json_object_get_int_member(one[0], "port"), 4422) << r.out;
    JsonArray *shares = json_object_get_array_member(one[0], "shares");
    ASSERT_EQ(json_array_get_length(shares), 1u) << r.out;
    EXPECT_STREQ(json_object_get_string_member(json_array_get_object_element(shares, 0), "name"),
                 "Public");
    JsonArray *v4 = json_object_get_array_member(one[0], "ipv4");
    ASSERT_EQ(json_array_get_length(v4), 1u) << r.out;
    EXPECT_EQ(json_array_get_string_element(v4, 0), lan->address(1)) << r.out;

    // what the file says goes stale (another name, no share): porch browse asks it again over
    // unicast, shows what it answers, and keeps that
    const std::string file = xdg + "/porch/neighbours";
    const std::string fresh = ReadFile(file);
    auto make_stale = [&] {
        std::string text = fresh;
        size_t at = text.find("name=Neighbour one");
        size_t sh = text.find("shares=Public;");
        ASSERT_TRUE(at != std::string::npos && sh != std::string::npos) << text;
        text.replace(sh, strlen("shares=Public;"), "shares=");
        text.replace(at, strlen("name=Neighbour one"), "name=Old name");
        ASSERT_TRUE(WriteFile(file, text));
    };
    make_stale();
    r = Porch(lan.get(), xdg, {"browse", "--json", "--timeout", "2"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(Named(parser, r.out, "Old name").empty()) << r.out;
    one = Named(parser, r.out, "Neighbour one");
    ASSERT_EQ(one.size(), 1u) << r.out;
    EXPECT_EQ(json_array_get_length(json_object_get_array_member(one[0], "shares")), 1u) << r.out;
    EXPECT_TRUE(Contains(ReadFile(file), "name=Neighbour one")) << ReadFile(file);
    EXPECT_TRUE(Contains(ReadFile(file), "shares=Public;")) << ReadFile(file);
    // --watch: the file's at once, then its answer as a change
    make_stale();
    r = Porch(lan.get(), xdg, {"browse", "--watch", "--timeout", "3"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_TRUE(
            Contains(r.out, "added    Old name (" + lan->address(1) + "): Porch on port 4422\n"))
            << r.out;
    EXPECT_TRUE(Contains(r.out, "changed  Neighbour one (" + lan->address(1) +
                                        "): Porch on port 4422; shares Public\n"))
            << r.out;

    // fetchable by that name
    r = Porch(lan.get(), xdg, {"get", "Neighbour one/Public/hello.txt", h2 + "/down"});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(ReadFile(h2 + "/down/hello.txt"), "hello from one\n");

    // the doctor says mDNS does not show it, as information: not a problem
    r = Porch(lan.get(), xdg, {"doctor", "Neighbour one"});
    // (the one problem is the login: this key is no [peer] there, it reads as a guest)
    EXPECT_FALSE(Contains(r.out, "problem  mdns")) << r.out;
    EXPECT_FALSE(Contains(r.out, "problem  name")) << r.out;
    EXPECT_TRUE(Contains(r.out, "info     mdns: 'Neighbour one' is not seen over mDNS; it is "
                                "remembered by address (" +
                                        lan->address(1) + ")"))
            << r.out;
    EXPECT_TRUE(Contains(r.out, "(remembered by address)")) << r.out;

    // it is in the file: a new porch process sees it
    EXPECT_TRUE(Contains(ReadFile(xdg + "/porch/neighbours"), "name=Neighbour one"));
    r = Porch(lan.get(), xdg, {"neighbours", "list", "--json"});
    ASSERT_TRUE(r.ok()) << r.describe();
    one = Named(parser, r.out, "Neighbour one");
    ASSERT_EQ(one.size(), 1u) << r.out;
    EXPECT_EQ(std::string(json_object_get_string_member(one[0], "address")), lan->address(1));
    EXPECT_TRUE(g_str_has_prefix(json_object_get_string_member(one[0], "fingerprint"), "SHA256:"));

    // forgotten: gone from browse, and the name finds nobody
    r = Porch(lan.get(), xdg, {"neighbours", "remove", "Neighbour one"});
    ASSERT_TRUE(r.ok()) << r.describe();
    r = Porch(lan.get(), xdg, {"neighbours", "list", "--json"});
    EXPECT_TRUE(Named(parser, r.out, "Neighbour one").empty()) << r.out;
    r = Porch(lan.get(), xdg, {"ls", "--timeout", "1", "Neighbour one"});
    EXPECT_EQ(r.exit_status, 3) << r.describe();
    r = Porch(lan.get(), xdg, {"neighbours", "remove", "Neighbour one"});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Contains(r.err, "no remembered neighbour")) << r.err;
    lan->run(2, {"nft", "delete", "table", "inet", "t"});
}

TEST(Neighbours, NothingListens)
{
    PORCH_REQUIRE_LAN(lan, 2);
    const std::string xdg = lan->host_dir(2) + "/xdg";
    ASSERT_TRUE(MakeDirs(xdg + "/porch", 0700));
    RunResult r = Porch(lan.get(), xdg,
                        {"neighbours", "add", "--connect-timeout", "3", lan->address(1) + ":4499"});
    EXPECT_EQ(r.exit_status, 3) << r.describe();
    EXPECT_TRUE(Contains(r.err, "did not answer as a Porch host; nothing was remembered")) << r.err;
    EXPECT_FALSE(g_file_test((xdg + "/porch/neighbours").c_str(), G_FILE_TEST_EXISTS));
    r = Porch(lan.get(), xdg, {"neighbours", "add", "not an address"});
    EXPECT_EQ(r.exit_status, 2) << r.describe();
    EXPECT_FALSE(g_file_test((xdg + "/porch/neighbours").c_str(), G_FILE_TEST_EXISTS));
}

TEST(Neighbours, StatusParser)
{
    g_autoptr(GError) error = nullptr;
    std::string ok = "name\tAlice's laptop\nshare\tPhotos\nfuture\tx\nprinter\tOffice\n";
    g_autoptr(PorchHostStatus) s = porch_print_parse_status(ok.data(), ok.size(), &error);
    ASSERT_NE(s, nullptr) << error->message;
    EXPECT_STREQ(s->name, "Alice's laptop");
    ASSERT_EQ(g_strv_length(s->shares), 1u);
    EXPECT_STREQ(s->shares[0], "Photos");
    ASSERT_EQ(g_strv_length(s->printers), 1u);
    for (const std::string &bad :
         {std::string("share\tPhotos\n"), std::string("name\t\n"), std::string("name\ta\x1b[2J\n"),
          std::string("name\t") + std::string(64, 'x') + "\n", std::string("name\t\xff\n"),
          std::string("name\ta\nname\tb\n"), std::string("")}) {
        g_clear_error(&error);
        EXPECT_EQ(porch_print_parse_status(bad.data(), bad.size(), &error), nullptr) << bad;
    }
    // its clock: microseconds since the epoch, digits only, once
    std::string timed = "name\tx\ntime\t1733390000123456\n";
    g_clear_error(&error);
    g_autoptr(PorchHostStatus) t = porch_print_parse_status(timed.data(), timed.size(), &error);
    ASSERT_NE(t, nullptr) << error->message;
    EXPECT_EQ(t->time_us, G_GINT64_CONSTANT(1733390000123456));
    EXPECT_EQ(s->time_us, 0) << "not told: 0";
    for (const std::string &bad :
         {std::string("name\tx\ntime\t-5\n"), std::string("name\tx\ntime\t12a\n"),
          std::string("name\tx\ntime\t 12\n"), std::string("name\tx\ntime\t0\n"),
          std::string("name\tx\ntime\t") + std::string(19, '9') + "\n",
          std::string("name\tx\ntime\t1\ntime\t2\n")}) {
        g_clear_error(&error);
        EXPECT_EQ(porch_print_parse_status(bad.data(), bad.size(), &error), nullptr) << bad;
    }
    std::string many = "name\tx\n";
    for (int i = 0; i <= PORCH_STATUS_MAX_ENTRIES; i++)
        many += "share\ts" + std::to_string(i) + "\n";
    g_clear_error(&error);
    EXPECT_EQ(porch_print_parse_status(many.data(), many.size(), &error), nullptr);
}

} // namespace
