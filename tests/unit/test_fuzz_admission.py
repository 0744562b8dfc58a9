"""Fuzzing the admission path (issue 11, bad input): whatever shape a governed object takes,
the rules never crash and a GPU workload naming no model is never allowed because its body
confused the parser. 10,000 generated objects and 2,500 whole AdmissionReviews, deterministic
per run (derandomized); deep, huge and wrong-typed bodies; and a memory check over thousands
of reviews."""

from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import builders
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigov.admission.request import AdmissionRequest, MalformedReview, UserInfo, parse_review
from aigov.admission.workloads import judge
from aigov.api.constants import Mode
from aigov.policy.standing import Evidence
from aigov.policy.workload import MalformedWorkload

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value, with NaN and odd strings: what a misbehaving client could send."""

# Fields a user may fill with anything without changing that the pod asks for a GPU and
# names no model (resources of containers[0] and every label stay as they are).
FREE = [
    ("spec", "replicas"),
    ("spec", "strategy"),
    ("metadata", "annotations"),
    ("spec", "template", "metadata", "annotations"),
    ("spec", "template", "spec", "nodeSelector"),
    ("spec", "template", "spec", "affinity"),
    ("spec", "template", "spec", "tolerations"),
    ("spec", "template", "spec", "volumes"),
    ("spec", "template", "spec", "initContainers"),
    ("spec", "template", "spec", "ephemeralContainers"),
    ("spec", "template", "spec", "runtimeClassName"),
    ("spec", "template", "spec", "resourceClaims"),
    ("spec", "template", "spec", "resources"),
    ("spec", "template", "spec", "nodeName"),
    ("spec", "template", "spec", "containers", 0, "args"),
    ("spec", "template", "spec", "containers", 0, "command"),
    ("spec", "template", "spec", "containers", 0, "env"),
    ("spec", "template", "spec", "containers", 0, "image"),
    ("spec", "template", "spec", "containers", 0, "volumeMounts"),
    ("spec", "template", "spec", "containers", 0, "securityContext"),
]


def ungoverned() -> dict[str, Any]:
    """A Deployment asking for a GPU, naming no model: always refused in enforce mode."""
    spec = builders.pod_spec(builders.container(gpus="1"))
    return builders.deployment(spec, name="llm", labels={"app": "llm"})


def request(obj: Any) -> AdmissionRequest:
    return AdmissionRequest(
        uid="fuzz", operation="CREATE", group="apps", version="v1", resource="deployments",
        kind="Deployment", namespace="team", name="llm", user=UserInfo("mallory"), object=obj,
    )  # fmt: skip


def lookup(namespace: str, name: str) -> Evidence:
    return Evidence(namespace=namespace, name=name)


def put(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = obj
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@settings(
    max_examples=10_000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(FREE), JSON), min_size=1, max_size=4))
def test_a_confused_body_never_lets_an_ungoverned_gpu_workload_through(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    obj = ungoverned()
    for path, value in edits:
        put(obj, path, copy.deepcopy(value))
    outcome = judge(request(obj), Mode.ENFORCE, lookup, NOW)
    assert not outcome.allowed, edits
    assert outcome.message.startswith("aigov refused Deployment team/llm: ")


@settings(max_examples=2_000, derandomize=True, deadline=None)
@given(JSON)
def test_any_object_gets_a_verdict_or_a_clear_error(obj: Any) -> None:
    """Not a mapping, or no kind: MalformedWorkload (a clear refusal upstream); else a
    verdict. Never another exception."""
    try:
        outcome = judge(request(obj), Mode.ENFORCE, lookup, NOW)
    except MalformedWorkload:
        return
    assert isinstance(outcome.allowed, bool)


# ---- the whole review path: AdmissionReview -> parse_review -> judge -----------------------


def review_of(obj: Any) -> dict[str, Any]:
    """The AdmissionReview the API server sends for a CREATE of `obj`."""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "fuzz",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "llm",
            "namespace": "team",
            "operation": "CREATE",
            "userInfo": {"username": "mallory", "uid": "m-1", "groups": ["ml-engineers"]},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def verdict(review: Any) -> bool | None:
    """What the pure review path decides: allowed (True/False), or None for a clear refusal
    of a review or object it cannot read. Any other exception fails the test."""
    try:
        request = parse_review(review)
        return judge(request, Mode.ENFORCE, lookup, NOW).allowed
    except (MalformedReview, MalformedWorkload):
        return None


# Envelope fields that do not change what is requested: whatever the API server (or a
# client posting to the webhook directly) puts there, an ungoverned GPU Deployment stays
# refused. (operation, kind and resource do change what is requested: see the next test.)
ENVELOPE = [
    ("uid",),
    ("name",),
    ("userInfo",),
    ("userInfo", "username"),
    ("userInfo", "groups"),
    ("userInfo", "uid"),
    ("userInfo", "extra"),
    ("dryRun",),
    ("options",),
    ("oldObject",),
    ("requestKind",),
    ("requestResource",),
    ("requestSubResource",),
    ("unknownField",),
]


@settings(
    max_examples=1_500,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(st.tuples(st.sampled_from(ENVELOPE), JSON), max_size=3),
    st.lists(st.tuples(st.sampled_from(FREE), JSON), max_size=3),
)
def test_a_confused_review_never_lets_an_ungoverned_gpu_workload_through(
    envelope: list[tuple[tuple[Any, ...], Any]],
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    obj = ungoverned()
    for path, value in edits:
        put(obj, path, copy.deepcopy(value))
    review = review_of(obj)
    for path, value in envelope:
        if isinstance(review["request"].get(path[0]), dict) or len(path) == 1:
            put(review["request"], path, copy.deepcopy(value))
    assert verdict(review) is not True, (envelope, edits)


SEMANTIC = [
    (),
    ("request",),
    ("request", "kind"),
    ("request", "resource"),
    ("request", "operation"),
    ("request", "object"),
    ("request", "namespace"),
    ("apiVersion",),
]


@settings(max_examples=1_000, derandomize=True, deadline=None)
@given(st.sampled_from(SEMANTIC), JSON)
def test_any_review_gets_a_verdict_or_a_clear_error(path: tuple[str, ...], value: Any) -> None:
    """Wrong types anywhere in the envelope: MalformedReview / MalformedWorkload, or a
    verdict; never another exception."""
    review: Any = review_of(ungoverned())
    if path:
        put(review, path, value)
    else:
        review = value
    verdict(review)


def _nest(depth: int) -> Any:
    nested: Any = "x"
    for i in range(depth):
        nested = {"n": nested} if i % 2 else [nested]
    return nested


@pytest.mark.parametrize("path", FREE, ids=[".".join(map(str, p)) for p in FREE])
def test_the_deepest_nesting_json_decodes_is_refused(path: tuple[Any, ...]) -> None:
    """Python's JSON decoder stops near depth 1,000 (a deeper body is refused before
    parsing: test_server_guard); anything it decodes goes through the rules unharmed."""
    obj = ungoverned()
    put(obj, path, _nest(990))
    assert verdict(review_of(obj)) is False


def _huge(case: str) -> dict[str, Any]:
    """An ungoverned GPU Deployment grown past 3 MiB in one field."""
    obj = ungoverned()
    pod = obj["spec"]["template"]["spec"]
    if case == "annotation":
        obj["metadata"]["annotations"] = {"pad": "x" * (4 << 20)}
    elif case == "containers":
        pod["containers"] += [builders.container(name=f"c{i}", gpus=None) for i in range(25_000)]
    elif case == "env":
        pod["containers"][0]["env"] = [{"name": f"E{i}", "value": "v" * 20} for i in range(80_000)]
    elif case == "args":
        pod["containers"][0]["args"] = ["--model", "other"] * 250_000
    elif case == "labels":
        obj["metadata"]["labels"] = {f"k{i}": "v" * 8 for i in range(200_000)}
    return obj


@pytest.mark.parametrize("case", ["annotation", "containers", "env", "args", "labels"])
def test_a_review_beyond_the_api_servers_3_mib_is_judged_like_any_other(case: str) -> None:
    """Bigger than the API server would ever send (its request limit is 3 MiB): refused on
    the rules, not crashed nor waved through."""
    review = review_of(_huge(case))
    assert len(json.dumps(review)) > 3 << 20
    assert verdict(review) is False


# ---- memory: thousands of reviews leave nothing behind ---------------------------------------

LEAK_BOUND = 64 * 1024
"""Bytes the review path may still hold after 3,000 distinct reviews, once warmed up: about
22 bytes a review (measured: under 1 KiB in all, tracemalloc's own bookkeeping). Anything
kept per review (a dict, a string, a cache entry keyed by a name) is more and crosses it."""


def _junk(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value with fresh strings (a cache keyed by content would grow)."""
    pick = rng.randrange(8 if depth < 3 else 5)
    if pick == 0:
        return None
    if pick == 1:
        return rng.randrange(-(10**12), 10**12)
    if pick == 2:
        return rng.random() * 10 ** rng.randrange(-5, 300)
    if pick == 3:
        return f"{rng.getrandbits(64):x}" * rng.randrange(1, 4)
    if pick == 4:
        return rng.choice([True, False, "", "nvidia.com/gpu", "--model", "hf://org/m"])
    if pick == 5:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{rng.getrandbits(32):x}": _junk(rng, depth + 1) for _ in range(rng.randrange(4))}


def _corpus(seed: int, count: int) -> Iterator[dict[str, Any]]:
    """`count` distinct reviews of confused ungoverned Deployments, deterministic per seed;
    every name, uid and user differs, so nothing can be shared between two of them."""
    rng = random.Random(seed)
    for i in range(count):
        obj = ungoverned()
        for _ in range(rng.randrange(1, 4)):
            put(obj, rng.choice(FREE), _junk(rng))
        review = review_of(obj)
        request = review["request"]
        request["uid"] = f"uid-{seed}-{i}"
        request["name"] = f"llm-{seed}-{i}"
        request["userInfo"]["username"] = f"user-{rng.getrandbits(48):x}"
        if rng.random() < 0.2:
            put(request, rng.choice(ENVELOPE), _junk(rng))
        yield review


def test_thousands_of_reviews_leave_no_memory_behind() -> None:
    for review in _corpus(1, 500):  # warm-up: lazy imports, compiled patterns, tables
        assert verdict(review) is not True
    gc.collect()
    tracemalloc.start()
    try:
        for review in _corpus(2, 300):  # warm-up of what tracing itself allocates
            verdict(review)
        del review
        gc.collect()
        before = tracemalloc.take_snapshot()
        judged = 0
        for review in _corpus(3, 3_000):
            assert verdict(review) is not True
            judged += 1
        del review
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert judged == 3_000
    diff = after.compare_to(before, "lineno")
    growth = sum(stat.size_diff for stat in diff)
    top = "\n".join(str(stat) for stat in diff[:8])
    assert growth < LEAK_BOUND, f"{growth} bytes kept after {judged} reviews:\n{top}"
