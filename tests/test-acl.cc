// test-acl.cc — who may do what, over the whole peer x resource x operation matrix of
// tests/data/matrix.conf, as its comments describe it to a reader.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

extern "C" {
#include "porch-acl.h"
}

namespace
{

// The fingerprints of tests/data/*.pub, as `ssh-keygen -lf` prints them.
const std::map<std::string, const char *> kWho = {
        {"bob", "SHA256:QUhObE2gOmqxPt0Rz7/E++TZxc5x9tTX8dBXYRbK4uc"},
        {"bob-ecdsa", "SHA256:Eqvz//aqxSnhUHJLtj6HmtSxRsYhEPX8OQNCW9D6tdw"},
        {"carol", "SHA256:wu6v+1n+lqMH8E37oOsERPcQvOvlwww4EADp7NpvCxY"},
        {"carol-rsa", "SHA256:rr1dcG391N5cEZ5xT3Us15kkJVpgGXuqEDDs7p2fUno"},
        {"dave", "SHA256:XYMXvKPSwAITsjoO8RRlncjJesMIstppYNQ3IryNQ2M"},
        {"erin", "SHA256:hbh8HMwHj3XXME2VFHguszMIDuHeT5jPsn0v89qbwKo"},
        {"guest", nullptr},
        // a well-formed fingerprint of a key the file does not list
        {"stranger", "SHA256:JvJ6f+LPM9KsL7BGg6jnAKh8smeH3eiQtdvjShAzg/E"},
};

struct Cell {
    PorchResourceKind kind;
    std::string resource;
    std::string who;
    std::string ops; // the operations allowed: r, w, p
};

// The expected matrix, written from the rules in matrix.conf:
//   Photos  read = @family;guest  write = bob     (family = bob + @kids, kids = carol)
//   Music   read = *                               Private read = dave (hidden)
//   Dropbox write = @kids                          Empty   no rule
//   Office  print = @family   Lobby print = guest  Locked  no rule
const std::map<std::string, std::map<std::string, std::string>> kExpected = {
        {"Photos", {{"bob", "rw"}, {"carol", "r"}, {"dave", "r"}, {"erin", "r"}, {"guest", "r"}}},
        {"Music", {{"bob", "r"}, {"carol", "r"}, {"dave", "r"}, {"erin", "r"}}},
        {"Private", {{"dave", "r"}}},
        {"Dropbox", {{"carol", "rw"}}},
        {"Empty", {}},
        {"Office", {{"bob", "p"}, {"carol", "p"}}},
        {"Lobby", {{"bob", "p"}, {"carol", "p"}, {"dave", "p"}, {"erin", "p"}, {"guest", "p"}}},
        {"Locked", {}},
};

PorchConfig *
Fixture()
{
    static PorchConfig *config = [] {
        GError *error = nullptr;
        PorchConfig *c = porch_config_load_file(PORCH_TEST_DATA "/matrix.conf", &error);
        if (c == nullptr)
            ADD_FAILURE() << error->message;
        return c;
    }();
    return config;
}

std::vector<Cell>
Cells()
{
    std::vector<Cell> cells;
    for (const auto &[resource, row] : kExpected) {
        bool printer = resource == "Office" || resource == "Lobby" || resource == "Locked";
        for (const auto &[who, fp] : kWho) {
            std::string base = who.substr(0, who.find('-')); // bob-ecdsa is bob
            auto it = row.find(base);
            cells.push_back({printer ? PORCH_RESOURCE_PRINTER : PORCH_RESOURCE_SHARE, resource, who,
                             it == row.end() ? "" : it->second});
        }
    }
    return cells;
}

class AclMatrix : public ::testing::TestWithParam<Cell>
{
};

TEST_P(AclMatrix, AllowsExactlyWhatTheRulesSay)
{
    const Cell &c = GetParam();
    PorchConfig *config = Fixture();
    ASSERT_NE(config, nullptr);
    const char *fp = kWho.at(c.who);
    const struct {
        PorchAclOp op;
        char letter;
    } ops[] = {{PORCH_ACL_READ, 'r'}, {PORCH_ACL_WRITE, 'w'}, {PORCH_ACL_PRINT, 'p'}};
    for (const auto &o : ops) {
        bool want = c.ops.find(o.letter) != std::string::npos;
        EXPECT_EQ(porch_acl_check(config, fp, c.kind, c.resource.c_str(), o.op), want)
                << c.who << " " << porch_acl_op_name(o.op) << " " << c.resource;
    }
}

INSTANTIATE_TEST_SUITE_P(Acl, AclMatrix, ::testing::ValuesIn(Cells()),
                         [](const ::testing::TestParamInfo<Cell> &i) {
                             std::string n = i.param.resource + "_" + i.param.who;
                             for (char &ch : n)
                                 if (!isalnum((unsigned char)ch))
                                     ch = '_';
                             return n;
                         });

TEST(Acl, EveryPeerKeyGetsThePeersRights)
{
    PorchConfig *c = Fixture();
    ASSERT_NE(c, nullptr);
    // carol's RSA key is as good as her Ed25519 key; bob's ECDSA key as his Ed25519 one.
    EXPECT_TRUE(porch_acl_check(c, kWho.at("carol-rsa"), PORCH_RESOURCE_SHARE, "Dropbox",
                                PORCH_ACL_WRITE));
    EXPECT_TRUE(porch_acl_check(c, kWho.at("bob-ecdsa"), PORCH_RESOURCE_SHARE, "Photos",
                                PORCH_ACL_WRITE));
}

TEST(Acl, UnknownResourcesAndWrongKindsAreRefused)
{
    PorchConfig *c = Fixture();
    ASSERT_NE(c, nullptr);
    const char *bob = kWho.at("bob");
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_SHARE, "Nope", PORCH_ACL_READ));
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_SHARE, "photos", PORCH_ACL_READ))
            << "names are exact";
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_SHARE, nullptr, PORCH_ACL_READ));
    // Office is a printer: no share of that name; Photos is a share: no printer.
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_SHARE, "Office", PORCH_ACL_PRINT));
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_PRINTER, "Photos", PORCH_ACL_WRITE));
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_PRINTER, "Office", PORCH_ACL_READ));
}

