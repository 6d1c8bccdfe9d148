"""whirr: run language models locally from the terminal."""

__version__ = "0.1.0"
