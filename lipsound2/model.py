"""`lipsound2.model` as before the subpackages (#28): the video-to-speech models and their checkpoints now live in
`lipsound2.v2s.model`; `from lipsound2.model import LipSound2` keeps working."""
from .v2s.model import *  # noqa: F403
from .v2s.model import __all__  # noqa: F401
