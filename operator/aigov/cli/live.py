"""Reading a live cluster for the command line: one client, list calls only, no writes.

This is the command line's only door to the API server (the operator's is aigov.kube).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from aigov.api.constants import GROUP, VERSION
from aigov.cli.simulate import Cluster

AIGOV_PLURALS = (
    "trustedsigners",
    "placementpolicies",
    "governedmodels",
    "riskassessments",
    "modelapprovals",
)
_KINDS = {
    "trustedsigners": "TrustedSigner",
    "placementpolicies": "PlacementPolicy",
    "governedmodels": "GovernedModel",
    "riskassessments": "RiskAssessment",
    "modelapprovals": "ModelApproval",
}


class ClusterError(Exception):
    """The cluster cannot be reached or read; the message says which and why."""


def api_client(args: argparse.Namespace) -> client.ApiClient:
    """A client from --kubeconfig/--context (or KUBECONFIG, or in-cluster)."""
    try:
        made: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=getattr(args, "kubeconfig", None), context=getattr(args, "context", None)
        )
        return made
    except (ConfigException, OSError) as exc:
        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except ConfigException:
            raise ClusterError(f"no usable kubeconfig: {exc}") from exc
        return client.ApiClient()


def _plain(api: client.ApiClient, obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
    return data


def aigov_objects(api: client.ApiClient, plural: str) -> Iterator[dict[str, Any]]:
    """Every object of one aigov kind, in every namespace, with apiVersion and kind set."""
    custom = client.CustomObjectsApi(api)
    try:
        listed: Any = custom.list_cluster_custom_object(GROUP, VERSION, plural)
    except ApiException as exc:
        if exc.status == 404:  # CRD not installed (an older aigov): nothing of that kind
            return
        raise ClusterError(f"cannot list {plural}: {exc.reason}") from exc
    for item in listed.get("items", []):
        yield {**item, "apiVersion": f"{GROUP}/{VERSION}", "kind": _KINDS[plural]}


def core_objects(api: client.ApiClient, kind: str) -> Iterator[dict[str, Any]]:
    """Namespaces or Nodes, as plain objects."""
    core = client.CoreV1Api(api)
    try:
        listed = core.list_namespace() if kind == "Namespace" else core.list_node()
    except ApiException as exc:
        raise ClusterError(f"cannot list {kind.lower()}s: {exc.reason}") from exc
    for item in listed.items:
        yield {**_plain(api, item), "apiVersion": "v1", "kind": kind}


def load(cluster: Cluster, args: argparse.Namespace) -> None:
    """Fill `cluster` with what the operator's indexes would hold for this cluster."""
    api = api_client(args)
    for kind in ("Namespace", "Node"):
        for body in core_objects(api, kind):
            cluster.add_stored(body)
    for plural in AIGOV_PLURALS:
        for body in aigov_objects(api, plural):
            cluster.add_stored(body)


def configmap_data(args: argparse.Namespace, namespace: str, name: str) -> dict[str, str]:
    """The data of one ConfigMap (the decision log's checkpoints); ClusterError if unreadable."""
    api = api_client(args)
    try:
        body = client.CoreV1Api(api).read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        raise ClusterError(f"cannot read ConfigMap {namespace}/{name}: {exc.reason}") from exc
    except OSError as exc:
        raise ClusterError(f"cannot reach the cluster: {exc}") from exc
    return dict(body.data or {})
