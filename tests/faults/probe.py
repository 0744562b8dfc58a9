"""Admission probes for the fault suite: a loop of server-side dry-run creates, each answer
sorted and counted, so a fault that lets one ungoverned GPU workload through is seen.

The probes talk HTTPS to the API server with the admin's client certificate (no kubectl: a
process per request would cap the rate at a few per second). An ungoverned probe is a GPU
Pod or Deployment naming no model in an enforce namespace: the only right answers are a
refusal by aigov, a refusal because the webhook could not be called (failurePolicy Fail), or
no answer at all (the API server or etcd is down). A governed probe names an approved model:
it tells when admission works again after the fault.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.controlplane.cluster import Cluster

from tests.e2e import manifests
from tests.e2e.governed import IMAGE

ALLOWED = "allowed"
"""The API server admitted the dry-run create."""
REFUSED = "refused"
"""aigov judged the request and refused it (its message names a reason code)."""
FAILED_CLOSED = "failed-closed"
"""The webhook could not be called or was not ready; failurePolicy Fail refused it."""
UNAVAILABLE = "unavailable"
"""No admission answer: the API server (or etcd behind it) did not serve the request."""


@dataclass(frozen=True)
class Answer:
    """One probe's answer: when it came back, what was asked, how it was sorted."""

    at: float
    governed: bool
    kind: str
    outcome: str
    detail: str


def _classify(status: int, body: str) -> tuple[str, str]:
    if status in (200, 201):
        return ALLOWED, ""
    try:
        message = str(json.loads(body).get("message", body))
    except ValueError:
        message = body
    if "aigov refused" in message:
        return REFUSED, message[:200]
    if "webhook" in message or "aigov" in message:
        return FAILED_CLOSED, message[:200]
    return UNAVAILABLE, f"{status}: {message[:200]}"


def _bodies(namespace: str, model: str) -> list[tuple[bool, str, str, dict[str, Any]]]:
    """(governed, kind, collection path, body) of the four probes, taken in turn."""
    pods = f"/api/v1/namespaces/{namespace}/pods"
    deployments = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    return [
        (False, "Pod", pods, manifests.pod("probe", namespace, gpus=1)),
        (False, "Deployment", deployments, manifests.deployment("probe", namespace, gpus=1)),
        (True, "Pod", pods, manifests.pod("probe", namespace, gpus=1, model=model, image=IMAGE)),
        (
            True,
            "Deployment",
            deployments,
            manifests.deployment("probe", namespace, gpus=1, model=model, image=IMAGE),
        ),
    ]


@dataclass
class Prober:
    """Threads that keep submitting dry-run creates until stopped; the answers, in order."""

    cluster: Cluster
    namespace: str
    model: str
    threads: int = 1
    pause: float = 0.05
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _calm: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Prober:
        ctx = ssl.create_default_context(cafile=str(self.cluster.pki.ca_cert))
        ctx.load_cert_chain(self.cluster.pki.cert("admin"), self.cluster.pki.key("admin"))
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(ctx, i), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _run(self, ctx: ssl.SSLContext, offset: int) -> None:
        bodies = _bodies(self.namespace, self.model)
        i = offset
        while not self._stop.is_set() and not (offset and self._calm.is_set()):
            governed, kind, path, body = bodies[i % len(bodies)]
            i += 1
            outcome, detail = self._submit(ctx, path, body)
            with self._lock:
                self.answers.append(Answer(time.monotonic(), governed, kind, outcome, detail))
            self._stop.wait(0.05 if self._calm.is_set() else self.pause)

    def _submit(self, ctx: ssl.SSLContext, path: str, body: dict[str, Any]) -> tuple[str, str]:
        request = urllib.request.Request(
            f"{self.cluster.server}{path}?dryRun=All",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=ctx) as resp:
                return _classify(resp.status, resp.read().decode(errors="replace"))
        except urllib.error.HTTPError as exc:
            return _classify(exc.code, exc.read().decode(errors="replace"))
        except (OSError, TimeoutError) as exc:
            self._stop.wait(0.2)  # nobody listens: do not spin
            return UNAVAILABLE, type(exc).__name__

    def calm(self) -> None:
        """End a burst: one thread probes on at the ordinary pace."""
        self._calm.set()

    # ---- what the answers say --------------------------------------------------------------

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)

    def wrongly_allowed(self) -> list[Answer]:
        """Ungoverned GPU workloads the API server admitted: must be none, ever."""
        return [a for a in self.snapshot() if not a.governed and a.outcome == ALLOWED]

    def counts(self) -> dict[str, int]:
        """How the ungoverned probes were answered, by outcome."""
        return dict(Counter(a.outcome for a in self.snapshot() if not a.governed))

    def serving_since(self, since: float) -> float | None:
        """Seconds from `since` until aigov answered again: the first ungoverned probe it
        refused and the first governed probe admitted, both after `since`."""
        answers = [a for a in self.snapshot() if a.at >= since]
        refused = next((a.at for a in answers if not a.governed and a.outcome == REFUSED), None)
        admitted = next((a.at for a in answers if a.governed and a.outcome == ALLOWED), None)
        if refused is None or admitted is None:
            return None
        return max(refused, admitted) - since

    def wait_serving(self, since: float, seconds: float) -> float:
        """Block until aigov serves again after `since`; the seconds it took."""
        deadline = time.monotonic() + seconds
        while (took := self.serving_since(since)) is None:
            if time.monotonic() > deadline:
                tail = [(a.kind, a.governed, a.outcome, a.detail) for a in self.snapshot()[-6:]]
                raise AssertionError(f"aigov not serving {seconds:.0f}s after recovery: {tail}")
            time.sleep(0.1)
        return took
