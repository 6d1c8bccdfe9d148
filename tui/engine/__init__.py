"""Inference engines: the in-process llama.cpp engine and remote servers (no Textual here)."""
