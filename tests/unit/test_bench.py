"""The benchmark's pure parts: percentiles, vegeta's results, /proc and /metrics parsing,
the webhook-configuration copy, and the table with its targets. A wrong number here would
be printed as a measurement, so each is checked against a figure worked out by hand."""

from __future__ import annotations

import base64
import json

import pytest
from bench import procstat, report
from bench.proxy import Backend, RoundRobinProxy
from bench.replicas import rewrite_configuration
from bench.stats import percentile
from bench.vegeta import Load, Summary, VegetaError, parse_results, summarize, target_line


def test_percentile_is_nearest_rank() -> None:
    samples = [float(x) for x in range(1, 101)]  # 1..100
    assert percentile(samples, 0.5) == 50
    assert percentile(samples, 0.99) == 99
    assert percentile(samples, 1.0) == 100
    assert percentile([7.0], 0.99) == 7
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2  # sorts first


@pytest.mark.parametrize("q", [0.0, -0.1, 1.5])
def test_percentile_refuses_a_quantile_outside_the_unit_interval(q: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 0.5)


def _line(code: int, ts: str, latency_ns: int, error: str = "", body: bytes = b"") -> str:
    return json.dumps(
        {
            "attack": "",
            "seq": 0,
            "code": code,
            "timestamp": ts,
            "latency": latency_ns,
            "bytes_out": 10,
            "bytes_in": 20,
            "error": error,
            "body": base64.b64encode(body).decode(),
            "method": "POST",
            "url": "https://127.0.0.1/x",
            "headers": {},
        }
    )


def test_vegeta_results_are_read_with_nanosecond_timestamps_and_latencies() -> None:
    lines = [
        _line(201, "2026-12-02T17:00:00.123456789Z", 4_000_000),
        _line(201, "2026-12-02T17:00:00.5+00:00", 6_500_000),
        "",
    ]
    first, second = parse_results(lines)
    assert first.code == 201
    assert first.latency_ms == 4.0
    assert second.started - first.started == pytest.approx(0.376544, abs=1e-6)


def test_an_unreadable_vegeta_line_names_its_number() -> None:
    with pytest.raises(VegetaError, match="line 2"):
        parse_results([_line(201, "2026-12-02T17:00:00Z", 1), '{"code": "x"}'])


def test_summary_counts_failures_by_code_with_their_messages() -> None:
    results = parse_results(
        [
            _line(201, "2026-12-02T17:00:00Z", 10_000_000),
            _line(201, "2026-12-02T17:00:01Z", 20_000_000),
            _line(
                500,
                "2026-12-02T17:00:01.5Z",
                30_000_000,
                error="500 Internal Server Error",
                body=b'{"kind": "Status", "message": "webhook down"}',
            ),
            _line(0, "2026-12-02T17:00:01.9Z", 100_000_000, error="connection refused"),
        ]
    )
    s = summarize(results)
    assert (s.requests, s.successes, s.failed) == (4, 2, 2)
    assert s.failures == {"0": 1, "500": 1}
    assert s.messages == ("webhook down", "connection refused")
    assert s.p50_ms == 20.0
    assert s.p99_ms == 100.0
    # 2 successes over 2.0 s of wall time (first send to the last answer at 1.9 + 0.1 s).
    assert s.throughput_rps == 1.0


def test_no_results_is_an_error_not_a_zero() -> None:
    with pytest.raises(VegetaError, match="no request"):
        summarize([])


def test_a_target_line_carries_the_body_base64_and_headers_as_lists() -> None:
    raw = json.loads(target_line("https://h/p", b'{"a": 1}', {"Content-Type": "application/json"}))
    assert raw["method"] == "POST"
    assert base64.b64decode(raw["body"]) == b'{"a": 1}'
    assert raw["header"] == {"Content-Type": ["application/json"]}


def test_loads_are_a_fixed_rate_or_a_closed_loop() -> None:
    assert Load("r", rate=200).args() == ["-rate=200/1s"]
    assert Load("c", workers=50).args() == ["-rate=0", "-workers=50", "-max-workers=50"]


def test_cpu_time_is_counted_after_a_command_name_with_spaces_and_parentheses() -> None:
    fields = ["S"] + ["0"] * 10 + ["250", "50"] + ["0"] * 30
    stat = "1234 (python (x) y) " + " ".join(fields)
    assert procstat.parse_cpu_seconds(stat, 100) == 3.0


def test_machine_ticks_count_idle_and_iowait_as_not_busy() -> None:
    stat = "cpu  100 5 40 800 50 3 2 0 7 0\ncpu0 50 2 20 400 25 1 1 0 3 0\n"
    # busy = user + nice + system + irq + softirq + steal; guest (7) is inside user already
    assert procstat.parse_machine_ticks(stat) == (150, 1000)
    with pytest.raises(ValueError, match="cpu"):
        procstat.parse_machine_ticks("intr 1 2 3\n")


def test_the_cpu_table_shows_each_process_baseline_over_governed() -> None:
    split = {
        "baseline": report.CpuSplit({"kube-apiserver": 1.25, "etcd": 0.1}, 0.42),
        "governed": report.CpuSplit({"kube-apiserver": 2.5, "etcd": 0.1, "aigov": 0.9}, 0.87),
    }
    rows = [
        report.LoadResult("200 req/s fixed rate", _summary(10, 200), _summary(30, 200), 200, split),
        report.LoadResult("unmetered", _summary(10, 200), _summary(30, 200)),
    ]
    table = report.render_cpu_table(rows).splitlines()
    assert len(table) == 3  # the unmetered row is left out
    assert table[2] == (
        "| 200 req/s fixed rate | 1.25 / 2.50 | 0.10 / 0.10 | 0.00 / 0.90 | 42% / 87% |"
    )


