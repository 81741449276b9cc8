#!/usr/bin/env python3
"""Turn Dovecot rawlogs into per-connection ground truth and check it.

usage: stitch.py --capture FILE --rawlog DIR --log DOVECOT_LOG_PART --out DIR
                 --scenario NAME --client TEXT [--plain-dir DIR]

DIR/pre  holds the pre-login rawlogs (imap-login -R), named
         <YYYYmmdd-HHMMSS>.<login pid>.<counter>.{in,out}
DIR/post holds the post-login rawlogs (protocol imap rawlog_dir), named
         <YYYYmmdd-HHMMSS>.<imap pid>.<counter>.{in,out}
The Dovecot log lines of imap-login carry rport=, pid= (login process) and
mpid= (imap process) thanks to login_log_format_elements, which is how a
rawlog file is tied to a TCP connection (client port).

Rawlog format (Dovecot 2.3 iostream-rawlog.c, unbuffered mode): the file
starts with "<secs>.<usecs6> " and the same prefix is inserted after every
LF byte that is followed by more data -- also inside binary data such as
COMPRESS=DEFLATE output. Stripping it at those positions restores the exact
bytes.

Stitching per direction (cleartext connections):
  client->server = pre.in + post.in minus the overlap: the imap process's
      rawlog starts with the input the login process had already read after
      LOGIN/AUTHENTICATE (pipelined commands), which pre.in also holds.
  server->client = pre.out + post.out (no overlap: the tagged OK of LOGIN is
      written by the imap process).
TLS connections (port 993 or STARTTLS): the login process proxies TLS for the
whole connection, so pre.in/pre.out alone are the complete wire bytes; the
post-login plaintext (imap rawlog) and the client's own plaintext log are
written beside them (postLoginPlain*, plain*).
Every stitched stream is compared byte for byte with what tshark reassembles
from the capture ("follow,tcp,raw"); any difference is fatal (exit 1).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

TS = re.compile(rb"\d+\.\d{6} ")


def die(msg: str) -> None:
    print(f"stitch: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def strip_rawlog(path: str) -> bytes:
    data = open(path, "rb").read()
    out = bytearray()
    pos = 0
    n = len(data)
    while pos < n:
        m = TS.match(data, pos)
        if not m:
            die(f"{path}: no timestamp prefix at offset {pos}: {data[pos:pos + 20]!r}")
        pos = m.end()
        nl = data.find(b"\n", pos)
        end = n if nl < 0 else nl + 1
        out += data[pos:end]
        pos = end
    return bytes(out)


def overlap(a: bytes, b: bytes) -> int:
    """Longest k such that a ends with b[:k]."""
    for k in range(min(len(a), len(b)), 0, -1):
        if a.endswith(b[:k]):
            return k
    return 0


def parse_log(path: str) -> dict:
    """rport -> {pid, mpid, user, line}"""
    conns: dict = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        if "imap-login:" not in line or "rport=" not in line:
            continue
        fields = dict(re.findall(r"\b(rport|pid|mpid|lport)=(\d+)", line))
        user = re.search(r"user=<([^>]*)>", line)
        rport = int(fields["rport"])
        entry = conns.setdefault(rport, {})
        entry["pid"] = int(fields["pid"])
        if int(fields.get("mpid", "0")):
            entry["mpid"] = int(fields["mpid"])
        if user and user.group(1):
            entry["user"] = user.group(1)
        entry.setdefault("log", []).append(line.split(": ", 1)[-1].strip())
    return conns


def rawlog_files(d: str) -> dict:
    """pid -> {'in': path, 'out': path}"""
    res: dict = {}
    if not os.path.isdir(d):
        return res
    for name in sorted(os.listdir(d)):
        m = re.fullmatch(r"\d{8}-\d{6}\.(\d+)\.(\d+)\.(in|out)", name)
        if not m:
            continue
        pid = int(m.group(1))
        if m.group(3) in res.setdefault(pid, {}):
            die(f"two rawlogs for pid {pid} in {d}")
        res[pid][m.group(3)] = os.path.join(d, name)
    return res


def tshark(args: list) -> str:
    r = subprocess.run(["tshark", "-n", "-o", "tcp.desegment_tcp_streams:TRUE"] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        die("tshark failed: " + r.stderr.strip())
    return r.stdout


def syn_order(capture: str) -> list:
    out = tshark(["-r", capture, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0",
                  "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.dstport"])
    seen = []
    for line in out.splitlines():
        s, sp, dp = line.split("\t")
        if all(x[0] != int(s) for x in seen):
            seen.append((int(s), int(sp), int(dp)))
    return seen


def follow(capture: str, stream: int, client_port: int, server_port: int,
           proto: str = "tcp", extra: tuple = ()) -> tuple:
    """(client->server, server->client) payload of one stream per tshark.
    Non-indented hex lines are node 0's data, tab-indented ones node 1's; a
    node is identified by its port (tshark's follow,tls may print ":0" for
    one node, so the other node's port decides)."""
    out = tshark(list(extra) + ["-r", capture, "-q", "-z", f"follow,{proto},raw,{stream}"])
    node_port = {}
    c2s, s2c = bytearray(), bytearray()
    for line in out.splitlines():
        m = re.match(r"Node (\d): .*:(\d+)$", line)
        if m:
            node_port[int(m.group(1))] = int(m.group(2))
            continue
        if not re.fullmatch(r"\t?[0-9a-f]+", line):
            continue
        node = 1 if line.startswith("\t") else 0
        data = bytes.fromhex(line.strip())
        if node_port.get(0) == client_port or node_port.get(1) == server_port:
            client_node = 0
        elif node_port.get(1) == client_port or node_port.get(0) == server_port:
            client_node = 1
        else:
            die(f"tshark follow: cannot tell the nodes apart: {node_port}")
        (c2s if node == client_node else s2c).extend(data)
    return bytes(c2s), bytes(s2c)


def first_diff(a: bytes, b: bytes) -> str:
    i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return (f"lengths rawlog={len(a)} capture={len(b)}, first difference at byte {i}: "
            f"rawlog {a[i:i + 40]!r} / capture {b[i:i + 40]!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", required=True)
    ap.add_argument("--rawlog", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--link-type", default="")
    ap.add_argument("--format", default="")
    ap.add_argument("--plain-dir", help="client-side plaintext logs for TLS (port.c2s/.s2c)")
    ap.add_argument("--keylog", help="TLS key log: check the plaintext against tshark's decryption")
    a = ap.parse_args()

    logs = parse_log(a.log)
    pre = rawlog_files(os.path.join(a.rawlog, "pre"))
    post = rawlog_files(os.path.join(a.rawlog, "post"))
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(os.path.join(a.out, "rawlog", "pre"))
    os.makedirs(os.path.join(a.out, "rawlog", "post"))
    shutil.copy(a.log, os.path.join(a.out, "rawlog", "dovecot.log"))

    conns = []
    used_pre, used_post = set(), set()
    for stream, cport, sport in syn_order(a.capture):
        info = logs.get(cport)
        if info is None:
            die(f"no imap-login log line for client port {cport} (stream {stream})")
        p = pre.get(info["pid"])
        if p is None or "in" not in p or "out" not in p:
            die(f"no pre-login rawlog for login pid {info['pid']} (port {cport})")
        used_pre.add(info["pid"])
        pre_in, pre_out = strip_rawlog(p["in"]), strip_rawlog(p["out"])
        files = {"preIn": "rawlog/pre/" + os.path.basename(p["in"]),
                 "preOut": "rawlog/pre/" + os.path.basename(p["out"])}
        post_in = post_out = b""
        k = 0
        q = post.get(info.get("mpid", -1))
        if q is not None:
            used_post.add(info["mpid"])
            post_in, post_out = strip_rawlog(q["in"]), strip_rawlog(q["out"])
            files.update(postIn="rawlog/post/" + os.path.basename(q["in"]),
                         postOut="rawlog/post/" + os.path.basename(q["out"]))
            k = overlap(pre_in, post_in)
        elif "mpid" in info:
            die(f"no post-login rawlog for imap pid {info['mpid']} (port {cport})")
        for kind, f in ([("pre", p["in"]), ("pre", p["out"])]
                        + ([("post", q["in"]), ("post", q["out"])] if q else [])):
            shutil.copy(f, os.path.join(a.out, "rawlog", kind, os.path.basename(f)))
        c2s = pre_in + post_in[k:]
        s2c = pre_out + post_out
        cap_c2s, cap_s2c = follow(a.capture, stream, cport, sport)
        tls = sport == 993 or b"STARTTLS\r\n" in pre_in.upper()
        entry = {"clientPort": cport, "serverPort": sport, "user": info.get("user"),
                 "toServer": f"conn-{cport}.c2s.bin", "toClient": f"conn-{cport}.s2c.bin",
                 "bytesToServer": len(c2s), "bytesToClient": len(s2c),
                 "loginPid": info["pid"], "imapPid": info.get("mpid"),
                 "tls": tls, "duplicatedPipelinedBytes": k, "rawlog": files,
                 "dovecotLog": info["log"]}
        if re.search(rb"^\S+ COMPRESS DEFLATE\r\n", c2s, re.M | re.I):
            entry["compress"] = ("DEFLATE: after the server's tagged OK to COMPRESS both "
                                 "directions are raw deflate (RFC 4978), as on the wire")
        if not tls:
            if c2s != cap_c2s:
                die(f"port {cport} client->server differs: " + first_diff(c2s, cap_c2s))
            if s2c != cap_s2c:
                die(f"port {cport} server->client differs: " + first_diff(s2c, cap_s2c))
        else:
            # TLS (993, or after STARTTLS): the login process stays in the
            # path as TLS proxy for the whole connection and its -R rawlog
            # sits below the TLS layer, so pre.in/pre.out are the complete
            # wire bytes (plaintext prefix + TLS records) both ways. The
            # imap process's rawlog holds the post-login plaintext.
            c2s, s2c = pre_in, pre_out
            entry["bytesToServer"], entry["bytesToClient"] = len(c2s), len(s2c)
            if c2s != cap_c2s:
                die(f"port {cport} (TLS) client->server differs: " + first_diff(c2s, cap_c2s))
            if s2c != cap_s2c:
                die(f"port {cport} (TLS) server->client differs: " + first_diff(s2c, cap_s2c))
            entry["postLoginPlainToServer"] = f"conn-{cport}.post.c2s.bin"
            entry["postLoginPlainToClient"] = f"conn-{cport}.post.s2c.bin"
            open(os.path.join(a.out, entry["postLoginPlainToServer"]), "wb").write(post_in)
            open(os.path.join(a.out, entry["postLoginPlainToClient"]), "wb").write(post_out)
            if a.plain_dir:
                pc = os.path.join(a.plain_dir, f"{cport}.c2s")
                ps = os.path.join(a.plain_dir, f"{cport}.s2c")
                if not (os.path.exists(pc) and os.path.exists(ps)):
                    die(f"no client plaintext log for port {cport}")
                plain_c2s, plain_s2c = open(pc, "rb").read(), open(ps, "rb").read()
                # the imap process's plaintext must be the tail of what the client saw
                if not plain_c2s.endswith(post_in[k:]) or not plain_s2c.endswith(post_out):
                    die(f"port {cport}: client plaintext log disagrees with post-login rawlog")
                if a.keylog:
                    dec_c2s, dec_s2c = follow(a.capture, stream, cport, sport, "tls",
                                              ("-o", f"tls.keylog_file:{a.keylog}"))
                    if not dec_c2s or not plain_c2s.endswith(dec_c2s) \
                            or not plain_s2c.endswith(dec_s2c):
                        die(f"port {cport}: tshark's TLS decryption with the key log "
                            "disagrees with the client's plaintext")
                entry["plainToServer"] = f"conn-{cport}.plain.c2s.bin"
                entry["plainToClient"] = f"conn-{cport}.plain.s2c.bin"
                open(os.path.join(a.out, entry["plainToServer"]), "wb").write(plain_c2s)
                open(os.path.join(a.out, entry["plainToClient"]), "wb").write(plain_s2c)
        open(os.path.join(a.out, entry["toServer"]), "wb").write(c2s)
        open(os.path.join(a.out, entry["toClient"]), "wb").write(s2c)
        conns.append(entry)
        print(f"  conn {len(conns)}: client port {cport} -> {sport} user={info.get('user')} "
              f"c2s={len(c2s)} s2c={len(s2c)} bytes{' (TLS)' if tls else ''}"
              f"{f', {k} pipelined bytes de-duplicated' if k else ''}: matches capture")
    extra_pre = set(pre) - used_pre
    extra_post = set(post) - used_post
    if extra_pre or extra_post:
        die(f"rawlogs without a captured connection: login pids {sorted(extra_pre)}, "
            f"imap pids {sorted(extra_post)}")
    if not conns:
        die("no IMAP connection in the capture")
    manifest: dict = {"capture": os.path.basename(a.capture), "scenario": a.scenario,
                "client": a.client, "linkType": a.link_type, "format": a.format,
                "connections": conns}
    if a.keylog:
        stem = os.path.splitext(os.path.basename(a.capture))[0]
        # paths in the manifest are relative to the manifest's directory
        manifest["keyLog"] = f"../{stem}.keys"
        if os.path.basename(a.out) == "imaps-tls13":
            manifest["keyLogAppSecretsOnly"] = f"../{stem}.app-secrets-only.keys"
        manifest["pcapngWithSecrets"] = f"{stem}.dsb.pcapng"
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
