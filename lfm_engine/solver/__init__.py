"""The clip solver: one consistent motion over a clip from per-frame lifted 3D and 2D detections (issue 16).

* :mod:`.clip`: :func:`solve_clip`, :class:`SolverSettings`, :class:`ClipSolution` (the entry point);
* :mod:`.problem`: the robust least-squares problem over the clip (depths along camera rays, bone lengths);
* :mod:`.track2d`: the 2D tracks the rays go through;
* :mod:`.contacts`: feet, contact detection and per-frame overrides;
* :mod:`.ground`: the ground plane and the world standing on it;
* :mod:`.banded`: block-banded Cholesky in numpy (no scipy: the add-on runs inside Blender);
* :mod:`.metrics`: foot slide, floor penetration, jerk, reprojection and bone-length errors.
"""

from .clip import ClipSolution, SolverSettings, solve_clip
from .contacts import ALWAYS, AUTO, CONTACT_MODES, NEVER, Foot, find_feet
from .problem import Weights

__all__ = [
    "ALWAYS",
    "AUTO",
    "CONTACT_MODES",
    "NEVER",
    "ClipSolution",
    "Foot",
    "SolverSettings",
    "Weights",
    "find_feet",
    "solve_clip",
]
