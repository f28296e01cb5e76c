/* SPDX-License-Identifier: MIT */
/* cmd_ps.c -- `coscope ps PID [--json] [--no-pause]`: every loop of a
 * running coscope program, then every task with what it awaits, since
 * when, who holds what it waits for, and where it was spawned.  Read from
 * outside (tracer/procread.h): works while the program is blocked in a
 * system call, spinning, or deadlocked. */
#include "ps.h"
#include "cli.h"
#include "../runtime/coscope.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char PS_USAGE[] =
    "usage: coscope ps PID [--json] [--no-pause] [--timing]\n"
    "\n"
    "Every loop and task of running coscope program PID, read from outside:\n"
    "what each task awaits (kind, resource, file:line), since when, the holder\n"
    "of the lock or semaphore it waits on, and where it was spawned.  The\n"
    "program is stopped for the read (ptrace) and always resumed; --no-pause\n"
    "reads it running and marks rows that changed under the read (torn).\n"
    "--timing prints the read and pause times on stderr.\n";

static int yama_scope(void)
{
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    int v = -1;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

void cli_ps_refuse(const char *cmd, int pid, int err, const tr_ps_info *info)
{
    switch (err) {
    case TR_PS_ENOPROC:
        fprintf(stderr, "coscope %s: no process %d\n", cmd, pid);
        break;
    case TR_PS_EPERM: {
        if (info->tracer_pid) {
            fprintf(stderr, "coscope %s: process %d is already traced by process %d (a debugger?): detach it first\n",
                    cmd, pid, info->tracer_pid);
            break;
        }
        int y = yama_scope();
        char why[96] = "";
        if (y > 0) snprintf(why, sizeof why, " (kernel.yama.ptrace_scope is %d)", y);
        fprintf(stderr,
                "coscope %s: not allowed to read process %d%s: run coscope as the same user with "
                "kernel.yama.ptrace_scope=0, or as root / with CAP_SYS_PTRACE\n",
                cmd, pid, why);
        break;
    }
    case TR_PS_ENOTCO:
        fprintf(stderr, "coscope %s: process %d does not use coscope (no %s in its executable or libraries)\n", cmd,
                pid, "co_debug_offsets");
        break;
    case TR_PS_EVERSION:
        fprintf(stderr,
                "coscope %s: process %d has coscope layout version %u (%s); this coscope reads version %d: "
                "use the coscope that matches its libcoscope\n",
                cmd, pid, info->version, info->object, 1);
        break;
    case TR_PS_EBADTABLE:
        fprintf(stderr, "coscope %s: process %d has a damaged coscope layout table (%s)\n", cmd, pid, info->object);
        break;
    case TR_PS_ENOATTACH:
        fprintf(stderr, "coscope %s: process %d runs a libcoscope older than coscope attach (%s): "
                        "rebuild it, or use coscope ps/tree\n", cmd, pid, info->object);
        break;
    case TR_PS_EEXITED:
        fprintf(stderr, "coscope %s: process %d exited during the read\n", cmd, pid);
        break;
    default:
        fprintf(stderr, "coscope %s: reading process %d: %s\n", cmd, pid, strerror(-err));
    }
}

int cli_ps_read(const char *cmd, int argc, char **argv, tr_ps_snap **snap, int *json, int *timing)
{
    int pid = 0, flags = 0;
    *json = *timing = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(!strcmp(cmd, "ps") ? PS_USAGE : "usage: coscope tree PID [--json] [--no-pause] [--timing]\n\n"
                  "The await tree of running coscope program PID: each task under the task that awaits it\n"
                  "(or, if none, that spawned it), then the waits-for chains: cycles drawn and named, and\n"
                  "chains that end in something nothing can wake marked.\n", stdout);
            exit(0);
        } else if (!strcmp(a, "--json")) {
            *json = 1;
        } else if (!strcmp(a, "--no-pause")) {
            flags |= TR_PS_NO_PAUSE;
        } else if (!strcmp(a, "--timing")) {
            *timing = 1;
        } else if (!pid && a[0] >= '0' && a[0] <= '9') {
            char *end;
            long v = strtol(a, &end, 10);
            if (*end || v <= 0 || v > 0x7fffffff) {
                fprintf(stderr, "coscope %s: '%s' is not a process id\n", cmd, a);
                return 2;
            }
            pid = (int)v;
        } else {
            fprintf(stderr, "coscope %s: unexpected argument '%s' (see coscope %s --help)\n", cmd, a, cmd);
            return 2;
        }
    }
    if (!pid) {
        fprintf(stderr, "coscope %s: which process? usage: coscope %s PID [--json] [--no-pause]\n", cmd, cmd);
        return 2;
    }
    tr_ps_info info;
    int r = tr_ps_snapshot(pid, flags, snap, &info);
    if (r < 0) {
        cli_ps_refuse(cmd, pid, r, &info);
        return 1;
    }
    if (*timing)
        fprintf(stderr, "coscope %s: read %zu tasks on %zu loops in %.1f ms; process paused %.1f ms\n", cmd,
                (*snap)->ntasks, (*snap)->nloops, (*snap)->read_ms, (*snap)->pause_ms);
    return 0;
}

