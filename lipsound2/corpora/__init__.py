"""Corpus layouts read into `Utterance` records: GRID and plain folders (`core`), VoxCeleb2, LRS3, TCD-TIMIT and CMLR
(`readers`). Torch-free."""
from .core import *  # noqa: F403
from .readers import *  # noqa: F403
