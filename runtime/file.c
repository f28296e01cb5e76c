/* SPDX-License-Identifier: MIT */
/* file.c -- file I/O as awaits: open/read/write/close run as synchronous
 * uv_fs_* calls on libuv's thread pool, through the runtime's recorded pool
 * path (pool.h: the trace sees them queued, started and done, as file
 * work), while the task waits as CO_WAIT_FILE on the file's resource id.
 *
 * Cancellation.  A request cannot be interrupted once a pool thread runs it,
 * and the task must not wait for it (co_cancel means "stop now").  So every
 * request is a heap object with its own bounce buffer: reads land there and
 * are copied out only while the task still waits; writes are copied in
 * before the request starts.  A cancelled task detaches (waiter = NULL),
 * returns at once, and the callback frees the request, closing a descriptor
 * that a detached open produced.  The caller's buffer is never touched after
 * its call returns.  The copy costs a memcpy per call; a pool round trip
 * costs far more.
 */
#include "pool.h"
#include <fcntl.h>

#define CO__MAGIC_FILE 0x46494c45u    /* "FILE" */
#define FILE_CHUNK ((size_t)1 << 20)  /* bytes per read/write request (bounce size) */

enum { OP_OPEN, OP_READ, OP_WRITE, OP_CLOSE };

/* One file operation in flight.  Loop thread only, but for the uv_fs_t
 * and the parameters the pool thread uses while it runs.  waiter is the task
 * suspended on it, NULL once that task stopped waiting (then the request
 * owns itself).  dst is the reader's buffer, valid only while waiter is
 * set.  path is a copy (open). */
typedef struct fs_req {
    co__pool_req pool;  /* first */
    uv_fs_t req;
    uv_loop_t *uv;
    co__task *waiter;
    int op;
    int fd, flags, mode, ran;
    int64_t offset;
    char *path;
    char *dst;
    size_t len;
    char buf[];  /* bounce buffer, len bytes (reads and writes) */
} fs_req;

static void fs_cancel(co__task *t)
{
    fs_req *r = t->wake_value;
    r->waiter = NULL;
    /* A request no pool thread took yet is dropped (done runs with
     * UV_ECANCELED).  Never for close: the descriptor must go regardless. */
    if (r->op != OP_CLOSE) co__pool_cancel(&r->pool);
}

/* On a pool thread: the operation, synchronously (no callback). */
static void fs_run(co__pool_req *p)
{
    fs_req *r = (fs_req *)p;
    uv_buf_t b = uv_buf_init(r->buf, (unsigned)r->len);
    r->ran = 1;
    switch (r->op) {
    case OP_OPEN: uv_fs_open(r->uv, &r->req, r->path, r->flags, r->mode, NULL); break;
    case OP_READ: uv_fs_read(r->uv, &r->req, r->fd, &b, 1, r->offset, NULL); break;
    case OP_WRITE: uv_fs_write(r->uv, &r->req, r->fd, &b, 1, r->offset, NULL); break;
    case OP_CLOSE: uv_fs_close(r->uv, &r->req, r->fd, NULL); break;
    }
}

static void fs_done(co__pool_req *p, int status)
{
    fs_req *r = (fs_req *)p;
    ssize_t res = status == UV_ECANCELED || !r->ran ? UV_ECANCELED : r->req.result;
    co__task *t = r->waiter;
    if (t) {
        if (r->op == OP_READ && res > 0) memcpy(r->dst, r->buf, (size_t)res);
        t->wait_cancel = NULL; /* completed: nothing to detach */
        co__wake(t, (int)res);
    } else if (r->op == OP_OPEN && res >= 0) {
        /* Nobody will ever see this descriptor. */
        uv_fs_t c;
        uv_fs_close(r->uv, &c, (uv_file)res, NULL);
        uv_fs_req_cleanup(&c);
    }
    if (r->ran) uv_fs_req_cleanup(&r->req);
    free(r->path);
    free(r);
}

static fs_req *req_new(co__task *self, int op, size_t bounce)
{
    fs_req *r = malloc(sizeof *r + bounce);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    r->pool.run = fs_run;
    r->pool.done = fs_done;
    r->uv = self->loop->uv;
    r->waiter = self;
    r->op = op;
    r->fd = -1;
    r->offset = -1;
    r->len = bounce;
    return r;
}

/* Submit r and wait for it.  See tcp.c's io_wait for the wait_cancel
 * protocol. */
