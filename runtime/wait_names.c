/* SPDX-License-Identifier: MIT */
/* wait_names.c -- the name of each co_wait_kind, as co_wait_kind_name()
 * gives it to programs and as traces store it on disk (docs/schema.md; the
 * tracer's tr_wait_name reads this table through co_wait_kind_name).  Part
 * of the file format: a name never changes once shipped.  The table is
 * expanded from the list that makes the enum (coscope.h, CO_WAIT_KINDS), so
 * a kind and its name cannot be separated by a reordering.
 */
#include "internal.h"

#define NAME_OF(id, name) name,
static const char *const WAIT_NAMES[] = { CO_WAIT_KINDS(NAME_OF) };
#undef NAME_OF
_Static_assert(sizeof(WAIT_NAMES) / sizeof(WAIT_NAMES[0]) == CO_WAIT_KIND_COUNT, "a name per wait kind");

const char *co__wait_name(unsigned kind)
{
    return kind < CO_WAIT_KIND_COUNT ? WAIT_NAMES[kind] : "?";
}
