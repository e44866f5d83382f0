"""A TCP proxy on 127.0.0.1 between the browser and the live server, for tests of what a weak link
does to an upload: a subclass decides how the phone's bytes go up (`_up`); the answers come down
as they are."""
from __future__ import annotations

import socket
import struct
import threading


class TcpProxy:
    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, client, upstream):
        raise NotImplementedError

    def _down(self, upstream, client):
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass
        self._reset(client)

    @staticmethod
    def _reset(sock, hard=True):
        """Close at once, even while the other pump's recv() waits on it. Hard: a reset (the browser
        sees a network error). Not hard: a FIN after what was forwarded, so the server reads every
        byte that got through before the body ends short (a reset would discard its unread ones)."""
        try:
            if hard:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def close(self):
        self.listener.close()
