"""Performance profiles for the local mocker workers: a roofline model fitted to calibration.md.

Entry point: `hardware_profile(name)` -> `HardwareProfile` (mocker flags, NPZ timing tables,
KV capacity, worker start time). `python -m localcluster.perfmodel.fidelity` prints the model's
prediction next to every measured figure it was fitted to or checked against.
"""

from __future__ import annotations

from localcluster.perfmodel.errors import PerfModelError, ProfileFitError, UnknownProfileError
from localcluster.perfmodel.profiles import (
    DEV_PROFILE,
    PROD_PROFILE,
    PROFILE_NAMES,
    HardwareProfile,
    hardware_profile,
)

__all__ = [
    "DEV_PROFILE",
    "PROD_PROFILE",
    "PROFILE_NAMES",
    "HardwareProfile",
    "PerfModelError",
    "ProfileFitError",
    "UnknownProfileError",
    "hardware_profile",
]
