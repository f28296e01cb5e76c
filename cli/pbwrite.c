/* SPDX-License-Identifier: MIT */
/* pbwrite.c -- the protobuf writing under `coscope export --format
 * perfetto` (export_perfetto.c): a growing buffer of fields in the wire
 * format, nested messages written in place, and the name -> iid tables
 * that Perfetto's interning wants.  Out of memory is sticky (oom) and said
 * by the caller, once, at the packet's end.
 */
#include "export_perfetto.h"
#include <stdlib.h>
#include <string.h>

/* Wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

static void reserve(cli_pb *p, size_t more)
{
    if (p->n + more <= p->cap) return;
    size_t cap = p->cap ? p->cap : 256;
    while (cap < p->n + more) cap *= 2;
    uint8_t *b = realloc(p->b, cap);
    if (!b) { p->oom = 1; p->n = 0; return; }
    p->b = b;
    p->cap = cap;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static void put_varint_at(uint8_t *b, uint64_t v)
{
    while (v >= 0x80) { *b++ = (uint8_t)(v | 0x80); v >>= 7; }
    *b = (uint8_t)v;
}

static void varint(cli_pb *p, uint64_t v)
{
    reserve(p, 10);
    if (p->oom) return;
    put_varint_at(p->b + p->n, v);
    p->n += varint_len(v);
}

static void tag(cli_pb *p, unsigned field, unsigned wt) { varint(p, (uint64_t)field << 3 | wt); }

void cli_pb_uint(cli_pb *p, unsigned field, uint64_t v)
{
    tag(p, field, WT_VARINT);
    varint(p, v);
}

void cli_pb_fixed64(cli_pb *p, unsigned field, uint64_t v)
{
    tag(p, field, WT_I64);
    reserve(p, 8);
    if (p->oom) return;
    for (int i = 0; i < 8; i++) p->b[p->n++] = (uint8_t)(v >> (8 * i));
}

void cli_pb_str(cli_pb *p, unsigned field, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    tag(p, field, WT_LEN);
    varint(p, len);
    reserve(p, len);
    if (p->oom || !len) return;
    memcpy(p->b + p->n, s, len);
    p->n += len;
}

/* One byte is kept for the length; cli_pb_end moves the body if it needs
 * more. */
size_t cli_pb_begin(cli_pb *p, unsigned field)
{
    tag(p, field, WT_LEN);
    reserve(p, 1);
    if (p->oom) return 0;
    p->b[p->n++] = 0;
    return p->n;
}

void cli_pb_end(cli_pb *p, size_t body)
{
    if (p->oom) return;
    size_t len = p->n - body, extra = varint_len(len) - 1;
    if (extra) {
        reserve(p, extra);
        if (p->oom) return;
        memmove(p->b + body + extra, p->b + body, len);
        p->n += extra;
    }
    put_varint_at(p->b + body - 1, len);
}

void cli_pb_append(cli_pb *p, unsigned field, const cli_pb *body)
{
    size_t at = cli_pb_begin(p, field);
    reserve(p, body->n);
    if (!p->oom) {
        memcpy(p->b + p->n, body->b, body->n);
        p->n += body->n;
    }
    cli_pb_end(p, at);
}

void cli_pb_write(FILE *f, unsigned field, const cli_pb *body)
{
    uint8_t hdr[16];
    put_varint_at(hdr, (uint64_t)field << 3 | WT_LEN);
    size_t n = varint_len((uint64_t)field << 3 | WT_LEN);
    put_varint_at(hdr + n, body->n);
    fwrite(hdr, 1, n + varint_len(body->n), f);
    fwrite(body->b, 1, body->n, f);
}

/* ---- interning: open addressing, iids from 1 per table ------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

uint64_t cli_intern_get(cli_intern *t, const char *s, int *fresh)
{
    *fresh = 0;
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        char **key = calloc(cap, sizeof *key);
        uint64_t *iid = calloc(cap, sizeof *iid);
        if (!key || !iid) { free(key); free(iid); return 0; }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->key[i]) continue;
            size_t j = hash_str(t->key[i]) & (cap - 1);
            while (key[j]) j = (j + 1) & (cap - 1);
            key[j] = t->key[i];
            iid[j] = t->iid[i];
        }
        free(t->key);
        free(t->iid);
        t->key = key;
        t->iid = iid;
        t->cap = cap;
    }
    size_t j = hash_str(s) & (t->cap - 1);
    while (t->key[j]) {
        if (!strcmp(t->key[j], s)) return t->iid[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!(t->key[j] = strdup(s))) return 0;
    t->iid[j] = ++t->n;
    *fresh = 1;
    return t->iid[j];
}

void cli_intern_free(cli_intern *t)
{
    for (size_t i = 0; i < t->cap; i++) free(t->key[i]);
    free(t->key);
    free(t->iid);
}
