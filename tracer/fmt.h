/* SPDX-License-Identifier: MIT */
/* fmt.h -- how coscope writes times and trace text for people (fmt.c),
 * apart from tracer.h so that front ends that never touch SQLite (the
 * TUI's views) can use it without sqlite3.h. */
#ifndef TR_FMT_H
#define TR_FMT_H

#include <stddef.h>
#include <stdint.h>

#define TR_DUR_LEN 16
/* A duration in at most 7 characters with 3 significant digits ("812ns",
 * "1.25ms", "14.2s"); negative reads as 0.  Returns buf. */
char *tr_fmt_dur(char buf[TR_DUR_LEN], int64_t ns);
/* Display columns of UTF-8 text on a terminal (wcwidth's: a CJK character
 * or an emoji is 2, a combining mark 0; an invalid byte or a control 1),
 * whatever the process's locale.  The one width function of the report,
 * `coscope sql`'s tables and the TUI (tui_width), so they align alike. */
int tr_width(const char *s);
/* s cut to at most w columns (2 <= w), marked with '~' when cut, never
 * inside a UTF-8 sequence, and within cap bytes.  Returns s itself or buf. */
const char *tr_fit(char *buf, size_t cap, const char *s, size_t w);
/* The same, keeping the tail ("...dir/file.c:12"): for paths. */
const char *tr_fit_left(char *buf, size_t cap, const char *s, size_t w);
/* s fitted to w columns (tr_fit) and padded with spaces to exactly w: a
 * left-aligned table cell, where printf's %-20s would count bytes. */
const char *tr_pad(char *buf, size_t cap, const char *s, size_t w);
/* Trace text made safe for a terminal, into out (cap bytes, NUL always
 * written): control characters (C0, DEL, C1) and invalid UTF-8 become '?',
 * tab and newline a space, and the invisible format characters (bidi
 * overrides, embeddings, isolates and marks, zero-width ones, U+FEFF,
 * U+2028/9) their code as <U+202E> -- so out can be up to 8/3 of s's
 * length; what does not fit is cut.  Returns the bytes written.  s may be
 * NULL. */
size_t tr_sanitize(char *out, size_t cap, const char *s);
/* A time typed by a person: "1.5s", "230ms", "40us", "12ns", "2m" or a bare
 * number of seconds.  Returns 0 with *ns set, or -EINVAL / -ERANGE. */
int tr_parse_time(const char *s, int64_t *ns);

#endif
