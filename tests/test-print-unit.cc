// test-print-unit.cc — the parts of printing that need no cupsd: how porchd-session reads the
// command line of an exec channel (daemon/print.c), and the TXT record porchd advertises for a
// printer (shared/porch-publish.c).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <glib/gstdio.h>

extern "C" {
#include "porch-cups.h"
#include "porch-publish.h"
#include "print.h"
}

namespace
{

struct Parsed {
    bool ok = false;
    PorchPrintCommand cmd{};
    std::string error;

    explicit Parsed(const char *line)
    {
        GError *e = nullptr;
        ok = porch_print_command_parse(line, &cmd, &e);
        if (e != nullptr) {
            EXPECT_TRUE(g_error_matches(e, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) << line;
            error = e->message;
            g_error_free(e);
        }
    }
    ~Parsed()
    {
        porch_print_command_clear(&cmd);
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
    EXPECT_EQ(p.cmd.verb, PORCH_PRINT_PRINT);
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
    EXPECT_EQ(all.cmd.verb, PORCH_PRINT_JOBS);
    EXPECT_EQ(all.cmd.printer, nullptr);

    Parsed one("jobs Office");
    ASSERT_TRUE(one.ok) << one.error;
    EXPECT_EQ(one.printer(), "Office");
}

TEST(PrintCommand, Cancel)
{
    Parsed p("cancel Office 42");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.cmd.verb, PORCH_PRINT_CANCEL);
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
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_PENDING), "pending");
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_HELD), "held");
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_PROCESSING), "processing");
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_STOPPED), "stopped");
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_CANCELED), "canceled");
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_ABORTED), "aborted");
    EXPECT_STREQ(porch_cups_job_state_name(IPP_JSTATE_COMPLETED), "completed");
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
