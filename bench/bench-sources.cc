// bench-sources — a large file fetched from one neighbour and from two, in the same run.
//
//   sudo build/bench/bench-sources [--size MIB] [--rounds N] [--rate MBIT]
//
// Test-LAN hosts 1 and 3 hold the same file (--size MiB, default 1024) in a share their
// porchd has indexed; host 2 fetches it with `porch get --sources 1` (the origin alone) and
// with `porch get` (the origin and host 3), alternately, --rounds times (default 3). What each
// host sends is shaped to --rate Mbit/s (default 400, a good Wi-Fi uplink; 0: unshaped, when
// the two sources, the client and the veth links share this machine's CPUs and the figure
// says more about the CPUs than about the sources). Prints each round, then the medians of
// the wall time and of the client's CPU-seconds (getrusage of the children), and the speedup.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <glib.h>

#include "test-util.h"
#include "testlan.h"

#include "bench-util.h"

using Clock = std::chrono::steady_clock;
using namespace porch::test;
using porch::bench::ChildrenCpu;
using porch::bench::Median;

int
main(int argc, char **argv)
{
    long size_mib = 1024, rounds = 3, rate = 400;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string opt = argv[i];
        long v = strtol(argv[i + 1], nullptr, 10);
        if (opt == "--size" && v > 64)
            size_mib = v;
        else if (opt == "--rounds" && v > 0)
            rounds = v;
        else if (opt == "--rate" && v >= 0)
            rate = v;
        else {
            fprintf(stderr, "usage: %s [--size MIB (> 64)] [--rounds N] [--rate MBIT]\n", argv[0]);
            return 2;
        }
    }
    if (geteuid() != 0) {
        std::printf("bench-sources: needs root (it runs a test LAN of network namespaces); "
                    "skipped\n");
        return 77;
    }
    std::string missing = TestLan::missing_tools({"tc", "sqlite3", "touch", "unshare"});
    if (!missing.empty()) {
        std::printf("bench-sources: missing %s (Debian: iproute2 sqlite3 coreutils "
                    "util-linux); skipped\n",
                    missing.c_str());
        return 77;
    }
    std::string why;
    bool may_skip = false;
    auto lan = TestLan::Create(3, &why, &may_skip);
    if (!lan) {
        fprintf(stderr, "bench-sources: no test LAN: %s\n", why.c_str());
        return 1;
    }
    std::string xdg = lan->host_dir(2) + "/xdg";
    MakeDirs(xdg + "/porch", 0700);
    std::string sha;
    for (int h : {1, 3}) {
        std::string dir = lan->host_dir(h);
        MakeDirs(dir + "/media", 0755);
        sha = MakeRandomFile(dir + "/media/big.bin", (off_t)size_mib << 20, 11);
        TestLan::run_local({"touch", "-d", "-1 min", dir + "/media/big.bin"});
        WriteFile(dir + "/porch.conf",
                  "[porch]\nname = Source " + std::to_string(h) + "\nlisten = " + lan->address(h) +
                          "\n\n[share Media]\npath = " + dir + "/media\nread = guest\n");
        pid_t pid = lan->spawn(h,
                               {PORCH_PROGRAM_PORCHD, "--config", dir + "/porch.conf",
                                "--state-dir", dir + "/state", "--runtime-dir", dir + "/run"},
                               dir + "/porchd.log");
        if (!PorchdStarted(lan.get(), pid, dir + "/porchd.log")) {
            fprintf(stderr, "bench-sources: porchd on host %d did not start\n", h);
            return 1;
        }
    }
    printf("file: %ld MiB on hosts 1 and 3; waiting for both indexes...\n", size_mib);
    fflush(stdout);
    for (int h : {1, 3}) {
        std::string db = lan->host_dir(h) + "/state/index.sqlite";
        if (!WaitFor(
                    [&] {
                        return TestLan::run_local({"sqlite3", db, "SELECT count(*) FROM files"})
                                       .out == "1\n";
                    },
                    600)) {
            fprintf(stderr, "bench-sources: host %d did not index the file\n", h);
            return 1;
        }
    }
    auto porch = [&](std::vector<std::string> args) {
        std::vector<std::string> a = {"env", "LANG=C.UTF-8", "XDG_CONFIG_HOME=" + xdg,
                                      PORCH_PROGRAM_PORCH_CLI};
        a.insert(a.end(), args.begin(), args.end());
        return lan->run(2, a, 3600);
    };
    for (int h : {1, 3})
        porch({"ls", "Source " + std::to_string(h)});
    if (rate > 0)
        for (int h : {1, 3})
            lan->run(h, {"tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate",
                         std::to_string(rate) + "mbit", "burst", "512kbit", "latency", "400ms"});
    printf("each source's uplink: %s\n\n",
           rate > 0 ? (std::to_string(rate) + " Mbit/s").c_str() : "unshaped");
    printf("%-6s %-10s %10s %12s %10s\n", "round", "sources", "wall s", "client CPU s", "MB/s");
    std::string dest = lan->host_dir(2) + "/big.bin";
    std::vector<double> wall[2], cpu[2];
    for (long r = 1; r <= rounds; r++) {
        for (int mode : {0, 1}) {
            unlink(dest.c_str());
            std::vector<std::string> args = {"get"};
            if (mode == 0) {
                args.push_back("--sources");
                args.push_back("1");
            }
            args.push_back("Source 1/Media/big.bin");
            args.push_back(dest);
            double c0 = ChildrenCpu();
            auto t0 = Clock::now();
            RunResult res = porch(args);
            double secs = std::chrono::duration<double>(Clock::now() - t0).count();
            double c = ChildrenCpu() - c0;
            if (!res.ok() || Sha256File(dest) != sha) {
                fprintf(stderr, "bench-sources: the fetch failed: %s\n", res.describe().c_str());
                return 1;
            }
            wall[mode].push_back(secs);
            cpu[mode].push_back(c);
            printf("%-6ld %-10s %10.2f %12.2f %10.1f\n", r, mode == 0 ? "1" : "2", secs, c,
                   (double)(size_mib << 20) / secs / 1e6);
            /* who sent what: porch's summary line */
            size_t at = res.err.find("verified, from");
            if (at != std::string::npos)
                printf("         %s", res.err.substr(at).c_str());
            fflush(stdout);
        }
    }
    unlink(dest.c_str());
    double w1 = Median(wall[0]), w2 = Median(wall[1]);
    printf("\nmedians: one source %.2f s (%.2f CPU-s), two sources %.2f s (%.2f CPU-s): "
           "%.2fx the speed\n",
           w1, Median(cpu[0]), w2, Median(cpu[1]), w2 > 0 ? w1 / w2 : 0);
    return 0;
}
