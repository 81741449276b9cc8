"""imaplib helpers shared by the recording clients.

FixedTagIMAP4 is imaplib.IMAP4 with a fixed tag prefix (imaplib picks a random
one per connection, which would make every recording's bytes differ), the ID
command, and optional plaintext logging of everything sent and received
(used for the TLS scenarios, where the wire carries ciphertext).
"""
import imaplib
import os
import re
import ssl

imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED", "LOGOUT"))
imaplib.Commands.setdefault("COMPRESS", ("AUTH", "SELECTED"))


class FixedTagIMAP4(imaplib.IMAP4):
    def __init__(self, host, port, tagpre: bytes, plain_log: bool = False, **kw):
        self._fixed_tagpre = tagpre
        self._plain_log = plain_log
        self._c2s = bytearray()
        self._s2c = bytearray()
        super().__init__(host, port, **kw)

    # --- same as imaplib's _connect, minus the random tag prefix
    def _connect(self):
        self.tagpre = self._fixed_tagpre
        self.tagre = re.compile(br"(?P<tag>" + self.tagpre + br"\d+) (?P<type>[A-Z]+) (?P<data>.*)",
                                re.ASCII)
        self._cmd_log_len = 10
        self._cmd_log_idx = 0
        self._cmd_log = {}
        self.welcome = self._get_response()
        if "PREAUTH" in self.untagged_responses:
            self.state = "AUTH"
        elif "OK" in self.untagged_responses:
            self.state = "NONAUTH"
        else:
            raise self.error(self.welcome)
        self._get_capabilities()
        self.PROTOCOL_VERSION = "IMAP4rev1"

    # --- plaintext logging
    def send(self, data):
        if self._plain_log:
            self._c2s += data
        super().send(data)

    def read(self, size):
        data = super().read(size)
        if self._plain_log:
            self._s2c += data
        return data

    def readline(self):
        data = super().readline()
        if self._plain_log:
            self._s2c += data
        return data

    def logout(self):
        """imaplib's logout returns at "* BYE" and closes; when logging the
        plaintext, read the rest (the tagged OK) until the server closes."""
        self.state = "LOGOUT"
        typ, dat = self._simple_command("LOGOUT")
        if self._plain_log:
            try:
                while self.readline():
                    pass
            except OSError:
                pass
        self.shutdown()
        return typ, dat

    def client_port(self) -> int:
        return self.sock.getsockname()[1]

    def save_plain(self, port: int) -> None:
        d = os.environ.get("PLAIN_DIR")
        if d and self._plain_log:
            open(os.path.join(d, f"{port}.c2s"), "wb").write(bytes(self._c2s))
            open(os.path.join(d, f"{port}.s2c"), "wb").write(bytes(self._s2c))

    def id(self, *pairs: str):
        args = "(" + " ".join(f'"{p}"' for p in pairs) + ")"
        return self._simple_command("ID", args)

    def raw(self, name: str, *args):
        """Send any command through imaplib and return (typ, data)."""
        imaplib.Commands.setdefault(name, ("NONAUTH", "AUTH", "SELECTED", "LOGOUT"))
        return self._simple_command(name, *args)


class FixedTagIMAP4_SSL(FixedTagIMAP4):
    """Implicit TLS (port 993) with a caller-supplied SSLContext."""

    def __init__(self, host, port, tagpre, ssl_context: ssl.SSLContext, **kw):
        self.ssl_context = ssl_context
        super().__init__(host, port, tagpre, **kw)

    def _create_socket(self, timeout):
        sock = super()._create_socket(timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)

    def open(self, host="", port=993, timeout=None):
        super().open(host, port, timeout)


def check(result, what: str, ok=("OK",)):
    typ, data = result
    print(f"{what}: {typ} {data[-1][:100] if data and isinstance(data[-1], bytes) else data}")
    if typ not in ok and not (typ == "BYE" and "LOGOUT" in what):
        raise SystemExit(f"{what} failed: {typ} {data}")
    return data
