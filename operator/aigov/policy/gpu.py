"""Does a workload reach an accelerator, and how many does each of its pods ask for?

A GPU is what makes a workload an AI workload even when it names no model, so detection errs
wide (bypass classes 17 and 18). Extended resources: every ``nvidia.com/*`` resource (whole
GPUs, MIG slices, ``gpu.shared``, vGPU, KubeVirt passthrough names) but NVIDIA's network
devices, any vendor's ``*/gpu``, any domain with ``gpu`` in it (``gpu.intel.com/i915``), the
AI accelerators of a configurable list (AMD, Gaudi, Neuron, TPU, Ascend, ...) and DRA implicit
extended resources (``deviceclass.resource.kubernetes.io/<class>``). Besides resources: DRA
claims (whose device class we cannot see from the pod), ``NVIDIA_VISIBLE_DEVICES`` /
``NVIDIA_DRIVER_CAPABILITIES`` env (the NVIDIA container toolkit hands an unprivileged
container every GPU for ``all``), a GPU ``runtimeClassName``, CDI annotations, privileged
containers, and host paths of GPU device nodes. A quantity of zero is no use; an unreadable
one is.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from aigov.api.constants import GPU_RESOURCE
from aigov.policy.workload import Container, PodTemplate, Quantity, Workload

DEFAULT_ACCELERATOR_RESOURCES: Final = (
    "nvidia.com/*",
    "amd.com/gpu*",
    "gpu.intel.com/*",
    "habana.ai/*",
    "aws.amazon.com/neuron*",
    "google.com/tpu*",
    "deviceclass.resource.kubernetes.io/*",
    "huawei.com/ascend*",
    "cambricon.com/mlu*",
    "qualcomm.com/qaic*",
    "tenstorrent.com/*",
    "furiosa.ai/*",
    "rebellions.ai/*",
)
"""Resource names (exact, or a prefix ending in ``*``; case-insensitive) that are
accelerators whatever they are called: AI accelerators whose names say nothing of GPUs,
every NVIDIA resource, DRA implicit extended resources. AIGOV_ACCELERATOR_RESOURCES adds
more."""
NOT_ACCELERATORS: Final = ("nvidia.com/rdma*", "nvidia.com/hostdev*", "nvidia.com/sriov*")
"""NVIDIA network-operator resources: RDMA and SR-IOV network devices, not accelerators."""
DEFAULT_GPU_RUNTIME_CLASSES: Final = frozenset({"nvidia", "nvidia-cdi", "nvidia-legacy"})
"""RuntimeClasses that inject GPUs (the NVIDIA GPU Operator creates these three)."""
GPU_ENV: Final = ("NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES")
"""Variables the NVIDIA container toolkit reads to hand a container GPUs."""
NO_GPU_VALUES: Final = frozenset({"", "void", "none"})
"""Values of GPU_ENV that hand out no GPU."""
GPU_DEVICE_PATHS: Final = ("/dev/nvidia", "/dev/dri", "/dev/kfd", "/dev/accel", "/dev/neuron")
"""Host path prefixes of accelerator device nodes; ``/`` and ``/dev`` hold them all."""
CDI_PREFIX: Final = "cdi.k8s.io/"
"""Pod annotations that ask the runtime for Container Device Interface devices."""


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(
        name.startswith(p[:-1].lower()) if p.endswith("*") else name == p.lower() for p in patterns
    )


@dataclass(frozen=True)
class AcceleratorRules:
    """What counts as reaching an accelerator; configurable, see config.Settings."""

    resources: tuple[str, ...] = DEFAULT_ACCELERATOR_RESOURCES
    """Resource names or ``prefix*`` patterns that are accelerators."""
    runtime_classes: frozenset[str] = DEFAULT_GPU_RUNTIME_CLASSES
    """RuntimeClass names that hand a pod GPUs."""

    def is_accelerator(self, name: str) -> bool:
        """True for extended resource names that stand for a GPU or another accelerator."""
        return is_accelerator_resource(name, self)


DEFAULT_RULES: Final = AcceleratorRules()

_QUANTITY: Final = re.compile(
    r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<exp>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)"
)
_MAX_QUANTITY_LENGTH: Final = 64
"""Longer strings are refused unread: a huge object must not slow admission (bypass 11)."""
_SUFFIX: Final[dict[str, Decimal]] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
}


class QuantityError(ValueError):
    """A resource quantity that is not a valid Kubernetes quantity, or not a whole count."""


class UseKind(StrEnum):
    """How a pod gets an accelerator."""

    EXTENDED_RESOURCE = "ExtendedResource"
    """A device-plugin resource in requests or limits, e.g. ``nvidia.com/gpu``."""
    RESOURCE_CLAIM = "ResourceClaim"
    """A Dynamic Resource Allocation claim, on the pod or a container."""
    ENV = "Env"
    """``NVIDIA_VISIBLE_DEVICES`` or ``NVIDIA_DRIVER_CAPABILITIES`` set to hand out GPUs."""
    RUNTIME_CLASS = "RuntimeClass"
    """A ``runtimeClassName`` that injects GPUs."""
    CDI = "CDI"
    """A ``cdi.k8s.io/`` annotation naming Container Device Interface devices."""
    PRIVILEGED = "Privileged"
    """A privileged container: it sees every device of its node."""
    HOST_PATH = "HostPath"
    """A hostPath volume of GPU device nodes (or of ``/dev`` or ``/``)."""


@dataclass(frozen=True)
class AcceleratorUse:
    """One place a pod asks for an accelerator."""

    kind: UseKind
    resource: str
    """The resource name (``nvidia.com/mig-1g.10gb``) or the DRA claim name."""
    path: str
    """E.g. ``spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]``."""

    @property
    def is_request(self) -> bool:
        """An extended resource or DRA claim: asked of the scheduler, not taken at run time."""
        return self.kind in {UseKind.EXTENDED_RESOURCE, UseKind.RESOURCE_CLAIM}

    def describe(self) -> str:
        """How a person would say it: ``nvidia.com/gpu`` or ``DRA resource claim "gpu"``."""
        if self.kind is UseKind.RESOURCE_CLAIM:
            return f'DRA resource claim "{self.resource}"' if self.resource else "a DRA claim"
        prefix = {
            UseKind.ENV: "env ",
            UseKind.RUNTIME_CLASS: "runtimeClassName ",
            UseKind.CDI: "CDI annotation ",
            UseKind.PRIVILEGED: "",
            UseKind.HOST_PATH: "hostPath ",
        }.get(self.kind, "")
        return prefix + self.resource


@functools.lru_cache(maxsize=1024)
def is_accelerator_resource(name: str, rules: AcceleratorRules = DEFAULT_RULES) -> bool:
    """True for extended resource names that stand for a GPU or another AI accelerator.

    Memoized: every review asks about the same few names (cpu, memory, nvidia.com/gpu), and
    matching each against some thirty patterns was a tenth of a review's CPU. The bound keeps
    a tenant inventing names from growing it.
    """
    lowered = name.lower()
    domain, slash, resource = lowered.partition("/")
    if not (slash and domain and resource) or _matches(lowered, NOT_ACCELERATORS):
        return False
    if _matches(lowered, rules.resources):
        return True
    if domain == "kubernetes.io" or domain.endswith(".kubernetes.io"):
        return False
    return resource == "gpu" or resource.startswith(("gpu.", "gpu-")) or "gpu" in domain


def find_accelerators(
    template: PodTemplate, rules: AcceleratorRules = DEFAULT_RULES
) -> list[AcceleratorUse]:
    """Every way a pod spec reaches an accelerator, in document order, each with its path."""
    found = [
        AcceleratorUse(UseKind.RESOURCE_CLAIM, c.name, c.path) for c in template.resource_claims
    ]
    found += _resource_uses(
        template.resources.requests, f"{template.path}.resources.requests", rules
    )
    found += _resource_uses(template.resources.limits, f"{template.path}.resources.limits", rules)
    for container in template.all_containers:
        res, base = container.resources, f"{container.path}.resources"
        found += _resource_uses(res.requests, f"{base}.requests", rules)
        found += _resource_uses(res.limits, f"{base}.limits", rules)
        found += [AcceleratorUse(UseKind.RESOURCE_CLAIM, c.name, c.path) for c in res.claims]
    found += _runtime_uses(template, rules)
    return found


def _runtime_uses(template: PodTemplate, rules: AcceleratorRules) -> list[AcceleratorUse]:
    """Ways to a GPU that ask the scheduler for nothing: env, runtime, CDI, devices."""
    found: list[AcceleratorUse] = []
    for container in template.all_containers:
        for var in container.env:
            value = var.value
            if var.name in GPU_ENV and (
                value is None or value.strip().lower() not in NO_GPU_VALUES
            ):
                shown = f"{var.name}={value}" if value is not None else f"{var.name} (valueFrom)"
                found.append(AcceleratorUse(UseKind.ENV, shown, var.value_path))
        if container.privileged:
            found.append(
                AcceleratorUse(
                    UseKind.PRIVILEGED,
                    "a privileged container",
                    f"{container.path}.securityContext.privileged",
                )
            )
    runtime = template.runtime_class_name
    if runtime is not None and runtime in rules.runtime_classes:
        found.append(
            AcceleratorUse(UseKind.RUNTIME_CLASS, runtime, f"{template.path}.runtimeClassName")
        )
    found += [
        AcceleratorUse(UseKind.CDI, key, f"{template.annotations_path}[{key}]")
        for key in template.annotations
        if key.startswith(CDI_PREFIX)
    ]
    for volume in template.volumes:
        if volume.kind == "hostPath" and volume.source and _is_device_path(volume.source):
            found.append(
                AcceleratorUse(UseKind.HOST_PATH, volume.source, f"{volume.path}.hostPath.path")
            )
    return found


def _is_device_path(path: str) -> bool:
    normal = posixpath.normpath("/" + path.strip().lstrip("/"))
    return normal in {"/", "/dev"} or normal.startswith(GPU_DEVICE_PATHS)


def workload_accelerators(
    workload: Workload, rules: AcceleratorRules = DEFAULT_RULES
) -> list[AcceleratorUse]:
    """Accelerator uses across every pod template of a workload."""
    return [use for template in workload.templates for use in find_accelerators(template, rules)]


def accelerators_per_pod(
    template: PodTemplate, rules: AcceleratorRules = DEFAULT_RULES
) -> dict[str, int]:
    """Devices one pod holds, per accelerator resource it names (zeros left out).

    maxGPUsPerPod counts their sum: 56 MIG slices are 56 devices. Raises QuantityError as
    gpus_per_pod does.
    """
    names: dict[str, None] = {}
    for res in [template.resources, *(c.resources for c in template.all_containers)]:
        for name in (*res.requests, *res.limits):
            if is_accelerator_resource(name, rules):
                names[name] = None
    counts = {name: gpus_per_pod(template, name) for name in names}
    return {name: count for name, count in counts.items() if count}


def gpus_per_pod(template: PodTemplate, resource: str = GPU_RESOURCE) -> int:
    """How many ``resource`` devices one pod holds, computed as the scheduler does.

    Per container the larger of request and limit counts (a limit alone implies the request).
    Init containers run one at a time, so the pod needs the larger of the biggest init step and
    the app containers' sum; sidecar init containers (``restartPolicy: Always``) keep running
    and add to both. Pod-level ``spec.resources`` can only raise the figure. Ephemeral
    containers cannot hold resources and are ignored. Model entries of an InferenceService count
    as app containers. Raises QuantityError for a quantity that is not a whole count.
    """
    sidecars, peak = 0, 0
    for container in template.init_containers:
        count = _container_count(container, resource)
        if container.is_sidecar:
            sidecars += count
            peak = max(peak, sidecars)
        else:
            peak = max(peak, sidecars + count)
    apps = sum(_container_count(c, resource) for c in template.containers)
    pod = template.resources
    pod_level = max(
        _count(pod.requests.get(resource), resource, f"{template.path}.resources.requests"),
        _count(pod.limits.get(resource), resource, f"{template.path}.resources.limits"),
    )
    return max(peak, apps + sidecars, pod_level)


def parse_quantity(value: Quantity) -> Decimal:
    """Parse a Kubernetes quantity ("1", 2, "500m", "1Gi", "1e3") to an exact Decimal."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, float) and not math.isfinite(value):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip()
    match = _QUANTITY.fullmatch(text) if len(text) <= _MAX_QUANTITY_LENGTH else None
    if match is None:
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    try:
        number = Decimal(match["num"])
        if match["exp"]:
            return number.scaleb(int(match["exp"][1:]))
        return number * _SUFFIX[match["suffix"] or ""]
    except (ArithmeticError, ValueError) as exc:  # absurd exponents overflow
        raise QuantityError(f"{text!r} is out of range") from exc


