/**
 * Fetched messages and parts on real captures: trees equal an independent MIME parser's (Python's email
 * package) reading of the very messages the recording put in the mailbox; extracted attachments are
 * byte-identical to the files that went in; public captures' partial and part fetches come out right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, CLI, NO_PUBLIC, NO_PYTHON, ROOT, hasPublic, hasPython, publicCapture, unavailable } from './helpers/env.js';

const MESSAGES = join(ROOT, 'scripts', 'record', 'messages');

function fetchesJson(path: string) {
  const r = spawnSync(process.execPath, [CLI, 'fetches', '--json', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { messages: { mailbox: string; uid: number; subject: string | null; from: string | null; parts: { part: string; type: string; encoding: string | null; filename: string | null }[]; structureFrom: string | null; fetches: { section: string; origin: number | null; how: string; bytes: number; sha256: string | null; complete: boolean }[]; notFetched: string[] }[]; strategy: { tag: string; items: string[]; messages: number }[] };
}

/** `imapscope extract CAPTURE --out DIR` into a new temporary directory, which is removed once `check` has looked. */
function extracted(capture: string, check: (out: string, run: SpawnSyncReturns<string>) => void): void {
  const out = mkdtempSync(join(tmpdir(), 'imapscope-extract-'));
  try {
    check(out, spawnSync(process.execPath, [CLI, 'extract', capture, '--out', out], { encoding: 'utf8' }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The file the recording seeded as mailbox/uid (captures/README.md: sorted by name per folder). */
function originalFile(mailbox: string, uid: number): string {
  const prefix = ({ INBOX: 'inbox', Archive: 'archive', Sent: 'sent', 'Entwürfe': 'drafts' } as Record<string, string>)[mailbox]!;
  const files = readdirSync(MESSAGES).filter((f) => f.startsWith(`${prefix}-`)).sort();
  return join(MESSAGES, files[uid - 1]!);
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

test('every BODYSTRUCTURE tree equals what Python\'s email package reads from the original message', { skip: unavailable(!hasPython && NO_PYTHON) }, () => {
  const { messages } = fetchesJson(join(CAPTURES, 'seed-alice.pcap'));
  const withTree = messages.filter((m) => m.structureFrom === 'BODYSTRUCTURE');
  assert.equal(withTree.length, 8, 'all eight INBOX messages had their BODYSTRUCTURE fetched');
  const files = withTree.map((m) => originalFile(m.mailbox, m.uid));
  const theirs = JSON.parse(execFileSync('python3', [join(ROOT, 'test', 'helpers', 'mime_tree.py'), ...files], { encoding: 'utf8' }));
  withTree.forEach((m, i) => {
    assert.deepEqual(m.parts.map((p) => ({ part: p.part, type: p.type, encoding: p.encoding, filename: p.filename })), theirs[files[i]!], `INBOX uid ${m.uid}`);
  });
});

test('messages fetched whole without BODYSTRUCTURE get their tree from the message itself, equal to Python\'s', { skip: unavailable(!hasPython && NO_PYTHON) }, () => {
  const { messages } = fetchesJson(join(CAPTURES, 'offlineimap.pcapng'));
  const derived = messages.filter((m) => m.structureFrom === 'message');
  assert.ok(derived.length >= 8, `${derived.length} messages with derived trees`);
  const files = derived.map((m) => originalFile(m.mailbox, m.uid));
  const theirs = JSON.parse(execFileSync('python3', [join(ROOT, 'test', 'helpers', 'mime_tree.py'), ...files], { encoding: 'utf8' }));
  derived.forEach((m, i) => {
    assert.deepEqual(m.parts.map((p) => ({ part: p.part, type: p.type, encoding: p.encoding, filename: p.filename })), theirs[files[i]!], `${m.mailbox} uid ${m.uid}`);
  });
});

test('subjects and senders come decoded from the fetched headers (RFC 2047)', () => {
  const { messages } = fetchesJson(join(CAPTURES, 'seed-alice.pcap'));
  const uid2 = messages.find((m) => m.mailbox === 'INBOX' && m.uid === 2)!;
  assert.equal(uid2.subject, 'Übergabe: Größe & Zeitplan ✓ (Façade Straße)');
  assert.equal(uid2.from, 'Jürgen Müller <juergen@example.de>');
});

test('section hashes are the octets the server sent; whole messages equal the seeded file', () => {
  const { messages } = fetchesJson(join(CAPTURES, 'seed-alice.pcap'));
  const archived = messages.find((m) => m.mailbox === 'Archive' && m.uid === 2)!;
  const whole = archived.fetches.find((f) => f.section === '')!;
  // The mailbox holds the seeded file with CRLF line ends; BODY[] returns exactly that.
  const original = Buffer.from(readFileSync(originalFile('Archive', 2), 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  assert.equal(whole.bytes, original.length);
  assert.equal(whole.sha256, sha256(original));
  const partial = messages.find((m) => m.uid === 7 && m.mailbox === 'INBOX')!.fetches.find((f) => f.how === 'partial')!;
  assert.deepEqual([partial.section, partial.origin, partial.bytes, partial.complete], ['TEXT', 0, 2048, true]);
});

test('the fetch strategy: headers and structure for all first, then single parts', () => {
  const { strategy } = fetchesJson(join(CAPTURES, 'seed-alice.pcap'));
  const overview = strategy.find((s) => s.items.includes('BODYSTRUCTURE'))!;
  assert.equal(overview.messages, 8);
  assert.ok(overview.items.some((i) => i.startsWith('BODY[HEADER.FIELDS')));
  assert.ok(strategy.some((s) => s.items.includes('BODY[2]') && s.messages === 1));
});

test('not fetched: the leaf parts (neither multipart nor an enclosed message) that no fetch of the part or the whole message covered', () => {
  const { messages } = fetchesJson(join(CAPTURES, 'seed-alice.pcap'));
  let some = 0;
  for (const m of messages) {
    // Bodies, whole or a range of them, cover; headers and sizes do not.
    const bodies = m.fetches.filter((f) => f.how === 'full' || f.how === 'partial' || f.how === 'text');
    const whole = bodies.some((f) => f.section === '' || f.section === 'TEXT');
    const fetched = new Set(bodies.map((f) => f.section));
    const leaves = m.parts.filter((p) => !p.type.startsWith('multipart/') && p.type !== 'message/rfc822');
    const expected = whole ? [] : leaves.filter((p) => !fetched.has(p.part)).map((p) => p.part);
    assert.deepEqual(m.notFetched, expected, `${m.mailbox} uid ${m.uid}`);
    if (expected.length > 0 && m.parts.length > expected.length) some++;
  }
  assert.ok(some >= 3, `messages with some parts fetched and some not: ${some}`);
});

test('extract writes the attachment byte-identical to the file that was put in the mailbox', () => {
  extracted(join(CAPTURES, 'seed-alice.pcap'), (out, r) => {
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const png = manifest.files.find((f: { filename: string }) => f.filename === 'envelope.png');
    const original = readFileSync(join(ROOT, 'scripts', 'record', 'attachments', 'envelope.png'));
    assert.equal(png.decoded, true);
    assert.equal(png.sha256, sha256(original));
    assert.ok(readFileSync(join(out, png.file)).equals(original));
    const eml = manifest.files.find((f: { type: string }) => f.type === 'message/rfc822');
    assert.match(eml.file, /\.eml$/);
    const partial = manifest.files.find((f: { partial: boolean }) => f.partial);
    assert.equal(partial.decoded, false);
    // Again without --force: nothing is overwritten, and the output says so plainly.
    const before = readFileSync(join(out, png.file));
    const again = spawnSync(process.execPath, [CLI, 'extract', join(CAPTURES, 'seed-alice.pcap'), '--out', out], { encoding: 'utf8' });
    assert.equal(again.status, 0);
    assert.equal(again.stdout, `nothing written: all ${manifest.files.length + 1} file(s) already exist in ${out} (--force overwrites them)\n`);
    assert.ok(readFileSync(join(out, png.file)).equals(before));
    // --force overwrites files, but never writes through a link planted in the directory.
    const victim = join(out, '..', `${out.split('/').pop()}-victim`);
    writeFileSync(victim, 'untouched');
    rmSync(join(out, png.file));
    symlinkSync(victim, join(out, png.file));
    const forced = spawnSync(process.execPath, [CLI, 'extract', join(CAPTURES, 'seed-alice.pcap'), '--out', out, '--force'], { encoding: 'utf8' });
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'untouched', 'the link target was not written');
    assert.match(forced.stderr, /not a regular file \(a link\?\); left alone/);
    rmSync(victim);
  });
});

test('a multipart message fetched whole (BODY[]) has its parts extracted too: the PDF inside equals the attachment', () => {
  extracted(join(CAPTURES, 'offlineimap.pcapng'), (out, r) => {
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const pdfs = manifest.files.filter((f: { filename: string | null }) => f.filename === 'invoice-2024-0042.pdf');
    assert.ok(pdfs.length >= 1, 'the PDF is written');
    const original = readFileSync(join(ROOT, 'scripts', 'record', 'attachments', 'invoice-2024-0042.pdf'));
    for (const pdf of pdfs) {
      assert.equal(pdf.fromMessage, true);
      assert.equal(pdf.section, '', 'cut out of BODY[]');
      assert.equal(pdf.decoded, true);
      assert.ok(readFileSync(join(out, pdf.file)).equals(original));
    }
    // Every leaf of every multipart message fetched whole stands in the manifest with its part number.
    const inbox4 = manifest.files.filter((f: { mailbox: string; uid: number; fromMessage: boolean }) => f.mailbox === 'INBOX' && f.uid === 4 && f.fromMessage);
    assert.deepEqual(inbox4.map((f: { part: string; type: string }) => `${f.part} ${f.type}`), ['1 text/plain', '2 image/png', '3 application/pdf']);
  });
});

for (const name of ['mbsync.pcap', 'seed-alice.pcap']) {
  test(`extract (${name}): every section written as it came holds exactly the octets the fetches view hashed off the wire`, () => {
    const wire = new Set(fetchesJson(join(CAPTURES, name)).messages.flatMap((m) => m.fetches.map((f) => f.sha256)));
    extracted(join(CAPTURES, name), (out, r) => {
      assert.equal(r.status, 0, r.stderr);
      const { files } = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { files: { file: string; decoded: boolean; fromMessage: boolean; sha256: string }[] };
      const asCame = files.filter((f) => !f.decoded && !f.fromMessage);
      assert.ok(asCame.length >= 5, `sections written undecoded: ${asCame.length}`);
      for (const f of asCame) {
        assert.equal(sha256(readFileSync(join(out, f.file))), f.sha256, `${f.file}: the manifest's hash is the file's`);
        assert.ok(wire.has(f.sha256), `${f.file}: the same octets as a section fetched`);
      }
      assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.imapscope-tmp')), [], 'no temporary directory is left');
    });
  });
}

/** Every file under `dir` (names sorted) with its bytes' SHA-256. */
function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, sha256(readFileSync(join(dir, name)))]));
}

test('extract holding one message at a time (every message spilled and merged) writes exactly what it writes holding all', () => {
  for (const name of ['seed-alice.pcap', 'mbsync.pcap', 'offlineimap.pcapng']) {
    extracted(join(CAPTURES, name), (held, r) => {
      assert.equal(r.status, 0, r.stderr);
      const spilled = mkdtempSync(join(tmpdir(), 'imapscope-extract-'));
      try {
        const s = spawnSync(process.execPath, [CLI, 'extract', join(CAPTURES, name), '--out', spilled], { encoding: 'utf8', env: { ...process.env, IMAPSCOPE_FETCHES_BUDGET: '1' } });
        assert.equal(s.status, 0, s.stderr);
        assert.equal(s.stdout.replace(spilled, 'OUT'), r.stdout.replace(held, 'OUT'));
        const files = contents(held);
        assert.ok(Object.keys(files).length >= 10, `${name}: ${Object.keys(files).length} files`);
        assert.deepEqual(contents(spilled), files, `${name}: the same names and bytes, manifest.json included`);
      } finally {
        rmSync(spilled, { recursive: true, force: true });
      }
      if (name !== 'seed-alice.pcap') return;
      // Connection 1 fetched UID 2's part 1 (frame 46) before connection 0's BODYSTRUCTURE told what it is (frame 97):
      // the file is named and decoded from that later tree, and still comes first, in the order of fetching.
      const { files } = JSON.parse(readFileSync(join(held, 'manifest.json'), 'utf8')) as { files: { file: string; conn: number; type: string | null; decoded: boolean }[] };
      assert.deepEqual(files.slice(0, 2).map((f) => [f.file, f.conn, f.type, f.decoded]),
        [['INBOX-uid2-1-part1.txt', 1, 'text/plain', true], ['INBOX-uid4-2-envelope.png', 1, 'image/png', true]]);
    });
  }
});

test('extract on a file that is not a capture: exit 2, one line, and no temporary directory left in --out', () => {
  extracted(join(ROOT, 'README.md'), (out, r) => {
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not a pcap or pcapng capture/);
    assert.deepEqual(readdirSync(out), []);
  });
});

test('protolens-imap: BODY.PEEK[1.2] … [5] mapped onto the tree, the PNG extracted valid', { skip: unavailable(!hasPublic && NO_PUBLIC) }, () => {
  const { messages } = fetchesJson(publicCapture('protolens-imap.pcap'));
  const fetched = messages.find((m) => m.fetches.some((f) => f.section === '1.2'))!;
  assert.ok(fetched, 'the message whose parts were fetched');
  const sections = fetched.fetches.map((f) => f.section).filter((s) => /^\d/.test(s)).sort();
  assert.deepEqual(sections, ['1.2', '2', '3', '4', '5']);
  const byPart = new Map(fetched.parts.map((p) => [p.part, p]));
  for (const s of sections) assert.ok(byPart.has(s), `part ${s} is in the tree`);
  // Its leaves are 1.1, 1.2 and 2 to 5 (the root and 1 are multiparts): only 1.1 was left.
  assert.deepEqual(fetched.notFetched, ['1.1']);
  extracted(publicCapture('protolens-imap.pcap'), (out, r) => {
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const pngs = manifest.files.filter((f: { type: string }) => f.type === 'image/png');
    assert.ok(pngs.length > 0);
    for (const f of pngs) {
      const b = readFileSync(join(out, f.file));
      assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
      assert.equal(b.subarray(12, 16).toString(), 'IHDR');
      assert.equal(b.subarray(b.length - 8, b.length - 4).toString(), 'IEND');
    }
  });
});

test('protolens-imap_fetch: BODY.PEEK[TEXT]<0.2048> is a partial range of 2048 octets', { skip: unavailable(!hasPublic && NO_PUBLIC) }, () => {
  const { messages } = fetchesJson(publicCapture('protolens-imap_fetch.pcap'));
  const partials = messages.flatMap((m) => m.fetches).filter((f) => f.how === 'partial');
  assert.ok(partials.length > 0);
  for (const f of partials) {
    assert.equal(f.section, 'TEXT');
    assert.equal(f.origin, 0);
    assert.ok(f.bytes <= 2048);
  }
});
