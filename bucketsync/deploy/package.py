"""The Lambda code package: one deterministic zip (sorted entries, fixed
timestamps and modes) holding the handlers, the `bucketsync` runtime and the
awscrt wheel built for the functions' architecture, named by its content
hash so that an unchanged tree uploads nothing."""
from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

from ..errors import DeployError
from ..project.frontmatter import FUNCTIONS_DIR, ROOT
from . import crt_wheel

RUNTIME = ROOT / "bucketsync"
NOT_SHIPPED = ("local", "deploy", "project")     # in-process engine, deploy tooling, what both share
_EPOCH = (1980, 1, 1, 0, 0, 0)
# zlib's default: level 9 takes four times as long on awscrt's 12 MB
# library (2.3 s against 0.6 s) for a zip 0.5 % smaller.
COMPRESS_LEVEL = 6
# Lambda's quota on a function's code once extracted (layers included):
# 250 MB, 262,144,000 bytes. The zip goes through S3 (CodeUri), so the
# 50 MB of a direct upload does not bind it.
UNZIPPED_LIMIT = 262_144_000


def files() -> list[tuple[str, Path]]:
    """(name in the zip, path) of our own files shipped, sorted by name."""
    entries = [(path.name, path) for path in FUNCTIONS_DIR.glob("*.py")]
    for path in RUNTIME.rglob("*.py"):
        relative = path.relative_to(RUNTIME)
        if relative.parts[0] in NOT_SHIPPED or "__pycache__" in relative.parts:
            continue
        entries.append((f"bucketsync/{relative.as_posix()}", path))
    return sorted(entries)


def contents(architecture: str) -> list[tuple[str, bytes, bool]]:
    """Every file of the zip as (name, content, executable), sorted by
    name: ours, and the awscrt wheel's for `architecture` at the root."""
    ours = [(name, path.read_bytes(), False) for name, path in files()]
    wheel = crt_wheel.entries(crt_wheel.wheel_path(architecture))
    clash = sorted({name for name, _, _ in ours} & {name for name, _, _ in wheel})
    if clash:   # a zip may hold a name twice, and which one Lambda extracts is anyone's guess
        raise DeployError(f"the code zip would hold {', '.join(clash)} twice (ours and awscrt's)")
    return sorted(ours + wheel, key=lambda entry: entry[0])


def build(architecture: str) -> bytes:
    entries = contents(architecture)
    unzipped = sum(len(data) for _, data, _ in entries)
    if unzipped > UNZIPPED_LIMIT:
        raise DeployError(f"the code zip would extract to {unzipped:,} bytes, over Lambda's {UNZIPPED_LIMIT:,}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, executable in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            # Unix, so that the mode is read (on Windows ZipInfo would say
            # MS-DOS); Lambda needs every file world-readable, and the
            # wheel's shared library keeps its executable bits.
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_key(data: bytes) -> str:
    return f"code/{digest(data)}.zip"
