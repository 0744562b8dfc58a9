"""Admission: an AdmissionRequest and the namespace's mode in, an Outcome out.

Pure translation between the Kubernetes admission protocol and aigov.policy: no kopf, no
API calls, no writes. The handlers package applies an Outcome (refuse, warn, annotate).
"""
