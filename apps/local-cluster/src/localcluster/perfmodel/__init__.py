"""Performance profiles for the local mocker workers: a physics model bounded by calibration.md.

Entry point: `hardware_profile(name)` -> `HardwareProfile` (mocker flags per worker role, NPZ
timing tables, KV capacity, worker start time). `python -m localcluster.perfmodel.fidelity`
prints the model's prediction next to every measured point and engine figure.
"""

from __future__ import annotations

from localcluster.perfmodel.errors import PerfModelError, ProfileFitError, UnknownProfileError
from localcluster.perfmodel.profiles import (
    DEV_PROFILE,
    PROD_PROFILE,
    PROFILE_NAMES,
    HardwareProfile,
    Role,
    hardware_profile,
)

__all__ = [
    "DEV_PROFILE",
    "PROD_PROFILE",
    "PROFILE_NAMES",
    "HardwareProfile",
    "PerfModelError",
    "ProfileFitError",
    "Role",
    "UnknownProfileError",
    "hardware_profile",
]
