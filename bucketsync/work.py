"""The run context carried through the state machine, and the layout of the
scratch area (chunk files, indexes, result files, report).

Scratch files live only in the work bucket (the stack's own bucket on AWS,
an in-memory bucket in local runs), never in the user's buckets."""
from __future__ import annotations

from dataclasses import dataclass

from .endpoints import Endpoint
from .sync_request import SyncRequest


RUNS = "runs/"   # every run's scratch lives under it (the work bucket's lifecycle rule expires it)
# The Distributed Maps' ResultWriter files: one folder per map run (its ID),
# found through the Map state's output (ResultWriterDetails), also expired.
MAP_RESULTS = "map-results/"


def run_prefix(base: str, execution: str) -> str:
    """The scratch prefix of one run (an execution name is unique per state machine)."""
    return f"{base}{RUNS}{execution}/"


REPORT_FILE = "report.jsonl"


def report_key(base: str, execution: str) -> str:
    return f"{run_prefix(base, execution)}{REPORT_FILE}"


@dataclass(frozen=True)
class Run:
    id: str
    request: SyncRequest | None   # None: a DataSync-only run (no object-level sync)
    source_region: str | None
    destination_region: str | None
    work_bucket: str
    work_prefix: str        # ends with "/"; every scratch key of this run starts with it
    started: str | None = None   # the execution's start time (ISO 8601)
    # How many areas DataSync owns in this run (datasync.ownership.Owned):
    # the object-level sync neither copies nor deletes their keys. The areas
    # themselves are in the work area (`owned_key`): each holds a regex of
    # DataSync's include filter, up to 102,400 characters, which would
    # otherwise travel in every state and every Map item.
    owned_areas: int = 0
    # Each side's endpoint and credentials, resolved once by ValidateInput
    # (endpoints.resolve): every later step reaches the same place the same way.
    source_endpoint: Endpoint = Endpoint()
    destination_endpoint: Endpoint = Endpoint()

    def to_dict(self) -> dict:
        return {"id": self.id, "request": self.request.to_dict() if self.request else None,
                "source_region": self.source_region, "destination_region": self.destination_region,
                "work": {"bucket": self.work_bucket, "prefix": self.work_prefix}, "started": self.started,
                "owned_areas": self.owned_areas,
                "endpoints": {"source": self.source_endpoint.to_dict(),
                              "destination": self.destination_endpoint.to_dict()}}

    @classmethod
    def from_dict(cls, data: dict) -> "Run":
        request = data.get("request")
        return cls(id=data["id"], request=SyncRequest.from_dict(request) if request else None,
                   source_region=data.get("source_region"),
                   destination_region=data.get("destination_region"),
                   work_bucket=data["work"]["bucket"], work_prefix=data["work"]["prefix"],
                   started=data.get("started"), owned_areas=int(data.get("owned_areas") or 0),
                   source_endpoint=Endpoint.from_dict((data.get("endpoints") or {}).get("source")),
                   destination_endpoint=Endpoint.from_dict((data.get("endpoints") or {}).get("destination")))

    @property
    def streamed(self) -> bool:
        """Whether copies stream through us (the sides are different places or
        credentials), rather than being made server-side."""
        return not self.source_endpoint.same_credentials_and_place(self.destination_endpoint)

    @property
    def dry_run(self) -> bool:
        return bool(self.request and self.request.dry_run)

    @property
    def leased(self) -> bool:
        """Whether the run holds a destination lease: an object-level sync
        that writes (a dry run writes nothing; DataSync-only has no destination
        of ours)."""
        return self.request is not None and not self.request.dry_run

    # ---- scratch layout ----
    def chunk_key(self, kind: str, number: int) -> str:
        return f"{self.work_prefix}plan/{kind}/{number:06d}.json"

    def index_key(self, kind: str) -> str:
        return f"{self.work_prefix}plan/{kind}-index.json"

    def result_key(self, kind: str, number: int) -> str:
        return f"{self.work_prefix}results/{kind}/{number:06d}.json"

    @property
    def owned_key(self) -> str:
        return f"{self.work_prefix}datasync/owned.json"

    @property
    def datasync_filters_key(self) -> str:
        return f"{self.work_prefix}datasync/filters.json"

    @property
    def copy_totals_key(self) -> str:
        return f"{self.work_prefix}results/copy-totals.json"

    @property
    def report_key(self) -> str:
        return f"{self.work_prefix}{REPORT_FILE}"

    @property
    def report_location(self) -> str:
        return f"s3://{self.work_bucket}/{self.report_key}"
