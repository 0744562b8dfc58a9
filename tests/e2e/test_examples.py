"""Every manifest in examples/ is applied, as the user it names, with the outcome it claims;
and `aigov check` (the same admission code, offline) gives the API server's verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tools import examples
from tools.controlplane.operator import Operator
from tools.kubectl import Kube, User

from aigov.cli.manifests import read
from aigov.cli.simulate import Cluster


@pytest.fixture(scope="module", autouse=True)
def fresh_story(kube: Kube) -> Iterator[None]:
    """The examples tell one story from its start: remove what an earlier run left. The
    story's PlacementPolicy reserves the EU pools; other tests share them, so the
    reservation ends with the story."""
    kube.run("delete", "namespace", *examples.NAMESPACES, "--ignore-not-found", "--wait=true")
    yield
    release = json.dumps({"spec": {"reservePools": False}})
    kube.run("patch", "placementpolicy", "confidential-eu", "--type=merge", "-p", release)


@pytest.fixture(scope="module")
def offline(kube: Kube) -> Cluster:
    """What `aigov check` knows: the cluster's nodes (for placement), then the story."""
    cluster = Cluster(default_mode=None)
    for node in json.loads(kube.run("get", "nodes", "-o", "json", check=True).stdout)["items"]:
        cluster.add_stored({**node, "apiVersion": "v1", "kind": "Node"})
    return cluster


@pytest.mark.parametrize("example", examples.catalogue(), ids=lambda e: e.name)
def test_example(
    kube: Kube, operator: Operator, offline: Cluster, example: examples.Example
) -> None:
    user = User(example.user, example.groups) if example.user else None
    result = kube.apply(example.text, user=user)
    findings = [
        offline.apply(d, example.user or "kubernetes-admin") for d in read([str(example.path)])
    ]
    refused = [f for f in findings if f.verdict == "refused"]
    if example.expect == "admitted":
        assert result.ok, result.stderr
        assert not refused, f"aigov check refused what the API server admitted: {refused}"
    else:
        assert not result.ok, f"{example.name} was admitted"
        assert example.reason is not None
        assert example.reason in result.stderr, result.stderr
        codes = {v.code.value for f in refused for v in f.decision.violations}
        assert example.reason in codes, f"aigov check gave {codes}, the API server {result.stderr}"
