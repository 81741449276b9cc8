/**
 * Classic-pcap reader comparison: the `pcap-parser` npm package (named in the design) against our own
 * `readCapture` (src/capture/reader.ts), on the same file. Each reader walks every record and sums the captured
 * lengths; every reader runs in its own child process, one at a time, so wall time and peak RSS are its own.
 * The record counts and byte sums must agree, or the run fails.
 *
 *   node dist/bench/pcap-reader.js FILE [--runs N]
 *   node dist/bench/pcap-reader.js --mb 200 [--keep] [--workdir DIR]    # generate the file first
 *
 * Readers measured:
 *   node stream only   fs.createReadStream with 1 MiB chunks, no parsing: the floor for any reader in Node
 *   readCapture        ours (1 MiB chunks, full Frame objects with timestamps, capture summary kept up to date)
 *   pcap-parser        require('pcap-parser').parse(fs.createReadStream(FILE)), default 64 KiB chunks
 *   pcap-parser 1MiB   the same with 1 MiB chunks, in case the chunk size is what matters
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCapture } from '../src/capture/reader.js';
import { fmt, machine, markdownTable, measure, MiB, ok, summarise, table, type Measurement } from './measure.js';

const SELF = fileURLToPath(import.meta.url);

interface Walk {
  records: number;
  capturedBytes: number;
  /** Seconds inside the process, from opening the file to the last record (no Node start-up). */
  seconds: number;
  warnings: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Child side: one reader, prints one JSON line

type ReaderName = 'stream' | 'ours' | 'pcap-parser' | 'pcap-parser-1m';

interface PcapParserPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}

async function walk(reader: ReaderName, file: string): Promise<Walk> {
  const t0 = performance.now();
  let records = 0;
  let capturedBytes = 0;
  let warnings = 0;
  switch (reader) {
    case 'stream': {
      // Not a reader: the bytes only. "records" is left 0 and skipped in the comparison.
      for await (const chunk of createReadStream(file, { highWaterMark: MiB })) capturedBytes += (chunk as Buffer).length;
      break;
    }
    case 'ours': {
      await readCapture(
        file,
        (frame) => {
          records++;
          capturedBytes += frame.data.length;
        },
        () => warnings++,
      );
      break;
    }
    case 'pcap-parser':
    case 'pcap-parser-1m': {
      const pcapParser = createRequire(import.meta.url)('pcap-parser') as {
        parse(input: NodeJS.ReadableStream): NodeJS.EventEmitter;
      };
      const stream = createReadStream(file, reader === 'pcap-parser-1m' ? { highWaterMark: MiB } : {});
      await new Promise<void>((done, fail) => {
        const parser = pcapParser.parse(stream);
        parser.on('packet', (p: PcapParserPacket) => {
          records++;
          capturedBytes += p.header.capturedLength;
          if (p.data.length !== p.header.capturedLength) warnings++;
        });
        parser.on('error', fail);
        parser.on('end', done);
      });
      break;
    }
  }
  return { records, capturedBytes, seconds: (performance.now() - t0) / 1000, warnings };
}

// ---------------------------------------------------------------------------------------------------------------
// Parent side

const READERS: { name: ReaderName; label: string }[] = [
  { name: 'stream', label: 'node stream only (1 MiB chunks, no parsing)' },
  { name: 'ours', label: 'readCapture (ours)' },
  { name: 'pcap-parser', label: 'pcap-parser (64 KiB chunks, default)' },
  { name: 'pcap-parser-1m', label: 'pcap-parser (1 MiB chunks)' },
];

function log(s = ''): void {
  process.stdout.write(s + '\n');
}

async function parent(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '1' },
      mb: { type: 'string' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
      workdir: { type: 'string' },
    },
  });
  const runs = Math.max(1, Math.floor(Number(values.runs) || 1));
  let file = positionals[0];
  let cleanup = (): void => {};
  if (!file) {
    if (!values.mb) throw new Error('usage: pcap-reader FILE [--runs N]   or   pcap-reader --mb N [--keep] [--workdir DIR]');
    const { generateCapture } = await import('./gen-capture.js');
    const dir = values.workdir ? resolve(values.workdir) : mkdtempSync(join(tmpdir(), 'imapscope-bench-'));
    mkdirSync(dir, { recursive: true });
    file = join(dir, `imap-${values.mb}mib-seed${values.seed}.pcap`);
    process.stdout.write(`generating ${file} ... `);
    const s = await generateCapture({ out: file, mb: Number(values.mb), seed: Number(values.seed) });
    log(`${s.packets} packets`);
    const made = file;
    cleanup = () => {
      if (values.keep) log(`kept ${made}`);
      else if (values.workdir) rmSync(made, { force: true });
      else rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    await compare(file, runs);
  } finally {
    cleanup();
  }
}

