"""``python -m ddc``."""

from ddc.launch import entry

entry()
