/* SPDX-License-Identifier: MIT */
/* cmd_tree.c -- `coscope tree PID [--json]`: the await tree of a running
 * coscope program.  Each task sits under the task that awaits it (co_await,
 * co_gather, co_wait, a group), or, if none does, under the task that
 * spawned it.  Then the waits-for edges the runtime's own deadlock check
 * follows (awaited task, lock holder): cycles are drawn and named rather
 * than refused, and where a loop has nothing that can run (no task ready
 * or running, none waiting on a timer, I/O, a thread or a process) its
 * waiting tasks are marked asleep, as the runtime's all-asleep report
 * would tell them. */
#include "ps.h"
#include "cli.h"
#include "../runtime/coscope.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_DRAWN 64 /* deeper nodes are drawn at this depth, with their depth */

typedef struct tree {
    const tr_ps_snap *s;
    size_t n;
    size_t *up;          /* tree parent index, n = root */
    int *via_await;      /* under its awaiter (1) or its spawner (0) */
    size_t *kids, *kid0; /* children of i: kids[kid0[i] .. kid0[i+1]) */
    size_t *next;        /* waits-for edge, n = none */
    int *cycle;          /* cycle number (1..), 0 = none */
    int *asleep;         /* its loop has nothing that can run */
    int ncycles;
} tree;

static size_t index_of(const tr_ps_snap *s, uint64_t id)
{
    const tr_ps_task *t = id ? tr_ps_find(s, id) : NULL;
    return t ? (size_t)(t - s->tasks) : s->ntasks;
}

/* Waits that a timer, I/O, a thread or another process ends: while one is
 * pending, something outside the tasks can still move the loop. */
static int external(const tr_ps_task *t)
{
    switch (t->wait_kind) {
    case CO_WAIT_SLEEP: return t->timer_at_ms >= 0;
    case CO_WAIT_YIELD: case CO_WAIT_THREAD: case CO_WAIT_PROCESS: case CO_WAIT_CHANNEL_SEND:
    case CO_WAIT_CHANNEL_RECV: case CO_WAIT_TCP_CONNECT: case CO_WAIT_TCP_ACCEPT: case CO_WAIT_TCP_READ:
    case CO_WAIT_TCP_WRITE: case CO_WAIT_TCP_SHUTDOWN: case CO_WAIT_DNS: case CO_WAIT_FILE:
        return 1;
    }
    return t->timer_at_ms >= 0; /* a wait with a timeout */
}

static int build(tree *tr, const tr_ps_snap *s)
{
    size_t n = s->ntasks;
    tr->s = s;
    tr->n = n;
    tr->up = malloc((n + 1) * sizeof *tr->up);
    tr->via_await = calloc(n + 1, sizeof *tr->via_await);
    tr->kids = malloc((n + 1) * sizeof *tr->kids);
    tr->kid0 = calloc(n + 2, sizeof *tr->kid0);
    tr->next = malloc((n + 1) * sizeof *tr->next);
    tr->cycle = calloc(n + 1, sizeof *tr->cycle);
    tr->asleep = calloc(n + 1, sizeof *tr->asleep);
    int *color = calloc(n + 1, sizeof *color);
    int *progress = calloc(s->nloops + 1, sizeof *progress);
    if (!tr->up || !tr->via_await || !tr->kids || !tr->kid0 || !tr->next || !tr->cycle || !tr->asleep || !color ||
        !progress) {
        free(color);
        free(progress);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const tr_ps_task *t = &s->tasks[i];
        size_t a = index_of(s, t->awaiter_id);
        tr->via_await[i] = a < n;
        tr->up[i] = a < n ? a : index_of(s, t->parent_id);
        if (tr->up[i] == i) tr->up[i] = n;
        tr->next[i] = t->state == CO_TASK_WAITING ? index_of(s, t->waits_for_id) : n;
        if (t->state == CO_TASK_READY || t->state == CO_TASK_RUNNING || t->torn ||
            (t->state == CO_TASK_WAITING && external(t)))
            if (t->loop < s->nloops) progress[t->loop] = 1;
    }
    /* A parent chain that loops (tasks awaiting each other in a ring) would
     * have no root: the first node met of each ring becomes one. */
    for (size_t i = 0; i < n; i++) {
        if (color[i]) continue;
        size_t j = i;
        while (j < n && !color[j]) { color[j] = 1; j = tr->up[j]; }
        if (j < n && color[j] == 1) tr->up[j] = n;
        for (j = i; j < n && color[j] == 1; j = tr->up[j]) color[j] = 2;
    }
    for (size_t i = 0; i < n; i++) tr->kid0[tr->up[i] + 1]++;
    for (size_t i = 1; i < n + 2; i++) tr->kid0[i] += tr->kid0[i - 1];
    size_t *fill = calloc(n + 1, sizeof *fill);
    if (!fill) {
        free(color);
        free(progress);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) tr->kids[tr->kid0[tr->up[i]] + fill[tr->up[i]]++] = i; /* in id order */
    free(fill);
    /* Waits-for cycles: each task has at most one edge, so a walk marks a
     * ring when it meets a node of its own walk. */
    memset(color, 0, (n + 1) * sizeof *color);
    for (size_t i = 0; i < n; i++) {
        if (color[i]) continue;
        size_t j = i;
        while (j < n && !color[j]) { color[j] = 1; j = tr->next[j]; }
        if (j < n && color[j] == 1) {
            int c = ++tr->ncycles;
            size_t k = j;
            do { tr->cycle[k] = c; k = tr->next[k]; } while (k != j);
        }
        for (j = i; j < n && color[j] == 1; j = tr->next[j]) color[j] = 2;
    }
    for (size_t i = 0; i < n; i++) {
        const tr_ps_task *t = &s->tasks[i];
        tr->asleep[i] = t->state == CO_TASK_WAITING && t->loop < s->nloops && !progress[t->loop];
    }
    free(color);
    free(progress);
    return 0;
}

