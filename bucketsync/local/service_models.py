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
Installed for local runs only (bucketsync.local); never in the Lambda zip.
"""
from __future__ import annotations

import threading

from botocore import loaders

_decoded: dict[str, object] = {}
_listings: dict[tuple, object] = {}
_lock = threading.Lock()
_real_load_file = loaders.JSONFileLoader.load_file
_real_list_available_services = loaders.Loader.list_available_services


def _load_file(self, file_path):
    """JSONFileLoader.load_file, memoised by path (None, "no such file", too)."""
    try:
        return _decoded[file_path]
    except KeyError:
        pass
    data = _real_load_file(self, file_path)
    with _lock:   # two threads decoding one file at once keep the first result
        return _decoded.setdefault(file_path, data)


def _list_available_services(self, type_name):
    """Loader.list_available_services (a directory scan of ~400 services, run
    once per Loader), memoised by search path."""
    key = (tuple(self.search_paths), type_name)
    try:
        return _listings[key]
    except KeyError:
        pass
    services = _real_list_available_services(self, type_name)
    with _lock:
        return _listings.setdefault(key, services)


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
