"""In-memory indexes the admission path reads; kopf keeps them current from watches.

Objects are parsed once here, when their watch event arrives, so an admission decision is
a few dictionary lookups over typed objects.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

import kopf

from aigov import logs
from aigov.api.base import InvalidResource
from aigov.api.constants import (
    GROUP,
    MODE_LABEL,
    MODEL_LABEL,
    REQUIRE_SIGNED_LABEL,
    STOP_LABEL,
    VERSION,
    Mode,
)
from aigov.api.enums import RiskClass
from aigov.api.kinds import workload_kinds
from aigov.api.models import GovernedModel, ModelApproval, PlacementPolicy, RiskAssessment
from aigov.api.signer import TrustedSigner
from aigov.handlers.runtime import Runtime
from aigov.policy.gpu import DEFAULT_RULES, AcceleratorRules
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import NodeInfo, node_info
from aigov.policy.signing import BadKeyError, Signer, signer_of
from aigov.policy.standing import Evidence
from aigov.policy.workload import Workload, parse_workload

log = logs.get("aigov.indexes")


@kopf.index("namespaces")
def namespace_modes(*, name: str, labels: Mapping[str, str], **_: Any) -> dict[str, str | None]:
    """namespace -> its aigov.io/mode label (None when unlabelled)."""
    return {name: labels.get(MODE_LABEL)}


@kopf.index("namespaces")
def namespace_signed(*, name: str, labels: Mapping[str, str], **_: Any) -> dict[str, bool]:
    """namespace -> whether aigov.io/require-signed-approvals=true."""
    return {name: labels.get(REQUIRE_SIGNED_LABEL) == "true"}


@kopf.index("namespaces")
def namespace_stops(*, name: str, labels: Mapping[str, str], **_: Any) -> dict[str, bool]:
    """namespace -> whether aigov.io/stop-on-loss=true: stop workloads of lost models."""
    return {name: labels.get(STOP_LABEL) == "true"}


@kopf.index(GROUP, VERSION, "governedmodels")
def governed_models(
    *, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], GovernedModel | str]:
    """(namespace, name) -> the parsed model, or why it does not parse."""
    key = (namespace or "", name)
    try:
        return {key: GovernedModel.from_body(body)}
    except InvalidResource as exc:
        log.warning("invalid GovernedModel", namespace=namespace, name=name, error=str(exc))
        return {key: str(exc)}


def _decision_index(
    kind: type[RiskAssessment] | type[ModelApproval],
    namespace: str | None,
    name: str,
    body: Mapping[str, Any],
) -> dict[tuple[str, str], RiskAssessment | ModelApproval | str] | None:
    """(namespace, model name) -> the parsed object, or why it cannot be read.

    An object that does not parse is kept as its error, never dropped: it might be a
    revocation, so the model it names must fail closed (see Evidence.unreadable).
    """
    try:
        obj = kind.from_body(body)
    except InvalidResource as exc:
        log.warning(f"invalid {kind.KIND}", namespace=namespace, name=name, error=str(exc))
        ref = (body.get("spec") or {}).get("modelRef") or {}
        model_name = ref.get("name") if isinstance(ref, Mapping) else None
        if not isinstance(model_name, str) or not model_name:
            return None
        return {(namespace or "", model_name): f"{kind.KIND} {name!r} cannot be read: {exc}"}
    return {(namespace or "", obj.spec.model_ref.name): obj}


@kopf.index(GROUP, VERSION, "riskassessments")
def risk_assessments(
    *, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], RiskAssessment | ModelApproval | str] | None:
    """(namespace, model name) -> the RiskAssessments naming that model (or their errors)."""
    return _decision_index(RiskAssessment, namespace, name, body)


@kopf.index(GROUP, VERSION, "modelapprovals")
def model_approvals(
    *, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], RiskAssessment | ModelApproval | str] | None:
    """(namespace, model name) -> the ModelApprovals naming that model (or their errors)."""
    return _decision_index(ModelApproval, namespace, name, body)


def _workload(
    namespace: str | None, name: str, body: Mapping[str, Any]
) -> dict[tuple[str, str], Workload]:
    return {(namespace or "", name): parse_workload(body)}


# Scalable kinds, so a scale subresource request (whose body is only a Scale) can be judged
# against the pod template of the object it scales.
def _scalable(*, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any) -> Any:
    """(namespace, name) -> Workload view of each object of one scalable kind."""
    return _workload(namespace, name, body)


SCALABLE = frozenset(
    k.plural for k in workload_kinds().kinds if "scale" in k.subresources and not k.optional
)
"""Kinds (kinds table) with a scale subresource; each has an index named by its plural.
Only kinds every cluster serves: a kind whose CRD may be absent gets no scale rule either."""
for _plural in sorted(SCALABLE):
    _kind = next(k for k in workload_kinds().kinds if k.plural == _plural)
    kopf.index(_kind.group, _kind.version, _plural, id=_plural)(_scalable)


@kopf.index(GROUP, VERSION, "placementpolicies")
def placement_policies(
    *, name: str, body: Mapping[str, Any], memo: Any, **_: Any
) -> dict[str, PlacementPolicy] | None:
    """name -> the parsed PlacementPolicy (cluster-scoped)."""
    _placement_changed(memo)
    try:
        return {name: PlacementPolicy.from_body(body)}
    except InvalidResource as exc:
        log.warning("invalid PlacementPolicy", name=name, error=str(exc))
        return None


@kopf.index(GROUP, VERSION, "trustedsigners")
def trusted_signers(*, name: str, body: Mapping[str, Any], **_: Any) -> dict[str, Signer] | None:
    """name -> the TrustedSigner with its key loaded; one that does not load signs nothing."""
    try:
        return {name: signer_of(TrustedSigner.from_body(body))}
    except (InvalidResource, BadKeyError) as exc:
        log.warning("invalid TrustedSigner", name=name, error=str(exc))
        return None


def signers(indices: Mapping[str, Any]) -> tuple[Signer, ...]:
    """Every TrustedSigner whose key loads."""
    return tuple(signer for store in indices["trusted_signers"].values() for signer in store)


def requires_signatures(indices: Mapping[str, Any], namespace: str) -> bool:
    """Whether the namespace is labelled aigov.io/require-signed-approvals=true."""
    return any(indices["namespace_signed"].get(namespace, []))


@kopf.index("nodes")
def nodes(*, name: str, body: Mapping[str, Any], memo: Any, **_: Any) -> dict[str, NodeInfo]:
    """node name -> its labels and taints, for the placement rule and status.workloads."""
    _placement_changed(memo)
    return {name: node_info(body)}


def _placement_changed(memo: Any) -> None:
    """A node or PlacementPolicy changed: the cached placement view is stale."""
    runtime: Runtime | None = getattr(memo, "runtime", None)
    if runtime is not None:
        runtime.placement_generation += 1


@kopf.on.event("nodes")
async def node_event(*, memo: Any, **_: Any) -> None:
    """Deletions reach no indexer: this handler invalidates the placement view for them."""
    _placement_changed(memo)


@kopf.on.event(GROUP, VERSION, "placementpolicies")
async def placement_policy_event(*, memo: Any, **_: Any) -> None:
    """See node_event."""
    _placement_changed(memo)


@kopf.index("pods", labels={MODEL_LABEL: kopf.PRESENT})
def model_pods(
    *, namespace: str | None, name: str, labels: Mapping[str, str], **_: Any
) -> dict[tuple[str, str], str]:
    """(namespace, pod name) -> the model its aigov.io/model label names: an exec, attach or
    port-forward request carries only the pod's name, and admission never asks the API
    server."""
    return {(namespace or "", name): labels[MODEL_LABEL]}


def pod_model(indices: Mapping[str, Any], namespace: str, name: str) -> str | None:
    """The model pod `namespace/name` names, if it is a labelled pod aigov has seen."""
    return next(iter(indices["model_pods"].get((namespace, name), [])), None)


def placement_context(
    indices: Mapping[str, Any],
    required_for: tuple[str, ...],
    accelerators: AcceleratorRules = DEFAULT_RULES,
) -> PlacementContext:
    """The placement rule's view of the cluster, from the indexes."""
    policies = {
        name: policy for name, store in indices["placement_policies"].items() for policy in store
    }
    node_list = [node for store in indices["nodes"].values() for node in store]
    return PlacementContext(
        policies=policies,
        nodes=node_list,
        required_for=frozenset(RiskClass(c) for c in required_for),
        accelerators=accelerators,
    )


