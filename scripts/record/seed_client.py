#!/usr/bin/env python3
"""Scenario seed-alice / seed-bob: imitate a desktop mail client's first sync.

usage: seed_client.py HOST PORT USER PASSWORD

Three connections. A and B open almost together (A 30 ms earlier, so the SYN
order is stable); C opens after A has logged out. Each one: CAPABILITY (sent
by imaplib on connect), ID, LOGIN, LIST "" "", NOOP; then
  A: SELECT INBOX, LIST "" "*", per folder SELECT + UID SEARCH ALL, then in
     INBOX UID FETCH 1:* (UID FLAGS RFC822.SIZE BODYSTRUCTURE
     BODY.PEEK[HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)]), LOGOUT
  B: SELECT INBOX, UID FETCH 2 (BODY.PEEK[1]) (text of the UTF-8 QP message),
     UID FETCH 4 (BODY.PEEK[2]) (PNG attachment of the multipart/mixed one),
     UID FETCH 7 (BODY.PEEK[TEXT]<0.2048>) (partial fetch of the large one),
     LOGOUT
  C: EXAMINE Archive, UID FETCH 2 (BODY.PEEK[]), LOGOUT
"""
import re
import sys
import threading
import time

from imapcommon import FixedTagIMAP4, check

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
errors: list = []


def prelude(m: FixedTagIMAP4, name: str) -> None:
    print(f"[{name}] port {m.client_port()} capabilities: {' '.join(m.capabilities)[:80]}...")
    check(m.id("name", "SeedMail", "version", "1.0"), f"[{name}] ID")
    check(m.login(USER, PASSWORD), f"[{name}] LOGIN")
    check(m.list('""', '""'), f"[{name}] LIST \"\" \"\"")
    check(m.noop(), f"[{name}] NOOP")


def conn_a() -> None:
    m = FixedTagIMAP4(HOST, PORT, b"A")
    prelude(m, "A")
    check(m.select("INBOX"), "[A] SELECT INBOX")
    folders = []
    for line in check(m.list('""', '"*"'), '[A] LIST "" "*"'):
        name = re.search(rb'"/" (.*)$', line).group(1).decode()
        folders.append(name)
    for f in folders:
        check(m.select(f), f"[A] SELECT {f}")
        check(m.uid("SEARCH", "ALL"), f"[A] UID SEARCH ALL ({f})")
    check(m.select("INBOX"), "[A] SELECT INBOX")
    check(m.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE BODYSTRUCTURE "
                "BODY.PEEK[HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)])"), "[A] UID FETCH 1:*")
    check(m.logout(), "[A] LOGOUT")


def conn_b() -> None:
    m = FixedTagIMAP4(HOST, PORT, b"B")
    prelude(m, "B")
    check(m.select("INBOX"), "[B] SELECT INBOX")
    check(m.uid("FETCH", "2", "(BODY.PEEK[1])"), "[B] UID FETCH 2 BODY.PEEK[1]")
    check(m.uid("FETCH", "4", "(BODY.PEEK[2])"), "[B] UID FETCH 4 BODY.PEEK[2]")
    check(m.uid("FETCH", "7", "(BODY.PEEK[TEXT]<0.2048>)"), "[B] UID FETCH 7 BODY.PEEK[TEXT]<0.2048>")
    check(m.logout(), "[B] LOGOUT")


def conn_c() -> None:
    m = FixedTagIMAP4(HOST, PORT, b"C")
    prelude(m, "C")
    check(m.select("Archive", readonly=True), "[C] EXAMINE Archive")
    check(m.uid("FETCH", "2", "(BODY.PEEK[])"), "[C] UID FETCH 2 BODY.PEEK[]")
    check(m.logout(), "[C] LOGOUT")


def run(fn) -> None:
    try:
        fn()
    except BaseException as e:  # report in the main thread
        errors.append(e)


a = threading.Thread(target=run, args=(conn_a,))
b = threading.Thread(target=run, args=(conn_b,))
a.start()
time.sleep(0.03)
b.start()
a.join()
if not errors:
    conn_c()
b.join()
if errors:
    raise SystemExit(f"seed client failed: {errors[0]!r}")
