"""The in-process engine: llama.cpp through llama-cpp-python, driven token by token.

What it does differently from `create_chat_completion(stream=True)`: it renders
the GGUF's chat template once with llama-cpp-python's Jinja2ChatFormatter, tokenizes once,
evaluates only the part of the prompt the KV cache does not already hold, then drives
`Llama.generate()` and turns each token's bytes into text incrementally (TextAssembler), so
the cost per token does not grow with the answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import llama_cpp

from tui.engine.base import (
    ChatRequest,
    ChatStream,
    DoneEvent,
    EngineError,
    EventSink,
    ChatMessage,
    Stats,
    StatusEvent,
    TokenEvent,
)
from tui.engine.llama_runtime import (
    PromptAbort,
    TokenPieces,
    load_llama,
    sampling_arguments,
    set_threads,
)
from tui.engine.loading import load_settings, physical_cores
from tui.engine.options import Options, context_size
from tui.engine.state_cache import StateCache, common_prefix
from tui.engine.template import ChatTemplate, make_template
from tui.engine.textstream import TextAssembler
from tui.engine.threads import ThreadGovernor
from tui.models.fit import DoesNotFit, check_fit
from tui.models.gguf_info import GGUFInfo

# When older turns must be dropped, leave at least this much room for the answer.
MIN_ANSWER_ROOM = 256


@dataclass
class _Loaded:
    llm: llama_cpp.Llama
    settings: tuple
    pieces: TokenPieces
    templates: dict[str | None, ChatTemplate]
    governor: ThreadGovernor | None

    def template(self, text: str | None) -> ChatTemplate:
        """The chat template for `text` (None: the GGUF's own), built once per text."""
        template = self.templates.get(text)
        if template is None:
            template = self.templates[text] = make_template(
                text,
                self.llm.metadata.get("tokenizer.chat_template"),
                eos_token=self.pieces.text(self.llm.token_eos()),
                bos_token=self.pieces.text(self.llm.token_bos()),
            )
        return template


@dataclass(frozen=True)
class PreparedPrompt:
    """A conversation rendered and tokenized for the model."""

    tokens: list[int]
    messages_dropped: int


class LlamaEngine:
    """Answers chats with one GGUF model, loaded on first use. Not re-entrant: one lock."""

    pid: int | None = None
    """None: the answers are written in this process."""

    def __init__(
        self,
        model_path: Path,
        name: str = "",
        adapter: Path | None = None,
        info: GGUFInfo | None = None,
        file_size: int | None = None,
    ) -> None:
        """With `file_size` (all parts of the model), loading first checks that the model fits
        in memory at the requested context and raises DoesNotFit when not, unless `force` is set."""
        self.model_path = Path(model_path)
        self.name = name or self.model_path.name
        self.adapter = adapter
        self.info = info
        self.file_size = file_size
        self.force = False
        """Load even when the memory estimate says the model does not fit (`whirr run --force`)."""
        self.adaptive_threads = True
        """With num_thread 0, let a ThreadGovernor lower the thread count on a busy machine."""
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._states = StateCache()

    @property
    def loaded(self) -> bool:
        """True while the model is in memory."""
        return self._loaded is not None

    @property
    def llama(self) -> llama_cpp.Llama | None:
        """The loaded llama_cpp.Llama (benchmarks drive it directly to compare)."""
        return self._loaded.llm if self._loaded is not None else None

    def render_prompt(self, messages: Sequence[ChatMessage], template: str | None = None) -> list[int]:
        """The prompt tokens for these messages (the model must be loaded)."""
        assert self._loaded is not None, "load() the model first"
        return self._tokenize(self._loaded, messages, template)

    def chat(self, request: ChatRequest) -> ChatStream:
        """Start answering on a worker thread; call from a running event loop."""
        stream = ChatStream()
        stream.run_in_thread(lambda s: self.answer_here(request, s), name=f"whirr-llama-{self.name}")
        return stream

    @property
    def threads(self) -> int | None:
        """The thread count llama.cpp uses now (None while not loaded)."""
        loaded = self._loaded
        if loaded is None:
            return None
        return loaded.governor.threads if loaded.governor is not None else loaded.llm.n_threads

    @property
    def governor(self) -> ThreadGovernor | None:
        """The thread governor of the loaded model (None when not loaded or num_thread is set)."""
        return self._loaded.governor if self._loaded is not None else None

    def load(self, options: Options, on_progress: Callable[[int], None] | None = None) -> float:
        """Load (or reload for new load-time options) now; returns seconds spent. Blocking.
        `on_progress(percent)` hears how far loading got, once per percent."""
        with self._lock:
            return self._ensure_loaded(options, on_progress)

    def check_memory(self, options: Options) -> None:
        """Raise DoesNotFit when the model will not fit in free memory with these options
        (nothing is checked when `force` is set or the file size is unknown)."""
        if self.file_size is None or self.force:
            return
        fit = check_fit(self.info, self.file_size, context_size(options.num_ctx), options.num_gpu)
        if not fit.fits:
            raise DoesNotFit(fit, self.name)

    def unload(self) -> None:
        """Free the model's memory (waits for a running answer to finish)."""
        with self._lock:
            self._free()

    def count_tokens(self, messages: Sequence[ChatMessage], options: Options, template: str | None = None) -> int:
        """Exact number of prompt tokens these messages take. Blocking; loads the model."""
        with self._lock:
            self._ensure_loaded(options)
            assert self._loaded is not None
            return len(self._tokenize(self._loaded, messages, template))

    def reset_cache(self) -> None:
        """Forget the KV cache so the next prompt is evaluated from scratch (benchmarks)."""
        with self._lock:
            if self._loaded is not None:
                self._loaded.llm.reset()

    def answer_here(self, request: ChatRequest, stream: EventSink) -> None:
        """Answer on the calling thread, delivering events to `stream` (the last is a DoneEvent).

        The CLI calls this on its main thread: with an OpenMP build of llama.cpp, its worker
        threads run about a third faster when the main thread drives them (README, Performance).
        """
        started = time.perf_counter()
        stats = Stats()
        assembler = TextAssembler(request.options.stop)
        context: tuple[int, ...] = ()
        if not self._lock.acquire(blocking=False):
            stream.put(StatusEvent("queued"))
            while not self._lock.acquire(timeout=0.05):
                if stream.cancelled:
                    stats.finish_reason = "cancelled"
                    stream.put(DoneEvent("", stats))
                    return
        try:
            if self._loaded is None or self._loaded.settings != load_settings(request.options):
                stream.put(StatusEvent("loading"))
            stats.load_duration = self._ensure_loaded(
                request.options, lambda percent: stream.put(StatusEvent("loading", percent=percent))
            )
            context = self._generate(request, stream, stats, assembler, started)
        except EngineError as error:
            stats.finish_reason, stats.error = "error", str(error)
        except Exception as error:  # a llama.cpp failure must end the answer, not the app
            stats.finish_reason, stats.error = "error", f"{type(error).__name__}: {error}"
        finally:
            self._lock.release()
            stats.total_duration = time.perf_counter() - started
            stream.put(DoneEvent(assembler.text, stats, context))

    def _ensure_loaded(self, options: Options, on_progress: Callable[[int], None] | None = None) -> float:
        settings = load_settings(options)
        if self._loaded is not None and self._loaded.settings == settings:
            return 0.0
        self._free()
        if not self.model_path.is_file():
            raise EngineError(f"model file not found: {self.model_path}")
        if self.adapter is not None and not self.adapter.is_file():
            raise EngineError(f"adapter file not found: {self.adapter}")
        self.check_memory(options)
        started = time.perf_counter()
        try:
            llm = load_llama(self.model_path, options, self.adapter, _per_percent(on_progress))
        except (ValueError, RuntimeError) as error:
            raise EngineError(f"cannot load {self.model_path.name}: {error}") from None
        governor = None
        if options.num_thread == 0 and self.adaptive_threads:
            governor = ThreadGovernor(physical_cores(), lambda threads: set_threads(llm, threads))
        self._loaded = _Loaded(llm, settings, TokenPieces(llm), {}, governor)
        return time.perf_counter() - started

    def _free(self) -> None:
        self._states.clear()
        if self._loaded is not None:
            self._loaded.llm.close()
            self._loaded = None

    def _tokenize(self, loaded: _Loaded, messages: Sequence[ChatMessage], template: str | None) -> list[int]:
        rendered = loaded.template(template).render(messages)
        return loaded.llm.tokenize(rendered.text.encode("utf-8"), add_bos=rendered.add_bos, special=True)

    def _prepare(self, loaded: _Loaded, request: ChatRequest) -> PreparedPrompt:
        """Render and tokenize (a raw `prompt` as is), after the request's `context` tokens,
        leaving out the oldest turns if the context would overflow."""
        messages, options, template = request.messages, request.options, request.template
        llm = loaded.llm
        n_ctx = llm.n_ctx()
        room = min(options.num_predict if options.num_predict > 0 else MIN_ANSWER_ROOM, n_ctx // 4)
        system = [m for m in messages[:1] if m.role == "system"]
        turns = list(messages[len(system) :])
        dropped = 0
        before = len(request.context)
        if request.prompt is not None:
            tokens = llm.tokenize(request.prompt.encode("utf-8"), add_bos=not before, special=True)
        else:
            tokens = self._tokenize(loaded, messages, template)
            while len(tokens) + before + room > n_ctx and len(turns) > 1:
                # Drop a whole exchange (user + answer) so the conversation stays well formed.
                cut = 2 if len(turns) > 2 and turns[0].role == "user" and turns[1].role == "assistant" else 1
                turns, dropped = turns[cut:], dropped + cut
                tokens = self._tokenize(loaded, [*system, *turns], template)
        if before:
            tokens = [*request.context, *(tokens[1:] if tokens[:1] == [llm.token_bos()] else tokens)]
        if len(tokens) >= n_ctx:
            raise EngineError(
                f"the prompt is {len(tokens):,} tokens but the context is {n_ctx:,} tokens "
                "(shorten the prompt or raise num_ctx)"
            )
        return PreparedPrompt(tokens, dropped)

    def _generate(
        self, request: ChatRequest, stream: EventSink, stats: Stats, assembler: TextAssembler, requested: float
    ) -> tuple[int, ...]:
        """Evaluate the prompt and stream tokens; `requested` is when the answer was asked for.
        Returns the prompt and answer tokens when the request asks for them."""
        loaded = self._loaded
        assert loaded is not None
        llm, options = loaded.llm, request.options
        prompt = self._prepare(loaded, request)
        stats.messages_dropped = prompt.messages_dropped
        stream.put(StatusEvent("prompt"))
        started = time.perf_counter()
        if request.conversation_id is not None:
            self._states.restore_if_better(request.conversation_id, llm, prompt.tokens)
        reused = self._evaluate_prompt(loaded, prompt.tokens, stream)
        stats.prompt_cached_count = reused
        stats.prompt_eval_count = len(prompt.tokens) - reused
        prompt_done = time.perf_counter()
        stats.prompt_eval_duration = prompt_done - started
        if stream.cancelled:
            stats.finish_reason = "cancelled"
            return ()
        limit = llm.n_ctx() - len(prompt.tokens)
        if options.num_predict >= 0:
            limit = min(limit, options.num_predict)
        stats.finish_reason = "length"
        first_at = last_at = prompt_done
        unsent = 0  # tokens whose text is still held back
        governor = loaded.governor
        if governor is not None:
            governor.begin()
        answer: list[int] = []
        for count, token in enumerate(self._sample(loaded, options, request.grammar), start=1):
            if not request.ignore_eos and loaded.pieces.is_end_of_generation(token):
                stats.finish_reason = "stop"
                break
            last_at = time.perf_counter()
            if governor is not None:
                governor.token()
            if count == 1:
                first_at = last_at
            stats.eval_count = count
            if request.return_context:
                answer.append(token)
            unsent += 1
            text = assembler.feed(loaded.pieces(token))
            if text:
                stream.put(TokenEvent(text, unsent))
                unsent = 0
            if assembler.stopped:
                stats.finish_reason = "stop"
                break
            if stream.cancelled:
                stats.finish_reason = "cancelled"
                break
            if count >= limit:
                break
        tail = assembler.finish()
        if tail:
            stream.put(TokenEvent(tail, unsent))
        if request.conversation_id is not None:
            self._states.save(request.conversation_id, llm)
        stats.time_to_first_token = first_at - requested
        stats.eval_duration = last_at - prompt_done
        return (*prompt.tokens, *answer) if request.return_context else ()

    def _evaluate_prompt(self, loaded: _Loaded, tokens: list[int], stream: EventSink) -> int:
        """Evaluate the prompt tokens the KV cache lacks; returns how many were reused."""
        llm = loaded.llm
        # At least one token must be evaluated to get fresh logits to sample from.
        reused = min(common_prefix(llm.input_ids[: llm.n_tokens], tokens), len(tokens) - 1)
        llm.n_tokens = reused
        try:
            with PromptAbort(llm, stream.cancel_event):
                llm.eval(tokens[reused:])
        except RuntimeError:
            if not stream.cancelled:
                raise
            llm.n_tokens = reused  # an aborted decode leaves no usable state past the prefix
        return reused

    def _sample(self, loaded: _Loaded, options: Options, grammar: str | None = None) -> Iterator[int]:
        llm = loaded.llm
        llm.set_seed(options.seed if options.seed >= 0 else random.randrange(2**31))
        llm.last_n_tokens_size = options.repeat_last_n
        # The prompt is already evaluated: with no new tokens and reset=False, generate()
        # samples straight from the current logits.
        constraint = llama_cpp.LlamaGrammar.from_string(grammar, verbose=False) if grammar else None
        generator = llm.generate([], reset=False, grammar=constraint, **sampling_arguments(options))
        try:
            yield from generator
        finally:
            generator.close()


def _per_percent(on_progress: Callable[[int], None] | None) -> Callable[[float], None] | None:
    """A load-progress listener that passes on whole percents, each once."""
    if on_progress is None:
        return None
    last = -1

    def report(fraction: float) -> None:
        nonlocal last
        percent = min(100, max(0, int(fraction * 100)))
        if percent != last:
            last = percent
            on_progress(percent)

    return report