def _container_count(container: Container, resource: str) -> int:
    res = container.resources
    return max(
        _count(res.requests.get(resource), resource, f"{container.path}.resources.requests"),
        _count(res.limits.get(resource), resource, f"{container.path}.resources.limits"),
    )


def _count(value: Quantity | None, resource: str, path: str) -> int:
    """A device count: a whole, non-negative quantity. The error names the field to fix."""
    if value is None:
        return 0
    where = f"{path}[{resource}]"
    try:
        number = parse_quantity(value)
    except QuantityError as exc:
        raise QuantityError(f"{where}: {exc}") from exc
    if number < 0 or number != number.to_integral_value():
        raise QuantityError(f"{where}: {resource} must be a whole number of devices, got {value!r}")
    return int(number)


def _resource_uses(
    quantities: Mapping[str, Quantity], path: str, rules: AcceleratorRules
) -> list[AcceleratorUse]:
    """Accelerator names among quantities, skipping explicit zeros (``nvidia.com/gpu: 0``).

    A quantity that does not parse still counts: the API server would refuse it anyway, and
    erring towards "uses a GPU" only ever asks for more governance, never less.
    """
    return [
        AcceleratorUse(UseKind.EXTENDED_RESOURCE, name, f"{path}[{name}]")
        for name, value in quantities.items()
        if is_accelerator_resource(name, rules) and not _is_zero(value)
    ]


def _is_zero(value: Quantity) -> bool:
    try:
        return parse_quantity(value) == 0
    except QuantityError:
        return False
