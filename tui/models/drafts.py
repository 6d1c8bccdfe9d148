"""An unsaved Modelfile in the editor: the text a new one starts from, what is wrong with its
FROM, the request that tries it, and what a persona's name may not be. No Textual here."""

from __future__ import annotations

from pathlib import Path

from tui.engine.base import ChatRequest
from tui.engine.options import Options
from tui.modelfile.assist import Problem, check
from tui.modelfile.document import Modelfile
from tui.models.library import Library, ModelNotFound
from tui.models.personas import PersonaError, PersonaStore, RunTarget, draft_target, normalize_name, prepare_modelfile


def new_modelfile(model: str) -> str:
    """The text a new Modelfile starts from."""
    return (
        "# A persona (Tab completes names)\n"
        f"FROM {model}\n"
        "PARAMETER temperature 0.8\n"
        'SYSTEM """You are a helpful assistant."""\n'
    )


def base_problem(text: str, modelfile: Modelfile, library: Library, personas: PersonaStore) -> Problem | None:
    """Whether FROM (and the TEMPLATE over it) resolves, as saving will require; a problem at
    the FROM line when it does not (reads the library: call in a thread)."""
    try:
        draft_target(prepare_modelfile(modelfile, Path.cwd()), library, personas)
    except (ModelNotFound, PersonaError) as error:
        return Problem(_from_line(text), str(error).strip("'\""))
    return None


def draft_request(
    text: str, prompt: str, library: Library, personas: PersonaStore, options: Options
) -> tuple[RunTarget, ChatRequest]:
    """What answering `prompt` with the unsaved `text` runs, and the request (blocking); raises
    ValueError while the Modelfile has an error, or what resolving its FROM raises."""
    modelfile, problems = check(text)
    if modelfile is None:
        raise ValueError(f"Fix the Modelfile first: {problems[0]}")
    target = draft_target(prepare_modelfile(modelfile, Path.cwd()), library, personas)
    messages = target.conversation(target.system, [], prompt)
    return target, ChatRequest(messages, target.options(options), template=target.template)


def name_problem(text: str, models: set[str]) -> str:
    """What is wrong with a persona name (not a valid name, or a model's name), or ''."""
    try:
        name = normalize_name(text.strip())
    except PersonaError as error:
        return str(error)
    return f"{name} is already a model name; choose another name" if name in models else ""


def _from_line(text: str) -> int:
    """The 1-based line of the FROM instruction (1 when there is none)."""
    lines = text.splitlines()
    return next((i for i, line in enumerate(lines, 1) if line.strip().lower().startswith("from ")), 1)
