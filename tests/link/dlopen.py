# SPDX-License-Identifier: MIT
# dlopen.py -- Python loads libcoscope.so with ctypes (dlopen) and runs a
# task whose body is a Python callback that yields (tests/link/link.sh).
# Usage: python3 dlopen.py PATH-TO-libcoscope.so
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
TASK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
lib.co_run_at.argtypes = [ctypes.c_void_p, TASK, ctypes.c_void_p]
lib.co_run_at.restype = ctypes.c_int
lib.co_yield_at.argtypes = [ctypes.c_void_p]
lib.co_yield_at.restype = ctypes.c_int

steps = []


@TASK
def body(arg):
    for i in range(3):
        if lib.co_yield_at(None) < 0:
            return -1
        steps.append(i)
    return 42


r = lib.co_run_at(None, body, None)
print("co_run returned", r, "after", len(steps), "yields")
sys.exit(0 if r == 42 and steps == [0, 1, 2] else 1)
