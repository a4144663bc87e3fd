// bench-util.h — what the benchmark programs measure alike: the CPU-seconds their commands
// took and the median of rounds.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace porch::bench
{

// CPU-seconds (user + system) of this process's children that have been waited for.
inline double
ChildrenCpu()
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The median of @v, rounds that produced no figure (NaN) left out; NaN when none is left.
inline double
Median(std::vector<double> v)
{
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace porch::bench
