"""A TCP proxy on loopback that can cut a server off: for outage tests.

`Proxy(port)` forwards 127.0.0.1:<its own port> to 127.0.0.1:<port>.
During `outage(seconds)` every open connection is closed and new ones are
closed as soon as they are accepted (a server that drops connections), then
forwarding resumes. It stops with the test (context manager)."""
from __future__ import annotations

import socket
import threading
import time


class Proxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.target = (host, target_port)
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://{host}:{self.port}"
        self._down_until = 0.0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def outage(self, seconds: float) -> None:
        self._down_until = time.monotonic() + seconds
        with self._lock:
            for sock in list(self._sockets):
                _close(sock)
            self._sockets.clear()

    def _accept(self):
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            if time.monotonic() < self._down_until:
                self.dropped += 1
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)

    def close(self):
        self._stop.set()
        _close(self.listener)
        self.outage(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
