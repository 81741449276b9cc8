import type { Command } from 'commander';
import { captureOptions, jobsOption, lazyAction } from '../common-options.js';

/** Repeatable options: no default given, so help shows none; absent means []. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerCheck(program: Command): void {
  jobsOption(captureOptions(program.command('check')
    .description('assertions about the IMAP trace for CI (connections, concurrency, BAD/NO, completion, clear-text auth, latency, commands, capabilities, sequences); exit 1 when one fails')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--rules <file>', 'rules file, JSON or YAML (format: docs/check.md)')
    .option('--max-connections <n>', 'at most n IMAP connections')
    .option('--max-concurrent <n>', 'at most n IMAP connections open at once')
    .option('--no-bad', 'no command answered BAD')
    .option('--forbid-no', 'no command answered NO (except those named by --allow-no)')
    .option('--allow-no <command>', 'with --forbid-no: NO is fine for this command (repeatable; implies --forbid-no)', collect)
    .option('--all-completed', 'every command got its tagged response')
    .option('--no-plaintext-auth', 'no LOGIN / AUTHENTICATE PLAIN or LOGIN outside TLS')
    .option('--require-command <name>', 'this command appears (repeatable; e.g. LOGOUT, "UID FETCH")', collect)
    .option('--forbid-command <name>', 'this command never appears (repeatable)', collect)
    .option('--require-capability <cap>', 'the server announces this capability on every connection where its capabilities are visible (repeatable)', collect)
    .option('--require-sequence <c1,c2,...>', 'these commands appear in this order (not necessarily adjacent) in some connection (repeatable)', collect)
    .option('--forbid-sequence <c1,c2,...>', 'these commands never appear in this order in any connection (repeatable)', collect)
    .option('--max-latency <name[:stat]=ms>', 'latency bound, e.g. SELECT=200 (max), "UID FETCH:p95=500"; stat p50, p95, p99, pN or max (repeatable)', collect)
    .option('--allow-encrypted', 'rules about commands pass on what is visible even when connections were TLS without keys (by default they fail: --keylog shows them)')
    .option('--json', 'JSON result: {passed, captures, results: [{rule, passed, message, failures}]}')
    .option('--junit <file>', 'also write a JUnit XML report to this file (one testsuite per capture, one testcase per rule)')
    .option('--annotate', 'GitHub Actions ::error lines for each failure (on stderr with --json)')
    .option('-Y, --filter <expr>', 'check only the command exchanges this display filter selects, and the connections that have one (Wireshark syntax; imapscope fields)')))
    .action(lazyAction(async () => (await import('../run/check.js')).runCheck));
}
