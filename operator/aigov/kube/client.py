"""The process's one connection to the API server: one `ApiClient`, one connection pool.

Every call in aigov.kube goes through `api()`. A client per call (as before) paid a new
pool, a new TLS handshake and a new thread pool each time; the reconcilers and the lease
renewals call often enough for that to show. The kubeconfig (or the in-cluster service
account) is read once, on first use.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

_lock = threading.Lock()
_client: Any = None


def api() -> Any:
    """The long-lived ApiClient (typed Any: the client's models are not our API).

    Safe from any thread: the calls run in asyncio's worker threads, and urllib3's pool is
    thread-safe; the lock only guards the first, lazy construction.
    """
    global _client  # noqa: PLW0603 - one client per process, made on first use
    with _lock:
        if _client is None:
            try:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
            except config.ConfigException:
                config.load_kube_config()  # type: ignore[no-untyped-call]
            _client = client.ApiClient()
        return _client


def call(
    method: str,
    path: str,
    body: Any = None,
    query: list[tuple[str, str]] | None = None,
    content_type: str | None = None,
    *,
    timeout: float | None = None,
) -> Any:
    """One REST call by path (blocking: run it in a thread); the decoded JSON answer.

    Raises ApiException for any non-2xx answer, with the API server's status code.
    """
    api_client = api()
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    # A service-account token (in cluster) travels as a header; client certificates
    # (kubeconfig) are part of the connection already.
    for auth in api_client.configuration.auth_settings().values():
        if auth.get("in") == "header" and auth.get("value"):
            headers[auth["key"]] = auth["value"]
    url = api_client.configuration.host + path
    if query:
        url += f"?{urllib.parse.urlencode(query)}"
    response = api_client.call_api(
        method, url, header_params=headers, body=body, _request_timeout=timeout
    )
    data = response.read()
    if not 200 <= response.status < 300:
        raise ApiException(status=response.status, reason=response.reason, body=data)
    return json.loads(data) if data else None
