/* reslimits.c - usage against the process's and the cgroup's limits. */
#include "reslimits.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "probes.h"

static double nproc_limit = -1, threads_max = -1, pids_max = -1;
static double as_limit = -1, mem_max = -1;

/* A small file's first number; -1 for "max", absent or unreadable. */
static double read_number(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    return end == buf ? -1 : v;
}

static double rlimit(int which)
{
    struct rlimit rl;
    if (getrlimit(which, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return -1;
    return (double)rl.rlim_cur;
}

/* The cgroup's files: v2 ("0::/path"), else v1's memory and pids
 * hierarchies (the path as this process's namespace shows it, or the
 * mount's root, which a container's namespace makes its own cgroup). */
static char cg_mem[512], cg_pids[512];
static const char *mem_max_file, *mem_cur_file;

static void find_cgroup(void)
{
    char buf[2048];
    int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *save, *l = strtok_r(buf, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char *path = strchr(l, ':');
        path = path ? strchr(path + 1, ':') : NULL;
        if (!path)
            continue;
        path++;
        if (strcmp(path, "/") == 0)
            path = "";
        char dir[600];
        if (strncmp(l, "0::", 3) == 0) {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", path);
            if (access(dir, F_OK) == 0 && !cg_mem[0]) {
                snprintf(cg_mem, sizeof cg_mem, "%s", dir);
                snprintf(cg_pids, sizeof cg_pids, "%s", dir);
                mem_max_file = "memory.max";
                mem_cur_file = "memory.current";
            }
        } else if (strstr(l, ":memory:")) {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", path);
            if (access(dir, F_OK) != 0)
                snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory");
            snprintf(cg_mem, sizeof cg_mem, "%s", dir);
            mem_max_file = "memory.limit_in_bytes";
            mem_cur_file = "memory.usage_in_bytes";
        } else if (strstr(l, ":pids:")) {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/pids%s", path);
            if (access(dir, F_OK) != 0)
                snprintf(dir, sizeof dir, "/sys/fs/cgroup/pids");
            snprintf(cg_pids, sizeof cg_pids, "%s", dir);
        }
    }
}

static double cgroup_number(const char *dir, const char *file)
{
    char path[700];
    if (!dir[0] || !file)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    double v = read_number(path);
    return v >= 0x1p62 ? -1 : v;    /* v1 says "no limit" so */
}

void lh_limits_init(void)
{
    /* root (CAP_SYS_RESOURCE) is not held to RLIMIT_NPROC */
    nproc_limit = geteuid() == 0 ? -1 : rlimit(RLIMIT_NPROC);
    threads_max = read_number("/proc/sys/kernel/threads-max");
    as_limit = rlimit(RLIMIT_AS);
    find_cgroup();
    pids_max = cgroup_number(cg_pids, "pids.max");
    mem_max = cgroup_number(cg_mem, mem_max_file);
}

static double vm_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return NAN;
    buf[n] = '\0';
    return strtod(buf, NULL) * (double)sysconf(_SC_PAGESIZE);
}

/* Each resource with a limit: what is used now and how much the last
 * phase added. */
typedef struct use {
    const char *resource;
    int metric;
    const char *limit_name;
    double used, grew, limit;
} use;

static int usage(const double *row, const double *prev, use *u)
{
    int n = 0;
    long open_fds, fd_limit;
    if (lh_probes_fd_table(&open_fds, &fd_limit) >= 0 && fd_limit > 0)
        u[n++] = (use){ "proc.fds", LH_M_PROC_FDS, "RLIMIT_NOFILE",
                        (double)open_fds,
                        row[LH_M_PROC_FDS] - prev[LH_M_PROC_FDS],
                        (double)fd_limit };
    double th = row[LH_M_PROC_THREADS];
    double grew = th - prev[LH_M_PROC_THREADS];
    static const char *th_names[] = {
        "RLIMIT_NPROC", "kernel.threads-max", "cgroup pids.max",
    };
    double th_limits[] = { nproc_limit, threads_max, pids_max };
    for (int i = 0; i < 3; i++)
        if (th_limits[i] > 0)
            u[n++] = (use){ "proc.threads", LH_M_PROC_THREADS, th_names[i],
                            th, grew, th_limits[i] };
    /* memory: the growth of a phase is taken from RSS */
    grew = row[LH_M_PROC_RSS_BYTES] - prev[LH_M_PROC_RSS_BYTES];
    if (as_limit > 0)
        u[n++] = (use){ "memory", -1, "RLIMIT_AS", vm_bytes(), grew,
                        as_limit };
    if (mem_max > 0)
        u[n++] = (use){ "memory", -1, "the cgroup's memory limit",
                        cgroup_number(cg_mem, mem_cur_file), grew, mem_max };
    return n;
}

#define MAX_USES 8

int lh_limits_check(const double *row, const double *prev,
                    lh_limit_hit *hit)
{
    use u[MAX_USES];
    int n = usage(row, prev, u), found = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(u[i].used))
            continue;
        double next = u[i].used + (u[i].grew > 0 ? u[i].grew : 0);
        if (next < LH_LIMIT_NEAR * u[i].limit)
            continue;
        if (found && next / u[i].limit <= hit->next / hit->limit)
            continue;
        *hit = (lh_limit_hit){ u[i].resource, u[i].metric,
                               u[i].limit_name, u[i].used, u[i].limit,
                               next };
        found = 1;
    }
    return found;
}

double lh_limits_headroom(const double *row, const double *prev,
                          double iterations, lh_limit_hit *hit)
{
    use u[MAX_USES];
    int n = usage(row, prev, u);
    double best = INFINITY;
    for (int i = 0; i < n; i++) {
        if (!isfinite(u[i].used) || !(u[i].grew > 0) || !(iterations > 0))
            continue;
        double left = (LH_LIMIT_NEAR * u[i].limit - u[i].used) /
                      (u[i].grew / iterations);
        if (left < 0)
            left = 0;
        if (left < best) {
            best = left;
            *hit = (lh_limit_hit){ u[i].resource, u[i].metric,
                                   u[i].limit_name, u[i].used, u[i].limit,
                                   u[i].used + u[i].grew };
        }
    }
    return best;
}

void lh_limit_describe(const lh_limit_hit *hit, char *out, unsigned len)
{
    int pct = (int)floor(100 * hit->used / hit->limit);
    if (hit->metric < 0)
        snprintf(out, len, "%s at %d%% of %s (%.0f of %.0f MiB)",
                 hit->resource, pct, hit->limit_name, hit->used / 1048576,
                 hit->limit / 1048576);
    else
        snprintf(out, len, "%s at %d%% of %s (%.0f of %.0f)",
                 hit->resource, pct, hit->limit_name, hit->used,
                 hit->limit);
    if (hit->used < LH_LIMIT_NEAR * hit->limit) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "; the next phase would pass %d%%",
                 (int)(100 * LH_LIMIT_NEAR));
    }
}
