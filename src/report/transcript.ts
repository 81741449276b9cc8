import chalk from 'chalk';
import type { ImapMessage } from '../imap/types.js';
import type { TimePoint } from '../tcp/types.js';
import { escapeBytes, escapeText } from '../util/escape.js';
import { secondsBetween } from '../util/time.js';
import { paintStatus } from './format.js';

export interface TranscriptView {
  /** Show literal contents instead of {n bytes}. */
  full: boolean;
  showSecrets: boolean;
  t0: TimePoint | null;
}

/** A message as transcript lines: `C:`/`S:` prefixes, literals folded, credentials hidden, wire text escaped. */
export function transcriptLines(m: ImapMessage, view: TranscriptView): string[] {
  const who = m.side === 'client' ? chalk.green('C:') : chalk.blue('S:');
  const stamp = chalk.dim(`${String(m.firstFrame).padStart(6)} ${view.t0 ? secondsBetween(view.t0, m.start).toFixed(3).padStart(9) : ''}`);
  // A tagged NO or BAD answer stands out as it does in the commands table.
  const status = m.side === 'server' ? /^[^\s*+]+ (NO|BAD)\b/i.exec(m.lines[0] ?? '')?.[1]?.toUpperCase() : undefined;
  const colour = m.side === 'client' ? chalk.green : (s: string) => (status ? paintStatus(status, s) : s);
  if (m.redacted !== undefined && !view.showSecrets) return [`${stamp} ${who} ${colour(escapeText(m.redacted))}`];
  const out: string[] = [];
  // A later instalment of a long FETCH response (ImapMessage.instalment) goes on from the one before.
  let current = m.instalment !== undefined && m.instalment.index > 0 ? '…' : '';
  const last = m.lines.length - 1;
  m.lines.forEach((line, i) => {
    const lit = m.literals[i];
    // What a message too long to keep whole read and did not keep lies before its last line.
    if (i === last && m.elided) current += chalk.dim(` {… ${m.elided.literals} more literals, ${m.elided.octets} bytes, not kept}`);
    // The {n} announcement is replaced by what the literal was.
    current += escapeText(lit ? line.replace(/~?\{\d+[+-]?\}$/, '') : line);
    if (!lit) return;
    if (view.full && lit.data) {
      out.push(current);
      current = '';
      for (const l of lit.data.toString('latin1').split('\n')) out.push(chalk.dim('    | ') + escapeBytes(Buffer.from(l.replace(/\r$/, ''), 'latin1')));
    } else {
      current += chalk.dim(lit.refused ? `{${lit.length} bytes, not sent: the server refused the literal}`
        : `{${lit.length} bytes${lit.received < lit.length ? `, only ${lit.received} captured` : ''}}`);
    }
  });
  if (current !== '' || out.length === 0) out.push(current);
  const damaged = m.damaged ? chalk.yellow(' [incomplete]') : '';
  return out.map((l, i) => (i === 0 ? `${stamp} ${who} ${colour(l)}${damaged}` : `${' '.repeat(17)}${colour(l)}`));
}

export function markerLine(frame: number, text: string, side: string | null): string {
  return chalk.yellow(`${String(frame).padStart(6)}           -- ${side ? `${side}: ` : ''}${text} --`);
}
