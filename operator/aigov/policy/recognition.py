"""What aigov recognises in a workload: serving engines and the ways to an accelerator.

Both are configuration a platform team extends (the engine table, accelerator resource
names, GPU runtime classes); the process reads them once at start-up (see
``aigov.recognition_from``) and hands one Recognition to every rule that needs it. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aigov.api.engines import EngineTable, builtin_engines
from aigov.policy.gpu import DEFAULT_RULES, AcceleratorRules


@dataclass(frozen=True)
class Recognition:
    """The engine table and the accelerator rules in force."""

    engines: EngineTable = field(default_factory=builtin_engines)
    """Serving engines and the fields that name weights; default: the packaged table."""
    accelerators: AcceleratorRules = DEFAULT_RULES
    """Accelerator resources and GPU runtime classes; default: the built-in lists."""
