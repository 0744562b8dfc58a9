"""Fault: the webhook's serving certificate expires, then is renewed (issue 11).

A second operator serves its own webhook configuration from certificate files in a
directory, as the chart mounts a Secret that cert-manager renews. While its certificate is
expired, the API server cannot call it and, with failurePolicy Fail, refuses what the
webhook would have judged: nothing is let through. Once the files are renewed the server
loads them without a restart and admission works again; the test measures how long that
takes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tools.controlplane.operator import Operator, running_operator
from tools.kubectl import Kube

from aigov.certs import KeyPair, issue, make_ca
from aigov.handlers.server import CERT_CHECK_SECONDS
from tests.e2e import manifests

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "aigov-e2e-certs"


def _write_leaf(ca: KeyPair, directory: Path, validity: dt.timedelta) -> None:
    leaf = issue(ca, "127.0.0.1", hosts=("127.0.0.1", "localhost"), server=True, validity=validity)
    # Written the way a kubelet updates a mounted Secret: both files, then picked up.
    leaf.write(directory / "tls.crt", directory / "tls.key")


@pytest.fixture
def cert_dir(tmp_path: Path) -> tuple[KeyPair, Path]:
    ca = make_ca("aigov e2e rotating CA")
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    _write_leaf(ca, tmp_path, dt.timedelta(days=1))
    return ca, tmp_path


@pytest.fixture
def rotating_operator(kube: Kube, cert_dir: tuple[KeyPair, Path]) -> Iterator[Operator]:
    log = ROOT / ".cache" / "e2e" / "operator-certs.log"
    with running_operator(
        kube.kubeconfig, log, config_name=CONFIG, AIGOV_CERT_DIR=str(cert_dir[1])
    ) as op:
        yield op


def test_an_expired_certificate_fails_closed_and_a_renewed_one_is_served_at_once(
    kube: Kube, rotating_operator: Operator, cert_dir: tuple[KeyPair, Path], unique: str
) -> None:
    ca, directory = cert_dir
    ns = kube.namespace(f"certs-{unique}", mode="warn")
    # Warn mode: aigov admits this pod with a warning, so a refusal can only come from the
    # API server failing to call a webhook.
    pod = manifests.pod("probe", ns, gpus=1, model="no-such-model")

    def create() -> tuple[bool, str]:
        result = kube.run("create", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(pod))
        return result.ok, result.stderr

    ok, stderr = create()
    assert ok, stderr
    assert "ModelNotFound" in stderr  # the warning: both webhooks judged it

    # Expired: valid from 5 minutes ago until 1 minute ago.
    _write_leaf(ca, directory, dt.timedelta(minutes=-4))
    started = time.monotonic()
    refused_at = None
    allowed_after_switch = 0
    while time.monotonic() - started < 60:
        ok, stderr = create()
        if not ok:
            assert CONFIG in stderr or "x509" in stderr or "certificate" in stderr, stderr
            refused_at = time.monotonic() - started
            break
        time.sleep(0.5)
    assert refused_at is not None, "the expired certificate was never served"
    for _ in range(10):  # once expired, nothing gets through
        ok, stderr = create()
        allowed_after_switch += ok
    assert allowed_after_switch == 0
    assert "failed calling webhook" in stderr, stderr

    _write_leaf(ca, directory, dt.timedelta(days=1))
    renewed = time.monotonic()
    recovered_at = None
    while time.monotonic() - renewed < 60:
        ok, stderr = create()
        if ok:
            recovered_at = time.monotonic() - renewed
            break
        time.sleep(0.5)
    assert recovered_at is not None, f"admission did not recover: {stderr}"
    assert recovered_at < CERT_CHECK_SECONDS + 20, recovered_at
    print(  # recorded in the test output: the README's failure-mode numbers come from here
        f"\ncertificate expiry: refused after {refused_at:.1f}s, "
        f"recovered {recovered_at:.1f}s after renewal, wrongly allowed: {allowed_after_switch}"
    )
    assert "serving certificate reloaded" in rotating_operator.log.read_text()
