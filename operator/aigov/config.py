"""Operator configuration: one typed object, read once from the environment at start-up.

Every field is documented here, and the Helm chart sets the same environment variables, so
this file is the reference for what can be configured.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aigov.election import Timing, TimingError


class ConfigError(ValueError):
    """An environment variable holds a value aigov cannot use."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}={value!r}: expected true or false")


_RISK_CLASSES = ("minimal", "limited", "high", "prohibited")


def _risk_classes(value: str, name: str = "AIGOV_PLACEMENT_REQUIRED_FOR") -> tuple[str, ...]:
    classes = _split(value)
    unknown = [c for c in classes if c not in _RISK_CLASSES]
    if unknown:
        raise ConfigError(
            f"{name}={value!r}: {', '.join(unknown)} not among {', '.join(_RISK_CLASSES)}"
        )
    return classes


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r}: expected an integer") from exc
    if not low <= number <= high:
        raise ConfigError(f"{name}={number}: expected {low}..{high}")
    return number


_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _name(name: str, value: str) -> str:
    """An object name (RFC 1123 subdomain) or empty."""
    if value and (len(value) > 253 or not _DNS_NAME.fullmatch(value)):
        raise ConfigError(f"{name}={value!r}: expected a lowercase DNS name such as aigov")
    return value


def _seconds(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r}: expected a number of seconds") from exc
    if not 0 < number <= 3600:
        raise ConfigError(f"{name}={value!r}: expected more than 0 and at most 3600 seconds")
    return number


def _timing(e: Mapping[str, str], default: Timing) -> Timing:
    """The three lease timings, each checked, then checked together (election.Timing)."""
    names = (
        ("AIGOV_LEASE_DURATION_SECONDS", default.lease_duration),
        ("AIGOV_LEASE_RENEW_DEADLINE_SECONDS", default.renew_deadline),
        ("AIGOV_LEASE_RETRY_PERIOD_SECONDS", default.retry_period),
    )
    values = [_seconds(name, e.get(name, f"{value:g}")) for name, value in names]
    try:
        return Timing(*values)
    except TimingError as exc:
        raise ConfigError(f"lease timings: {exc}") from exc


_REPORTS = ("openreports", "wgpolicy", "off")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    picked = value.strip().lower()
    if picked not in choices:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(choices)}")
    return picked


