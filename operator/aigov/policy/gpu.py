"""Does a workload use an accelerator, and how many GPUs does each of its pods ask for?

A GPU is what makes a workload an AI workload even when it names no model, so detection errs
wide: NVIDIA whole GPUs, MIG slices and time-sliced ``gpu.shared`` resources, any vendor's
``*/gpu``, any extended resource from a domain with ``gpu`` in it (``gpu.intel.com/i915``),
a few well-known non-GPU AI accelerators, and Dynamic Resource Allocation claims (whose device
class we cannot see from the pod). A quantity of zero is no use; an unreadable one is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from aigov.api.constants import GPU_RESOURCE
from aigov.policy.workload import Container, PodTemplate, Quantity, Workload

OTHER_ACCELERATORS: Final = frozenset(
    {
        "google.com/tpu",
        "aws.amazon.com/neuron",
        "aws.amazon.com/neuroncore",
        "aws.amazon.com/neurondevice",
        "habana.ai/gaudi",
    }
)
"""AI accelerators whose resource names say nothing of GPUs, but which run models all the same."""

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


@dataclass(frozen=True)
class AcceleratorUse:
    """One place a pod asks for an accelerator."""

    kind: UseKind
    resource: str
    """The resource name (``nvidia.com/mig-1g.10gb``) or the DRA claim name."""
    path: str
    """E.g. ``spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]``."""

    def describe(self) -> str:
        """How a person would say it: ``nvidia.com/gpu`` or ``DRA resource claim "gpu"``."""
        if self.kind is UseKind.RESOURCE_CLAIM:
            return f'DRA resource claim "{self.resource}"' if self.resource else "a DRA claim"
        return self.resource


def is_accelerator_resource(name: str) -> bool:
    """True for extended resource names that stand for a GPU or another AI accelerator."""
    lowered = name.lower()
    domain, slash, resource = lowered.partition("/")
    if (
        not (slash and domain and resource)
        or domain == "kubernetes.io"
        or domain.endswith(".kubernetes.io")
    ):
        return False
    return (
        lowered in OTHER_ACCELERATORS
        or resource == "gpu"
        or resource.startswith(("gpu.", "gpu-"))
        or (domain == "nvidia.com" and resource.startswith("mig-"))
        or "gpu" in domain
    )


def find_accelerators(template: PodTemplate) -> list[AcceleratorUse]:
    """Every accelerator request in a pod spec, in document order, with its path."""
    found = [
        AcceleratorUse(UseKind.RESOURCE_CLAIM, c.name, c.path) for c in template.resource_claims
    ]
    found += _resource_uses(template.resources.requests, f"{template.path}.resources.requests")
    found += _resource_uses(template.resources.limits, f"{template.path}.resources.limits")
    for container in template.all_containers:
        res, base = container.resources, f"{container.path}.resources"
        found += _resource_uses(res.requests, f"{base}.requests")
        found += _resource_uses(res.limits, f"{base}.limits")
        found += [AcceleratorUse(UseKind.RESOURCE_CLAIM, c.name, c.path) for c in res.claims]
    return found


def workload_accelerators(workload: Workload) -> list[AcceleratorUse]:
    """Accelerator requests across every pod template of a workload."""
    return [use for template in workload.templates for use in find_accelerators(template)]


def uses_accelerator(workload: Workload) -> bool:
    """Whether any pod of the workload would get a GPU or another accelerator."""
    return any(find_accelerators(template) for template in workload.templates)


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


def _resource_uses(quantities: Mapping[str, Quantity], path: str) -> list[AcceleratorUse]:
    """Accelerator names among quantities, skipping explicit zeros (``nvidia.com/gpu: 0``).

    A quantity that does not parse still counts: the API server would refuse it anyway, and
    erring towards "uses a GPU" only ever asks for more governance, never less.
    """
    return [
        AcceleratorUse(UseKind.EXTENDED_RESOURCE, name, f"{path}[{name}]")
        for name, value in quantities.items()
        if is_accelerator_resource(name) and not _is_zero(value)
    ]


def _is_zero(value: Quantity) -> bool:
    try:
        return parse_quantity(value) == 0
    except QuantityError:
        return False
