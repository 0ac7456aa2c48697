"""The load engine: per-workload open-loop arrivals, in-flight caps, live config, start/stop."""

from loadgen.engine.core import REASON_INTERNAL, REASON_STOPPED, Engine
from loadgen.engine.settings import EngineSettings

__all__ = ["REASON_INTERNAL", "REASON_STOPPED", "Engine", "EngineSettings"]
