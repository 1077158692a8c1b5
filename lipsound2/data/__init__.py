"""Prepared data: splits, the per-utterance cache and its DataLoaders (`core`), WebDataset shards (`shards`), preprocessing
on a Dask cluster (`distributed`). `from lipsound2.data import get_dls` reads from `core`."""
from .core import *  # noqa: F403
