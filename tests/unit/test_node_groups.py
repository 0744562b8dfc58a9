"""scheduling.candidates evaluates the filters per group of nodes (NodeSet): it must give
exactly what schedulable_on gives node by node, for any pod and any fleet."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aigov.policy.scheduling import NodeInfo, NodeSet, Taint, candidates, schedulable_on
from aigov.policy.workload import PodTemplate

KEYS = st.sampled_from(["pool", "zone", "kubernetes.io/hostname", "gpu.count", "missing"])
VALUES = st.sampled_from(["a", "b", "h100", "node-1", "node-2", "3", "8", "-1", "x9"])
OPS = st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Bogus"])
TAINTS = st.sampled_from(
    [
        Taint("nvidia.com/gpu", "", "NoSchedule"),
        Taint("dedicated", "ml", "NoExecute"),
        Taint("soft", "", "PreferNoSchedule"),
    ]
)


@st.composite
def fleets(draw: st.DrawFn) -> list[NodeInfo]:
    count = draw(st.integers(0, 12)) if draw(st.integers(0, 9)) == 0 else draw(st.integers(2, 12))
    return [
        NodeInfo(
            f"node-{i}",
            draw(st.dictionaries(KEYS, VALUES, max_size=3)),
            tuple(draw(st.lists(TAINTS, max_size=2, unique=True))),
        )
        for i in range(count)
    ]


def requirement(key: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"key": key, "operator": OPS, "values": st.lists(VALUES, max_size=3)}
    )


TERMS = st.lists(
    st.fixed_dictionaries(
        {"matchExpressions": st.lists(requirement(KEYS), max_size=3)},
        optional={
            "matchFields": st.lists(
                requirement(st.sampled_from(["metadata.name", "metadata.uid"])), max_size=2
            ),
        },
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def templates(draw: st.DrawFn) -> PodTemplate:
    affinity: dict[str, Any] = {}
    if draw(st.integers(0, 3)):
        required = {"nodeSelectorTerms": draw(TERMS)}
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    tolerations = draw(
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "key": st.sampled_from(["nvidia.com/gpu", "dedicated", ""]),
                    "operator": st.sampled_from(["Exists", "Equal"]),
                    "value": st.sampled_from(["ml", ""]),
                    "effect": st.sampled_from(["NoSchedule", "NoExecute", ""]),
                },
            ),
            max_size=2,
        )
    )
    return PodTemplate(
        path="spec",
        labels_path="metadata.labels",
        labels={},
        inherits_labels=True,
        node_name=draw(st.sampled_from([None, None, "node-1", "node-99"])),
        node_selector=draw(st.dictionaries(KEYS, VALUES, max_size=1)),
        tolerations=tuple(tolerations),
        affinity=affinity,
    )


@settings(max_examples=500, deadline=None, derandomize=True)
@given(templates(), fleets())
def test_grouped_candidates_are_the_nodes_schedulable_one_by_one(
    template: PodTemplate, fleet: list[NodeInfo]
) -> None:
    expected = [node for node in fleet if schedulable_on(template, node)]
    assert candidates(template, fleet) == expected
    assert candidates(template, NodeSet(fleet)) == expected


def test_a_node_set_is_the_sequence_it_was_built_from() -> None:
    fleet = [NodeInfo("a", {"pool": "x"}), NodeInfo("b")]
    nodes = NodeSet(fleet)
    assert list(nodes) == fleet
    assert nodes == fleet
    assert nodes[1] is fleet[1]
    assert len(nodes) == 2
