"""The app's eval rate against `whirr run`'s: same model, prompt and options, interleaved rounds.

    .venv/bin/python benchmarks/app_vs_cli.py [--rounds 3] [--busy] [--tokens 200] [MODEL]

Each round runs, in an order that alternates between rounds:
  cli  `whirr run MODEL PROMPT --verbose` in a subprocess; its "eval rate" line is read.
  app  the real app in a subprocess, headless (App.run_test at 140x40), the meters panel on and
       the machine's sampler running, answers the same prompt in a chat tab; the eval rate is the
       one the app stored with the message. The app process also reports its CPU seconds per
       second of streaming (first token to end) and the CPU each of its threads and of its
       runner's threads used meanwhile (/proc/<pid>/task/*/stat).
With --busy every round runs both again with one CPU-bound busy loop per core.
Temperature 0, a fixed seed and num_predict (200) make every run produce the same answer.
Floors (issue 11): app >= 0.95x cli; busy >= 0.40x quiet. The load average is printed at the
start and at the end: on a shared machine the figures are indicative only.

Where the app's time goes while streaming (py-spy record --threads -f raw on the app child, and
on `benchmarks/stream_ui.py cpu`, which streams a synthetic answer at 100 tok/s without a model):
- runner process: llama.cpp on its main thread (and OpenMP workers), all of the generation;
- app, main thread (asyncio + Textual), 0.31-0.36 CPU s/s at 100 tok/s before issue 11's UI
  work, 0.24-0.26 after: Textual's screen update about half (a whole-screen layout each time the
  answer gains a line, a second one when the new sizes are applied, then a repaint of the
  scrolled transcript), repainting the growing block about a tenth, rendering the last Markdown
  block about a tenth (it was mostly Rich building a new Markdown parser per render), status
  line and view bookkeeping about a tenth (before: 30 updates a second, the view found by a DOM
  query), the meters panel about 2% (before: a layout 4 times a second);
- app, other threads: the sampler (whirr-meters) and the runner connection's reader under 1% of
  a core each.
Figures taken on a shared 2-core machine (load average 7-10) are indicative only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."
SEED = 42
SIZE = (140, 40)
TICK = os.sysconf("SC_CLK_TCK")


# -- /proc ------------------------------------------------------------------------------------


def thread_times(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of each thread of `pid`, with the thread's name (comm)."""
    times: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended while we looked
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        times[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / TICK)
    return times


def thread_deltas(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                  names: dict[int, str]) -> dict[str, float]:
    """CPU seconds each thread used between two snapshots, by name (threads of one name summed)."""
    used: dict[str, float] = {}
    for tid, (comm, seconds) in after.items():
        label = names.get(tid, comm)
        used[label] = used.get(label, 0.0) + seconds - before.get(tid, (comm, 0.0))[1]
    return {k: v for k, v in sorted(used.items(), key=lambda kv: -kv[1])}


# -- the app, headless (runs in its own process: --app-child) -----------------------------------


class ViewChanges:
    """Wakes a benchmark waiting on the app when a session view says something changed (pass
    `hook` as run_test's message_hook): waiting on it rather than polling keeps the
    benchmark's own wake-ups out of the app's CPU figure."""

    def __init__(self) -> None:
        from tui.widgets.session_view import SessionView

        self._changed_type = SessionView.Changed
        self._event = asyncio.Event()

    def hook(self, message: object) -> None:
        if isinstance(message, self._changed_type):
            self._event.set()

    async def next(self, timeout_s: float = 1.0) -> None:
        """Wait for the next change (at most `timeout_s`)."""
        self._event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout_s)


async def app_answer(prompt: str, deadline_s: float = 300.0) -> dict:
    """Answer `prompt` in the real app; returns its stored eval rate and CPU figures."""
    import psutil
    from textual import events

    from tui.app import WhirrApp
    from tui.screens.chat import ChatScreen
    from tui.widgets.message import AnswerMessage
    from tui.widgets.prompt import PromptArea
    from tui.widgets.transcript import stats_from

    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s

    changes = ViewChanges()

    async def until(condition, what: str, poll_s: float | None = 0.01) -> None:
        """Wait for `condition`: looked at every `poll_s`, or (None) only when a session view
        says something changed, so that the wait costs the streaming app nothing."""
        while not condition():
            if loop.time() > deadline:
                raise TimeoutError(f"the app never got to: {what}")
            if poll_s is not None:
                await asyncio.sleep(poll_s)
                continue
            await changes.next()

    app = WhirrApp()
    async with app.run_test(size=SIZE, message_hook=changes.hook) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(lambda: screen.view is not None, "a chat tab")
        view = screen.view
        await until(lambda: app.sampler is not None and app.sampler.latest is not None, "the meters sampling")
        await until(lambda: not view.activity and not any(w.is_running for w in app.workers if w.group == "prepare"),
                    "the model loaded")
        if view.problem:
            raise RuntimeError(view.problem)
        await pilot.pause()
        view.query_one(PromptArea).insert(prompt)
        driver = app._driver
        assert driver is not None
        driver.send_message(events.Key("enter", "\r"))  # press() would wait for the answer to end
        await until(lambda: view.streaming and view.query(AnswerMessage).last().text, "the first token")
        me = os.getpid()
        runner = next(iter(psutil.Process(me).children()), None)
        app_before = thread_times(me)
        runner_before = thread_times(runner.pid) if runner else {}
        started = time.perf_counter()
        await until(lambda: not view.streaming, "the end of the answer", poll_s=None)
        seconds = time.perf_counter() - started
        app_after = thread_times(me)
        runner_after = thread_times(runner.pid) if runner else {}
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
        names[me] = "main (asyncio/Textual)"
        runner_names = {runner.pid: "main (llama.cpp)"} if runner else {}
        stored = app.db.messages(view.session.id)[-1]
        runner_report = app.engines.engine_for(view.session.model).runner_info()
        stats = stats_from(stored.stats)
        await pilot.pause()
    app_threads = thread_deltas(app_before, app_after, names)
    return {
        "eval_rate": stats.eval_rate if stats else 0.0,
        "eval_count": stats.eval_count if stats else 0,
        "state": stored.state,
        "stream_s": seconds,
        "app_cpu_per_s": sum(app_threads.values()) / seconds,
        "app_threads": app_threads,
        "runner_threads": thread_deltas(runner_before, runner_after, runner_names),
        "thread_changes": runner_report.get("thread_changes", []),
    }


