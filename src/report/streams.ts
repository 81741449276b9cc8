import type { StreamsResult } from '../analysis/streams.js';
import { isoTime, secondsBetween } from '../util/time.js';
import { bytesHuman, endpoint, jsonWarnings, makeTable, seconds } from './format.js';

/** JSON twin of the streams table (schema: docs/schema/streams.schema.json). */
export function streamsJson(results: readonly StreamsResult[]): object {
  return {
    captures: results.map((r) => ({ path: r.capture.path, format: r.capture.format, frames: r.capture.frames })),
    connections: results.flatMap((r) => r.connections.map((c) => ({
      ...(results.length > 1 ? { capture: r.capture.path } : {}),
      id: c.id,
      client: c.client,
      server: c.server,
      firstFrame: c.firstFrame,
      lastFrame: c.lastFrame,
      start: isoTime(c.start),
      end: isoTime(c.end),
      bytes: { client: c.stats.client.bytes, server: c.stats.server.bytes },
      gaps: {
        client: { count: c.stats.client.gaps, bytes: c.stats.client.gapBytes },
        server: { count: c.stats.server.gaps, bytes: c.stats.server.gapBytes },
      },
      state: c.state,
      midStream: !c.sawSyn,
    }))),
    warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (results.length > 1 ? { capture: r.capture.path, ...w } : w))),
  };
}

export function streamsText(r: StreamsResult): string {
  const t0 = r.capture.first;
  const table = makeTable(['id', 'client', 'server', 'frames', 'start', 'duration', 'C→S', 'S→C', 'gaps C/S', 'state']);
  for (const c of r.connections) {
    const gaps = (s: 'client' | 'server') => (c.stats[s].gaps ? `${c.stats[s].gaps} (${c.stats[s].gapBytes} B)` : '0');
    table.push([
      c.id,
      endpoint(c.client),
      endpoint(c.server),
      `${c.firstFrame}–${c.lastFrame}`,
      t0 ? `+${seconds(secondsBetween(t0, c.start))}` : '',
      seconds(secondsBetween(c.start, c.end)),
      bytesHuman(c.stats.client.bytes),
      bytesHuman(c.stats.server.bytes),
      `${gaps('client')} / ${gaps('server')}`,
      c.state + (c.sawSyn ? '' : ' (mid-stream)'),
    ]);
  }
  const head = `${r.capture.path}: ${r.capture.format}${r.capture.gzip ? ' (gzip)' : ''}, ${r.capture.frames} frames, ${r.connections.length} IMAP connection(s)`;
  return `${head}\n${table.toString()}\n`;
}