static void tree_free(tree *tr)
{
    free(tr->up); free(tr->via_await); free(tr->kids); free(tr->kid0);
    free(tr->next); free(tr->cycle); free(tr->asleep);
}

/* The cycle a chain from i runs into, 0 if none. */
static int ends_in_cycle(const tree *tr, size_t i)
{
    for (size_t k = 0; i < tr->n && k <= tr->n; k++, i = tr->next[i])
        if (tr->cycle[i]) return tr->cycle[i];
    return 0;
}

static void describe(const tree *tr, size_t i, char *buf, size_t size)
{
    const tr_ps_snap *s = tr->s;
    const tr_ps_task *t = &s->tasks[i];
    char w[512] = "", at[300], h[400] = "", mark[80] = "";
    if (t->state == CO_TASK_WAITING && !t->torn) {
        cli_ps_awaits(s, t, w, sizeof w);
        cli_ps_loc(&t->wait_loc, at, sizeof at);
        size_t l = strlen(w);
        snprintf(w + l, sizeof w - l, " at %s", at);
        cli_ps_holder(s, t, h, sizeof h);
    } else if (t->state == CO_TASK_RUNNING) {
        snprintf(w, sizeof w, "%s", co_task_state_name(CO_TASK_RUNNING));
        if (t->wait_loc.file) {
            cli_ps_loc(&t->wait_loc, at, sizeof at);
            snprintf(w, sizeof w, "%s (last await at %s)", co_task_state_name(CO_TASK_RUNNING), at);
        }
    } else {
        snprintf(w, sizeof w, "%s", co_task_state_name(t->state));
    }
    if (tr->cycle[i]) snprintf(mark, sizeof mark, "  [cycle %d]", tr->cycle[i]);
    else if (tr->asleep[i] && tr->next[i] == tr->n && t->wait_kind != CO_WAIT_TASKS && t->wait_kind != CO_WAIT_GROUP)
        snprintf(mark, sizeof mark, "  [asleep: nothing can wake it]");
    else if (tr->asleep[i]) snprintf(mark, sizeof mark, "  [asleep]");
    else if (t->state == CO_TASK_WAITING && ends_in_cycle(tr, i))
        snprintf(mark, sizeof mark, "  [stuck behind cycle %d]", ends_in_cycle(tr, i));
    snprintf(buf, size, "%s #%llu%s  %s%s%s%s%s", t->name ? t->name : "?", (unsigned long long)t->id,
             t->torn ? " (changed during the read)" : "", w, h[0] ? " (" : "", h, h[0] ? ")" : "", mark);
}

