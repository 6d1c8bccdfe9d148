"""What the chat UI can do, as plain data: every action with its binding id, keys and text.

One table feeds the key bindings, the footer, the help screen and the command palette, so
they never disagree. Users remap keys by binding id in config.toml's [keys] table.
No Textual imports here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """One thing the user can do in a chat.

    `action` is the screen's action string; `keys` is Textual's comma-separated key list
    (empty: palette only); `priority` bindings win over the prompt's own keys (Ctrl+W would
    otherwise delete a word); `footer` is the footer's label (empty: not in the footer);
    `palette` lists it in the command palette.
    """

    id: str
    action: str
    keys: str
    description: str
    help: str
    priority: bool = True
    footer: str = ""
    palette: bool = True


CHAT_ACTIONS: tuple[Action, ...] = (
    Action("session.new", "new_session", "ctrl+n", "New session", "Start a chat with the default model and settings", footer="New"),
    Action("session.close", "close_session", "ctrl+w", "Close session", "Close this tab (undo for a few seconds)", footer="Close"),
    Action("session.undo_close", "undo_close", "ctrl+z", "Undo close", "Reopen the tab just closed", palette=False),
    Action("session.rename", "rename_session", "f2", "Rename session", "Give this session a new title"),
    Action("session.next", "next_tab", "ctrl+pagedown,ctrl+tab", "Next session", "Go to the tab on the right"),
    Action("session.previous", "previous_tab", "ctrl+pageup,ctrl+shift+tab", "Previous session", "Go to the tab on the left"),
    *(
        Action(f"session.goto_{n}", f"goto_tab({n})", f"alt+{n}", f"Go to session {n}", f"Jump to tab {n}", palette=False)
        for n in range(1, 10)
    ),
    Action("session.settings", "session_settings", "ctrl+e", "Session settings", "System prompt and parameters of this session", footer="Session"),
    Action("model.pick", "pick_model", "ctrl+o", "Switch model", "Pick the model for this session (the conversation is kept)", footer="Model"),
    Action("model.load_anyway", "load_anyway", "", "Load the model anyway", "Load this session's model although the memory estimate says it does not fit"),
    Action("answer.stop", "stop", "escape", "Stop answer", "Stop the answer being written", priority=False),
    Action("answer.regenerate", "regenerate", "ctrl+r", "Regenerate answer", "Ask again for the last answer"),
    Action("answer.copy", "copy", "ctrl+y", "Copy answer", "Copy the last answer or one of its code blocks"),
    Action("search", "search", "ctrl+f", "Search chats", "Full-text search across every chat", footer="Search"),
    Action("library.open", "open_library", "f3", "Model library", "Every model whirr can run: details, memory fit, use, copy, delete"),
    Action("editor.show", "modelfile_editor", "f4", "Modelfile editor", "Write, check and try personas"),
    Action("meters.toggle", "toggle_meters", "f5", "Meters panel", "Show or hide the meters: load, memory, power, and what each answer cost"),
    Action("session.export_markdown", "export('markdown')", "", "Export session as Markdown", "Write this session to a .md file"),
    Action("session.export_json", "export('json')", "", "Export session as JSON", "Write this session to a .json file"),
    Action("session.archive", "archive_session", "", "Archive session", "Put this session away (it can be reopened)"),
    Action("session.delete", "delete_session", "", "Delete session", "Delete this session and its messages for good"),
    Action("session.reopen", "reopen_session", "", "Reopen session", "Open an archived or closed session again"),
    Action("help", "help", "f1,question_mark", "Help", "Every key and command", priority=False, footer="Help"),
)

# Keys the prompt handles itself (listed in help; remappable by id like the others).
PROMPT_ACTIONS: tuple[Action, ...] = (
    Action("prompt.send", "submit", "enter", "Send", "Send the message", palette=False),
    Action("prompt.newline", "newline", "shift+enter,ctrl+j", "New line", "Insert a line break", palette=False),
    Action("prompt.edit_last", "edit_last", "up", "Edit last message", "In an empty prompt: edit and resend your last message", priority=False, palette=False),
)

# Keys of the Modelfile editor (F4).
EDITOR_ACTIONS: tuple[Action, ...] = (
    Action("editor.new", "new", "ctrl+n", "New Modelfile", "Start a new Modelfile based on the default model", footer="New"),
    Action("editor.open", "open", "ctrl+o", "Open Modelfile", "Open the Modelfile of a persona or a model", footer="Open"),
    Action("editor.save", "save", "ctrl+s", "Save persona", "Save as the persona opened, or ask for a name", footer="Save"),
    Action("editor.save_as", "save_as", "alt+s", "Save persona as", "Save as a persona under a new name"),
    Action("editor.revert", "revert", "ctrl+r", "Revert", "Go back to the saved version (asks first)"),
    Action("editor.try", "try_it", "ctrl+t", "Try it", "Ask the edited persona a test prompt, answered beside the editor", footer="Try"),
    Action("editor.stop", "escape", "escape", "Stop or close", "Stop the test answer; with none, close the editor", priority=False),
    Action("editor.close", "close", "f4", "Close editor", "Back to the chat (unsaved changes: asks first)", footer="Close"),
    Action("editor.help", "help", "f1", "Help", "Every key and command", priority=False, footer="Help", palette=False),
)

# Keys that work on every screen.
APP_ACTIONS: tuple[Action, ...] = (
    Action("app.palette", "command_palette", "ctrl+p", "Palette", "The command palette: every action, and themes", palette=False),
    Action("app.quit", "quit", "ctrl+q", "Quit", "Leave whirr (answers being written are saved)", palette=False),
)

# Keys of the model library screen (F3). Letters act when the table has focus; any other
# character typed there goes to the filter.
HUB_ACTIONS: tuple[Action, ...] = (
    Action("hub.cancel", "act('cancel')", "c", "Cancel download", "Stop the highlighted download; its partial file is kept", priority=False, footer="Cancel", palette=False),
    Action("hub.resume", "act('resume')", "r", "Resume download", "Continue the highlighted download where it stopped", priority=False, footer="Resume", palette=False),
    Action("hub.discard", "act('discard')", "d,delete", "Discard download", "Stop the highlighted download and delete its partial file", priority=False, footer="Discard", palette=False),
    Action("hub.close", "close", "escape", "Back", "Leave the Hugging Face screen", priority=False, footer="Back", palette=False),
)
"""The Hugging Face screen's keys (cancel, resume and discard act on the highlighted download)."""

