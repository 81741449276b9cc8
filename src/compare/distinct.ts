import type { Warning } from '../capture/types.js';
import { KNOWN_COMMAND_NAMES } from '../imap/command.js';
import { CappedNames, cappedNamesText, quotedName } from '../util/capped-names.js';

/**
 * Command shapes and FETCH item sets compare tells apart, per capture: a client that names a mailbox or a header field
 * of its own in each command makes a shape of its own each time, and each was kept, with the sequences that hold it
 * (200,000 such FETCH commands took `compare --json` to 335 MiB).
 */
export const MAX_SHAPES = 10_000;
export const MAX_ITEM_SETS = 10_000;

/** What distinctShapes().row gives past the cap; the shape compared is then the command's name and " …". */
export const OTHER_SHAPES = '(other shapes)';
export const OTHER_ITEM_SETS = '(other item sets)';

/** A command without arguments is its own shape, however many others there are. */
export function distinctShapes(): CappedNames {
  return new CappedNames(MAX_SHAPES, OTHER_SHAPES, KNOWN_COMMAND_NAMES);
}

export function distinctItemSets(): CappedNames {
  return new CappedNames(MAX_ITEM_SETS, OTHER_ITEM_SETS);
}

export function otherShapesWarning(shape: string, name: string): string {
  return `${cappedNamesText(MAX_SHAPES, 'command shapes')} (the cap on those compare tells apart): ${quotedName(shape)} and every later new one are compared by their command's name alone, as ${JSON.stringify(`${name} …`)}`;
}

export function otherItemSetsWarning(items: string): string {
  return `${cappedNamesText(MAX_ITEM_SETS, 'FETCH item sets')} (the cap on those compare tells apart): ${quotedName(items)} and every later new one are compared as one, "${OTHER_ITEM_SETS}"`;
}

/**
 * Client names (ID's name and version), AUTHENTICATE mechanisms and extensions named by ENABLED that compare tells apart,
 * per capture. Each is read off the wire, and a connection's traits are kept once per distinct combination: 100,000
 * sessions of a client name each took `compare --json` from 109 to 169 MiB, and its text to a table cell of every name.
 */
export const MAX_CLIENT_NAMES = 1_000;
export const MAX_AUTH_MECHANISMS = 100;
export const MAX_ENABLED_NAMES = 100;

/**
 * SASL mechanisms in common use (IANA's registry, and LOGIN, which the session also names a LOGIN command by): each
 * always told apart, however many others a capture names.
 */
const KNOWN_MECHANISMS = new Set([
  'LOGIN', 'PLAIN', 'ANONYMOUS', 'EXTERNAL', 'CRAM-MD5', 'DIGEST-MD5', 'GSSAPI', 'GSS-SPNEGO', 'NTLM', 'XOAUTH2', 'OAUTHBEARER',
  'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-512-PLUS',
]);

/** What each gives past its cap. */
export const OTHER_CLIENTS = '(other clients)';
export const OTHER_MECHANISMS = '(other mechanisms)';
/** A profile lists an enabled extension as "ENABLE NAME": these as "ENABLE …". */
export const OTHER_ENABLED = '…';

/** A connection's traits as compare keeps them: its names past the caps pooled, with a warning at each cap's first. */
export class DistinctTraits {
  private readonly clients = new CappedNames(MAX_CLIENT_NAMES, OTHER_CLIENTS);
  private readonly mechanisms = new CappedNames(MAX_AUTH_MECHANISMS, OTHER_MECHANISMS, KNOWN_MECHANISMS);
  /** By the name in upper case: a profile lists them so, and ENABLED's names are not case-sensitive. */
  private readonly enabledNames = new CappedNames(MAX_ENABLED_NAMES, OTHER_ENABLED);

  constructor(private readonly warn: (w: Warning) => void) {}

  clientName(name: string | null, conn: number): string | null {
    return name === null ? null : this.told(this.clients, name, name, conn, 'client names (ID\'s name and version)');
  }

  authMechanism(mechanism: string | null, conn: number): string | null {
    return mechanism === null ? null : this.told(this.mechanisms, mechanism, mechanism, conn, 'authentication mechanisms');
  }

  /** The list itself while every name is told apart (the session's lists are shared), else a list with the others pooled. */
  enabled(names: readonly string[], conn: number): readonly string[] {
    let kept: string[] | null = null;
    for (let i = 0; i < names.length; i++) {
      const told = this.told(this.enabledNames, names[i]!.toUpperCase(), names[i]!, conn, 'extensions enabled');
      if (told !== names[i] && kept === null) kept = names.slice(0, i);
      if (kept !== null && !kept.includes(told)) kept.push(told);
    }
    return kept ?? names;
  }

  /** `name`, or the tally's other row past its cap (`key` is what the tally counts). */
  private told(names: CappedNames, key: string, name: string, conn: number, what: string): string {
    const row = names.row(key);
    if (row !== names.other) return name;
    if (names.firstPooled(row)) {
      this.warn({ frame: null, conn, message: `${cappedNamesText(names.max, what)} (the cap on those compare tells apart): ${quotedName(name)} and every later new one are compared as one, "${names.other}"` });
    }
    return row;
  }
}
