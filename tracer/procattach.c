/* SPDX-License-Identifier: MIT */
/* procattach.c -- what `coscope attach PID` reads from outside before it
 * signals: whether the program can be attached (the signal its runtime
 * armed) and whether a coscope is attached already.  Read from the layout
 * table (runtime/debug_offsets.h) like `ps`, without pausing: two words
 * written atomically by the runtime.  Untrusted memory: every offset is
 * checked before it is followed. */
#define _GNU_SOURCE
#include "procread.h"
#include "../runtime/debug_offsets.h"
#include <string.h>
#include <sys/uio.h>

static int rd(int pid, uint64_t addr, void *buf, size_t len)
{
    if (addr == 0 || addr + len < addr) return TR_PS_EBADTABLE;
    struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len) return 0;
    if (n < 0 && errno == ESRCH) return TR_PS_ENOPROC;
    if (n < 0 && errno == EPERM) return TR_PS_EPERM;
    return TR_PS_EBADTABLE;
}

int tr_ps_attach_state(int pid, int *signo, int *peer, tr_ps_info *info)
{
    tr_ps_info dummy;
    if (!info) info = &dummy;
    memset(info, 0, sizeof *info);
    *signo = *peer = 0;
    uint64_t addr;
    int r = tr_ps_find_table(pid, &addr, info->object, sizeof info->object);
    if (r < 0) return r;
    struct { char magic[8]; uint32_t version, size; } head;
    if ((r = rd(pid, addr, &head, sizeof head)) < 0) return r;
    if (memcmp(head.magic, CO_DEBUG_MAGIC, 8)) return TR_PS_EBADTABLE;
    info->version = head.version;
    if (head.version != CO_DEBUG_VERSION) return TR_PS_EVERSION;
    if (head.size < sizeof(co_debug_offsets_t)) return TR_PS_ENOATTACH;
    struct { uint64_t attach; co_debug_field signo, peer; } a;
    if ((r = rd(pid, addr + offsetof(co_debug_offsets_t, attach), &a, sizeof a)) < 0) return r;
    if (a.signo.size != 4 || a.peer.size != 4 || a.signo.off > 60 || a.peer.off > 60) return TR_PS_EBADTABLE;
    int32_t v;
    if ((r = rd(pid, a.attach + a.signo.off, &v, sizeof v)) < 0) return r;
    *signo = v;
    if ((r = rd(pid, a.attach + a.peer.off, &v, sizeof v)) < 0) return r;
    *peer = v;
    return 0;
}
