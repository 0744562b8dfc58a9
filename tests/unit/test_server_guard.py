"""AdmissionServer over real HTTPS: malformed reviews are refused, the server survives."""

from __future__ import annotations

import asyncio
import copy
import gc
import http.client
import json
import random
import socket
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509

from aigov.admission import response
from aigov.admission.request import AdmissionRequest
from aigov.certs import KeyPair, issue, make_ca
from aigov.handlers.server import AdmissionServer, TlsFiles

pytestmark = pytest.mark.timeout(60)

HTTP_LEAK_BOUND = 32 * 1024
"""Bytes the HTTPS server side may keep after 1,000 reviews, once warmed up: about 32 a
review. A review body, a connection or a task kept per request is a KiB or more and crosses
it."""

Handler = Callable[[AdmissionRequest], Awaitable[None]]
"""What a test's fake route does besides answering."""


@dataclass(frozen=True)
class Pki:
    ca: KeyPair
    certfile: Path
    pkeyfile: Path
    cafile: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca("aigov webhook test CA")
    leaf = issue(ca, "aigov-webhook", hosts=("127.0.0.1",), server=True)
    certfile, pkeyfile, cafile = root / "tls.crt", root / "tls.key", root / "ca.crt"
    leaf.write(certfile, pkeyfile)
    cafile.write_bytes(ca.cert_pem)
    return Pki(ca=ca, certfile=certfile, pkeyfile=pkeyfile, cafile=cafile)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Harness:
    """A running AdmissionServer, a client trusting its CA, and what the route saw."""

    url: str
    session: aiohttp.ClientSession
    server: AdmissionServer
    calls: list[AdmissionRequest] = field(default_factory=list)
    extra: list[Handler] = field(default_factory=list)
    """Set by a test to add behaviour to the route (crash)."""

    async def post(
        self, body: Any = None, *, data: bytes | None = None, path: str = "validate-workloads"
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
        if data is not None:
            kwargs["headers"] = {"Content-Type": "application/json"}
        async with self.session.post(f"{self.url}/{path}", **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)


def review(uid: str = "uid-1") -> dict[str, Any]:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "name": "llm",
            "namespace": "team-a",
            "operation": "CREATE",
            "userInfo": {"username": "alice", "uid": "a-1", "groups": ["team-a"]},
            "object": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "llm", "namespace": "team-a"},
            },
            "oldObject": None,
            "dryRun": False,
        },
    }


@pytest.fixture
async def harness(pki: Pki) -> AsyncIterator[Harness]:
    port = _free_port()
    calls: list[AdmissionRequest] = []
    extra: list[Handler] = []

    async def route(request: AdmissionRequest) -> dict[str, Any]:
        calls.append(request)
        for step in extra:
            await step(request)
        return response.review(request.uid, allowed=True)

    server = AdmissionServer(
        {"validate-workloads": route},
        host="127.0.0.1",
        port=port,
        tls=TlsFiles(cert=pki.certfile, key=pki.pkeyfile),
    )
    await server.start()
    ctx = ssl.create_default_context(cadata=pki.ca.cert_pem.decode())
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ctx), timeout=aiohttp.ClientTimeout(total=5)
    )
    try:
        yield Harness(
            url=f"https://127.0.0.1:{port}",
            session=session,
            server=server,
            calls=calls,
            extra=extra,
        )
    finally:
        await session.close()
        await server.stop()


