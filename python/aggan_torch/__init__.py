"""Continue an aggan run in PyTorch: aggan's model, trainer and checkpoint format.

`aggan_torch.train` is the command (`python -m aggan_torch.train --help`); `AGGAN`
and `load_checkpoint` are enough to use a checkpoint's weights from Python.
"""
import warnings

# A torch wheel without numpy warns at import; nothing here uses numpy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

from .model import AGGAN, NETWORKS
from .checkpoint import load_checkpoint, CheckpointError

__all__ = ["AGGAN", "NETWORKS", "load_checkpoint", "CheckpointError"]
__version__ = "0.1.0"
