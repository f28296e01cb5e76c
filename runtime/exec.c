/* SPDX-License-Identifier: MIT */
/* exec.c -- co_exec: run a child process with uv_spawn and wait for it,
 * optionally capturing its stdout/stderr, with cwd and environment.
 *
 * All state lives in the calling task's frame: co_exec does not return until
 * the child is reaped and every libuv handle it opened is closed, so nothing
 * it started outlives it (a cancelled co_exec kills the child and still
 * waits for it).  libuv callbacks only record what happened and wake the task
 * if it is waiting on this call; the task decides what to do next.
 */
#include "internal.h"
#include <signal.h>

#define CO__EXEC_GRACE_MS 2000 /* SIGTERM -> SIGKILL on cancellation, by default */

typedef struct outbuf {
    char *data;
    size_t len, cap;
} outbuf;

/* One co_exec call.  Loop thread only (libuv callbacks and the task). */
typedef struct proc {
    uv_process_t handle;
    uv_pipe_t pipes[2];      /* captured stdout, stderr */
    uv_timer_t kill_timer;   /* SIGKILL escalation */
    outbuf out[2];
    co__task *task;
    int capture[2];          /* output i is captured (through pipes[i]) */
    int piped[2];            /* pipes[i] is initialised and not yet closed */
    int reading[2];          /* pipes[i] has not reached EOF */
    int open;                /* handles not yet closed */
    int exited;
    int64_t exit_status;
    int term_signal;
    int error;               /* first capture failure, negative */
} proc;

/* Wake the task if it is suspended on this call (and not already woken). */
static void kick(proc *p)
{
    co__task *t = p->task;
    if (t->state == CO_TASK_WAITING && t->wait_obj == p) co__wake(t, 0);
}

static void on_exit_cb(uv_process_t *h, int64_t exit_status, int term_signal)
{
    proc *p = h->data;
    p->exited = 1;
    p->exit_status = exit_status;
    p->term_signal = term_signal;
    uv_timer_stop(&p->kill_timer);
    kick(p);
}

static void on_kill_timer(uv_timer_t *h)
{
    proc *p = h->data;
    if (!p->exited) uv_process_kill(&p->handle, SIGKILL);
}

