"""Run a command and print its peak resident memory (kB) as the last line of stdout.

A child's ru_maxrss on Linux starts at the resident size of the process it was forked from (the
parent's pages count until exec), so a benchmark that holds data in memory would inflate every
figure it measures directly; this small launcher stands in between.
"""

import os
import subprocess
import sys

p = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(p.pid, 0)
print(f"PEAK_KB {usage.ru_maxrss}", flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
