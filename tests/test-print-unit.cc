// test-print-unit.cc — the parts of printing that need no cupsd: how porchd-session reads the
// command line of an exec channel and whom a job belongs to in CUPS (daemon/print-server.c),
// how the client reads porchd's replies (shared/porch-print-client.c), and the TXT record
// porchd advertises for a printer (shared/porch-publish.c).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <glib/gstdio.h>

extern "C" {
#include "porch-cups.h"
#include "porch-print-client.h"
#include "porch-publish.h"
#include "print-server.h"
}

namespace
{

struct Parsed {
    bool ok = false;
    PorchPrintServerCommand cmd{};
    std::string error;

    explicit Parsed(const char *line)
    {
        GError *e = nullptr;
        ok = porch_print_server_parse(line, &cmd, &e);
        if (e != nullptr) {
            EXPECT_TRUE(g_error_matches(e, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) << line;
            error = e->message;
            g_error_free(e);
        }
    }
    ~Parsed()
    {
        porch_print_server_command_clear(&cmd);
    }
    Parsed(const Parsed &) = delete;
    Parsed &operator=(const Parsed &) = delete;

    std::string printer() const
    {
        return cmd.printer ? cmd.printer : "(none)";
    }
    std::string title() const
    {
        return cmd.title ? cmd.title : "(none)";
    }
};

TEST(PrintCommand, PrintWithDefaults)
{
    Parsed p("print Office");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.cmd.verb, PORCH_PRINT_SERVER_PRINT);
    EXPECT_EQ(p.printer(), "Office");
    EXPECT_EQ(p.cmd.copies, 1u);
    EXPECT_EQ(p.title(), "(none)");
}

TEST(PrintCommand, PrintWithOptionsInEitherForm)
{
    Parsed a("print 'Front desk' --copies 3 --title \"Q3 report.pdf\"");
    ASSERT_TRUE(a.ok) << a.error;
    EXPECT_EQ(a.printer(), "Front desk");
    EXPECT_EQ(a.cmd.copies, 3u);
    EXPECT_EQ(a.title(), "Q3 report.pdf");

    Parsed b("print --copies=2 --title='a b' Office");
    ASSERT_TRUE(b.ok) << b.error;
    EXPECT_EQ(b.printer(), "Office");
    EXPECT_EQ(b.cmd.copies, 2u);
    EXPECT_EQ(b.title(), "a b");

    // an empty title is no title: the default applies
    Parsed c("print Office --title ''");
    ASSERT_TRUE(c.ok) << c.error;
    EXPECT_EQ(c.title(), "(none)");
}

TEST(PrintCommand, DoubleDashEndsOptions)
{
    Parsed p("print -- --odd-name");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.printer(), "--odd-name");

    // one dash is not an option
    Parsed q("print -x");
    ASSERT_TRUE(q.ok) << q.error;
    EXPECT_EQ(q.printer(), "-x");
}

TEST(PrintCommand, JobsWithAndWithoutPrinter)
{
    Parsed all("jobs");
    ASSERT_TRUE(all.ok) << all.error;
    EXPECT_EQ(all.cmd.verb, PORCH_PRINT_SERVER_JOBS);
    EXPECT_EQ(all.cmd.printer, nullptr);

    Parsed one("jobs Office");
    ASSERT_TRUE(one.ok) << one.error;
    EXPECT_EQ(one.printer(), "Office");
}

TEST(PrintCommand, Cancel)
{
    Parsed p("cancel Office 42");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.cmd.verb, PORCH_PRINT_SERVER_CANCEL);
    EXPECT_EQ(p.printer(), "Office");
    EXPECT_EQ(p.cmd.job_id, 42);
}

