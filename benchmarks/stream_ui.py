"""UI benchmark: streaming speed and responsiveness, opening a huge session, launch time.

    .venv/bin/python benchmarks/stream_ui.py            # all three
    .venv/bin/python benchmarks/stream_ui.py stream     # or: open, cpu, launch

stream  A synthetic engine streams a code-heavy answer at 2,000 tokens/s into the real app
        (headless; 120x40 with the meters panel off, then on; 80x24). Reported: how many tokens reached the answer widget and how soon
        after the stream ended the last one was on screen; event-loop lag (a 10 ms timer's
        delay, p50/p95/max); and key echo latency: keys sent through the driver every 50 ms
        during the stream, timed until the prompt's text changed.
open    A session with 5,000 messages (stored in a real database file) is opened in a tab:
        time until its view is mounted and painted.
cpu     A synthetic engine streams a story-like Markdown answer at a model's pace (100 tokens/s)
        into the real app (headless, 140x40, meters panel on, the machine's sampler running):
        the app's CPU seconds per second of streaming, and each thread's share (the per-frame
        cost of rendering, without a model competing for the cores).
launch  `whirr app` in a pseudo-terminal: time from process start to the first frame (the
        footer's text appearing in the output), median of 5 runs: first starts (a new
        WHIRR_HOME each), later starts (one home used before: the library's header cache and the
        database exist); then the same for a bare Textual app (a Static, and a Footer showing
        the same words), the floor on this machine. Run it once with `python -m compileall tui`
        done and once without (PYTHONDONTWRITEBYTECODE=1 and no __pycache__: an editable
        install compiling whirr at every start).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SECTION = """## Step {i}

Here is how to do it, with `inline code` and **bold** text:

- first item
- second item
- third item

```python
def handler_{i}(request):
    data = request.json()
    for key, value in data.items():
        print(key, value)
    return {{"ok": True, "count": len(data)}}
```

| column | value |
|--------|-------|
| a      | {i}   |

"""


def code_heavy(sections: int) -> str:
    """A Markdown answer full of lists, code blocks and tables (the hard case)."""
    return "".join(SECTION.format(i=i) for i in range(sections))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] if ordered else 0.0


async def bench_stream(
    rate: float = 2000.0, sections: int = 60, size: tuple[int, int] = (120, 40), meters: bool = False
) -> dict[str, float]:
    """Stream a code-heavy answer at `rate` tokens/s; measure lag and key echo. The app samples
    the machine either way; `meters` shows the panel (refreshed 4 times a second) or hides it."""
    from textual import events
    from textual.widgets import TextArea

    from tui.app import WhirrApp
    from tui.config import Config, save_config
    from tui.paths import resolve_paths
    from tui.engine.synthetic import SyntheticEngine, SyntheticEngines, split_tokens
    from tui.widgets.message import AnswerMessage

    reply = code_heavy(sections)
    tokens = len(split_tokens(reply))
    echoes: list[float] = []
    sent_at: list[float] = []

    def hook(message: object) -> None:
        if isinstance(message, TextArea.Changed) and len(echoes) < len(sent_at):
            echoes.append(time.perf_counter() - sent_at[len(echoes)])

    save_config(Config(meters_panel="on" if meters else "off"), resolve_paths())
    engines = SyntheticEngines(lambda name: SyntheticEngine(reply, tokens_per_second=rate, name=name))
    app = WhirrApp(engines=engines)
    async with app.run_test(size=size, message_hook=hook) as pilot:
        await pilot.pause()
        await pilot.press(*"go")
        driver = app._driver
        assert driver is not None
        driver.send_message(events.Key("enter", "\r"))  # press() would wait for the answer to end
        lags, stop = await _lag_sampler(app)
        started = time.perf_counter()
        answer = None
        while answer is None:
            await asyncio.sleep(0.01)
            answer = next((a for a in app.screen.query(AnswerMessage) if a.streaming), None)
        while answer.streaming:
            await asyncio.sleep(0.05)
            if answer.streaming:
                sent_at.append(time.perf_counter())
                driver.send_message(events.Key("x", "x"))
        finished = time.perf_counter()
        await pilot.pause()
        stop()
        shown = answer.text
    return {
        "meters": "on" if meters else "off",
        "tokens": tokens,
        "rate": rate,
        "complete": float(shown == reply),
        "stream_s": finished - started,
        "kept_up_tok_s": tokens / (finished - started),
        "lag_p50_ms": percentile(lags, 50) * 1000,
        "lag_p95_ms": percentile(lags, 95) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "echo_p95_ms": percentile(echoes, 95) * 1000,
        "echo_max_ms": max(echoes) * 1000 if echoes else 0.0,
        "keys": len(echoes),
    }


STORY = """Once upon a time, on a rocky island at the edge of the sea, there lived a lighthouse keeper
named {name}. Every night {name} climbed the {steps} steps of the tower, wiped the great lens
and lit the lamp, so that the ships passing in the dark would know where the rocks were.

