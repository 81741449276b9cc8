#!/usr/bin/env python3
"""Scenario append-idle: APPEND variants, a refused APPEND, a BAD, and IDLE.

usage: append_idle.py HOST PORT USER PASSWORD

Connection 1 (tag prefix X): AUTHENTICATE PLAIN (no SASL-IR: waits for "+"),
  SELECT INBOX, APPEND INBOX with flags, date and a synchronizing literal
  {n} (waits for "+"), APPEND Sent with a non-synchronizing literal {n+}
  (LITERAL+, command and message in one write), APPEND to a mailbox that does
  not exist with a synchronizing literal (server answers NO [TRYCREATE]
  instead of "+", the literal is never sent), a FETCH with a syntax error
  (BAD), then IDLE.
Connection 2 (tag prefix Y), opened while connection 1 idles: LOGIN and
  SELECT INBOX pipelined in one write, APPEND INBOX (sync literal), LOGOUT.  Connection 1 receives
  "* N EXISTS" during IDLE, sends DONE, then LOGOUT.
"""
import imaplib
import sys

from imapcommon import FixedTagIMAP4, check

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def message(n: int, subject: str, body: str) -> bytes:
    return (f"Date: Wed, 13 Mar 2024 1{n}:00:00 +0100\r\n"
            f"From: Alice Example <alice@example.test>\r\n"
            f"To: Bob Example <bob@example.test>\r\n"
            f"Subject: {subject}\r\n"
            f"Message-ID: <append-{n}@example.test>\r\n"
            f"MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n"
            f"\r\n{body}\r\n").encode()


def raw_command(m: FixedTagIMAP4, name: str, line: bytes):
    """Send one complete command (with any literal) as it is; read the result."""
    tag = m._new_tag()
    m.tagged_commands[tag] = None
    m.send(tag + b" " + line + b"\r\n")
    return m._command_complete(name, tag)


c1 = FixedTagIMAP4(HOST, PORT, b"X")
print(f"[1] port {c1.client_port()}")
check(c1.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode()), "[1] AUTHENTICATE PLAIN")
check(c1.select("INBOX"), "[1] SELECT INBOX")
check(c1.append("INBOX", r"(\Seen \Flagged)", '"13-Mar-2024 10:00:00 +0100"',
                message(1, "Appended with a synchronizing literal",
                        "This message was uploaded with APPEND {n}.")),
      "[1] APPEND INBOX {n}")
if "LITERAL+" not in c1.capabilities:
    raise SystemExit("server does not offer LITERAL+")
msg2 = message(2, "Appended with a non-synchronizing literal",
               "This message was uploaded with APPEND {n+} (LITERAL+).")
check(raw_command(c1, "APPEND", b"APPEND Sent (\\Seen) {%d+}\r\n" % len(msg2) + msg2),
      "[1] APPEND Sent {n+}")
typ, data = c1.append("NoSuchFolder", None, None,
                      message(3, "Never stored", "The server refuses this APPEND."))
print(f"[1] APPEND NoSuchFolder {{n}}: {typ} {data}")
if typ != "NO":
    raise SystemExit("APPEND to a missing mailbox was not refused")
try:
    raw_command(c1, "FETCH", b"FETCH 1 (FLAGS")
    raise SystemExit("FETCH with a syntax error was not BAD")
except imaplib.IMAP4.error as e:
    print(f"[1] FETCH 1 (FLAGS: BAD as expected: {e}")

# IDLE by hand (imaplib of Python 3.11 has no idle())
idle_tag = c1._new_tag()
c1.tagged_commands[idle_tag] = None
c1.send(idle_tag + b" IDLE\r\n")
line = c1.readline()
print(f"[1] IDLE: {line!r}")
if not line.startswith(b"+"):
    raise SystemExit("IDLE not accepted")

c2 = FixedTagIMAP4(HOST, PORT, b"Y")
print(f"[2] port {c2.client_port()}")
# LOGIN and SELECT pipelined in one write: the login process reads both, the
# imap process gets SELECT handed over (and its rawlog repeats it)
t_login, t_select = c2._new_tag(), c2._new_tag()
c2.tagged_commands[t_login] = c2.tagged_commands[t_select] = None
c2.send(t_login + f' LOGIN {USER} "{PASSWORD}"\r\n'.encode() + t_select + b" SELECT INBOX\r\n")
check(c2._command_complete("LOGIN", t_login), "[2] LOGIN (pipelined)")
c2.state = "AUTH"
check(c2._command_complete("SELECT", t_select), "[2] SELECT INBOX (pipelined)")
c2.state = "SELECTED"
check(c2.append("INBOX", None, '"13-Mar-2024 12:00:00 +0100"',
                message(4, "Arrives during IDLE", "Connection 1 is idling in INBOX.")),
      "[2] APPEND INBOX")

c1.sock.settimeout(60)
while True:
    line = c1.readline()
    print(f"[1] during IDLE: {line!r}")
    if not line:
        raise SystemExit("connection closed during IDLE")
    if line.endswith(b" EXISTS\r\n"):
        break
check(c2.logout(), "[2] LOGOUT")
c1.send(b"DONE\r\n")
check(c1._command_complete("IDLE", idle_tag), "[1] DONE")
check(c1.logout(), "[1] LOGOUT")