async function compare(file: string, runs: number): Promise<void> {
  const size = statSync(file).size;
  const env = machine();
  log('machine');
  for (const [k, v] of Object.entries(env)) if (k !== 'tshark') log(`  ${k.padEnd(12)} ${v}`);
  log();
  log(`file ${file}: ${(size / MiB).toFixed(1)} MiB`);
  await measure('cat', [file]); // page cache

  const results: { label: string; name: ReaderName; m: Measurement; w: Walk | null }[] = [];
  for (const r of READERS) {
    const all: { m: Measurement; w: Walk | null }[] = [];
    for (let i = 0; i < runs; i++) {
      process.stdout.write(`  ${r.label} run ${i + 1}/${runs} ... `);
      const m = await measure(process.execPath, ['--no-deprecation', SELF, '--child', r.name, file], { stdout: 'capture' });
      const w = ok(m) ? (JSON.parse(m.stdout) as Walk) : null;
      all.push({ m, w });
      log(w ? `${m.seconds.toFixed(2)} s, ${fmt(m.maxRssKiB! / 1024)} MiB` : `FAILED\n${m.stderrTail}`);
    }
    const med = summarise(all.map((a) => a.m));
    const pick = all.find((a) => a.m.seconds === med.seconds)!;
    results.push({ label: r.label, name: r.name, m: med, w: pick.w });
  }

  const parsers = results.filter((r) => r.name !== 'stream');
  // Throughput from the in-process time: the reader's own cost, without Node's start-up (the same for all).
  const head = ['reader', 'wall s', 'in-process s', 'MiB/s', 'packets/s', 'peak RSS MiB', 'records', 'captured bytes'];
  const cells = results.map((r) => {
    const packets = parsers[0]?.w?.records ?? 0;
    return [
      r.label,
      ok(r.m) ? r.m.seconds.toFixed(2) : 'FAILED',
      r.w ? r.w.seconds.toFixed(2) : '-',
      r.w ? fmt(size / MiB / r.w.seconds, 0) : '-',
      r.name === 'stream' || !r.w ? '-' : fmt(packets / r.w.seconds, 0),
      fmt(r.m.maxRssKiB === null ? null : r.m.maxRssKiB / 1024),
      r.name === 'stream' ? '-' : String(r.w?.records ?? '-'),
      String(r.w?.capturedBytes ?? '-'),
    ];
  });
  log();
  log(table(head, cells));

  // The readers must agree record for record and byte for byte.
  const ref = parsers[0]!.w;
  const disagree = parsers.filter((r) => !r.w || !ref || r.w.records !== ref.records || r.w.capturedBytes !== ref.capturedBytes);
  const warned = parsers.filter((r) => r.w && r.w.warnings > 0);
  log();
  if (disagree.length || !ref) {
    log(`MISMATCH: ${disagree.map((r) => r.label).join(', ')} disagree on the record count or byte sum`);
    process.exitCode = 1;
  } else {
    log(`all readers agree: ${ref.records} records, ${ref.capturedBytes} captured bytes`);
  }
  if (warned.length) log(`warnings from: ${warned.map((r) => `${r.label} (${r.w!.warnings})`).join(', ')}`);

  const ours = results.find((r) => r.name === 'ours')!;
  const theirs = results.filter((r) => r.name.startsWith('pcap-parser'));
  const best = theirs.reduce((a, b) => (a.w!.seconds <= b.w!.seconds ? a : b));
  const ratio = best.w!.seconds / ours.w!.seconds;
  const rssOurs = ours.m.maxRssKiB! / 1024;
  const rssTheirs = best.m.maxRssKiB! / 1024;
  log(
    `readCapture vs the faster pcap-parser run (${best.label}), in-process time: ${ratio >= 1 ? `${ratio.toFixed(2)}x faster` : `${(1 / ratio).toFixed(2)}x slower`}, ` +
      `peak RSS ${rssOurs.toFixed(0)} vs ${rssTheirs.toFixed(0)} MiB`,
  );
  log();
  log('markdown:');
  log(markdownTable(head, cells));
}

async function child(reader: ReaderName, file: string): Promise<void> {
  process.stdout.write(JSON.stringify(await walk(reader, file)) + '\n');
}

const argv = process.argv.slice(2);
(argv[0] === '--child' ? child(argv[1] as ReaderName, argv[2]!) : parent()).catch((err: unknown) => {
  process.stderr.write(`pcap-reader: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
