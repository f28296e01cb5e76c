/* SPDX-License-Identifier: MIT */
/* generator.c -- sample: an async generator walking a paginated API.
 *
 * fetch_page() stands in for a slow remote service (20 ms per round trip).
 * The generator hides the paging: the consumer sees one stream of users and
 * pulls them with CO_GEN_FOR, and pages are fetched only as they are needed.
 * The second walk stops at the first match; co_gen_close then runs the
 * generator's cleanup, and the pages after the match are never fetched.
 *
 * Build: cc -Iruntime samples/generator.c build/libcoscope.a -luv -pthread
 */
#include "coscope.h"
#include <stdio.h>

typedef struct user {
    int id;
    const char *name;
} user;

/* The remote table. */
static const user directory[] = {
    { 1, "ada" },     { 2, "barbara" }, { 3, "claude" },  { 4, "dennis" },
    { 5, "edsger" },  { 6, "frances" }, { 7, "grace" },   { 8, "hedy" },
    { 9, "ivan" },    { 10, "jean" },   { 11, "ken" },
};
#define NUSERS ((int)(sizeof directory / sizeof directory[0]))
#define PAGE_SIZE 4

/* One request to the fake service: a round trip, then up to PAGE_SIZE users
 * copied into out.  Returns how many (0 past the end) or an error. */
static int fetch_page(int page, user *out)
{
    int r = co_sleep(20);
    if (r < 0) return r;
    int n = 0;
    for (int i = page * PAGE_SIZE; i < NUSERS && n < PAGE_SIZE; i++) out[n++] = directory[i];
    return n;
}

typedef struct walk {
    const char *label;
    int pages; /* fetched so far */
} walk;

/* The generator: every user, page after page.  It yields pointers into its
 * own page buffer; they stay valid until the consumer's next co_gen_next,
 * because the body is suspended in co_gen_yield until then. */
static int all_users(co_gen_t *g, void *arg)
{
    walk *w = arg;
    user page[PAGE_SIZE];
    int r;
    printf("[%s] cursor opened\n", w->label);
    for (;;) {
        r = fetch_page(w->pages, page);
        if (r <= 0) break; /* end of the table, or an error */
        w->pages++;
        int n = r;
        for (int i = 0; i < n; i++)
            if ((r = co_gen_yield(g, &page[i])) < 0) goto out; /* closed early */
    }
out:
    /* Runs however the walk ends: to the last page, on close, on error. */
    printf("[%s] cursor closed after %d page(s)\n", w->label, w->pages);
    return r;
}

static int amain(void *arg)
{
    (void)arg;
    int rc, err;

    /* Everyone, one page at a time. */
    walk all = { .label = "list" };
    co_gen_t *g = co_gen_new(all_users, &all);
    if (!g) return -ENOMEM;
    int count = 0;
    CO_GEN_FOR(g, v, rc) {
        const user *u = v;
        printf("  #%-2d %s\n", u->id, u->name);
        count++;
    }
    err = co_gen_close(g);
    if (rc < 0 || err < 0) {
        fprintf(stderr, "listing failed: %s\n", co_strerror(rc < 0 ? rc : err));
        return rc < 0 ? rc : err;
    }
    printf("%d users\n\n", count);

    /* The first name starting with 'g': the walk stops on page 2 of 3. */
    walk find = { .label = "find" };
    g = co_gen_new(all_users, &find);
    if (!g) return -ENOMEM;
    user found = { 0 };
    CO_GEN_FOR(g, v, rc) {
        const user *u = v;
        if (u->name[0] == 'g') {
            found = *u; /* copy: u lives in the generator, gone once it is closed */
            break;
        }
    }
    err = co_gen_close(g); /* the generator's co_gen_yield returns -ECANCELED */
    if (rc < 0 || err < 0) {
        fprintf(stderr, "search failed: %s\n", co_strerror(rc < 0 ? rc : err));
        return rc < 0 ? rc : err;
    }
    if (found.id)
        printf("found #%d %s after fetching %d page(s)\n", found.id, found.name, find.pages);
    return 0;
}

int main(void)
{
    int r = co_run(amain, NULL);
    if (r < 0) {
        fprintf(stderr, "generator: %s\n", co_strerror(r));
        return 1;
    }
    return 0;
}