void cli_ps_loc(const tr_ps_loc *l, char *buf, size_t size)
{
    if (!l->file) {
        snprintf(buf, size, "?");
        return;
    }
    /* The last two components: enough to tell files apart, short enough to read. */
    const char *f = l->file, *slash = strrchr(f, '/');
    if (slash && slash > f) {
        const char *p = slash - 1;
        while (p > f && *p != '/') p--;
        f = *p == '/' ? p + 1 : p;
    }
    snprintf(buf, size, "%s:%d", f, l->line);
}

void cli_ps_task_ref(const tr_ps_snap *s, uint64_t id, char *buf, size_t size)
{
    const tr_ps_task *t = tr_ps_find(s, id);
    if (t && t->name) snprintf(buf, size, "%s #%llu", t->name, (unsigned long long)id);
    else snprintf(buf, size, "#%llu", (unsigned long long)id);
}

static void res_words(const tr_ps_res *x, const char *kind, char *buf, size_t size)
{
    if (!x || !x->valid) {
        snprintf(buf, size, "%s (destroyed or unreadable)", kind);
        return;
    }
    char name[300] = "";
    if (x->name) snprintf(name, sizeof name, " '%s'", x->name);
    snprintf(buf, size, "%s%s #%llu", kind, name, (unsigned long long)x->id);
}

void cli_ps_awaits(const tr_ps_snap *s, const tr_ps_task *t, char *buf, size_t size)
{
    const char *kind = co_wait_kind_name(t->wait_kind);
    char r[400];
    const tr_ps_res *x = t->res;
    switch (t->wait_kind) {
    case CO_WAIT_LOCK: case CO_WAIT_EVENT: case CO_WAIT_COND: case CO_WAIT_FUTURE:
        res_words(x, kind, buf, size);
        break;
    case CO_WAIT_SEM:
        res_words(x, kind, r, sizeof r);
        if (x && x->valid) snprintf(buf, size, "%s (value %lld)", r, (long long)x->value);
        else snprintf(buf, size, "%s", r);
        break;
    case CO_WAIT_QUEUE_GET: case CO_WAIT_QUEUE_PUT: case CO_WAIT_QUEUE_JOIN:
        res_words(x, kind, r, sizeof r);
        if (x && x->valid && x->maxsize) snprintf(buf, size, "%s (%lld of %lld)", r, (long long)x->value, (long long)x->maxsize);
        else if (x && x->valid) snprintf(buf, size, "%s (%lld items)", r, (long long)x->value);
        else snprintf(buf, size, "%s", r);
        break;
    case CO_WAIT_TASK:
        cli_ps_task_ref(s, t->waits_for_id, r, sizeof r);
        snprintf(buf, size, "task %s", r);
        break;
    case CO_WAIT_TASKS: case CO_WAIT_GROUP: {
        size_t n = 0;
        for (size_t i = 0; i < s->ntasks; i++) n += s->tasks[i].awaiter_id == t->id;
        snprintf(buf, size, "%s (%zu unended)", t->wait_kind == CO_WAIT_TASKS ? "tasks" : "group", n);
        break;
    }
    case CO_WAIT_SLEEP: {
        uint64_t now_ms = s->now_ns / 1000000u;
        if (t->timer_at_ms >= 0)
            snprintf(buf, size, "sleep (wakes in %.1f s)",
                     (double)((int64_t)t->timer_at_ms - (int64_t)now_ms) / 1e3);
        else snprintf(buf, size, "sleep (forever)");
        break;
    }
    default:
        if (t->wait_obj_id) snprintf(buf, size, "%s #%llu", kind, (unsigned long long)t->wait_obj_id);
        else snprintf(buf, size, "%s", kind);
    }
}

