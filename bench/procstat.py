"""What the operator process costs, read from /proc and from its /metrics endpoint.

Resident memory is VmRSS of /proc/<pid>/status (what the kernel charges the process, the
figure a memory limit is checked against); CPU time is utime + stime of /proc/<pid>/stat, so
reviews per CPU-second count the whole process (watches, reconcilers, garbage collection),
not one handler.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used so far."""
    return parse_cpu_seconds(Path(f"/proc/{pid}/stat").read_text(), os.sysconf("SC_CLK_TCK"))


def parse_cpu_seconds(stat: str, ticks_per_second: int) -> float:
    """utime + stime from the text of /proc/<pid>/stat. The command name (field 2) may
    hold spaces and parentheses, so fields are counted after its last ')'."""
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the name: state is field 3, utime field 14, stime field 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def counter_total(exposition: str, name: str) -> float | None:
    """Sum of every sample of counter `name` (all label sets) in Prometheus text, or None
    when the metric is absent."""
    total, seen = 0.0, False
    for line in exposition.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0].strip() != name:
            continue
        total += float(value)
        seen = True
    return total if seen else None


def scrape(url: str) -> str:
    """The text of a /metrics endpoint."""
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
        text: bytes = resp.read()
        return text.decode()


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    return parse_machine_ticks(Path("/proc/stat").read_text())


def parse_machine_ticks(stat: str) -> tuple[int, int]:
    """(busy, total) from the text of /proc/stat: its first line sums every core; idle and
    iowait are not busy; guest time is already inside user and nice (proc(5)), so only the
    first eight fields count."""
    first = stat.splitlines()[0].split()
    if first[0] != "cpu":
        raise ValueError(f"/proc/stat does not start with the 'cpu' line: {first[:1]}")
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total - idle - iowait, total
