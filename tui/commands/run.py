"""`whirr run`: one-shot answers, piped prompts, batches, and an interactive loop like `ollama run`."""

from __future__ import annotations

import argparse
import sys

from tui.commands.chat import Chat, print_stats, start_meter, write_text
from tui.commands.common import CommandError, add_option_flags, load_context, options_from_flags, resolve_usable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr run`."""
    parser = subparsers.add_parser(
        "run",
        help="chat with a model (one-shot, piped, batch or interactive)",
        description="Answer PROMPT with MODEL, streaming tokens to stdout. With no PROMPT, read it "
        "from stdin when stdin is not a terminal, else start an interactive chat.",
    )
    parser.add_argument("model", nargs="?", help="model name or path to a .gguf file (default: from config)")
    parser.add_argument("prompt", nargs="*", help="the prompt (several words are joined)")
    parser.add_argument("--verbose", action="store_true", help="print timing statistics after each answer")
    parser.add_argument("--batch", metavar="FILE", help="answer each prompt in FILE (lines, or JSONL with a 'prompt' field)")
    parser.add_argument("--output", metavar="FILE", help="with --batch: write the JSONL answers here instead of stdout")
    parser.add_argument("--force", action="store_true", help="load the model even if it does not seem to fit in memory")
    parser.add_argument("--keepalive", metavar="DURATION",
                        help="how long the model stays loaded after an answer (5m, 1h30m, 300ms or seconds; "
                        "0 unloads at once, negative keeps it; default: WHIRR_KEEP_ALIVE, else config "
                        "keep_alive, 5m)")
    add_option_flags(parser)
    parser.set_defaults(func=run_command, trailing_words="prompt")


def run_command(args: argparse.Namespace) -> int:
    """Entry point of `whirr run`."""
    from tui.config import keep_alive_seconds
    from tui.logs import setup_logging
    from tui.models.fit import DoesNotFit

    context = load_context()
    setup_logging(context.paths)
    if args.output and not args.batch:
        raise CommandError("--output needs --batch")
    try:
        keep_alive = keep_alive_seconds(context.config, args.keepalive)
    except ValueError as error:
        raise CommandError(str(error)) from None
    target = resolve_usable(context, args.model or context.config.default_model)
    system = next(s for s in (args.system, target.system, context.config.system) if s is not None)
    entry = target.entry
    if entry.server:
        from tui.engine.remote import remote_engine
        from tui.servers import split_remote

        on_server = split_remote(entry.name, context.library.servers)
        assert on_server is not None
        engine = remote_engine(*on_server)
    else:
        from tui.engine.runner.client import RunnerEngine
        from tui.engine.runner.registry import registry_dir

        engine = RunnerEngine(entry.path, target.name, adapter=target.adapter, info=entry.info, file_size=entry.size,
                              model_id=entry.id, registry=registry_dir(context.paths), keep_alive=keep_alive)
    engine.force = args.force
    chat = Chat(target, engine, options_from_flags(args, target.options(context.config.options)), system)
    try:
        engine.check_memory(chat.options)
    except DoesNotFit as error:
        raise CommandError(f"{error}, or run with --force to load it anyway") from None
    if args.verbose:
        chat.meter = start_meter(context.config)
    if args.batch:
        from tui.commands.batch import run_batch

        return run_batch(chat, args.batch, args.output, args.verbose)
    prompt = " ".join(args.prompt)
    if not prompt and not sys.stdin.isatty():
        prompt = sys.stdin.read()
    if prompt:
        return one_shot(chat, prompt, args.verbose)
    from tui.commands.interactive import interactive

    return interactive(chat, args.verbose)


def one_shot(chat: Chat, prompt: str, verbose: bool) -> int:
    """Answer one prompt; exit code 130 when stopped with Ctrl+C, 1 on error."""
    result = chat.ask(prompt, write_text)
    done = result.done
    if done.text and not done.text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    if verbose:
        print_stats(done.stats, result.energy)
    if done.stats.finish_reason == "error":
        raise CommandError(done.stats.error)
    return 130 if done.stats.finish_reason == "cancelled" else 0