LIBRARY_ACTIONS: tuple[Action, ...] = (
    Action("library.use", "use", "enter", "Use model", "Use the highlighted model in the current chat session", footer="Use"),
    Action("library.default", "set_default", "d", "Set as default", "Make it the model of new sessions (saved in config.toml)", priority=False, footer="Default"),
    Action("library.copy", "copy", "c", "Copy model", "Add another name for the model (no file is copied)", priority=False, footer="Copy"),
    Action("library.remove", "remove", "delete,x", "Delete or forget model", "Delete a file whirr owns, or forget an imported one (its file stays)", priority=False, footer="Delete"),
    Action("library.path", "reveal_path", "p", "Reveal path", "Show the model's file path and copy it to the clipboard", priority=False, footer="Path"),
    Action("library.sort", "cycle_sort", "s", "Sort", "Sort by the next column (click a header to sort by it; again to reverse)", priority=False, footer="Sort"),
    Action("library.filter", "focus_filter", "slash", "Filter", "Filter by name, family, quantization or source (or just start typing)", priority=False, palette=False),
    Action("library.refresh", "refresh", "r", "Refresh", "Read the model folders again", priority=False, footer="Refresh"),
    Action("library.servers", "servers", "m", "Model servers", "Add, edit or remove the servers whose models whirr can use", priority=False, footer="Servers", palette=False),
    Action("library.hub", "hub", "h", "Hugging Face", "Search and download GGUF models from the Hugging Face hub", priority=False, footer="HF"),
    Action("library.back", "back", "escape", "Back", "Clear the filter, or go back to the chat", priority=False, footer="Back", palette=False),
    Action("library.close", "close", "f3", "Close library", "Go back to the chat", palette=False),
)

# Keys of the dialogs.
DIALOG_ACTIONS: tuple[Action, ...] = (
    Action("dialog.cancel", "cancel", "escape", "Cancel", "Close a dialog without changing anything", priority=False, palette=False),
    Action("dialog.save", "save", "ctrl+s", "Save", "Save the session dialog", palette=False),
    Action("dialog.yes", "answer(True)", "y", "Yes", "Confirm (delete, archive)", priority=False, palette=False),
    Action("dialog.no", "answer(False)", "n", "No", "Do not confirm", priority=False, palette=False),
    Action("help.close", "cancel", "f1,q", "Close help", "Close this help screen", priority=False, palette=False),
)

# Keys Textual's widgets handle, shown in help so the list is complete.
MOVE_KEYS: tuple[tuple[str, str], ...] = (
    ("Tab / Shift+Tab", "Move between the prompt and the conversation"),
    ("PageUp / PageDown", "Scroll the conversation (when it has focus)"),
    ("Home / End", "Oldest / newest message (when the conversation has focus)"),
)


def action_by_id(binding_id: str) -> Action | None:
    """The action with this binding id, if any."""
    everything = (*CHAT_ACTIONS, *EDITOR_ACTIONS, *PROMPT_ACTIONS, *APP_ACTIONS, *LIBRARY_ACTIONS, *HUB_ACTIONS, *DIALOG_ACTIONS)
    return next((a for a in everything if a.id == binding_id), None)


def unknown_key_ids(keys: dict[str, str]) -> list[str]:
    """Binding ids in a user's [keys] table that whirr does not have."""
    return sorted(k for k in keys if action_by_id(k) is None)


def auto_title(text: str, limit: int = 32) -> str:
    """A tab title from the first message: its first line, cut at a word near `limit`."""
    line = " ".join(text.strip().split("\n", 1)[0].split())
    if len(line) <= limit:
        return line or "New chat"
    cut = line.rfind(" ", 0, limit)
    return line[: cut if cut > limit // 2 else limit].rstrip(" ,.;:") + "…"
