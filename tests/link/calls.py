#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""calls.py -- no call circles between files (issue 19): every file of
tracer/, tui/ and cli/ is a node, an edge goes from a file to each file
defining a tr_/tui_/cli_ function it calls (from `nm` of the objects, so
macros and static helpers count as what they compile to), and a strongly
connected component of more than one file is a circle: a file that drives
and a file of helpers calling back into it.  Prints ok/FAIL lines like
link.sh; exit 1 on a circle.

Usage: calls.py BUILD"""
import glob
import os
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
PREFIXES = ("tr_", "tui_", "cli_")
objs = sorted(glob.glob(os.path.join(build, "obj", d, "*.o")) for d in ("tracer", "tui", "cli"))
objs = [o for group in objs for o in group]
if not objs:
    print("FAIL calls.py: no objects under %s/obj (run make first)" % build)
    sys.exit(1)

defs, uses = {}, {}
for o in objs:
    src = os.path.relpath(o, os.path.join(build, "obj"))[:-2] + ".c"
    out = subprocess.run(["nm", "--defined-only", "-g", o], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDRB" and parts[2].startswith(PREFIXES):
            defs[parts[2]] = src
    out = subprocess.run(["nm", "-u", o], capture_output=True, text=True).stdout
    uses[src] = {l.split()[-1] for l in out.splitlines() if l.split() and l.split()[-1].startswith(PREFIXES)}

graph = {f: sorted({defs[s] for s in syms if s in defs and defs[s] != f}) for f, syms in uses.items()}

# Tarjan's strongly connected components, iteratively.
index, low, on, stack, comps, n = {}, {}, set(), [], [], [0]
for root in graph:
    if root in index:
        continue
    work = [(root, iter(graph[root]))]
    index[root] = low[root] = n[0]; n[0] += 1; stack.append(root); on.add(root)
    while work:
        v, it = work[-1]
        w = next(it, None)
        if w is not None:
            if w not in index:
                index[w] = low[w] = n[0]; n[0] += 1; stack.append(w); on.add(w)
                work.append((w, iter(graph.get(w, []))))
            elif w in on:
                low[v] = min(low[v], index[w])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                x = stack.pop(); on.discard(x); comp.append(x)
                if x == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

fails = 0
for c in comps:
    why = []
    for a in c:
        for b in graph[a]:
            if b in c:
                called = sorted(s for s in uses[a] if defs.get(s) == b)
                why.append("%s -> %s (%s)" % (a, b, ", ".join(called[:3])))
    print("FAIL call circle among %s: %s" % (" ".join(c), "; ".join(why)))
    fails += 1
if not fails:
    print("ok   no call circle among the %d files of tracer/, tui/, cli/" % len(graph))
sys.exit(1 if fails else 0)
