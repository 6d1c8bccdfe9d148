"""`whirr run MODEL --batch FILE`: answer many prompts, one JSON line per answer."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tui.commands.common import CommandError

if TYPE_CHECKING:
    from tui.commands.chat import Chat


def read_prompts(path: str) -> list[str]:
    """Prompts from a file: one per line, and a line that starts with `{` is a JSON object with
    a "prompt" field.

    A file is JSONL when its name ends in .jsonl or its first line is a JSON object: then every
    line must be one, and a line that is not is an error naming it, never sent as a prompt."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    jsonl = path.endswith(".jsonl") or bool(lines and lines[0][1].lstrip().startswith("{"))
    prompts = []
    for number, line in lines:
        if not jsonl and not line.lstrip().startswith("{"):
            prompts.append(line)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CommandError(f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
            raise CommandError(f"{path}:{number}: a JSON line needs a string \"prompt\" field")
        prompts.append(record["prompt"])
    return prompts


def run_batch(chat: "Chat", prompts_file: str, output: str | None, verbose: bool) -> int:
    """Answer every prompt independently; progress on stderr; exit 130 if stopped."""
    from tqdm import tqdm

    prompts = read_prompts(prompts_file)
    out: TextIO
    try:
        out = open(output, "w", encoding="utf-8") if output else sys.stdout
    except OSError as error:
        raise CommandError(f"cannot write {output}: {error.strerror}") from None
    failures = 0
    try:
        with tqdm(total=len(prompts), unit="prompt", file=sys.stderr, disable=None) as progress:
            for prompt in prompts:
                chat.history.clear()
                result = chat.ask(prompt, lambda _text: None)
                done = result.done
                record = {"prompt": prompt, "response": done.text, "stats": asdict(done.stats)}
                if result.energy is not None:
                    record["energy"] = result.energy.to_dict()
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                progress.update()
                if done.stats.finish_reason == "error":
                    failures += 1
                if done.stats.finish_reason == "cancelled":
                    return 130
    finally:
        if out is not sys.stdout:
            out.close()
    if verbose or failures:
        print(f"{len(prompts)} prompt(s), {failures} failed", file=sys.stderr)
    return 1 if failures else 0
