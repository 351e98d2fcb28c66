/* The event clock.
 *
 * Every call event carries a monotonic timestamp, so the clock is on the
 * hottest path. clock_gettime costs ~23 ns here, rdtsc ~10 ns. Where the
 * kernel itself keeps time with the TSC (clocksource "tsc": invariant,
 * synchronised across CPUs), the flusher calibrates the TSC against
 * CLOCK_MONOTONIC over its first 20 ms (each reading pair is within ~30 ns,
 * so the rate is known to a few ppm) and publishes a conversion; until
 * then, and on
 * any other machine, events use clock_gettime. Both give nanoseconds on the
 * CLOCK_MONOTONIC time line, so durations that straddle the switch are
 * right. LOONG_CLOCK=monotonic turns the TSC off.
 */
#include "rt.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

rt_tsc_conv rt_conv;
atomic_int rt_conv_ready;
static int tsc_wanted = -1; /* -1: not decided yet */
static uint64_t cal_tsc, cal_ns;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rt_now_ns(void)
{
#if HAVE_TSC
    if (atomic_load_explicit(&rt_conv_ready, memory_order_acquire))
        return rt_tsc_ns();
#endif
    return mono_ns();
}

uint64_t rt_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int kernel_uses_tsc(void)
{
    char buf[64] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/"
                  "current_clocksource",
                  O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 3 && !strncmp(buf, "tsc", 3) && (buf[3] == '\n' || !buf[3]);
}

/* A (TSC, monotonic) pair taken as close together as we can. */
static void pair(uint64_t *tsc, uint64_t *ns)
{
#if HAVE_TSC
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = __rdtsc();
        uint64_t t = mono_ns();
        uint64_t b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = t;
        }
    }
#else
    *tsc = 0;
    *ns = mono_ns();
#endif
}

/* Called by the flusher at its start and at every wake-up. */
void rt_clock_calibrate(void)
{
    if (atomic_load(&rt_conv_ready))
        return;
    if (tsc_wanted < 0) {
        const char *env = getenv("LOONG_CLOCK");
        tsc_wanted = HAVE_TSC && kernel_uses_tsc() &&
                     !(env && !strcmp(env, "monotonic"));
    }
    if (!tsc_wanted)
        return;
    uint64_t tsc = 0, ns = 0;
    pair(&tsc, &ns);
    if (!cal_ns) {
        cal_tsc = tsc;
        cal_ns = ns;
        return;
    }
    if (ns - cal_ns < 20000000ull || tsc <= cal_tsc)
        return;
    long double per_tick = (long double)(ns - cal_ns) / (tsc - cal_tsc);
    if (per_tick <= 0 || per_tick > 100) /* a TSC under 10 MHz: no */
        return;
    rt_conv.mult = (uint64_t)(per_tick * 4294967296.0L);
    rt_conv.tsc_base = tsc;
    rt_conv.ns_base = ns;
    atomic_store_explicit(&rt_conv_ready, 1, memory_order_release);
}

/* After fork the TSC and the monotonic clock go on: nothing to redo. */
int rt_clock_is_tsc(void)
{
    return atomic_load(&rt_conv_ready);
}
