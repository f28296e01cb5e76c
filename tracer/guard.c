/* SPDX-License-Identifier: MIT */
/* guard.c -- a trace is input: the limits every connection to one runs
 * under.  Traces are files people send each other, and a SQLite file
 * carries code (views, triggers, index expressions) that runs when it is
 * queried, so nothing the file or a query typed against it says may write
 * a file, call into memory, or hang the tool.
 *
 * Every connection: defensive mode (no writable_schema, no writes to
 * sqlite_dbpage), untrusted schema (functions with side effects refused in
 * views and indexes), no triggers (nothing coscope writes fires the file's
 * code), no fts3_tokenizer pointer games, no extensions.
 *
 * Read-only connections (every reader, so `coscope sql` and the TUI's SQL
 * prompt): an authorizer that allows reading and nothing else -- no
 * ATTACH (VACUUM INTO writes through one), no DDL or DML, no pragma that
 * sets anything -- and a time bound: a statement that runs longer than the
 * limit without producing a row is interrupted (a view that recurses
 * forever, a join of a million by a million), and tr_db_errmsg says why.
 *
 * A UI needs more than that: a view that drips a row a second never goes
 * without a row for long, yet never ends.  tr_db_set_bounds adds a bound
 * on a statement's total time and on its rows, and tr_db_set_cancel a
 * check (a key, a signal) asked while a statement runs, so whoever watches
 * can stop it.
 */
#define _GNU_SOURCE
#include "tracer.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct guard {
    sqlite3 *db;
    struct guard *next;
    int64_t limit_ns;        /* 0: no time bound */
    int64_t deadline;        /* valid only if !rearm */
    _Atomic int rearm;       /* a statement began or gave a row: a new deadline at the next check */
    int tripped;             /* the last interrupt was ours: one of STOP_* */
    int64_t total_ns;        /* 0: no bound on a statement's whole time */
    int64_t max_rows;        /* 0: no bound on a statement's rows */
    int64_t started;         /* when the running statement began */
    int64_t rows;            /* rows it gave so far */
    int64_t next_poll;       /* when to ask cancel next */
    int (*cancel)(void *ctx);
    void *cancel_ctx;
    char denied[96];         /* what the authorizer refused last */
} guard;

/* Connections and their guards, to word their errors (tr_db_errmsg).  An
 * entry leaves with its connection (the destructor of guard_fn). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static guard *g_guards;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t tr_query_limit_ns(void)
{
    /* $COSCOPE_QUERY_TIMEOUT: seconds a statement may run without giving a
     * row; 0 lifts the bound. */
    const char *v = getenv("COSCOPE_QUERY_TIMEOUT");
    if (v && *v) {
        char *end;
        double s = strtod(v, &end);
        if (!*end && s >= 0 && s < 1e9) return (int64_t)(s * 1e9);
    }
    return TR_QUERY_LIMIT_S * 1000000000ll;
}

enum { STOP_IDLE = 1, STOP_TOTAL, STOP_ROWS, STOP_CANCEL };

static int stop(guard *g, int why)
{
    g->tripped = why;
    return 1;
}

static int progress(void *ctx)
{
    guard *g = ctx;
    int64_t t = now_ns();
    if (g->max_rows > 0 && g->rows > g->max_rows) return stop(g, STOP_ROWS);
    if (g->total_ns > 0 && g->started && t - g->started > g->total_ns) return stop(g, STOP_TOTAL);
    /* The check may cost a system call (a look at the terminal): ten a
     * second are enough for a key to feel instant. */
    if (g->cancel && t >= g->next_poll) {
        g->next_poll = t + 10000000;
        if (g->cancel(g->cancel_ctx)) return stop(g, STOP_CANCEL);
    }
    if (g->limit_ns <= 0) return 0;
    if (atomic_exchange_explicit(&g->rearm, 0, memory_order_relaxed)) {
        g->deadline = t + g->limit_ns;
        return 0;
    }
    if (t < g->deadline) return 0;
    return stop(g, STOP_IDLE);
}

/* A statement starting, or one giving a row, restarts the clock: the bound
 * is on time without a result, so a long listing read slowly (a pager) is
 * never cut, and a query that never answers always is. */