@dataclass(frozen=True)
class Settings:
    """What an aigov operator process needs to know; see `from_env` for the variables."""

    namespace: str = "aigov-system"
    """The operator's own namespace (AIGOV_NAMESPACE). Never intercepted by the webhooks."""

    webhook_host: str = "127.0.0.1"
    """Address the webhook server listens on (AIGOV_WEBHOOK_HOST)."""

    webhook_port: int = 9443
    """HTTPS port of the webhook server (AIGOV_WEBHOOK_PORT)."""

    cert_dir: Path | None = None
    """Directory with tls.crt, tls.key and ca.crt (AIGOV_CERT_DIR), e.g. a mounted Secret
    kept fresh by cert-manager; kopf reloads the files when they change. When unset, a CA and
    serving certificate are made at start-up (local runs)."""

    manage_webhooks: bool = False
    """Write the webhook configurations at start-up, pointing at this process
    (AIGOV_MANAGE_WEBHOOKS). For local runs; in a cluster the Helm chart renders them."""

    webhook_config_name: str = "aigov-local"
    """Name of the webhook configurations written when manage_webhooks is on, or rendered
    by the Helm chart (which sets it): the operator scopes the mutating one's workload entry
    (AIGOV_WEBHOOK_CONFIG_NAME)."""

    failure_policy: str = "Fail"
    """failurePolicy of managed webhook configurations (AIGOV_FAILURE_POLICY): Fail keeps
    governed namespaces closed when aigov is down; Ignore keeps them open."""

    admin_groups: tuple[str, ...] = ("system:masters", "aigov-admins")
    """Groups whose members may set or remove the aigov.io/mode label of a namespace
    (AIGOV_ADMIN_GROUPS, comma-separated)."""

    operator_users: tuple[str, ...] = ()
    """Users allowed to write aigov.io/ stamps and status (AIGOV_OPERATOR_USERS): the
    operator's own identity, e.g. system:serviceaccount:aigov-system:aigov."""

    health_port: int = 8080
    """Port of the liveness/readiness endpoint (AIGOV_HEALTH_PORT); 0 disables it."""

    log_level: str = "INFO"
    """Python log level name (AIGOV_LOG_LEVEL)."""

    stop_workloads: bool = False
    """When a model may no longer run, also bring its running workloads to a safe state
    (AIGOV_STOP_WORKLOADS): scale Deployments, StatefulSets and ReplicaSets to 0 (the count
    before is kept in annotation aigov.io/replicas-before-stop) and suspend Jobs and CronJobs.
    Off by default: flagging and refusing new pods is the default reaction (EU AI Act Art. 14
    'stop' on demand; Art. 26(5) suspension)."""

    placement_required_for: tuple[str, ...] = ("high",)
    """Risk classes whose models must name an existing PlacementPolicy
    (AIGOV_PLACEMENT_REQUIRED_FOR, comma-separated: minimal, limited, high, prohibited)."""

    excluded_namespaces: tuple[str, ...] = field(default=("kube-system",))
    """Namespaces never intercepted besides the operator's own (AIGOV_EXCLUDED_NAMESPACES)."""

    pod_name: str = field(default_factory=socket.gethostname)
    """This replica's name (POD_NAME, from the pod's metadata.name in the chart; the host
    name when unset). The Lease names its holder by it plus a random suffix, so two
    processes never share an identity."""

    lease_name: str = "aigov"
    """Name of the coordination.k8s.io Lease the replicas elect a leader in
    (AIGOV_LEASE_NAME): only its holder runs the model reconcilers. The chart names it after
    the release; local runs (tools.controlplane.operator) after their webhook configuration."""

    lease_namespace: str = "default"
    """Namespace of that Lease (AIGOV_LEASE_NAMESPACE): the release namespace in the chart
    (a Role there grants get, create and update on this one Lease); `default` for local runs,
    which exists in every cluster."""

    lease_timing: Timing = field(default_factory=Timing)
    """Lease duration, renew deadline and retry period in seconds
    (AIGOV_LEASE_DURATION_SECONDS, AIGOV_LEASE_RENEW_DEADLINE_SECONDS,
    AIGOV_LEASE_RETRY_PERIOD_SECONDS; controller-runtime's 15, 10 and 2 by default). A
    leader that stops gracefully hands over at once; one that dies is replaced within the
    lease duration plus a retry period."""

    engines_file: Path | None = None
    """A YAML file of serving engines that extends or overrides (by name) the packaged
    table aigov/data/engines.yaml (AIGOV_ENGINES_FILE); the Helm chart mounts it from a
    ConfigMap made of values `engines.extra`. Read once at start-up; a bad file stops
    the operator with a message naming it."""

    accelerator_resources: tuple[str, ...] = ()
    """More extended resource names that are accelerators (AIGOV_ACCELERATOR_RESOURCES,
    comma-separated; a trailing * matches a prefix, e.g. example.com/npu*), added to the
    built-in list (policy/gpu.py DEFAULT_ACCELERATOR_RESOURCES)."""

    gpu_runtime_classes: tuple[str, ...] = ("nvidia", "nvidia-cdi", "nvidia-legacy")
    """RuntimeClass names that hand a pod GPUs (AIGOV_GPU_RUNTIME_CLASSES,
    comma-separated): a pod using one is an AI workload even without a GPU request."""

    access_restricted_for: tuple[str, ...] = ("high",)
    """Risk classes whose models' running pods nobody may enter (kubectl exec, attach,
    port-forward) in an enforce namespace unless in a break-glass group
    (AIGOV_ACCESS_RESTRICTED_FOR, comma-separated: minimal, limited, high, prohibited; empty
    restricts nothing). A shell in a high-risk model's pod can change what it serves or read
    the data it sees, outside every record (EU AI Act Art. 12, 14)."""

    break_glass_groups: tuple[str, ...] = ("aigov-break-glass",)
    """Groups whose members may exec, attach or port-forward into pods of restricted models
    (AIGOV_BREAK_GLASS_GROUPS, comma-separated). Every such access is a decision record and
    an audit annotation, allowed or not."""

    reports: str = "openreports"
    """Which policy reports the operator keeps, one per governed workload (AIGOV_REPORTS):
    openreports (openreports.io/v1alpha1 Report), wgpolicy (wgpolicyk8s.io/v1alpha2
    PolicyReport, for clusters on Kyverno's defaults) or off. The CRD is never installed by
    aigov; when it is absent the operator says so once and carries on."""

    resync_seconds: int = 300
    """Seconds between a model's reconcile passes when nothing wakes it
    (AIGOV_RESYNC_SECONDS, 5..86400; each model's interval is spread by up to 10% so 10,000
    models do not pass at once). Passes run at once on every change of the model, its
    assessments and approvals, its pods and the placement policies, and when an expiry
    comes due; the resync is the net for what no watch reports (a Job labelled for the
    model, say), so it is a floor of freshness, not the normal path."""

    reconcile_concurrency: int = 4
    """How many model passes may talk to the API server at once (AIGOV_RECONCILE_CONCURRENCY,
    1..64). Each pass lists the model's workloads of every kind; with 1,000 models taking
    over at once (a new leader), an unbounded burst queued tens of thousands of calls."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default os.environ); raise ConfigError on bad values."""
        e = os.environ if env is None else env
        d = cls()
        cert_dir = e.get("AIGOV_CERT_DIR")
        engines_file = e.get("AIGOV_ENGINES_FILE", "").strip()
        failure_policy = e.get("AIGOV_FAILURE_POLICY", d.failure_policy)
        if failure_policy not in {"Fail", "Ignore"}:
            raise ConfigError(f"AIGOV_FAILURE_POLICY={failure_policy!r}: expected Fail or Ignore")
        return cls(
            namespace=e.get("AIGOV_NAMESPACE", d.namespace),
            webhook_host=e.get("AIGOV_WEBHOOK_HOST", d.webhook_host),
            webhook_port=_int(
                "AIGOV_WEBHOOK_PORT", e.get("AIGOV_WEBHOOK_PORT", str(d.webhook_port)), 1, 65535
            ),
            cert_dir=Path(cert_dir) if cert_dir else None,
            manage_webhooks=_bool("AIGOV_MANAGE_WEBHOOKS", e.get("AIGOV_MANAGE_WEBHOOKS", "")),
            webhook_config_name=e.get("AIGOV_WEBHOOK_CONFIG_NAME", d.webhook_config_name),
            failure_policy=failure_policy,
            admin_groups=_split(e.get("AIGOV_ADMIN_GROUPS", ",".join(d.admin_groups))),
            operator_users=_split(e.get("AIGOV_OPERATOR_USERS", "")),
            health_port=_int(
                "AIGOV_HEALTH_PORT", e.get("AIGOV_HEALTH_PORT", str(d.health_port)), 0, 65535
            ),
            log_level=e.get("AIGOV_LOG_LEVEL", d.log_level).upper(),
            stop_workloads=_bool("AIGOV_STOP_WORKLOADS", e.get("AIGOV_STOP_WORKLOADS", "")),
            placement_required_for=_risk_classes(
                e.get("AIGOV_PLACEMENT_REQUIRED_FOR", ",".join(d.placement_required_for))
            ),
            excluded_namespaces=_split(
                e.get("AIGOV_EXCLUDED_NAMESPACES", ",".join(d.excluded_namespaces))
            ),
            pod_name=e.get("POD_NAME", "").strip() or d.pod_name,
            lease_name=_name("AIGOV_LEASE_NAME", e.get("AIGOV_LEASE_NAME", d.lease_name).strip())
            or d.lease_name,
            lease_namespace=_name(
                "AIGOV_LEASE_NAMESPACE", e.get("AIGOV_LEASE_NAMESPACE", d.lease_namespace).strip()
            )
            or d.lease_namespace,
            lease_timing=_timing(e, d.lease_timing),
            engines_file=Path(engines_file) if engines_file else None,
            accelerator_resources=_split(e.get("AIGOV_ACCELERATOR_RESOURCES", "")),
            gpu_runtime_classes=_split(
                e.get("AIGOV_GPU_RUNTIME_CLASSES", ",".join(d.gpu_runtime_classes))
            ),
            access_restricted_for=_risk_classes(
                e.get("AIGOV_ACCESS_RESTRICTED_FOR", ",".join(d.access_restricted_for)),
                "AIGOV_ACCESS_RESTRICTED_FOR",
            ),
            break_glass_groups=_split(
                e.get("AIGOV_BREAK_GLASS_GROUPS", ",".join(d.break_glass_groups))
            ),
            reports=_choice("AIGOV_REPORTS", e.get("AIGOV_REPORTS", d.reports), _REPORTS),
            resync_seconds=_int(
                "AIGOV_RESYNC_SECONDS",
                e.get("AIGOV_RESYNC_SECONDS", str(d.resync_seconds)),
                5,
                86400,
            ),
            reconcile_concurrency=_int(
                "AIGOV_RECONCILE_CONCURRENCY",
                e.get("AIGOV_RECONCILE_CONCURRENCY", str(d.reconcile_concurrency)),
                1,
                64,
            ),
        )

    @property
    def never_intercepted(self) -> tuple[str, ...]:
        """Namespaces whose objects the webhooks never judge: kube-system and our own.

        kube-system is always included, even when AIGOV_EXCLUDED_NAMESPACES lists others:
        a broken aigov must never stop the cluster from repairing itself.
        """
        return tuple(dict.fromkeys(("kube-system", *self.excluded_namespaces, self.namespace)))
