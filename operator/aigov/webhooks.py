"""Which API requests aigov's webhooks receive, and the configurations that route them.

One description serves both the handler registration (handlers/) and the webhook
configurations the operator writes for local runs; the Helm chart renders the same rules and
a test compares them (the reserved-pool webhook's matchConditions reach the chart through
charts/aigov/files/match-conditions.json, written by tools/match_conditions.py). The
configurations exclude kube-system and the operator's namespace, so a broken aigov can never
stop the cluster from repairing itself.

Governed namespaces send every workload request (workloads.aigov.io): there aigov recognises
AI workloads by rules CEL would have to duplicate (the engine table, configurable accelerator
names), and a request filtered out by mistake would be a governance hole. Every other
namespace sends only what could reach a reserved GPU pool (reserved.aigov.io, filtered by
match_conditions), and exec/attach/port-forward in governed namespaces go to access.aigov.io.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aigov.api.constants import MODE_LABEL, MODEL_LABEL, Mode
from aigov.api.kinds import Shape, workload_kinds


@dataclass(frozen=True)
class Resource:
    """An API resource aigov judges, with the subresources it also judges."""

    group: str
    version: str
    plural: str
    subresources: tuple[str, ...] = ()

    @property
    def rule_resources(self) -> list[str]:
        return [self.plural, *(f"{self.plural}/{s}" for s in self.subresources)]


WORKLOAD_RESOURCES: tuple[Resource, ...] = tuple(
    Resource(k.group, k.version, k.plural, tuple(k.subresources)) for k in workload_kinds().kinds
)
"""Every workload kind of the kinds table (aigov/data/kinds.yaml), with its subresources."""

VALIDATE_WORKLOADS = "validate-workloads"
MUTATE_WORKLOADS = "mutate-workloads"
VALIDATE_NAMESPACES = "validate-namespaces"
NAMESPACE_RESOURCE = Resource("", "v1", "namespaces", ("status", "finalize"))
"""Namespaces, with the subresources that write their labels too."""
MUTATE_GOVERNANCE = "mutate-governance"
VALIDATE_GOVERNANCE = "validate-governance"
VALIDATE_RESERVED = "validate-reserved"
VALIDATE_ACCESS = "validate-access"
VALIDATE_BINDINGS = "validate-bindings"
SCHEDULER = "system:kube-scheduler"
"""Binds pods where their judged spec allows: its bindings need no second look."""

STAMPED_RESOURCES: tuple[Resource, ...] = tuple(
    Resource("aigov.io", "v1alpha1", plural)
    for plural in ("governedmodels", "riskassessments", "modelapprovals")
)
"""aigov's kinds that carry identity stamps (who authored, assessed, approved)."""
GOVERNANCE_RESOURCES: tuple[Resource, ...] = (
    *STAMPED_RESOURCES,
    Resource("aigov.io", "v1alpha1", "trustedsigners"),
)
"""aigov's kinds the validating webhook reads: what it admits, the operator can parse."""


_BUILT_IN = tuple(k for k in workload_kinds().kinds if not k.optional)

RESERVED_POOL_RESOURCES: tuple[Resource, ...] = tuple(
    Resource(k.group, k.version, k.plural, tuple(s for s in k.subresources if s != "scale"))
    for k in _BUILT_IN
)
"""What the reserved-pool webhook judges in namespaces without aigov.io/mode: Pods (every
workload's pods come through as Pods, whatever made them) and the built-in controllers of the
kinds table, so that the refusal lands on the object the user applied (a Scale holds no pod
spec: its pods are judged). Each has its pod spec in POD_SPEC_PATHS; a resource missing
there is always sent (see match_conditions)."""

POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    k.plural: ("spec",) if k.shape is Shape.POD else (*k.templates[0].split("."), "spec")
    for k in _BUILT_IN
}
"""Resource plural -> the fields from the object to its pod spec, for the CEL conditions."""

ACCESS_RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "pods", ("exec", "attach", "portforward")),
)
"""Ways into a running pod (CONNECT): refused on pods of restricted models (policy/access.py)."""

BINDING_RESOURCES: tuple[Resource, ...] = (Resource("", "v1", "pods/binding"),)
"""Binding a pending pod to a node (the scheduler's bindings are not sent)."""

NODE_LIFECYCLE_TAINTS = "node.kubernetes.io/"
"""Prefix of the taints the node lifecycle sets (not-ready, unreachable, ...): the API server
adds tolerations of two of them to every Pod, the DaemonSet controller of all of them. A
reserved pool must be tainted with another key (GPU nodes: nvidia.com/gpu)."""

GPU_ENV = ("NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES")


def _has(path: str) -> str:
    """`has()` of every step of `path` (a.b.c -> has(a.b) && has(a.b.c)): CEL's has() errors
    when the parent is missing, and an error in a matchCondition refuses the request
    (failurePolicy Fail), so every access is guarded from the root."""
    parts = path.split(".")
    return " && ".join(f"has({'.'.join(parts[: i + 1])})" for i in range(1, len(parts)))


