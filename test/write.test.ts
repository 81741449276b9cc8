/** -w: the selected connections written out whole, byte for byte, and --redact overwriting credentials in place. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../src/capture/reader.js';
import type { Frame } from '../src/capture/types.js';
import { CAPTURES, CLI, hasPublic, hasTshark, NO_PUBLIC, NO_TSHARK, publicCapture, tshark, unavailable } from './helpers/env.js';
import { tcpConversation, writeCapture } from './helpers/synth.js';

const dir = mkdtempSync(join(tmpdir(), 'imapscope-write-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Copy { number: number; sec: number; nsec: number; linkType: number; origLen: number; data: Buffer }
async function frames(path: string): Promise<Copy[]> {
  const out: Copy[] = [];
  await readCapture(path, (f: Frame) => out.push({ number: f.number, sec: f.tsSec, nsec: f.tsNsec, linkType: f.linkType, origLen: f.origLen, data: Buffer.from(f.data) }), () => {});
  return out;
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');
/** The frame numbers tshark puts in these TCP streams. */
const streamFrames = (path: string, streams: number[]) =>
  lines(tshark(['-r', path, '-Y', `tcp.stream in {${streams.join(', ')}}`, '-T', 'fields', '-e', 'frame.number'])).map(Number);

/** The exchanges imapscope reports, without what renumbering changes (frames, connection ids). */
function exchanges(path: string, filter?: string) {
  const r = run(['commands', path, '--json', ...(filter ? ['-Y', filter] : [])]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).exchanges.map((e: Record<string, unknown>) => ({ ...e, conn: undefined, requestFrame: undefined, responseFrame: undefined }));
}

/**
 * Checks a written file against its source: the frames are those tshark puts in the streams, in order,
 * byte-identical except where a secret was overwritten (same length, same timestamps and link types).
 */
async function assertCopy(source: string, written: string, streams: number[]): Promise<Copy[]> {
  const src = await frames(source);
  const out = await frames(written);
  const wanted = new Set(streamFrames(source, streams));
  const chosen = src.filter((f) => wanted.has(f.number));
  assert.equal(out.length, chosen.length, 'every frame of the selected connections, and only those');
  const changed: Copy[] = [];
  out.forEach((f, i) => {
    const s = chosen[i]!;
    assert.deepEqual([f.sec, f.nsec, f.linkType, f.origLen, f.data.length], [s.sec, s.nsec, s.linkType, s.origLen, s.data.length], `frame ${s.number}`);
    if (!f.data.equals(s.data)) changed.push(f);
  });
  return changed;
}

