"""Keep freed memory inside the process while training on a CPU (glibc only).

A training step allocates its activations afresh (hundreds of MB for a batch of long pairs) and frees them
at the end of the backward pass. glibc serves blocks above its mmap threshold with fresh ``mmap`` calls and
gives them back on free, and trims the heap's free top, so every step faults its activation pages in again:
measured on this project's 2-core VM, a 128-pair ListNet step spent more time in the kernel than in
compute (19 s a step with 13 s of system time, against 10.5 s and none once freed memory is kept).
:func:`keep_freed_memory` raises both thresholds with ``mallopt`` so freed blocks are reused; the process
keeps its peak footprint, which a training process reaches every step anyway.

Off with ``CROSSRANK_KEEP_HEAP=0``; a no-op (returns False) outside glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 30  # blocks below 1 GiB come from the heap and are reused
TRIM_THRESHOLD = (1 << 31) - 1  # the largest value mallopt takes: keep up to 2 GiB of free heap top

_applied = False


def keep_freed_memory() -> bool:
    """Ask glibc to reuse freed memory instead of returning it to the OS; True when it was (or is) set."""
    global _applied
    if _applied:
        return True
    if os.environ.get("CROSSRANK_KEEP_HEAP", "1").strip() == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - present on glibc only (musl's mallopt is a no-op)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if _applied:
        logger.info("CPU training: freed memory is kept for reuse (mallopt; CROSSRANK_KEEP_HEAP=0 turns it off).")
    return _applied
