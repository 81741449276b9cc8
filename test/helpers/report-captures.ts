import { tcpConversation, writeCapture } from './synth.js';

/** What the hostile capture carries, for tests to look for as text. */
export const HOSTILE = {
  subject: '<script>alert(1)</script>',
  mailbox: '<img src=x onerror=alert(2)>',
  greeting: '</script><script>alert(3)</script>',
  filename: '<img src=x onerror=alert(4)>.pdf',
  responseText: '</script><img src=x onerror=alert(5)> done',
  /** RFC 2047 for "\u2028Eve <b>": a line separator, which ends a line in older script parsers. */
  fromName: '=?UTF-8?B?4oCoRXZlIDxiPg==?=',
};

/**
 * A capture whose wire data is made to break out of an HTML page: a fetched message whose subject is a
 * script element, a mailbox named like an <img onerror>, an attachment file name and server texts with
 * markup, and a line separator (U+2028) in a sender's name.
 */
export function writeHostileCapture(path: string): void {
  const h = HOSTILE;
  const envelope = `("Mon, 1 Jan 2024 00:00:00 +0000" "${h.subject}" (("${h.fromName}" NIL "eve" "example.org")) NIL NIL NIL NIL NIL NIL "<id@example.org>")`;
  const structure = `(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL)` +
    `("application" "pdf" ("name" "${h.filename}") NIL NIL "base64" 8 NIL ("attachment" ("filename" "${h.filename}")) NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)`;
  const packets = tcpConversation({
    start: 1_700_000_000,
    exchanges: [
      { from: 'server', data: `* OK [CAPABILITY IMAP4rev1] ready ${h.greeting}\r\n` },
      { from: 'client', data: 'a1 LOGIN "mallory" "hunter2"\r\n', delay: 0.001 },
      { from: 'server', data: 'a1 OK Logged in\r\n', delay: 0.002 },
      { from: 'client', data: 'a2 LIST "" "*"\r\n', delay: 0.001 },
      { from: 'server', data: `* LIST () "/" "${h.mailbox}"\r\na2 OK done\r\n`, delay: 0.001 },
      { from: 'client', data: `a3 SELECT "${h.mailbox}"\r\n`, delay: 0.001 },
      { from: 'server', data: '* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na3 OK [READ-WRITE] done\r\n', delay: 0.001 },
      { from: 'client', data: 'a4 UID FETCH 1 (UID ENVELOPE BODYSTRUCTURE)\r\n', delay: 0.001 },
      { from: 'server', data: `* 1 FETCH (UID 1 ENVELOPE ${envelope} BODYSTRUCTURE ${structure})\r\na4 OK done\r\n`, delay: 0.001 },
      { from: 'client', data: 'a5 UID FETCH 1 (BODY.PEEK[2])\r\n', delay: 0.001 },
      { from: 'server', data: `* 1 FETCH (UID 1 BODY[2] {8}\r\nJVBERi0x)\r\na5 OK ${h.responseText}\r\n`, delay: 0.001 },
      { from: 'client', data: 'a6 LOGOUT\r\n', delay: 0.001 },
      { from: 'server', data: '* BYE\r\na6 OK bye\r\n', delay: 0.001 },
    ],
  });
  writeCapture(path, { format: 'pcap', packets });
}

/**
 * Many short connections, the first of them long: `connections` IMAP connections 10 ms apart, each
 * LOGIN, `commands` NOOPs and LOGOUT, except the first, which sends `firstCommands` NOOPs. For the page's
 * lazy rendering of lanes and ladder rows, and for the report benchmark. Returns the first connection's tags.
 */
export function writeBusyCapture(path: string, o: { connections: number; commands: number; firstCommands: number }): string[] {
  const packets = [];
  let firstTags: string[] = [];
  for (let i = 0; i < o.connections; i++) {
    const count = i === 0 ? o.firstCommands : o.commands;
    const tags = ['L', ...Array.from({ length: count }, (_, k) => `N${k}`), 'Z'];
    if (i === 0) firstTags = tags;
    const commands = tags.map((tag) => (tag === 'L' ? 'LOGIN "user" "pw"' : tag === 'Z' ? 'LOGOUT' : 'NOOP'));
    packets.push(...tcpConversation({
      start: 1_700_000_000 + i * 0.01,
      client: { ip: '10.0.0.1', port: 20000 + i },
      exchanges: [
        { from: 'server', data: '* OK ready\r\n' },
        ...tags.flatMap((tag, k) => [
          { from: 'client' as const, data: `${tag} ${commands[k]}\r\n`, delay: 0.001 },
          { from: 'server' as const, data: `${tag === 'Z' ? '* BYE\r\n' : ''}${tag} OK done\r\n`, delay: 0.0005 },
        ]),
      ],
    }));
  }
  packets.sort((a, b) => Number(a.t) - Number(b.t));
  writeCapture(path, { format: 'pcap', packets });
  return firstTags;
}
