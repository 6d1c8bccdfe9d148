"""Downloads from a stand-in hub: progress, queue, cancel, resume after a restart, checks."""

from __future__ import annotations

import filecmp
import itertools
from pathlib import Path

import pytest

from tests.hubserver import BROKEN_REPO, STARTER_FILE, STARTER_REPO, FakeHub
from tui.models.download import Download, DownloadManager, State
from tui.models.hub import HubModel, resolve_hf_name
from tui.paths import Paths, resolve_paths

STARTER = f"hf.co/{STARTER_REPO}:Q4_1"


@pytest.fixture
def paths(whirr_home: Path) -> Paths:
    return resolve_paths()


def manager_for(paths: Paths, **kwargs: object) -> DownloadManager:
    return DownloadManager(paths, min_interval=0, **kwargs)  # type: ignore[arg-type]


def stop_after(manager: DownloadManager, download_name: str, size: int, discard: bool = False):
    """A listener that cancels (or discards) the download once `size` bytes are in."""

    def listener(download: Download) -> None:
        if download.name == download_name and download.state == State.RUNNING and download.done >= size:
            manager.unsubscribe(listener)
            (manager.discard if discard else manager.cancel)(download)

    manager.subscribe(listener)


def stored(paths: Paths, repo: str) -> list[str]:
    folder = paths.models_dir / "hf.co" / repo
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def partials(paths: Paths) -> list[Path]:
    return sorted(p for p in (paths.models_dir / ".partial").rglob("*") if p.is_file())


def test_download_lands_in_the_store_with_progress(fake_hub: FakeHub, paths: Paths, starter_path: Path) -> None:
    manager = manager_for(paths)
    seen: list[tuple[State, int]] = []
    manager.subscribe(lambda d: seen.append((d.state, d.done)))
    download = manager.add(resolve_hf_name(STARTER))
    assert manager.wait(download, timeout=120) == State.DONE, download.error
    final = paths.models_dir / "hf.co" / STARTER_REPO / STARTER_FILE
    assert download.path == final
    assert filecmp.cmp(final, starter_path, shallow=False)
    assert partials(paths) == []
    states = [state for state, _ in seen]
    assert states[0] == State.QUEUED and states[-1] == State.DONE and State.RUNNING in states
    progress = [done for state, done in seen if state == State.RUNNING]
    assert progress == sorted(progress) and len(set(progress)) > 3
    assert download.done == download.total == starter_path.stat().st_size


def test_already_downloaded_is_done_at_once(fake_hub: FakeHub, paths: Paths) -> None:
    manager = manager_for(paths)
    model = resolve_hf_name(STARTER)
    assert manager.wait(manager.add(model), timeout=120) == State.DONE
    requests = len(fake_hub.requests)
    again = DownloadManager(paths).add(model)
    assert again.state == State.DONE and len(fake_hub.requests) == requests


def test_dropped_connection_continues_with_range(fake_hub: FakeHub, paths: Paths, starter_path: Path) -> None:
    fake_hub.drop_after = 10_000_000
    manager = manager_for(paths)
    download = manager.add(resolve_hf_name(STARTER))
    assert manager.wait(download, timeout=120) == State.DONE, download.error
    assert filecmp.cmp(download.path, starter_path, shallow=False)
    first, second = fake_hub.downloads_of(STARTER_REPO, STARTER_FILE)
    assert first == ""
    assert 0 < int(second.removeprefix("bytes=").rstrip("-")) <= 10_000_000


def test_cancel_keeps_the_partial_and_a_new_manager_resumes_it(
    fake_hub: FakeHub, paths: Paths, starter_path: Path
) -> None:
    manager = manager_for(paths)
    stop_after(manager, resolve_hf_name(STARTER).name, 20_000_000)
    download = manager.add(resolve_hf_name(STARTER))
    assert manager.wait(download, timeout=120) == State.PAUSED
    kept = download.done
    assert 20_000_000 <= kept < download.total
    assert [p.name for p in partials(paths)] == ["SmolLM2-135M-Instruct.Q4_1.gguf.part", "download.json"]
    assert stored(paths, STARTER_REPO) == []

    restarted = manager_for(paths)  # whirr starts again
    (unfinished,) = restarted.unfinished()
    assert (unfinished.name, unfinished.state, unfinished.done) == (download.name, State.PAUSED, kept)
    restarted.resume(unfinished)
    assert restarted.wait(unfinished, timeout=120) == State.DONE, unfinished.error
    assert filecmp.cmp(unfinished.path, starter_path, shallow=False)
    assert fake_hub.downloads_of(STARTER_REPO, STARTER_FILE)[-1] == f"bytes={kept}-"
    assert partials(paths) == [] and manager_for(paths).unfinished() == []


def test_resume_from_a_server_that_ignores_range_starts_over(
    fake_hub: FakeHub, paths: Paths, starter_path: Path
) -> None:
    manager = manager_for(paths)
    stop_after(manager, resolve_hf_name(STARTER).name, 5_000_000)
    download = manager.add(resolve_hf_name(STARTER))
    assert manager.wait(download, timeout=120) == State.PAUSED
    fake_hub.ignore_range = True
    manager.resume(download)
    assert manager.wait(download, timeout=120) == State.DONE, download.error
    assert filecmp.cmp(download.path, starter_path, shallow=False)
    assert download.done == download.total