One morning, walking along the shore after a storm, {name} found a **green bottle** half buried
in the sand. Inside was a rolled-up letter, its ink faded by the salt:

- it was written by a girl who lived across the water,
- it asked whoever found it to write back,
- and it gave an address in a town {name} had never heard of.

"""


def story(parts: int) -> str:
    """A long answer like a small model's story: paragraphs, bold text and a short list."""
    names = ("Elias", "Marta", "Tomas", "Ingrid")
    return "".join(STORY.format(name=names[i % len(names)], steps=100 + i) for i in range(parts))


async def bench_cpu(rate: float = 100.0, parts: int = 6, size: tuple[int, int] = (140, 40)) -> dict[str, object]:
    """Stream a story at `rate` tokens/s; the app's CPU per second of streaming, by thread."""
    import threading

    from textual import events

    from tui.app import WhirrApp
    from tui.config import Config, save_config
    from tui.engine.synthetic import SyntheticEngine, SyntheticEngines, split_tokens
    from tui.paths import resolve_paths
    from tui.widgets.message import AnswerMessage

    sys.path.insert(0, str(REPO / "benchmarks"))
    from app_vs_cli import ViewChanges, thread_deltas, thread_times

    reply = story(parts)
    save_config(Config(meters_panel="on"), resolve_paths())
    engines = SyntheticEngines(lambda name: SyntheticEngine(reply, tokens_per_second=rate, name=name))
    app = WhirrApp(engines=engines)
    changes = ViewChanges()
    async with app.run_test(size=size, message_hook=changes.hook) as pilot:
        while app.sampler is None or app.sampler.latest is None:
            await asyncio.sleep(0.01)
        await pilot.pause()
        await pilot.press(*"go")
        driver = app._driver
        assert driver is not None
        driver.send_message(events.Key("enter", "\r"))
        answer = None
        while answer is None or not answer.text:
            await asyncio.sleep(0.01)
            answer = next((a for a in app.screen.query(AnswerMessage) if a.streaming), answer)
        before, started = thread_times(os.getpid()), time.perf_counter()
        while answer.streaming:
            await changes.next()
        seconds = time.perf_counter() - started
        after = thread_times(os.getpid())
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
        names[os.getpid()] = "main"
        await pilot.pause()
    threads = thread_deltas(before, after, names)
    figures: dict[str, object] = {
        "tokens": len(split_tokens(reply)), "rate": rate, "stream_s": seconds,
        "cpu_s_per_s": sum(threads.values()) / seconds,
    }
    figures.update({f"{name}_s_per_s": used / seconds for name, used in threads.items() if used / seconds >= 0.005})
    return figures


