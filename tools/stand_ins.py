"""Stand-in CRDs for the optional workload kinds, for tests and the demo.

LeaderWorkerSet, JobSet, Ray, TrainJob, NIMService and LLMInferenceService objects become
creatable without their operators (InferenceService has its own typed stand-in in
tests/e2e/manifests); the real API server then sends each to the real webhook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aigov.api.kinds import workload_kinds

KSERVE_STAND_IN = (
    Path(__file__).resolve().parents[1] / "tests/e2e/manifests/kserve-inferenceservice-crd.yaml"
)
"""The typed InferenceService stand-in, kept beside the tests that first needed it."""


def stand_in_crds() -> list[dict[str, Any]]:
    """Minimal CRDs for the optional workload kinds of the kinds table (InferenceService has
    its own typed stand-in): any spec is kept, so real manifests of these kinds apply
    unchanged and the webhook sees them as the API server stores them."""
    crds = []
    for entry in workload_kinds().kinds:
        if not entry.optional or entry.kind == "InferenceService":
            continue
        crds.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": f"{entry.plural}.{entry.group}",
                    "labels": {"app.kubernetes.io/name": "aigov-e2e-stand-in"},
                },
                "spec": {
                    "group": entry.group,
                    "scope": "Namespaced",
                    "names": {
                        "kind": entry.kind,
                        "listKind": f"{entry.kind}List",
                        "plural": entry.plural,
                        "singular": entry.kind.lower(),
                    },
                    "versions": [
                        {
                            "name": entry.version,
                            "served": True,
                            "storage": True,
                            "subresources": {"status": {}},
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "properties": {
                                        "spec": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                        "status": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                    },
                                }
                            },
                        }
                    ],
                },
            }
        )
    return crds