void cli_ps_holder(const tr_ps_snap *s, const tr_ps_task *t, char *buf, size_t size)
{
    buf[0] = 0;
    const tr_ps_res *x = t->res;
    if (t->state != CO_TASK_WAITING || !x || !x->valid) return;
    char who[300];
    if (t->wait_kind == CO_WAIT_LOCK) {
        if (x->holder_id) {
            cli_ps_task_ref(s, x->holder_id, who, sizeof who);
            snprintf(buf, size, "held by %s", who);
        } else if (x->holder_ended) {
            snprintf(buf, size, "held by a task that ended");
        }
    } else if (t->wait_kind == CO_WAIT_SEM && x->holder_id) {
        cli_ps_task_ref(s, x->holder_id, who, sizeof who);
        snprintf(buf, size, "last taken by %s%s", who, x->holder_ended ? " (ended)" : "");
    }
}

void cli_ps_json_loc(FILE *f, const tr_ps_loc *l)
{
    if (!l->file) {
        fputs("null", f);
        return;
    }
    fputs("{\"file\":", f);
    cli_json_string(f, l->file);
    fprintf(f, ",\"line\":%d,\"func\":", l->line);
    cli_json_string(f, l->func);
    fputc('}', f);
}

/* The runtime's own names of its states (co_task_state_name), as the
 * runtime's dumps print them. */
static const char *state_word(int st)
{
    return co_task_state_name(st);
}

static void since(const tr_ps_snap *s, const tr_ps_task *t, char *buf, size_t size)
{
    if (t->state == CO_TASK_WAITING && t->await_t0_ns && t->await_t0_ns <= s->now_ns)
        snprintf(buf, size, "%.1fs", (double)(s->now_ns - t->await_t0_ns) / 1e9);
    else snprintf(buf, size, "-");
}

static void print_json(const tr_ps_snap *s)
{
    FILE *f = stdout;
    fprintf(f, "{\"pid\":%d,\"layout_version\":%u,\"object\":", s->pid, s->version);
    cli_json_string(f, s->object);
    fprintf(f, ",\"paused\":%s,\"pause_ms\":%.3f,\"read_ms\":%.3f,\"torn\":%zu,\"loops_unlisted\":%llu,\"loops\":[",
            s->paused ? "true" : "false", s->pause_ms, s->read_ms, s->ntorn, (unsigned long long)s->loops_dropped);
    for (size_t i = 0; i < s->nloops; i++) {
        const tr_ps_loop *L = &s->loops[i];
        fprintf(f, "%s{\"index\":%zu,\"tid\":%d,\"running\":%s,\"current_task\":", i ? "," : "", i, L->tid,
                L->running ? "true" : "false");
        if (L->current_id) fprintf(f, "%llu", (unsigned long long)L->current_id);
        else fputs("null", f);
        fprintf(f, ",\"main_task\":");
        if (L->main_id) fprintf(f, "%llu", (unsigned long long)L->main_id);
        else fputs("null", f);
        fprintf(f, ",\"tasks\":%zu}", L->ntasks);
    }
    fputs("],\"tasks\":[", f);
    for (size_t i = 0; i < s->ntasks; i++) {
        const tr_ps_task *t = &s->tasks[i];
        fprintf(f, "%s\n{\"id\":%llu,\"name\":", i ? "," : "", (unsigned long long)t->id);
        cli_json_string(f, t->name);
        fprintf(f, ",\"loop\":%u,\"state\":\"%s\",\"parent\":%llu,\"torn\":%s,\"spawned_at\":", t->loop,
                state_word(t->state), (unsigned long long)t->parent_id, t->torn ? "true" : "false");
        cli_ps_json_loc(f, &t->spawn_loc);
        fputs(",\"awaits\":", f);
        if (t->state == CO_TASK_WAITING && !t->torn) {
            char w[512];
            cli_ps_awaits(s, t, w, sizeof w);
            fputs("{\"kind\":", f);
            cli_json_string(f, co_wait_kind_name(t->wait_kind));
            fputs(",\"what\":", f);
            cli_json_string(f, w);
            if (t->res && t->res->valid) {
                fprintf(f, ",\"resource\":{\"id\":%llu,\"name\":", (unsigned long long)t->res->id);
                if (t->res->name) cli_json_string(f, t->res->name);
                else fputs("null", f);
                fputc('}', f);
            }
            if (t->waits_for_id) fprintf(f, ",\"waits_for_task\":%llu", (unsigned long long)t->waits_for_id);
            fputs(",\"at\":", f);
            cli_ps_json_loc(f, &t->wait_loc);
            if (t->await_t0_ns && t->await_t0_ns <= s->now_ns)
                fprintf(f, ",\"since_ms\":%.3f", (double)(s->now_ns - t->await_t0_ns) / 1e6);
            char h[400];
            cli_ps_holder(s, t, h, sizeof h);
            if (h[0]) {
                fputs(",\"holder\":", f);
                cli_json_string(f, h);
                if (t->res->holder_id) fprintf(f, ",\"holder_task\":%llu", (unsigned long long)t->res->holder_id);
            }
            fputc('}', f);
        } else {
            fputs("null", f);
        }
        fputs(",\"awaited_by\":", f);
        if (t->awaiter_id) fprintf(f, "%llu", (unsigned long long)t->awaiter_id);
        else fputs("null", f);
        fputc('}', f);
    }
    fputs("\n]}\n", f);
}