static void draw(const tree *tr, size_t root)
{
    /* Depth-first with an explicit stack: a tree 100k deep must not
     * overflow ours. */
    size_t cap = 64, len = 0;
    struct frame { size_t node, depth; int last; } *st = malloc(cap * sizeof *st);
    char *bars = calloc(DEPTH_DRAWN + 1, 1); /* per depth: does that ancestor have later siblings */
    if (!st || !bars) { free(st); free(bars); return; }
    st[len++] = (struct frame){ root, 0, 1 };
    while (len) {
        struct frame f = st[--len];
        char line[1400], pre[4 * DEPTH_DRAWN + 32] = "";
        size_t d = f.depth < DEPTH_DRAWN ? f.depth : DEPTH_DRAWN, p = 0;
        if (f.depth) bars[d] = !f.last;
        for (size_t k = 1; k < d; k++) p += (size_t)snprintf(pre + p, sizeof pre - p, "%s", bars[k] ? "│  " : "   ");
        if (f.depth) p += (size_t)snprintf(pre + p, sizeof pre - p, "%s%s", f.last ? "└─ " : "├─ ",
                                           tr->via_await[f.node] ? "" : "(spawned) ");
        if (f.depth > DEPTH_DRAWN) snprintf(pre + p, sizeof pre - p, "[depth %zu] ", f.depth);
        describe(tr, f.node, line, sizeof line);
        printf("%s%s\n", pre, line);
        size_t a = tr->kid0[f.node], b = tr->kid0[f.node + 1];
        if (len + (b - a) > cap) {
            while (len + (b - a) > cap) cap *= 2;
            struct frame *ns = realloc(st, cap * sizeof *st);
            if (!ns) break;
            st = ns;
        }
        for (size_t k = b; k > a; k--) st[len++] = (struct frame){ tr->kids[k - 1], f.depth + 1, k == b };
    }
    free(st);
    free(bars);
}

/* One chain of waits-for edges from i, as far as it goes (at most 64
 * links: a chain into a ring stops where the ring begins). */
static void chain_words(const tree *tr, size_t i, FILE *f)
{
    const tr_ps_snap *s = tr->s;
    for (int k = 0; i < tr->n; k++) {
        const tr_ps_task *t = &s->tasks[i];
        char w[512], at[300];
        cli_ps_awaits(s, t, w, sizeof w);
        cli_ps_loc(&t->wait_loc, at, sizeof at);
        fprintf(f, "%s #%llu (%s at %s)", t->name ? t->name : "?", (unsigned long long)t->id, w, at);
        size_t j = tr->next[i];
        if (j >= tr->n || tr->cycle[i]) break;
        if (k == 63) { fputs(" -> ...", f); break; }
        fputs(t->wait_kind == CO_WAIT_LOCK ? " -> held by " : " -> ", f);
        i = j;
    }
}

static void print_cycles(const tree *tr)
{
    const tr_ps_snap *s = tr->s;
    for (int c = 1; c <= tr->ncycles; c++) {
        size_t first = tr->n;
        for (size_t i = 0; i < tr->n && first == tr->n; i++) if (tr->cycle[i] == c) first = i;
        printf("cycle %d (deadlock): ", c);
        size_t i = first;
        do {
            const tr_ps_task *t = &s->tasks[i];
            char w[512], at[300];
            cli_ps_awaits(s, t, w, sizeof w);
            cli_ps_loc(&t->wait_loc, at, sizeof at);
            printf("%s #%llu awaits %s at %s%s", t->name ? t->name : "?", (unsigned long long)t->id, w, at,
                   t->wait_kind == CO_WAIT_LOCK ? " held by " : " -> ");
            i = tr->next[i];
        } while (i != first);
        printf("%s #%llu\n", s->tasks[first].name ? s->tasks[first].name : "?",
               (unsigned long long)s->tasks[first].id);
    }
}