TEST(PrintCommand, UsageErrors)
{
    const std::vector<std::pair<const char *, const char *>> bad = {
            {"", "no command"},
            {"   ", "no command"},
            {"frob Office", "unknown command 'frob'"},
            {"Print Office", "unknown command 'Print'"},
            {"print", "missing arguments"},
            {"print a b", "too many arguments"},
            {"print a --copies 0", "--copies takes a number from 1 to 999"},
            {"print a --copies 1000", "--copies takes a number from 1 to 999"},
            {"print a --copies two", "--copies takes a number"},
            {"print a --copies -1", "--copies takes a number"},
            {"print a --copies", "--copies needs a value"},
            {"print a --title", "--title needs a value"},
            {"print a --bogus", "unknown option '--bogus'"},
            {"print 'a", "cannot split the command"},
            {"jobs a b", "too many arguments"},
            {"jobs --copies 2", "unknown option '--copies'"},
            {"cancel Office", "missing arguments"},
            {"cancel Office 1 2", "too many arguments"},
            {"cancel Office x", "'x' is not a job id"},
            {"cancel Office 0", "'0' is not a job id"},
            {"cancel Office 99999999999", "is not a job id"},
            {"cancel Office 12abc", "is not a job id"},
    };
    for (const auto &[line, why] : bad) {
        Parsed p(line);
        EXPECT_FALSE(p.ok) << "accepted: " << line;
        EXPECT_NE(p.error.find(why), std::string::npos) << line << " -> " << p.error;
    }
}

TEST(PrintCommand, OverlongLineIsRefused)
{
    std::string line = "print " + std::string(PORCH_PRINT_MAX_COMMAND, 'x');
    Parsed p(line.c_str());
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.error.find("longer than"), std::string::npos) << p.error;
}

// What the client is told goes to its terminal and porchd's log: never a line break or an
// escape sequence of the client's own, nor the whole line back (GLib's own message quotes it).
TEST(PrintCommand, ErrorsShowClientTextEscaped)
{
    const std::vector<std::pair<std::string, std::string>> bad = {
            {"print Office --bo\x1b[31mgus", "unknown option '--bo\\033[31mgus'"},
            {"print Office --copies $'1\n2'", "--copies takes a number"},
            {"print Office --copies '1\nFAKE'", "not '1\\nFAKE'"},
            {"'fr\tob' Office", "unknown command 'fr\\tob'"},
            {"cancel Office '1\r'", "'1\\r' is not a job id"},
            {"print 'Office\nFAKE LINE", "a quote is not closed"},
    };
    for (const auto &[line, why] : bad) {
        Parsed p(line.c_str());
        EXPECT_FALSE(p.ok) << "accepted: " << line;
        EXPECT_NE(p.error.find(why), std::string::npos) << line << " -> " << p.error;
        for (char c : p.error)
            EXPECT_FALSE((unsigned char)c < 0x20 || c == 0x7f) << line << " -> " << p.error;
        EXPECT_EQ(p.error.find("FAKE LINE"), std::string::npos) << p.error;
    }
}

std::string
User(const char *peer, const char *address)
{
    g_autofree char *u = porch_print_server_user(peer, address);
    return u;
}

