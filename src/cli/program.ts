import { Command, Option } from 'commander';
import { collect } from './options.js';
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

export function buildProgram(): Command {
  const program = new Command('imapscope')
    .description('A Wireshark-style IMAP dissector for pcap and pcapng captures.')
    .version('0.1.0')
    .showHelpAfterError()
    // Before the subcommands are made, so that they inherit it: usage errors throw, and exit 2.
    .exitOverride()
    .addHelpText('after', `
Exit codes: 0 ok, 1 a check failed (check, compare --expect-same), 2 bad usage or unreadable input,
70 an internal error (a bug: please report it with the capture).
Captures may be pcap or pcapng (also gzip-compressed); '-' reads standard input. Commands that take
several captures also take directories (walked for capture files) and --jobs N (worker threads).`);
  registerSummary(program);
  registerCommands(program);
  registerFetches(program);
  registerExtract(program);
  registerCompare(program);
  registerCheck(program);
  registerReport(program);
  registerStreams(program);
  registerFollow(program);
  registerExport(program);
  registerSql(program);
  return program;
}

/** Options every capture-reading command shares. */
export function captureOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--port <list>', 'IMAP server ports, a comma list that replaces the default').default('143,993'))
    .option('--keylog <file>', 'TLS key log (NSS format, SSLKEYLOGFILE) to decrypt IMAPS and STARTTLS; repeatable. Keys embedded in pcapng are used too', collect);
}

/** `--jobs N` for commands that take several captures: they are analysed in parallel worker threads. */
export function jobsOption(cmd: Command): Command {
  return cmd.option('--jobs <n>', 'captures analysed at once in worker threads (default: the number of cores); output is the same for any n');
}