def _malformed(body: Any, message: str) -> None:
    assert body["apiVersion"] == "admission.k8s.io/v1"
    assert body["kind"] == "AdmissionReview"
    response = body["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 400
    assert response["status"]["reason"] == "BadRequest"
    assert response["status"]["message"].startswith("aigov: malformed AdmissionReview: ")
    assert response["status"]["message"] == f"aigov: malformed AdmissionReview: {message}"


async def test_valid_review_reaches_the_route_parsed(harness: Harness) -> None:
    status, body = await harness.post(review("uid-valid"))
    assert status == 200
    assert body["response"] == {"uid": "uid-valid", "allowed": True}
    (request,) = harness.calls
    assert isinstance(request, AdmissionRequest)
    assert request.uid == "uid-valid"
    assert request.ref == "Deployment team-a/llm"
    assert request.user.username == "alice"


async def test_an_unknown_path_is_not_found(harness: Harness) -> None:
    status, body = await harness.post(review(), path="nothing-here")
    assert status == 404
    assert body["response"]["allowed"] is False
    assert harness.calls == []


async def test_a_review_as_large_as_the_api_server_sends_is_read(harness: Harness) -> None:
    """aiohttp refuses bodies over 1 MiB by default; the API server sends objects up to
    3 MiB. A 413 would be left to the failurePolicy (a bypass under Ignore): never that."""
    big = review("uid-big")
    big["request"]["object"]["metadata"]["annotations"] = {"padding": "x" * (3 * 1024 * 1024)}
    status, body = await harness.post(big)
    assert status == 200
    assert body["response"]["uid"] == "uid-big"
    assert len(harness.calls) == 1


@pytest.mark.parametrize(
    "data", [b"{not json", b"", b"\xff\xfe\x00garbage"], ids=["broken", "empty", "not-utf8"]
)
async def test_body_that_is_not_json_gets_400(harness: Harness, data: bytes) -> None:
    status, body = await harness.post(data=data)
    assert status == 400
    assert body["response"]["allowed"] is False
    assert body["response"]["uid"] == ""
    assert body["response"]["status"]["code"] == 400
    assert "not JSON" in body["response"]["status"]["message"]
    assert body["response"]["status"]["message"].startswith("aigov: the request body is not JSON")
    assert harness.calls == []


async def test_json_list_is_refused_as_malformed(harness: Harness) -> None:
    status, body = await harness.post([review()])
    assert status == 200
    _malformed(body, "AdmissionReview must be an object, got list")
    assert body["response"]["uid"] == ""
    assert harness.calls == []


async def test_review_without_request_is_refused_as_malformed(harness: Harness) -> None:
    bad = review()
    del bad["request"]
    status, body = await harness.post(bad)
    assert status == 200
    _malformed(body, "request must be an object, got NoneType")
    assert harness.calls == []


async def test_malformed_review_echoes_the_uid_it_has(harness: Harness) -> None:
    bad = review("uid-echo")
    bad["request"]["operation"] = "PATCH"
    status, body = await harness.post(bad)
    assert status == 200
    _malformed(body, "request.operation 'PATCH' is not an admission operation")
    assert body["response"]["uid"] == "uid-echo"
    assert harness.calls == []


async def test_server_survives_bad_requests(harness: Harness) -> None:
    assert (await harness.post(data=b"nope"))[0] == 400
    assert (await harness.post([1, 2]))[0] == 200
    assert (await harness.post({"apiVersion": "admission.k8s.io/v1"}))[0] == 200
    assert (await harness.post("just a string"))[0] == 200
    assert harness.calls == []
    status, body = await harness.post(review("uid-after"))
    assert status == 200
    assert body["response"] == {"uid": "uid-after", "allowed": True}
    assert [c.uid for c in harness.calls] == ["uid-after"]


async def test_a_crashing_route_gets_a_clear_refusal_and_the_server_survives(
    harness: Harness,
) -> None:
    async def crash(request: AdmissionRequest) -> None:
        del request
        raise RuntimeError("secret detail")

    harness.extra.append(crash)
    status, body = await harness.post(review("uid-crash"))
    assert status == 200  # the API server shows the message as the refusal
    assert body["response"]["uid"] == "uid-crash"
    assert body["response"]["allowed"] is False
    assert body["response"]["status"]["code"] == 500
    assert body["response"]["status"]["message"] == (
        "aigov could not review this request (internal error: RuntimeError); "
        "the operator log has the details"
    )
    assert "secret detail" not in str(body)
    harness.extra.clear()
    status, body = await harness.post(review("uid-ok"))
    assert (status, body["response"]["allowed"]) == (200, True)


async def test_a_client_trusting_another_ca_is_rejected(harness: Harness) -> None:
    other = ssl.create_default_context(cadata=make_ca("other").cert_pem.decode())
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=other)) as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.post(f"{harness.url}/validate-workloads", json=review())
    assert harness.calls == []


