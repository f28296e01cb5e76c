/* SPDX-License-Identifier: MIT */
/* shared_list.c -- a lock around a shared list.
 *
 * What it shows: five writer tasks each append four entries to one list.
 * An append is read-modify-write with an await in the middle (the entry is
 * "validated" by a 2 ms round trip between reading the list's length and
 * storing at that index): without the lock two writers would read the same
 * length and overwrite each other.  co_lock_acquire / co_lock_release make
 * the append atomic with respect to the other tasks; the lock is FIFO-fair,
 * so writers take turns.  The final check finds 20 distinct entries.
 *
 * Run it:
 *     build/coscope run -o t.db -- build/samples/shared_list
 *     build/coscope report t.db
 *
 * What to look for:
 *   - report: 6 tasks done, no warnings (each hold is ~2 ms, far below the
 *     100 ms that makes "lock held across await"); lock contention lists
 *     `list_lock` with 20 acquisitions, most of them contended, the other
 *     four writers queued behind the holder.
 *   - tui: Resources (2) shows list_lock's holds and waits; Timeline (4)
 *     shows the holds passing from writer to writer.
 */
#include "coscope.h"
#include <stdio.h>
#include <string.h>

#define WRITERS 5
#define ENTRIES_EACH 4

typedef struct shared_list {
    co_lock_t list_lock;
    int len;
    char entries[WRITERS * ENTRIES_EACH][16];
} shared_list;

typedef struct writer_arg {
    shared_list *list;
    int id;
} writer_arg;

static int append(shared_list *list, const char *entry)
{
    int r = co_lock_acquire(&list->list_lock); /* LIST_ACQUIRE */
    if (r < 0) return r;
    int slot = list->len;
    r = co_sleep(2); /* validate the entry remotely: an await with the lock held */
    if (r == 0) {
        snprintf(list->entries[slot], sizeof list->entries[slot], "%s", entry);
        list->len = slot + 1;
    }
    co_lock_release(&list->list_lock);
    return r;
}

static int writer(void *arg)
{
    const writer_arg *w = arg;
    for (int i = 0; i < ENTRIES_EACH; i++) {
        char entry[16];
        snprintf(entry, sizeof entry, "w%d-%d", w->id, i);
        int r = append(w->list, entry);
        if (r < 0) return r;
    }
    return 0;
}

static int amain(void *arg)
{
    static shared_list list;
    co_lock_init_named(&list.list_lock, "list_lock");
    writer_arg args[WRITERS];
    co_task_t tasks[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg){ &list, i };
        char name[32];
        snprintf(name, sizeof name, "writer %d", i);
        tasks[i] = co_spawn_named(name, writer, &args[i]);
        if (!tasks[i].h) return -ENOMEM;
    }
    int r = co_gather(tasks, WRITERS, NULL, 0);
    if (r < 0) return r;

    int distinct = 0;
    for (int i = 0; i < list.len; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(list.entries[i], list.entries[j]);
        distinct += !seen;
    }
    printf("list has %d entries, %d distinct (expected %d)\n", list.len, distinct, WRITERS * ENTRIES_EACH);
    co_lock_destroy(&list.list_lock);
    return distinct == WRITERS * ENTRIES_EACH ? 0 : -EIO;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "shared_list: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