def _extended(r: str) -> str:
    """The resources block `r` (known to exist) asks for an extended resource (a name with a
    domain: nvidia.com/gpu, amd.com/gpu, deviceclass.resource.kubernetes.io/<class>, ...) or
    holds a DRA claim."""
    return (
        f"(has({r}.limits) && {r}.limits.exists(k, k.contains('/'))) || "
        f"(has({r}.requests) && {r}.requests.exists(k, k.contains('/'))) || "
        f"(has({r}.claims) && size({r}.claims) > 0)"
    )


def _pod_spec_could_matter(s: str) -> str:
    """CEL on the pod spec bound to `s`: it asks for an accelerator or a DRA claim, reaches
    GPUs by env or runtime class, names its node, or tolerates a taint other than the node
    lifecycle's (so it could land on a tainted GPU pool)."""
    env = ", ".join(f"'{name}'" for name in GPU_ENV)
    container = (
        f"(has(c.resources) && ({_extended('c.resources')})) || "
        f"(has(c.env) && c.env.exists(e, has(e.name) && e.name in [{env}]))"
    )
    lists = " || ".join(
        f"(has({s}.{field}) && {s}.{field}.exists(c, {container}))"
        for field in ("containers", "initContainers", "ephemeralContainers")
    )
    return (
        f"{lists} || (has({s}.resourceClaims) && size({s}.resourceClaims) > 0) || "
        f"(has({s}.resources) && ({_extended(s + '.resources')})) || "
        f"has({s}.runtimeClassName) || (has({s}.nodeName) && {s}.nodeName != '') || "
        f"(has({s}.tolerations) && {s}.tolerations.exists(t, !has(t.key) || "
        f"!t.key.startsWith('{NODE_LIFECYCLE_TAINTS}')))"
    )


def _select(paths: Mapping[str, tuple[str, ...]]) -> str:
    """CEL: the object's field at the resource's path, or an empty map when it is absent.

    Bound with `[<this>].exists(s, ...)`: matchConditions have no variables, and a one-item
    list's exists() names a value once without repeating its path in every check.
    """
    by_path: dict[tuple[str, ...], list[str]] = {}
    for plural, steps in paths.items():
        by_path.setdefault(steps, []).append(plural)
    choices = list(by_path.items())
    *tests, (last, _) = choices

    def pick(steps: tuple[str, ...]) -> str:
        path = ".".join(("object", *steps))
        return f"({_has(path)} ? {path} : {{}})"

    result = pick(last)
    for steps, plurals in reversed(tests):
        quoted = ", ".join(f"'{p}'" for p in plurals)
        result = f"(request.resource.resource in [{quoted}] ? {pick(steps)} : {result})"
    return result


def match_conditions() -> list[dict[str, str]]:
    """The reserved-pool webhook's matchConditions: the API server calls aigov only for
    objects that could matter to a reserved pool, and sends nothing for the CPU pods,
    Deployments and Jobs of ungoverned namespaces.

    Sound when every reserved pool is tainted (NoSchedule/NoExecute, a key outside
    node.kubernetes.io/): a pod that tolerates no such taint and sets no nodeName cannot be
    scheduled there, whatever its nodeSelector or affinity, so those are not looked at. The
    operator logs a warning for a reserved node without such a taint (policy/reserved.py
    `untainted`). Everything else that could matter is sent: an extended resource or DRA
    claim, GPU env, any runtimeClassName, a nodeName, a toleration of another taint, the
    aigov.io/model label on the object or its pod template. A resource whose pod spec is
    not in POD_SPEC_PATHS is always sent.

    Expressions are total (has() before every access): Kubernetes refuses a request whose
    matchCondition errors when failurePolicy is Fail (and skips the webhook when Ignore), so
    an expression that could error would refuse requests that never concerned aigov.
    """
    known = ", ".join(f"'{plural}'" for plural in POD_SPEC_PATHS)
    templates = {p: (*steps[:-1], "metadata") for p, steps in POD_SPEC_PATHS.items()}
    labelled = f"has(m.labels) && '{MODEL_LABEL}' in m.labels"
    expression = (
        f"!(request.resource.resource in [{known}]) || "
        f"({_has('object.metadata.labels')} && '{MODEL_LABEL}' in object.metadata.labels) || "
        f"[{_select(templates)}].exists(m, {labelled}) || "
        f"[{_select(POD_SPEC_PATHS)}].exists(s, {_pod_spec_could_matter('s')})"
    )
    return [{"name": "could-reach-a-reserved-pool", "expression": expression}]


def _ungoverned_namespaces(never: tuple[str, ...]) -> dict[str, Any]:
    """Every namespace the workload webhooks do not select (no aigov.io/mode, or a value that
    is no mode), never the excluded ones: together they cover every namespace."""
    return {
        "matchExpressions": [
            {"key": MODE_LABEL, "operator": "NotIn", "values": [m.value for m in Mode]},
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(never)},
        ]
    }


def _not_excluded(never: tuple[str, ...]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(never)},
        ]
    }


def _governed_namespaces(never: tuple[str, ...]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": MODE_LABEL, "operator": "In", "values": [m.value for m in Mode]},
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(never)},
        ]
    }


