"""What the admission service may read: the in-memory indexes, behind a typed view.

A Protocol, so the rules stay pure: the operator implements it over kopf's live indexes
(aigov.handlers.indexes.KopfIndexView), tests over plain dictionaries. Every method is a
dictionary lookup or a cached value; none calls the API server.
"""

from __future__ import annotations

from typing import Protocol

from aigov.api.constants import Mode
from aigov.policy.placement import PlacementContext
from aigov.policy.signing import Signer
from aigov.policy.standing import Evidence
from aigov.policy.workload import Workload


class IndexView(Protocol):
    """The cluster as the watches last delivered it."""

    def knows_namespace(self, namespace: str) -> bool:
        """Whether the namespace's watch event has arrived."""
        ...

    def mode(self, namespace: str) -> Mode | None:
        """The namespace's aigov.io/mode (None: not governed, or unknown value)."""
        ...

    def requires_signatures(self, namespace: str) -> bool:
        """aigov.io/require-signed-approvals=true on the namespace."""
        ...

    def evidence(self, namespace: str, name: str) -> Evidence:
        """Everything known about model `name` in `namespace`."""
        ...

    def pod_model(self, namespace: str, name: str) -> str | None:
        """The model a labelled pod names (exec/attach/binding carry only the pod's name)."""
        ...

    def scaled(self, resource: str, namespace: str, name: str) -> Workload | None:
        """The object a scale request scales; None if its kind has no index or not yet seen."""
        ...

    def placement(self) -> PlacementContext:
        """The placement rule's view (policies, nodes); cached until they change."""
        ...

    def signers(self) -> tuple[Signer, ...]:
        """Every TrustedSigner whose key loads."""
        ...
