"""The examples/ catalogue: every file says what should happen, in words the webhook uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tools.examples import CI, EXAMPLES, Example, ExampleError, catalogue, parse

from aigov.api.constants import Reason

FILES = sorted(p for p in EXAMPLES.rglob("*") if p.is_file() and CI not in p.parents)


def test_there_are_examples() -> None:
    assert Path(__file__).resolve().parents[2] / "examples" == EXAMPLES
    assert len(FILES) >= 4


def test_catalogue_holds_every_file_in_order() -> None:
    assert [e.path for e in catalogue()] == FILES
    assert all(p.suffix == ".yaml" for p in FILES), "only .yaml files are applied by the demo"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(EXAMPLES)) for p in FILES])
def test_every_example_has_a_valid_header_and_manifest(path: Path) -> None:
    example = parse(path)
    assert example.expect in {"admitted", "refused"}
    assert example.description, f"{example.name}: explain the example under its header"
    if example.expect == "refused":
        assert example.reason is not None, f"{example.name}: a refusal must name its reason"
        assert example.reason in {r.value for r in Reason}, (
            f"{example.name}: reason={example.reason} is not a reason code"
        )
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert documents, f"{example.name}: no manifest"
    for document in documents:
        assert isinstance(document, dict)
        assert isinstance(document.get("kind"), str)
        assert isinstance(document.get("apiVersion"), str)


def test_known_examples() -> None:
    by_name = {e.name: e for e in catalogue()}
    ungoverned = by_name["01-first-rule/gpu-deployment-ungoverned.yaml"]
    assert (ungoverned.expect, ungoverned.reason) == ("refused", "UngovernedWorkload")
    assert by_name["01-first-rule/cpu-deployment.yaml"].expect == "admitted"


def test_parse_reads_every_header_field(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_text(
        "# aigov-example: expect=refused reason=ModeChangeForbidden as=dev groups=a,b, junk\n"
        "# A tenant tries to opt out.\n"
        "#   Second line.\n"
        "apiVersion: v1\n"
        "kind: Namespace\n"
        "# a comment after the manifest starts is not description\n"
    )
    example = parse(file)
    assert example == Example(
        path=file,
        expect="refused",
        reason="ModeChangeForbidden",
        user="dev",
        groups=("a", "b"),
        description="A tenant tries to opt out. Second line.",
    )
    assert "kind: Namespace" in example.text


def test_parse_defaults(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_text("# aigov-example: expect=admitted\napiVersion: v1\nkind: Namespace\n")
    example = parse(file)
    assert (example.reason, example.user, example.groups, example.description) == (
        None,
        None,
        (),
        "",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "first line must be '# aigov-example: expect=...'"),
        ("apiVersion: v1\nkind: Namespace\n", "first line must be '# aigov-example: expect=...'"),
        (
            "# A namespace\n# aigov-example: expect=admitted\n",
            "first line must be '# aigov-example: expect=...'",
        ),
        ("# aigov-example:\napiVersion: v1\n", "expect must be admitted or refused, got None"),
        (
            "# aigov-example: expect=denied\napiVersion: v1\n",
            "expect must be admitted or refused, got 'denied'",
        ),
        (
            "# aigov-example: expect=Admitted\napiVersion: v1\n",
            "expect must be admitted or refused, got 'Admitted'",
        ),
        (
            "# aigov-example: reason=UngovernedWorkload\napiVersion: v1\n",
            "expect must be admitted or refused, got None",
        ),
    ],
    ids=["empty", "no-header", "header-not-first", "no-expect", "bad", "case", "reason-only"],
)
def test_parse_rejects_bad_headers(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    with pytest.raises(ExampleError) as info:
        parse(file)
    assert str(info.value) == f"{file}: {message}"


def test_example_assessments_and_approvals_name_the_example_models_hash() -> None:
    """A RiskAssessment or ModelApproval in examples/ must bind to its model's real hash,
    or the governed story would silently stop at PendingAssessment."""
    from aigov.api.base import spec_hash

    docs = [
        doc
        for example in catalogue()
        for doc in yaml.safe_load_all(example.text)
        if isinstance(doc, dict)
    ]
    hashes = {
        (d["metadata"]["namespace"], d["metadata"]["name"]): spec_hash(d["spec"])
        for d in docs
        if d.get("kind") == "GovernedModel"
    }
    bound = [d for d in docs if d.get("kind") in {"RiskAssessment", "ModelApproval"}]
    assert bound, "the examples tell the governed story"
    for doc in bound:
        ref = doc["spec"]["modelRef"]
        key = (doc["metadata"]["namespace"], ref["name"])
        assert ref["specHash"] == hashes[key], doc["metadata"]["name"]
