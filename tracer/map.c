/* SPDX-License-Identifier: MIT */
/* map.c -- a small open-addressing hash map from nonzero uint64 keys to
 * fixed-size values, for the builder's per-task and per-resource state:
 * linear probing, power-of-two capacity at most half full, and
 * backward-shift deletion, so there are no tombstones to sweep. */
#include "map.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tr_map_init(tr_map *m, size_t vsize) { memset(m, 0, sizeof *m); m->vsize = vsize; }

void *tr_map_find(tr_map *m, uint64_t key)
{
    if (!m->cap) return NULL;
    for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) return m->vals + i * m->vsize;
        if (m->keys[i] == 0) return NULL;
    }
}

static int grow(tr_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    tr_map n = { calloc(cap, 8), calloc(cap, m->vsize), m->vsize, cap, 0 };
    if (!n.keys || !n.vals) { free(n.keys); free(n.vals); return -ENOMEM; }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) memcpy(tr_map_put(&n, m->keys[i]), m->vals + i * m->vsize, m->vsize);
    free(m->keys); free(m->vals);
    *m = n;
    return 0;
}

void *tr_map_put(tr_map *m, uint64_t key)
{
    if ((m->len + 1) * 2 > m->cap && grow(m) < 0) return NULL;
    size_t i = mix(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        m->keys[i] = key;
        memset(m->vals + i * m->vsize, 0, m->vsize);
        m->len++;
    }
    return m->vals + i * m->vsize;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
void tr_map_del(tr_map *m, uint64_t key)
{
    if (!m->cap) return;
    size_t i = mix(key) & (m->cap - 1);
    while (m->keys[i] != key) {
        if (!m->keys[i]) return;
        i = (i + 1) & (m->cap - 1);
    }
    size_t j = i;
    for (;;) {
        j = (j + 1) & (m->cap - 1);
        if (!m->keys[j]) break;
        size_t home = mix(m->keys[j]) & (m->cap - 1);
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->keys[i] = m->keys[j];
            memcpy(m->vals + i * m->vsize, m->vals + j * m->vsize, m->vsize);
            i = j;
        }
    }
    m->keys[i] = 0;
    m->len--;
}

void tr_map_free(tr_map *m) { free(m->keys); free(m->vals); memset(m, 0, sizeof *m); }

