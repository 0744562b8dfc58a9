"""The container image the chart runs: properties of the Dockerfile and of its inputs that
can be checked without building it. tests/e2e/test_image.py checks the built image itself
(its config and filesystem) and runs it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _stages() -> list[Stage]:
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)  # join continuation lines
    stages: list[Stage] = []
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].lower() == "as" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return _stages()


def test_multi_stage_from_python_slim(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert arg is not None
    # Same Debian release as the bases tools/image/build.sh makes from Debian's packages.
    assert arg.group(1).startswith("python:3.11-slim-bookworm")
    builder_arg = re.search(r"^ARG BUILDER_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert builder_arg is not None
    assert builder_arg.group(1) == "${PYTHON_IMAGE}", "one base unless the build says otherwise"
    assert stages[0].base == "${BUILDER_IMAGE}"
    assert stages[0].name == "builder"
    assert stages[-1].base == "${PYTHON_IMAGE}"


def test_final_stage_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    final = stages[-1]
    (user,) = final.all("USER")
    uid, _, gid = user.partition(":")
    assert uid == "65532"
    assert gid in {"", "65532"}
    # USER comes after everything that needs root.
    keywords = [kw for kw, _ in final.instructions]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN")


def test_final_stage_has_no_build_tools_and_no_pip(stages: list[Stage]) -> None:
    final = stages[-1]
    commands = " ".join(final.all("RUN"))
    for forbidden in ("apt-get", "apk ", "gcc", "pip install", "build-essential", "curl", "wget"):
        assert forbidden not in commands, forbidden
    assert "pip uninstall --yes pip" in commands
    assert "ensurepip" in commands  # the bundled wheels could bring pip back
    copies = final.all("COPY")
    assert copies == ["--from=builder /opt/aigov /opt/aigov"], "only the built environment"


def test_builder_installs_the_package_and_drops_its_pip(stages: list[Stage]) -> None:
    builder = stages[0]
    runs = builder.all("RUN")
    commands = " ".join(runs)
    assert "--no-deps --requirement requirements.lock" in runs[0], "dependencies from the lock"
    assert "/opt/aigov/bin/pip install --no-compile --no-deps ." in commands
    assert "/opt/aigov/bin/pip check" in commands, "the lock must satisfy every dependency"
    assert "/opt/aigov/bin/pip uninstall --yes pip setuptools" in commands
    copies = builder.all("COPY")
    # The lock is copied alone before the code: its layer survives every code change.
    assert copies[0] == "requirements.lock ./"
    assert "pyproject.toml" in " ".join(copies[1:])


def _lock() -> dict[str, str]:
    pins = {}
    for raw in (ROOT / "requirements.lock").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, line
            assert re.fullmatch(r"[0-9][0-9A-Za-z.\-+]*", version), line
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_every_dependency_at_the_pyproject_version() -> None:
    """requirements.lock (tools/image/lock.sh) must agree with pyproject.toml: a dependency
    bumped in one and not the other would make `pip check` fail in the image build."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock()
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        assert lock.get(re.sub(r"[-_.]+", "-", name).lower()) == version, requirement
    for tool in ("pip", "setuptools", "wheel", "aigov"):
        assert tool not in lock, f"{tool} has no place in the image's environment"


def test_dependencies_are_pinned_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.\-]*", requirement), (
            f"{requirement}: the image installs exactly what pyproject pins"
        )


def test_entrypoint_and_ports_match_the_chart(stages: list[Stage]) -> None:
    final = stages[-1]
    assert final.all("ENTRYPOINT") == ['["python", "-m", "aigov"]']
    assert "CMD" not in [kw for kw, _ in final.instructions]
    values = yaml.safe_load((ROOT / "charts" / "aigov" / "values.yaml").read_text())
    (exposed,) = final.all("EXPOSE")
    assert {int(p) for p in exposed.split()} == {
        values["operator"]["webhookPort"],
        values["operator"]["healthPort"],
    }
    env = " ".join(final.all("ENV"))
    assert "PATH=/opt/aigov/bin:$PATH" in env


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".cache", ".venv", "tests", "**/*.egg-info", "kubeconfig"} <= ignored
    for needed in ("pyproject.toml", "README.md", "operator", "requirements.lock"):
        assert needed not in ignored
