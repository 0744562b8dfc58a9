"""The CRDs in crds/ and their pydantic mirror in aigov.api: parsing, hashing, lineage, drift."""

from __future__ import annotations

import copy
import hashlib
import types
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import builders
import pytest
import yaml
from builders import (
    COMMIT,
    HAZARD,
    HEX64,
    IMAGE,
    MODEL_NAME,
    model_approval_body,
    model_spec,
    node_pool,
    risk_assessment_body,
)
from pydantic import AwareDatetime
from pydantic import BaseModel as PydanticModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from aigov.api import constants
from aigov.api.models import (
    Artifact,
    Condition,
    ConditionStatus,
    Decision,
    FieldProblem,
    GovernedModel,
    GovernedModelSpec,
    InvalidResource,
    Lifecycle,
    ModelApproval,
    PlacementMode,
    PlacementPolicy,
    Resource,
    RiskAssessment,
    RiskClass,
    RiskLevel,
    spec_hash,
)
from aigov.api.signer import TrustedSigner

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
KSERVE_CRD = ROOT / "tests" / "e2e" / "manifests" / "kserve-inferenceservice-crd.yaml"
OTHER_HEX64 = "0123456789abcdef" * 4

# kind -> (file, wrapper, scope, short name, plural)
KINDS: dict[str, tuple[str, type[Resource], str, str, str]] = {
    "GovernedModel": (
        "aigov.io_governedmodels.yaml",
        GovernedModel,
        "Namespaced",
        "gm",
        constants.GOVERNED_MODELS,
    ),
    "RiskAssessment": (
        "aigov.io_riskassessments.yaml",
        RiskAssessment,
        "Namespaced",
        "ra",
        constants.RISK_ASSESSMENTS,
    ),
    "ModelApproval": (
        "aigov.io_modelapprovals.yaml",
        ModelApproval,
        "Namespaced",
        "mapr",
        constants.MODEL_APPROVALS,
    ),
    "PlacementPolicy": (
        "aigov.io_placementpolicies.yaml",
        PlacementPolicy,
        "Cluster",
        "pp",
        constants.PLACEMENT_POLICIES,
    ),
    "TrustedSigner": (
        "aigov.io_trustedsigners.yaml",
        TrustedSigner,
        "Cluster",
        "tsig",
        constants.TRUSTED_SIGNERS,
    ),
}

WITHOUT_STATUS: dict[str, set[str]] = {"TrustedSigner": {"status"}}
"""Kinds with nothing to observe: a TrustedSigner is configuration only."""


def load_crd(path: Path) -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load(path.read_text())
    return crd


