/* SPDX-License-Identifier: MIT */
/* flight.c -- the flight recorder's dump of a full window: a service-like
 * load (32 tasks, each taking a lock, marking, releasing and sleeping 5 ms:
 * about 40k events a second, 1.2M in the window) runs under co_flight_start(30 s, 64 MB) for
 * --seconds (default 32, so the window is full and periods have been
 * dropped), then co_flight_dump; the clock runs until the file is there
 * (it appears complete, by rename).  Also: what the window held, the
 * recorder's accounting (peak within the budget) and the helper process's
 * resident memory.
 *
 * usage: flight [--seconds N] [--out PATH]
 * Prints key=value lines: window_s, events, bytes_peak, max_bytes,
 * dump_s, dump_mb, helper_rss_mb, dump_cpu_s (the CPU time of the fork
 * that wrote it, both its threads, from the helper's reaped children),
 * load (the 1-minute load average as the dump began: on a shared 2-core
 * host the wall time is mostly the share of the CPU the dump got). */
#include "bench.h"
#include <sys/stat.h>
#include <unistd.h>

static co_lock_t lock;
static volatile int stop;
static double seconds = 32;
static const char *out = "/tmp/coscope-bench-flight.db";

static int worker(void *arg)
{
    while (!stop) {
        if (co_lock_acquire(&lock) < 0) return -1;
        co_mark("request");
        co_lock_release(&lock);
        co_sleep(5);
    }
    return 0;
}

static long helper_pid(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return pid;
}

/* The CPU time of the helper's children it has reaped (its dumps are
 * written by a fork of it), in seconds; -1 if unknown. */
static double helper_children_cpu_s(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long long cutime, cstime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %llu %llu", &cutime, &cstime) != 2)
        return -1;
    return (double)(cutime + cstime) / (double)sysconf(_SC_CLK_TCK);
}

static double load1(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = -1;
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

static long helper_rss_kb(long pid)
{
    char path[64], buf[256];
    FILE *f;
    if (!pid) return -1;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (!(f = fopen(path, "r"))) return -1;
    long kb = -1;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

static int main_task(void *arg)
{
    co_lock_init(&lock);
    co_task_t t[32];
    for (int i = 0; i < 32; i++) t[i] = co_spawn(worker, NULL);
    co_sleep((uint64_t)(seconds * 1000));
    co_flight_stats_t s;
    co_flight_stats(&s);
    long helper = helper_pid();
    long rss = helper_rss_kb(helper);
    double cpu0 = helper_children_cpu_s(helper), load = load1();
    unlink(out);
    double t0 = bench_now_s();
    int r = co_flight_dump(out);
    struct stat st;
    while (r == 0 && stat(out, &st) != 0 && bench_now_s() - t0 < 60) co_sleep(5);
    double dt = bench_now_s() - t0;
    co_sleep(200); /* the helper reaps the fork that wrote it */
    double cpu1 = helper_children_cpu_s(helper);
    stop = 1;
    co_gather(t, 32, NULL, 0);
    if (r < 0 || stat(out, &st) != 0) {
        fprintf(stderr, "flight: no dump (%s)\n", r < 0 ? co_strerror(r) : "timed out");
        return -1;
    }
    printf("events_per_s=%.0f\n", (double)s.events / ((double)s.window_ms / 1000));
    printf("window_s=%.1f\nevents=%llu\nbytes_peak=%llu\nmax_bytes=%llu\ndump_s=%.3f\ndump_mb=%.1f\nhelper_rss_mb=%.1f\n",
           (double)s.window_ms / 1000, (unsigned long long)s.events, (unsigned long long)s.bytes_peak,
           (unsigned long long)s.max_bytes, dt, (double)st.st_size / 1048576, rss / 1024.0);
    printf("dump_cpu_s=%.2f\nload=%.1f\n", cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1, load);
    fprintf(stderr, "flight: a %.0f s window of %llu events dumped in %.3f s (%.2f s of CPU, load %.1f; target <= 2 s)\n",
            (double)s.window_ms / 1000, (unsigned long long)s.events, dt, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1,
            load);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
    }
    int r = co_flight_start(30000, 64u << 20);
    if (r < 0) {
        fprintf(stderr, "flight: co_flight_start: %s\n", co_strerror(r));
        return 1;
    }
    r = co_run(main_task, NULL);
    co_flight_stop();
    return r < 0;
}
