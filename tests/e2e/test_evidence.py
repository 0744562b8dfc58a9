"""`aigov evidence` against the real API server: a governed namespace with an approved model
and a running Deployment gives a pack whose ML-BOM validates against the official CycloneDX
1.6 schema and whose page Chromium renders with the model's lineage graph (datasets, code,
base model -> model -> the Deployment -> its GPU pool) and the 38-control table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, IMAGE
from tests.evidence import bom_errors, dump_dom, parse_dom, png_colours, screenshot

BIN = Path(sys.executable).parent


def _aigov(kube: Kube, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(kube.kubeconfig),
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    return subprocess.run(["aigov", *args], env=env, capture_output=True, text=True, check=False)


def _running_in_a_pool(kube: Kube, ns: str) -> bool:
    status = kube.get("governedmodel", "scorer", ns).get("status") or {}
    return any(w.get("pools") for w in status.get("workloads") or [])


def test_evidence_pack_of_a_governed_namespace(
    kube: Kube, operator: Operator, unique: str, tmp_path: Path
) -> None:
    del operator
    ns = kube.namespace(f"evidence-{unique}", mode="enforce")
    governed.bind_personas(kube, ns)
    lineage: dict[str, Any] = governed.model_spec()["lineage"]
    lineage["baseModel"] = {"name": "llama-3.1-8b", "supplier": "Meta", "license": "llama3.1"}
    governed.govern(kube, ns, "scorer", governed.model_spec(lineage=lineage))
    deployment = manifests.deployment("scorer", ns, gpus=1, model="scorer", image=IMAGE)
    assert kube.apply(deployment, user=ALICE).ok
    try:
        kube.wait_for(lambda: _running_in_a_pool(kube, ns), "scorer running in a GPU pool", 120)
        out = tmp_path / "pack"
        result = _aigov(kube, "evidence", "-n", ns, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert f"written to {out}/" in result.stdout
    finally:
        kube.run("delete", "deployment", "scorer", "-n", ns, "--wait=false")  # GPU back

    report = json.loads((out / "report.json").read_text())
    (model,) = report["models"]
    assert (model["key"], model["phase"], model["mayRun"]) == (f"{ns}/scorer", "Approved", True)
    assert model["authors"] == ["alice"]
    assert (model["assessment"]["assessor"], model["approval"]["approver"]) == ("bob", "carol")
    events = [h["event"] for h in model["history"]]
    assert "Created" in events
    assert "Approved" in events
    (workload,) = model["workloads"]
    assert (workload["kind"], workload["name"], workload["observed"]) == (
        "Deployment",
        "scorer",
        True,
    )
    assert workload["pools"]
    assert workload["nodes"]

    bom = json.loads((out / model["bom"]).read_text())
    assert bom_errors(bom) == []
    (component, dataset) = bom["components"]
    assert component["type"] == "machine-learning-model"
    assert component["pedigree"]["ancestors"][0]["name"] == "llama-3.1-8b"
    assert component["modelCard"]["modelParameters"]["datasets"] == [{"ref": dataset["bom-ref"]}]

    dom = parse_dom(dump_dom(out / "report.html"))
    assert dom.models == [f"{ns}/scorer"]
    assert len(dom.controls["iso42001"]) == 38
    nodes = {node_id: kind for kind, node_id in dom.nodes[f"{ns}/scorer"]}
    assert nodes[f"model:{ns}/scorer"] == "model"
    assert nodes["dataset:train"] == "dataset"
    assert nodes["base:llama-3.1-8b"] == "base-model"
    assert nodes["workload:Deployment/scorer"] == "workload"
    assert nodes[f"pool:{workload['pools'][0]}"] == "pool"
    _, _, colours = png_colours(screenshot(out / "report.html", tmp_path / "r.png", 1100, 900))
    assert colours > 50
