import { StreamOrder } from '../../report/stream-order.js';
import { analyzeCapture } from '../../analysis/analyzer.js';
import { streamCapture, type PipelineOptions } from '../../pipeline.js';
import type { Side } from '../../tcp/types.js';
import { markerLine, transcriptLines } from '../../report/transcript.js';
import { UsageError } from '../errors.js';
import { ConnectionChoice, capturePipeline, captureSettings } from '../options.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { Selection } from '../selection.js';
import { ExchangeBlocks } from '../../report/exchange-blocks.js';

interface FollowOptions { conn: string; raw?: boolean; side: Side; full?: boolean; showSecrets?: boolean; filter?: string; port: string; keylog?: string[] }

export async function runFollow(capture: string, opts: FollowOptions): Promise<void> {
  const settings = captureSettings(opts);
  if (opts.raw && opts.filter !== undefined) throw new UsageError('follow: -Y selects exchanges of the transcript; --raw writes bytes, which it cannot filter');
  const conn = new ConnectionChoice(opts.conn);
  const pipeline = capturePipeline(settings);
  if (opts.raw) await followRaw(capture, conn, opts.side, pipeline);
  else await followTranscript(capture, conn, opts, pipeline);
  conn.requireFound(capture);
}

async function followRaw(capture: string, conn: ConnectionChoice, side: Side, settings: PipelineOptions): Promise<void> {
  await streamCapture(capture, {
    open: (c) => { conn.accepts(c); },
    data: (c, s, bytes) => { if (c.id === conn.id && s === side) output.write(Buffer.from(bytes)); },
    gap: (c, s, length, frame) => {
      if (c.id === conn.id && s === side) output.note(`imapscope: gap of ${length} bytes at frame ${frame} (left out)`);
    },
    close: () => {},
  }, () => {}, settings);
}

async function followTranscript(capture: string, conn: ConnectionChoice, opts: FollowOptions, settings: PipelineOptions): Promise<void> {
  const selection = new Selection(compileFilterOption(opts.filter));
  // Times count from the capture's first frame, as Wireshark's frame.time_relative.
  const view = { full: Boolean(opts.full), showSecrets: Boolean(opts.showSecrets), get t0() { return selection.t0; } };
  const out = output;
  // Lines in the order they crossed the wire, not the order messages completed.
  const order = new StreamOrder<string[]>((lines) => { for (const line of lines) out.write(`${line}\n`); });
  // With -Y, each exchange's lines wait until it is complete and the filter has decided.
  const blocks = selection.filter ? new ExchangeBlocks((text) => out.write(text)) : null;
  const analysis = await analyzeCapture(capture, {
    ...settings,
    connections: conn.accepts,
    onFirstFrame: (t) => { selection.t0 = t; },
    onUntagged: blocks ? (_r, msg, owner) => blocks.owned(msg, owner) : undefined,
    onMessage: (m) => {
      const lines = transcriptLines(m, view);
      if (blocks) blocks.message(m, lines.map((line) => `${line}\n`).join(''));
      else order.add(m.firstFrame, lines);
    },
    onExchange: blocks ? (ex, info) => blocks.decided(ex, selection.exchange(ex, info)) : undefined,
    onMarker: (side, frame, text) => {
      if (blocks) out.write(`${markerLine(frame, text, side)}\n`);
      else order.add(frame, [markerLine(frame, text, side)]);
    },
  });
  order.flush();
  if (analysis.connections.length === 0) return;
  output.warnings(analysis.warnings.filter((w) => w.conn === undefined || w.conn === conn.id), capture);
}
