import type { Command } from 'commander';
import { Option } from 'commander';
import { StreamOrder } from '../../report/stream-order.js';
import { analyzeCapture } from '../../analysis/analyzer.js';
import { streamCapture, type PipelineOptions } from '../../pipeline.js';
import type { Side, TimePoint } from '../../tcp/types.js';
import { writeWarnings } from '../../report/format.js';
import { markerLine, transcriptLines } from '../../report/transcript.js';
import { UsageError } from '../errors.js';
import { parseNonNegativeInt, captureSettings } from '../options.js';
import { captureOptions } from '../program.js';

interface FollowOptions { conn: string; raw?: boolean; side: Side; full?: boolean; showSecrets?: boolean; port: string; keylog?: string[] }

export function registerFollow(program: Command): void {
  captureOptions(program.command('follow')
    .description('one connection as a readable transcript (C:/S: lines, literals folded), or its raw bytes with --raw')
    .argument('<capture>', 'capture file (pcap, pcapng, gzip; - for stdin)')
    .requiredOption('--conn <id>', 'connection id (as in streams and summary; = Wireshark tcp.stream)')
    .option('--raw', 'write the reassembled bytes of one direction to stdout exactly (gaps left out, reported on stderr)')
    .addOption(new Option('--side <side>', 'direction for --raw').choices(['client', 'server']).default('client'))
    .option('--full', 'show literal contents instead of {n bytes}')
    .option('--show-secrets', 'show passwords and SASL payloads instead of ***'))
    .action(async (capture: string, opts: FollowOptions) => {
      const settings = captureSettings(opts);
      const id = parseNonNegativeInt('--conn', opts.conn);
      const found = opts.raw ? await followRaw(capture, id, opts.side, settings) : await followTranscript(capture, id, opts, settings);
      if (!found) throw new UsageError(`follow: ${capture} has no IMAP connection with id ${id} (see 'imapscope streams')`);
    });
}

async function followRaw(capture: string, id: number, side: Side, settings: PipelineOptions): Promise<boolean> {
  let found = false;
  await streamCapture(capture, {
    open: (c) => { if (c.id === id) found = true; },
    data: (c, s, bytes) => { if (c.id === id && s === side) process.stdout.write(Buffer.from(bytes)); },
    gap: (c, s, length, frame) => {
      if (c.id === id && s === side) process.stderr.write(`imapscope: gap of ${length} bytes at frame ${frame} (left out)\n`);
    },
    close: () => {},
  }, () => {}, settings);
  return found;
}

async function followTranscript(capture: string, id: number, opts: FollowOptions, settings: PipelineOptions): Promise<boolean> {
  let t0: TimePoint | null = null;
  const view = { full: Boolean(opts.full), showSecrets: Boolean(opts.showSecrets), get t0() { return t0; } };
  const out = process.stdout;
  // Lines in the order they crossed the wire, not the order messages completed.
  const order = new StreamOrder<string[]>((lines) => { for (const line of lines) out.write(`${line}\n`); });
  const analysis = await analyzeCapture(capture, {
    ...settings,
    connections: (c) => c.id === id,
    onMessage: (m) => {
      t0 ??= m.start;
      order.add(m.firstFrame, transcriptLines(m, view));
    },
    onMarker: (side, frame, text) => order.add(frame, [markerLine(frame, text, side)]),
  });
  order.flush();
  const conn = analysis.connections[0];
  if (!conn) return false;
  writeWarnings(analysis.warnings.filter((w) => w.conn === undefined || w.conn === id), capture);
  return true;
}
