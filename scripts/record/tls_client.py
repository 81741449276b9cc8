#!/usr/bin/env python3
"""Scenarios imaps-tls13 / starttls-tls12: IMAP over TLS with a key log.

usage: tls_client.py tls13|starttls12 HOST USER PASSWORD KEYLOG

tls13:      implicit TLS on port 993, TLS 1.3 only.
starttls12: port 143, CAPABILITY, STARTTLS, TLS 1.2 only with
            ECDHE-RSA-AES128-GCM-SHA256 (an AEAD suite), CAPABILITY again.
Then: LOGIN, SELECT INBOX, UID FETCH 1 (BODY.PEEK[]), UID FETCH 4
(BODYSTRUCTURE BODY.PEEK[1]), LOGOUT.  The ssl module writes the NSS key log
(keylog_filename); the plaintext both ways is saved in $PLAIN_DIR as
<client port>.c2s / .s2c for the ground truth.
"""
import ssl
import sys

from imapcommon import FixedTagIMAP4, FixedTagIMAP4_SSL, check

MODE, HOST, USER, PASSWORD, KEYLOG = sys.argv[1:6]

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # self-signed test certificate
ctx.keylog_filename = KEYLOG
if MODE == "tls13":
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    m = FixedTagIMAP4_SSL(HOST, 993, b"T", ssl_context=ctx, plain_log=True)
elif MODE == "starttls12":
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    m = FixedTagIMAP4(HOST, 143, b"S", plain_log=True)
    check(m.starttls(ssl_context=ctx), "STARTTLS")
else:
    raise SystemExit(f"unknown mode {MODE}")
port = m.client_port()
print(f"port {port}: {m.sock.version()} {m.sock.cipher()[0]}")
check(m.login(USER, PASSWORD), "LOGIN")
check(m.select("INBOX"), "SELECT INBOX")
check(m.uid("FETCH", "1", "(BODY.PEEK[])"), "UID FETCH 1 BODY.PEEK[]")
check(m.uid("FETCH", "4", "(BODYSTRUCTURE BODY.PEEK[1])"), "UID FETCH 4 (BODYSTRUCTURE BODY.PEEK[1])")
check(m.logout(), "LOGOUT")
m.save_plain(port)