static int pipe_index(proc *p, uv_handle_t *h) { return h == (uv_handle_t *)&p->pipes[0] ? 0 : 1; }

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    proc *p = h->data;
    outbuf *b = &p->out[pipe_index(p, h)];
    if (b->cap - b->len < 4096) {
        size_t cap = b->cap ? b->cap * 2 : 16384;
        char *d = realloc(b->data, cap);
        if (!d) { /* read_cb gets UV_ENOBUFS */
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    (void)suggested;
    *buf = uv_buf_init(b->data + b->len, (unsigned)(b->cap - b->len));
}

static void stop_reading(proc *p, int i)
{
    if (!p->reading[i]) return;
    uv_read_stop((uv_stream_t *)&p->pipes[i]);
    p->reading[i] = 0;
}

static void on_close(uv_handle_t *h);

/* Stop reading pipe i and close it now: a child writing to a pipe nobody
 * reads would block forever; closed, it gets EPIPE/SIGPIPE instead. */
static void drop_pipe(proc *p, int i)
{
    if (!p->piped[i]) return;
    stop_reading(p, i);
    p->piped[i] = 0;
    uv_close((uv_handle_t *)&p->pipes[i], on_close);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    proc *p = s->data;
    int i = pipe_index(p, (uv_handle_t *)s);
    (void)buf;
    if (n > 0) {
        p->out[i].len += (size_t)n;
        return;
    }
    if (n == 0) return; /* EAGAIN */
    if (n == UV_EOF) {
        stop_reading(p, i);
    } else {
        if (p->error == 0) p->error = n == UV_ENOBUFS ? -ENOMEM : (int)n;
        drop_pipe(p, i);
    }
    kick(p);
}

static void on_close(uv_handle_t *h)
{
    proc *p = h->data;
    p->open--;
    kick(p);
}

/* Wait on p until done(p), with no deadline and no way out: what is left is
 * cleanup that must finish (reaping, closing).  Returns whether a
 * cancellation arrived meanwhile (the caller decides whether it was news). */
static int wait_uninterruptible(co__task *self, proc *p, uint64_t id, co_loc *loc, int (*done)(const proc *))
{
    int cancelled = 0;
    while (!done(p))
        if (co__suspend(self, CO_WAIT_PROCESS, p, id, loc, NULL) == -ECANCELED) cancelled = 1;
    return cancelled;
}

static int all_closed(const proc *p) { return p->open == 0; }
static int reaped(const proc *p) { return p->exited; }

/* Mark a passed deadline on the task's timeout scopes (as co__suspend does). */
static int deadline_passed(co__task *self)
{
    if (self->deadline == CO__NODEADLINE) return 0;
    uint64_t now = uv_now(self->loop->uv);
    if (self->deadline > now) return 0;
    for (co_timeout_t *s = self->scope; s; s = s->outer)
        if (s->deadline <= now) s->expired = 1;
    return 1;
}

int co_exec_at(co_loc *loc, const char *const argv[], co_exec_opts *opts, int *status)
{
    co__task *self = co__self();
    if (CO_UNLIKELY(!self)) return -EPERM;
    if (!argv || !argv[0]) return -EINVAL;
    if (opts) {
        opts->out = opts->err = NULL;
        opts->out_len = opts->err_len = 0;
    }
    /* Never start a process for a task that is already cancelled or out of
     * time: the checks co__suspend would make, before the side effect. */
    if (self->cancel_pending) {
        self->cancel_pending = CO__CANCEL_NONE;
        return -ECANCELED;
    }
    if (deadline_passed(self)) return -ETIMEDOUT;

    uv_loop_t *uv = self->loop->uv;
    uint64_t id = co__next_resource_id();
    proc p;
    memset(&p, 0, sizeof p);
    p.task = self;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE; /* /dev/null */
    for (int i = 0; i < 2; i++) {
        p.capture[i] = opts && (opts->capture & (i == 0 ? CO_EXEC_STDOUT : CO_EXEC_STDERR));
        if (p.capture[i]) {
            uv_pipe_init(uv, &p.pipes[i], 0);
            p.pipes[i].data = &p;
            p.piped[i] = 1;
            p.open++;
            stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
            stdio[i + 1].data.stream = (uv_stream_t *)&p.pipes[i];
        } else {
            stdio[i + 1].flags = UV_INHERIT_FD;
            stdio[i + 1].data.fd = i + 1;
        }
    }
    uv_timer_init(uv, &p.kill_timer);
    p.kill_timer.data = &p;
    p.open++;
    uv_process_options_t o;
    memset(&o, 0, sizeof o);
    o.exit_cb = on_exit_cb;
    o.file = argv[0];
    o.args = (char **)argv;
    o.env = opts ? (char **)opts->env : NULL;
    o.cwd = opts ? opts->cwd : NULL;
    o.stdio_count = 3;
    o.stdio = stdio;
    p.handle.data = &p;
    int r = uv_spawn(uv, &p.handle, &o);
    p.open++; /* the process handle must be closed even if the spawn failed */

    int interrupted = 0, late_cancel = 0;
    uint64_t saved_deadline = self->deadline;
    if (r == 0) {
        for (int i = 0; i < 2; i++) {
            if (!p.capture[i]) continue;
            int e = uv_read_start((uv_stream_t *)&p.pipes[i], on_alloc, on_read);
            if (e < 0 && p.error == 0) p.error = e;
            p.reading[i] = e == 0;
        }
        while (!p.exited || p.reading[0] || p.reading[1]) {
            int w = co__suspend(self, CO_WAIT_PROCESS, &p, id, loc, NULL);
            if (w < 0) { /* cancelled or timed out: kill, stop reading, reap */
                interrupted = w;
                self->deadline = CO__NODEADLINE;
                if (!p.exited) {
                    uv_process_kill(&p.handle, SIGTERM);
                    int grace = opts && opts->kill_grace_ms > 0 ? opts->kill_grace_ms : CO__EXEC_GRACE_MS;
                    uv_timer_start(&p.kill_timer, on_kill_timer, (uint64_t)grace, 0);
                }
                drop_pipe(&p, 0);
                drop_pipe(&p, 1);
                if (wait_uninterruptible(self, &p, id, loc, reaped)) late_cancel = 1;
                break;
            }
        }
    }
    /* Close everything and wait for it: the handles live in this frame. */
    self->deadline = CO__NODEADLINE;
    drop_pipe(&p, 0);
    drop_pipe(&p, 1);
    uv_close((uv_handle_t *)&p.kill_timer, on_close);
    uv_close((uv_handle_t *)&p.handle, on_close);
    if (wait_uninterruptible(self, &p, id, loc, all_closed)) late_cancel = 1;
    self->deadline = saved_deadline;
    /* A cancellation that came while cleaning up is delivered at the next
     * await, unless this call already returns -ECANCELED; after a process
     * that exited on its own, its status stands (a hand-off, await.c). */
    if (late_cancel && interrupted != -ECANCELED)
        co__cancel_keep(self, r == 0 && interrupted == 0 && p.error == 0 ? 0 : -ECANCELED);

    if (r == 0 && interrupted == 0 && p.error == 0) {
        /* NUL-terminate what was captured (an empty capture is "", not NULL). */
        for (int i = 0; i < 2 && opts; i++) {
            if (!p.capture[i]) continue;
            outbuf *b = &p.out[i];
            if (b->len == b->cap) {
                char *d = realloc(b->data, b->len + 1);
                if (!d) {
                    p.error = -ENOMEM;
                    break;
                }
                b->data = d;
                b->cap = b->len + 1;
            }
            b->data[b->len] = 0;
        }
    }
    if (r < 0 || interrupted || p.error) {
        free(p.out[0].data);
        free(p.out[1].data);
        return r < 0 ? r : interrupted ? interrupted : p.error;
    }
    if (opts) {
        opts->out = p.out[0].data;
        opts->out_len = p.out[0].len;
        opts->err = p.out[1].data;
        opts->err_len = p.out[1].len;
    }
    if (status) *status = p.term_signal ? 128 + p.term_signal : (int)p.exit_status;
    return 0;
}
