"""Personas in chat sessions: listed in the model picker, and applied to the next answer."""

from __future__ import annotations

from tests.ui.helpers import AppFactory, active_view, open_model_picker, send, settle
from tui.engine.base import ChatMessage
from tui.modelfile import parse
from tui.models.personas import PersonaStore
from tui.paths import resolve_paths

PIRATE = '''FROM smollm2:135m
PARAMETER temperature 0.3
SYSTEM You are a pirate.
MESSAGE user Hello
MESSAGE assistant Arr!
TEMPLATE """{{ .System }} {{ .Prompt }}"""
'''


async def test_a_persona_is_picked_and_shapes_the_request(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "first")
        options = await open_model_picker(pilot)
        first = options.get_option_at_index(0)
        assert first.id == "pirate:latest" and "persona of smollm2:135m" in str(first.prompt)
        options.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        view = active_view(app)
        assert view.session.model == "pirate:latest"
        await send(pilot, "who are you?")
        request = app.engines.engine_for("pirate:latest").requests[-1]
        assert request.messages[:3] == [
            ChatMessage("system", "You are a pirate."), ChatMessage("user", "Hello"), ChatMessage("assistant", "Arr!")
        ]
        assert request.messages[-1] == ChatMessage("user", "who are you?")
        assert request.options.temperature == 0.3
        assert request.template == "{{ .System }} {{ .Prompt }}"


async def test_the_sessions_own_system_prompt_wins_over_the_personas(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test() as pilot:
        view = active_view(app)
        view.set_model("pirate:latest")
        view.set_settings("Be a parrot.", view.data.options)
        await settle(pilot)
        await send(pilot, "hi")
        request = app.engines.engine_for("pirate:latest").requests[-1]
        assert request.messages[0] == ChatMessage("system", "Be a parrot.")
        assert request.messages[1:3] == [ChatMessage("user", "Hello"), ChatMessage("assistant", "Arr!")]


async def test_a_persona_whose_model_was_removed_cannot_be_picked(make_app: AppFactory) -> None:
    from tui.modelfile import parse
    from tui.models.personas import PersonaStore
    from tui.paths import resolve_paths

    store = PersonaStore(resolve_paths())
    store.save("orphan", parse("FROM gone-model:7b\nSYSTEM Lost.\n"))
    store.save("fine", parse("FROM smollm2:135m\nSYSTEM Here.\n"))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        options = await open_model_picker(pilot)
        orphan = options.get_option("orphan:latest")
        fine = options.get_option("fine:latest")
        assert orphan.disabled and "unusable: persona 'orphan:latest' is based on 'gone-model:7b', which is not found" in str(orphan.prompt)
        assert not fine.disabled and "persona of smollm2:135m" in str(fine.prompt)
