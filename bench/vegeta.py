"""Drive an HTTPS endpoint with vegeta and read back every request's result.

Why an outside tool: a load generator in the benchmark's own Python process shares the
interpreter (and here the two CPU cores) with whatever it measures, and its own scheduling
delays land in the latencies. vegeta (Go, built from the Go module proxy by `make binaries`)
keeps a fixed rate by the clock (open loop: a slow server does not slow the arrivals) or runs
N workers that each wait for their answer (closed loop). Its binary results are turned into
JSON lines by `vegeta encode` and summarised here, so the percentiles are ours
(bench.stats) and every failure is counted by status code.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import signal
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import percentile


class VegetaError(RuntimeError):
    """vegeta could not run, or wrote something we cannot read."""


@dataclass(frozen=True)
class Result:
    """One request as vegeta recorded it."""

    code: int
    """HTTP status; 0 when no response came (connection refused, timeout, ...)."""
    started: float
    """Seconds since the epoch when the request was sent."""
    latency_ms: float
    error: str = ""
    body: bytes = b""


@dataclass(frozen=True)
class Summary:
    """What a reader needs from one attack: latency, throughput, and every failure."""

    requests: int
    successes: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    throughput_rps: float
    """Successful requests per second of wall time (first send to last answer)."""
    failures: dict[str, int] = field(default_factory=dict)
    """Failed requests by status code ("0" = no response), empty when all succeeded."""
    messages: tuple[str, ...] = ()
    """Up to five distinct failure messages (the response body, else vegeta's error)."""

    @property
    def failed(self) -> int:
        return self.requests - self.successes


def _timestamp(text: str) -> float:
    # Go writes RFC 3339 with nanoseconds and a zone; Python's parser takes microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse_results(lines: Iterable[str]) -> list[Result]:
    """Results from `vegeta encode --to=json` output (one JSON object a line)."""
    results = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            body = base64.b64decode(raw.get("body") or "")
            results.append(
                Result(
                    code=int(raw["code"]),
                    started=_timestamp(str(raw["timestamp"])),
                    latency_ms=int(raw["latency"]) / 1e6,
                    error=str(raw.get("error") or ""),
                    body=body,
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise VegetaError(
                f"vegeta result line {number} unreadable ({exc}): {line[:200]}"
            ) from exc
    return results


def _message(body: bytes) -> str:
    """The `message` of a Kubernetes Status body, else the body as text."""
    text = body.decode(errors="replace")
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    return str(decoded.get("message", text)) if isinstance(decoded, dict) else text


def summarize(results: list[Result], ok_codes: frozenset[int] = frozenset({200, 201})) -> Summary:
    """Percentiles over every request (failed ones too: a refusal is a latency as well)."""
    if not results:
        raise VegetaError("vegeta recorded no request")
    latencies = [r.latency_ms for r in results]
    good = [r for r in results if r.code in ok_codes]
    start = min(r.started for r in results)
    end = max(r.started + r.latency_ms / 1000 for r in results)
    bad = [r for r in results if r.code not in ok_codes]
    codes = Counter(str(r.code) for r in bad)
    messages: list[str] = []
    for r in bad:
        text = _message(r.body) or r.error
        text = " ".join(text.split())[:300]
        if text and text not in messages:
            messages.append(text)
        if len(messages) == 5:
            break
    return Summary(
        requests=len(results),
        successes=len(good),
        p50_ms=round(percentile(latencies, 0.5), 2),
        p99_ms=round(percentile(latencies, 0.99), 2),
        mean_ms=round(sum(latencies) / len(latencies), 2),
        throughput_rps=round(len(good) / max(end - start, 1e-9), 1),
        failures=dict(sorted(codes.items())),
        messages=tuple(messages),
    )


@dataclass(frozen=True)
class Tls:
    """Client certificate and the CA to trust (the API server's)."""

    ca: Path
    cert: Path
    key: Path


def target_line(url: str, body: bytes, headers: Mapping[str, str]) -> str:
    """One target in vegeta's JSON target format."""
    return json.dumps(
        {
            "method": "POST",
            "url": url,
            "body": base64.b64encode(body).decode(),
            "header": {k: [v] for k, v in headers.items()},
        }
    )


@dataclass(frozen=True)
class Load:
    """A fixed rate (requests per second) or, with rate 0, a closed loop of `workers`."""

    label: str
    rate: int = 0
    workers: int = 0

    def args(self) -> list[str]:
        if self.rate:
            return [f"-rate={self.rate}/1s"]
        return ["-rate=0", f"-workers={self.workers}", f"-max-workers={self.workers}"]


@dataclass(frozen=True)
class Driver:
    """Where vegeta is, who it authenticates as, and where its files go."""

    exe: Path
    tls: Tls
    work: Path

    def start(self, name: str, target: str, load: Load, seconds: float) -> Attack:
        """Start an attack in the background (files under work/<name>)."""
        return Attack(self, self.work / name, target, load, seconds)

    def run(self, name: str, target: str, load: Load, seconds: float) -> Summary:
        """Run an attack to its end and summarise it."""
        return self.start(name, target, load, seconds).wait()


class Attack:
    """One vegeta attack running in the background (so the benchmark can act meanwhile)."""

    timeout_s = 30.0
    """Per request; the API server's own webhook timeout is shorter."""

    def __init__(self, driver: Driver, work: Path, target: str, load: Load, seconds: float) -> None:
        work.mkdir(parents=True, exist_ok=True)
        targets = work / "target.json"
        targets.write_text(target + "\n")
        self.exe = driver.exe
        self.out = work / "results.bin"
        tls = driver.tls
        cmd = [
            str(driver.exe),
            "attack",
            "-format=json",
            f"-targets={targets}",
            f"-duration={seconds}s",
            f"-timeout={self.timeout_s}s",
            f"-root-certs={tls.ca}",
            f"-cert={tls.cert}",
            f"-key={tls.key}",
            "-max-body=2048",
            f"-output={self.out}",
            *load.args(),
        ]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )

    def interrupt(self) -> None:
        """Stop sending (SIGINT: vegeta stops the attack and still writes every result)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def wait(self) -> Summary:
        """Wait for the attack to end; summarise every result."""
        _, stderr = self.process.communicate()
        if self.process.returncode != 0:
            raise VegetaError(
                f"vegeta attack failed ({self.process.returncode}): {stderr.decode().strip()}"
            )
        encoded = subprocess.run(
            [str(self.exe), "encode", "--to=json", str(self.out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if encoded.returncode != 0:
            raise VegetaError(f"vegeta encode failed: {encoded.stderr.strip()}")
        return summarize(parse_results(encoded.stdout.splitlines()))
