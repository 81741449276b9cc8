import type { Command } from 'commander';
import { expandCaptures } from '../../fleet/walk.js';
import { inOrder } from '../../parallel/pool.js';
import { jobsOf, parseNonNegativeInt, captureSettings, plainSettings } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';

interface CommandsOptions { json?: boolean; ndjson?: boolean; conn?: string; command?: string; showSecrets?: boolean; port: string; keylog?: string[]; jobs?: string }

export function registerCommands(program: Command): void {
  jobsOption(captureOptions(program.command('commands')
    .description('one row per command exchange: request frame, tag, command, arguments, status, response, latency, untagged count')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--conn <id>', 'only this connection (tcp.stream id)')
    .option('--command <name>', 'only this command (e.g. FETCH, "UID FETCH"; case-insensitive)')
    .option('--json', 'JSON output, written as the capture streams (schema: docs/schema/commands.schema.json)')
    .option('--ndjson', 'one JSON object per line, written as the capture streams')
    .option('--show-secrets', 'show passwords and SASL payloads instead of ***')))
    .action(async (args: string[], opts: CommandsOptions) => {
      const captures = await expandCaptures(args);
      const settings = captureSettings(opts);
      const conn = opts.conn !== undefined ? parseNonNegativeInt('--conn', opts.conn) : null;
      const command = opts.command?.toUpperCase().replace(/\s+/g, ' ') || null;
      const mode = opts.json ? 'json' : opts.ndjson ? 'ndjson' : 'text';
      const out = process.stdout;
      let first = true;
      if (mode === 'json') out.write('{"exchanges":[');
      const sink = (channel: string, text: string) => {
        if (channel === 'stderr') process.stderr.write(text);
        else if (channel === 'row') {
          out.write(`${first ? '\n' : ',\n'}${text}`);
          first = false;
        } else out.write(text);
      };
      const inputs = captures.map((path) => ({
        path, settings: plainSettings(settings), multi: captures.length > 1, conn, command, showSecrets: Boolean(opts.showSecrets), mode,
      } as const));
      const allWarnings = [];
      for await (const warnings of inOrder('commands', inputs, jobsOf(opts), sink)) allWarnings.push(...warnings);
      if (mode === 'json') out.write(`\n],"warnings":${JSON.stringify(allWarnings)}}\n`);
    });
}
