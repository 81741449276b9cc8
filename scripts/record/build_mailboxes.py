#!/usr/bin/env python3
"""Build a deterministic Maildir++ tree for one test user.

usage: build_mailboxes.py MESSAGES_DIR MAILDIR

Every user gets the same content: the *.eml files of MESSAGES_DIR, filed by
their name prefix (inbox-, archive-, sent-, drafts-).  File names, flags,
internal dates (mtime = Date: header) and UIDVALIDITY are fixed, so UIDs and
every FETCH answer are the same on each run.
"""
import email.utils
import os
import sys

FOLDERS = {  # name prefix -> (maildir++ directory, mailbox name in LIST)
    "inbox": ("", "INBOX"),
    "sent": (".Sent", "Sent"),
    "archive": (".Archive", "Archive"),
    # "Entwürfe" in modified UTF-7, as Dovecot stores and lists it
    "drafts": (".Entw&APw-rfe", "Entw&APw-rfe"),
}
FLAGS = {  # maildir info flags (sorted ASCII): D draft, F flagged, R replied, S seen
    "inbox-01-plain-ascii.eml": "S",
    "inbox-02-utf8-qp.eml": "S",
    "inbox-04-mixed-attachments.eml": "FS",
    "inbox-06-forwarded-rfc822.eml": "S",
    "inbox-08-reply-threaded.eml": "RS",
    "archive-01-old-notice.eml": "S",
    "archive-02-receipt.eml": "S",
    "sent-01-reply.eml": "S",
    "drafts-01-unfinished.eml": "DS",
}
UIDVALIDITY = {"": 1710000001, ".Sent": 1710000002, ".Archive": 1710000003,
               ".Entw&APw-rfe": 1710000004}


def main() -> None:
    src, root = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(src) if n.endswith(".eml"))
    per_dir: dict[str, list[str]] = {d: [] for d, _ in FOLDERS.values()}
    for n in names:
        per_dir[FOLDERS[n.split("-", 1)[0]][0]].append(n)
    for d, msgs in per_dir.items():
        mdir = os.path.join(root, d) if d else root
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(mdir, sub), exist_ok=True)
        if d:
            open(os.path.join(mdir, "maildirfolder"), "w").close()
        uidlist = [f"3 V{UIDVALIDITY[d]} N{len(msgs) + 1}"]
        for uid, n in enumerate(msgs, 1):
            data = open(os.path.join(src, n), "rb").read()
            msg_date = email.utils.parsedate_to_datetime(
                email.message_from_bytes(data)["Date"]).timestamp()
            base = f"{1710000000 + uid * 60}.M{uid}P1000.imapscope"
            fname = f"{base},S={len(data)}:2,{FLAGS.get(n, '')}"
            path = os.path.join(mdir, "cur", fname)
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, (msg_date, msg_date))
            uidlist.append(f"{uid} :{base},S={len(data)}")
            print(f"  {FOLDERS[n.split('-', 1)[0]][1]:14} uid {uid}  {len(data):7d} bytes  {n}")
        with open(os.path.join(mdir, "dovecot-uidlist"), "w") as f:
            f.write("\n".join(uidlist) + "\n")
    with open(os.path.join(root, "subscriptions"), "w") as f:
        f.write("".join(name + "\n" for _, name in FOLDERS.values() if name != "INBOX"))


if __name__ == "__main__":
    main()