static int traced(unsigned what, void *ctx, void *p, void *x)
{
    guard *g = ctx;
    (void)p;
    (void)x;
    if (what == SQLITE_TRACE_STMT) {
        g->tripped = 0;
        g->rows = 0;
        g->started = g->total_ns > 0 ? now_ns() : 0;
    } else {
        g->rows++;
    }
    atomic_store_explicit(&g->rearm, 1, memory_order_relaxed);
    return 0;
}

/* Functions no reader needs and an attacker wants: fts3_tokenizer hands
 * out and takes C function pointers (Debian's SQLite enables its
 * two-argument form), load_extension runs a library's code. */
static int forbidden_function(const char *name)
{
    return name && (!strcasecmp(name, "fts3_tokenizer") || !strcasecmp(name, "load_extension"));
}

/* Pragmas that only read.  The first group takes an argument (a table, an
 * index, a row limit); the second reads a setting and is refused with a
 * value, which would set it (query_only=0 among them). */
static const char *const READ_PRAGMAS_ARG[] = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "foreign_key_check", "integrity_check", "quick_check", NULL,
};
static const char *const READ_PRAGMAS[] = {
    "database_list", "collation_list", "function_list", "module_list", "pragma_list", "compile_options",
    "page_count", "page_size", "freelist_count", "encoding", "schema_version", "user_version", "application_id",
    "data_version", "journal_mode", "query_only", "max_page_count", "auto_vacuum", NULL,
};

static int listed(const char *const *list, const char *s)
{
    for (; s && *list; list++)
        if (!strcasecmp(*list, s)) return 1;
    return 0;
}

static int deny(guard *g, const char *what, const char *name)
{
    snprintf(g->denied, sizeof g->denied, "%s%s%s", what, name ? " " : "", name ? name : "");
    return SQLITE_DENY;
}

static int authorize(void *ctx, int action, const char *a1, const char *a2, const char *dbname, const char *inner)
{
    guard *g = ctx;
    (void)dbname;
    (void)inner;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return SQLITE_OK; /* on a read-only connection, a read transaction */
    case SQLITE_FUNCTION:
        return forbidden_function(a2) ? deny(g, "the function", a2) : SQLITE_OK;
    case SQLITE_PRAGMA:
        if (listed(READ_PRAGMAS_ARG, a1) || (!a2 && listed(READ_PRAGMAS, a1))) return SQLITE_OK;
        return deny(g, a2 ? "setting the pragma" : "the pragma", a1);
    case SQLITE_UPDATE:
        /* SQLite's own look at the schema when it starts an eponymous
         * virtual table (json_each, pragma_table_info); the schema table
         * cannot be written here anyway (read-only, defensive). */
        if (a1 && (!strcmp(a1, "sqlite_master") || !strcmp(a1, "sqlite_temp_master"))) return SQLITE_OK;
        return deny(g, "a statement that writes", NULL);
    case SQLITE_ATTACH:
        /* VACUUM and VACUUM INTO attach their output: refused here too. */
        return deny(g, "ATTACH or VACUUM", NULL);
    default:
        return deny(g, "a statement that writes", NULL);
    }
}

static void guard_gone(void *ctx)
{
    guard *g = ctx;
    pthread_mutex_lock(&g_lock);
    for (guard **p = &g_guards; *p; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    free(g);
}

/* The statement hooks, on while any bound or check is. */
static void arm(guard *g)
{
    if (g->limit_ns > 0 || g->total_ns > 0 || g->max_rows > 0 || g->cancel) {
        sqlite3_trace_v2(g->db, SQLITE_TRACE_STMT | SQLITE_TRACE_ROW, traced, g);
        sqlite3_progress_handler(g->db, 1000, progress, g);
    } else {
        sqlite3_trace_v2(g->db, 0, NULL, NULL);
        sqlite3_progress_handler(g->db, 0, NULL, NULL);
    }
}

static void guard_fn(sqlite3_context *c, int n, sqlite3_value **v)
{
    (void)n;
    (void)v;
    sqlite3_result_null(c);
}

int tr_db_guard(sqlite3 *db, int readonly)
{
    int rc = 0;
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    if (!readonly) return 0;
    /* Before the authorizer, which refuses setting pragmas: query_only
     * also refuses writes to files attached some other way. */
    rc = sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc);
    guard *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    g->db = db;
    g->limit_ns = tr_query_limit_ns();
    g->rearm = 1;
    /* The connection owns g from here: freed with it. */
    rc = sqlite3_create_function_v2(db, "coscope_guard", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, g, guard_fn, NULL, NULL,
                                    guard_gone);
    if (rc != SQLITE_OK) return tr_sqlite_err(rc); /* the destructor ran */
    pthread_mutex_lock(&g_lock);
    g->next = g_guards;
    g_guards = g;
    pthread_mutex_unlock(&g_lock);
    sqlite3_set_authorizer(db, authorize, g);
    arm(g);
    return 0;
}