static void print_json(const tree *tr)
{
    const tr_ps_snap *s = tr->s;
    printf("{\"pid\":%d,\"paused\":%s,\"tasks\":[", s->pid, s->paused ? "true" : "false");
    for (size_t i = 0; i < tr->n; i++) {
        const tr_ps_task *t = &s->tasks[i];
        char w[512] = "";
        printf("%s\n{\"id\":%llu,\"name\":", i ? "," : "", (unsigned long long)t->id);
        cli_json_string(stdout, t->name);
        printf(",\"loop\":%u,\"state\":\"%s\",\"tree_parent\":", t->loop, co_task_state_name(t->state));
        if (tr->up[i] < tr->n) printf("%llu", (unsigned long long)s->tasks[tr->up[i]].id);
        else fputs("null", stdout);
        printf(",\"under\":\"%s\",\"awaits\":", tr->up[i] >= tr->n ? "root" : tr->via_await[i] ? "awaiter" : "spawner");
        if (t->state == CO_TASK_WAITING && !t->torn) {
            cli_ps_awaits(s, t, w, sizeof w);
            cli_json_string(stdout, w);
            fputs(",\"at\":", stdout);
            cli_ps_json_loc(stdout, &t->wait_loc);
        } else {
            fputs("null", stdout);
        }
        fputs(",\"waits_for\":", stdout);
        if (tr->next[i] < tr->n) printf("%llu", (unsigned long long)s->tasks[tr->next[i]].id);
        else fputs("null", stdout);
        printf(",\"cycle\":%d,\"asleep\":%s,\"stuck_behind_cycle\":%d}", tr->cycle[i],
               tr->asleep[i] ? "true" : "false", t->state == CO_TASK_WAITING ? ends_in_cycle(tr, i) : 0);
    }
    fputs("\n],\"cycles\":[", stdout);
    for (int c = 1; c <= tr->ncycles; c++) {
        printf("%s[", c > 1 ? "," : "");
        size_t first = tr->n;
        for (size_t i = 0; i < tr->n && first == tr->n; i++) if (tr->cycle[i] == c) first = i;
        size_t i = first;
        int k = 0;
        do { printf("%s%llu", k++ ? "," : "", (unsigned long long)s->tasks[i].id); i = tr->next[i]; } while (i != first);
        fputc(']', stdout);
    }
    fputs("]}\n", stdout);
}

int cli_tree(int argc, char **argv)
{
    tr_ps_snap *s;
    int json, timing;
    int r = cli_ps_read("tree", argc, argv, &s, &json, &timing);
    if (r) return r;
    tree tr;
    memset(&tr, 0, sizeof tr);
    if (build(&tr, s) < 0) {
        fprintf(stderr, "coscope tree: out of memory\n");
        tree_free(&tr);
        tr_ps_free(s);
        return 1;
    }
    if (json) {
        print_json(&tr);
    } else {
        printf("process %d: %zu task%s on %zu loop%s\n", s->pid, s->ntasks, s->ntasks == 1 ? "" : "s", s->nloops,
               s->nloops == 1 ? "" : "s");
        for (size_t li = 0; li < s->nloops; li++) {
            size_t waiting = 0, asleep = 0;
            for (size_t i = 0; i < tr.n; i++)
                if (s->tasks[i].loop == li) {
                    waiting += s->tasks[i].state == CO_TASK_WAITING;
                    asleep += tr.asleep[i];
                }
            printf("\nloop %zu (thread %d)%s\n", li, s->loops[li].tid,
                   asleep && asleep == waiting ? ": nothing can run: no task is ready or running, none waits on a "
                                                 "timer, I/O, a thread or a process; every waiting task is asleep"
                                               : "");
            for (size_t i = 0; i < tr.n; i++)
                if (s->tasks[i].loop == li && tr.up[i] >= tr.n) draw(&tr, i);
        }
        if (tr.ncycles) {
            printf("\n");
            print_cycles(&tr);
        } else {
            printf("\nno await cycles\n");
        }
        /* Chains that end asleep: one per task nobody waits for. */
        size_t shown = 0;
        for (size_t i = 0; i < tr.n && shown < 50; i++) {
            if (!tr.asleep[i] || tr.cycle[i] || tr.next[i] >= tr.n) continue;
            int awaited = 0;
            for (size_t j = 0; j < tr.n && !awaited; j++) awaited = tr.next[j] == i;
            if (awaited) continue;
            if (!shown++) printf("\nchains that nothing can wake:\n");
            printf("  ");
            chain_words(&tr, i, stdout);
            printf(": asleep\n");
        }
    }
    tree_free(&tr);
    tr_ps_free(s);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "coscope tree: writing the output: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