def evidence(indices: Mapping[str, Any], namespace: str, name: str) -> Evidence:
    """Everything the indexes hold about model `name` in `namespace`."""
    key = (namespace, name)
    found = list(indices["governed_models"].get(key, []))
    model = next((m for m in found if isinstance(m, GovernedModel)), None)
    invalid = next((m for m in found if isinstance(m, str)), None)
    assessments = list(indices["risk_assessments"].get(key, []))
    approvals = list(indices["model_approvals"].get(key, []))
    return Evidence(
        namespace=namespace,
        name=name,
        model=model,
        invalid=invalid if model is None else None,
        assessments=tuple(a for a in assessments if isinstance(a, RiskAssessment)),
        approvals=tuple(a for a in approvals if isinstance(a, ModelApproval)),
        unreadable=tuple(sorted(e for e in [*assessments, *approvals] if isinstance(e, str))),
    )


def scaled_parent(
    indices: Mapping[str, Any], resource: str, namespace: str, name: str
) -> Workload | None:
    """The object a scale request scales, from its index; None if not (yet) known."""
    if resource not in SCALABLE:
        return None
    return next(iter(indices[resource].get((namespace, name), [])), None)


class KopfIndexView:
    """The admission service's IndexView (aigov.admission.view) over kopf's live indexes.

    kopf hands every handler, start-up ones included, the same live index objects; this
    wraps them once, so the index names appear here only. The placement view is rebuilt
    only after a node or PlacementPolicy event (Runtime.placement_generation), not per
    request: with 1,000 nodes that list is the largest thing a review would copy.
    """

    def __init__(self, indices: Mapping[str, Any], runtime: Runtime) -> None:
        self._indices = indices
        self._runtime = runtime
        self._modes = indices["namespace_modes"]
        self._signed = indices["namespace_signed"]
        self._pods = indices["model_pods"]
        self._required_for = runtime.settings.placement_required_for
        self._accelerators = runtime.recognition.accelerators
        self._placement: PlacementContext | None = None
        self._placement_generation = -1

    def knows_namespace(self, namespace: str) -> bool:
        return namespace in self._modes

    def mode(self, namespace: str) -> Mode | None:
        values = {m.value for m in Mode}
        return next((Mode(v) for v in self._modes.get(namespace, []) if v in values), None)

    def requires_signatures(self, namespace: str) -> bool:
        return any(self._signed.get(namespace, []))

    def evidence(self, namespace: str, name: str) -> Evidence:
        return evidence(self._indices, namespace, name)

    def pod_model(self, namespace: str, name: str) -> str | None:
        return next(iter(self._pods.get((namespace, name), [])), None)

    def scaled(self, resource: str, namespace: str, name: str) -> Workload | None:
        return scaled_parent(self._indices, resource, namespace, name)

    def placement(self) -> PlacementContext:
        generation = self._runtime.placement_generation
        if self._placement is None or generation != self._placement_generation:
            self._placement = placement_context(
                self._indices, self._required_for, self._accelerators
            )
            self._placement_generation = generation
        return self._placement

    def signers(self) -> tuple[Signer, ...]:
        return signers(self._indices)


def _not_yet_indexed(*, memo: Any, **_: Any) -> bool:
    runtime: Runtime = memo.runtime
    return not runtime.indexed.is_set()


@kopf.on.event("namespaces", when=_not_yet_indexed)
async def mark_indexed(*, memo: Any, **_: Any) -> None:
    """kopf calls event handlers only after every index is pre-populated: we are ready.

    The filter turns the handler off once it has fired, so namespace events cost nothing.
    What the indexes loaded lives as long as the process: moving it out of the collector's
    sight (gc.freeze) keeps full collections, which pause every request, from walking it.
    """
    runtime: Runtime = memo.runtime
    gc.collect()
    gc.freeze()
    runtime.indexed.set()
