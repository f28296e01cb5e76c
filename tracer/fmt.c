/* SPDX-License-Identifier: MIT */
/* fmt.c -- how coscope writes times and trace text for people, shared by
 * `coscope report` and the TUI so that the two say the same thing the same
 * way: durations in at most 7 characters, text fitted to a column, control
 * characters from a trace neutralised before they reach a terminal, and the
 * inverse of the durations for times people type ("1.5s", "230ms").
 */
#define _GNU_SOURCE   /* wcwidth, uselocale */
#include "tracer.h"
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <wchar.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tr_fmt_dur(char buf[TR_DUR_LEN], int64_t ns)
{
    static const char *const unit[] = { "us", "ms", "s" };
    if (ns < 0) ns = 0;
    if (ns < 1000) {
        snprintf(buf, TR_DUR_LEN, "%lldns", (long long)ns);
        return buf;
    }
    double v = (double)ns / 1000;
    int u = 0;
    while (v >= 1000 && u < 2) { v /= 1000; u++; }
    if (v < 9.995) snprintf(buf, TR_DUR_LEN, "%.2f%s", v, unit[u]);
    else if (v < 99.95) snprintf(buf, TR_DUR_LEN, "%.1f%s", v, unit[u]);
    else snprintf(buf, TR_DUR_LEN, "%.0f%s", v, unit[u]);
    return buf;
}

/* The code point at s (n bytes left) and its length; -1 for an invalid
 * sequence (its first byte then counts as one column). */
static int32_t decode(const unsigned char *s, size_t n, size_t *len)
{
    unsigned c = s[0];
    size_t k;
    int32_t cp;
    if (c < 0x80) { *len = 1; return (int32_t)c; }
    if (c >= 0xc2 && c <= 0xdf) { k = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { k = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { k = 4; cp = c & 0x07; }
    else { *len = 1; return -1; }
    if (n < k) { *len = 1; return -1; }
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) { *len = 1; return -1; }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *len = k;
    return cp;
}

/* wcwidth under C.UTF-8, made once: the CLI never calls setlocale, and the
 * TUI's locale may not be UTF-8 even when the text is. */
static locale_t utf8_loc;
static void utf8_make(void) { utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0); }

static locale_t utf8_locale(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, utf8_make);
    return utf8_loc;
}

/* Columns of one character (see tr_width). */
static int char_cols(int32_t cp)
{
    if (cp < 0) return 1;
    if (cp < 0x7f) return 1;   /* ASCII, controls included (callers escape them) */
    locale_t l = utf8_locale();
    if (!l) return 1;
    locale_t old = uselocale(l);
    int w = wcwidth((wchar_t)cp);
    uselocale(old);
    return w < 0 ? 1 : w;
}

int tr_width(const char *s)
{
    int w = 0;
    size_t n = strlen(s), len;
    for (const unsigned char *p = (const unsigned char *)s; n; p += len, n -= len)
        w += char_cols(decode(p, n, &len));
    return w;
}

/* Bytes of the longest prefix of s within cols columns and max bytes. */
static size_t prefix_within(const char *s, size_t cols, size_t max)
{
    size_t n = strlen(s), at = 0, used = 0, len;
    while (at < n) {
        int c = char_cols(decode((const unsigned char *)s + at, n - at, &len));
        if (used + (size_t)c > cols || at + len > max) break;
        used += (size_t)c;
        at += len;
    }
    return at;
}

const char *tr_fit(char *buf, size_t cap, const char *s, size_t w)
{
    if (w < 2) w = 2;
    if ((size_t)tr_width(s) <= w && strlen(s) < cap) return s;
    size_t k = prefix_within(s, w - 1, cap - 2); /* room for '~' and the NUL */
    memcpy(buf, s, k);
    buf[k] = '~';
    buf[k + 1] = 0;
    return buf;
}

const char *tr_fit_left(char *buf, size_t cap, const char *s, size_t w)
{
    size_t n = strlen(s);
    if ((size_t)tr_width(s) <= w || w < 4 || cap < 5) return s;
    /* The shortest tail within w - 3 columns: walk from the front. */
    size_t total = (size_t)tr_width(s), at = 0, len;
    while (at < n && total > w - 3) {
        total -= (size_t)char_cols(decode((const unsigned char *)s + at, n - at, &len));
        at += len;
    }
    if (n - at + 4 > cap) at = n - (cap - 4);
    while (at < n && ((unsigned char)s[at] & 0xc0) == 0x80) at++; /* not mid-character */
    snprintf(buf, cap, "...%s", s + at);
    return buf;
}

const char *tr_pad(char *buf, size_t cap, const char *s, size_t w)
{
    if (cap < 4) return "";
    const char *f = tr_fit(buf, cap, s, w);
    size_t n = strlen(f);
    if (f != buf) {
        memmove(buf, f, n + 1);
    }
    for (int c = tr_width(buf); (size_t)c < w && n + 1 < cap; c++) buf[n++] = ' ';
    buf[n] = 0;
    return buf;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid.
 * C1 controls (U+0080..U+009F) count as invalid: terminals obey some. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (cp >= 0x80 && cp <= 0x9f) return 0;
    return len;
}

/* Invisible format characters that reorder or hide text: the bidi
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the
 * marks (U+200E, U+200F, U+061C), the zero-width ones (U+200B-U+200D,
 * U+2060, U+FEFF) and the line and paragraph separators (U+2028, U+2029).
 * A name holding them can make a line read as something else (the Trojan
 * Source class), so they are shown, not obeyed. */
static int invisible(const unsigned char *p, size_t len, unsigned *cp)
{
    if (len == 2) *cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    else if (len == 3) *cp = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    else return 0;
    unsigned c = *cp;
    return c == 0x061c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || c == 0x2060 ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

size_t tr_sanitize(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap == 0) return 0;
    if (!s) s = "";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t len = utf8_len(p, n);
        const char *put = (const char *)p;
        size_t plen = len;
        if (len == 0 || (len == 1 && (*p < 0x20 || *p == 0x7f))) {
            /* Tabs and newlines become spaces (one line per field); anything
             * else a terminal could act on becomes '?'. */
            put = (*p == '\t' || *p == '\n' || *p == '\r') ? " " : "?";
            plen = 1;
            len = 1;
        }
        char esc[12];
        unsigned cp;
        if (len > 1 && invisible(p, len, &cp)) {
            /* Visibly escaped, as <U+202E>: never obeyed, never lost. */
            plen = (size_t)snprintf(esc, sizeof esc, "<U+%04X>", cp);
            put = esc;
        }
        if (o + plen >= cap) break;
        memcpy(out + o, put, plen);
        o += plen;
        p += len;
        n -= len;
    }
    out[o] = 0;
    return o;
}

int tr_parse_time(const char *s, int64_t *ns)
{
    char *end;
    if (!s) return -EINVAL;
    while (*s == ' ') s++;
    if (!*s) return -EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || v != v) return -EINVAL;
    while (*end == ' ') end++;
    double mul;
    if (!*end || !strcmp(end, "s")) mul = 1e9;
    else if (!strcmp(end, "ms")) mul = 1e6;
    else if (!strcmp(end, "us")) mul = 1e3;
    else if (!strcmp(end, "ns")) mul = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min")) mul = 60e9;
    else return -EINVAL;
    double r = v * mul;
    if (r > 9.2e18) return -ERANGE;
    *ns = (int64_t)(r + 0.5);
    return 0;
}
