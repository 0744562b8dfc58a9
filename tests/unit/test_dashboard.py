"""The Grafana dashboard in the chart (charts/aigov/dashboards/aigov.json): it queries only
metrics and labels operator/aigov/metrics.py exports, covers each of them, and the chart
ships it as a ConfigMap the Grafana sidecar picks up."""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client.metrics import MetricWrapperBase
from tools.helm import CHART, Helm, by_kind

from aigov import metrics

DASHBOARD = CHART / "dashboards" / "aigov.json"
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")
NAME = re.compile(r"\baigov_[a-z_]+")
BY = re.compile(r"\bby \(([^)]*)\)")
MATCHER = re.compile(r"([a-z_]+)\s*(?:=~|!~|!=|=)\s*\"")


def _exported() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every metric of aigov.metrics: base name -> (type, label names)."""
    found = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            found[value._name] = (value._type, tuple(value._labelnames))
    return found


def _expressions() -> list[str]:
    panels: list[dict[str, Any]] = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p["targets"]]


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_every_queried_metric_and_label_exists_in_metrics_py() -> None:
    exported = _exported()
    assert exported, "aigov.metrics exports no metric?"
    for expr in _expressions():
        names = {_base(n) for n in NAME.findall(expr)}
        assert names, expr
        assert names <= set(exported), f"{expr}: unknown {names - set(exported)}"
        labels = {label for name in names for label in exported[name][1]}
        if any(exported[n][0] == "histogram" for n in names):
            labels.add("le")
        used = {x.strip() for group in BY.findall(expr) for x in group.split(",")}
        used |= set(MATCHER.findall(expr))
        assert used <= labels, f"{expr}: labels {used - labels} are not exported"


def test_every_metric_has_a_panel() -> None:
    queried = {_base(n) for expr in _expressions() for n in NAME.findall(expr)}
    missing = set(_exported()) - queried
    assert not missing, f"add a panel to {DASHBOARD.relative_to(CHART.parents[1])} for {missing}"


def test_the_check_can_fail() -> None:
    assert _base("aigov_admission_decisions_total") in _exported()
    assert _base("aigov_no_such_metric_total") not in _exported()


def _dashboard(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The dashboard's ConfigMap (the decision log's checkpoints are a ConfigMap too)."""
    (found,) = [
        o for o in by_kind(objects, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")
    ]
    return found


def test_chart_ships_the_dashboard_for_the_grafana_sidecar() -> None:
    helm = Helm.find()
    assert not [o for o in helm.template({}) if o["metadata"]["name"].endswith("-dashboard")]
    values = {"grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "AI"}}}
    config_map = _dashboard(helm.template(values, namespace="aigov-system"))
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "AI"}
    assert config_map["metadata"]["namespace"] == "aigov-system"
    assert json.loads(config_map["data"]["aigov.json"]) == json.loads(DASHBOARD.read_text())
    elsewhere = {"grafanaDashboard": {"enabled": True, "namespace": "monitoring"}}
    moved = _dashboard(helm.template(elsewhere, namespace="aigov-system"))
    assert moved["metadata"]["namespace"] == "monitoring"
