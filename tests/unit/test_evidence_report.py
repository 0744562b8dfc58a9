"""The evidence pack's builder over the unit tests' world: the facts of a model, its lineage
graph, its current violations, the JSON form against its schema, and the page agreeing with
the JSON; then the pack from the manifests in examples/."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import builders
import jsonschema
import pytest
from builders import (
    HAZARD,
    NAMESPACE,
    T0,
    governed_model,
    model_approval,
    model_spec,
    placement_policy,
    risk_assessment,
    wire,
)
from tests.evidence import bom_errors, parse_dom

from aigov.api.models import GovernedModel
from aigov.cli import main
from aigov.evidencepack import page
from aigov.evidencepack.build import Snapshot, build
from aigov.evidencepack.report import DecisionExcerpt, Report, as_json
from aigov.policy.placement import PlacementContext
from aigov.policy.standing import Evidence

ROOT = Path(__file__).resolve().parents[2]
NOW = T0 + timedelta(days=30)
NO_LOG = DecisionExcerpt((), None, 0, "no decision log given", None)
BASE = {"name": "llama-3.1-8b", "digest": "sha256:" + "b" * 64, "supplier": "Meta",
        "license": "llama3.1"}  # fmt: skip
STATUS: dict[str, Any] = {
    "history": [
        {"time": wire(T0 + timedelta(minutes=2)), "event": "Approved", "actor": "carol"},
        {"time": wire(T0), "event": "Created", "actor": "alice", "message": "version 3.1.0"},
    ],
    "workloads": [
        {"kind": "Deployment", "name": "scorer", "nodes": ["h100-0"], "pools": ["h100-eu"]},
        {
            "kind": "Job",
            "name": "backfill",
            "nodes": ["h200-0"],
            "pools": ["h200-eu"],
            "flagged": True,
            "reason": "Revoked",
        },
    ],
}


def _model(**status: Any) -> GovernedModel:
    spec = model_spec()
    spec["lineage"]["baseModel"] = BASE
    spec["lineage"]["trainingRun"] = {"id": "run-8842"}
    return governed_model(spec, status={**STATUS, **status})


def _snapshot(*evidence: Evidence, **fields: Any) -> Snapshot:
    ctx = PlacementContext(policies={"confidential-eu": placement_policy()}, nodes=[])
    return Snapshot(models=evidence, placement=ctx, now=NOW, source="unit", decisions=NO_LOG,
                    **fields)  # fmt: skip


def _approved(model: GovernedModel) -> Evidence:
    spec_hash = model.spec.canonical_hash()
    ra = risk_assessment(spec_hash, hazards=[HAZARD])
    ma = model_approval(spec_hash, created=T0 + timedelta(minutes=1))
    return Evidence(NAMESPACE, model.metadata.name, model, assessments=(ra,), approvals=(ma,))


@pytest.fixture
def report() -> Report:
    return build(_snapshot(_approved(_model())))


def test_an_approved_model_names_its_purpose_owner_and_the_people_who_vouched(
    report: Report,
) -> None:
    (m,) = report.models
    assert (m.purpose, m.owner, m.risk_class) == (
        "Card-fraud scoring for payment authorisation", "team-risk-ml", "high",
    )  # fmt: skip
    assert (m.phase, m.may_run, m.authors) == ("Approved", True, ("alice",))
    assert m.assessment is not None
    assert m.approval is not None
    assert (m.assessment.assessor, m.assessment.risk_level) == ("bob", "medium")
    assert m.assessment.hazards[0]["id"] == "H1"
    assert (m.approval.approver, m.approval.decision) == ("carol", "approve")
    assert m.approval.decided_at == wire(T0 + timedelta(minutes=1))
    assert [h.event for h in m.history] == ["Created", "Approved"]  # oldest first
    assert m.bom == f"models/{NAMESPACE}-{builders.MODEL_NAME}.cdx.json"


def test_lineage_graph_runs_from_data_code_and_base_model_to_workloads_and_pools(
    report: Report,
) -> None:
    graph = report.models[0].lineage
    kinds = {n.id: n.kind for n in graph.nodes}
    model = f"model:{NAMESPACE}/{builders.MODEL_NAME}"
    assert kinds == {
        "dataset:transactions-2025": "dataset",
        "base:llama-3.1-8b": "base-model",
        "code": "code",
        model: "model",
        "workload:Deployment/scorer": "workload",
        "workload:Job/backfill": "workload",
        "pool:h100-eu": "pool",
        "pool:h200-eu": "pool",
    }
    edges = {(e.source, e.target) for e in graph.edges}
    assert ("dataset:transactions-2025", model) in edges
    assert ("base:llama-3.1-8b", model) in edges
    assert (model, "workload:Deployment/scorer") in edges
    assert ("workload:Deployment/scorer", "pool:h100-eu") in edges


def test_a_flagged_workload_is_a_current_violation_with_its_controls(report: Report) -> None:
    (violation,) = report.models[0].violations
    assert violation.code == "Revoked"
    assert "Job risk/backfill is flagged" in violation.message
    assert violation.controls[:2] == ("A.6.2.6", "Art. 26")  # monitoring, deployer's duty


def test_a_model_without_approval_shows_why_and_which_controls() -> None:
    model = governed_model(model_spec())
    ra = risk_assessment(model.spec.canonical_hash())
    (m,) = build(
        _snapshot(Evidence(NAMESPACE, model.metadata.name, model, assessments=(ra,)))
    ).models
    assert (m.phase, m.may_run, m.approval) == ("PendingApproval", False, None)
    (violation,) = m.violations
    assert violation.code == "NotApproved"
    assert "A.6.2.5" in violation.controls
    assert "Art. 14" in violation.controls


def test_stand_in_identities_of_offline_manifests_are_not_shown_as_people() -> None:
    ev = _approved(_model())
    report = build(_snapshot(ev, stand_ins=frozenset({"bob", "alice"})))
    (m,) = report.models
    assert m.assessment is not None
    assert m.approval is not None
    assert (m.assessment.assessor, m.approval.approver, m.authors) == (None, "carol", ())
    assert m.history[0].actor is None


def test_scope_keeps_only_the_namespace_and_model_asked_for() -> None:
    ev = _approved(_model())
    assert build(_snapshot(ev, namespace="elsewhere")).models == ()
    assert build(_snapshot(ev, model="other")).models == ()
    assert len(build(_snapshot(ev, namespace=NAMESPACE, model=ev.name)).models) == 1


def test_model_files_never_collide() -> None:
    one = governed_model(model_spec(), name="b-c", namespace="a")
    two = governed_model(model_spec(), name="c", namespace="a-b")
    three = governed_model(model_spec(), name="d", namespace="a")
    report = build(_snapshot(*(Evidence(m.metadata.namespace or "", m.metadata.name, m)
                               for m in (one, two, three))))  # fmt: skip
    assert [m.bom for m in report.models] == [
        "models/a_b-c.cdx.json", "models/a-d.cdx.json", "models/a-b_c.cdx.json"
    ]  # fmt: skip


def test_report_json_follows_its_published_schema(report: Report) -> None:
    schema_text = resources.files("aigov").joinpath("data/evidence-report.schema.json")
    schema = json.loads(schema_text.read_text())
    data = as_json(report)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["$schema"] == schema["$id"]
    broken = {**data, "models": [{**data["models"][0], "riskClass": "enormous"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_html_and_json_show_the_same_models_controls_and_lineage(report: Report) -> None:
    data = as_json(report)
    dom = parse_dom(page.render(report))
    assert dom.models == [m["key"] for m in data["models"]]
    for framework in data["frameworks"]:
        assert dom.controls[framework["key"]] == [c["id"] for c in framework["controls"]]
    assert len(dom.controls["iso42001"]) == 38
    for model in data["models"]:
        drawn = sorted(dom.nodes[model["key"]])
        assert drawn == sorted((n["kind"], n["id"]) for n in model["lineage"]["nodes"])
    assert dom.external == [], "the page must make no request"


def test_the_page_escapes_what_users_typed() -> None:
    spec = model_spec(purpose="<script>alert(1)</script> & more")
    model = governed_model(spec)
    html = page.render(build(_snapshot(Evidence(NAMESPACE, model.metadata.name, model))))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_pack_from_the_manifests_in_examples(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    assert main(["evidence", "--from", str(ROOT / "examples"), "-o", str(out)]) == 0
    data = json.loads((out / "report.json").read_text())
    models = {m["key"]: m for m in data["models"]}
    assert set(models) == {"ai-prod/fraud-scorer", "ai-prod/support-assistant",
                           "ai-gitops/fraud-scorer"}  # fmt: skip
    # 11-revoke.yaml revokes fraud-scorer in ai-prod after its approval.
    revoked = models["ai-prod/fraud-scorer"]
    assert (revoked["phase"], revoked["approval"]["decision"]) == ("Rejected", "revoke")
    # Offline nobody is authenticated: unsigned decisions name no person...
    assert revoked["approval"]["approver"] is None
    # ...and signed ones (examples/04-gitops) name their signer's stamp.
    gitops = models["ai-gitops/fraud-scorer"]["approval"]
    assert (gitops["approver"], gitops["signedBy"]) == ("carol", "carol-demo")
    assistant = models["ai-prod/support-assistant"]
    assert any(n["kind"] == "base-model" for n in assistant["lineage"]["nodes"])
    declared = {(w["kind"], w["name"], w["observed"]) for w in assistant["workloads"]}
    assert ("Deployment", "support-assistant", False) in declared
    for model in data["models"]:
        bom = json.loads((out / model["bom"]).read_text())
        assert bom_errors(bom) == [], model["key"]
    assert not (out / "decisions.jsonl").exists()
    dom = parse_dom((out / "report.html").read_text())
    assert dom.models == sorted(models)


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    assert main(["evidence", "--from", str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "bad.yaml:2: malformed YAML" in capsys.readouterr().err
    missing = tmp_path / "missing"
    assert main(["evidence", "--from", str(missing), "-o", str(tmp_path / "o")]) == 2
    assert "not a directory" in capsys.readouterr().err
    ok = ROOT / "examples" / "02-governed"
    assert main(["evidence", "--from", str(ok), "--model", "nope", "-o", str(tmp_path)]) == 2
    assert "GovernedModel 'nope' not found" in capsys.readouterr().err