// A peer is its [peer] name; a guest, without a key, its address: one guest per address, never
// a peer's name, and a name CUPS takes (ASCII, no ':', short).
TEST(PrintUser, PeersByNameGuestsByAddress)
{
    EXPECT_EQ(User("bob", "10.0.0.5"), "bob@porch");
    EXPECT_EQ(User("bob", nullptr), "bob@porch");
    EXPECT_EQ(User(nullptr, "10.0.0.5"), "guest+10.0.0.5@porch");
    EXPECT_EQ(User(nullptr, "10.0.0.6"), "guest+10.0.0.6@porch");
    EXPECT_EQ(User(nullptr, "fe80::1"), "guest+fe80--1@porch");
    EXPECT_EQ(User(nullptr, "2001:DB8::A"), "guest+2001-db8--a@porch");
    EXPECT_EQ(User(nullptr, "2001:db8:0:0::a"), "guest+2001-db8--a@porch")
            << "one text per address";
    // an IPv4 client of a dual-stack socket is the same guest as over IPv4
    EXPECT_EQ(User(nullptr, "::ffff:10.0.0.5"), "guest+10.0.0.5@porch");
    EXPECT_EQ(User(nullptr, "::1"), "guest+--1@porch");
    EXPECT_EQ(User(nullptr, nullptr), "guest+unknown@porch");
    EXPECT_EQ(User(nullptr, "unknown"), "guest+unknown@porch");
    EXPECT_EQ(User(nullptr, "fe80::1%eth0"), "guest+fe80--1_eth0@porch");
    EXPECT_EQ(User(nullptr, "a b\n\xc3\xa9"), "guest+a_b___@porch");

    std::string longest = User(nullptr, std::string(300, 'x').c_str());
    EXPECT_EQ(longest, "guest+" + std::string(64, 'x') + "@porch");
    std::string v6 = User(nullptr, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
    EXPECT_LE(v6.size(), 255u) << v6;
    EXPECT_EQ(v6.find(':'), std::string::npos) << v6;
}

// ---- what the client reads from porchd ------------------------------------------------------

struct Reply {
    GError *error = nullptr;
    ~Reply()
    {
        g_clear_error(&error);
    }
    std::string message() const
    {
        return error ? error->message : "(no error)";
    }
};

TEST(PrintReply, JobId)
{
    const std::vector<std::pair<std::string, int>> good = {
            {"12\n", 12}, {" 7 \r\n", 7}, {"2147483647", 2147483647}};
    for (const auto &[text, want] : good) {
        Reply r;
        gint id = 0;
        EXPECT_TRUE(porch_print_parse_job_id(text.data(), text.size(), &id, &r.error))
                << text << ": " << r.message();
        EXPECT_EQ(id, want) << text;
    }
    for (std::string text : {std::string(""), std::string("0\n"), std::string("-3"),
                             std::string("12 13"), std::string("2147483648"), std::string("x"),
                             std::string("12\0", 3), std::string("1\n2\n")}) {
        Reply r;
        gint id = 0;
        EXPECT_FALSE(porch_print_parse_job_id(text.data(), text.size(), &id, &r.error)) << text;
        EXPECT_TRUE(g_error_matches(r.error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL))
                << r.message();
    }
}

TEST(PrintReply, Jobs)
{
    std::string text = "12\tOffice\tpending\t1\t1700000000\thello.txt\n\n"
                       "13\tLobby\tfrobbed\t24\t-1\tQ3\x1b[2J\xff\treport\n"
                       "14\tOff\x07ice\tcompleted\t0\t0\t";
    Reply r;
    GPtrArray *jobs = porch_print_parse_jobs(text.data(), text.size(), &r.error);
    ASSERT_NE(jobs, nullptr) << r.message();
    ASSERT_EQ(jobs->len, 3u);
    auto job = [&](guint i) { return (const PorchPrintJob *)g_ptr_array_index(jobs, i); };
    EXPECT_EQ(job(0)->id, 12);
    EXPECT_STREQ(job(0)->printer, "Office");
    EXPECT_EQ(job(0)->state, PORCH_PRINT_JOB_PENDING);
    EXPECT_EQ(job(0)->size_kb, 1u);
    EXPECT_EQ(job(0)->created, 1700000000);
    EXPECT_STREQ(job(0)->title, "hello.txt");
    EXPECT_EQ(job(1)->state, PORCH_PRINT_JOB_UNKNOWN);
    EXPECT_EQ(job(1)->created, -1);
    // the title is the rest of the line, made safe to show
    EXPECT_STREQ(job(1)->title, "Q3 [2J\xef\xbf\xbd report");
    EXPECT_STREQ(job(2)->printer, "Off ice");
    EXPECT_STREQ(job(2)->title, "");
    g_ptr_array_unref(jobs);

    Reply empty;
    jobs = porch_print_parse_jobs(nullptr, 0, &empty.error);
    ASSERT_NE(jobs, nullptr) << empty.message();
    EXPECT_EQ(jobs->len, 0u);
    g_ptr_array_unref(jobs);
}

TEST(PrintReply, MalformedJobsAreProtocolErrors)
{
    const std::vector<std::pair<std::string, std::string>> bad = {
            {"12\tOffice\tpending\t1\t1700000000\n", "line 1"},
            {"\n\n0\tOffice\tpending\t1\t1\tt\n", "line 3"},
            {"12\t\tpending\t1\t1\tt\n", "line 1"},
            {"12\tOffice\tpending\t-1\t1\tt\n", "line 1"},
            {"12\tOffice\tpending\t1\tsoon\tt\n", "line 1"},
            {std::string("12\tOffice\tpending\t1\t1\tt\0x\n", 26), "line 1"},
    };
    for (const auto &[text, why] : bad) {
        Reply r;
        EXPECT_EQ(porch_print_parse_jobs(text.data(), text.size(), &r.error), nullptr) << text;
        EXPECT_TRUE(g_error_matches(r.error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL));
        EXPECT_NE(r.message().find(why), std::string::npos) << r.message();
    }
}

// A neighbour cannot make the client hold an endless list: PORCH_PRINT_MAX_JOBS at most.
TEST(PrintReply, JobCountIsBounded)
{
    std::string text;
    for (int i = 1; i <= PORCH_PRINT_MAX_JOBS; i++)
        text += std::to_string(i) + "\tP\tpending\t1\t1\tt\n";
    Reply ok;
    GPtrArray *jobs = porch_print_parse_jobs(text.data(), text.size(), &ok.error);
    ASSERT_NE(jobs, nullptr) << ok.message();
    EXPECT_EQ(jobs->len, (guint)PORCH_PRINT_MAX_JOBS);
    g_ptr_array_unref(jobs);

    text += "99999\tP\tpending\t1\t1\tt\n";
    Reply r;
    EXPECT_EQ(porch_print_parse_jobs(text.data(), text.size(), &r.error), nullptr);
    EXPECT_NE(r.message().find("longer than"), std::string::npos) << r.message();
}

TEST(PrintReply, StatusErrors)
{
    auto error = [](int status, const std::string &err) {
        GError *e = porch_print_status_error(status, err.data(), err.size());
        std::pair<int, std::string> out = {e->code, e->message};
        EXPECT_EQ(e->domain, PORCH_PRINT_ERROR);
        g_error_free(e);
        return out;
    };
    EXPECT_EQ(error(77, "not allowed to print on Office\nmore\n"),
              std::make_pair((int)PORCH_PRINT_ERROR_NOT_ALLOWED,
                             std::string("not allowed to print on Office")));
    EXPECT_EQ(error(65, "  \x1b]0;owned\x07 too big\r\n").second, "]0;owned  too big");
    EXPECT_EQ(error(65, "").first, (int)PORCH_PRINT_ERROR_REJECTED);
    EXPECT_EQ(error(74, "").second, "the document did not arrive whole; the job was cancelled");
    EXPECT_EQ(error(3, ""), std::make_pair((int)PORCH_PRINT_ERROR_FAILED,
                                           std::string("failed on the neighbour (status 3)")));
    EXPECT_EQ(error(-1, "").second, "the neighbour ended the command without a status");
    EXPECT_EQ(error(66, std::string("no\0job", 6)).second, "no\xef\xbf\xbdjob");
    // one endless line is cut, at a character
    std::string endless;
    for (int i = 0; i < 1000; i++)
        endless += "\xc3\xa9";
    std::string shown = error(69, endless).second;
    EXPECT_LE(shown.size(), (size_t)PORCH_PRINT_MAX_MESSAGE);
    EXPECT_GE(shown.size(), (size_t)PORCH_PRINT_MAX_MESSAGE - 1);
    EXPECT_TRUE(g_utf8_validate(shown.c_str(), -1, nullptr));
}

std::vector<std::string>
Txt(const PorchPrinterStatus &status)
{
    std::vector<std::string> out;
    GStrv txt = porch_publish_printer_txt(&status);
    for (guint i = 0; txt && txt[i]; i++)
        out.emplace_back(txt[i]);
    g_strfreev(txt);
    return out;
}

TEST(PrinterTxt, ExactlyTheDocumentedKeys)
{
    PorchPrinterStatus s = {"HP LaserJet 4000", TRUE, FALSE, PORCH_PRINTER_PROCESSING, TRUE};
    EXPECT_EQ(Txt(s), (std::vector<std::string>{"v=1", "ty=HP LaserJet 4000", "Color=T", "Duplex=F",
                                                "state=processing", "accepting=T"}));

    PorchPrinterStatus t = {"X", FALSE, TRUE, PORCH_PRINTER_STOPPED, FALSE};
    EXPECT_EQ(Txt(t), (std::vector<std::string>{"v=1", "ty=X", "Color=F", "Duplex=T",
                                                "state=stopped", "accepting=F"}));

    PorchPrinterStatus u = {"X", FALSE, FALSE, PORCH_PRINTER_IDLE, TRUE};
    EXPECT_EQ(Txt(u)[4], "state=idle");
}

TEST(PrinterTxt, UnknownModel)
{
    PorchPrinterStatus s = {nullptr, FALSE, FALSE, PORCH_PRINTER_IDLE, TRUE};
    EXPECT_EQ(Txt(s)[1], "ty=Unknown");
    s.make_and_model = "";
    EXPECT_EQ(Txt(s)[1], "ty=Unknown");
}

TEST(PrinterTxt, ModelFitsOneTxtStringAsValidUtf8)
{
    // 300 bytes of two-byte characters: cut at 255 bytes including "ty=", on a boundary
    std::string model;
    for (int i = 0; i < 150; i++)
        model += "\xc3\xa9"; // é
    PorchPrinterStatus s = {model.c_str(), FALSE, FALSE, PORCH_PRINTER_IDLE, TRUE};
    std::string ty = Txt(s)[1];
    EXPECT_LE(ty.size(), 255u);
    EXPECT_GE(ty.size(), 254u);
    EXPECT_TRUE(g_utf8_validate(ty.c_str(), -1, nullptr));

    PorchPrinterStatus bad = {"Acme \xff\xfe Jet", FALSE, FALSE, PORCH_PRINTER_IDLE, TRUE};
    EXPECT_TRUE(g_utf8_validate(Txt(bad)[1].c_str(), -1, nullptr));
}

TEST(CupsJobState, IppKeywords)
{
    auto name = [](ipp_jstate_t s) {
        return porch_print_job_state_to_string(porch_cups_job_state(s));
    };
    EXPECT_STREQ(name(IPP_JSTATE_PENDING), "pending");
    EXPECT_STREQ(name(IPP_JSTATE_HELD), "held");
    EXPECT_STREQ(name(IPP_JSTATE_PROCESSING), "processing");
    EXPECT_STREQ(name(IPP_JSTATE_STOPPED), "stopped");
    EXPECT_STREQ(name(IPP_JSTATE_CANCELED), "canceled");
    EXPECT_STREQ(name(IPP_JSTATE_ABORTED), "aborted");
    EXPECT_STREQ(name(IPP_JSTATE_COMPLETED), "completed");
    // and back, as the client reads them
    for (ipp_jstate_t s = IPP_JSTATE_PENDING; s <= IPP_JSTATE_COMPLETED; s = (ipp_jstate_t)(s + 1))
        EXPECT_EQ(porch_print_job_state_from_string(name(s)), porch_cups_job_state(s)) << s;
    EXPECT_EQ(porch_print_job_state_from_string("unknown"), PORCH_PRINT_JOB_UNKNOWN);
    EXPECT_EQ(porch_print_job_state_from_string("Pending"), PORCH_PRINT_JOB_UNKNOWN);
}

// Without a cupsd at the address CUPS_SERVER names, connecting fails as "not reachable" and
// says where it looked; nothing blocks.
TEST(CupsConnect, MissingSocketIsConnectionRefused)
{
    g_autofree char *dir = g_dir_make_tmp("porch-cups-XXXXXX", nullptr);
    g_autofree char *sock = g_build_filename(dir, "cups.sock", nullptr);
    g_autofree char *old = g_strdup(g_getenv("CUPS_SERVER"));
    GError *error = nullptr;

    ASSERT_NE(dir, nullptr);
    g_setenv("CUPS_SERVER", sock, TRUE);
    cupsSetServer(nullptr); // libcups caches the server per thread: read the variable again
    http_t *http = porch_cups_connect(500, &error);
    EXPECT_EQ(http, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED));
    EXPECT_NE(std::string(error->message).find(sock), std::string::npos) << error->message;
    g_error_free(error);
    if (old != nullptr)
        g_setenv("CUPS_SERVER", old, TRUE);
    else
        g_unsetenv("CUPS_SERVER");
    cupsSetServer(nullptr);
    g_rmdir(dir);
}

} // namespace

