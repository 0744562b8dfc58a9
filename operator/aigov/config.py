"""Operator configuration: one typed object, read once from the environment at start-up.

Every field is documented here, and the Helm chart sets the same environment variables, so
this file is the reference for what can be configured.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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

    peering: str = ""
    """Name of the ClusterKopfPeering (kopf.dev) shared by the replicas (AIGOV_PEERING).
    Empty (the default, and `make run`) runs standalone: this process reconciles whatever
    else runs. With a name, the replicas keep alive in that object and only the one with the
    highest priority reconciles; the Helm chart sets it when replicaCount > 1. The object
    must exist (the chart creates it); a missing one keeps every replica paused."""

    peering_priority: int = 0
    """This replica's priority in the peering (AIGOV_PEERING_PRIORITY, 0..2147483647): the
    highest live one reconciles. 0 (the default) draws a random one at start-up, so that no
    two replicas tie (kopf pauses every replica of a tie). Pin it to prefer a replica, or
    to let a debugging operator take over reconciling from the in-cluster ones."""

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
            peering=_name("AIGOV_PEERING", e.get("AIGOV_PEERING", d.peering).strip()),
            peering_priority=_int(
                "AIGOV_PEERING_PRIORITY",
                e.get("AIGOV_PEERING_PRIORITY", str(d.peering_priority)),
                0,
                2**31 - 1,
            ),
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
        )

    @property
    def never_intercepted(self) -> tuple[str, ...]:
        """Namespaces whose objects the webhooks never judge: kube-system and our own.

        kube-system is always included, even when AIGOV_EXCLUDED_NAMESPACES lists others:
        a broken aigov must never stop the cluster from repairing itself.
        """
        return tuple(dict.fromkeys(("kube-system", *self.excluded_namespaces, self.namespace)))
