"""The examples/ catalogue: each manifest file says what should happen when it is applied.

A file starts with a header line
`# aigov-example: expect=admitted|refused [reason=Code] [as=user] [groups=g1,g2]`
and then comment lines that explain it. The demo applies them in order and shows what
happened; tests/e2e/test_examples.py applies them and checks the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HEADER = "# aigov-example:"
NAMESPACES = ("ai-prod", "ai-sandbox", "ai-gitops")
"""The namespaces the story makes; removed before it is told again."""


class ExampleError(ValueError):
    """An example file without a valid header."""


@dataclass(frozen=True)
class Example:
    """One example manifest and its expected outcome."""

    path: Path
    expect: str
    reason: str | None
    user: str | None
    groups: tuple[str, ...]
    description: str

    @property
    def name(self) -> str:
        return str(self.path.relative_to(EXAMPLES))

    @property
    def text(self) -> str:
        return self.path.read_text()


def parse(path: Path) -> Example:
    """Read the header and description of one example file."""
    lines = path.read_text().splitlines()
    if not lines or not lines[0].startswith(HEADER):
        raise ExampleError(f"{path}: first line must be '{HEADER} expect=...'")
    fields = dict(item.split("=", 1) for item in lines[0][len(HEADER) :].split() if "=" in item)
    expect = fields.get("expect")
    if expect not in {"admitted", "refused"}:
        raise ExampleError(f"{path}: expect must be admitted or refused, got {expect!r}")
    description = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        description.append(line.lstrip("# ").rstrip())
    groups = tuple(g for g in fields.get("groups", "").split(",") if g)
    return Example(
        path=path,
        expect=expect,
        reason=fields.get("reason"),
        user=fields.get("as"),
        groups=groups,
        description=" ".join(description),
    )


CI = EXAMPLES / "ci"
"""CI configurations that run `aigov check`: examples too, but not Kubernetes manifests."""


def catalogue() -> list[Example]:
    """Every example manifest, in the order the story is told (sorted paths)."""
    return [parse(p) for p in sorted(EXAMPLES.rglob("*.yaml")) if CI not in p.parents]
