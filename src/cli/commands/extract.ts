import type { Command } from 'commander';
import { analyzeCapture } from '../../analysis/analyzer.js';
import { FetchTracker } from '../../analysis/fetches.js';
import { ExtractError, Extractor } from '../../extract/extractor.js';
import { warningLines } from '../../report/format.js';
import type { LiteralConsumer } from '../../imap/types.js';
import { escapeText } from '../../util/escape.js';
import { UsageError } from '../errors.js';
import { parsePortList } from '../options.js';
import { captureOptions } from '../program.js';

export function registerExtract(program: Command): void {
  captureOptions(program.command('extract')
    .description('write every fetched message and MIME part to a directory, decoded (base64, quoted-printable), with a manifest.json')
    .argument('<capture>', 'capture file (pcap, pcapng, gzip; - for stdin)')
    .requiredOption('--out <dir>', 'directory to write into (created if missing); nothing is written outside it')
    .option('--force', 'overwrite files that exist (never through a link)'))
    .action(async (capture: string, opts: { out: string; force?: boolean; port: string }) => {
      const ports = parsePortList(opts.port);
      let extractor: Extractor;
      try {
        extractor = new Extractor(opts.out, Boolean(opts.force), (m) => process.stderr.write(`imapscope: ${escapeText(m)}\n`));
      } catch (err) {
        if (err instanceof ExtractError) throw new UsageError(err.message);
        throw err;
      }
      const tracker = new FetchTracker({ onSection: (m, f, s) => extractor.section(m, f, s) });
      const analysis = await analyzeCapture(capture, {
        ports,
        onLiteralStart: (msg, lit) => both(tracker.literalStart(msg, lit), extractor.literalStart(msg, lit)),
        onUntagged: (r, msg, owner, info) => tracker.untagged(r, msg, owner, info),
      });
      const files = await extractor.finish(capture);
      for (const line of warningLines(analysis.warnings, capture)) process.stderr.write(`${line}\n`);
      process.stdout.write(`${files.length} file(s) written to ${escapeText(opts.out)} (see manifest.json)\n`);
    });
}

/** Feed a literal to two consumers (hashing and extraction). */
function both(a: LiteralConsumer | null, b: LiteralConsumer | null): LiteralConsumer | null {
  if (!a || !b) return a ?? b;
  return { write: (c) => { a.write(c); b.write(c); }, end: (complete) => { a.end(complete); b.end(complete); } };
}
