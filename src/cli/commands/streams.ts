import type { Command } from 'commander';
import { collectStreams } from '../../analysis/streams.js';
import { streamsJson, streamsText } from '../../report/streams.js';
import { writeWarnings } from '../../report/format.js';
import { captureSettings } from '../options.js';
import { captureOptions } from '../program.js';
import { jsonText } from '../../util/json.js';

export function registerStreams(program: Command): void {
  captureOptions(program.command('streams')
    .description('one row per TCP connection on an IMAP port: endpoints, frames, times, bytes and gaps each way, end state')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--json', 'JSON output (schema: docs/schema/streams.schema.json)'))
    .action(async (captures: string[], opts: { json?: boolean; port: string; keylog?: string[] }) => {
      const settings = captureSettings(opts);
      const results = [];
      for (const path of captures) results.push(await collectStreams(path, settings));
      if (opts.json) {
        process.stdout.write(`${jsonText(streamsJson(results), 2)}\n`);
        return;
      }
      for (const r of results) {
        process.stdout.write(streamsText(r));
        writeWarnings(r.warnings, r.capture.path);
      }
    });
}
