"""``python -m ddc``."""

from ddc.cli import main

main()