def test_discard_deletes_the_partial(fake_hub: FakeHub, paths: Paths) -> None:
    manager = manager_for(paths)
    model = resolve_hf_name(STARTER)
    stop_after(manager, model.name, 5_000_000, discard=True)
    download = manager.add(model)
    assert manager.wait(download, timeout=120) == State.CANCELLED
    assert partials(paths) == [] and stored(paths, STARTER_REPO) == []
    assert manager_for(paths).unfinished() == []


def test_wrong_checksum_is_rejected_and_nothing_is_stored(fake_hub: FakeHub, paths: Paths) -> None:
    manager = manager_for(paths)
    download = manager.add(resolve_hf_name(f"hf.co/{BROKEN_REPO}:q4_1"))
    assert manager.wait(download, timeout=120) == State.FAILED
    assert "does not match the hub's checksum" in download.error and "nothing was stored" in download.error
    assert stored(paths, BROKEN_REPO) == []
    assert [p.name for p in partials(paths)] == ["download.json"]


@pytest.mark.parametrize(
    ("quant", "problem"),
    [("Q4_0", "truncated.Q4_0.gguf is not a usable GGUF (truncated: the file is"), ("Q8_0", "not a GGUF file")],
)
def test_broken_files_are_clear_errors(fake_hub: FakeHub, paths: Paths, quant: str, problem: str) -> None:
    manager = manager_for(paths)
    download = manager.add(resolve_hf_name(f"hf.co/{BROKEN_REPO}:{quant}"))
    assert manager.wait(download, timeout=120) == State.FAILED
    assert problem in download.error
    assert stored(paths, BROKEN_REPO) == [] and partials(paths) == []


def test_not_enough_disk_space_fails_before_downloading(fake_hub: FakeHub, paths: Paths) -> None:
    manager = manager_for(paths, free_space=lambda path: 500)
    model = resolve_hf_name(STARTER)
    download = manager.add(model)
    assert manager.wait(download, timeout=30) == State.FAILED
    assert download.error == (
        f"not enough disk space: {model.name} needs 98 MB more, 500 B free under {paths.models_dir}"
    )
    assert fake_hub.downloads_of(STARTER_REPO, STARTER_FILE) == []


def test_queue_runs_one_at_a_time(fake_hub: FakeHub, paths: Paths) -> None:
    manager = manager_for(paths)
    order: list[tuple[str, State]] = []
    manager.subscribe(lambda d: order.append((d.name, d.state)) if not order or order[-1] != (d.name, d.state) else None)
    first = manager.add(resolve_hf_name(STARTER))
    second = manager.add(resolve_hf_name(f"hf.co/{BROKEN_REPO}:Q8_0"))
    assert second.state == State.QUEUED
    manager.wait(first, timeout=120)
    manager.wait(second, timeout=120)
    assert (first.state, second.state) == (State.DONE, State.FAILED)
    second_started = order.index((second.name, State.RUNNING))
    assert order.index((first.name, State.DONE)) < second_started


def test_speed_and_eta_come_from_the_clock(fake_hub: FakeHub, paths: Paths) -> None:
    ticks = itertools.count()
    frozen = manager_for(paths, clock=lambda: 0.0)
    seen: list[tuple[float, float | None]] = []
    frozen.subscribe(lambda d: seen.append((d.speed, d.eta)))
    model: HubModel = resolve_hf_name(STARTER)
    stop_after(frozen, model.name, 10_000_000)
    download = frozen.add(model)
    frozen.wait(download, timeout=120)
    assert {speed for speed, _ in seen} == {0.0} and {eta for _, eta in seen} == {None}

    ticking = manager_for(paths, clock=lambda: next(ticks) * 0.5)  # each chunk of 1 MiB takes 0.5 s
    measured: list[tuple[float, float | None]] = []
    ticking.subscribe(lambda d: measured.append((d.speed, d.eta)) if d.state == State.RUNNING else None)
    (download,) = ticking.unfinished()
    ticking.resume(download)
    assert ticking.wait(download, timeout=120) == State.DONE
    speed, eta = measured[len(measured) // 2]
    assert speed == pytest.approx(2 * 1024 * 1024)
    assert eta is not None and 0 < eta < 30


def test_two_at_a_time_when_configured(fake_hub: FakeHub, paths: Paths) -> None:
    fake_hub.chunk_delay = 0.01
    manager = manager_for(paths, max_concurrent=2)
    both_running: list[bool] = []
    downloads: list[Download] = []
    manager.subscribe(lambda d: both_running.append(len(downloads) == 2 and all(x.state == State.RUNNING for x in downloads)))
    downloads.append(manager.add(resolve_hf_name(STARTER)))
    downloads.append(manager.add(resolve_hf_name(f"hf.co/{BROKEN_REPO}:Q4_1")))
    for download in downloads:
        manager.wait(download, timeout=120)
    assert any(both_running)
    assert [d.state for d in downloads] == [State.DONE, State.FAILED]
