"""report.html in a real browser: Chromium (Debian's package, installed by tools/chromium.sh
when missing) lays the page out; its DOM shows both control tables and each model's lineage
graph, and its screenshot is a drawn page, not a blank one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.evidence import dump_dom, parse_dom, png_colours, screenshot

from aigov.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_chromium_renders_the_tables_and_lineage_graphs(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    assert (
        main(["evidence", "--from", str(ROOT / "examples"), "-n", "ai-prod", "-o", str(out)]) == 0
    )
    report = json.loads((out / "report.json").read_text())
    dom = parse_dom(dump_dom(out / "report.html"))
    assert dom.models == ["ai-prod/fraud-scorer", "ai-prod/support-assistant"]
    assert len(dom.controls["iso42001"]) == 38
    assert len(dom.controls["euaiact"]) == len(report["frameworks"][1]["controls"])
    assert dom.svg_in_models == 2
    for key in dom.models:
        kinds = {kind for kind, _ in dom.nodes[key]}
        assert {"model", "dataset", "code", "workload"} <= kinds, key
    assert ("model", "model:ai-prod/fraud-scorer") in dom.nodes["ai-prod/fraud-scorer"]
    assert ("dataset", "dataset:transactions-2025") in dom.nodes["ai-prod/fraud-scorer"]
    assert dom.external == []

    png = screenshot(out / "report.html", tmp_path / "report.png", 1100, 900)
    width, height, colours = png_colours(png)
    assert (width, height) == (1100, 900)
    assert colours > 50, f"a blank page? only {colours} colours"