def fill_session(db_path: Path, messages: int) -> int:
    """Store a session with `messages` messages; returns its id."""
    from tui.engine.base import Stats
    from tui.engine.options import Options
    from tui.store.db import Database

    db = Database.open(db_path)
    session = db.create_session("Huge session", "smollm2:135m", system="", options=Options(), persona="")
    for i in range(messages // 2):
        db.add_message(session.id, "user", f"Question {i}: how do I do thing number {i}?", state="done", stats=None)
        db.add_message(session.id, "assistant", SECTION.format(i=i), state="stop", stats=Stats(eval_count=80))
    db.update_session(session.id, open=False)
    db.close()
    return session.id


async def bench_open(messages: int = 5000, presses: int = 60) -> dict[str, float]:
    """Open a session of `messages` messages in a tab; time until it is laid out and painted.
    Then page up through it (a key every 50 ms) measuring event-loop lag."""
    from textual import events

    from tui.app import WhirrApp
    from tui.engine.synthetic import SyntheticEngines
    from tui.paths import resolve_paths
    from tui.widgets.transcript import Transcript

    session_id = fill_session(resolve_paths().database_file, messages)
    app = WhirrApp(engines=SyntheticEngines())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        view = await app.screen.open_session(session_id)
        transcript = view.query_one(Transcript)
        while not (transcript.messages and transcript.messages[-1].region):
            await asyncio.sleep(0.001)
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        opened = time.perf_counter() - started
        mounted = len(transcript.messages)
        await pilot.pause()
        transcript.focus()
        await pilot.pause()
        lags, stop = await _lag_sampler(app)
        driver = app._driver
        assert driver is not None
        for _ in range(presses):
            driver.send_message(events.Key("pageup", None))
            await asyncio.sleep(0.05)
        stop()
    return {
        "messages": messages,
        "open_ms": opened * 1000,
        "mounted": mounted,
        "pages_loaded_to": transcript.lo,
        "scroll_lag_p95_ms": percentile(lags, 95) * 1000,
        "scroll_lag_max_ms": max(lags) * 1000,
    }


async def _lag_sampler(app: object) -> tuple[list[float], object]:
    """Start a 10 ms timer on the app; returns the delays it saw and a function to stop it."""
    lags: list[float] = []
    last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        lags.append(now - last - 0.01)
        last = now

    timer = app.set_interval(0.01, tick)  # type: ignore[attr-defined]
    return lags, timer.stop


BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App):
    BINDINGS = [("f1", "nothing", "Help"), ("ctrl+o", "nothing_else", "Model"), ("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Static("a bare app")
        yield Footer()

    def action_nothing(self):
        pass

    def action_nothing_else(self):
        pass

Bare().run()
"""


def bench_launch(runs: int = 5, code: str = "from tui.commands.app import app_command; app_command(None)",
                 home: str | None = None) -> dict[str, float]:
    """Start `whirr app` (or other `code`) in a pseudo-terminal; time until the footer is drawn.
    Each run gets a new WHIRR_HOME (a first start), or `home` (a start like every later one)."""
    times = []
    for _ in range(runs):
        with contextlib.nullcontext(home) if home else tempfile.TemporaryDirectory() as run_home:
            env = {**os.environ, "WHIRR_HOME": run_home, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
            main_fd, child_fd = pty.openpty()
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=child_fd, stdout=child_fd, stderr=child_fd, env=env, cwd=REPO, close_fds=True,
            )
            os.close(child_fd)
            seen = b""
            first_frame = None
            while time.perf_counter() - started < 10:
                ready, _, _ = select.select([main_fd], [], [], 0.05)
                if ready:
                    try:
                        seen += os.read(main_fd, 65536)
                    except OSError:
                        break
                    if b"Help" in seen and b"Model" in seen:
                        first_frame = time.perf_counter() - started
                        break
            os.write(main_fd, b"\x11")  # Ctrl+Q
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
            os.close(main_fd)
            if first_frame is not None:
                times.append(first_frame)
    return {"runs": len(times), "first_frame_median_s": statistics.median(times) if times else float("nan"), "first_frame_max_s": max(times, default=float("nan"))}


def main(argv: list[str]) -> int:
    """Run the chosen benchmarks and print their figures."""
    which = argv or ["stream", "open", "cpu", "launch"]
    with tempfile.TemporaryDirectory() as home:
        os.environ["WHIRR_HOME"] = home
        for name in which:
            if name == "stream":
                for size, meters in (((120, 40), False), ((120, 40), True), ((80, 24), False)):
                    print(f"stream {size[0]}x{size[1]}:", _fmt(asyncio.run(bench_stream(size=size, meters=meters))))
            elif name == "open":
                print("open:", _fmt(asyncio.run(bench_open())))
            elif name == "cpu":
                print("cpu 140x40:", _fmt(asyncio.run(bench_cpu())))
            elif name == "launch":
                print("launch, first start (new WHIRR_HOME):", _fmt(bench_launch()))
                bench_launch(runs=1, home=home)  # the first start in this home
                print("launch, later starts (the same WHIRR_HOME):", _fmt(bench_launch(home=home)))
                print("launch, a bare Textual app for reference:", _fmt(bench_launch(code=BARE_APP)))
            else:
                print(f"unknown benchmark {name!r}", file=sys.stderr)
                return 2
    return 0


def _fmt(figures: dict[str, float]) -> str:
    return "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
