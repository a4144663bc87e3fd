// bench-discovery — how long a neighbour waits to see what porchd publishes, against
// avahi-publish measured in the same run on the same test LAN.
//
//   sudo build/bench/bench-discovery [SAMPLES]
//
// Host 2 runs `avahi-browse -p _sftp-ssh._tcp` (streaming) and the time each '+' (new) or
// '-' (gone) line for a service appears is taken from host 1's actions:
//   avahi-publish started      -> visible      (avahi's own time: probing and announcing)
//   avahi-publish stopped      -> gone
//   porchd started             -> its share visible
//   SIGHUP with a share added  -> that share visible
//   porchd stopped (SIGTERM)   -> its shares gone
// Prints each sample and the median, and porchd's figures as a difference to avahi's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <glib.h>

#include "testlan.h"
#include "test-util.h"

using Clock = std::chrono::steady_clock;

namespace
{

using porch::test::ReadFile;

// avahi-browse -p escapes spaces as \032.
std::string
Escaped(const std::string &name)
{
    std::string out;
    for (char c : name)
        out += c == ' ' ? std::string("\\032") : std::string(1, c);
    return out;
}

// Waits until `log` has a line starting with `kind` ('+' or '-') for instance `name`;
// returns milliseconds since `since`, or -1 after 10 s.
double
WaitFor(const std::string &log, char kind, const std::string &name, Clock::time_point since,
        size_t from)
{
    std::string needle = std::string(1, kind) + ";eth0;IPv4;" + Escaped(name) + ";";
    while (Clock::now() - since < std::chrono::seconds(10)) {
        std::string text = ReadFile(log);
        if (text.find(needle, from) != std::string::npos)
            return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
}

double
Median(std::vector<double> v)
{
    if (v.empty())
        return -1;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void
Report(const char *what, const std::vector<double> &v, double base = -1)
{
    std::printf("%-34s", what);
    for (double x : v)
        std::printf(" %7.0f", x);
    if (base >= 0)
        std::printf("   median %6.0f ms (%+.0f ms against avahi-publish)\n", Median(v),
                    Median(v) - base);
    else
        std::printf("   median %6.0f ms\n", Median(v));
}

} // namespace

int
main(int argc, char **argv)
{
    int samples = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::string why;
    bool may_skip = false;
    auto lan = porch::test::TestLan::Create(2, &why, &may_skip);
    if (!lan) {
        std::fprintf(stderr, "bench-discovery: no test LAN: %s\n", why.c_str());
        return 1;
    }
    std::string d = lan->host_dir(1);
    std::string browse_log = lan->host_dir(2) + "/browse.log";
    g_mkdir_with_parents((d + "/share").c_str(), 0755);
    g_mkdir_with_parents((d + "/state").c_str(), 0700);
    lan->spawn(2, {"avahi-browse", "-p", "_sftp-ssh._tcp"}, browse_log);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    std::vector<double> base_up, base_down, start_up, hup_up, stop_down;
    for (int i = 0; i < samples; i++) {
        // avahi alone
        std::string base = "Base " + std::to_string(i);
        size_t from = ReadFile(browse_log).size();
        auto t0 = Clock::now();
        pid_t pub =
                lan->spawn(1, {"avahi-publish", "-s", base, "_sftp-ssh._tcp", "4422", "path=/x"});
        base_up.push_back(WaitFor(browse_log, '+', base, t0, from));
        t0 = Clock::now();
        lan->stop(pub, SIGTERM);
        base_down.push_back(WaitFor(browse_log, '-', base, t0, from));

        // porchd
        std::string name = "Bench " + std::to_string(i);
        std::string conf = "[porch]\nname = " + name + "\nlisten = " + lan->address(1) +
                           "\n[share A]\npath = " + d + "/share\nread = guest\n";
        g_file_set_contents((d + "/porch.conf").c_str(), conf.c_str(), -1, nullptr);
        from = ReadFile(browse_log).size();
        t0 = Clock::now();
        pid_t porchd = lan->spawn(1, {PORCH_PROGRAM_PORCHD, "--config", d + "/porch.conf",
                                      "--state-dir", d + "/state"});
        start_up.push_back(WaitFor(browse_log, '+', "A on " + name, t0, from));

        conf += "[share B]\npath = " + d + "/share\nread = guest\n";
        g_file_set_contents((d + "/porch.conf").c_str(), conf.c_str(), -1, nullptr);
        t0 = Clock::now();
        kill(porchd, SIGHUP);
        hup_up.push_back(WaitFor(browse_log, '+', "B on " + name, t0, from));

        t0 = Clock::now();
        kill(porchd, SIGTERM);
        stop_down.push_back(WaitFor(browse_log, '-', "A on " + name, t0, from));
        lan->stop(porchd, SIGTERM);
    }

    std::printf("bench-discovery: %d samples, test LAN of 2 hosts, times in ms on host 2\n",
                samples);
    Report("avahi-publish started -> visible", base_up);
    Report("porchd started -> share visible", start_up, Median(base_up));
    Report("SIGHUP share added -> visible", hup_up, Median(base_up));
    Report("avahi-publish stopped -> gone", base_down);
    Report("porchd stopped -> shares gone", stop_down, Median(base_down));
    return 0;
}
