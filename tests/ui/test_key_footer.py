"""The key footer: its keys are there from the first frame, and it is composed again only when
the keys it shows change (Textual's Footer recomposes at every focus change)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Button
from textual.widgets._footer import FooterKey  # not exported; the footer's key widgets

from tests.ui.helpers import wait_until
from tui.widgets.key_footer import KeyFooter


class Plain(Button):
    """A focusable widget with no keys of its own."""


class WithKey(Button):
    """A focusable widget that adds a key to the footer."""

    BINDINGS = [Binding("ctrl+y", "nothing", "Yank")]

    def action_nothing(self) -> None:
        pass


class FooterApp(App[None]):
    BINDINGS = [Binding("f1", "nothing", "Help"), Binding("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Plain("one", id="one")
        yield Plain("two", id="two")
        yield WithKey("three", id="three")
        yield KeyFooter()

    def action_nothing(self) -> None:
        pass


def shown(app: App[None]) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def test_the_keys_are_composed_with_the_footer() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        await wait_until(lambda: footer.is_mounted, what="the footer mounted")
        assert "Help" in shown(app)  # no second compose needed to show them
        await pilot.pause()
        assert "Help" in shown(app) and "Quit" in shown(app)


async def test_a_focus_change_that_keeps_the_keys_does_not_compose_them_again() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.set_focus(app.query_one("#one"))
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        app.set_focus(app.query_one("#two"))
        await pilot.pause()
        await pilot.pause()
        assert list(app.screen.query(FooterKey)) == keys  # the same widgets: nothing recomposed


async def test_the_footer_follows_a_change_of_its_keys() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.set_focus(app.query_one("#one"))
        await pilot.pause()
        assert "Yank" not in shown(app)
        app.set_focus(app.query_one("#three"))
        await wait_until(lambda: "Yank" in shown(app), what="the focused widget's key in the footer")
        app.set_focus(app.query_one("#two"))
        await wait_until(lambda: "Yank" not in shown(app), what="the key gone with the focus")
