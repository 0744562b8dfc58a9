"""kopf wiring only: decorators and short functions that parse, call, and apply.

Importing this package registers every handler with kopf's default registry. Decisions live
in aigov.admission / aigov.reconcile / aigov.policy; nothing here decides anything.
"""

from aigov.handlers import (
    admission,
    decisionlog,
    indexes,
    leadership,
    lifecycle,
    mutation_scope,
    reconcile,
)

__all__ = [
    "admission",
    "decisionlog",
    "indexes",
    "leadership",
    "lifecycle",
    "mutation_scope",
    "reconcile",
]
