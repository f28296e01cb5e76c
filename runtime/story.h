/* SPDX-License-Identifier: MIT */
/* story.h -- one wording for what stuck tasks wait for: the runtime's
 * "all tasks are asleep" report (asleep.c, from the live tasks) and the
 * trace's all_asleep rows (tracer/asleep.c, from the recorded events) are
 * both told here, from the same description of the tasks, so the two can
 * never say the same thing in two ways.  Each teller fills in what it
 * knows; what only one of them knows (the trace's history: where a unit
 * was taken and never given back) goes in `why` and is told the same way.
 *
 * Shared by the runtime and the tracer (which sits above it); nothing here
 * touches a loop, a task or SQLite.  Not thread-safe state: none.
 */
#ifndef CO_STORY_H
#define CO_STORY_H

#include <stddef.h>
#include <stdint.h>

/* A growing text; p is NULL until the first append, and stays valid (as far
 * as it got) if memory runs out. */
typedef struct co__story_text {
    char *p;
    size_t n, cap;
} co__story_text;
void co__story_put(co__story_text *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What became of a task a clause names beside the waiter (a lock's holder,
 * a semaphore's last taker, a queue's producer): the teller sets ENDED when
 * it knows; the story itself sees whether it is one of the stuck. */
enum { CO__FATE_ALIVE = 0, CO__FATE_ENDED = 1 };

typedef struct co__story_ref {
    uint64_t id;        /* 0: none */
    const char *name;   /* NULL: "?" */
    uint8_t fate;       /* CO__FATE_* */
} co__story_ref;

/* One waiting task.  Strings are borrowed for the call. */
typedef struct co__story_task {
    uint64_t id;
    const char *name;
    uint8_t kind;               /* the co_wait_kind it waits in */
    uint8_t main;               /* the program's main task: the root of its group when nobody there awaits it */
    uint64_t res;               /* the awaited task (CO_WAIT_TASK), or the object waited on; 0: unknown */
    const char *res_name;       /* the object's name (CO_WAIT_TASK: the awaited task's), NULL if unknown */
    const uint64_t *awaits;     /* CO_WAIT_TASKS / CO_WAIT_GROUP: the tasks it awaits */
    uint32_t nawaits;
    const char *const *await_names; /* their names, NULL: looked up among the stuck, else "?" */
    co__story_ref other;        /* a lock's holder, a semaphore's last taker, the user of a connection's other end */
    co__story_ref by;           /* a queue's last putter (its getters wait) or last getter (its putters wait) */
    uint8_t by_known;           /* the teller follows who put and got: by.id 0 then means nobody ever did */
    const char *conn;           /* CO_WAIT_TCP_READ on a connection within the process: its words
                                 * (": connection A -> B (#id) ..."), NULL otherwise */
    const char *why;            /* more that the teller knows, appended to the wait's clause ("; ..."), or NULL */
} co__story_task;

/* "lock 'db' (#3)", "an item from queue 'jobs' (#5)", "task 'w' (#7)": what
 * a task waits on, as every report words it. */
void co__story_wait_label(int kind, uint64_t res, const char *name, char *out, size_t cap);

/* What a task waits on and who stands in the way: the label, then " held
 * by 'o' (#7)" for a lock, " last taken by ..." for a semaphore. */
void co__story_wait_what(int kind, uint64_t res, const char *name, const co__story_ref *other, char *out, size_t cap);

/* The sentences of the loop's close, about task `who` ("'x' (#7)", or
 * with its spawn site), as the runtime reports them and the trace keeps
 * them.  what: co__story_wait_what of its wait, NULL if it was not
 * waiting; at: its await's "file:line", NULL if unknown. */
void co__story_pending(co__story_text *s, const char *who, const char *what, const char *at);
void co__story_never_awaited(co__story_text *s, const char *who);
void co__story_unretrieved(co__story_text *s, const char *who, int err);
void co__story_abandoned(co__story_text *s, const char *who, const char *what, const char *at);

/* Split t[0..n) into groups of tasks stuck together (a task with what it
 * awaits, a lock's holder and a semaphore's last taker when they are stuck
 * too; tasks waiting on one object) and tell each group as one sentence from
 * its root, the task nobody in it awaits (main first, then the lowest id):
 * "'main' (#1) awaits 'consumer 1'..'consumer 4' (#2..#5), each waiting for
 * an item from queue 'jobs' (#2) that nobody will put: its producer
 * 'producer' (#6) ended".  For each group, told(ctx, root, text, order, m):
 * root indexes t, order[0..m) the members in the order the text names them.
 * Returns the number of groups, or -ENOMEM (nothing told). */
int co__story_tell(const co__story_task *t, size_t n,
                   void (*told)(void *ctx, size_t root, const char *text, const size_t *order, size_t m), void *ctx);

#endif
