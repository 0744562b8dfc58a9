"""The evidence pack an auditor reads: from parsed governance objects to a report model, its
HTML page, its JSON form and one CycloneDX 1.6 ML-BOM per model.

Pure: every function takes parsed objects (GovernedModels, the assessments and approvals
naming them, placement policies, workloads, decision-log records) and returns data or text.
No Kubernetes client, no clock reads, no files written; `aigov.cli.evidence` reads the
cluster or the manifests and writes the pack.
"""
