"""report.html: one self-contained page a person reads (inline CSS and SVG, no scripts, no
external requests), made from the same Report as report.json.

Elements carry data- attributes (data-model, data-control, data-framework) so a test or a
tool reading the DOM finds the same keys as in report.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape

from aigov.evidencepack import svg
from aigov.evidencepack.controls import COVERAGE_TEXT
from aigov.evidencepack.report import (
    ApprovalInfo,
    AssessmentInfo,
    ControlTable,
    DecisionExcerpt,
    ModelReport,
    Report,
)

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: #0f172a; margin: 0; background: #f8fafc; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; } .card > h2:first-child { margin-top: 0; }
.meta { color: #475569; margin: 0 0 12px; }
.card { background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; padding: 16px 20px;
  margin: 16px 0; }
.facts { display: grid; grid-template-columns: 170px 1fr; gap: 2px 16px; margin: 0; }
.facts dt { color: #475569; } .facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid #e2e8f0; }
th { background: #f1f5f9; font-weight: 600; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.ok { background: #dcfce7; color: #166534; } .bad { background: #fee2e2; color: #991b1b; }
.warn { background: #fef3c7; color: #92400e; } .none { background: #e2e8f0; color: #334155; }
.enforced { background: #dcfce7; color: #166534; }
.recorded { background: #dbeafe; color: #1e40af; }
.human { background: #f1f5f9; color: #475569; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.graph { overflow-x: auto; padding: 4px 0; }
ol.timeline { list-style: none; padding-left: 0; margin: 0; border-left: 2px solid #cbd5e1; }
ol.timeline li { position: relative; padding: 2px 0 8px 16px; }
ol.timeline li::before { content: ""; position: absolute; left: -6px; top: 7px; width: 10px;
  height: 10px; border-radius: 50%; background: #64748b; }
.muted { color: #64748b; }
nav ul { margin: 4px 0; padding-left: 18px; }
@media print { body { background: #fff; } .card { break-inside: avoid; } }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _person(who: str | None, signed_by: str | None) -> str:
    name = f"<strong>{_e(who)}</strong>" if who else '<span class="muted">not stamped</span>'
    return name + (f" (signed with key {_e(signed_by)})" if signed_by else "")


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<dl class="facts">{body}</dl>'


def _phase(m: ModelReport) -> str:
    style = "ok" if m.may_run else ("warn" if m.phase.startswith("Pending") else "bad")
    return f'<span class="badge {style}">{_e(m.phase)}</span>'


def _assessment(a: AssessmentInfo | None) -> str:
    if a is None:
        return '<p class="muted">No risk assessment bound to the current spec hash.</p>'
    state = '<span class="badge bad">expired</span>' if a.expired else ""
    hazards = "".join(
        f"<li><strong>{_e(h.get('id'))}</strong> {_e(h.get('description'))}"
        f" <span class='muted'>(severity {_e(h.get('severity') or '-')}, likelihood "
        f"{_e(h.get('likelihood') or '-')}; mitigations: "
        f"{_e('; '.join(h.get('mitigations') or []) or 'none')})</span></li>"
        for h in a.hazards
    )
    return _facts(
        [
            ("RiskAssessment", f"<code>{_e(a.name)}</code> {state}"),
            ("assessed by", _person(a.assessor, a.signed_by)),
            ("risk level", _e(a.risk_level)),
            ("methodology", _e(a.methodology)),
            ("impact assessment", _e(a.impact_assessment_ref or "-")),
            ("valid until", _e(a.valid_until)),
            ("spec hash", f"<code>{_e(a.spec_hash)}</code>"),
        ]
    ) + (f"<h3>Hazards</h3><ul>{hazards}</ul>" if hazards else "")


def _approval(a: ApprovalInfo | None) -> str:
    if a is None:
        return '<p class="muted">No approval decision bound to the current spec hash.</p>'
    style = "ok" if a.decision == "approve" and not a.expired else "bad"
    label = f"{a.decision}{' (expired)' if a.expired else ''}"
    return _facts(
        [
            ("ModelApproval", f"<code>{_e(a.name)}</code>"),
            ("decision", f'<span class="badge {style}">{_e(label)}</span>'),
            ("decided by", _person(a.approver, a.signed_by)),
            ("decided at", _e(a.decided_at)),
            ("justification", _e(a.justification)),
            ("relies on", _e(a.risk_assessment_ref or "-")),
            ("valid until", _e(a.valid_until or "as long as the assessment")),
            ("spec hash", f"<code>{_e(a.spec_hash)}</code>"),
        ]
    )


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _lineage_tables(m: ModelReport) -> str:
    artifacts = _table(
        ["artifact", "location", "digest / revision"],
        (
            [
                _e(a.name),
                f"<code>{_e(a.location)}</code>",
                f"<code>{_e(a.digest or a.revision or 'not pinned')}</code>",
            ]
            for a in m.artifacts
        ),
        "artifacts",
    )
    datasets = _table(
        ["dataset", "role", "personal data", "uri", "digest"],
        (
            [
                _e(d.name),
                _e(d.role),
                "yes" if d.contains_personal_data else "no",
                f"<code>{_e(d.uri)}</code>",
                f"<code>{_e(d.digest or '-')}</code>",
            ]
            for d in m.datasets
        ),
        "datasets",
    )
    origin = []
    if m.code:
        origin.append(
            (
                "code",
                f"<code>{_e(m.code.get('repository'))}</code> at commit "
                f"<code>{_e(m.code.get('commit'))}</code>",
            )
        )
    if m.base_model:
        b = m.base_model
        origin.append(
            (
                "base model",
                f"{_e(b.get('name'))} from {_e(b.get('supplier') or '-')}, "
                f"licence {_e(b.get('license') or '-')}",
            )
        )
    if m.training_run:
        origin.append(("training run", _e(m.training_run.get("id"))))
    return (_facts(origin) if origin else "") + artifacts + datasets


def _timeline(m: ModelReport) -> str:
    if not m.history:
        return '<p class="muted">No history recorded (status.history is empty).</p>'
    items = "".join(
        f"<li><code>{_e(h.time)}</code> <strong>{_e(h.event)}</strong>"
        f"{' by ' + _e(h.actor) if h.actor else ''}"
        f"{' <span class=muted>' + _e(h.message) + '</span>' if h.message else ''}</li>"
        for h in m.history
    )
    return f'<ol class="timeline">{items}</ol>'


def _workloads(m: ModelReport) -> str:
    if not m.workloads:
        return '<p class="muted">No workloads of this model.</p>'
    return _table(
        ["workload", "state", "nodes", "GPU pools"],
        (
            [
                f"{_e(w.kind)} <code>{_e(w.namespace)}/{_e(w.name)}</code>",
                '<span class="badge bad">flagged: ' + _e(w.reason) + "</span>"
                if w.flagged
                else ("running" if w.observed else "declared in manifests"),
                _e(", ".join(w.nodes) or "-"),
                _e(", ".join(w.pools) or "-"),
            ]
            for w in m.workloads
        ),
        "workloads",
    )


def _violations(m: ModelReport) -> str:
    if not m.violations:
        return '<p><span class="badge ok">none</span> every rule about the model holds now.</p>'
    return _table(
        ["code", "field", "what is wrong", "controls"],
        (
            [
                f'<span class="badge bad">{_e(v.code)}</span>',
                f"<code>{_e(v.path)}</code>",
                _e(v.message),
                _e(", ".join(v.controls) or "-"),
            ]
            for v in m.violations
        ),
        "violations",
    )


def _model(m: ModelReport, index: int) -> str:
    facts = _facts(
        [
            ("purpose", _e(m.purpose)),
            ("owner", _e(m.owner)),
            ("risk class", f"<strong>{_e(m.risk_class)}</strong> (EU AI Act tier)"),
            ("phase", _phase(m)),
            ("model and version", f"{_e(m.model_name)} {_e(m.version)}"),
            ("lifecycle", _e(m.lifecycle)),
            ("authored by", _e(", ".join(m.authors) or "not stamped")),
            ("placement", _e(m.placement)),
            ("spec hash", f"<code>{_e(m.spec_hash)}</code>"),
            ("ML-BOM", f'<a href="{_e(m.bom)}"><code>{_e(m.bom)}</code></a>'),
        ]
    )
    return (
        f'<section class="card model" id="model-{index}" data-model="{_e(m.key)}">'
        f"<h2>{_e(m.key)} {_phase(m)}</h2>{facts}"
        f'<h3>Lineage</h3><div class="graph">{svg.render(m.lineage, f"m{index}")}</div>'
        f"{_lineage_tables(m)}"
        f'<div class="two"><div><h3>Assessment in force</h3>{_assessment(m.assessment)}</div>'
        f"<div><h3>Approval decision in force</h3>{_approval(m.approval)}</div></div>"
        f"<h3>Workloads</h3>{_workloads(m)}"
        f"<h3>Current violations</h3>{_violations(m)}"
        f"<h3>Timeline</h3>{_timeline(m)}</section>"
    )


def _controls(table: ControlTable) -> str:
    counts = Counter(c.coverage for c in table.controls)
    summary = ", ".join(f"{counts.get(k.value, 0)} {text}" for k, text in COVERAGE_TEXT.items())
    rows = "".join(
        f'<tr data-control="{_e(c.id)}"><td><strong>{_e(c.id)}</strong></td>'
        f"<td>{_e(c.title)}</td>"
        f'<td><span class="badge {_e(c.coverage)}">{_e(c.coverage_text)}</span></td>'
        f"<td>{_e(c.evidence)}</td></tr>"
        for c in table.controls
    )
    return (
        f'<section class="card" id="controls-{_e(table.key)}">'
        f"<h2>{_e(table.name)}</h2><p class='meta'>{len(table.controls)} controls: {summary}.</p>"
        f'<table class="controls" data-framework="{_e(table.key)}"><thead><tr><th>control</th>'
        "<th>title</th><th>covered</th><th>where the evidence lives</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _decisions(d: DecisionExcerpt) -> str:
    if not d.sources:
        body = (
            '<p class="muted">No decision log was given (--log): this pack holds no decision '
            "records.</p>"
        )
    else:
        body = _facts(
            [
                ("read from", _e(", ".join(d.sources))),
                ("period", f"since {_e(d.since)}" if d.since else "everything in the log"),
                ("records", f"{d.count} in <code>{_e(d.file)}</code>"),
                ("verification", f"<strong>{_e(d.verification)}</strong>"),
            ]
        )
    return f'<section class="card" id="decisions"><h2>Decision log</h2>{body}</section>'


def render(report: Report) -> str:
    """The whole page."""
    scope = report.namespace or "all namespaces"
    if report.model:
        scope += f", model {report.model}"
    running = sum(1 for m in report.models if m.may_run)
    toc = "".join(
        f'<li><a href="#model-{i}">{_e(m.key)}</a> {_phase(m)}</li>'
        for i, m in enumerate(report.models)
    )
    models = "".join(_model(m, i) for i, m in enumerate(report.models)) or (
        '<p class="card muted">No GovernedModels in scope.</p>'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>aigov evidence: {_e(scope)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>AI governance evidence: {_e(scope)}</h1>"
        f'<p class="meta">Generated {_e(report.generated_at)} by {_e(report.generator)} from '
        f"{_e(report.source)}. {len(report.models)} models, {running} may run now.</p>"
        f'<nav class="card"><strong>Models</strong><ul>{toc}</ul>'
        '<a href="#controls-iso42001">ISO/IEC 42001 Annex A</a> · '
        '<a href="#controls-euaiact">EU AI Act</a> · <a href="#decisions">Decision log</a></nav>'
        f"{models}{''.join(_controls(t) for t in report.frameworks)}"
        f"{_decisions(report.decisions)}</main></body></html>\n"
    )
