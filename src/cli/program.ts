import { Command } from 'commander';
import { helpHint, output, type TerminalFlags } from './output.js';
import { registerStreams } from './commands/streams.js';
import { registerFollow } from './commands/follow.js';
import { registerSummary } from './commands/summary.js';
import { registerCommands } from './commands/commands.js';
import { registerFetches } from './commands/fetches.js';
import { registerExtract } from './commands/extract.js';
import { registerCompare } from './commands/compare.js';
import { registerCheck } from './commands/check.js';
import { registerExport } from './commands/export.js';
import { registerSql } from './commands/sql.js';
import { registerReport } from './commands/report.js';
import { registerFields } from './commands/fields.js';

export function buildProgram(): Command {
  const program = new Command('imapscope')
    .description('A Wireshark-style IMAP dissector for pcap and pcapng captures.')
    .version('0.1.0')
    // Before the subcommands are made, so that they inherit them: usage errors throw, and exit 2, as one line.
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(oneLineError(message, helpHint(null))) })
    .addHelpText('after', `
Exit codes: 0 ok, 1 a check failed (check, compare --expect-same), 2 bad usage or unreadable input,
70 an internal error (a bug: please report it with the capture), 74 no room left to write (a full disk
or quota: the output, or TMPDIR), 130 interrupted by Ctrl-C (what was read before is reported, marked
partial; export adds nothing). A closed output (| head) ends quietly with 0.
On a terminal, tables fit its width (--wide: never cut), colour follows --color, NO_COLOR and FORCE_COLOR,
and reading a long capture shows progress on stderr (not in pipes or CI; -q silences it).
Captures may be pcap or pcapng (also gzip-compressed); '-' reads standard input. Commands that take
several captures also take directories (walked for capture files) and --jobs N (worker threads).
summary, streams, fetches, compare and report write what they list to a private directory under TMPDIR as
they read, so that large captures fit in memory (removed at the end; extract uses one inside --out).`);
  registerSummary(program);
  registerCommands(program);
  registerFetches(program);
  registerExtract(program);
  registerCompare(program);
  registerCheck(program);
  registerReport(program);
  registerStreams(program);
  registerFollow(program);
  registerFields(program);
  registerExport(program);
  registerSql(program);
  for (const cmd of program.commands) cmd.configureOutput({ outputError: (message, write) => write(oneLineError(message, helpHint(cmd.name()))) });
  program.hook('preAction', (_program, action) => output.configure(action.name(), action.opts() as TerminalFlags));
  return program;
}

/** commander's "error: unknown option '--jsn'\n(Did you mean --json?)" as one line in our voice, with the help hint. */
export function oneLineError(message: string, hint: string): string {
  const text = message.trim().replace(/^error: /, '').replace(/\s*\n\((Did you mean [^)]*)\)/, (_m, s: string) => ` (${s[0]!.toLowerCase()}${s.slice(1)})`);
  return `imapscope: ${text.replace(/\s*\n\s*/g, ' ')}; ${hint}\n`;
}