def test_a_counter_is_summed_over_its_label_sets_and_other_metrics_are_ignored() -> None:
    text = "\n".join(
        [
            "# HELP aigov_admission_reviews_total x",
            "# TYPE aigov_admission_reviews_total counter",
            'aigov_admission_reviews_total{webhook="a",decision="allowed"} 3.0',
            'aigov_admission_reviews_total{webhook="b",decision="refused"} 2.0',
            'aigov_admission_reviews_created{webhook="a",decision="allowed"} 1.7e9',
            "aigov_admission_reviews_total_other 9",
        ]
    )
    assert procstat.counter_total(text, "aigov_admission_reviews_total") == 5.0
    assert procstat.counter_total(text, "aigov_missing_total") is None


def test_a_copied_webhook_configuration_calls_the_proxy_and_trusts_the_shared_ca() -> None:
    body = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "aigov-bench", "resourceVersion": "7", "uid": "u"},
        "webhooks": [
            {
                "name": "w.aigov.io",
                "clientConfig": {"url": "https://127.0.0.1:4000/validate-x", "caBundle": "old"},
            }
        ],
    }
    out = rewrite_configuration(body, "copy", "127.0.0.1:5000", b"CA")
    assert out["metadata"] == {"name": "copy"}
    hook = out["webhooks"][0]["clientConfig"]
    assert hook == {"url": "https://127.0.0.1:5000/validate-x", "caBundle": "Q0E="}
    assert body["webhooks"][0]["clientConfig"]["url"].endswith(":4000/validate-x")  # a copy


def test_a_webhook_with_a_service_reference_cannot_be_copied_silently() -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ValidatingWebhookConfiguration",
        "webhooks": [{"name": "w", "clientConfig": {"service": {"name": "aigov"}}}],
    }
    with pytest.raises(ValueError, match=r"no clientConfig\.url"):
        rewrite_configuration(body, "copy", "127.0.0.1:5000", b"CA")


def _summary(p99: float, rps: float, failures: dict[str, int] | None = None) -> Summary:
    failed = sum((failures or {}).values())
    return Summary(100, 100 - failed, p99 / 2, p99, p99 / 2, rps, failures or {})


def test_the_table_has_a_row_per_load_with_failures_by_code() -> None:
    rows = [
        report.LoadResult("200 req/s fixed rate", _summary(10, 200), _summary(30, 200)),
        report.LoadResult(
            "50 clients, closed loop", _summary(100, 1000), _summary(300, 350, {"500": 2})
        ),
    ]
    table = report.render_table(rows).splitlines()
    assert len(table) == 4
    assert table[2] == (
        "| 200 req/s fixed rate | 5.0 / 10.0 ms | 15.0 / 30.0 ms | 200 / 200 per s | 0 / 0 |"
    )
    assert table[3].endswith("| 1,000 / 350 per s | 0 / 2 (500: 2) |")


def test_targets_are_judged_on_the_measured_figures() -> None:
    rows = [
        report.LoadResult("200 req/s fixed rate", _summary(10, 190), _summary(35, 200), 200),
        report.LoadResult("50 clients, closed loop", _summary(100, 1000), _summary(300, 690)),
    ]
    targets = {t.name: t for t in report.evaluate(rows, 2600.0, {1000: 151.0}, other_failures=1)}
    assert targets["governed p99 at 200 req/s"].met is True  # +25 ms exactly
    assert targets["closed-loop throughput, 50 clients"].met is False  # 69%
    assert targets["webhook reviews per CPU-second"].met is True
    assert targets["operator RSS, 1,000 models"].met is False
    assert targets["operator RSS, 10,000 models"].met is None  # not measured (--quick)
    assert targets["failed requests, whole run"].met is False  # the roll's one failure
    text = report.render_targets(list(targets.values()))
    assert "MISSED" in text
    assert "not judged" in text


def test_a_fixed_rate_the_baseline_could_not_keep_is_not_judged() -> None:
    rows = [report.LoadResult("200 req/s fixed rate", _summary(6000, 75), _summary(6200, 68), 200)]
    (p99, *_) = report.evaluate(rows, None, {}, other_failures=0)
    assert p99.met is None
    assert "kept only 75/s" in p99.measured


def test_a_backend_leaves_the_rotation_after_three_failed_probes_and_returns_on_one() -> None:
    backend = Backend(1, "http://127.0.0.1:1/readyz")
    backend.probed(ok=True)
    assert backend.ready
    backend.probed(ok=False)
    backend.probed(ok=False)
    assert backend.ready  # two slow answers under load do not pull it
    backend.probed(ok=False)
    assert not backend.ready
    backend.probed(ok=True)
    assert backend.ready


def test_new_connections_go_round_robin_to_ready_backends_first() -> None:
    a, b, c = (Backend(port, f"http://127.0.0.1:{port}/readyz") for port in (1, 2, 3))
    a.ready, b.ready, c.ready = True, False, True
    proxy = RoundRobinProxy([a, b, c], port=0)
    firsts = [proxy._order()[0].port for _ in range(4)]
    assert firsts == [1, 3, 3, 1]  # b is never first while not ready
    assert [x.port for x in proxy._order()][-1] == 2  # but still tried last
