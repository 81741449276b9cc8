import { TokenReader, renderValues, stringOf, type Value } from './tokens.js';
import type { ImapMessage } from './types.js';

/** A client command, parsed as far as the session and the reports need it. */
export interface Command {
  tag: string;
  /** Upper case, with the UID prefix kept: "UID FETCH". */
  name: string;
  args: Value[];
  /** Arguments for display, with credentials replaced by *** (see redactedArgs). */
  display: string;
  /** Arguments for display with nothing hidden (--show-secrets). */
  displayClear: string;
  /** LOGIN's user name; AUTHENTICATE's is found later from the SASL exchange. */
  user: string | null;
  /** AUTHENTICATE mechanism, upper case. */
  mechanism: string | null;
  /** AUTHENTICATE's initial response (SASL-IR), if sent with the command. */
  initialResponse: string | null;
  /** SELECT / EXAMINE / STATUS / APPEND … mailbox argument (as sent, modified UTF-7). */
  mailbox: string | null;
  malformed: boolean;
  /** The command outgrew what one message keeps (ImapMessage.elided): `args` are its first pieces and its end. */
  elided: boolean;
}

/** Commands of RFC 3501/9051 and the common extensions: used to tell a command line from noise after a gap. */
export const KNOWN_COMMANDS = new Set([
  'CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'AUTHENTICATE', 'LOGIN', 'ENABLE', 'SELECT', 'EXAMINE', 'CREATE',
  'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST', 'LSUB', 'XLIST', 'NAMESPACE', 'STATUS', 'APPEND', 'IDLE',
  'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE', 'SEARCH', 'FETCH', 'STORE', 'COPY', 'MOVE', 'UID', 'ID', 'COMPRESS',
  'GETQUOTA', 'GETQUOTAROOT', 'SETQUOTA', 'GETACL', 'SETACL', 'DELETEACL', 'LISTRIGHTS', 'MYRIGHTS', 'GETMETADATA',
  'SETMETADATA', 'SORT', 'THREAD', 'ESEARCH', 'UNAUTHENTICATE', 'REPLACE', 'NOTIFY', 'CANCELUPDATE', 'X-GM-EXT-1',
  'XAPPLEPUSHSERVICE', 'GENURLAUTH', 'RESETKEY', 'URLFETCH', 'CONVERSIONS', 'CONVERT', 'LANGUAGE', 'COMPARATOR',
]);

/**
 * Each known command's name, alone and after UID, as one string: an exchange keeps its command's name, and a name
 * read off the wire is a string of its own (200,000 open connections waiting for a NOOP held as many "NOOP"s).
 */
const KNOWN_NAMES = new Map<string, string>();
for (const name of KNOWN_COMMANDS) {
  KNOWN_NAMES.set(name, name);
  KNOWN_NAMES.set(`UID ${name}`, `UID ${name}`);
}

/** The names of the commands of RFC 3501/9051 and the common extensions, alone and after UID, as parseCommand names them. */
export const KNOWN_COMMAND_NAMES: ReadonlyMap<string, string> = KNOWN_NAMES;

/** Commands whose first argument is a mailbox name. */
const MAILBOX_COMMANDS = new Set(['SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'STATUS', 'APPEND', 'GETQUOTAROOT', 'GETACL', 'MYRIGHTS']);

/** Ends the display and the shape of a command whose later pieces were counted, not kept. */
export const ELIDED_MARK = ' …';

export function parseCommand(msg: ImapMessage): Command {
  const r = new TokenReader(msg);
  const tag = r.word();
  let name = r.word().toUpperCase();
  if (name === 'UID') name = `UID ${r.word().toUpperCase()}`;
  name = KNOWN_NAMES.get(name) ?? name;
  const args = r.values();
  const base = name.startsWith('UID ') ? name.slice(4) : name;
  const elided = msg.elided !== undefined;
  const cmd: Command = {
    tag, name, args,
    display: '', displayClear: renderValues(args) + (elided ? ELIDED_MARK : ''),
    user: null, mechanism: null, initialResponse: null,
    mailbox: MAILBOX_COMMANDS.has(base) ? stringOf(args[0]) : null,
    malformed: r.malformed, elided,
  };
  if (name === 'LOGIN') cmd.user = stringOf(args[0]);
  if (name === 'AUTHENTICATE') {
    cmd.mechanism = stringOf(args[0])?.toUpperCase() ?? null;
    cmd.initialResponse = stringOf(args[1]);
  }
  cmd.display = redactedArgs(cmd);
  return cmd;
}

/** Arguments for display with every credential replaced: LOGIN's password, AUTHENTICATE's initial response. */
function redactedArgs(cmd: Command): string {
  if (cmd.name === 'LOGIN') return renderValues(cmd.args.slice(0, 1)) + (cmd.args.length > 1 ? ' ***' : '');
  if (cmd.name === 'AUTHENTICATE') return renderValues(cmd.args.slice(0, 1)) + (cmd.args.length > 1 ? ' ***' : '');
  return cmd.displayClear;
}

/** Does a line look like the start of a client command (for resynchronising after a gap)? */
export function looksLikeCommand(line: string): boolean {
  if (line === 'DONE' || line.toUpperCase() === 'DONE') return true;
  const m = /^[\x21-\x7e]+ ([A-Za-z][A-Za-z0-9-]*)(?: |$)/.exec(line);
  if (!m) return false;
  const tag = line.slice(0, line.indexOf(' '));
  if (/[(){%*"\\]/.test(tag)) return false;
  return KNOWN_COMMANDS.has(m[1]!.toUpperCase());
}
