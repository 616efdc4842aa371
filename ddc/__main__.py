"""``python -m ddc``."""

from ddc.cli import entry

entry()
