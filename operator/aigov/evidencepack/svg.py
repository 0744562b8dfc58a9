"""The lineage graph as inline SVG, laid out here: no JavaScript, no external request.

Columns left to right: what the model came from (datasets, base model, code commit), the
model, the workloads running it, the GPU pools they run on. Each column is centred
vertically; edges are curves from the right side of a box to the left side of the next.
"""

from __future__ import annotations

from html import escape

from aigov.evidencepack.report import Graph, GraphNode

COLUMNS = {"dataset": 0, "base-model": 0, "code": 0, "model": 1, "workload": 2, "pool": 3}
FILL = {
    "dataset": "#e0f2fe",
    "base-model": "#ede9fe",
    "code": "#f1f5f9",
    "model": "#fef3c7",
    "workload": "#dcfce7",
    "pool": "#fee2e2",
}
STROKE = {
    "dataset": "#0369a1",
    "base-model": "#6d28d9",
    "code": "#475569",
    "model": "#b45309",
    "workload": "#15803d",
    "pool": "#b91c1c",
}
FLAGGED = "#dc2626"
"""Outline of a workload aigov flagged (its model lost approval or placement)."""
WIDTH, HEIGHT, GAP_Y, GAP_X, PAD = 200, 48, 14, 70, 10
MAX_LABEL = 26


def _clip(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def layout(graph: Graph) -> tuple[dict[str, tuple[int, int]], int, int]:
    """Top-left corner of every node, and the drawing's width and height."""
    used = sorted({COLUMNS[n.kind] for n in graph.nodes})
    column_of = {c: i for i, c in enumerate(used)}
    stacks: dict[int, list[GraphNode]] = {}
    for node in graph.nodes:
        stacks.setdefault(column_of[COLUMNS[node.kind]], []).append(node)
    tallest = max((len(s) for s in stacks.values()), default=1)
    height = PAD * 2 + tallest * HEIGHT + (tallest - 1) * GAP_Y
    width = PAD * 2 + len(used) * WIDTH + max(len(used) - 1, 0) * GAP_X
    where: dict[str, tuple[int, int]] = {}
    for column, stack in stacks.items():
        block = len(stack) * HEIGHT + (len(stack) - 1) * GAP_Y
        top = (height - block) // 2
        for row, node in enumerate(stack):
            where[node.id] = (PAD + column * (WIDTH + GAP_X), top + row * (HEIGHT + GAP_Y))
    return where, width, height


def render(graph: Graph, prefix: str) -> str:
    """The graph as an <svg> element; `prefix` keeps marker ids unique in the page."""
    where, width, height = layout(graph)
    arrow = f"{prefix}-arrow"
    parts = [
        f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="lineage graph">',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#64748b"/></marker></defs>',
    ]
    for edge in graph.edges:
        if edge.source not in where or edge.target not in where:
            continue
        (x1, y1), (x2, y2) = where[edge.source], where[edge.target]
        sx, sy, tx, ty = x1 + WIDTH, y1 + HEIGHT // 2, x2, y2 + HEIGHT // 2
        middle = (sx + tx) // 2
        parts.append(
            f'<path class="edge" data-from="{escape(edge.source)}" '
            f'data-to="{escape(edge.target)}" d="M{sx},{sy} C{middle},{sy} {middle},{ty} '
            f'{tx - 2},{ty}" fill="none" stroke="#64748b" stroke-width="1.5" '
            f'marker-end="url(#{arrow})"/>'
        )
    for node in graph.nodes:
        x, y = where[node.id]
        flagged = node.kind == "workload" and node.detail.endswith("flagged")
        stroke = FLAGGED if flagged else STROKE[node.kind]
        dash = ' stroke-dasharray="5 3"' if flagged else ""
        parts.append(
            f'<g class="node node-{node.kind}" data-node-id="{escape(node.id)}" '
            f'data-kind="{node.kind}">'
            f"<title>{escape(node.label)}{' - ' + escape(node.detail) if node.detail else ''}"
            "</title>"
            f'<rect x="{x}" y="{y}" width="{WIDTH}" height="{HEIGHT}" rx="8" '
            f'fill="{FILL[node.kind]}" stroke="{stroke}" stroke-width="1.5"{dash}/>'
            f'<text x="{x + 10}" y="{y + 20}" font-size="13" font-weight="600" '
            f'fill="#0f172a">{escape(_clip(node.label))}</text>'
            f'<text x="{x + 10}" y="{y + 38}" font-size="11" fill="#475569">'
            f"{escape(_clip(node.detail, 32))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
