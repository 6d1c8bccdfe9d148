"""How much CPU the meters' sampler thread costs, in percent of one core.

    .venv/bin/python benchmarks/sampler_overhead.py [--hz 4] [--seconds 10]

A listener (which runs in the sampler thread) reads time.thread_time() at every sample, so the
figure is the sampler thread's own CPU time between its first and last sample, divided by the
wall time between them. The floor is 1% of one core at 4 Hz; the exit status is 1 above it.
"""

from __future__ import annotations

import argparse
import threading
import time

from tui.meters import Probe, Sample, Sampler

FLOOR_PERCENT = 1.0


def measure(probe: Probe, hz: float, seconds: float) -> tuple[int, float, float]:
    """Run a sampler for `seconds`; returns (samples, thread CPU seconds, wall seconds)."""
    marks: list[tuple[float, float]] = []

    def mark(_sample: Sample) -> None:
        marks.append((time.monotonic(), time.thread_time()))

    sampler = Sampler(probe, hz=hz)
    sampler.add_listener(mark)
    with sampler:
        threading.Event().wait(seconds)
    (wall_0, cpu_0), (wall_1, cpu_1) = marks[0], marks[-1]
    return len(marks), cpu_1 - cpu_0, wall_1 - wall_0


def main() -> int:
    """Measure, print the figures, and fail when the sampler costs more than the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hz", type=float, default=4.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    probe = Probe.detect()
    sources = ["psutil", "RAPL" if probe.rapl else None, "NVML" if probe.nvml else None]
    samples, cpu_s, wall_s = measure(probe, args.hz, args.seconds)
    probe.close()
    percent = 100.0 * cpu_s / wall_s
    print(f"sources: {', '.join(s for s in sources if s)}")
    print(f"{samples} samples at {args.hz:g} Hz over {wall_s:.2f} s")
    print(f"sampler thread CPU: {cpu_s * 1000:.1f} ms, {cpu_s / max(samples - 1, 1) * 1e6:.0f} µs per sample")
    print(f"overhead: {percent:.3f}% of one core (floor {FLOOR_PERCENT:g}%)")
    return 0 if percent <= FLOOR_PERCENT else 1


if __name__ == "__main__":
    raise SystemExit(main())
