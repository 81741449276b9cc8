import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureError, readCapture } from '../../src/capture/reader.js';
import { usageLine } from '../../src/cli/errors.js';
import { emptyInfo } from '../../src/capture/reader.js';
import type { Frame, Warning } from '../../src/capture/types.js';
import { warningLines } from '../../src/report/format.js';
import { check, checkPrintable } from '../invariants.js';
import type { Layer } from '../layer.js';
import { parserFor, recordedCaptures } from '../seeds.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-fuzz-capture-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Frames are numbered 1, 2, 3…; no frame holds more bytes than the file did. */
function checkFrames(frames: Frame[], fileBytes: number, warnings: Warning[]): void {
  let total = 0;
  frames.forEach((f, i) => {
    check(f.number > (frames[i - 1]?.number ?? 0), `frame numbers go back: ${f.number} after ${frames[i - 1]?.number}`);
    check(f.tsNsec >= 0 && f.tsNsec < 1e9, `frame ${f.number}: nanoseconds ${f.tsNsec}`);
    total += f.data.length;
  });
  check(total <= fileBytes, `frames hold ${total} bytes, the file only ${fileBytes}`);
  for (const line of warningLines(warnings)) checkPrintable(line, 'warning');
}

/**
 * pcap and pcapng parsers, fed the file in chunks of a size the input picks (records cut at every
 * boundary), and gzip through the real reader. Frames must come out numbered in order and never hold
 * more bytes than the file.
 */
export const captureLayer: Layer = {
  name: 'capture',
  about: 'capture readers: pcap (µs/ns, both byte orders), pcapng (sections, interfaces, DSB), gzip',
  maxLength: 256 * 1024,
  seeds: () => {
    const files = recordedCaptures().map((c) => c.bytes);
    return [...files.map((f) => f.subarray(0, 16 * 1024)), gzipSync(files[0]!.subarray(0, 8192))];
  },
  dictionary: [
    Buffer.from('d4c3b2a1', 'hex'), Buffer.from('a1b2c3d4', 'hex'), Buffer.from('4d3cb2a1', 'hex'), Buffer.from('0a0d0d0a', 'hex'),
    Buffer.from('4d3c2b1a', 'hex'), Buffer.from('1a2b3c4d', 'hex'), Buffer.from('01000000', 'hex'), Buffer.from('06000000', 'hex'),
    Buffer.from('03000000', 'hex'), Buffer.from('0a000000', 'hex'), Buffer.from('4b534c54', 'hex'), Buffer.from('1f8b08', 'hex'),
  ],
  run(input) {
    if (input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b) return throughReader(input);
    const frames: Frame[] = [];
    const warnings: Warning[] = [];
    const parser = parserFor(input, (f) => frames.push({ ...f, data: Buffer.from(f.data) }), (w) => warnings.push(w), emptyInfo('fuzz'));
    if (!parser) return;
    const chunk = 1 + ((input.length * 2654435761) >>> 0) % 4096;
    for (let i = 0; i < input.length; i += chunk) parser.push(input.subarray(i, i + chunk));
    parser.end();
    checkFrames(frames, input.length, warnings);
  },
};

async function throughReader(input: Buffer): Promise<void> {
  const path = join(tmp, 'input.gz');
  writeFileSync(path, input);
  const frames: Frame[] = [];
  const warnings: Warning[] = [];
  try {
    await readCapture(path, (f) => frames.push({ ...f, data: Buffer.from(f.data) }), (w) => warnings.push(w));
  } catch (err) {
    if (err instanceof CaptureError) {
      checkPrintable(usageLine(err), 'error');
      return;
    }
    // zlib refusing a corrupt stream (not a truncated one) surfaces as an error of the reader.
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new Error(`gzip error escaped the reader: ${(err as Error).message}`);
    throw err;
  }
  checkFrames(frames, Number.MAX_SAFE_INTEGER, warnings);
}
