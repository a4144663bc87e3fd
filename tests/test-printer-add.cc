// test-printer-add.cc — what `porch printer add` and porch-tray's "Add to this computer" build
// before lpadmin runs (shared/porch-printer-add.h): queue names CUPS takes, the default name,
// the porch:// device URI, lpadmin's arguments, the PPD, and how lpadmin's failures are told
// (with stand-in programs: no CUPS is needed).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "test-util.h"

extern "C" {
#include "porch-printer-add.h"
}

namespace
{

using porch::test::WriteFile;

TEST(PrinterAdd, QueueNamesCupsTakes)
{
    for (const char *name : {"Office", "Laser@alices-laptop", "a", "HP_LaserJet-4.0", "x+y=z",
                             "(paren)", "~tilde", "semi;colon"})
        EXPECT_TRUE(porch_printer_queue_name_is_valid(name)) << name;
    EXPECT_TRUE(porch_printer_queue_name_is_valid(std::string(127, 'q').c_str()));
    EXPECT_FALSE(porch_printer_queue_name_is_valid(std::string(128, 'q').c_str()));
    EXPECT_FALSE(porch_printer_queue_name_is_valid(nullptr));
    EXPECT_FALSE(porch_printer_queue_name_is_valid(""));
    for (const char *name : {"two words", "a/b", "a\\b", "what?", "it's", "say \"hi\"", "#1",
                             "tab\there", "new\nline", "del\x7f", "Büro", "\xff\xfe", "caf\xc3"})
        EXPECT_FALSE(porch_printer_queue_name_is_valid(name)) << name;
}

TEST(PrinterAdd, DefaultQueueName)
{
    auto name = [](const char *printer, const char *host) {
        g_autofree char *q = porch_printer_default_queue_name(printer, host);
        return std::string(q);
    };
    EXPECT_EQ(name("Laser", "alices-laptop"), "Laser@alices-laptop");
    EXPECT_EQ(name("Laser", nullptr), "Laser");
    EXPECT_EQ(name("My Printer", "Bob's PC"), "My_Printer@Bob_s_PC");
    EXPECT_EQ(name("a/b\\c?d#e\"f", "h"), "a_b_c_d_e_f@h");
    EXPECT_EQ(name("Büro", "Ärztehaus"), "B_ro@_rztehaus") << "one '_' per character";
    EXPECT_EQ(name("caf\xc3", nullptr), "caf_") << "invalid UTF-8 made valid first";
    EXPECT_EQ(name(std::string(200, 'p').c_str(), "host"), std::string(127, 'p'));
    EXPECT_EQ(name(std::string(120, 'p').c_str(), "hostname"), std::string(120, 'p') + "@hostna");
    // whatever comes in, what goes out is a name CUPS takes
    for (const char *printer : {"x", "  ", "\t\n", "é è", "\x01\x02", "#", "日本語プリンタ"}) {
        g_autofree char *q = porch_printer_default_queue_name(printer, "h o s t");
        EXPECT_TRUE(porch_printer_queue_name_is_valid(q)) << printer << " -> " << q;
    }
}

TEST(PrinterAdd, PorchUri)
{
    auto uri = [](const char *host, guint16 port, const char *printer) {
        g_autofree char *u = porch_printer_porch_uri(host, port, printer);
        return std::string(u);
    };
    EXPECT_EQ(uri("alices-laptop.local", 0, "Laser"), "porch://alices-laptop.local/Laser");
    EXPECT_EQ(uri("192.168.1.20", 4422, "Laser"), "porch://192.168.1.20:4422/Laser");
    EXPECT_EQ(uri("fe80::1%eth0", 0, "Laser"), "porch://[fe80::1%25eth0]/Laser");
    EXPECT_EQ(uri("2001:db8::5", 4423, "Laser"), "porch://[2001:db8::5]:4423/Laser");
    EXPECT_EQ(uri("h", 0, "My Printer"), "porch://h/My%20Printer");
    EXPECT_EQ(uri("h", 0, "a/b?c#d%e"), "porch://h/a%2Fb%3Fc%23d%25e");
    EXPECT_EQ(uri("h", 0, "Büro"), "porch://h/B%C3%BCro");
    EXPECT_EQ(uri("h", 0, "sub-delims!$&'()*+,;=:@"), "porch://h/sub-delims!$&'()*+,;=:@");
    EXPECT_EQ(uri("Alice's laptop", 0, "P"), "porch://Alice's%20laptop/P");
    EXPECT_EQ(uri("a/b@c", 0, "P"), "porch://a%2Fb%40c/P") << "nothing in a host ends it";
    // what GLib parses back is what went in
    g_autofree char *u = porch_printer_porch_uri("fe80::1%eth0", 631, "My Printer/2");
    g_autoptr(GUri) parsed = g_uri_parse(u, G_URI_FLAGS_NONE, nullptr);
    ASSERT_NE(parsed, nullptr) << u;
    EXPECT_STREQ(g_uri_get_scheme(parsed), "porch");
    EXPECT_STREQ(g_uri_get_host(parsed), "fe80::1%eth0");
    EXPECT_EQ(g_uri_get_port(parsed), 631);
    EXPECT_STREQ(g_uri_get_path(parsed), "/My Printer/2") << "decoded, the printer's name";
}

std::vector<std::string>
Args(GStrv argv)
{
    std::vector<std::string> v;
    for (guint i = 0; argv[i] != nullptr; i++)
        v.push_back(argv[i]);
    return v;
}

TEST(PrinterAdd, LpadminArguments)
{
    g_auto(GStrv) porch =
            porch_printer_lpadmin_argv("Laser@h", "porch://h/Laser", "/x/porch.ppd", "Laser on h");
    std::vector<std::string> a = Args(porch);
    ASSERT_FALSE(a.empty());
    g_autofree char *program = g_path_get_basename(a[0].c_str());
    EXPECT_STREQ(program, "lpadmin");
    EXPECT_EQ(std::vector<std::string>(a.begin() + 1, a.end()),
              (std::vector<std::string>{"-p", "Laser@h", "-E", "-v", "porch://h/Laser", "-P",
                                        "/x/porch.ppd", "-D", "Laser on h", "-o",
                                        "printer-error-policy=abort-job", "-o",
                                        "printer-is-shared=false"}));

    g_auto(GStrv) ipp =
            porch_printer_lpadmin_argv("Office", "ipp://p:631/ipp/print", nullptr, nullptr);
    a = Args(ipp);
    EXPECT_EQ(std::vector<std::string>(a.begin() + 1, a.end()),
              (std::vector<std::string>{"-p", "Office", "-E", "-v", "ipp://p:631/ipp/print", "-m",
                                        "everywhere"}));
}

TEST(PrinterAdd, PpdFile)
{
    g_autofree char *dir = g_dir_make_tmp("porch-printer-add-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    std::string ppd = std::string(dir) + "/porch.ppd";
    ASSERT_TRUE(WriteFile(ppd, "*PPD-Adobe: \"4.3\"\n"));
    const char *saved = g_getenv("PORCH_PPD");
    std::string restore = saved != nullptr ? saved : "";

    g_setenv("PORCH_PPD", ppd.c_str(), TRUE);
    g_autoptr(GError) error = nullptr;
    g_autofree char *found = porch_printer_ppd_file(&error);
    EXPECT_EQ(std::string(found != nullptr ? found : ""), ppd);

    g_setenv("PORCH_PPD", (ppd + ".missing").c_str(), TRUE);
    g_autofree char *missing = porch_printer_ppd_file(&error);
    EXPECT_EQ(missing, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    EXPECT_NE(std::string(error->message).find(ppd + ".missing"), std::string::npos)
            << error->message;

    if (saved != nullptr)
        g_setenv("PORCH_PPD", restore.c_str(), TRUE);
    else
        g_unsetenv("PORCH_PPD");
    g_unlink(ppd.c_str());
    g_rmdir(dir);
}

// What lpadmin says, as a G_IO_ERROR: a stand-in that says it and fails.
GError *
RunSaying(const char *said, int status, bool async)
{
    g_autofree char *script = g_strdup_printf("printf '%%s\\n' \"$0\" >&2; exit %d", status);
    const char *argv[] = {"/bin/sh", "-c", script, said, nullptr};
    GError *error = nullptr;

    if (!async) {
        porch_printer_lpadmin_run(argv, nullptr, &error);
        return error;
    }
    struct Wait {
        GMainLoop *loop;
        GError *error;
    } w = {g_main_loop_new(nullptr, FALSE), nullptr};
    porch_printer_lpadmin_run_async(
            argv, nullptr,
            [](GObject *, GAsyncResult *result, gpointer data) {
                Wait *done = static_cast<Wait *>(data);
                porch_printer_lpadmin_run_finish(result, &done->error);
                g_main_loop_quit(done->loop);
            },
            &w);
    g_main_loop_run(w.loop);
    g_main_loop_unref(w.loop);
    return w.error;
}

TEST(PrinterAdd, LpadminFailuresAreTold)
{
    for (bool async : {false, true}) {
        SCOPED_TRACE(async ? "async" : "sync");
        g_autoptr(GError) ok = RunSaying("", 0, async);
        EXPECT_EQ(ok, nullptr);

        g_autoptr(GError) forbidden = RunSaying("lpadmin: Forbidden", 1, async);
        ASSERT_NE(forbidden, nullptr);
        EXPECT_TRUE(g_error_matches(forbidden, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED));
        EXPECT_STREQ(forbidden->message, "lpadmin: Forbidden") << "lpadmin's own words";
        EXPECT_NE(porch_printer_lpadmin_hint(forbidden), nullptr);

        g_autoptr(GError) scheme = RunSaying("lpadmin: Bad device-uri scheme \"porch\".", 1, async);
        ASSERT_NE(scheme, nullptr);
        EXPECT_TRUE(g_error_matches(scheme, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED));
        EXPECT_NE(porch_printer_lpadmin_hint(scheme), nullptr);

        g_autoptr(GError) other = RunSaying("lpadmin: Unable to connect to printer", 1, async);
        ASSERT_NE(other, nullptr);
        EXPECT_TRUE(g_error_matches(other, G_IO_ERROR, G_IO_ERROR_FAILED));
        EXPECT_EQ(porch_printer_lpadmin_hint(other), nullptr);

        g_autoptr(GError) silent = RunSaying("", 3, async);
        ASSERT_NE(silent, nullptr);
        EXPECT_STREQ(silent->message, "lpadmin failed (exit status 3)");
    }
    const char *argv[] = {"/nonexistent/lpadmin", "-p", "x", nullptr};
    g_autoptr(GError) error = nullptr;
    EXPECT_FALSE(porch_printer_lpadmin_run(argv, nullptr, &error));
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) << error->message;
}

} // namespace
