"""What the multiverse costs: every claim's verdict over its declared parameters, computed cold.

Two ways, each in a fresh process with an empty disk store: one process computing every claim in
turn, and ``multiverse.warm(2)`` (what ``make book`` does before executing the pages: two processes).
Also the cost of reading the stored results back (what each page then does). Prints one JSON
object: seconds, claims, specifications in all, and the ratio of the two-process time to the serial.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

SERIAL = """
import time
from tracking_evidence.verdicts import all_rules, multiverse
start = time.perf_counter()
rules = all_rules()
specs = sum(multiverse.run(c).n_specifications for c in rules)
print(len(rules), specs, time.perf_counter() - start)
"""
WARM = """
import time
from tracking_evidence.verdicts import multiverse
start = time.perf_counter()
n = multiverse.warm(2)  # two processes, against the serial run above
print(n, time.perf_counter() - start)
"""
READ = """
import time
start = time.perf_counter()
from tracking_evidence.verdicts import all_rules, multiverse
for c in all_rules():
    multiverse.run(c)
print(time.perf_counter() - start)
"""


def _run(code: str, cache: str) -> list[str]:
    env = {**os.environ, "TRACKING_EVIDENCE_CACHE": cache}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.split()


def main() -> dict:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        start = time.perf_counter()
        claims, specs, serial_inside = _run(SERIAL, a)
        serial = time.perf_counter() - start
        start = time.perf_counter()
        warmed, warm_inside = _run(WARM, b)
        warm = time.perf_counter() - start
        read = float(_run(READ, b)[0])
    return {"claims": int(claims), "specifications": int(specs), "serial_seconds": round(serial, 2),
            "serial_seconds_inside": round(float(serial_inside), 2), "two_processes_seconds": round(warm, 2),
            "two_over_serial": round(warm / serial, 3), "read_back_seconds": round(read, 2),
            "load_before": os.getloadavg()[0]}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
