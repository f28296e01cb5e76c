/* file.c -- file I/O as awaits: open/read/write/close run as uv_fs_*
 * requests on libuv's thread pool while the task waits as CO_WAIT_FILE on
 * the file's resource id.
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
#include "internal.h"
#include <fcntl.h>

#define CO__MAGIC_FILE 0x46494c45u    /* "FILE" */
#define FILE_CHUNK ((size_t)1 << 20)  /* bytes per read/write request (bounce size) */

enum { OP_OPEN, OP_READ, OP_WRITE, OP_CLOSE };

/* One uv_fs request in flight.  Loop thread only.  waiter is the task
 * suspended on it, NULL once that task stopped waiting (then the callback
 * owns the request).  dst is the reader's buffer, valid only while waiter is
 * set. */
typedef struct fs_req {
    uv_fs_t req;
    co__task *waiter;
    int op;
    char *dst;
    size_t len;
    char buf[];  /* bounce buffer, len bytes (reads and writes) */
} fs_req;

static void fs_cancel(co__task *t)
{
    fs_req *r = t->wake_value;
    r->waiter = NULL;
    /* A request no pool thread took yet is dropped (its callback runs with
     * UV_ECANCELED).  Never for close: the descriptor must go regardless. */
    if (r->op != OP_CLOSE) uv_cancel((uv_req_t *)&r->req);
}

static void on_fs(uv_fs_t *req)
{
    fs_req *r = req->data;
    ssize_t res = req->result;
    co__task *t = r->waiter;
    if (t) {
        if (r->op == OP_READ && res > 0) memcpy(r->dst, r->buf, (size_t)res);
        t->wait_cancel = NULL; /* completed: nothing to detach */
        co__wake(t, (int)res);
    } else if (r->op == OP_OPEN && res >= 0) {
        /* Nobody will ever see this descriptor. */
        uv_fs_t c;
        uv_fs_close(req->loop, &c, (uv_file)res, NULL);
        uv_fs_req_cleanup(&c);
    }
    uv_fs_req_cleanup(req);
    free(r);
}

static fs_req *req_new(co__task *self, int op, size_t bounce)
{
    fs_req *r = malloc(sizeof *r + bounce);
    if (!r) return NULL;
    r->req.data = r;
    r->waiter = self;
    r->op = op;
    r->dst = NULL;
    r->len = bounce;
    return r;
}

/* Wait for the request `start` submitted (start's result < 0: it was never
 * submitted, free it).  See tcp.c's io_wait for the wait_cancel protocol. */
static int fs_wait(co__task *self, co_loc *loc, void *obj, uint64_t id, fs_req *r, int start)
{
    if (start < 0) {
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
    int rc = fs_wait(self, loc, f, f->id, r,
                     uv_fs_open(self->loop->uv, &r->req, path, flags | O_CLOEXEC, mode, on_fs));
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
    uv_buf_t b = uv_buf_init(r->buf, (unsigned)len);
    return fs_wait(self, loc, f, f->id, r,
                   uv_fs_read(self->loop->uv, &r->req, f->fd, &b, 1, offset < 0 ? -1 : offset, on_fs));
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
        uv_buf_t b = uv_buf_init(r->buf, (unsigned)n);
        int rc = fs_wait(self, loc, f, f->id, r,
                         uv_fs_write(self->loop->uv, &r->req, f->fd, &b, 1,
                                     offset < 0 ? -1 : offset + (int64_t)done, on_fs));
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
    return fs_wait(self, loc, f, f->id, r, uv_fs_close(self->loop->uv, &r->req, fd, on_fs));
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
