/* SPDX-License-Identifier: MIT */
/* endpoint.h -- what the all-asleep report and the trace's warnings need
 * from endpoint.c: who could wake a task reading a connection whose other
 * end is a connection of the same loop. */
#ifndef CO_ENDPOINT_H
#define CO_ENDPOINT_H

#include "internal.h"

/* x waits to read a connection paired with another of this loop: the task
 * that last read or wrote that other end (only a task of this process can
 * write to it), if it is alive and not x; else NULL. */
co__task *co__ep_peer_user(co__task *x);
/* "127.0.0.1:41234 -> 127.0.0.1:5555" for the connection x waits to read,
 * and its id and the other end's; 0 if x waits on no paired connection. */
int co__ep_describe(co__task *x, char *out, size_t cap, uint64_t *peer_id);

#endif /* CO_ENDPOINT_H */
