/* SPDX-License-Identifier: MIT */
/* reader_run.c -- the run as a whole: how it ended, how long it ran, how
 * many events, and its tasks by state.  What `coscope report` heads its
 * output with and the TUI's header shows, read once here so the two say
 * the same.  The meta table is the file's word: texts are copied raw
 * (bounded) for the caller to sanitize, numbers read as numbers.
 */
#include "reader.h"
#include <errno.h>
#include <string.h>

static void meta_text(sqlite3 *db, const char *sql, const char *key, char *out, size_t cap, int *have)
{
    sqlite3_stmt *st;
    out[0] = 0;
    if (have) *have = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return;
    if (key) sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (s) {
            size_t n = strlen(s);
            if (n >= cap) n = cap - 1;
            memcpy(out, s, n);
            out[n] = 0;
            if (have) *have = 1;
        }
    }
    sqlite3_finalize(st);
}

static int64_t scalar(sqlite3 *db, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return dflt;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int tr_run_summary(sqlite3 *db, int count, tr_run *out)
{
    memset(out, 0, sizeof *out);
    static const char by_key[] = "SELECT " TR_TEXT("value") " FROM meta WHERE key = ?";
    meta_text(db, by_key, TR_META_PROGRAM, out->program, sizeof out->program, NULL);
    /* argv is a JSON array: json_each renders it shell-like, quoting what
     * needs it, and a value that is not one reads as nothing. */
    meta_text(db, "SELECT group_concat(CASE WHEN value = '' OR value GLOB '*[^A-Za-z0-9_./=:,+@%-]*'"
                  " THEN quote(value) ELSE value END, ' ')"
                  " FROM json_each((SELECT value FROM meta WHERE key = '" TR_META_ARGV "'))",
              NULL, out->argv, sizeof out->argv, NULL);
    meta_text(db, by_key, TR_META_START_TIME, out->start_time, sizeof out->start_time, NULL);
    meta_text(db, by_key, TR_META_ENDED, out->ended, sizeof out->ended, &out->has_ended);
    meta_text(db, by_key, TR_META_SIGNAL_NAME, out->signal_name, sizeof out->signal_name, NULL);
    meta_text(db, by_key, TR_META_INCOMPLETE, out->incomplete_why, sizeof out->incomplete_why, NULL);
    meta_text(db, by_key, TR_META_FLIGHT_TRIGGER, out->flight_trigger, sizeof out->flight_trigger, NULL);
    out->ending = out->has_ended ? tr_ending_from_name(out->ended) : -1;
    out->pid = tr_meta_int(db, TR_META_PID, 0);
    out->exit_code = tr_meta_int(db, TR_META_EXIT_CODE, 0);
    out->signal = tr_meta_int(db, TR_META_SIGNAL, 0);
    out->duration_ns = tr_meta_int(db, TR_META_DURATION_NS, -1);
    out->events = tr_meta_int(db, TR_META_EVENTS, -1);
    if (count && out->duration_ns < 0) out->duration_ns = scalar(db, "SELECT MAX(ts) FROM events", 0);
    if (count && out->events < 0) out->events = scalar(db, "SELECT COUNT(*) FROM events", 0);
    out->lost = tr_meta_int(db, TR_META_LOST, 0);
    out->lost_text = tr_meta_int(db, TR_META_LOST_TEXT, 0);
    out->untraced = tr_meta_int(db, TR_META_UNTRACED_PROCESSES, 0);
    out->complete = tr_meta_int(db, TR_META_COMPLETE, 1) != 0;
    out->built = tr_meta_int(db, TR_META_BUILT, 0) != 0;
    return 0;
}

int tr_tasks_by_state(sqlite3 *db, int64_t n[TR_TASK_STATE_COUNT], int64_t *other)
{
    memset(n, 0, TR_TASK_STATE_COUNT * sizeof *n);
    *other = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT state, COUNT(*) FROM tasks GROUP BY state", -1, &st, NULL) != SQLITE_OK)
        return -EILSEQ;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int s = tr_task_state_from_name((const char *)sqlite3_column_text(st, 0));
        int64_t c = sqlite3_column_int64(st, 1);
        if (s >= 0 && s < TR_TASK_STATE_COUNT) n[s] += c;
        else *other += c;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EILSEQ;
}