// "search PATTERN" and "search --sha256 HEX": exactly one of them, each within its bounds.
TEST(PrintCommand, Search)
{
    {
        Parsed p("search 'beach *.jpg'");
        ASSERT_TRUE(p.ok) << p.error;
        EXPECT_EQ(p.cmd.verb, PORCH_PRINT_SERVER_SEARCH);
        EXPECT_STREQ(p.cmd.pattern, "beach *.jpg");
        EXPECT_EQ(p.cmd.sha256, nullptr);
        EXPECT_EQ(p.cmd.printer, nullptr) << "a pattern is no printer for the gate";
    }
    {
        std::string hex(64, 'A');
        Parsed p(("search --sha256=" + hex).c_str());
        ASSERT_TRUE(p.ok) << p.error;
        EXPECT_EQ(p.cmd.pattern, nullptr);
        EXPECT_EQ(std::string(p.cmd.sha256), std::string(64, 'a'));
    }
    std::string long_pattern(PORCH_SEARCH_MAX_PATTERN + 1, 'x');
    for (std::string bad :
         {std::string("search"), std::string("search a b"), std::string("search ''"),
          "search " + long_pattern, std::string("search --sha256 abc"),
          "search --sha256 " + std::string(64, 'g'), "search x --sha256 " + std::string(64, 'a'),
          std::string("search --copies 2 x")}) {
        Parsed p(bad.c_str());
        EXPECT_FALSE(p.ok) << bad;
        EXPECT_FALSE(p.error.empty()) << bad;
    }
}

