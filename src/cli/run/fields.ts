import { FIELDS } from '../../filter/fields.js';
import { makeTable } from '../../report/format.js';
import { output } from '../output.js';

export function runFields(opts: { json?: boolean }): void {
  if (opts.json) {
    output.write(`${JSON.stringify(FIELDS.map(({ get: _get, ...f }) => f), null, 2)}\n`);
    return;
  }
  const table = makeTable(['field', 'type', 'level', 'meaning', 'JSON key', 'also']);
  for (const f of FIELDS) table.push([f.name, f.type, f.level, f.description, f.json ?? '', f.aliases.join(' ')]);
  output.write(`${table.toString()}
Levels: connection fields apply everywhere (streams too); exchange fields to commands, summary, check, fetches and follow.
Durations are seconds (imap.latency > 0.1, or write 100ms, 1.5s); JSON's latencyMs is milliseconds.
`);
}
