"""What computer this is, in words: the cores and the CPU model."""

import os
import platform
from pathlib import Path


def machine():
    """Cores and CPU model, e.g. '2 cores, Intel(R) Xeon(R) Processor'.

    Example:

    >>> machine().split(" cores, ")[0].isdigit()
    True
    """
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"
