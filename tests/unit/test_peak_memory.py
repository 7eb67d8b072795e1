"""The peak memory mailbot reports is its own (issue 16: the bench reported 191 MB for a 118 MB daemon).

`getrusage`'s ru_maxrss of a child started by a large process includes that parent's size at the exec: Linux copies
the old address space's high-water mark into it. `dispatch.peak_rss_kb` reads the process's own VmHWM instead.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mailbot.dispatch import peak_rss_kb

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux /proc needed")

CHILD = ("import resource; from mailbot.dispatch import peak_rss_kb; "
         "print(peak_rss_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def test_a_child_of_a_large_process_reports_its_own_peak_not_its_parent_s() -> None:
    ballast = bytearray(400 * 1024 * 1024)  # this test process grows by 400 MB before starting the child
    for at in range(0, len(ballast), 4096):
        ballast[at] = 1  # touched: resident
    try:
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout
    finally:
        del ballast
    own_kb, ru_maxrss_kb = map(int, out.split())
    assert ru_maxrss_kb > 400 * 1024  # what wait4 / ru_maxrss says: the parent's size
    assert 10 * 1024 < own_kb < 300 * 1024, own_kb  # the child's own memory: its imports, no ballast


def test_peak_rss_kb_reads_this_process() -> None:
    assert peak_rss_kb() > 10 * 1024