int cli_ps(int argc, char **argv)
{
    tr_ps_snap *s;
    int json, timing;
    int r = cli_ps_read("ps", argc, argv, &s, &json, &timing);
    if (r) return r;
    if (json) {
        print_json(s);
    } else {
        printf("process %d: %zu loop%s, %zu task%s (%s%s)\n", s->pid, s->nloops, s->nloops == 1 ? "" : "s",
               s->ntasks, s->ntasks == 1 ? "" : "s", s->paused ? "paused for the read" : "read running",
               s->ntorn ? "; rows marked ~ changed during the read" : "");
        if (s->loops_dropped) printf("  (%llu more loops were not registered)\n", (unsigned long long)s->loops_dropped);
        for (size_t i = 0; i < s->nloops; i++) {
            const tr_ps_loop *L = &s->loops[i];
            char cur[320] = "in libuv (polling or running a callback)";
            if (L->current_id) {
                char ref[300];
                cli_ps_task_ref(s, L->current_id, ref, sizeof ref);
                snprintf(cur, sizeof cur, "running task %s", ref);
            }
            printf("loop %zu  thread %d  %zu tasks  %s\n", i, L->tid, L->ntasks, cur);
        }
        int namew = 4;
        for (size_t i = 0; i < s->ntasks; i++) {
            int n = s->tasks[i].name ? (int)strlen(s->tasks[i].name) : 1;
            if (n > namew) namew = n < 24 ? n : 24;
        }
        printf("\n%-1s%6s %-4s %-*s %-9s %-44s %7s  %s\n", "", "ID", "LOOP", namew, "NAME", "STATE", "AWAITS (AT)",
               "SINCE", "SPAWNED AT / HOLDER");
        for (size_t i = 0; i < s->ntasks; i++) {
            const tr_ps_task *t = &s->tasks[i];
            char aw[1024] = "", at[300], sp[300], h[400], sn[32];
            cli_ps_loc(&t->spawn_loc, sp, sizeof sp);
            cli_ps_holder(s, t, h, sizeof h);
            since(s, t, sn, sizeof sn);
            if (t->torn) snprintf(aw, sizeof aw, "(changed during the read)");
            else if (t->state == CO_TASK_WAITING) {
                char w[480];
                cli_ps_awaits(s, t, w, sizeof w);
                cli_ps_loc(&t->wait_loc, at, sizeof at);
                snprintf(aw, sizeof aw, "%s at %s", w, at);
            } else if (t->state == CO_TASK_RUNNING || t->state == CO_TASK_READY) {
                cli_ps_loc(&t->wait_loc, at, sizeof at);
                if (t->wait_loc.file) snprintf(aw, sizeof aw, "(last await at %s)", at);
                else snprintf(aw, sizeof aw, "(not started)");
            }
            printf("%s%6llu %-4u %-*.*s %-9s %-44s %7s  %s%s%s\n", t->torn ? "~" : " ", (unsigned long long)t->id,
                   t->loop, namew, namew, t->name ? t->name : "?", state_word(t->state), aw, sn, sp,
                   h[0] ? "  " : "", h);
        }
    }
    tr_ps_free(s);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "coscope ps: writing the output: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
