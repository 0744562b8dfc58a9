"""Write charts/aigov/files/match-conditions.json from aigov.webhooks.chart_conditions().

The chart cannot run Python, so it reads the webhooks' generated matchConditions (reserved
pools, workloads, the mutating webhook's) from this file; tests/unit/test_chart_render.py
fails while the file is stale.
Run: `.venv/bin/python -m tools.match_conditions`.
"""

from __future__ import annotations

import json
from pathlib import Path

from aigov.webhooks import chart_conditions

PATH = Path(__file__).resolve().parents[1] / "charts" / "aigov" / "files" / "match-conditions.json"


def main() -> None:
    PATH.write_text(json.dumps(chart_conditions(), indent=2) + "\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