/** Frames tshark finds with a bad IP or TCP checksum. */
const badChecksums = (path: string, only = 'frame') =>
  lines(tshark(['-r', path, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', `(${only}) && (tcp.checksum.status == 0 || ip.checksum.status == 0)`, '-T', 'fields', '-e', 'frame.number']));

test('-w with --redact on seed-alice: whole connections, byte-identical but for the passwords; tshark and imapscope read the same requests', { skip: unavailable(!hasTshark && NO_TSHARK) }, async () => {
  const source = join(CAPTURES, 'seed-alice.pcap');
  const out = join(dir, 'alice.pcap');
  const r = run(['commands', source, '-Y', 'tcp.stream in {0 2}', '-w', out, '--redact']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote \d+ frame\(s\) of 2 connection\(s\).*2 credential\(s\) replaced in 2 frame\(s\)/);
  const changed = await assertCopy(source, out, [0, 2]);
  assert.equal(changed.length, 2, 'the two LOGIN frames, nothing else');
  assert.ok(!readFileSync(out).includes('alice-pw'));
  const requests = (path: string, filter: string) => lines(tshark(['-r', path, '-Y', `imap.request && (${filter})`, '-T', 'fields', '-e', 'imap.request']));
  const before = requests(source, 'tcp.stream in {0, 2}').map((l) => l.replace('"alice-pw"', '"xxxxxxxx"'));
  assert.ok(before.some((l) => l.includes('LOGIN alice "xxxxxxxx"')));
  assert.deepEqual(requests(out, 'frame'), before);
  assert.deepEqual(exchanges(out), exchanges(source, 'tcp.stream in {0 2}'));
  // The loopback recording has offloaded (wrong) checksums; the frames we changed have right ones.
  const changedNumbers = lines(tshark(['-r', out, '-Y', 'imap.request contains "LOGIN"', '-T', 'fields', '-e', 'frame.number']));
  assert.equal(changedNumbers.length, 2);
  assert.deepEqual(badChecksums(out, `frame.number in {${changedNumbers.join(', ')}}`), []);
});

test('--redact covers SASL-IR (curl), SASL continuation lines (offlineimap, pcapng out) and writes pcapng by name', { skip: unavailable(!hasTshark && NO_TSHARK) }, async () => {
  const curl = join(CAPTURES, 'curl.pcap');
  const a = join(dir, 'curl.pcapng');
  assert.equal(run(['commands', curl, '-Y', 'imap.command == "AUTHENTICATE"', '-w', a, '--redact']).code, 0);
  assert.equal(readFileSync(a).readUInt32LE(0), 0x0a0d0d0a, 'pcapng by extension');
  assert.ok(!readFileSync(a).includes('AGFsaWNlAGFsaWNlLXB3'), 'the initial response is gone');
  const ir = lines(tshark(['-r', a, '-Y', 'imap.request contains "AUTHENTICATE"', '-T', 'fields', '-e', 'imap.request']));
  assert.ok(ir.length >= 1 && ir.every((l) => /AUTHENTICATE PLAIN x{20}$/.test(l)), ir.join('\n'));
  assert.deepEqual(exchanges(a), exchanges(curl), 'every connection had an AUTHENTICATE: all were written, and read back the same');

  const offline = join(CAPTURES, 'offlineimap.pcapng');
  const b = join(dir, 'offline.pcap');
  assert.equal(run(['commands', offline, '--conn', '0', '-w', b, '-F', 'pcapng', '--redact']).code, 0);
  assert.equal(readFileSync(b).readUInt32LE(0), 0x0a0d0d0a, '-F wins over the name');
  const changed = await assertCopy(offline, b, [0]);
  assert.equal(changed.length, 1, 'the SASL line');
  const sasl = lines(tshark(['-r', b, '-Y', 'frame.number == 16', '-T', 'fields', '-e', 'imap.request']));
  assert.match(sasl[0]!, /^x+$/);
});

/** A LOGIN whose password is a literal split over three segments, one of them retransmitted; then SASL, both ways. */
function literalCapture(path: string): { secrets: string[] } {
  const password = 'pa55-w0rd-literal';
  const ir = 'dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2tlbjEyMwEB';
  const sasl = 'AGFsaWNlAHMzY3JldA==';
  const packets = tcpConversation({
    mss: 7,
    start: 1_700_000_000,
    exchanges: [
      { from: 'server', data: '* OK ready\r\n' },
      { from: 'client', data: 'a1 LOGIN {5}\r\n' },
      { from: 'server', data: '+ go\r\n' },
      { from: 'client', data: `alice {${password.length}}\r\n` },
      { from: 'server', data: '+ go\r\n' },
      { from: 'client', data: `${password}\r\n` },
      { from: 'server', data: 'a1 OK done\r\n' },
      { from: 'client', data: `a2 AUTHENTICATE XOAUTH2 ${ir}\r\n` },
      { from: 'server', data: 'a2 OK done\r\n' },
      { from: 'client', data: 'a3 AUTHENTICATE PLAIN\r\n' },
      { from: 'server', data: '+ \r\n' },
      { from: 'client', data: `${sasl}\r\n` },
      { from: 'server', data: 'a3 NO nope\r\n' },
      { from: 'client', data: 'a4 LOGOUT\r\n' },
      { from: 'server', data: '* BYE\r\na4 OK bye\r\n' },
    ],
    // Data segments 8 and 9 carry the middle of the password: both captured twice.
    retransmit: [{ seg: 8 }, { seg: 9, after: 3 }],
  });
  writeCapture(path, { format: 'pcap', packets });
  return { secrets: [password, ir, sasl] };
}

test('--redact on a literal password split across segments and retransmitted, SASL-IR and a SASL line: client stream replaced exactly, checksums right', { skip: unavailable(!hasTshark && NO_TSHARK) }, async () => {
  const source = join(dir, 'literal.pcap');
  const { secrets } = literalCapture(source);
  const out = join(dir, 'literal-out.pcap');
  const r = run(['streams', source, '-Y', 'tcp.port == 143', '-w', out, '--redact']);
  assert.equal(r.code, 0, r.stderr);
  const changed = await assertCopy(source, out, [0]);
  assert.ok(changed.length >= 6, `${changed.length} frames changed`);
  // Every client segment, retransmissions included, carries the stream with the secrets replaced.
  const payloads = (path: string) => lines(tshark(['-r', path, '-o', 'tcp.relative_sequence_numbers:TRUE', '-Y', 'tcp.dstport == 143 && tcp.len > 0', '-T', 'fields', '-e', 'tcp.seq', '-e', 'tcp.payload']));
  const original = payloads(source);
  const stream = Buffer.alloc(4096);
  let length = 0;
  for (const l of original) {
    const [seq, hex] = l.split('\t');
    const bytes = Buffer.from(hex!, 'hex');
    bytes.copy(stream, Number(seq) - 1);
    length = Math.max(length, Number(seq) - 1 + bytes.length);
  }
  let expected = stream.subarray(0, length).toString('latin1');
  for (const s of secrets) expected = expected.replace(s, 'x'.repeat(s.length));
  assert.ok(!secrets.some((s) => expected.includes(s)));
  const written = payloads(out);
  assert.equal(written.length, original.length);
  const seqs = original.map((l) => l.split('\t')[0]);
  const again = original.filter((l, i) => seqs.indexOf(l.split('\t')[0]) !== i).map((l) => Buffer.from(l.split('\t')[1]!, 'hex').toString('latin1'));
  assert.ok(again.some((t) => t.length >= 3 && secrets[0]!.includes(t.slice(0, 3))), `a retransmitted segment carries part of the password: ${again.join(' | ')}`);
  for (const l of written) {
    const [seq, hex] = l.split('\t');
    const text = Buffer.from(hex!, 'hex').toString('latin1');
    assert.equal(text, expected.slice(Number(seq) - 1, Number(seq) - 1 + text.length), `segment at ${seq}`);
  }
  assert.deepEqual(badChecksums(out), [], 'every checksum is right');
  assert.deepEqual(exchanges(out), exchanges(source));
});

test('-w on a public capture with real checksums (arkime, Ethernet): no bad checksum after redaction; the IMAP requests are tshark\'s', { skip: unavailable((!hasTshark && NO_TSHARK) || (!hasPublic && NO_PUBLIC)) }, async () => {
  for (const [name, filter] of [['arkime-imap.pcap', 'imap.command == "LOGIN"'], ['bruteshark-IMAP-Authenticate_Plain_Base64.pcapng', 'imap.command == "AUTHENTICATE"'], ['protolens-imap_fetch.pcap', 'tcp.stream == 0']] as const) {
    const source = publicCapture(name);
    const out = join(dir, `${name}.pcapng`);
    const r = run(['commands', source, '-Y', filter, '-w', out, '--redact']);
    assert.equal(r.code, 0, r.stderr);
    const ids = [...new Set(lines(run(['commands', source, '-Y', filter, '-T', 'fields', '-e', 'tcp.stream']).stdout).map(Number))];
    const changed = await assertCopy(source, out, ids);
    assert.ok(changed.length >= 1, name);
    // protolens-imap_fetch was anonymised after capture: some of its checksums were already wrong. None is made wrong, and the changed frames are right.
    const before = badChecksums(source, `tcp.stream in {${ids.join(', ')}}`).length;
    assert.ok(badChecksums(out).length <= before, name);
    assert.deepEqual(badChecksums(out, `frame.number in {${changed.map((f) => f.number).join(', ')}}`), [], name);
    if (name !== 'protolens-imap_fetch.pcap') assert.equal(before, 0, `${name} has real checksums`);
    const requests = (path: string, f: string) => lines(tshark(['-r', path, '-Y', `imap.request && (${f})`, '-T', 'fields', '-e', 'imap.request.command']));
    assert.deepEqual(requests(out, 'frame'), requests(source, `tcp.stream in {${ids.join(', ')}}`), name);
  }
});

test('--redact refuses TLS and COMPRESS connections unless --force; -w never overwrites unasked, nor through a link', () => {
  const tls = join(CAPTURES, 'starttls-tls12.pcap');
  const out = join(dir, 'tls.pcap');
  const refused = run(['commands', tls, '-Y', 'tls', '-w', out, '--redact']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /cannot be redacted in place: connection 0 \(STARTTLS\)/);
  assert.ok(!existsSync(out), 'nothing written');
  const forced = run(['commands', tls, '-Y', 'tls', '-w', out, '--redact', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(existsSync(out));

  const existing = join(dir, 'existing.pcap');
  writeFileSync(existing, 'keep me');
  const r = run(['commands', join(CAPTURES, 'seed-alice.pcap'), '--conn', '0', '-w', existing]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exists; not overwritten \(use --force\)/);
  assert.equal(readFileSync(existing, 'utf8'), 'keep me');
  assert.equal(run(['commands', join(CAPTURES, 'seed-alice.pcap'), '--conn', '0', '-w', existing, '--force']).code, 0);
  assert.notEqual(readFileSync(existing, 'utf8'), 'keep me');
  const link = join(dir, 'link.pcap');
  symlinkSync(join(dir, 'elsewhere.pcap'), link);
  assert.equal(run(['commands', join(CAPTURES, 'seed-alice.pcap'), '--conn', '0', '-w', link, '--force']).code, 2);
  assert.ok(!existsSync(join(dir, 'elsewhere.pcap')));
  assert.equal(run(['commands', join(CAPTURES, 'seed-alice.pcap'), '-w', join(dir, 'all.pcap')]).code, 2, 'a selection is needed');
  assert.equal(run(['commands', join(CAPTURES, 'seed-alice.pcap'), '--redact']).code, 2, '--redact needs -w');
});

test('-w without --redact names the connections with clear-text credentials, at most ten of them', () => {
  const logins = (count: number) => Array.from({ length: count }, (_, i) => tcpConversation({
    client: { ip: '10.0.0.1', port: 40000 + i }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000 + i,
    exchanges: [
      { from: 'server', data: '* OK ready\r\n' },
      { from: 'client', data: `a1 LOGIN user${i} secret${i}\r\n` },
      { from: 'server', data: 'a1 OK done\r\n' },
    ],
  })).flat();
  for (const [count, named] of [[3, '0, 1, 2'], [10, '0, 1, 2, 3, 4, 5, 6, 7, 8, 9'], [12, '0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more']] as const) {
    const source = join(dir, `logins-${count}.pcap`);
    writeCapture(source, { format: 'pcap', packets: logins(count) });
    const r = run(['commands', source, '-Y', 'imap.command == "LOGIN"', '-w', join(dir, `logins-${count}-out.pcap`)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`the file holds clear-text credentials \\(connection ${named}\\); --redact replaces them\\n`), `${count} connections`);
  }
});

test('with -w, summary and streams report what they report without it: the selected connections only, in order', () => {
  const source = join(CAPTURES, 'offlineimap.pcapng');
  for (const [view, filter] of [['summary', 'imap.command == "LIST"'], ['summary', 'tcp.stream >= 1'], ['streams', 'tcp.stream >= 1']] as const) {
    const plain = run([view, source, '--json', '-Y', filter]);
    const writing = run([view, source, '--json', '-Y', filter, '-w', join(dir, `${view}-selected.pcap`), '--force']);
    assert.equal(writing.code, 0, writing.stderr);
    assert.equal(writing.stdout, plain.stdout, `${view} -Y '${filter}'`);
    const ids = (JSON.parse(plain.stdout).connections as { id?: number; conn?: number }[]).map((c) => c.id ?? c.conn);
    assert.ok(ids.length > 0 && ids.length < 3, `${view} -Y '${filter}' selects some connections: ${ids.join(', ')}`);
    assert.match(writing.stderr, new RegExp(`of ${ids.length} connection\\(s\\)`));
  }
});
