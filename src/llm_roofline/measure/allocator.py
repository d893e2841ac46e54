"""Make large CPU tensors reuse freed memory (glibc), for measurements that repeat.

glibc's malloc serves big blocks with mmap and hands them back on free, so a tensor of a
few MB allocated in every forward pass page-faults all of its pages every time (it showed
as element-wise kernels running at half speed inside the model but not in isolation).
``keep_freed_memory`` turns mmap off and trimming off, as tcmalloc or jemalloc (the usual
advice for PyTorch CPU inference) would: both ``measure`` and ``validate`` call it before
timing on a CPU, so kernels and the model see the same allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """True when glibc accepted both settings; False elsewhere (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
