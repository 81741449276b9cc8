import { ELIDED_MARK, type Command } from './command.js';
import type { Value } from './tokens.js';

/** Commands whose first argument is a mailbox name: that name is behaviour, kept in the shape. */
const MAILBOX_FIRST = new Set(['SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'STATUS', 'APPEND', 'COPY', 'MOVE', 'LIST', 'LSUB', 'XLIST']);
const SEQUENCE_SET = /^(\d+|\*|\$)([:,](\d+|\*))*$/;
const DATE = /^"?\d{1,2}-[A-Za-z]{3}-\d{4}/;

/**
 * A command with everything that varies between runs of the same client abstracted away: tags, user
 * names and passwords, UID and sequence sets, dates, literal contents. Mailbox names and item lists stay:
 * they are what a client chooses to do.
 */
export function commandShape(cmd: Command): string {
  const base = cmd.name.replace(/^UID /, '');
  if (cmd.name === 'LOGIN') return 'LOGIN <user> <password>';
  if (cmd.name === 'AUTHENTICATE') return `AUTHENTICATE ${cmd.mechanism ?? '?'}${cmd.args.length > 1 ? ' <initial-response>' : ''}`;
  const parts = cmd.args.map((v, i) => shapeOf(v, isMailboxArg(base, i)));
  return [cmd.name, ...parts].join(' ') + (cmd.elided ? ELIDED_MARK : '');
}

/** Which arguments name mailboxes (or LIST patterns): kept as sent, case and all. */
function isMailboxArg(base: string, i: number): boolean {
  if (!MAILBOX_FIRST.has(base)) return false;
  if (base === 'COPY' || base === 'MOVE') return i === 1;
  if (base === 'LIST' || base === 'LSUB' || base === 'XLIST' || base === 'RENAME') return i <= 1;
  return i === 0;
}

function shapeOf(v: Value, mailbox: boolean): string {
  switch (v.kind) {
    case 'nil': return 'NIL';
    case 'list': return `(${v.items.map((x) => shapeOf(x, false)).join(' ')})`;
    case 'string':
      if (mailbox) return JSON.stringify(v.text);
      if (v.literal) return '<literal>';
      return DATE.test(v.text) ? '<date>' : '<string>';
    case 'atom':
      if (mailbox) return JSON.stringify(v.text);
      if (SEQUENCE_SET.test(v.text)) return '<set>';
      if (DATE.test(v.text)) return '<date>';
      return v.text.toUpperCase();
  }
}
