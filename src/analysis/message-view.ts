import type { Address, MimePart } from '../mime/types.js';
import type { FetchedMessage, SectionFetch } from './fetches.js';
import { LazyList } from '../util/json.js';

/**
 * A fetched message as `fetches --json` shows it: its envelope as three texts and its tree as the flat list of
 * parts the view prints. It is also all that combining the pieces of a message spilled to several runs needs
 * (fetch-runs.ts), so the runs hold views, not whole records: a tree of MimePart objects and a full envelope
 * cost several times as much to write and read back, for nothing the view prints.
 */
export interface MessageView {
  mailbox: string | null;
  uidValidity: number | null;
  uid: number | null;
  seq: number;
  /** Null when the message had no envelope (combining keeps the first one, even one with no date). */
  envelope: { date: string | null; subject: string | null; from: string | null } | null;
  size: number | null;
  internalDate: string | null;
  /** Every part of the tree in flattenParts' order (partViews); null when no tree is known. */
  parts: PartView[] | null;
  structureFrom: FetchedMessage['structureFrom'];
  fetches: FetchList;
}

/**
 * A message's sections in the order they came: an array, or, for a message fetched thousands of times whose pieces
 * were merged from runs, a list kept on disk and read back each time it is walked (fetch-runs.ts, SpooledFetches).
 */
export interface FetchList extends Iterable<SectionFetch> {
  readonly length: number;
}

/** The sections `keep` accepts, in order: an array from an array; from a list on disk, another read from it as it is walked. */
export function filterFetches(fetches: FetchList, keep: (f: SectionFetch) => boolean): FetchList {
  if (Array.isArray(fetches)) return (fetches as SectionFetch[]).filter(keep);
  let length = 0;
  for (const f of fetches) if (keep(f)) length++;
  return new LazyList(length, function* () {
    for (const f of fetches) if (keep(f)) yield f;
  });
}

/**
 * One part as the views print it, whether it could be left unfetched (a leaf that encloses no message), and
 * where it sits in the tree (the HTML report indents by depth).
 */
export interface PartView {
  part: string;
  type: string;
  encoding: string | null;
  size: number | null;
  filename: string | null;
  charset: string | null;
  disposition: string | null;
  leaf: boolean;
  /** Nesting depth (0 for the root). */
  depth: number;
  /** The body enclosed in a message/rfc822 part that shares that part's number. */
  enclosed: boolean;
}

export function messageView(m: FetchedMessage): MessageView {
  const e = m.envelope;
  return {
    mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, seq: m.seq,
    envelope: e ? { date: e.date, subject: e.subject, from: addressText(e.from) } : null,
    size: m.size, internalDate: m.internalDate,
    parts: m.structure ? partViews(m.structure) : null,
    structureFrom: m.structureFrom, fetches: m.fetches,
  };
}

/**
 * Every node of the tree as a PartView, in flattenParts' order (depth first: a multipart before its children, a
 * MESSAGE/RFC822 part before its encapsulated body). Iterative, as flattenParts is: a hostile tree is deep.
 */
export function partViews(root: MimePart): PartView[] {
  const out: PartView[] = [];
  const stack: { p: MimePart; depth: number; enclosed: boolean }[] = [{ p: root, depth: 0, enclosed: false }];
  while (stack.length > 0) {
    const { p, depth, enclosed } = stack.pop()!;
    out.push(partView(p, depth, enclosed));
    for (let i = p.children.length - 1; i >= 0; i--) stack.push({ p: p.children[i]!, depth: depth + 1, enclosed: false });
    if (p.message) stack.push({ p: p.message.body, depth: depth + 1, enclosed: p.message.body.part === p.part });
  }
  return out;
}

function partView(p: MimePart, depth: number, enclosed: boolean): PartView {
  return {
    part: p.part, type: p.type, encoding: p.encoding, size: p.size, filename: p.filename,
    charset: p.params.charset ?? null, disposition: p.disposition?.type ?? null, leaf: isLeaf(p), depth, enclosed,
  };
}

/** A part no fetch of a sub-part can cover: it has no children and encloses no message. */
export function isLeaf(p: MimePart): boolean {
  return p.children.length === 0 && !p.message;
}

export function addressText(list: readonly Address[] | undefined): string | null {
  if (!list || list.length === 0) return null;
  return list.map((a) => (a.name ? `${a.name} <${a.email ?? ''}>` : a.email ?? '')).join(', ');
}

/**
 * The leaves among `parts` (flattened, in tree order) that no fetch covered: neither the part, an ancestor,
 * nor the whole message or its TEXT.
 */
export function uncoveredLeaves<P extends { part: string }>(parts: readonly P[], leaf: (p: P) => boolean, fetches: FetchList): P[] {
  // A part is covered when it or a part it is in was fetched: its number or one of its prefixes at a dot (looked up,
  // not searched for: a message of 20,000 parts fetched one by one made 400 million comparisons).
  let fetched: Set<string> | null = null;
  for (const f of fetches) {
    if (f.how === 'header' || f.how === 'header-fields' || f.how === 'mime' || f.how === 'size') continue;
    if (f.spec.part === '' && (f.spec.text === null || f.spec.text === 'TEXT')) return [];
    if (f.spec.part !== '') (fetched ??= new Set()).add(f.spec.part);
  }
  const covered = (part: string) => {
    if (fetched === null) return false;
    for (let dot = part.indexOf('.'); dot >= 0; dot = part.indexOf('.', dot + 1)) if (fetched.has(part.slice(0, dot))) return true;
    return fetched.has(part);
  };
  return parts.filter((p) => leaf(p) && !covered(p.part));
}
