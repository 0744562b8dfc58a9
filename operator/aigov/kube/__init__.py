"""The operator's only door to the API server outside kopf's own machinery.

Used at start-up and shutdown (webhook configurations of local runs), by the reconcilers
and by leader election; never on the admission path to decide (admission reads in-memory
indexes only; it merely posts Events in the background). Calls are synchronous `kubernetes`
client calls over one long-lived client (client.py), run in threads so they never block
kopf's event loop. Only aigov.handlers imports this package (pyproject import contracts).
"""

from aigov.kube.configmaps import read_configmap_data, write_configmap_data
from aigov.kube.events import post_event
from aigov.kube.objects import get, list_labelled, merge_patch
from aigov.kube.reports import apply_report, delete_report, list_reports
from aigov.kube.webhooks import (
    apply_webhook_configuration,
    delete_webhook_configuration,
    set_mutation_conditions,
)

__all__ = [
    "apply_report",
    "apply_webhook_configuration",
    "delete_report",
    "delete_webhook_configuration",
    "get",
    "list_labelled",
    "list_reports",
    "merge_patch",
    "post_event",
    "read_configmap_data",
    "set_mutation_conditions",
    "write_configmap_data",
]
