"""The CycloneDX 1.6 ML-BOM of a model, validated against the official schema (vendored in
tests/fixtures/cyclonedx, references resolved offline), and what it must say."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from typing import Any

from builders import (
    HAZARD,
    NAMESPACE,
    T0,
    governed_model,
    model_approval,
    model_spec,
    placement_policy,
)
from builders import risk_assessment as assessment
from tests.evidence import BOM_SCHEMA_ID, bom_errors

from aigov.evidencepack.bom import SCHEMA, ml_bom
from aigov.evidencepack.build import Snapshot, build
from aigov.evidencepack.report import ArtifactInfo, DecisionExcerpt, ModelReport
from aigov.policy.placement import PlacementContext
from aigov.policy.standing import Evidence

BASE = {"name": "llama-3.1-8b", "digest": "sha256:" + "b" * 64, "supplier": "Meta",
        "license": "llama3.1"}  # fmt: skip


def _report(base: bool = True) -> ModelReport:
    spec = model_spec(dataset_digest=True)
    if base:
        spec["lineage"]["baseModel"] = BASE
    model = governed_model(spec)
    spec_hash = model.spec.canonical_hash()
    ev = Evidence(
        NAMESPACE,
        model.metadata.name,
        model,
        assessments=(assessment(spec_hash, hazards=[HAZARD]),),
        approvals=(model_approval(spec_hash, created=T0 + timedelta(minutes=1)),),
    )
    ctx = PlacementContext(policies={"confidential-eu": placement_policy()}, nodes=[])
    excerpt = DecisionExcerpt((), None, 0, "none", None)
    snapshot = Snapshot((ev,), ctx, T0 + timedelta(days=1), "unit", excerpt)
    (report,) = build(snapshot).models
    return report


def _bom(base: bool = True) -> dict[str, Any]:
    return ml_bom(_report(base), "2026-12-02T17:00:00Z", "0.1.0")


def test_the_bom_validates_against_the_official_cyclonedx_1_6_schema() -> None:
    for base in (True, False):
        document = _bom(base)
        assert document["$schema"] == SCHEMA == BOM_SCHEMA_ID
        assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.6")
        assert bom_errors(document) == []


def test_the_schema_check_can_fail() -> None:
    document = _bom()
    document["components"][0]["type"] = "ml-model"
    document["components"][0]["modelCard"]["considerations"]["useCases"] = "one"
    errors = bom_errors(document)
    assert any(e.startswith("components/0/type") for e in errors), errors
    broken = copy.deepcopy(_bom())
    broken["components"][0]["hashes"] = [{"alg": "SHA-256", "content": "not-hex"}]
    assert bom_errors(broken)


def test_the_model_component_has_its_digests_model_card_and_datasets() -> None:
    document = _bom()
    model, dataset = document["components"]
    assert model["type"] == "machine-learning-model"
    assert (model["name"], model["version"]) == ("fraud-scorer", "3.1.0")
    assert {"alg": "SHA-256", "content": "a" * 64} in model["hashes"]
    assert [c["type"] for c in model["components"]] == ["container", "file"]
    card = model["modelCard"]
    assert card["considerations"]["useCases"] == ["Card-fraud scoring for payment authorisation"]
    (ref,) = card["modelParameters"]["datasets"]
    assert ref == {"ref": dataset["bom-ref"]}
    assert dataset["type"] == "data"
    (data,) = dataset["data"]
    assert (data["type"], data["contents"]["url"]) == ("dataset", "s3://datasets/tx/2025-12")
    assert data["sensitiveData"]
    assert dataset["hashes"] == [{"alg": "SHA-256", "content": "a" * 64}]


def test_hugging_face_weights_are_named_by_purl_at_their_revision() -> None:
    report = _report()
    hf = ArtifactInfo("weights", "file", "hf://meta-llama/Llama-3.1-8B", None, "c" * 40)
    with_hf = dataclasses.replace(report, artifacts=(report.artifacts[0], hf))
    document = ml_bom(with_hf, "2026-12-02T17:00:00Z", "0.1.0")
    weights = document["components"][0]["components"][1]
    assert weights["purl"] == "pkg:huggingface/meta-llama/Llama-3.1-8B@" + "c" * 40
    assert "hashes" not in weights
    assert bom_errors(document) == []


def test_pedigree_names_the_base_model_and_the_code_commit() -> None:
    pedigree = _bom()["components"][0]["pedigree"]
    (ancestor,) = pedigree["ancestors"]
    assert (ancestor["type"], ancestor["name"]) == ("machine-learning-model", "llama-3.1-8b")
    assert ancestor["supplier"] == {"name": "Meta"}
    assert ancestor["hashes"] == [{"alg": "SHA-256", "content": "b" * 64}]
    (commit,) = pedigree["commits"]
    assert commit["url"] == "https://git.example.com/risk/fraud"


def test_assessment_and_approval_are_external_references_naming_who() -> None:
    refs = {r["type"]: r for r in _bom()["components"][0]["externalReferences"]}
    ra, ma = refs["risk-assessment"], refs["attestation"]
    assert ra["url"] == f"/apis/aigov.io/v1alpha1/namespaces/{NAMESPACE}/riskassessments/fraud-ra"
    assert "by bob" in ra["comment"]
    assert ma["url"].endswith("/modelapprovals/fraud-ma")
    assert "approve by carol" in ma["comment"]
