"""A small asyncio client for the API server, for loading thousands of objects quickly.

Why not kubectl or the `kubernetes` client: one kubectl process per object costs more CPU
than the object, and the `kubernetes` client builds model objects for every answer. This
posts JSON over one aiohttp session (admin client certificate from the cluster's PKI) with
as many requests in flight as asked; impersonation headers make the webhook see distinct
users, as the personas of a real cluster would be.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Answer:
    """Status and decoded JSON body of one request."""

    status: int
    body: dict[str, Any]

    @property
    def message(self) -> str:
        return str(self.body.get("message", self.body))[:500]


class KubeApi:
    """`async with KubeApi(server, ca, cert, key) as api: await api.post(path, body)`."""

    def __init__(self, server: str, ca: Path, cert: Path, key: Path, limit: int = 64) -> None:
        self.server = server
        self._ssl = ssl.create_default_context(cafile=str(ca))
        self._ssl.load_cert_chain(str(cert), str(key))
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KubeApi:
        connector = aiohttp.TCPConnector(ssl=self._ssl, limit=self._limit)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=60)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        user: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        assert self._session is not None, "use KubeApi as an async context manager"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if user is not None:
            headers["Impersonate-User"] = user
            headers["Impersonate-Group"] = "system:authenticated"
        async with self._session.request(
            method,
            self.server + path,
            data=None if body is None else json.dumps(body),
            headers=headers,
            params=params,
        ) as resp:
            text = await resp.text()
        try:
            decoded = json.loads(text) if text else {}
        except json.JSONDecodeError:
            decoded = {"message": text}
        return Answer(resp.status, decoded if isinstance(decoded, dict) else {"items": decoded})

    async def create(
        self, path: str, body: dict[str, Any], user: str | None = None, dry_run: bool = False
    ) -> Answer:
        """POST `body`; an object that already exists (409) counts as created."""
        answer = await self.request(
            "POST", path, body, user, params={"dryRun": "All"} if dry_run else None
        )
        if answer.status == 409 and not dry_run:
            return Answer(200, answer.body)
        return answer

    async def get(self, path: str, params: dict[str, str] | None = None) -> Answer:
        return await self.request("GET", path, params=params)

    async def count(self, path: str, **selectors: str) -> int:
        """How many objects a filtered list holds. The API server gives no count for a
        filtered list (remainingItemCount is only set without selectors), so this pages
        through it asking for metadata only (PartialObjectMetadataList), about half a
        kilobyte an object."""
        assert self._session is not None, "use KubeApi as an async context manager"
        headers = {"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"}
        total, token = 0, ""
        while True:
            params = {"limit": "2000", **selectors, **({"continue": token} if token else {})}
            async with self._session.get(
                self.server + path, headers=headers, params=params
            ) as resp:
                body = await resp.json(content_type=None)
                if resp.status != 200:
                    raise RuntimeError(f"GET {path}: {resp.status} {body}")
            total += len(body.get("items") or [])
            token = body.get("metadata", {}).get("continue", "")
            if not token:
                return total
