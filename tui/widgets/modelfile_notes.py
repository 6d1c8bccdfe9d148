"""The editor's notes beside a Modelfile: its problems, and help for the line under the cursor."""

from __future__ import annotations

from collections.abc import Sequence

from textual.markup import escape
from textual.widgets import Static

from tui.modelfile.assist import INSTRUCTION_HELP, Problem, completions, instruction_at, parameter_help

ICONS = {"error": "[$error]✗[/]", "warning": "[$warning]![/]"}


class ProblemList(Static):
    """What is wrong with the Modelfile, line by line (or that nothing is)."""

    def show(self, problems: Sequence[Problem]) -> None:
        """Show these problems."""
        if not problems:
            self.update("[$success]✓[/] No problems")
        else:
            self.update("\n".join(f"{ICONS[p.severity]} line {p.line}: {escape(p.message)}" for p in problems))


class LineHelp(Static):
    """Help for the line under the cursor: a parameter's type, default and meaning, an
    instruction's purpose, and what Tab would complete."""

    def show(self, lines: Sequence[str], row: int, column: int) -> None:
        """Show the help for the cursor at (`row`, `column`) of `lines`."""
        parts: list[str] = []
        choices = completions(lines, row, column)
        found = instruction_at(lines, row)
        if found is not None:
            keyword, parameter = found
            help = parameter_help(parameter) if parameter else None
            if help is not None:
                parts.append(f"[b]{help.name}[/b]  {escape(help.type)} · default {escape(help.default)}")
                parts.append(escape(help.meaning))
            elif parameter and not choices:
                parts.append(f"[$error]unknown parameter[/] {escape(parameter)}")
            else:
                parts.append(f"[b]{keyword.upper()}[/b]  {escape(INSTRUCTION_HELP[keyword])}")
        if choices:
            parts.append(f"[$text-muted]Tab: {escape(', '.join(choices[:8]))}{' …' if len(choices) > 8 else ''}[/]")
        if not parts:
            parts.append("[$text-muted]Put the cursor on a line for help; type a name for completion.[/]")
        self.update("\n".join(parts))
