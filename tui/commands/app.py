"""`whirr app` (and bare `whirr`): the full-screen chat app."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr app`."""
    parser = subparsers.add_parser(
        "app", help="open the chat app (what `whirr` alone does)", description="Open whirr's full-screen chat app."
    )
    parser.set_defaults(func=app_command)


def app_command(args: argparse.Namespace) -> int:
    """Run the app until the user quits."""
    from tui.app import WhirrApp

    WhirrApp().run()
    return 0
