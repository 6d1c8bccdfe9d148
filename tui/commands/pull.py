"""`whirr pull` and `whirr search`: models from the Hugging Face hub, like `ollama pull`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from tui.commands.common import CommandError, load_context

if TYPE_CHECKING:
    from tui.models.download import Download
    from tui.models.hub import HubModel

BAR_WIDTH = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr pull` and `whirr search`."""
    pull = subparsers.add_parser(
        "pull",
        help="download a model from the Hugging Face hub, or have an Ollama server pull one",
        description="Download hf.co/ORG/REPO[:QUANT] into whirr's models folder. Without QUANT, "
        "Q4_K_M is taken when the repo has it. An interrupted pull continues when run again. "
        "SERVER/MODEL asks that Ollama server to pull MODEL, showing its progress.",
    )
    pull.add_argument("model", help="hf.co/ORG/REPO, hf.co/ORG/REPO:QUANT, or SERVER/MODEL")
    pull.set_defaults(func=pull_command)
    search = subparsers.add_parser(
        "search", help="search the Hugging Face hub for GGUF models", description="List GGUF repositories, most downloaded first."
    )
    search.add_argument("query", nargs="*", help="words to look for in repository names")
    search.add_argument("--limit", type=int, default=20, help="most results to show (default 20)")
    search.set_defaults(func=search_command)


def progress_line(download: "Download", filename: str) -> str:
    """`pulling FILE  42% ▕████      ▏ 41 MB/98 MB  12 MB/s  5s` (speed and ETA once measured)."""
    from tui.format import human_duration
    from tui.format import human_size

    if download.verifying:
        return "verifying sha256 digest"
    fraction = download.fraction
    filled = int(fraction * BAR_WIDTH)
    line = (
        f"pulling {filename} {fraction * 100:3.0f}% ▕{'█' * filled}{' ' * (BAR_WIDTH - filled)}▏ "
        f"{human_size(download.done)}/{human_size(download.total)}"
    )
    if download.speed > 0 and download.eta is not None:
        line += f"  {human_size(int(download.speed))}/s  {human_duration(download.eta)}"
    return line


class _Printer:
    """Writes progress: one line rewritten in place on a terminal, a line per 10% otherwise."""

    def __init__(self, filename: str, out: TextIO) -> None:
        self.filename = filename
        self.out = out
        self.tty = out.isatty()
        self.last = ""
        self.last_tenth = -1

    def __call__(self, download: "Download") -> None:
        line = progress_line(download, self.filename)
        if line == self.last:
            return
        if self.tty:
            self.out.write(f"\r{line}\x1b[K")
        else:
            tenth = int(download.fraction * 10)
            if not download.verifying and tenth == self.last_tenth:
                return
            self.last_tenth = tenth
            self.out.write(line + "\n")
        self.last = line
        self.out.flush()

    def finish(self) -> None:
        if self.tty and self.last:
            self.out.write("\n")
            self.out.flush()


def _fit_verdict(model: "HubModel", num_ctx: int, num_gpu: int) -> str:
    """Whether the model fits in memory, from its remote header (or why that is unknown)."""
    from tui.models.gguf_info import GGUFError
    from tui.models.hub import HubError, remote_fit

    try:
        fit = remote_fit(model, num_ctx, num_gpu)
    except (HubError, GGUFError) as error:
        return f"memory: cannot tell ({error})"
    verdict = "fits" if fit.fits else "does not fit"
    return f"memory: {verdict} at context {num_ctx} ({fit.describe()})"


def pull_command(args: argparse.Namespace) -> int:
    """Resolve the name on the hub, show the fit, download with progress; Ctrl+C keeps the partial."""
    from tui.models.download import DownloadManager, State
    from tui.format import human_size
    from tui.models.hub import HubError, resolve_hf_name
    from tui.servers import split_remote

    context = load_context()
    on_server = split_remote(args.model, context.library.servers)
    if on_server is not None:
        from tui.commands import remote

        return remote.pull_command(*on_server)
    try:
        model = resolve_hf_name(args.model)
    except HubError as error:
        raise CommandError(str(error)) from None
    print(f"pulling {model.name} ({model.filename}, {human_size(model.size)})", file=sys.stderr)
    options = context.config.options
    print(_fit_verdict(model, options.num_ctx, options.num_gpu), file=sys.stderr)
    manager = DownloadManager(context.paths)
    printer = _Printer(model.filename, sys.stderr)
    manager.subscribe(printer)
    download = manager.add(model)
    try:
        state = manager.wait(download)
    except KeyboardInterrupt:
        manager.cancel(download)
        manager.wait(download, timeout=10)
        printer.finish()
        print(f"Interrupted: {human_size(download.done)} are kept. Run `whirr pull {args.model}` again to resume.", file=sys.stderr)
        return 130
    printer.finish()
    if state != State.DONE:
        raise CommandError(download.error or f"the download ended as {state.value}")
    print(f"success: {download.path}", file=sys.stderr)
    print(f"run it with: whirr run {model.name}")
    return 0


def search_command(args: argparse.Namespace) -> int:
    """Print GGUF repositories matching the query, most downloaded first."""
    from tui.models.hub import HubError, search_repos

    try:
        repos = search_repos(" ".join(args.query), limit=args.limit)
    except HubError as error:
        raise CommandError(str(error)) from None
    if not repos:
        print("no GGUF repositories found")
        return 0
    rows = [("NAME", "DOWNLOADS", "LIKES", "UPDATED")]
    for repo in repos:
        rows.append((f"hf.co/{repo.repo_id}", f"{repo.downloads:,}", str(repo.likes), repo.updated))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("    ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0
