import type { Command } from 'commander';
import { analyzeCapture } from '../../analysis/analyzer.js';
import { collectStreams, type StreamsResult } from '../../analysis/streams.js';
import { streamsJson, streamsText } from '../../report/streams.js';
import { writeWarnings } from '../../report/format.js';
import { captureSettings } from '../options.js';
import { captureOptions } from '../program.js';
import { output } from '../output.js';
import { compileFilterOption, filterOption } from '../display-options.js';
import { Selection } from '../selection.js';
import { planWrite, runWrite, writeOptions, type WriteFlags } from '../write-options.js';

interface StreamsOptions extends WriteFlags { json?: boolean; filter?: string; port: string; keylog?: string[] }

export function registerStreams(program: Command): void {
  const cmd = program.command('streams')
    .description('one row per TCP connection on an IMAP port: endpoints, frames, times, bytes and gaps each way, end state')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--json', 'JSON output (schema: docs/schema/streams.schema.json)');
  filterOption(cmd, 'connections (connection fields only: tcp.stream, ip.addr, tcp.port, tls, imap.user, …)');
  writeOptions(cmd);
  captureOptions(cmd).action(async (captures: string[], opts: StreamsOptions) => {
    const settings = captureSettings(opts);
    const filter = compileFilterOption(opts.filter, { level: 'connection', context: 'streams' });
    const write = planWrite(opts, captures, filter !== null);
    const results: StreamsResult[] = [];
    for (const [, path] of output.inputs(captures)) {
      if (!filter) {
        results.push(await collectStreams(path, settings));
        continue;
      }
      // Fields such as tls or imap.user need the IMAP dissection, not only TCP.
      const selection = new Selection(filter);
      const a = await analyzeCapture(path, { ...settings, onFirstFrame: (t) => { selection.t0 = t; } });
      const selected = selection.connections(a.connections);
      results.push({ capture: a.capture, connections: selected.map((c) => c.conn), warnings: a.warnings });
      if (write) await runWrite(write, path, selected, settings);
    }
    if (opts.json) {
      output.json(streamsJson(results));
      return;
    }
    for (const r of results) {
      output.write(streamsText(r));
      writeWarnings(r.warnings, r.capture.path);
    }
  });
}
