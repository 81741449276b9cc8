import type { Command } from 'commander';
import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureSettings } from '../../settings.js';
import { inOrder } from '../../parallel/pool.js';
import { streamsJson, streamsText } from '../../report/streams.js';
import { writeWarnings } from '../../report/format.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';

export function registerStreams(program: Command): void {
  jobsOption(captureOptions(program.command('streams')
    .description('one row per TCP connection on an IMAP port: endpoints, frames, times, bytes and gaps each way, end state')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--json', 'JSON output (schema: docs/schema/streams.schema.json)')))
    .action(async (args: string[], opts: { json?: boolean; port: string; keylog?: string[]; jobs?: string }) => {
      const captures = await expandCaptures(args);
      const settings = captureSettings(opts);
      const results = [];
      const inputs = captures.map((path) => [path, plainSettings(settings)] as [string, CaptureSettings]);
      for await (const r of inOrder('streams', inputs, jobsOf(opts))) results.push(r);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(streamsJson(results), null, 2)}\n`);
        return;
      }
      for (const r of results) {
        process.stdout.write(streamsText(r));
        writeWarnings(r.warnings, r.capture.path);
      }
    });
}