# -- the rounds ---------------------------------------------------------------------------------


def cli_round(model: str, tokens: int, env: dict[str, str]) -> float:
    """`whirr run --verbose` once; its eval rate."""
    command = [sys.executable, "-m", "tui", "run", model, PROMPT, "--verbose", "--temperature", "0",
               "--seed", str(SEED), "--num-predict", str(tokens)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    found = re.search(r"^eval rate:\s+([\d.]+)", done.stderr, re.M)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"whirr run failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return float(found.group(1))


def app_round(model: str, tokens: int, env: dict[str, str]) -> dict:
    """The app once, in its own process; what `app_answer` measured."""
    command = [sys.executable, __file__, "--app-child", "--tokens", str(tokens), model]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the app failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return json.loads(lines[-1])


@contextlib.contextmanager
def fresh_home(model: str, tokens: int):
    """A new WHIRR_HOME (no earlier chat to reopen) whose config gives both the same options;
    yields the environment to run in."""
    from tui.config import Config, save_config
    from tui.engine.options import Options
    from tui.paths import Paths

    with tempfile.TemporaryDirectory() as home:
        options = Options(temperature=0.0, seed=SEED, num_predict=tokens)
        root = Path(home)  # as resolve_paths() lays out WHIRR_HOME
        paths = Paths(root / "config", root / "data", root / "cache")
        save_config(Config(default_model=model, options=options, meters_panel="on"), paths)
        yield {**os.environ, "WHIRR_HOME": home}


def measure(which: str, condition: str, args: argparse.Namespace, cpu: list[float], last: dict) -> float:
    """One run of `whirr run` or of the app in a fresh WHIRR_HOME; its eval rate (a quiet app
    run also adds its CPU per second to `cpu` and leaves its figures in `last`)."""
    with fresh_home(args.model, args.tokens) as env:
        if which == "cli":
            return cli_round(args.model, args.tokens, env)
        result = app_round(args.model, args.tokens, env)
    if condition == "quiet":
        cpu.append(result["app_cpu_per_s"])
        last.clear()
        last.update(result)
    return result["eval_rate"]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="smollm2:135m")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--busy", action="store_true", help="also run every round with one busy loop per core")
    parser.add_argument("--app-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_child:
        print(json.dumps(asyncio.run(app_answer(PROMPT))))
        return 0

    from tui.engine.benchmark import busy_loops

    conditions = ["quiet", "busy"] if args.busy else ["quiet"]
    rates: dict[tuple[str, str], list[float]] = {(w, c): [] for w in ("cli", "app") for c in conditions}
    cpu: list[float] = []
    last: dict = {}
    print(f"load average at start: {_load()}  ({os.cpu_count()} CPUs)")
    for number in range(args.rounds):
        for condition in conditions:
            order = ("cli", "app") if number % 2 == 0 else ("app", "cli")
            with busy_loops() if condition == "busy" else contextlib.nullcontext():
                for which in order:
                    rate = measure(which, condition, args, cpu, last)
                    rates[(which, condition)].append(rate)
                    print(f"  round {number + 1} {condition:5} {which}: {rate:6.1f} tok/s", flush=True)
    print(f"load average at end: {_load()}")
    print()
    print(f"{'':14}{'cli tok/s':>10}{'app tok/s':>10}{'app/cli':>9}")
    for condition in conditions:
        cli, app = _median(rates[("cli", condition)]), _median(rates[("app", condition)])
        print(f"{condition + ' (median)':14}{cli:10.1f}{app:10.1f}{app / cli:9.2f}x")
    if args.busy:
        print(f"{'busy/quiet':14}" + "".join(
            f"{_median(rates[(w, 'busy')]) / _median(rates[(w, 'quiet')]):9.2f}x " for w in ("cli", "app")))
    print("floors: app/cli >= 0.95x; busy/quiet >= 0.40x")
    print(f"app CPU per second of streaming (quiet, median): {_median(cpu):.2f} s/s")
    if last:
        print(f"threads during the last quiet app answer ({last['stream_s']:.2f} s, CPU seconds):")
        for title, key in (("app", "app_threads"), ("runner", "runner_threads")):
            shown = [f"{name} {seconds:.2f}" for name, seconds in last[key].items() if seconds >= 0.01]
            print(f"  {title:7}" + " · ".join(shown))
        for threads, why in last["thread_changes"]:
            print(f"  governor: {threads} threads ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