const char *tr_db_errmsg(sqlite3 *db)
{
    static __thread char buf[256];
    int code = sqlite3_errcode(db);
    guard *g;
    pthread_mutex_lock(&g_lock);
    for (g = g_guards; g && g->db != db; g = g->next) {}
    if (g && code == SQLITE_INTERRUPT && g->tripped == STOP_CANCEL)
        snprintf(buf, sizeof buf, "query cancelled");
    else if (g && code == SQLITE_INTERRUPT && g->tripped == STOP_TOTAL)
        snprintf(buf, sizeof buf, "query stopped after %.0f s (a hostile or very large trace?)", (double)g->total_ns / 1e9);
    else if (g && code == SQLITE_INTERRUPT && g->tripped == STOP_ROWS)
        snprintf(buf, sizeof buf, "query stopped after %lld rows (a hostile or very large trace?)", (long long)g->max_rows);
    else if (g && code == SQLITE_INTERRUPT && g->tripped)
        snprintf(buf, sizeof buf, "query stopped: no result after %.0f s (a hostile or very large trace?"
                                  " COSCOPE_QUERY_TIMEOUT=SECONDS allows longer, 0 no limit)",
                 (double)g->limit_ns / 1e9);
    else if (code == SQLITE_TOOBIG && sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1) == TR_VALUE_MAX)
        snprintf(buf, sizeof buf, "a string or blob longer than %d MB, more than readers take: a hostile trace?",
                 TR_VALUE_MAX >> 20);
    else if (g && code == SQLITE_AUTH && g->denied[0])
        snprintf(buf, sizeof buf, "not allowed: %s (traces are opened read-only)", g->denied);
    else
        tr_sanitize(buf, sizeof buf, sqlite3_errmsg(db)); /* it may quote the file's names */
    pthread_mutex_unlock(&g_lock);
    return buf;
}

int64_t tr_db_set_limit(sqlite3 *db, int64_t limit_ns)
{
    int64_t old = -1;
    pthread_mutex_lock(&g_lock);
    for (guard *g = g_guards; g; g = g->next)
        if (g->db == db) {
            old = g->limit_ns;
            g->limit_ns = limit_ns > 0 ? limit_ns : 0;
            g->rearm = 1;
            arm(g);
            break;
        }
    pthread_mutex_unlock(&g_lock);
    return old;
}

static guard *find(sqlite3 *db)
{
    guard *g;
    for (g = g_guards; g && g->db != db; g = g->next) {}
    return g;
}

int tr_db_set_bounds(sqlite3 *db, int64_t total_ns, int64_t max_rows)
{
    pthread_mutex_lock(&g_lock);
    guard *g = find(db);
    if (g) {
        g->total_ns = total_ns > 0 ? total_ns : 0;
        g->max_rows = max_rows > 0 ? max_rows : 0;
        arm(g);
    }
    pthread_mutex_unlock(&g_lock);
    return g ? 0 : -1;
}

int tr_db_set_cancel(sqlite3 *db, int (*cancel)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&g_lock);
    guard *g = find(db);
    if (g) {
        g->cancel = cancel;
        g->cancel_ctx = ctx;
        g->next_poll = 0;
        arm(g);
    }
    pthread_mutex_unlock(&g_lock);
    return g ? 0 : -1;
}
