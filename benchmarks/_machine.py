"""What a benchmark row needs to say about the machine that produced it.

Two machines of the same kind (x86_64, 2 cores) can still give different
floating-point results: numpy, MKL (torch's BLAS on x86) and torch pick their
SIMD kernels by CPU, and a trained network amplifies the last-bit differences.
A CPU name per row lets a page say which runs are bit-comparable.
"""

import platform
from functools import cache
from pathlib import Path


@cache
def cpu_model():
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
