"""What the servers were seen to do during a run, typed.

The copier, the deleter and the report decide on these findings; the result
files, the copy totals and the report's `server` object carry them as JSON
in words (`{"tagging": "unsupported"}`), exactly as `to_dict` writes them.
Each finding is noted once per chunk and summed over chunks by `merge`."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum


class Seen(Enum):
    """What a server was seen to do about one thing (the value: the word in
    the JSON)."""
    HONOURED = "honoured"
    SUPPORTED = "supported"
    REJECTED = "rejected"
    IGNORED = "ignored"
    UNSUPPORTED = "unsupported"
    DROPPED = "dropped"
    UNLISTED = "unlisted"
    NOT_MD5 = "not MD5 of content"

    @property
    def rank(self) -> int:
        """When results disagree about a server, the finding that needs
        attention wins (see `Observed.merge`)."""
        return _RANK.get(self, 0)


_RANK = {Seen.REJECTED: 1, Seen.IGNORED: 2, Seen.UNSUPPORTED: 2}


@dataclass(slots=True)
class Observed:
    """One field per finding (None: nothing seen), named as in the JSON."""
    copy_source_if_match: Seen | None = None      # IGNORED: a changed source was copied anyway
    conditional_writes: Seen | None = None        # REJECTED: If-Match/If-None-Match not implemented
    conditional_deletes: Seen | None = None       # HONOURED, IGNORED or REJECTED (the deleter's probe)
    marker_metadata: Seen | None = None           # DROPPED: no metadata kept on "dir/" markers
    tagging: Seen | None = None                   # UNSUPPORTED: the source has no tagging
    source_etags: Seen | None = None              # NOT_MD5: plain ETags that are no MD5 of the bytes
    stale_uploads: Seen | None = None             # UNLISTED: multipart uploads cannot be listed
    stamp_dropped: list[str] = field(default_factory=list)           # keys copied without the stamp
    stale_uploads_aborted: list[str] = field(default_factory=list)   # keys whose old uploads were aborted

    def to_dict(self) -> dict:
        document: dict = {}
        for name, value in self._items():
            if isinstance(value, list):
                if value:
                    document[name] = list(value)
            elif value is not None:
                document[name] = value.value
        return document

    @classmethod
    def from_dict(cls, document: dict | None) -> Observed:
        observed = cls()
        for name, value in (document or {}).items():
            setattr(observed, name, list(value) if isinstance(value, list) else Seen(value))
        return observed

    def merge(self, other: Observed) -> None:
        """Add `other`'s findings: lists are joined; of two findings about one
        thing the higher ranked stands (the later one when equal)."""
        for name, value in other._items():
            mine = getattr(self, name)
            if isinstance(value, list):
                mine.extend(value)
            elif value is not None and (mine is None or value.rank >= mine.rank):
                setattr(self, name, value)

    def _items(self):
        return ((f.name, getattr(self, f.name)) for f in fields(self))
