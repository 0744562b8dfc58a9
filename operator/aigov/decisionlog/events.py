"""Governance events as records: a model's new history entries, a workload flagged or
stopped, a model deleted, a log started."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aigov.api.models import HistoryEntry
from aigov.decisionlog.controls import controls_for
from aigov.decisionlog.record import GOVERNANCE, governance_fields

TELL_EVENTS = {
    "AigovFlagged": "WorkloadFlagged",
    "AigovStopped": "WorkloadStopped",
    "AigovActionNeeded": "WorkloadNeedsAPerson",
}
"""The reconciler's Event reasons on a workload -> the log's event names."""

KEEP_LOGS = 50
"""Logs (replica runs) whose latest checkpoint the cluster keeps; older ones are dropped
from the ConfigMap (their copies live on in the logs themselves)."""

CHECKPOINT_SUFFIX = ".checkpoint"
VKEY_SUFFIX = ".vkey"


def added(old: Sequence[HistoryEntry], new: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    """The entries `new` has beyond `old`: history is append-only (the oldest may be cut),
    so they follow the last entry `old` ends with."""
    if not old:
        return list(new)
    last = old[-1]
    for i in range(len(new) - 1, -1, -1):
        if new[i] == last:
            return list(new[i + 1 :])
    return [e for e in new if e.time > last.time]


def history_records(
    namespace: str, name: str, model: str, entries: Iterable[HistoryEntry]
) -> list[dict[str, Any]]:
    """One record per new history entry of GovernedModel `namespace/name`."""
    return [
        governance_fields(
            str(entry.event),
            actor=entry.actor,
            kind="GovernedModel",
            namespace=namespace,
            name=name,
            model=model,
            spec_hash=entry.spec_hash,
            api_version="aigov.io/v1alpha1",
        )
        for entry in entries
    ]


def started_fields(previous: dict[str, Any] | None) -> dict[str, Any]:
    """The first record of a log: names the log this replica wrote before, if any, so a
    restart is a link between two logs, not a silent new beginning."""
    fields: dict[str, Any] = {
        "type": GOVERNANCE,
        "outcome": "LogStarted",
        "controls": controls_for(event="LogStarted"),
    }
    if previous is not None:
        fields["previousLog"] = previous
    return fields


def stale_entries(keys: Iterable[str], keep: int = KEEP_LOGS) -> list[str]:
    """ConfigMap keys of the logs beyond the newest `keep` (names start with the run time,
    so they sort oldest first)."""
    stems = sorted(
        {k.rsplit(".", 1)[0] for k in keys if k.endswith((CHECKPOINT_SUFFIX, VKEY_SUFFIX))}
    )
    old = set(stems[: max(0, len(stems) - keep)])
    return sorted(k for k in keys if k.rsplit(".", 1)[0] in old)
