"""Engines for models served elsewhere: Ollama's API and OpenAI-compatible servers (vLLM,
llama.cpp's llama-server, LM Studio, llama-cpp-python's server...).

They keep the engine contract of tui/engine/base.py: `chat(request)` streams TokenEvents and ends
with one DoneEvent whose Stats say which server answered and how its figures were obtained.
History, personas (SYSTEM, PARAMETER, MESSAGE, applied here before sending) and meters stay on
this machine; only the messages and options travel. The client libraries are imported when an
engine is made (in a worker thread), never when whirr starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.engine.remote.common import RemoteEngine
    from tui.servers import Server


def remote_engine(server: "Server", model: str) -> "RemoteEngine":
    """The engine answering as `model` on `server` (its kind picks the API)."""
    if server.kind == "ollama":
        from tui.engine.remote.ollama_api import OllamaEngine

        return OllamaEngine(server, model)
    from tui.engine.remote.openai_api import OpenAIEngine

    return OpenAIEngine(server, model)
