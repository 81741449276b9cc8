import type { Command } from 'commander';
import { jsonText } from '../../util/json.js';
import { escapeText } from '../../util/escape.js';
import { analyzeWithFetches } from '../../analysis/full.js';
import type { FetchedMessage, FetchStep, SectionFetch } from '../../analysis/fetches.js';
import { fetchesText, messageJson, sectionFetchJson, stepJson } from '../../report/fetches.js';
import { jsonWarnings, writeWarnings } from '../../report/format.js';
import { ConnectionChoice, captureSettings } from '../options.js';
import { captureOptions } from '../program.js';
import { output } from '../output.js';
import { compileFilterOption, filterOption } from '../display-options.js';
import { Selection } from '../selection.js';

interface FetchesOptions { json?: boolean; ndjson?: boolean; conn?: string; filter?: string; port: string; keylog?: string[] }

/** Which exchange a fetch belongs to: connection, tag and request frame. */
function exchangeKey(x: { conn: number; tag: string | null; requestFrame: number | null }): string {
  return `${x.conn}/${x.tag ?? ''}/${x.requestFrame ?? ''}`;
}

export function registerFetches(program: Command): void {
  const cmd = program.command('fetches')
    .description('which messages and which MIME parts were fetched: per message its MIME tree and, per part, who fetched it, how and how many bytes; plus each connection\'s fetch strategy')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--conn <id>', 'only what this connection fetched (tcp.stream id)')
    .option('--json', 'JSON output (schema: docs/schema/fetches.schema.json)')
    .option('--ndjson', 'one JSON object per fetched section, written as the capture streams');
  filterOption(cmd, 'the FETCH exchanges: only what they fetched is shown');
  captureOptions(cmd).action(async (captures: string[], opts: FetchesOptions) => {
    const settings = captureSettings(opts);
    const conn = opts.conn !== undefined ? new ConnectionChoice(opts.conn) : null;
    const filter = compileFilterOption(opts.filter);
    const results = [];
    for (const [, path] of output.inputs(captures)) {
      const selection = new Selection(filter);
      const chosen = new Set<string>();
      // With a filter and --ndjson, a section waits until its exchange is complete and known to match.
      const held = new Map<string, string[]>();
      const emit = (m: FetchedMessage, f: SectionFetch) => `${jsonText({ ...(captures.length > 1 ? { capture: path } : {}), mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, ...sectionFetchJson(f) })}\n`;
      const analysis = await analyzeWithFetches(path, {
        ...settings,
        connections: conn?.accepts,
        onFirstFrame: (t) => { selection.t0 = t; },
        onExchange: filter ? (ex, info) => {
          const key = exchangeKey(ex);
          if (selection.exchange(ex, info)) chosen.add(key);
          const lines = held.get(key);
          held.delete(key);
          if (lines && chosen.has(key)) for (const line of lines) output.write(line);
        } : undefined,
      }, {
        onSection: opts.ndjson
          ? (m, f) => {
            if (!filter) output.write(emit(m, f));
            else held.set(exchangeKey(f), [...(held.get(exchangeKey(f)) ?? []), emit(m, f)]);
          }
          : undefined,
      });
      conn?.requireFound(path);
      const wanted = (x: SectionFetch | FetchStep) => !filter || chosen.has(exchangeKey(x));
      const messages = analysis.fetches.list()
        .map((m) => (filter ? { ...m, fetches: m.fetches.filter(wanted) } : m))
        .filter((m) => !filter || m.fetches.length > 0);
      results.push({ path, messages, steps: analysis.fetches.steps.filter(wanted), warnings: analysis.warnings, notice: analysis.visibility.notice });
    }
    if (opts.ndjson) return;
    if (opts.json) {
      const multi = results.length > 1;
      output.json({
        messages: results.flatMap((r) => r.messages.map((m) => ({ ...(multi ? { capture: r.path } : {}), ...messageJson(m) }))),
        strategy: results.flatMap((r) => r.steps.map((s) => ({ ...(multi ? { capture: r.path } : {}), ...stepJson(s) }))),
        warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (multi ? { capture: r.path, ...w } : w))),
      });
      return;
    }
    for (const r of results) {
      if (results.length > 1) output.write(`${escapeText(r.path)}:\n`);
      if (r.notice) output.write(`${escapeText(r.notice)}\n`);
      output.write(fetchesText(r.messages, r.steps));
      writeWarnings(r.warnings, r.path);
    }
  });
}
