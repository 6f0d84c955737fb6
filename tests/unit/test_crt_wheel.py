"""The awscrt wheel's cache: a verified file is used as it is, a download is
kept only when its sha256 is the pinned one, and with no cache and no PyPI
the deploy stops with one line saying what to do."""
import shutil
import socket

import pytest

from bucketsync.deploy import crt_wheel
from bucketsync.errors import DeployError

WHEEL = crt_wheel.WHEELS["arm64"]


@pytest.fixture(scope="module")
def real_wheel():
    """The real arm64 wheel, from the project's cache (fetched once)."""
    return crt_wheel.wheel_path("arm64")


def copying(source, calls):
    def download(wheel, directory):
        calls.append(wheel.architecture)
        shutil.copy(source, directory / wheel.filename)
    return download


def test_a_verified_cached_wheel_is_used_without_a_download(real_wheel, tmp_path):
    shutil.copy(real_wheel, tmp_path / WHEEL.filename)
    calls = []
    assert crt_wheel.wheel_path("arm64", tmp_path, copying(real_wheel, calls)) == tmp_path / WHEEL.filename
    assert calls == []


def test_a_missing_or_damaged_cached_wheel_is_downloaded_again(real_wheel, tmp_path):
    calls = []
    path = crt_wheel.wheel_path("arm64", tmp_path / "cache", copying(real_wheel, calls))
    assert calls == ["arm64"] and crt_wheel.sha256_of(path) == WHEEL.sha256
    path.write_bytes(path.read_bytes()[:1000])   # a cut download
    assert crt_wheel.wheel_path("arm64", tmp_path / "cache", copying(real_wheel, calls)) == path
    assert calls == ["arm64", "arm64"] and crt_wheel.sha256_of(path) == WHEEL.sha256
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [WHEEL.filename]   # no temporary left


def test_a_download_with_another_digest_is_refused_and_not_kept(tmp_path):
    def tampered(wheel, directory):
        (directory / wheel.filename).write_bytes(b"not the wheel")
    with pytest.raises(DeployError, match=f"{WHEEL.filename} has sha256 [0-9a-f]{{64}}, not the pinned {WHEEL.sha256}"):
        crt_wheel.wheel_path("arm64", tmp_path, tampered)
    assert list(tmp_path.iterdir()) == []


def test_a_download_of_another_file_is_refused(tmp_path):
    def other(wheel, directory):
        (directory / "awscrt-0.38.0.tar.gz").write_bytes(b"sdist")
    with pytest.raises(DeployError, match=f"downloading {WHEEL.filename} brought awscrt-0.38.0.tar.gz"):
        crt_wheel.wheel_path("arm64", tmp_path, other)


def test_offline_with_no_cache_pip_fails_in_one_line(tmp_path, monkeypatch):
    """The real pip, its index a closed port on this machine and its
    configuration files (with their extra indexes) ignored."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]   # closed again when the block ends: connections are refused
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{port}/simple")
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DeployError) as info:
        crt_wheel.wheel_path("x86_64", tmp_path / "cache")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"the awscrt {crt_wheel.VERSION} wheel for x86_64 is not in {tmp_path / 'cache'} "
                              "and pip could not download it (")
    assert "the index could not be reached); " in message
    assert message.endswith(f"connect to PyPI once, or put {crt_wheel.WHEELS['x86_64'].filename} there")
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []
