"""The kopf settings aigov runs with (handlers.lifecycle.configure): our names for kopf's
bookkeeping, and pods filtered by the API server, not in the operator."""

from __future__ import annotations

from pathlib import Path

import kopf

from aigov.config import Settings
from aigov.handlers.lifecycle import configure
from aigov.handlers.runtime import Runtime


def _settings(tmp_path: Path) -> kopf.OperatorSettings:
    runtime = Runtime(settings=Settings(), cert_dir=tmp_path)
    settings = kopf.OperatorSettings()
    configure(settings, runtime)
    return settings


def test_only_pods_that_name_a_model_are_listed_and_watched(tmp_path: Path) -> None:
    selectors = _settings(tmp_path).watching.label_selectors
    assert selectors.collect(kopf.Resource("", "v1", "pods")) == ["aigov.io/model"]
    # Nothing else is filtered: not the pods of another API group, not other kinds.
    assert selectors.collect(kopf.Resource("metrics.k8s.io", "v1beta1", "pods")) == []
    assert selectors.collect(kopf.Resource("", "v1", "namespaces")) == []
    assert selectors.collect(kopf.Resource("aigov.io", "v1alpha1", "governedmodels")) == []


def test_kopf_bookkeeping_carries_our_names(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.persistence.finalizer == "aigov.io/finalizer"
    assert settings.admission.managed is None
