/* fake-clock.c — an LD_PRELOAD library for tests: the process's wall clock (CLOCK_REALTIME
 * through clock_gettime(), gettimeofday() and time()) runs PORCH_TEST_CLOCK_OFFSET seconds off
 * (negative: behind). The machine's clock is shared by every namespace of the test LAN and by
 * everything else on it, so a test of `porch doctor HOST` on a clock far off moves one
 * process's view of it instead. Other clocks are left alone. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long
offset(void)
{
    const char *e = getenv("PORCH_TEST_CLOCK_OFFSET");

    return e != NULL ? strtol(e, NULL, 10) : 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    int rc;

    if (real == NULL)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += offset();
    return rc;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    static int (*real)(struct timeval *restrict, void *restrict);
    int rc;

    if (real == NULL)
        real = (int (*)(struct timeval *restrict, void *restrict))dlsym(RTLD_NEXT, "gettimeofday");
    rc = real(tv, tz);
    if (rc == 0)
        tv->tv_sec += offset();
    return rc;
}

time_t
time(time_t *t)
{
    struct timespec ts;
    time_t now = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? ts.tv_sec : (time_t)-1;

    if (t != NULL)
        *t = now;
    return now;
}
