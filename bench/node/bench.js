// SPDX-License-Identifier: MIT
// The Node.js baseline of bench/run.sh: the workloads of bench/spawn_yield.c,
// pingpong.c and lock.c as async functions.  A yield is
// `await new Promise(setImmediate)`: back through the event loop, as
// asyncio.sleep(0) and co_yield go (an `await` of a resolved promise would
// only run the microtask queue).  Node has no queue or lock of its own: the
// ones below are the usual promise-based ones.  Best of --reps (default 3) in
// one process.
//
// Usage: node bench.js spawn_yield|pingpong|lock [--reps N] [--scale F]
// Prints seconds=S.
'use strict';

const yieldNow = () => new Promise(setImmediate);

// Unbounded FIFO queue: a get with nothing queued waits for the next put.
class Queue {
    constructor() { this.items = []; this.head = 0; this.getters = []; }
    put(v) {
        if (this.getters.length) this.getters.shift()(v);
        else this.items.push(v);
    }
    get() {
        if (this.head < this.items.length) {
            const v = this.items[this.head++];
            if (this.head === this.items.length) { this.items.length = 0; this.head = 0; }
            return Promise.resolve(v);
        }
        return new Promise(resolve => this.getters.push(resolve));
    }
}

// FIFO-fair lock: unlock hands it to the first waiter.
class Lock {
    constructor() { this.held = false; this.waiters = []; }
    acquire() {
        if (!this.held) { this.held = true; return Promise.resolve(); }
        return new Promise(resolve => this.waiters.push(resolve));
    }
    release() {
        if (this.waiters.length) this.waiters.shift()();
        else this.held = false;
    }
}

async function spawnYield(n) {
    const t0 = process.hrtime.bigint();
    const tasks = [];
    for (let i = 0; i < n; i++) {
        tasks.push((async () => { for (let j = 0; j < 10; j++) await yieldNow(); })());
    }
    await Promise.all(tasks);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function pingpong(rounds) {
    const q1 = new Queue(), q2 = new Queue();
    const t0 = process.hrtime.bigint();
    const consumer = (async () => { for (let i = 0; i < rounds; i++) q2.put(await q1.get()); })();
    const producer = (async () => { for (let i = 0; i < rounds; i++) { q1.put(i); await q2.get(); } })();
    await Promise.all([producer, consumer]);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function lock(n) {
    const l = new Lock();
    let count = 0;
    const t0 = process.hrtime.bigint();
    const tasks = [];
    for (let i = 0; i < 100; i++) {
        tasks.push((async () => {
            for (let j = 0; j < n; j++) {
                await l.acquire();
                try { await yieldNow(); count++; } finally { l.release(); }
            }
        })());
    }
    await Promise.all(tasks);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (count !== 100 * n) throw new Error('lock: wrong count');
    return secs;
}

async function main() {
    const argv = process.argv.slice(2);
    const which = argv[0];
    let reps = 3, scale = 1;
    for (let i = 1; i + 1 < argv.length; i += 2) {
        if (argv[i] === '--reps') reps = parseInt(argv[i + 1], 10);
        else if (argv[i] === '--scale') scale = parseFloat(argv[i + 1]);
        else throw new Error('unknown option ' + argv[i]);
    }
    const scaled = n => Math.max(1, Math.floor(n * scale));
    const fns = {
        spawn_yield: () => spawnYield(scaled(100000)),
        pingpong: () => pingpong(Math.max(1, Math.floor(scaled(1000000) / 2))),
        lock: () => lock(scaled(10000)),
    };
    if (!fns[which]) {
        console.error('usage: node bench.js spawn_yield|pingpong|lock [--reps N] [--scale F]');
        process.exit(2);
    }
    let best = Infinity;
    for (let r = 0; r < reps; r++) best = Math.min(best, await fns[which]());
    console.log('seconds=' + best.toFixed(6));
}

main().catch(e => { console.error(e); process.exit(1); });