def _mutations(seed: int, count: int) -> list[bytes]:
    """A seed corpus (a real review) mutated: keys dropped, values replaced by other JSON
    types, deep nesting, truncated text. Deterministic for a seed."""
    rng = random.Random(seed)
    junk: list[Any] = [None, 0, -1, 1e308, "", "x" * 300, [], {}, [[[]]], True, {"a": [None]}]
    found: list[bytes] = []
    for _ in range(count):
        body = review(f"uid-{rng.randrange(10**6)}")
        for _ in range(rng.randrange(1, 4)):
            node: Any = body
            path = []
            while isinstance(node, dict) and node and rng.random() < 0.7:
                key = rng.choice(list(node))
                path.append(key)
                if not isinstance(node[key], dict):
                    break
                node = node[key]
            if not path:
                continue
            parent: Any = body
            for key in path[:-1]:
                parent = parent[key]
            choice = rng.random()
            if choice < 0.3:
                parent.pop(path[-1], None)
            elif choice < 0.9:
                parent[path[-1]] = copy.deepcopy(rng.choice(junk))  # never shared
            else:
                nested: Any = "deep"
                for _ in range(200):
                    nested = {"n": nested}
                parent[path[-1]] = nested
        text = json.dumps(body).encode()
        found.append(text[: rng.randrange(len(text))] if rng.random() < 0.15 else text)
    return found


async def test_a_thousand_mutated_reviews_get_well_formed_answers(harness: Harness) -> None:
    """Every answer is an AdmissionReview response (or a 400 for a body that is not JSON),
    with allowed a boolean; a review that does not parse is never allowed; the server keeps
    serving."""
    for data in _mutations(seed=42, count=1_000):
        status, body = await harness.post(data=data)
        assert status in {200, 400}, data[:200]
        response = body["response"]
        assert isinstance(response["allowed"], bool)
        assert isinstance(response["uid"], str)
        if not response["allowed"]:
            assert response["status"]["message"].startswith("aigov")
    status, body = await harness.post(review("uid-after"))
    assert (status, body["response"]["allowed"]) == (200, True)


async def test_a_renewed_certificate_is_served_without_a_restart(
    harness: Harness, pki: Pki, tmp_path: Path
) -> None:
    """cert-manager (or the chart) renews the Secret; the mounted files change; new
    connections get the new certificate, and a half-written pair keeps the old one."""

    def served_serial() -> int:
        port = int(harness.url.rsplit(":", 1)[1])
        ctx = ssl.create_default_context(cadata=pki.ca.cert_pem.decode())
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der).serial_number

    before = await asyncio.to_thread(served_serial)
    assert harness.server.reload_certificates() is False  # nothing changed
    original = (pki.certfile.read_bytes(), pki.pkeyfile.read_bytes())
    try:
        pki.certfile.write_bytes(b"half-written")
        assert harness.server.reload_certificates() is False
        assert await asyncio.to_thread(served_serial) == before
        renewed = issue(pki.ca, "aigov-webhook", hosts=("127.0.0.1",), server=True)
        renewed.write(pki.certfile, pki.pkeyfile)
        assert harness.server.reload_certificates() is True
        after = await asyncio.to_thread(served_serial)
        assert after != before
        assert after == x509.load_pem_x509_certificate(pki.certfile.read_bytes()).serial_number
        status, body = await harness.post(review("uid-renewed"))
        assert (status, body["response"]["allowed"]) == (200, True)
    finally:
        pki.certfile.write_bytes(original[0])
        pki.pkeyfile.write_bytes(original[1])


def _keep_alive_connection(harness: Harness, pki: Pki) -> http.client.HTTPSConnection:
    """One client connection kept alive across requests, as the API server keeps them
    (aiohttp's client pool would reconnect quietly and hide what the server did)."""
    port = int(harness.url.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cadata=pki.ca.cert_pem.decode())
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)


