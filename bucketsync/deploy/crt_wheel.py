"""The AWS Common Runtime wheel the code zip carries: awscrt is a native
library, so the zip holds the build for the functions' architecture
(LAMBDA_ARCHITECTURE), not the one installed on this machine. Each wheel is
pinned by its sha256 (PyPI's own digest), fetched once with pip and kept in
an ignored cache, so tests and later deploys work offline."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeployError
from ..project.frontmatter import ROOT
from .functions_template import RUNTIME

VERSION = "0.38.0"   # the same pin as requirements.txt (a test holds them equal)
CACHE = ROOT / ".bucketsync" / "wheels"


@dataclass(frozen=True)
class Wheel:
    architecture: str   # Lambda's name for it
    platform: str       # pip's --platform
    filename: str
    sha256: str


# cp311-abi3: CPython's stable ABI from 3.11 on, so it loads on Lambda's
# python3.12 (and on this machine's 3.11). manylinux2014 needs glibc 2.17;
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34).
WHEELS = {wheel.architecture: wheel for wheel in (
    Wheel("arm64", "manylinux2014_aarch64",
          f"awscrt-{VERSION}-cp311-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl",
          "f54a804f321912f3d5e856721d5fbfb8129eda8120eec3e9cae8eb26bb9349af"),
    Wheel("x86_64", "manylinux2014_x86_64",
          f"awscrt-{VERSION}-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
          "b91feaa8bafd264cd06484dc4efa5d95fbd25a9a46204eb71bf12a9dc8640a93"),
)}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheel_path(architecture: str, cache: Path = CACHE, download=None) -> Path:
    """The verified wheel for `architecture`, from the cache or else
    downloaded into it (`download(wheel, directory)`, pip by default). A
    cached file whose digest is wrong (a cut download) is fetched again."""
    wheel = WHEELS[architecture]
    path = cache / wheel.filename
    if path.is_file() and sha256_of(path) == wheel.sha256:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as directory:
        fetched = Path(directory, wheel.filename)
        try:
            (download or pip_download)(wheel, Path(directory))
        except DeployError as exc:
            raise DeployError(f"the awscrt {VERSION} wheel for {architecture} is not in {cache} and {exc}; "
                              f"connect to PyPI once, or put {wheel.filename} there") from exc
        if not fetched.is_file():
            got = ", ".join(sorted(p.name for p in Path(directory).iterdir())) or "nothing"
            raise DeployError(f"downloading {wheel.filename} brought {got}")
        digest = sha256_of(fetched)
        if digest != wheel.sha256:
            raise DeployError(f"{wheel.filename} has sha256 {digest}, not the pinned {wheel.sha256}: not used")
        # Atomic: two builds at once (pytest -n 2) never see half a file.
        os.replace(fetched, path)
    return path


def pip_download(wheel: Wheel, directory: Path) -> None:
    """pip, the ordinary client (the user's index, proxy and certificates
    apply), asked for exactly the Lambda build: no dependencies, binary only."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--no-deps", "--only-binary=:all:", "--platform", wheel.platform,
               "--python-version", RUNTIME.removeprefix("python"), "--implementation", "cp", "--abi", "abi3",
               "--retries", "1", "--timeout", "30", "--dest", str(directory), f"awscrt=={VERSION}"]
    answer = subprocess.run(command, capture_output=True, text=True)
    if answer.returncode != 0:
        lines = [line.strip() for line in answer.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {answer.returncode}"
        # Offline, pip's last word is "No matching distribution found": the
        # cause is in its retry warnings.
        if "connection" in answer.stderr.lower():
            reason += "; the index could not be reached"
        raise DeployError(f"pip could not download it ({reason})")


def entries(path: Path) -> list[tuple[str, bytes, bool]]:
    """The wheel's files as (name, content, executable), unpacked at the
    zip's root as Lambda's python path expects (`awscrt/`, `_awscrt.abi3.so`,
    and the dist-info with the LICENSE and NOTICE that Apache-2.0 asks to
    ship along). Directory entries are left out: imports need none."""
    with zipfile.ZipFile(path) as wheel:
        return [(info.filename, wheel.read(info), bool((info.external_attr >> 16) & 0o111))
                for info in wheel.infolist() if not info.is_dir()]
