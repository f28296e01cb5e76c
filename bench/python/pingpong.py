# SPDX-License-Identifier: MIT
"""Baseline: ping-pong over two asyncio.Queues, 1,000,000 messages (500,000 round trips)."""
import argparse
import asyncio
import time

MESSAGES = 1_000_000


async def consumer(q1, q2, rounds):
    for _ in range(rounds):
        await q2.put(await q1.get())


async def producer(q1, q2, rounds):
    for i in range(rounds):
        await q1.put(i)
        await q2.get()


async def main(rounds):
    q1, q2 = asyncio.Queue(), asyncio.Queue()
    start = time.perf_counter()
    await asyncio.gather(producer(q1, q2, rounds), consumer(q1, q2, rounds))
    return time.perf_counter() - start


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    rounds = max(1, int(MESSAGES * args.scale) // 2)
    print(f"seconds={asyncio.run(main(rounds))}")
