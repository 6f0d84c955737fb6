"""The Lambda code package: one deterministic zip (sorted entries, fixed
timestamps and modes) holding the handlers and the `bucketsync` runtime only,
named by its content hash so that an unchanged tree uploads nothing."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from ..project.frontmatter import FUNCTIONS_DIR, ROOT

RUNTIME = ROOT / "bucketsync"
NOT_SHIPPED = ("local", "deploy", "project")     # in-process engine, deploy tooling, what both share
_EPOCH = (1980, 1, 1, 0, 0, 0)


def files() -> list[tuple[str, Path]]:
    """(name in the zip, path) of everything shipped, sorted by name."""
    entries = [(path.name, path) for path in FUNCTIONS_DIR.glob("*.py")]
    for path in RUNTIME.rglob("*.py"):
        relative = path.relative_to(RUNTIME)
        if relative.parts[0] in NOT_SHIPPED or "__pycache__" in relative.parts:
            continue
        entries.append((f"bucketsync/{relative.as_posix()}", path))
    return sorted(entries)


def build() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in files():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_key(data: bytes) -> str:
    return f"code/{digest(data)}.zip"
