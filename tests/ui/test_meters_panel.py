"""The meters panel: what it says for given readings, when it shows, and what answers store."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from textual.pilot import Pilot

from tests.ui.helpers import AppFactory, active_view, chat_screen, screen_text, send, settle, wait_until
from tui.app import WhirrApp
from tui.config import load_config
from tui.engine.base import Stats
from tui.engine.options import Options
from tui.meters import AnswerEnergy, ComponentEnergy, ComponentPower, GpuReading, LiveEnergy, Sample
from tui.paths import resolve_paths
from tui.widgets.meters_panel import LiveAnswer, MetersPanel, answer_text, gauge, machine_text, spark, totals_text

GIB = 1024**3
TDP = "estimated: TDP model (4 W/thread default)"
RAM = "estimated: 5 W/DIMM (4 DIMMs)"


def reading(t: float, load: float, watts: float, gpus: tuple[GpuReading, ...] = ()) -> Sample:
    """A fixed reading of a 4-core machine with 16 GiB, whirr using 300 MiB."""
    return Sample(
        t=t,
        cpu_busy_s=100.0 + t * load / 25,
        cpu_total_s=400.0 + t * 4,
        process_cpu_s=10.0 + t,
        rss_bytes=300 * 1024**2,
        ram_used_bytes=6 * GIB,
        ram_total_bytes=16 * GIB,
        rapl_uj=None,
        gpus=gpus,
        cpu_percent=load,
        process_cpu_percent=load * 3.5,
        cpu_percent_per_core=(load, load / 2, 100.0, 0.0),
        power=(ComponentPower("cpu", watts - 10, TDP), ComponentPower("ram", 10.0, RAM)),
    )


READINGS = [reading(t * 0.25, load, 10 + load / 4) for t, load in enumerate([3, 5, 40, 95, 100, 100, 98, 60, 12, 4])]

ANSWER_ENERGY = AnswerEnergy(
    tokens=96,
    wall_s=1.2,
    cpu_s=2.3,
    cpu_share=0.9,
    components=(ComponentEnergy("cpu", TDP, 30.0, 27.0, 3.2), ComponentEnergy("ram", RAM, 12.0, 10.8, 10.0)),
    co2_g_per_kwh=475.0,
    price_per_kwh=0.30,
    currency="EUR",
    peak_rss_bytes=310 * 1024**2,
)


def seeded_with_energy(make_app: AppFactory, answers: int = 2) -> WhirrApp:
    """An app with one session of measured answers and a recorded history of readings."""
    app = make_app()
    db = app.db
    session = db.create_session("Costs", "smollm2:135m", system="", options=Options(), persona=None)
    for turn in range(answers):
        db.add_message(session.id, "user", f"Question {turn}", state="done")
        stats = {**asdict(Stats(eval_count=96, eval_duration=1.2, finish_reason="stop")), **ANSWER_ENERGY.stats_fields()}
        db.add_message(session.id, "assistant", f"Answer {turn}", state="done", stats=stats)
    assert app.sampler is not None
    for sample in READINGS:
        app.sampler.record(sample)
    return app


def test_gauge_and_spark_use_fixed_scales() -> None:
    assert gauge(50, 10).plain == "█████░░░░░"
    assert gauge(100, 4).plain == "████" and gauge(0, 4).plain == "░░░░"
    assert gauge(6.25, 2).plain == "▏░"  # an eighth-block resolution
    assert spark([0, 50, 100], 5, 100) == "   ▄█"
    assert spark([3, 3, 3], 3, 100) == "   "  # an idle machine is not drawn as full load


def test_machine_text_names_every_reading_and_the_method() -> None:
    gpu = GpuReading(0, "NVIDIA H100", 97.0, 2 * GIB, 80 * GIB, 310.0, 1_000_000)
    latest = replace(READINGS[-1], gpus=(gpu,))
    text = machine_text(latest, READINGS).plain
    assert "CPU     4%" in text
    assert "cores ▁▁█·" in text  # one bar per core; an idle core is a dot
    assert "RAM    38%" in text and "6.4 GB of 17 GB" in text
    assert "whirr RSS 315 MB · CPU 14%" in text
    assert "GPU0   97%" in text and "NVIDIA H100 · 310 W" in text and "VRAM    2%" in text
    assert "Power 11.0 W estimated" in text
    assert "≤  35.0 W" in text  # the power sparkline's scale is its peak
    assert machine_text(None, ()).plain == "reading the machine…"


def test_answer_text_live_then_last() -> None:
    live = answer_text(LiveAnswer(104.2, LiveEnergy(1.5, 40.0, 32.1, 26.0)), None).plain
    assert "this answer" in live and "104.2 tok/s · 32.1 J · 1.50 s" in live
    last = answer_text(None, ANSWER_ENERGY).plain
    assert "37.8 J · 394 mJ/token" in last
    assert "96 tokens in 1.20 s" in last
    assert "10.5 mWh · 4.99 mg CO2e" in last
    assert "0.0000031 EUR · machine 42.0 J" in last
    assert f"CPU {TDP}; RAM {RAM}" in last.replace("\n", " ")
    assert "no measured answer yet" in answer_text(None, None).plain


def test_totals_text_sums_and_equivalents() -> None:
    session = {"answers": 2, "energy_j": 75.6, "co2_g": 0.00998, "cost": 0.0000063}
    everything = {"answers": 5, "energy_j": 3600.0, "co2_g": 0.475, "cost": 0.0003}
    text = totals_text(session, everything, "EUR").plain
    assert "session · 2 answers" in text and "75.6 J · 9.98 mg CO2e" in text
    assert "all time · 5 answers" in text and "3.60 kJ · 475 mg CO2e" in text and "1.00 Wh · 0.00030 EUR" in text
    assert "≈ 7.56 s of a 10 W LED bulb" in text


async def test_the_panel_shows_from_120_columns_and_f5_toggles_it(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(119, 30)) as pilot:
        await settle(pilot)
        panel = chat_screen(app).query_one(MetersPanel)
        assert not panel.display
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        assert panel.display
        await pilot.press("f5")
        assert not panel.display
        await pilot.resize_terminal(160, 30)  # the user's choice now wins over the width
        await pilot.pause()
        assert not panel.display
    assert load_config(resolve_paths())[0].meters_panel == "off"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        assert chat_screen(app).query_one(MetersPanel).display
    assert load_config(resolve_paths())[0].meters_panel == "on"


async def test_an_answer_stores_its_cost_and_the_panel_shows_it(make_app: AppFactory) -> None:
    app = make_app(rate=40.0)  # long enough (~0.2 s) for the kernel's CPU-time ticks to move
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await send(pilot, "What does this cost?")
        await settle(pilot)
        view = active_view(app)
        stats = app.db.messages(view.session.id)[-1].stats
        energy = AnswerEnergy.from_stats(stats)
        assert energy is not None and energy.tokens == stats["eval_count"] > 0
        assert stats["energy_j"] == energy.whirr_j > 0 and stats["co2_g"] == energy.co2_g
        assert "estimated: TDP model" in energy.method or "measured" in energy.method
        totals = app.db.session_totals(view.session.id)
        assert totals["answers"] == 1 and totals["energy_j"] == stats["energy_j"]
        await _wait_for(pilot, "session · 1 answer")
        assert "last answer" in screen_text(app)


async def test_switching_sessions_shows_each_ones_last_answer(make_app: AppFactory) -> None:
    app = seeded_with_energy(make_app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await _wait_for(pilot, "37.8 J · 394 mJ/token")
        assert "session · 2 answers" in screen_text(app)
        await pilot.press("ctrl+n")
        await _wait_for(pilot, "no measured answer yet")
        assert "session · 0 answers" in screen_text(app) and "all time · 2 answers" in screen_text(app)


async def _wait_for(pilot: Pilot, text: str) -> None:
    await wait_until(lambda: text in screen_text(pilot.app), what=f"{text!r} on the screen")  # type: ignore[arg-type]


def test_a_damaged_energy_record_is_no_answer_cost(tmp_path: Path) -> None:
    assert AnswerEnergy.from_stats({"energy": {"tokens": 1}}) is None
    assert AnswerEnergy.from_stats({"energy": "lots"}) is None
    assert AnswerEnergy.from_stats({}) is None
    assert AnswerEnergy.from_stats(ANSWER_ENERGY.stats_fields()) == ANSWER_ENERGY
