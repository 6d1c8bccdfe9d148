"""What the API server serves from: whirr's library and personas, engines (several models side
by side, least recently used unloaded by EngineManager), each model's requests in arrival order,
keep_alive, embeddings, and the energy of every answer with running totals.

Routes (tui.server.ollama, tui.server.openai) only translate shapes; everything they ask of
whirr goes through `Service`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.engine.base import ChatRequest, DoneEvent, EngineError, Stats, StatusEvent, TokenEvent
from tui.engine.embedding import Embedders, Embeddings, InputTooLong
from tui.engine.keepalive import DEFAULT_KEEP_ALIVE_S
from tui.engine.manager import EngineManager
from tui.engine.options import Options
from tui.meters.answer import AnswerEnergy, EnergyTotals
from tui.models.personas import PersonaError, PersonaStore, RunTarget, resolve_target
from tui.models.library import Library, ModelEntry, ModelNotFound
from tui.server.inputs import ApiError

if TYPE_CHECKING:
    from tui.config import Config
    from tui.engine.runner.client import RunnerEngine
    from tui.meters.energy import EnergyMeter, Measurement
    from tui.models.download import DownloadManager
    from tui.paths import Paths

log = logging.getLogger("whirr.server")

LIST_TTL_S = 2.0
"""How long a library listing is reused (whirr's own changes through the API clear it at once)."""


class CachedLibrary(Library):
    """The library with its listing kept: a listing older than LIST_TTL_S is returned as it is
    while a fresh one is made in the background, so a chat or /api/tags never waits for the
    folders to be scanned (only the very first listing, and the first after a change through
    the API, do). Files added by other tools show up within seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: tuple[float, list[ModelEntry]] | None = None
        self._list_lock = threading.Lock()
        self._refreshing = False
        self._generation = 0

    def list(self) -> list[ModelEntry]:
        """Every model (see Library.list), from a listing at most about LIST_TTL_S old."""
        with self._list_lock:
            listed = self._listed
            stale = listed is not None and time.monotonic() - listed[0] > LIST_TTL_S
            if stale and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, name="whirr-list", daemon=True).start()
        if listed is None:
            listed = self._refresh()
        return list(listed[1])

    def _refresh(self) -> tuple[float, list[ModelEntry]]:
        with self._list_lock:
            generation = self._generation
        listed = (time.monotonic(), super().list())
        with self._list_lock:
            self._refreshing = False
            if generation == self._generation:  # no change through the API meanwhile
                self._listed = listed
        return listed

    def forget_listing(self) -> None:
        """List afresh next time (after a change made through the API)."""
        with self._list_lock:
            self._listed = None
            self._generation += 1


@dataclass
class Served:
    """An answer that ended: its DoneEvent, its energy (when metered) and the model's name."""

    done: DoneEvent
    energy: AnswerEnergy | None
    model: str


@dataclass
class Resident:
    """A model the server has loaded: the name it was last asked by and its context."""

    engine: "RunnerEngine"
    target: RunTarget
    num_ctx: int

    @property
    def expires_at(self) -> float | None:
        """When keep_alive unloads it (seconds since the epoch); None: kept until unloaded."""
        return self.engine.expires_at


class Job:
    """One answer under way: its events, and `cancel()` to stop it (a client went away)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[StatusEvent | TokenEvent | Served] = asyncio.Queue()
        self.cancelled = False
        self._stream: Any = None

    def attach(self, stream: Any) -> None:
        """The engine's stream, once the model's turn has come."""
        self._stream = stream
        if self.cancelled:
            stream.cancel()

    def cancel(self) -> None:
        """Stop the answer now (or skip it if it is still waiting for its turn)."""
        self.cancelled = True
        if self._stream is not None:
            self._stream.cancel()

    async def events(self) -> AsyncIterator[StatusEvent | TokenEvent | Served]:
        """Status and token events as they come, then one Served (in place of the DoneEvent)."""
        while True:
            item = await self.queue.get()
            yield item
            if isinstance(item, Served):
                return


@dataclass
class Totals:
    """Running totals of what the server answered, for the console line."""

    requests: int = 0
    energy: EnergyTotals = field(default_factory=EnergyTotals)
    tokens: int = 0


@dataclass(frozen=True)
class Activity:
    """What the server has answered and is answering now (for the app's meters panel)."""

    answers: int
    """Answers finished and measured."""
    tokens: int
    """Tokens generated, those of the answers under way included."""
    energy_j: float
    """The answers' energy, that of the answers under way (up to the latest sample) included."""
    answering: int
    """Answers being written now."""


class Service:
    """whirr's models behind the API: resolution, answers in FIFO order per model, embeddings,
    energy and totals. keep_alive is the runners' (tui.engine.runner.client): `keep_alive`
    seconds after a model's last request, unless the request says otherwise."""

    def __init__(
        self,
        paths: "Paths",
        config: "Config",
        meter: "EnergyMeter | None" = None,
        keep_alive: float = DEFAULT_KEEP_ALIVE_S,
    ) -> None:
        self.paths = paths
        self.config = config
        self.meter = meter
        self.library = CachedLibrary.from_config(paths, config)
        self.personas = PersonaStore(paths)
        self.manager = EngineManager(self.library, self.personas, keep_alive)
        self.embedders = Embedders()
        self.totals = Totals()
        self.listeners: list[Callable[[Served], None]] = []
        """Called after every answer that ran (the console's running total)."""
        self._turns: dict[int, asyncio.Lock] = {}
        self._residents: dict[int, Resident] = {}
        self._tasks: set[asyncio.Task] = set()
        self._downloads: "DownloadManager | None" = None
        self._generated = 0
        self._measuring: dict[int, "Measurement"] = {}
        self._measuring_lock = threading.Lock()

    # -- names ---------------------------------------------------------------------------------

    def resolve(self, name: str) -> RunTarget:
        """What a name runs; 404 for an unknown name (Ollama's text), 400 for a broken persona
        or an unusable file."""
        try:
            target = resolve_target(name, self.library, self.personas)
        except ModelNotFound:
            raise ApiError(404, f"model '{name}' not found", code="model_not_found", param="model") from None
        except PersonaError as error:
            raise ApiError(400, str(error), param="model") from None
        if not target.entry.usable:
            raise ApiError(400, f"model '{name}' cannot be used: {target.entry.problem}", param="model")
        return target

    def options_for(self, target: RunTarget) -> Options:
        """The config's options with the model's or persona's parameters on top."""
        return target.options(self.config.options)

    def changed(self) -> None:
        """The library changed through the API: list it afresh."""
        self.library.forget_listing()

    # -- answers -------------------------------------------------------------------------------

    def answer(self, target: RunTarget, request: ChatRequest) -> Job:
        """Start answering `request` with `target`'s model once the requests before it for the
        same model are done (its keep_alive, when set, replaces the server's for this model);
        the Job's events end with a Served."""
        job = Job()
        self._spawn(self._run(job, target, request))
        return job

    async def _run(self, job: Job, target: RunTarget, request: ChatRequest) -> None:
        served: Served | None = None
        try:
            engine = self.manager.engine_for_target(target)
            async with self._turn(engine):
                if job.cancelled:
                    served = Served(DoneEvent("", Stats(finish_reason="cancelled")), None, target.name)
                    return
                self._hold(engine, target, request.options)
                measurement = self.meter.start(lambda: engine.pid) if self.meter is not None else None
                self._measured(job, measurement)
                stream = engine.chat(request)
                job.attach(stream)
                done: DoneEvent | None = None
                async for event in stream:
                    if isinstance(event, DoneEvent):
                        done = event
                    else:
                        if isinstance(event, TokenEvent):
                            self._generated += event.tokens
                        job.queue.put_nowait(event)
                assert done is not None
                energy = measurement.finish(done.stats.eval_count) if measurement is not None else None
                served = Served(done, energy, target.name)
        except Exception as error:  # whatever happens, the client gets an answer that ends
            log.exception("answer failed")
            served = Served(DoneEvent("", Stats(finish_reason="error", error=f"{type(error).__name__}: {error}")), None, target.name)
        finally:
            with self._measuring_lock:  # the answer moves from under way to the totals at once
                self._measuring.pop(id(job), None)
                if served is not None:
                    self._count(served)
            if served is not None:
                job.queue.put_nowait(served)

    def _measured(self, job: Job, measurement: "Measurement | None") -> None:
        """Remember the measurement of `job`'s answer while it is written."""
        if measurement is not None:
            with self._measuring_lock:
                self._measuring[id(job)] = measurement

    def activity(self) -> Activity:
        """What has been answered and what is being answered now (callable from any thread)."""
        with self._measuring_lock:
            live = [m.live() for m in self._measuring.values()]
            energy = self.totals.energy
        return Activity(energy.answers, self._generated, energy.whirr_j + sum(e.whirr_j for e in live), len(live))

    def _count(self, served: Served) -> None:
        stats = served.done.stats
        self.totals.tokens += stats.prompt_eval_count + stats.eval_count
        if served.energy is None:
            return  # never started (cancelled while waiting its turn, or failed before)
        self.totals.energy = self.totals.energy.add(served.energy)
        for listener in self.listeners:
            listener(served)

    def _turn(self, engine: Any) -> asyncio.Lock:
        """The model's FIFO turn: asyncio's Lock wakes its waiters in arrival order."""
        return self._turns.setdefault(id(engine), asyncio.Lock())

    def _hold(self, engine: Any, target: RunTarget, options: Options) -> None:
        """The model is about to be used: remember the name it is asked by and its context."""
        resident = self._residents.get(id(engine))
        if resident is None or resident.engine is not engine:
            self._residents[id(engine)] = Resident(engine, target, options.num_ctx)
        else:
            resident.target, resident.num_ctx = target, options.num_ctx

    async def load(self, target: RunTarget, options: Options, keep_alive: float | None) -> None:
        """Load the model now (an empty chat or generate), in its turn, its keep_alive deadline
        starting again (`keep_alive` seconds, or the server's); ApiError if it cannot."""
        engine = self.manager.engine_for_target(target)
        async with self._turn(engine):
            self._hold(engine, target, options)
            # a remote model (SERVER/MODEL) is only checked: its server decides how long it stays
            load = functools.partial(engine.load, options) if target.entry.server else functools.partial(
                engine.load, options, keep_alive=keep_alive
            )
            try:
                await asyncio.to_thread(load)
            except EngineError as error:
                self._residents.pop(id(engine), None)
                raise ApiError(500, str(error)) from None

    async def unload(self, target: RunTarget) -> None:
        """Unload the model now (keep_alive 0 with nothing to answer), after its running answers."""
        engine = self.manager.engine_for_target(target)
        async with self._turn(engine):
            self._residents.pop(id(engine), None)
            await asyncio.to_thread(engine.unload)
        self.embedders.unload(target.entry.path)

    def residents(self) -> list[Resident]:
        """The models loaded now on this machine, the longest to stay first (Ollama's /api/ps order)."""
        alive = [r for r in self._residents.values() if not r.target.entry.server and r.engine.loaded]
        return sorted(alive, key=lambda r: -(r.expires_at if r.expires_at is not None else float("inf")))

    async def embed(self, target: RunTarget, texts: list[str], options: Options, truncate: bool, normalize: bool) -> Embeddings:
        """Vectors for `texts` (llama.cpp's embedding mode); ApiError when the model cannot."""
        entry = target.entry
        context = entry.info.context_length if entry.info is not None else 0
        embedder = self.embedders.get(entry.path, entry.name, context)
        try:
            return await asyncio.to_thread(embedder.embed, texts, options, truncate, normalize)
        except InputTooLong as error:
            raise ApiError(400, str(error), param="input") from None
        except EngineError as error:
            raise ApiError(500, str(error)) from None

    def pooling_of(self, entry: ModelEntry) -> str:
        """How /api/embed makes one vector of this model's token vectors (without loading it:
        an embedder that ran says what llama.cpp reported; else by the model's architecture)."""
        from tui.engine.embedding import MEAN_POOLING_NOTE, OWN_POOLING_ARCHITECTURES

        embedder = self.embedders.peek(entry.path)
        if embedder is not None and embedder.pooling:
            return embedder.pooling
        architecture = entry.info.architecture if entry.info is not None else ""
        return "the model's own" if architecture in OWN_POOLING_ARCHITECTURES else MEAN_POOLING_NOTE

    def downloads(self) -> "DownloadManager":
        """The Hugging Face download queue (made on the first pull)."""
        from tui.models.download import DownloadManager

        if self._downloads is None:
            self._downloads = DownloadManager(self.paths)
        return self._downloads

    # -- housekeeping --------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Unload every model (server shutdown)."""
        self._residents.clear()
        if self._downloads is not None:
            self._downloads.shutdown()
        self.manager.unload_all()
        self.embedders.unload_all()

