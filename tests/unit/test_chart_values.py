"""The Helm chart's files, read without helm: every value explained and schema-checked, the
CRDs and matchConditions copied from what the operator owns. (What helm renders is tested in
tests/e2e/test_chart_render.py, which needs the helm binary.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from tools.helm import CHART

from aigov import webhooks

ROOT = Path(__file__).resolve().parents[2]


def test_values_and_schema_name_the_same_keys() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False

    def walk(value: Any, node: dict[str, Any], path: str) -> None:
        props = node.get("properties")
        if props is None or not isinstance(value, dict):
            return
        where = path or "<root>"
        assert set(value) <= set(props), f"{where}: in values.yaml, not in the schema"
        if value:  # an empty map (e.g. issuerRef: {}) is an optional object left unset
            assert set(props) <= set(value), f"{where}: in the schema, not in values.yaml"
        for key, sub in value.items():
            walk(sub, props[key], f"{path}.{key}".lstrip("."))

    walk(values, schema, "")


def test_every_value_is_explained_by_a_comment() -> None:
    """Each value has a comment right above it, or shares the one of the sibling on the line
    right above, or of its parent (resources.requests.cpu is explained with `resources`).
    A parent without a comment of its own is fine when each of its values has one."""
    lines = [
        raw for raw in (CHART / "values.yaml").read_text().splitlines() if raw.strip() != "---"
    ]

    def indent(raw: str) -> int:
        return len(raw) - len(raw.lstrip())

    def is_key(raw: str) -> bool:
        return bool(raw.strip()) and not raw.strip().startswith(("#", "-"))

    explained: dict[int, bool] = {}  # indent -> whether the open key at that indent is
    explained_sibling = False
    undocumented = []
    for i, raw in enumerate(lines):
        if not is_key(raw):
            continue
        level = indent(raw)
        explained = {lv: ok for lv, ok in explained.items() if lv < level}
        above = lines[i - 1] if i else ""
        ok = (
            above.strip().startswith("#")
            or (is_key(above) and indent(above) == level and explained_sibling)
            or (bool(explained) and explained[max(explained)])
        )
        explained[level] = explained_sibling = ok
        following = next((line for line in lines[i + 1 :] if line.strip()), "")
        is_parent = not raw.split(":", 1)[1].strip() and indent(following) > level
        is_parent = is_parent and not following.strip().startswith("-")
        if not ok and not is_parent:
            undocumented.append(raw.strip())
    assert undocumented == []


def test_chart_crds_are_exact_copies_of_crds() -> None:
    ours = sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))
    charted = sorted(p.name for p in (CHART / "crds").glob("*.yaml"))
    assert charted == ours
    for name in ours:
        assert (CHART / "crds" / name).read_bytes() == (ROOT / "crds" / name).read_bytes(), (
            f"charts/aigov/crds/{name} differs from crds/{name}: cp crds/*.yaml charts/aigov/crds/"
        )


def test_match_conditions_file_is_what_the_operator_generates() -> None:
    """The chart cannot run Python: it reads the operator's matchConditions from a file,
    written by `python -m tools.match_conditions`."""
    path = CHART / "files" / "match-conditions.json"
    assert json.loads(path.read_text()) == webhooks.chart_conditions(), (
        f"{path} is stale: run python -m tools.match_conditions"
    )
