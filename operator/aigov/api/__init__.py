"""The aigov API: names, constants and pydantic models of the custom resources.

Everything here is pure data: no kopf, no Kubernetes client, no I/O (engines.py reads the
package's own engine table once, as importing a module would). The names are the
interface contract of DESIGN.md; examples, the chart and outside checks depend on them.
"""
