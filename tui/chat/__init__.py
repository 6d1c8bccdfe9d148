"""The chat without its screen: a session's data and the answer pipeline (no Textual here)."""
