"""Local models: GGUF metadata, the model library and name resolution (no Textual here)."""
