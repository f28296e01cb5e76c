# SPDX-License-Identifier: MIT
"""Baseline: 100 tasks x 10,000 acquisitions of one asyncio.Lock, yielding while held."""
import argparse
import asyncio
import time

TASKS = 100
ACQUISITIONS = 10_000


async def worker(lock, n):
    for _ in range(n):
        async with lock:
            await asyncio.sleep(0)


async def main(n):
    lock = asyncio.Lock()
    start = time.perf_counter()
    await asyncio.gather(*(worker(lock, n) for _ in range(TASKS)))
    return time.perf_counter() - start


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    print(f"seconds={asyncio.run(main(max(1, int(ACQUISITIONS * args.scale))))}")
