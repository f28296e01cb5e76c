# SPDX-License-Identifier: MIT
"""Baseline: spawn 100,000 tasks that each yield 10 times, gathered together."""
import argparse
import asyncio
import time

TASKS = 100_000
YIELDS = 10


async def worker():
    for _ in range(YIELDS):
        await asyncio.sleep(0)


async def main(n_tasks):
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(n_tasks)))
    return time.perf_counter() - start


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    print(f"seconds={asyncio.run(main(max(1, int(TASKS * args.scale))))}")
