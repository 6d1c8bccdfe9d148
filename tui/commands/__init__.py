"""Subcommands of the `whirr` CLI; each module has `register(subparsers)`."""