TEST(PrintReply, Search)
{
    std::string sha(64, 'f');
    std::string good = "Photos\t2024/beach.jpg\t1234\t" + sha + "\n\nMusic\tsong.ogg\t0\t" + sha;
    Reply r;
    g_autoptr(GPtrArray) found = porch_print_parse_search(good.data(), good.size(), &r.error);
    ASSERT_NE(found, nullptr) << r.message();
    ASSERT_EQ(found->len, 2u);
    auto *m = (PorchSearchMatch *)g_ptr_array_index(found, 0);
    EXPECT_STREQ(m->share, "Photos");
    EXPECT_STREQ(m->path, "2024/beach.jpg");
    EXPECT_EQ(m->size, 1234u);

    const std::vector<std::string> bad = {
            "Photos\t/etc/passwd\t1\t" + sha,
            "Photos\ta/../b\t1\t" + sha,
            "Photos\ta//b\t1\t" + sha,
            "\tx\t1\t" + sha,
            "Photos\tx\t-1\t" + sha,
            "Photos\tx\t1\t" + std::string(64, 'F'),
            "Photos\tx\t1\t" + sha + "\textra",
            "Photos\tx\x01y\t1\t" + sha,
            "Photos\tx\t1",
    };
    for (const std::string &text : bad) {
        Reply e;
        EXPECT_EQ(porch_print_parse_search(text.data(), text.size(), &e.error), nullptr) << text;
        EXPECT_TRUE(g_error_matches(e.error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL));
    }
    // bounded: no more than PORCH_SEARCH_MAX_RESULTS files
    std::string many;
    for (int i = 0; i <= PORCH_SEARCH_MAX_RESULTS; i++)
        many += "S\tf" + std::to_string(i) + "\t1\t" + sha + "\n";
    Reply e;
    EXPECT_EQ(porch_print_parse_search(many.data(), many.size(), &e.error), nullptr);
}