def only_version(crd: Mapping[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    return dict(version)


def root_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = only_version(load_crd(CRDS / KINDS[kind][0]))["schema"][
        "openAPIV3Schema"
    ]
    return schema


# Bodies -----------------------------------------------------------------------------------


def governed_model_spec() -> dict[str, Any]:
    """A complete spec as the API server stores it (defaults applied), with full provenance."""
    spec = model_spec(dataset_digest=True)
    spec["lineage"].update(
        baseModel={"name": "base", "supplier": "Example AI", "license": "Apache-2.0"},
        trainingRun={"id": "run-8842", "finishedAt": "2026-10-01T12:00:00Z"},
    )
    return spec


def body(kind: str, spec: Any, **extra: Any) -> dict[str, Any]:
    """An object of `kind` as read back from the API server, every identity stamp set."""
    meta = builders.metadata(
        MODEL_NAME,
        uid="6a0f6c1e-0000-4000-8000-000000000001",
        generation=2,
        resourceVersion="12345",
        managedFields=[{"manager": "kubectl"}],
        annotations={
            constants.AUTHOR_ANNOTATION: "alice",
            constants.ASSESSOR_ANNOTATION: "bob",
            constants.APPROVER_ANNOTATION: "carol",
        },
    )
    return builders.resource_body(kind, meta, spec, **extra)


def risk_assessment_spec() -> dict[str, Any]:
    spec = risk_assessment_body(
        HEX64, hazards=[HAZARD], valid_until=datetime(2027, 10, 1, tzinfo=UTC)
    )["spec"]
    spec["impactAssessmentRef"] = "https://docs.example.com/fria/fraud-scorer"
    return spec


def model_approval_spec() -> dict[str, Any]:
    return model_approval_body(
        HEX64,
        assessment_ref="fraud-scorer-3-1-ra",
        justification="Mitigations in place; reviewed by the model risk committee.",
    )["spec"]


def placement_policy_spec() -> dict[str, Any]:
    return {
        "nodePools": [node_pool("h200-eu", {"nvidia.com/gpu.product": "NVIDIA-H200"})],
        "maxGPUsPerPod": 4,
        "requireExclusiveGPU": True,
        "mode": "inject",
        "reservePools": True,
    }


def reordered(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


class View(Mapping[str, Any]):
    """A read-only Mapping that is not a dict, like kopf's Body."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


# Parsing ----------------------------------------------------------------------------------


class TestParsing:
    def test_governed_model_parses_with_snake_case_names(self) -> None:
        model = GovernedModel.from_body(body("GovernedModel", governed_model_spec()))
        assert model.metadata.name == "fraud-scorer-3-1"
        assert model.metadata.generation == 2
        assert model.metadata.creation_timestamp == datetime(2026, 10, 2, 8, tzinfo=UTC)
        assert model.author == "alice"
        spec = model.spec
        assert spec.model_name == "fraud-scorer"
        assert spec.risk_class is RiskClass.HIGH
        assert spec.lifecycle is Lifecycle.ACTIVE
        assert spec.lineage is not None
        assert spec.lineage.datasets[0].contains_personal_data is True
        assert spec.lineage.training_run is not None
        assert spec.lineage.training_run.finished_at == datetime(2026, 10, 1, 12, tzinfo=UTC)
        assert model.status.phase is None
        assert model.status.conditions == []

    def test_lifecycle_defaults_to_active_like_the_crd(self) -> None:
        raw = governed_model_spec()
        del raw["lifecycle"]
        assert GovernedModelSpec.model_validate(raw).lifecycle is Lifecycle.ACTIVE

    def test_status_parses_conditions(self) -> None:
        status = {
            "phase": "Approved",
            "specHash": HEX64,
            "observedGeneration": 2,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Approved",
                    "message": "",
                    "observedGeneration": 2,
                    "lastTransitionTime": "2026-10-02T08:01:00Z",
                }
            ],
            "approval": {"name": "a1", "decision": "approve", "approver": "carol"},
            "riskAssessment": {"name": "ra1", "riskLevel": "medium"},
            "workloads": [{"kind": "Deployment", "name": "scorer", "nodes": ["gpu-0"]}],
            "history": [{"time": "2026-10-02T08:00:00Z", "event": "Created", "actor": "alice"}],
        }
        model = GovernedModel.from_body(body("GovernedModel", governed_model_spec(), status=status))
        ready = model.status.condition("Ready")
        assert ready is not None
        assert ready.status is ConditionStatus.TRUE
        assert model.status.condition("Approved") is None
        assert model.status.approval is not None
        assert model.status.approval.decision is Decision.APPROVE
        assert model.status.workloads[0].flagged is False

    def test_other_kinds_parse(self) -> None:
        ra = RiskAssessment.from_body(body("RiskAssessment", risk_assessment_spec()))
        assert ra.spec.risk_level is RiskLevel.MEDIUM
        assert ra.spec.model_ref.spec_hash == HEX64
        assert ra.spec.hazards[0].mitigations == ["human review of refusals"]
        assert ra.assessor == "bob"

        approval = ModelApproval.from_body(body("ModelApproval", model_approval_spec()))
        assert approval.spec.decision is Decision.APPROVE
        assert approval.spec.valid_until is None
        assert approval.approver == "carol"

        raw_policy = body("PlacementPolicy", placement_policy_spec())
        del raw_policy["metadata"]["namespace"]
        policy = PlacementPolicy.from_body(raw_policy)
        assert policy.metadata.namespace is None
        assert policy.spec.max_gpus_per_pod == 4
        assert policy.spec.require_exclusive_gpu is True
        assert policy.spec.mode is PlacementMode.INJECT
        assert policy.spec.node_pools[0].node_selector == {"nvidia.com/gpu.product": "NVIDIA-H200"}

    def test_placement_policy_defaults_like_the_crd(self) -> None:
        spec = {"nodePools": placement_policy_spec()["nodePools"]}
        policy = PlacementPolicy.from_body(body("PlacementPolicy", spec))
        assert policy.spec.mode is PlacementMode.VALIDATE
        assert policy.spec.require_exclusive_gpu is False
        assert policy.spec.max_gpus_per_pod is None
        assert policy.spec.reserve_pools is False

    def test_a_mapping_view_parses_like_a_dict(self) -> None:
        raw = body("GovernedModel", governed_model_spec())
        assert GovernedModel.from_body(View(raw)) == GovernedModel.from_body(raw)

    def test_dump_uses_the_wire_names(self) -> None:
        policy = PlacementPolicy.from_body(body("PlacementPolicy", placement_policy_spec()))
        assert policy.spec.to_k8s() == placement_policy_spec()

    def test_models_are_frozen(self) -> None:
        model = GovernedModel.from_body(body("GovernedModel", governed_model_spec()))
        with pytest.raises(ValueError, match="frozen"):
            model.spec.version = "4"  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("change", "path"),
        [
            (lambda s: s.update(riskClass="extreme"), "spec.riskClass"),
            (lambda s: s.update(modelName=7), "spec.modelName"),
            (lambda s: s.pop("artifacts"), "spec.artifacts"),
            (lambda s: s["artifacts"][1].update(name=None), "spec.artifacts[1].name"),
            (
                lambda s: s["lineage"]["datasets"][0].update(containsPersonalData="true"),
                "spec.lineage.datasets[0].containsPersonalData",
            ),
            (lambda s: s["lineage"]["datasets"][0].update(role="tuning"), None),
            (lambda s: s["lineage"]["trainingRun"].update(finishedAt="2026-10-01"), None),
        ],
    )
    def test_invalid_governed_model_raises_one_domain_error(self, change: Any, path: Any) -> None:
        raw = governed_model_spec()
        change(raw)
        with pytest.raises(InvalidResource) as caught:
            GovernedModel.from_body(body("GovernedModel", raw))
        error = caught.value
        assert error.kind == "GovernedModel"
        assert error.name == "fraud-scorer-3-1"
        assert error.details
        assert all(isinstance(problem, FieldProblem) for problem in error.details)
        if path is not None:
            assert path in [problem.path for problem in error.details]
        assert "GovernedModel 'fraud-scorer-3-1' is invalid: " in str(error)

    def test_missing_spec_is_invalid(self) -> None:
        raw = body("RiskAssessment", None)
        del raw["spec"]
        with pytest.raises(InvalidResource) as caught:
            RiskAssessment.from_body(raw)
        assert caught.value.details == (FieldProblem("spec", "Field required"),)

    def test_strict_types_refuse_coercion(self) -> None:
        raw = placement_policy_spec()
        raw["maxGPUsPerPod"] = "4"
        with pytest.raises(InvalidResource) as caught:
            PlacementPolicy.from_body(body("PlacementPolicy", raw))
        assert [p.path for p in caught.value.details] == ["spec.maxGPUsPerPod"]

    def test_naive_times_are_refused(self) -> None:
        raw = risk_assessment_spec()
        raw["validUntil"] = "2027-10-01T00:00:00"
        with pytest.raises(InvalidResource) as caught:
            RiskAssessment.from_body(body("RiskAssessment", raw))
        assert [p.path for p in caught.value.details] == ["spec.validUntil"]

    def test_unknown_fields_are_ignored(self) -> None:
        raw = governed_model_spec()
        raw["futureField"] = {"x": 1}
        raw["artifacts"][0]["signature"] = "cosign"
        assert GovernedModel.from_body(body("GovernedModel", raw)).spec.artifacts[0].image == IMAGE

    def test_conditions_build_in_python_and_dump_for_a_status_patch(self) -> None:
        condition = Condition(
            type="Ready",
            status=ConditionStatus.FALSE,
            reason="NotApproved",
            message="no approval bound to the current spec hash",
            last_transition_time=datetime(2026, 10, 2, 8, 1, tzinfo=UTC),
            observed_generation=3,
        )
        assert condition.to_k8s() == {
            "type": "Ready",
            "status": "False",
            "reason": "NotApproved",
            "message": "no approval bound to the current spec hash",
            "lastTransitionTime": "2026-10-02T08:01:00Z",
            "observedGeneration": 3,
        }


# Hashing ----------------------------------------------------------------------------------


class TestSpecHash:
    def test_is_sha256_of_compact_sorted_json(self) -> None:
        expected = hashlib.sha256(b'{"a":1,"b":[2,{"c":"d","e":null}]}').hexdigest()
        assert spec_hash({"b": [2, {"e": None, "c": "d"}], "a": 1}) == expected

    def test_does_not_depend_on_key_order(self) -> None:
        raw = governed_model_spec()
        assert spec_hash(raw) == spec_hash(reordered(raw))
        assert spec_hash(raw) == spec_hash(View(raw))

    @pytest.mark.parametrize(
        "change",
        [
            lambda s: s.update(version="3.1.1"),
            lambda s: s["artifacts"][0].update(image=f"registry.example.com/x@sha256:{'b' * 64}"),
            lambda s: s["lineage"]["datasets"][0].update(containsPersonalData=False),
            lambda s: s["artifacts"].reverse(),  # list order is meaningful
        ],
    )
    def test_changes_when_the_spec_changes(self, change: Any) -> None:
        raw = governed_model_spec()
        before = spec_hash(raw)
        change(raw)
        assert spec_hash(raw) != before

    def test_canonical_hash_of_a_parsed_spec_is_the_hash_of_the_raw_spec(self) -> None:
        raw = reordered(governed_model_spec())
        raw["lineage"]["trainingRun"]["finishedAt"] = "2026-10-01T12:00:00+00:00"
        raw["unknownField"] = True  # what was given is hashed, not what pydantic kept
        parsed = GovernedModel.from_body(body("GovernedModel", raw))
        assert parsed.spec.canonical_hash() == spec_hash(raw)
        assert GovernedModelSpec.model_validate(raw).canonical_hash() == spec_hash(raw)

    def test_a_spec_built_in_python_hashes_like_its_stored_form(self) -> None:
        raw = governed_model_spec()
        parsed = GovernedModelSpec.model_validate(raw)
        built = GovernedModelSpec(**dict(parsed))
        assert built == parsed
        assert built.canonical_hash() == spec_hash(raw)

    def test_an_updated_copy_is_hashed_afresh(self) -> None:
        parsed = GovernedModelSpec.model_validate(governed_model_spec())
        same = parsed.model_copy()
        assert same.canonical_hash() == parsed.canonical_hash()
        changed = parsed.model_copy(update={"version": "9"})
        expected = governed_model_spec()
        expected["version"] = "9"
        assert changed.canonical_hash() == spec_hash(expected)

    def test_defaults_count_so_hash_the_stored_spec(self) -> None:
        raw = governed_model_spec()
        stored = spec_hash(raw)
        # as written by the user, before the API server defaults it
        del raw["lineage"]["datasets"][0]["containsPersonalData"]
        assert spec_hash(raw) != stored

    @pytest.mark.parametrize("lifecycle", ["deprecated", "retired"])
    def test_lifecycle_is_not_hashed_so_deprecation_keeps_the_approval(
        self, lifecycle: str
    ) -> None:
        raw = governed_model_spec()
        before = spec_hash(raw)
        raw["lifecycle"] = lifecycle
        assert spec_hash(raw) == before


# Lineage ----------------------------------------------------------------------------------


class TestLineage:
    def spec(self, **changes: Any) -> GovernedModelSpec:
        raw = governed_model_spec()
        raw.update(changes)
        return GovernedModelSpec.model_validate(raw)

    def test_complete_lineage_has_no_problems(self) -> None:
        spec = self.spec()
        assert spec.lineage_problems() == []
        assert spec.pinned_images == frozenset({IMAGE})

    @pytest.mark.parametrize(
        ("artifact", "pinned", "digest"),
        [
            ({"name": "a", "image": IMAGE}, True, f"sha256:{HEX64}"),
            ({"name": "a", "image": f"r.io/x:1.0@sha256:{HEX64}"}, True, f"sha256:{HEX64}"),
            ({"name": "a", "image": "r.io/x:1.0"}, False, None),
            ({"name": "a", "image": "r.io/x"}, False, None),
            ({"name": "a", "image": "r.io/x@sha256:abc"}, False, None),
            ({"name": "a", "image": f"r.io/x@sha256:{HEX64.upper()}"}, False, None),
            ({"name": "a", "image": f"r.io/x@sha512:{HEX64}{HEX64}"}, False, None),
            ({"name": "a", "uri": "s3://w", "digest": f"sha256:{HEX64}"}, True, None),
            ({"name": "a", "uri": "s3://w"}, False, None),
            ({"name": "a", "uri": "s3://w", "digest": "md5:abc"}, False, None),
        ],
    )
    def test_digest_pinning(self, artifact: Any, pinned: bool, digest: Any) -> None:
        parsed = Artifact.model_validate(artifact)
        assert parsed.is_digest_pinned is pinned
        assert parsed.image_digest == digest

    def test_unpinned_image_is_reported_with_its_path(self) -> None:
        artifacts = [
            {"name": "server", "image": IMAGE},
            {"name": "sidecar", "image": "registry.example.com/proxy:1.2"},
        ]
        problems = self.spec(artifacts=artifacts).lineage_problems()
        assert [p.path for p in problems] == ["spec.artifacts[1].image"]
        assert "'sidecar'" in problems[0].message
        assert "sha256" in problems[0].message

    def test_uri_without_digest_is_reported(self) -> None:
        problems = self.spec(artifacts=[{"name": "w", "uri": "s3://w"}]).lineage_problems()
        assert [p.path for p in problems] == ["spec.artifacts[0].digest"]

    def test_no_lineage_reports_datasets_and_code(self) -> None:
        raw = governed_model_spec()
        del raw["lineage"]
        problems = GovernedModelSpec.model_validate(raw).lineage_problems()
        assert [p.path for p in problems] == ["spec.lineage.datasets", "spec.lineage.code"]

    def test_empty_datasets_and_missing_code(self) -> None:
        problems = self.spec(lineage={"datasets": []}).lineage_problems()
        assert [p.path for p in problems] == ["spec.lineage.datasets", "spec.lineage.code"]

    def test_all_problems_are_reported_together(self) -> None:
        spec = self.spec(
            artifacts=[{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}],
            lineage={"code": {"repository": "https://git.example.com/r", "commit": COMMIT}},
        )
        assert [p.path for p in spec.lineage_problems()] == [
            "spec.artifacts[0].image",
            "spec.artifacts[1].image",
            "spec.lineage.datasets",
        ]
        assert spec.pinned_images == frozenset()


# The CRDs themselves ----------------------------------------------------------------------


class TestCrdMetadata:
    @pytest.mark.parametrize("kind", KINDS)
    def test_names_scope_category_and_status_subresource(self, kind: str) -> None:
        file, _, scope, short, plural = KINDS[kind]
        crd = load_crd(CRDS / file)
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
        assert crd["kind"] == "CustomResourceDefinition"
        assert crd["metadata"]["name"] == f"{plural}.{constants.GROUP}"
        assert file == f"{constants.GROUP}_{plural}.yaml"
        spec = crd["spec"]
        assert spec["group"] == constants.GROUP
        assert spec["scope"] == scope
        assert spec["names"]["kind"] == kind
        assert spec["names"]["plural"] == plural
        assert spec["names"]["shortNames"] == [short]
        assert spec["names"]["categories"] == [constants.CATEGORY]
        version = only_version(crd)
        assert version["name"] == constants.VERSION
        assert version["served"] is True
        assert version["storage"] is True
        if kind in WITHOUT_STATUS:
            assert "subresources" not in version
        else:
            assert version["subresources"] == {"status": {}}

    def test_crds_folder_holds_exactly_the_kinds(self) -> None:
        assert sorted(p.name for p in CRDS.glob("*.yaml")) == sorted(f for f, *_ in KINDS.values())

    @pytest.mark.parametrize(
        ("kind", "columns"),
        [
            (
                "GovernedModel",
                [
                    "Model",
                    "Version",
                    "Risk",
                    "Phase",
                    "Approved",
                    "Ready",
                    "Reason",
                    "Authors",
                    "Assessor",
                    "Approver",
                    "Signed By",
                    "Age",
                ],
            ),
            (
                "RiskAssessment",
                ["Model", "Level", "Valid Until", "Phase", "Assessor", "Signed By", "Age"],
            ),
            ("ModelApproval", ["Model", "Decision", "Approver", "Phase", "Signed By", "Age"]),
            ("PlacementPolicy", ["Mode", "Max GPUs", "Exclusive", "Reserved", "Age"]),
        ],
    )
    def test_printer_columns(self, kind: str, columns: list[str]) -> None:
        printed = only_version(load_crd(CRDS / KINDS[kind][0]))["additionalPrinterColumns"]
        assert [c["name"] for c in printed] == columns
        by_name = {c["name"]: c for c in printed}
        assert by_name["Age"] == {
            "name": "Age",
            "type": "date",
            "jsonPath": ".metadata.creationTimestamp",
        }
        if kind == "GovernedModel":
            assert by_name["Ready"]["priority"] == 0
            assert by_name["Reason"]["priority"] == 1
            assert by_name["Approved"]["jsonPath"] == (
                '.status.conditions[?(@.type=="Approved")].status'
            )
        if kind == "ModelApproval":
            assert by_name["Approver"]["jsonPath"] == r".metadata.annotations.aigov\.io/approver"

    def test_model_approval_spec_is_immutable(self) -> None:
        rules = root_schema("ModelApproval")["properties"]["spec"]["x-kubernetes-validations"]
        assert {
            "rule": "self == oldSelf",
            "message": "ModelApproval spec is immutable: create a new approval",
        } in rules


def walk(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema node with its path, depth first."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), Mapping):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), Mapping):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


ALL_CRD_FILES = [CRDS / file for file, *_ in KINDS.values()] + [KSERVE_CRD]


class TestStructuralSchemas:
    @pytest.mark.parametrize("path", ALL_CRD_FILES, ids=lambda p: p.name)
    def test_every_node_has_a_type_and_no_forbidden_keywords(self, path: Path) -> None:
        schema = only_version(load_crd(path))["schema"]["openAPIV3Schema"]
        for where, node in walk(schema):
            if node.get("x-kubernetes-int-or-string"):
                assert "type" not in node, where
                continue
            assert node.get("type") in {"object", "array", "string", "integer", "boolean"}, where
            assert not ({"properties", "additionalProperties"} <= node.keys()), where
            forbidden = {"$ref", "definitions", "dependencies", "additionalItems", "uniqueItems"}
            assert not (forbidden & node.keys()), where
            if node["type"] == "array":
                assert "items" in node, where
            if "x-kubernetes-list-type" in node and node["x-kubernetes-list-type"] == "map":
                keys = node["x-kubernetes-list-map-keys"]
                assert set(keys) <= set(node["items"].get("required", [])), where
        assert set(schema["properties"]["metadata"]) == {"type"}

    @pytest.mark.parametrize("kind", KINDS)
    def test_every_field_is_described(self, kind: str) -> None:
        schema = root_schema(kind)
        assert schema["description"]
        for part in ("spec", "status") if kind not in WITHOUT_STATUS else ("spec",):
            for where, node in walk(schema["properties"][part], part):
                parent_is_array = where.endswith("[]") or where.endswith("{}")
                if node["type"] in {"object", "array"} or not parent_is_array:
                    assert node.get("description"), f"{kind} {where} has no description"

    @pytest.mark.parametrize("kind", KINDS)
    def test_cel_rules_have_messages_and_bounded_inputs(self, kind: str) -> None:
        """Unbounded strings or lists under a rule make the API server refuse the CRD."""
        rules_seen = 0

        def check(node: Mapping[str, Any], where: str, lists_bounded: bool) -> None:
            nonlocal rules_seen
            for rule in node.get("x-kubernetes-validations", []):
                rules_seen += 1
                assert rule["rule"].strip(), where
                assert rule["message"].strip(), where
                assert lists_bounded, f"{where}: a list above this rule has no maxItems"
                for inner, child in walk(node, where):
                    if child.get("type") == "string" and "enum" not in child:
                        assert "maxLength" in child or "format" in child, inner
                    if child.get("type") == "array":
                        assert "maxItems" in child, inner
            for name, child in node.get("properties", {}).items():
                check(child, f"{where}.{name}", lists_bounded)
            if isinstance(node.get("items"), Mapping):
                check(node["items"], f"{where}[]", lists_bounded and "maxItems" in node)

        check(root_schema(kind)["properties"]["spec"], "spec", lists_bounded=True)
        assert rules_seen > 0


class TestKServeStandIn:
    def test_names(self) -> None:
        crd = load_crd(KSERVE_CRD)
        assert crd["metadata"]["name"] == "inferenceservices.serving.kserve.io"
        assert crd["spec"]["group"] == "serving.kserve.io"
        assert crd["spec"]["scope"] == "Namespaced"
        assert crd["spec"]["names"]["kind"] == "InferenceService"
        assert crd["spec"]["names"]["plural"] == "inferenceservices"
        assert crd["spec"]["names"]["shortNames"] == ["isvc"]
        version = only_version(crd)
        assert version["name"] == "v1beta1"
        assert version["served"] is True
        assert version["storage"] is True

    @pytest.mark.parametrize("component", ["predictor", "transformer", "explainer"])
    def test_components_have_typed_pod_fields(self, component: str) -> None:
        spec = only_version(load_crd(KSERVE_CRD))["schema"]["openAPIV3Schema"]["properties"]
        node = spec["spec"]["properties"][component]
        fields = node["properties"]
        for name in ("nodeSelector", "tolerations", "affinity", "nodeName", "serviceAccountName"):
            assert name in fields, f"{component}.{name}"
        container = fields["containers"]["items"]["properties"]
        assert {"name", "image", "resources"} <= set(container)
        assert fields["nodeSelector"]["additionalProperties"] == {"type": "string"}

    def test_predictor_model(self) -> None:
        spec = only_version(load_crd(KSERVE_CRD))["schema"]["openAPIV3Schema"]["properties"]
        model = spec["spec"]["properties"]["predictor"]["properties"]["model"]["properties"]
        assert {"modelFormat", "storageUri", "runtime", "resources"} <= set(model)
        assert "name" in model["modelFormat"]["properties"]


# Drift: the CRD schemas and the pydantic models must describe the same fields ------------


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, whether None is allowed) of `X | None`, `Optional[X]`, `Annotated[X, ...]`."""
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(get_args(annotation))
            (annotation,) = args
        else:
            return annotation, nullable


def wire_default(field: FieldInfo) -> Any:
    """The default as the CRD would spell it, or PydanticUndefined."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return value if value not in ([], {}) else PydanticUndefined
    if field.default is None:
        return PydanticUndefined
    return field.default.value if isinstance(field.default, StrEnum) else field.default


def drift(schema: Mapping[str, Any], annotation: Any, where: str) -> list[str]:
    """Every difference between a CRD schema node and the Python type that mirrors it."""
    inner, _ = unwrap(annotation)
    kind = schema.get("type")
    if isinstance(inner, type) and issubclass(inner, PydanticModel):
        if kind != "object":
            return [f"{where}: model {inner.__name__} but schema type {kind}"]
        return drift_model(schema, inner, where)
    if get_origin(inner) is list:
        if kind != "array":
            return [f"{where}: list but schema type {kind}"]
        return drift(schema["items"], get_args(inner)[0], f"{where}[]")
    if get_origin(inner) is dict:
        if kind != "object" or "additionalProperties" not in schema:
            return [f"{where}: dict but schema is not a map"]
        return drift(schema["additionalProperties"], get_args(inner)[1], f"{where}{{}}")
    if isinstance(inner, type) and issubclass(inner, StrEnum):
        values = {member.value for member in inner}
        if kind != "string" or set(schema.get("enum", [])) != values:
            return [f"{where}: enum {sorted(values)} but schema {schema.get('enum')}"]
        return []
    if inner in (datetime, AwareDatetime):
        ok = kind == "string" and schema.get("format") == "date-time"
        return [] if ok else [f"{where}: datetime but schema {kind} {schema.get('format')}"]
    expected = {str: "string", int: "integer", bool: "boolean"}.get(inner)
    if expected is None or kind != expected or "enum" in schema:
        return [f"{where}: {inner} but schema type {kind} enum {schema.get('enum')}"]
    if inner is str and schema.get("format") == "date-time":
        return [f"{where}: str but schema says date-time"]
    return []


def drift_model(schema: Mapping[str, Any], model: type[PydanticModel], where: str) -> list[str]:
    fields = {(field.alias or name): field for name, field in model.model_fields.items()}
    properties = schema.get("properties", {})
    problems = []
    if set(fields) != set(properties):
        problems.append(
            f"{where}: only in {model.__name__}: {sorted(set(fields) - set(properties))}, "
            f"only in CRD: {sorted(set(properties) - set(fields))}"
        )
    required = {alias for alias, field in fields.items() if field.is_required()}
    if required != set(schema.get("required", [])):
        problems.append(f"{where}: required {sorted(required)} but CRD {schema.get('required')}")
    for alias in sorted(set(fields) & set(properties)):
        field, node = fields[alias], properties[alias]
        problems += drift(node, field.annotation, f"{where}.{alias}")
        _, nullable = unwrap(field.annotation)
        if nullable and field.is_required():
            problems.append(f"{where}.{alias}: required but may be None")
        default = wire_default(field)
        if node.get("default", PydanticUndefined) != default:
            problems.append(f"{where}.{alias}: default {default!r} but CRD {node.get('default')}")
    return problems


class TestDrift:
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("part", ["spec", "status"])
    def test_crd_and_model_describe_the_same_fields(self, kind: str, part: str) -> None:
        wrapper = KINDS[kind][1]
        assert kind == wrapper.KIND
        properties = root_schema(kind)["properties"]
        if part not in properties:  # a kind without status (TrustedSigner) has none in Python
            assert part not in wrapper.model_fields
            return
        assert drift(properties[part], wrapper.model_fields[part].annotation, part) == []

    def test_the_drift_check_catches_drift(self) -> None:
        schema = copy.deepcopy(root_schema("GovernedModel")["properties"]["spec"])
        properties = schema["properties"]
        del properties["purpose"]
        properties["riskClass"]["enum"].append("unknown")
        properties["lifecycle"]["default"] = "deprecated"
        properties["lineage"]["properties"]["code"]["properties"]["commit"]["type"] = "integer"
        properties["artifacts"]["items"]["required"] = []
        problems = drift(schema, GovernedModelSpec, "spec")
        assert [problem.split(":")[0] for problem in problems] == [
            "spec",  # purpose
            "spec.artifacts[]",  # required name
            "spec.lifecycle",  # default
            "spec.lineage.code.commit",  # type
            "spec.riskClass",  # enum
        ], problems

    @pytest.mark.parametrize("kind", KINDS)
    def test_the_top_level_is_apiversion_kind_metadata_spec_status(self, kind: str) -> None:
        schema = root_schema(kind)
        parts = {"apiVersion", "kind", "metadata", "spec", "status"} - WITHOUT_STATUS.get(
            kind, set()
        )
        assert set(schema["properties"]) == parts
        assert schema["required"] == ["spec"]
