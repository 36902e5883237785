"""A TCP proxy a test can cut like a broken network: ``cut()`` stops forwarding in both
directions without closing anything, so neither side sees a FIN or a reset (a cable
pulled, a firewall dropping packets), and new connections get no answer either."""

from __future__ import annotations

import select
import socket
import threading


class BreakableProxy:
    def __init__(self, target_port: int, port: int = 0, host: str = "127.0.0.1") -> None:
        self._target = (host, target_port)
        self._listener = socket.create_server((host, port))
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self._cut.set()

    def close(self) -> None:
        self._closed.set()
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                self._sockets.append(client)  # held open, never answered
                continue
            server = socket.create_connection(self._target)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, one: socket.socket, other: socket.socket) -> None:
        peers = {one: other, other: one}
        while not self._closed.is_set() and not self._cut.is_set():
            try:
                ready, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        one.close()
                        other.close()
                        return
                    peers[sock].sendall(data)
            except OSError:
                return
