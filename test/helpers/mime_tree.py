"""Print the IMAP part tree of .eml files as JSON, using Python's own email package: an independent
MIME parser to check imapscope's BODYSTRUCTURE trees against. Part numbering follows RFC 9051 6.4.5."""
import json
import sys
from email import policy
from email.parser import BytesParser


def walk(msg, number, out):
    ctype = msg.get_content_type()
    if msg.is_multipart() and ctype != 'message/rfc822':
        out.append({'part': number, 'type': ctype, 'encoding': None, 'filename': None})
        for i, child in enumerate(msg.iter_parts(), 1):
            walk(child, f'{number}.{i}' if number else str(i), out)
        return
    cte = msg.get('Content-Transfer-Encoding')
    out.append({'part': number or '1', 'type': ctype, 'encoding': (cte or '7bit').strip().lower(), 'filename': msg.get_filename()})
    if ctype == 'message/rfc822':
        inner = msg.get_payload()[0]
        if inner.is_multipart():
            walk(inner, number, out)  # the enclosed multipart shares the message part's number
        else:
            walk(inner, f'{number}.1', out)


result = {}
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        msg = BytesParser(policy=policy.default).parse(f)
    parts = []
    walk(msg, '', parts)
    result[path] = parts
json.dump(result, sys.stdout)