async def test_a_reload_drops_idle_keep_alive_connections_at_once(
    harness: Harness, pki: Pki
) -> None:
    """A client holding a keep-alive connection (the API server does) must not be left with
    a connection the server no longer reads: its next request fails at once, and it
    reconnects and shakes hands with the new certificate."""
    conn = _keep_alive_connection(harness, pki)
    body = json.dumps(review("uid-ka"))

    def post() -> int:
        conn.request("POST", "/validate-workloads", body=body)
        answer = conn.getresponse()
        answer.read()
        return answer.status

    original = (pki.certfile.read_bytes(), pki.pkeyfile.read_bytes())
    try:
        assert await asyncio.to_thread(post) == 200
        issue(pki.ca, "aigov-webhook", hosts=("127.0.0.1",), server=True).write(
            pki.certfile, pki.pkeyfile
        )
        assert harness.server.reload_certificates() is True
        started = asyncio.get_running_loop().time()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            await asyncio.to_thread(post)
        assert asyncio.get_running_loop().time() - started < 2  # not the 5 s timeout
        conn.close()
        assert await asyncio.to_thread(post) == 200  # a new connection, the new certificate
    finally:
        conn.close()
        pki.certfile.write_bytes(original[0])
        pki.pkeyfile.write_bytes(original[1])


async def test_a_body_nested_deeper_than_pythons_parser_gets_a_well_formed_refusal(
    harness: Harness,
) -> None:
    """The API server passes JSON nested up to 10,000 levels (in fields that keep unknown
    content); Python's parsers stop near 1,000. The answer must still be an AdmissionReview
    refusal, not aiohttp's bare 500 page (left to the failurePolicy)."""
    depth = 5_000
    data = b'{"a":' * depth + b"1" + b"}" * depth
    status, body = await harness.post(data=data)
    assert status == 400
    assert body["response"]["allowed"] is False
    assert body["response"]["status"]["message"].startswith("aigov: the request body is not JSON")
    assert harness.calls == []
    status, body = await harness.post(review("uid-after-deep"))
    assert (status, body["response"]["allowed"]) == (200, True)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_a_thousand_reviews_over_https_leave_no_memory_behind(harness: Harness) -> None:
    """The server side of the review path (TLS, aiohttp, parsing, the route call) keeps
    nothing per request: after a warm-up, 1,000 more mutated reviews grow traced memory by
    less than HTTP_LEAK_BOUND. (The pure path's own check is in test_fuzz_admission.) The
    warm-up is long: aiohttp's and abc's caches fill over the first few hundred requests."""

    async def send(seed: int, count: int) -> None:
        for data in _mutations(seed=seed, count=count):
            status, _ = await harness.post(data=data)
            assert status in {200, 400}
            harness.calls.clear()  # the fake route's record, not the server's

    await send(seed=1, count=200)
    gc.collect()
    tracemalloc.start()
    try:
        await send(seed=2, count=600)
        gc.collect()
        before = tracemalloc.take_snapshot()
        await send(seed=3, count=1_000)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    diff = after.compare_to(before, "lineno")
    growth = sum(stat.size_diff for stat in diff)
    top = "\n".join(str(stat) for stat in diff[:8])
    assert growth < HTTP_LEAK_BOUND, f"{growth} bytes kept after 1,000 reviews:\n{top}"


async def test_a_draining_server_answers_on_idle_connections_and_then_closes_them(
    harness: Harness, pki: Pki
) -> None:
    """A replica about to stop (preStop /drain) answers everything but keeps no connection
    alive: the API server reconnects through the Service to a replica that stays. An idle
    keep-alive connection is not closed under the client by the drain (a request it sends
    in that instant would fail with EOF: 9 of 30,000 requests over 22 restarts at 200/s
    before): its next request is answered, with `Connection: close`."""
    conn = _keep_alive_connection(harness, pki)
    body = json.dumps(review("uid-draining"))

    def post() -> tuple[int, str, dict[str, Any]]:
        conn.request("POST", "/validate-workloads", body=body)
        answer = conn.getresponse()
        data = json.loads(answer.read())
        return answer.status, answer.getheader("Connection", ""), data

    try:
        status, connection, _ = await asyncio.to_thread(post)
        assert (status, connection.lower()) == (200, "")  # HTTP/1.1: kept alive
        harness.server.drain()
        await asyncio.sleep(0.2)  # a closed connection would reach the client by now
        status, connection, data = await asyncio.to_thread(post)
        assert (status, connection.lower()) == (200, "close")
        assert data["response"] == {"uid": "uid-draining", "allowed": True}
    finally:
        conn.close()