static int fs_wait(co__task *self, co_loc *loc, void *obj, uint64_t id, fs_req *r)
{
    int start = co__pool_submit(r->uv, &r->pool, loc, TR_WORK_FILE, self->id);
    if (start < 0) {
        free(r->path);
        free(r);
        return start;
    }
    self->wake_value = r;
    self->wait_cancel = fs_cancel;
    int rc = co__suspend(self, CO_WAIT_FILE, obj, id, loc, NULL);
    if (CO_UNLIKELY(self->wait_cancel != NULL)) { /* returned without waiting */
        self->wait_cancel = NULL;
        fs_cancel(self);
    }
    self->wake_value = NULL;
    return rc;
}

static inline bool file_ok(const co_file_t *f) { return f && f->magic == CO__MAGIC_FILE && f->fd >= 0; }

int co_file_open_at(co_loc *loc, co_file_t *f, const char *path, int flags, int mode)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!f || !path) return -EINVAL;
    f->magic = 0;
    f->fd = -1;
    f->id = co__resource_new(loc, CO_WAIT_FILE, "file");
    fs_req *r = req_new(self, OP_OPEN, 0);
    if (!r) return -ENOMEM;
    /* O_CLOEXEC: a descriptor of ours must not leak into co_exec'd children. */
    r->flags = flags | O_CLOEXEC;
    r->mode = mode;
    if (!(r->path = strdup(path))) {
        free(r);
        return -ENOMEM;
    }
    int rc = fs_wait(self, loc, f, f->id, r);
    if (rc < 0) return rc;
    f->fd = rc;
    f->magic = CO__MAGIC_FILE;
    return 0;
}

int co_file_read_at(co_loc *loc, co_file_t *f, void *buf, size_t len, int64_t offset)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!file_ok(f)) return -EINVAL;
    if (len == 0) return 0;
    if (len > FILE_CHUNK) len = FILE_CHUNK;
    fs_req *r = req_new(self, OP_READ, len);
    if (!r) return -ENOMEM;
    r->dst = buf;
    r->fd = f->fd;
    r->offset = offset < 0 ? -1 : offset;
    return fs_wait(self, loc, f, f->id, r);
}

int co_file_write_at(co_loc *loc, co_file_t *f, const void *buf, size_t len, int64_t offset)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!file_ok(f)) return -EINVAL;
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done > FILE_CHUNK ? FILE_CHUNK : len - done;
        fs_req *r = req_new(self, OP_WRITE, n);
        if (!r) return -ENOMEM;
        memcpy(r->buf, p + done, n);
        r->fd = f->fd;
        r->offset = offset < 0 ? -1 : offset + (int64_t)done;
        int rc = fs_wait(self, loc, f, f->id, r);
        if (rc < 0) return rc;
        if (rc == 0) return -EIO; /* write(2) made no progress: do not spin */
        done += (size_t)rc;
    }
    return 0;
}

int co_file_close_at(co_loc *loc, co_file_t *f)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!file_ok(f)) return -EINVAL;
    int fd = f->fd;
    f->fd = -1;
    f->magic = CO__MAGIC_DEAD; /* dead whatever happens next */
    fs_req *r = req_new(self, OP_CLOSE, 0);
    if (!r) {
        /* Closing must not fail for lack of memory: do it here, synchronously. */
        uv_fs_t c;
        int rc = uv_fs_close(self->loop->uv, &c, fd, NULL);
        uv_fs_req_cleanup(&c);
        return rc;
    }
    r->fd = fd;
    return fs_wait(self, loc, f, f->id, r);
}

int co_file_read_all_at(co_loc *loc, const char *path, void **data, size_t *len)
{
    if (!data || !len) return -EINVAL;
    *data = NULL;
    *len = 0;
    co_file_t f;
    int rc = co_file_open_at(loc, &f, path, O_RDONLY, 0);
    if (rc < 0) return rc;
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) rc = -ENOMEM;
    while (buf) {
        if (n == cap) {
            char *b = realloc(buf, cap * 2 + 1);
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            buf = b;
            cap *= 2;
        }
        rc = co_file_read_at(loc, &f, buf + n, cap - n, -1);
        if (rc <= 0) break;
        n += (size_t)rc;
    }
    int rc2 = co_file_close_at(loc, &f);
    if (rc == 0 && rc2 < 0) rc = rc2;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int co_file_write_all_at(co_loc *loc, const char *path, const void *data, size_t len)
{
    co_file_t f;
    int rc = co_file_open_at(loc, &f, path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (rc < 0) return rc;
    rc = co_file_write_at(loc, &f, data, len, 0);
    int rc2 = co_file_close_at(loc, &f);
    return rc < 0 ? rc : rc2;
}