TEST(Acl, ReadableSharesIsWhatTheVirtualRootLists)
{
    PorchConfig *c = Fixture();
    ASSERT_NE(c, nullptr);
    auto shares = [&](const char *name) {
        g_auto(GStrv) v = porch_acl_readable_shares(c, porch_config_lookup_peer(c, name));
        std::string s;
        for (guint i = 0; v[i]; i++)
            s += std::string(i ? "," : "") + v[i];
        return s;
    };
    EXPECT_EQ(shares("bob"), "Photos,Music");
    EXPECT_EQ(shares("carol"), "Photos,Music,Dropbox");
    EXPECT_EQ(shares("dave"), "Photos,Music,Private")
            << "hidden shares are listed to those allowed";
    EXPECT_EQ(shares("erin"), "Photos,Music");
    EXPECT_EQ(shares(nullptr), "Photos");
}

TEST(Acl, StarMeansPeersInTheFileNotGuests)
{
    g_autoptr(GError) error = nullptr;
    std::string text = "[share S]\npath = /\nread = *\n";
    g_autoptr(PorchConfig) c = porch_config_load_data(text.c_str(), -1, "t.conf", &error);
    ASSERT_NE(c, nullptr) << error->message;
    EXPECT_FALSE(porch_acl_check(c, nullptr, PORCH_RESOURCE_SHARE, "S", PORCH_ACL_READ))
            << "with no peers, '*' lets nobody in";
}

TEST(Acl, RulesFollowTheSnapshotAfterAReload)
{
    // bob is written out of the family: his key opens nothing in the new snapshot, and
    // a holder of the old snapshot still decides by the old rules.
    PorchConfig *old_config = Fixture();
    ASSERT_NE(old_config, nullptr);
    g_autofree char *text = nullptr;
    ASSERT_TRUE(g_file_get_contents(PORCH_TEST_DATA "/matrix.conf", &text, nullptr, nullptr));
    std::string s(text);
    s.replace(s.find("members = bob;@kids"), strlen("members = bob;@kids"), "members = @kids");
    s.replace(s.find("write = bob"), strlen("write = bob"), "write = carol");
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) c = porch_config_load_data(s.c_str(), -1, "new.conf", &error);
    ASSERT_NE(c, nullptr) << error->message;

    const char *bob = kWho.at("bob");
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_PRINTER, "Office", PORCH_ACL_PRINT));
    EXPECT_FALSE(porch_acl_check(c, bob, PORCH_RESOURCE_SHARE, "Photos", PORCH_ACL_WRITE));
    EXPECT_TRUE(porch_acl_check(c, bob, PORCH_RESOURCE_SHARE, "Photos", PORCH_ACL_READ))
            << "guests may read Photos, and so may bob";
    EXPECT_TRUE(
            porch_acl_check(old_config, bob, PORCH_RESOURCE_PRINTER, "Office", PORCH_ACL_PRINT));
    EXPECT_TRUE(porch_acl_check(old_config, bob, PORCH_RESOURCE_SHARE, "Photos", PORCH_ACL_WRITE));
}

TEST(Acl, OpNamesForLogs)
{
    EXPECT_STREQ(porch_acl_op_name(PORCH_ACL_READ), "read");
    EXPECT_STREQ(porch_acl_op_name(PORCH_ACL_WRITE), "write");
    EXPECT_STREQ(porch_acl_op_name(PORCH_ACL_PRINT), "print");
}

} // namespace
