import chalk from 'chalk';
import type { Comparison } from '../compare/diff.js';
import type { BehaviourProfile } from '../compare/profile.js';
import { escapeText } from '../util/escape.js';
import { bytesHuman, makeTable } from './format.js';

/** JSON twin of compare (schema: docs/schema/compare.schema.json). */
export function compareJson(profiles: readonly BehaviourProfile[], comparisons: readonly Comparison[]): object {
  const first = comparisons[0];
  return {
    same: comparisons.every((c) => c.same),
    differences: comparisons.length === 1 ? first!.differences : comparisons.flatMap((c) => c.differences.map((d) => ({ ...d, between: [c.a, c.b] }))),
    comparisons,
    profiles,
  };
}

export function compareText(profiles: readonly BehaviourProfile[], comparisons: readonly Comparison[]): string {
  const out: string[] = [];
  const table = makeTable(['', ...profiles.map((p) => ({ head: escapeText(p.label), shrink: 1 }))]);
  const row = (name: string, f: (p: BehaviourProfile) => string) => table.push([name, ...profiles.map(f)]);
  row('connections', (p) => String(p.connections.length));
  row('most at once', (p) => String(p.maxConcurrent));
  row('client ID', (p) => escapeText(p.clientIds.join(', ')));
  row('authentication', (p) => p.authMechanisms.join(', '));
  row('extensions', (p) => p.extensions.join(' '));
  row('commands per connection', (p) => p.connections.map((c) => c.commands.length).join(' / '));
  row('FETCH commands', (p) => String(p.connections.reduce((n, c) => n + c.fetches.length, 0)));
  row('bytes C→S / S→C', (p) => `${bytesHuman(p.bytes.client)} / ${bytesHuman(p.bytes.server)}`);
  out.push(table.toString());
  for (const c of comparisons) {
    out.push(c.same
      ? chalk.green(`${escapeText(c.a)} and ${escapeText(c.b)} behave the same (${c.sameAspects.length} aspects compared; accounts, tags, UIDs and times do not count).`)
      : chalk.red(`${escapeText(c.a)} and ${escapeText(c.b)} behave differently in ${c.differences.length} way(s):`));
    for (const d of c.differences) {
      out.push(`  ${chalk.bold(escapeText(d.what))}`);
      out.push(`    a: ${escapeText(JSON.stringify(d.a))}`);
      out.push(`    b: ${escapeText(JSON.stringify(d.b))}`);
    }
    if (!c.same && c.sameAspects.length) out.push(`  the same: ${escapeText(c.sameAspects.join('; '))}`);
  }
  return `${out.join('\n')}\n`;
}
