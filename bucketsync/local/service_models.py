"""botocore's data files decoded once per process, not once per session.

botocore caches what a Loader decodes on that Loader, and every Session has
its own: the local engine's session, the functions' sessions (one per
endpoint and profile, made afresh by `clients.reset()` each run), boto3's
default session (the interpreter's ItemReader) and moto's own loader each
decoded the S3 model (1.4 MB, ~40 ms with botocore's OrderedDict hook),
endpoints.json (1.2 MB, ~60 ms) and the rest again. Measured in one small
`fab sync`: 104 JSON documents decoded, 0.35 s.

Sharing the decoded document is what one Session already does for all its
clients (the Loader's instance cache hands every client the same dict), so
it changes nothing a client can see; botocore's only in-place change, the
merge of `*.sdk-extras.json` into a model, is idempotent (botocore.utils.
deep_merge). Files in a data path do not change while a process runs.
Between processes the decoded data is kept pickled with the local state
(the next process unpickles rather than decodes: ~90 ms less per run).
Installed for local runs only (bucketsync.local); never in the Lambda zip.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import stat
import threading

import botocore
from botocore import loaders

from .pickle_files import PickleFiles

KEEP_FILES = 64   # a run reads ~20 data files; other services and versions of them

_decoded: dict[str, object] = {}
_listings: dict[str, dict] = {}   # data directory: its services and their versions' files
_services: dict[tuple, list] = {}    # (data directories, type of model): the services that have one
_lock = threading.Lock()
_real_load_file = loaders.JSONFileLoader.load_file
_real_list_available_services = loaders.Loader.list_available_services


def _load_file(self, file_path):
    """JSONFileLoader.load_file, memoised by path (None, "no such file", too)."""
    try:
        return _decoded[file_path]
    except KeyError:
        pass
    data = _from_disk_or_decoded(self, file_path)
    with _lock:   # two threads decoding one file at once keep the first result
        return _decoded.setdefault(file_path, data)


def _from_disk_or_decoded(self, file_path):
    """The file's data as botocore decodes it, kept pickled between processes
    too (local state, bucketsync.local.pickle_files): unpickling endpoints.json
    takes ~15 ms, decoding it with botocore's OrderedDict hook ~55 ms. The key
    is the file found (botocore's order of extensions), its size and time."""
    for extension in loaders._JSON_OPEN_METHODS:
        found = file_path + extension
        try:
            status = os.stat(found)
        except OSError:
            continue
        if not stat.S_ISREG(status.st_mode):
            continue
        store = _store()
        key = store.key_of(f"{found}\0{status.st_size}\0{status.st_mtime_ns}")
        blob = store.read(key)
        if blob is not None:
            with contextlib.suppress(Exception):   # foreign or truncated: decoded again below
                return pickle.loads(blob)
        data = _real_load_file(self, file_path)
        with contextlib.suppress(Exception):
            store.write(key, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        return data
    return _real_load_file(self, file_path)   # no such file: botocore's None


def _store() -> PickleFiles:
    from .environment import state_dir   # read now: tests and users point it elsewhere
    return PickleFiles(state_dir() / "botocore", f"botocore-{botocore.__version__}-data-1", KEEP_FILES)


def _list_available_services(self, type_name):
    """Loader.list_available_services, from one scan per data directory and
    process: botocore scans ~400 service directories (a few thousand system
    calls) for every Loader and type of model (five times in a small run).
    Same answer: the services with a `<version>/<type_name>.json[.gz]` file."""
    paths = tuple(self._potential_locations())
    try:
        return _services[(paths, type_name)]
    except KeyError:
        pass
    names = {type_name + extension for extension in loaders._JSON_OPEN_METHODS}
    services = set()
    for path in paths:
        services.update(service for service, versions in _scan(path).items()
                        if any(names & files for files in versions))
    with _lock:
        return _services.setdefault((paths, type_name), sorted(services))


def _scan(path: str) -> dict[str, list[frozenset]]:
    """{service: [the file names of each of its version directories]}."""
    try:
        return _listings[path]
    except KeyError:
        pass
    found = {}
    with os.scandir(path) as services:
        for service in services:
            if service.is_dir():
                with os.scandir(service.path) as versions:
                    found[service.name] = [frozenset(os.listdir(version.path)) for version in versions
                                           if version.is_dir()]
    with _lock:
        return _listings.setdefault(path, found)


def install() -> None:
    """Share decoded data files across this process's loaders (idempotent)."""
    loaders.JSONFileLoader.load_file = _load_file
    loaders.Loader.list_available_services = _list_available_services


def uninstall() -> None:
    """botocore's own behaviour again (tests compare the two)."""
    loaders.JSONFileLoader.load_file = _real_load_file
    loaders.Loader.list_available_services = _real_list_available_services
    _decoded.clear()
    _listings.clear()
    _services.clear()
