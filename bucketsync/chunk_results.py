"""What a copy or delete chunk did, as its result file holds it and the
report reads it: one typed record per key, and the chunk's counts. The
encoders and decoders here are the only ones; the files stay compact (one
JSON list per key)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar, NamedTuple

from .observed import Observed

# Outcomes of one key, as the report's action lines name them.
COPIED = "copied"
UNCHANGED = "unchanged"          # a CHECK or META action proven the same
UPDATED = "updated"              # same content and metadata; only the tags were brought in line
DELETED = "deleted"
FAILED = "failed"
SKIPPED = "skipped"              # changed during the run, or interrupted: left for the next run
WOULD_COPY = "would-copy"        # dry run
WOULD_UPDATE = "would-update"
WOULD_DELETE = "would-delete"


class ActionResult(NamedTuple):
    """What happened to one key: `size` is the bytes concerned (the source's
    as copied, the destination's as deleted), `reason` a sentence for people."""
    key: str
    size: int
    outcome: str
    reason: str


@dataclass
class ChunkResult:
    """The common part of a chunk's result. `failures` holds {"key", "error"}
    for the summary's first failed keys; `observed` what the servers were
    seen to do (see observed.py and server_findings.notes)."""
    COUNTS: ClassVar[tuple[str, ...]] = ("failed", "skipped")
    failed: int = 0
    skipped: int = 0
    failures: list[dict] = field(default_factory=list)
    actions: list[ActionResult] = field(default_factory=list)
    observed: Observed = field(default_factory=Observed)

    def to_dict(self) -> dict:
        document = asdict(self)
        document["actions"] = [list(action) for action in self.actions]
        document["observed"] = self.observed.to_dict()
        return document

    @classmethod
    def from_dict(cls, document: dict):
        result = cls(**{name: document.get(name, 0) for name in cls.COUNTS},
                     failures=list(document.get("failures") or ()),
                     observed=Observed.from_dict(document.get("observed")))
        result.actions = [ActionResult(*item) for item in document.get("actions") or ()]
        return result


@dataclass
class CopyResult(ChunkResult):
    COUNTS: ClassVar[tuple[str, ...]] = ("copied", "unchanged", "updated", "failed", "skipped", "bytes_copied",
                                         "verified")
    copied: int = 0
    unchanged: int = 0
    updated: int = 0
    bytes_copied: int = 0
    verified: int = 0    # copies read back at the destination (copy/readback.py) and found as written

    def unproven(self, problems: dict[str, str]) -> None:
        """Turn copies that the read-back could not prove ({relative key:
        why}) into failures: a write the tool cannot prove is never counted
        as done (and a failure blocks the run's deletes)."""
        for number, action in enumerate(self.actions):
            why = problems.get(action.key)
            if why is None or action.outcome != COPIED:
                continue
            self.actions[number] = ActionResult(action.key, action.size, FAILED, why)
            self.copied -= 1
            self.bytes_copied -= action.size
            self.failed += 1
            self.failures.append({"key": action.key, "error": why})


@dataclass
class DeleteResult(ChunkResult):
    COUNTS: ClassVar[tuple[str, ...]] = ("deleted", "failed", "skipped")
    deleted: int = 0
