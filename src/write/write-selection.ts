import { closeSync, constants, lstatSync, openSync, rmSync } from 'node:fs';
import { readCapture } from '../capture/reader.js';
import { PacketDecoder } from '../decode/decoder.js';
import { addressText } from '../decode/address.js';
import { TCP_SYN, type Segment } from '../decode/types.js';
import { streamCapture, type PipelineOptions } from '../pipeline.js';
import type { Connection } from '../tcp/types.js';
import { CaptureWriter, type OutputFormat } from './capture-writer.js';
import { fixTcpChecksum } from './checksum.js';
import { SecretLocator, type StreamRange } from './secrets.js';

/** A target that must not be written (exists without --force, a link, a directory). */
export class TargetError extends Error {}

/** pcapng for .pcapng/.ntar (optionally .gz is refused elsewhere), pcap otherwise; -F overrides. */
export function formatFor(path: string, explicit: OutputFormat | undefined): OutputFormat {
  return explicit ?? (/\.(pcapng|ntar)$/i.test(path) ? 'pcapng' : 'pcap');
}

/** Refuse before any reading: an existing file without `force`, anything but a regular file, a link. */
export function checkTarget(path: string, force: boolean): void {
  if (path.trim() === '' || path === '-') throw new TargetError(`-w: name the file to write ('${path}' is not one)`);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // does not exist: fine
  }
  if (st.isSymbolicLink()) throw new TargetError(`-w: ${path} is a symbolic link; name the file itself`);
  if (!st.isFile()) throw new TargetError(`-w: ${path} is not a regular file`);
  if (!force) throw new TargetError(`-w: ${path} exists; not overwritten (use --force)`);
}

function openTarget(path: string, force: boolean): number {
  checkTarget(path, force);
  try {
    return openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !force) throw new TargetError(`-w: cannot write ${path}: ${(err as Error).message}`);
  }
  return openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
}

export interface WriteSelection {
  capture: string;
  target: string;
  format: OutputFormat;
  /** The selected connections, as the analysis pass saw them. */
  connections: readonly Connection[];
  redact: boolean;
  pipeline: PipelineOptions;
}

export interface WriteReport {
  frames: number;
  /** Credentials found and overwritten (one per password, SASL line or initial response). */
  secrets: number;
  framesChanged: number;
  /** Changed frames whose TCP checksum could not be recomputed (the snaplen cut the segment). */
  checksumsLeft: number;
}

/**
 * Writes every frame of the selected TCP connections — handshake, retransmissions and all — to a pcap or
 * pcapng file. This is a second pass over the capture (a third with redaction): the first decided which
 * connections, the redaction pass finds where credentials lie in each client stream, and the copy pass
 * writes the frames, overwriting those octets by sequence number so every copy of them (retransmissions,
 * segments split across frames) is covered.
 */
export async function writeSelection(req: WriteSelection): Promise<WriteReport> {
  const secrets = req.redact ? await locateSecrets(req) : new Map<number, StreamRange[]>();
  const byTuple = new Map<string, Connection[]>();
  for (const c of req.connections) {
    for (const key of [tupleKey(c.client.ip, c.client.port, c.server.ip, c.server.port), tupleKey(c.server.ip, c.server.port, c.client.ip, c.client.port)]) {
      const list = byTuple.get(key) ?? [];
      list.push(c);
      byTuple.set(key, list);
    }
  }
  const clientBase = new Map<number, number>();
  const report: WriteReport = { frames: 0, secrets: [...secrets.values()].reduce((n, r) => n + r.length, 0), framesChanged: 0, checksumsLeft: 0 };
  const fd = openTarget(req.target, true);
  const writer = new CaptureWriter(fd, req.format);
  const decoder = new PacketDecoder(() => {});
  try {
    await readCapture(req.capture, (frame) => {
      const seg = decoder.decode(frame);
      if (!seg) return;
      const src = addressText(seg.src);
      const conn = byTuple.get(tupleKey(src, seg.srcPort, addressText(seg.dst), seg.dstPort))?.find((c) => frame.number >= c.firstFrame && frame.number <= c.lastFrame);
      if (!conn) return;
      const ranges = secrets.get(conn.id);
      let data = frame.data;
      if (ranges?.length && !seg.quoted && src === conn.client.ip && seg.srcPort === conn.client.port) {
        let base = clientBase.get(conn.id);
        if (base === undefined) {
          base = (seg.flags & TCP_SYN) !== 0 ? (seg.seq + 1) >>> 0 : seg.seq;
          clientBase.set(conn.id, base);
        }
        const changed = redactSegment(frame.data, seg, base, ranges);
        if (changed) {
          data = changed.data;
          report.framesChanged++;
          if (!changed.checksum) report.checksumsLeft++;
        }
      }
      writer.write(frame, data);
      report.frames++;
    }, () => {});
    writer.end();
  } catch (err) {
    closeSync(fd);
    rmSync(req.target, { force: true }); // a half-written capture would only mislead
    throw err;
  }
  closeSync(fd);
  return report;
}

function tupleKey(srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  return `${srcIp}|${srcPort}|${dstIp}|${dstPort}`;
}

/** A copy of the frame with the credential octets it carries replaced by 'x' and its TCP checksum recomputed; null if it carries none. */
function redactSegment(data: Buffer, seg: Segment, base: number, ranges: readonly StreamRange[]): { data: Buffer; checksum: boolean } | null {
  const len = seg.payload.length;
  if (len === 0) return null;
  const rel = (seg.seq - base) >>> 0;
  const payloadAt = seg.payload.byteOffset - data.byteOffset;
  let copy: Buffer | null = null;
  for (const r of ranges) {
    const from = Math.max(r.start, rel);
    const to = Math.min(r.end, rel + len);
    if (from >= to) continue;
    copy ??= Buffer.from(data);
    copy.fill(0x78, payloadAt + (from - rel), payloadAt + (to - rel));
  }
  if (!copy) return null;
  return { data: copy, checksum: fixTcpChecksum(copy, { ...seg, payload: copy.subarray(payloadAt, payloadAt + len) }, payloadAt) };
}

/** The redaction pass: the credential ranges of each selected connection's client stream. */
async function locateSecrets(req: WriteSelection): Promise<Map<number, StreamRange[]>> {
  const ids = new Set(req.connections.map((c) => c.id));
  const locators = new Map<number, SecretLocator>();
  await streamCapture(req.capture, {
    open: (c) => { if (ids.has(c.id)) locators.set(c.id, new SecretLocator()); },
    data: (c, side, bytes) => locators.get(c.id)?.data(side, bytes),
    gap: (c, side, length) => locators.get(c.id)?.gap(side, length),
    close: () => {},
  }, () => {}, req.pipeline);
  return new Map([...locators].map(([id, l]) => [id, l.ranges]));
}
