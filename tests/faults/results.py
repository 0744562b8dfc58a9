"""What each fault cost, collected while the suite runs and written once at its end:
a table on the terminal and `.cache/faults/results.json` (the README quotes them)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FaultResult:
    """One fault's numbers. Seconds are measured from `recovery` (see the test's docstring)."""

    fault: str
    recovery: str
    """The instant the times are measured from, in words."""
    wrongly_allowed: int = 0
    """Ungoverned GPU workloads admitted in the enforce namespace: must be 0."""
    probes: dict[str, int] = field(default_factory=dict)
    """Ungoverned probes by outcome (refused, failed-closed, unavailable, allowed)."""
    ready_s: float | None = None
    """Until a restarted operator answered /readyz (None: the operator ran on)."""
    admission_s: float | None = None
    """Until aigov refused an ungoverned probe and admitted a governed one again."""
    converged_s: float | None = None
    """Until every workload of the revoked model was flagged and stopped."""
    flagged_at_fault: int | None = None
    """Workloads already flagged when the fault struck (shows it struck mid-pass)."""
    workloads: int = 0
    history_intact: bool = False
    """Every entry before the fault kept, exactly the expected ones added, none twice."""


@dataclass
class Results:
    items: list[FaultResult] = field(default_factory=list)

    def add(self, result: FaultResult) -> None:
        self.items.append(result)

    def table(self) -> str:
        def secs(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        head = f"{'fault':<34} {'wrongly allowed':>15} {'probes':>7} {'ready s':>7} "
        head += f"{'admission s':>11} "
        head += f"{'converged s':>11} {'history':>8}"
        lines = [head, "-" * len(head)]
        for r in self.items:
            lines.append(
                f"{r.fault:<34} {r.wrongly_allowed:>15} {sum(r.probes.values()):>7} "
                f"{secs(r.ready_s):>7} {secs(r.admission_s):>11} {secs(r.converged_s):>11} "
                f"{'intact' if r.history_intact else 'BROKEN':>8}"
            )
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(r) for r in self.items], indent=2) + "\n")
