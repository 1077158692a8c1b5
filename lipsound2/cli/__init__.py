"""The `lipsound2` command (`lipsound2 --help`): exit statuses and what every command shares (`base`), the data and
training commands (`data_commands`), the speech and text commands (`speech_commands`), the parser and the entry points
(`parser`). Heavy imports happen inside the commands, so that `--help` answers without torch."""
from .base import EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED  # noqa: F401
from .parser import get_parser, main, run  # noqa: F401
