import type { Command } from 'commander';
import type { StreamsResult } from '../../analysis/streams.js';
import { expandCaptures } from '../../fleet/walk.js';
import { inOrder } from '../../parallel/pool.js';
import { streamsJson, streamsText } from '../../report/streams.js';
import { captureSettings, jobsOf, plainSettings } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';
import { output } from '../output.js';
import { compileFilterOption, filterOption } from '../display-options.js';
import { planWrite, runWrite, writeOptions, type WriteFlags } from '../write-options.js';

interface StreamsOptions extends WriteFlags { json?: boolean; filter?: string; port: string; keylog?: string[]; jobs?: string }

export function registerStreams(program: Command): void {
  const cmd = program.command('streams')
    .description('one row per TCP connection on an IMAP port: endpoints, frames, times, bytes and gaps each way, end state')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--json', 'JSON output (schema: docs/schema/streams.schema.json)');
  filterOption(cmd, 'connections (connection fields only: tcp.stream, ip.addr, tcp.port, tls, imap.user, …)');
  writeOptions(cmd);
  jobsOption(captureOptions(cmd)).action(async (args: string[], opts: StreamsOptions) => {
    const filter = compileFilterOption(opts.filter, { level: 'connection', context: 'streams' });
    const jobs = jobsOf(opts);
    const captures = await expandCaptures(args);
    const settings = captureSettings(opts);
    const write = planWrite(opts, captures, filter !== null);
    const inputs = captures.map((path) => ({ path, settings: plainSettings(settings), filter: opts.filter, keepSelected: write !== null }));
    const results: StreamsResult[] = [];
    let i = 0;
    for await (const r of inOrder('streams', inputs, jobs, undefined, settings)) {
      results.push(r.streams);
      if (write) await runWrite(write, captures[i]!, r.selected, settings);
      i++;
    }
    if (opts.json) {
      await output.json(streamsJson(results));
      return;
    }
    for (const r of results) {
      output.write(streamsText(r));
      output.warnings(r.warnings, r.capture.path);
    }
  });
}
