"""lfm_engine: lift 2D keypoints of any skeleton to 3D with 3D-LFM (Dabhi, Jeni and Lucey, CVPR 2024).

Pure Python (numpy; torch when available); never imports ``bpy``. Importing this package is cheap: torch is
imported only when a torch-backed :class:`Lifter` is made.

>>> from lfm_engine import Lifter, get_rig
>>> points3d = Lifter.from_pretrained().lift(points2d, edges=get_rig("coco17"))
"""

from .config import ModelConfig
from .errors import DependencyError, InputError, LFMError, RigError, WeightsError
from .layouts import available_rigs, get_rig
from .lifter import Lifter
from .rig import Rig
from .weights import Weights, load_weights, save_weights

__version__ = "0.1.0"

__all__ = [
    "DependencyError",
    "InputError",
    "LFMError",
    "Lifter",
    "ModelConfig",
    "Rig",
    "RigError",
    "Weights",
    "WeightsError",
    "available_rigs",
    "get_rig",
    "load_weights",
    "save_weights",
]
