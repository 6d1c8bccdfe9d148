"""Ollama-compatible Modelfiles: parse, check and write them, and render Go-template TEMPLATEs.

No Textual here: the editor screen and personas build on this package.
"""

from tui.modelfile.document import Command, Modelfile, ParseWarning
from tui.modelfile.gotemplate import TemplateError
from tui.modelfile.parser import ParseError, decode, parse
from tui.modelfile.prompt import GoTemplate, template_syntax
from tui.modelfile.writer import format_command, quote, write

__all__ = [
    "Command",
    "GoTemplate",
    "Modelfile",
    "ParseError",
    "ParseWarning",
    "TemplateError",
    "decode",
    "format_command",
    "parse",
    "quote",
    "template_syntax",
    "write",
]
