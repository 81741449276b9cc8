import { Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type * as Mailsplit from '@zone-eu/mailsplit';
import { lazyRequire } from '../util/lazy-require.js';
import type { MimePart } from './types.js';

/** The MIME splitter loads with the first message fetched whole, not at start-up. */
const mailsplit = lazyRequire<typeof Mailsplit>('@zone-eu/mailsplit');

/** What mailsplit tells us about one MIME node (the fields we read). */
interface SplitNode {
  contentType: string | false;
  multipart: string | false;
  encoding: string | false;
  filename: string | false;
  charset: string | false;
  disposition: string | false;
  rfc822: boolean;
  parentNode: SplitNode | false | undefined;
}

/**
 * The MIME tree of a whole message, for messages fetched with BODY[] and no BODYSTRUCTURE: parsed by
 * mailsplit (a well-kept streaming MIME splitter), numbered the way IMAP numbers BODYSTRUCTURE parts.
 * Sizes are the body octets as they appear in the message (encoded), like BODYSTRUCTURE's.
 */
export async function structureFromMessage(raw: Buffer): Promise<MimePart | null> {
  return (await splitMessage(raw))?.root ?? null;
}

/**
 * Split a message into its MIME nodes: the numbered tree, the nodes in document order, and each node's
 * body octets (still transfer-encoded) handed to `onBody` as they stream past, by document index.
 */
export async function splitMessage(source: Buffer | Readable, onBody?: (index: number, chunk: Buffer) => void): Promise<{ root: MimePart; nodes: MimePart[] } | null> {
  const parts = new Map<SplitNode, MimePart>();
  const index = new Map<SplitNode, number>();
  const order: SplitNode[] = [];
  const splitter = new (mailsplit().Splitter)();
  splitter.on('data', (chunk: unknown) => {
    const c = chunk as { type: string; node?: SplitNode; value?: Buffer } & SplitNode;
    if (c.type === 'node') {
      index.set(c, order.length);
      order.push(c);
      parts.set(c, toPart(c));
    } else if (c.type === 'body' && c.node && c.value) {
      const p = parts.get(c.node);
      if (p) p.size = (p.size ?? 0) + c.value.length;
      onBody?.(index.get(c.node)!, c.value);
    }
  });
  try {
    if (Buffer.isBuffer(source)) {
      splitter.end(source);
      await finished(splitter);
    } else {
      await pipeline(source, splitter, new Writable({ objectMode: true, write: (_c, _e, done) => done() }));
    }
  } catch {
    return null; // not a parseable message: no tree rather than a wrong one
  }
  const root = order[0];
  if (!root) return null;
  for (const node of order.slice(1)) {
    const parent = node.parentNode ? parts.get(node.parentNode) : undefined;
    const part = parts.get(node)!;
    if (!parent) continue;
    if (parent.type === 'message/rfc822') parent.message = { envelope: null, body: part };
    else parent.children.push(part);
  }
  number(parts.get(root)!, '');
  return { root: parts.get(root)!, nodes: order.map((n) => parts.get(n)!) };
}

function toPart(n: SplitNode): MimePart {
  const type = n.contentType || 'text/plain';
  const leaf = !n.multipart && !n.rfc822;
  return {
    part: '', type, params: n.charset ? { charset: n.charset } : {}, id: null, description: null,
    encoding: n.multipart ? null : (n.encoding || '7bit'), size: leaf ? 0 : null, lines: null, md5: null,
    disposition: n.disposition ? { type: n.disposition, params: {} } : null, filename: n.filename || null,
    language: null, location: null, children: [], message: null,
  };
}

/** IMAP numbering (RFC 9051 §6.4.5): see mime/bodystructure.ts for the same rules on BODYSTRUCTURE. */
function number(p: MimePart, prefix: string, enclosed = false): void {
  if (p.type.startsWith('multipart/')) {
    p.part = prefix;
    p.children.forEach((c, i) => number(c, prefix ? `${prefix}.${i + 1}` : String(i + 1)));
    return;
  }
  // A single-part body is part 1 of its message (the top level, or a message/rfc822 part).
  p.part = prefix === '' || enclosed ? (prefix ? `${prefix}.1` : '1') : prefix;
  if (p.message) number(p.message.body, p.part, true);
}
