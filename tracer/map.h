/* SPDX-License-Identifier: MIT */
/* map.h -- the builder's hash map (map.c): uint64 key -> fixed-size value.
 * Keys are never 0 (0 marks an empty slot).  Values move when the map
 * grows or an entry is deleted: a pointer from find/put is valid only until
 * the next put or del on the same map. */
#ifndef TR_MAP_H
#define TR_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_map {
    uint64_t *keys;   /* cap slots, 0 = empty */
    char *vals;       /* cap values of vsize bytes */
    size_t vsize, cap, len;
} tr_map;

static inline uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

void tr_map_init(tr_map *m, size_t vsize);
void *tr_map_find(tr_map *m, uint64_t key);      /* NULL if absent */
void *tr_map_put(tr_map *m, uint64_t key);       /* existing, or new and zeroed; NULL on ENOMEM */
void tr_map_del(tr_map *m, uint64_t key);
void tr_map_free(tr_map *m);

#endif
