import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../src/capture/reader.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import type { Segment } from '../../src/decode/types.js';
import { writeCapture, type SynthPacket } from './synth.js';

/** The TCP segments of `packets` as the decoder reads them from a capture written of them (in a temporary directory). */
export async function segmentsOf(packets: SynthPacket[]): Promise<Segment[]> {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-segments-'));
  try {
    const path = join(dir, 'segments.pcap');
    writeCapture(path, { format: 'pcap', packets });
    const segments: Segment[] = [];
    const decoder = new PacketDecoder(() => {});
    await readCapture(path, (frame) => {
      const seg = decoder.decode(frame);
      // Kept past the callback: a copy of what points into the reader's buffers (reused past the first megabyte).
      if (seg) segments.push({ ...seg, frame: { ...frame }, payload: Buffer.from(seg.payload) });
    }, () => {});
    return segments;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
