/**
 * The option definitions that several commands share. Like the command definitions (commands/*.ts), this
 * module stays light: it is loaded on every invocation, so it imports commander and plain constants only,
 * never code that reads captures or renders output.
 */
import { Option, type Command } from 'commander';
import { TIME_FORMATS } from '../report/time-format.js';
import type { OutputFormat } from './display-options.js';

/** A repeatable option's values, in the order given. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Options every capture-reading command shares. */
export function captureOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--port <list>', 'IMAP server ports, a comma list that replaces the default').default('143,993'))
    .option('--keylog <file>', 'TLS key log (NSS format, SSLKEYLOGFILE) to decrypt IMAPS and STARTTLS; repeatable. Keys embedded in pcapng are used too', collect)
    .addOption(new Option('--color [when]', 'colour: auto (on a terminal, unless NO_COLOR), always, never').choices(['auto', 'always', 'never']))
    .option('--no-color', 'no colour (same as --color never)')
    .option('--wide', 'never cut table cells to the terminal width')
    .option('-q, --quiet', 'no progress line on stderr');
}

/** `--jobs N` for commands that take several captures: they are analysed in parallel worker threads. */
export function jobsOption(cmd: Command): Command {
  return cmd.option('--jobs <n>', 'captures analysed at once, one thread each (default: the number of cores, or 1 when the captures add up to less than 16 MiB); output is the same for any n');
}

/** `-Y, --filter EXPR`: Wireshark display-filter syntax over the exchange model (compiled by display-options.ts). */
export function filterOption(cmd: Command, what = 'command exchanges'): Command {
  return cmd.option('-Y, --filter <expr>', `display filter over ${what}, Wireshark syntax (e.g. 'imap.command == "LOGIN" && imap.latency > 100ms'; fields: imapscope fields)`);
}

/** -T, -e, -E and -t as tshark has them; --json and --ndjson stay as synonyms of -T json / -T ndjson. */
export function outputOptions(cmd: Command, formats: readonly OutputFormat[]): Command {
  return cmd
    .addOption(new Option('-T <format>', 'output format (--json and --ndjson are synonyms of -T json / -T ndjson)').choices(formats))
    .option('-e <field>', 'with -T fields, csv or text: a column of this field (repeatable; imapscope fields lists them)', collect)
    .option('-E <option>', 'with -T fields or csv: header=y|n, separator=/t|/s|<char>, quote=d|s|n, aggregator=<char> (repeatable, or comma-joined)', collect)
    .addOption(new Option('-t <format>', "time column: a absolute, ad with date, d delta, dd delta shown, e epoch, r relative to the capture's first frame (default), u UTC, ud UTC with date").choices([...TIME_FORMATS]).default('r'));
}

/** -w, -F, --redact and --force: write the selected connections to a capture file (write-options.ts does it). */
export function writeOptions(cmd: Command): Command {
  return cmd
    .option('-w <file>', 'with -Y or --conn: write every frame of the selected connections (handshake, retransmissions and all) to this capture file')
    .addOption(new Option('-F <format>', 'format for -w (default: pcapng for .pcapng names, else pcap)').choices(['pcap', 'pcapng']))
    .option('--redact', 'with -w: replace LOGIN passwords and SASL payloads by x of the same length (checksums recomputed)')
    .option('--force', 'with -w: overwrite an existing file; with --redact: write even where TLS or COMPRESS hide credentials');
}

/**
 * A command's action that imports its runner only when the command runs: `--help`, `--version` and the
 * other commands never load that implementation (start-up time, docs/architecture.md).
 */
export function lazyAction<A extends unknown[]>(load: () => Promise<(...args: A) => void | Promise<void>>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const run = await load();
    await run(...args);
  };
}
