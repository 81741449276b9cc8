import type { ImapConnection } from '../imap/model.js';
import type { TcpOverview } from '../tcp/tracker.js';

/** How much of the IMAP traffic could be read: what a report must say before its numbers mean anything. */
export interface Visibility {
  imapConnections: number;
  /** TLS connections whose IMAP stayed unreadable (no key for them, or decryption failed). */
  encrypted: number;
  /** Of those, how many had a key log to try (and so failed for another reason). */
  encryptedWithKeys: number;
  /** One plain sentence when something could not be read, else null. */
  notice: string | null;
}

/** TLS that was never decrypted: after it, nothing of the connection's IMAP could be read. */
export function isUnreadable(c: ImapConnection): boolean {
  return c.tls !== null && !c.tls.decrypted;
}

export function visibility(connections: readonly ImapConnection[], tcp: TcpOverview, ports: readonly number[], haveKeys: boolean): Visibility {
  const tally = new VisibilityTally();
  for (const c of connections) tally.add(c);
  return tally.visibility(tcp, ports, haveKeys);
}

/**
 * Visibility counted one connection at a time as each ends, so that a reader that does not keep the
 * connection records (commands, streaming) still says what could not be read.
 */
export class VisibilityTally {
  private imap = 0;
  private unreadable = 0;
  private unreadableWithKeys = 0;

  add(c: ImapConnection): void {
    this.imap++;
    if (!isUnreadable(c)) return;
    this.unreadable++;
    if (c.tls?.decryptionNote) this.unreadableWithKeys++;
  }

  visibility(tcp: TcpOverview, ports: readonly number[], haveKeys: boolean): Visibility {
    return {
      imapConnections: this.imap,
      encrypted: this.unreadable,
      encryptedWithKeys: this.unreadableWithKeys,
      notice: this.imap === 0 ? noImapNotice(tcp, ports) : encryptedNotice(this.unreadable, this.imap, haveKeys),
    };
  }
}

function noImapNotice(tcp: TcpOverview, ports: readonly number[]): string {
  const on = `on port${ports.length === 1 ? '' : 's'} ${ports.join(', ')}`;
  if (tcp.conversations === 0) return `no IMAP traffic ${on}: the capture holds no TCP at all`;
  const seen = tcp.topServerPorts.map((p) => `${p.port} (${p.conversations} conversation${p.conversations === 1 ? '' : 's'})`).join(', ');
  return `no IMAP traffic ${on}; the TCP server ports seen most: ${seen}. If the server listens elsewhere, name its port with --port`;
}

function encryptedNotice(encrypted: number, total: number, haveKeys: boolean): string | null {
  if (encrypted === 0) return null;
  const which = encrypted === total ? (total === 1 ? 'the IMAP connection is' : `all ${total} IMAP connections are`) : `${encrypted} of ${total} IMAP connections are`;
  const how = haveKeys
    ? 'the key log had no usable key for them (see the warnings)'
    : 'give the client\'s TLS key log with --keylog (or a pcapng with embedded secrets) to read them';
  return `${which} TLS-encrypted and could not be read: ${how}`;
}
