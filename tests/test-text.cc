// test-text.cc — porch_text_show() (shared/porch-text.h), the one place that makes text from the
// network or from a file safe to show: each style, how it cuts, NULL and invalid UTF-8.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <glib.h>

extern "C" {
#include "porch-text.h"
}

namespace
{

std::string
Show(const char *text, PorchTextStyle style, gsize max = G_MAXSIZE, gssize len = -1)
{
    g_autofree char *s = porch_text_show(text, len, max, style);
    return s;
}

// A line break, a terminal's escape sequence, DEL, a C1 control, a bidirectional override
// and a line separator: what could fake a log line or drive a terminal.
const char kHostile[] = "a\nb\x1b[2J\x7f\xc2\x85\xe2\x80\xae\xe2\x80\xa8z";

TEST(Text, EscapeLosesNothing)
{
    EXPECT_EQ(Show("plain é", PORCH_TEXT_ESCAPE), "plain é");
    EXPECT_EQ(Show(kHostile, PORCH_TEXT_ESCAPE), "a\\nb\\x1b[2J\\x7f\\u0085\\u202e\\u2028z");
    EXPECT_EQ(Show("tab\there\r\\", PORCH_TEXT_ESCAPE), "tab\\there\\r\\\\");
    // invalid UTF-8 becomes U+FFFD
    EXPECT_EQ(Show("a\xff"
                   "b",
                   PORCH_TEXT_ESCAPE),
              "a\xef\xbf\xbd"
              "b");
    // cut: the first max bytes, then an ellipsis
    EXPECT_EQ(Show("abcdef", PORCH_TEXT_ESCAPE, 3), "abc…");
    EXPECT_EQ(Show("abc", PORCH_TEXT_ESCAPE, 3), "abc");
    // with a length, a NUL is text too
    EXPECT_EQ(Show("a\0b", PORCH_TEXT_ESCAPE, G_MAXSIZE, 3), "a\xef\xbf\xbd"
                                                             "b");
    g_autofree char *same = porch_text_escape(kHostile, -1, G_MAXSIZE);
    EXPECT_EQ(same, Show(kHostile, PORCH_TEXT_ESCAPE));
}

TEST(Text, CStringIsPlainAscii)
{
    EXPECT_EQ(Show("--bo\x1b[31mgus", PORCH_TEXT_C_STRING), "--bo\\033[31mgus");
    EXPECT_EQ(Show("\"é\"\n", PORCH_TEXT_C_STRING), "\\\"\\303\\251\\\"\\n");
    EXPECT_EQ(Show("abcdef", PORCH_TEXT_C_STRING, 3), "abc") << "no ellipsis";
}

TEST(Text, OneLineHasSpacesForControlCharacters)
{
    EXPECT_EQ(Show("Title\twith\nbreaks\x7f", PORCH_TEXT_ONE_LINE), "Title with breaks ");
    // only ASCII control characters: C1 and format characters stay
    EXPECT_EQ(Show("\xc2\x85\xe2\x80\xae", PORCH_TEXT_ONE_LINE), "\xc2\x85\xe2\x80\xae");
    EXPECT_EQ(Show("a\xff", PORCH_TEXT_ONE_LINE), "a\xef\xbf\xbd");
    // cut at a character: "é" (2 bytes) does not fit in 2 bytes after "a"
    EXPECT_EQ(Show("aéb", PORCH_TEXT_ONE_LINE, 2), "a");
    EXPECT_EQ(Show("aéb", PORCH_TEXT_ONE_LINE, 3), "aé");
    // a length of 0 is empty, whatever the pointer
    EXPECT_EQ(Show(nullptr, PORCH_TEXT_ONE_LINE, 10, 0), "");
}

TEST(Text, TerminalHasQuestionMarks)
{
    EXPECT_EQ(Show(kHostile, PORCH_TEXT_TERMINAL), "a?b?[2J????z");
    EXPECT_EQ(Show("ünïcode ok", PORCH_TEXT_TERMINAL), "ünïcode ok");
    EXPECT_EQ(Show("a\xff", PORCH_TEXT_TERMINAL), "a\xef\xbf\xbd");
    EXPECT_EQ(Show("aéb", PORCH_TEXT_TERMINAL, 2), "a");
}

TEST(Text, AsciiAndWord)
{
    EXPECT_EQ(Show("no such peer\n\x1b\xc3\xa9", PORCH_TEXT_ASCII), "no such peer????");
    EXPECT_EQ(Show("abcdef", PORCH_TEXT_ASCII, 4), "abcd");
    EXPECT_EQ(Show("10.0.0.5 \n\x1b[2J\xc3\xa9", PORCH_TEXT_WORD), "10.0.0.5[2J");
    EXPECT_EQ(Show("", PORCH_TEXT_WORD), "");
}

TEST(Text, NullIsSaidSo)
{
    for (PorchTextStyle style : {PORCH_TEXT_ESCAPE, PORCH_TEXT_C_STRING, PORCH_TEXT_ONE_LINE,
                                 PORCH_TEXT_TERMINAL, PORCH_TEXT_ASCII, PORCH_TEXT_WORD})
        EXPECT_EQ(Show(nullptr, style), "(null)") << style;
}

// Whatever the input, no style lets a control byte through, and the UTF-8 styles give UTF-8.
TEST(Text, NoStyleLetsAControlByteThrough)
{
    std::string all;
    for (int c = 1; c < 256; c++)
        all += (char)c;
    for (PorchTextStyle style : {PORCH_TEXT_ESCAPE, PORCH_TEXT_C_STRING, PORCH_TEXT_ONE_LINE,
                                 PORCH_TEXT_TERMINAL, PORCH_TEXT_ASCII, PORCH_TEXT_WORD}) {
        std::string s = Show(all.c_str(), style);
        EXPECT_TRUE(g_utf8_validate(s.c_str(), (gssize)s.size(), nullptr)) << style;
        for (unsigned char c : s)
            EXPECT_FALSE(c < 0x20 || c == 0x7f) << style << ": " << (int)c;
    }
}

// GLib makes its C locale on the first number a process reads; ctest runs each test in a
// process of its own, so here that first read happens in 16 threads at once. GLib 2.74's
// g_ascii_string_to_unsigned() can refuse "10" then (porch-text.h says why).
#ifndef PORCH_TEST_NUMBER_READER
#define PORCH_TEST_NUMBER_READER porch_text_to_unsigned
#endif
TEST(Text, NumbersReadInManyThreadsAtOnce)
{
    constexpr int kThreads = 16;
    std::atomic<int> waiting{kThreads}, failed{0};
    std::vector<std::thread> threads;

    for (int i = 0; i < kThreads; i++)
        threads.emplace_back([&] {
            guint64 u = 0;
            gint64 v = 0;

            waiting--;
            while (waiting.load() > 0) {
            }
            if (!PORCH_TEST_NUMBER_READER("10", 10, 0, 100, &u, nullptr) || u != 10)
                failed++;
            if (!porch_text_to_signed("-7", 10, -10, 10, &v, nullptr) || v != -7)
                failed++;
        });
    for (std::thread &t : threads)
        t.join();
    EXPECT_EQ(failed.load(), 0);
    guint64 u = 0;
    EXPECT_FALSE(porch_text_to_unsigned("101", 10, 0, 100, &u, nullptr));
    EXPECT_FALSE(porch_text_to_unsigned("-1", 10, 0, 100, &u, nullptr));
}

} // namespace