def _rules(resources: tuple[Resource, ...], operations: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "apiGroups": [r.group],
            "apiVersions": [r.version],
            "resources": r.rule_resources,
            "operations": operations,
            "scope": "*",
        }
        for r in resources
    ]


def _webhook(
    name: str, path: str, client: dict[str, Any], failure_policy: str, **extra: Any
) -> dict[str, Any]:
    config = dict(client)
    if "url" in config:
        config["url"] = config["url"].rstrip("/") + "/" + path
    else:
        config["service"] = {**config["service"], "path": "/" + path}
    return {
        "name": name,
        "clientConfig": config,
        "admissionReviewVersions": ["v1"],
        "sideEffects": "NoneOnDryRun",
        "matchPolicy": "Equivalent",
        "failurePolicy": failure_policy,
        "timeoutSeconds": 10,
        **extra,
    }


def validating_configuration(
    name: str, client: dict[str, Any], never: tuple[str, ...], failure_policy: str
) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration: workloads in governed namespaces, reserved pools
    everywhere else, access to running models, aigov's kinds, namespaces."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "webhooks": [
            _webhook(
                "workloads.aigov.io",
                VALIDATE_WORKLOADS,
                client,
                failure_policy,
                namespaceSelector=_governed_namespaces(never),
                rules=_rules(WORKLOAD_RESOURCES, ["CREATE", "UPDATE"]),
            ),
            _webhook(
                "reserved.aigov.io",
                VALIDATE_RESERVED,
                client,
                failure_policy,
                # Governed namespaces are judged by workloads.aigov.io, reservations included.
                namespaceSelector=_ungoverned_namespaces(never),
                rules=_rules(RESERVED_POOL_RESOURCES, ["CREATE", "UPDATE"]),
                matchConditions=match_conditions(),
                sideEffects="None",
            ),
            _webhook(
                "access.aigov.io",
                VALIDATE_ACCESS,
                client,
                failure_policy,
                # exec, attach and port-forward into pods of restricted models.
                namespaceSelector=_governed_namespaces(never),
                rules=_rules(ACCESS_RESOURCES, ["CONNECT"]),
                sideEffects="None",
            ),
            _webhook(
                "bindings.aigov.io",
                VALIDATE_BINDINGS,
                client,
                failure_policy,
                # A pod bound by hand skips the scheduler and every placement rule.
                namespaceSelector=_not_excluded(never),
                rules=_rules(BINDING_RESOURCES, ["CREATE"]),
                matchConditions=[
                    {
                        "name": "not-the-scheduler",
                        "expression": f"request.userInfo.username != '{SCHEDULER}'",
                    }
                ],
                sideEffects="None",
            ),
            _webhook(
                "governance.aigov.io",
                VALIDATE_GOVERNANCE,
                client,
                failure_policy,
                # Stamps and duties hold in every namespace, governed or not.
                namespaceSelector=_not_excluded(never),
                rules=_rules(GOVERNANCE_RESOURCES, ["CREATE", "UPDATE"]),
                sideEffects="None",
            ),
            _webhook(
                "namespaces.aigov.io",
                VALIDATE_NAMESPACES,
                client,
                failure_policy,
                # The guard sees every namespace whatever its labels (removing the label must
                # not first take the namespace out of its sight), but not the Namespace objects
                # of kube-system and aigov's own: a name never changes, workloads there are
                # never judged anyway, and a down webhook must not block their repair.
                namespaceSelector=_not_excluded(never),
                # status and finalize too: their strategies keep metadata changes, so a
                # writer of either could otherwise remove aigov.io/mode unseen.
                rules=_rules((NAMESPACE_RESOURCE,), ["CREATE", "UPDATE"]),
                sideEffects="None",
            ),
        ],
    }


def mutating_configuration(
    name: str, client: dict[str, Any], never: tuple[str, ...], failure_policy: str
) -> dict[str, Any]:
    """The MutatingWebhookConfiguration: identity stamps, audit annotations on workloads."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "webhooks": [
            _webhook(
                "stamps.aigov.io",
                MUTATE_GOVERNANCE,
                client,
                failure_policy,
                namespaceSelector=_not_excluded(never),
                # UPDATE too: every spec change of a GovernedModel records its editor.
                rules=_rules(STAMPED_RESOURCES, ["CREATE", "UPDATE"]),
                sideEffects="None",
                reinvocationPolicy="Never",
            ),
            _webhook(
                "workloads.aigov.io",
                MUTATE_WORKLOADS,
                client,
                failure_policy,
                namespaceSelector=_governed_namespaces(never),
                # Not the subresources: a Scale or an ephemeral-container update carries
                # no annotations of the object to write to.
                rules=_rules(
                    tuple(Resource(r.group, r.version, r.plural) for r in WORKLOAD_RESOURCES),
                    ["CREATE", "UPDATE"],
                ),
                sideEffects="None",
                # Other mutating webhooks may change the pod spec after us: judge again.
                reinvocationPolicy="IfNeeded",
            ),
        ],
    }
