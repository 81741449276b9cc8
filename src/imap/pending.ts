import type { Claimant } from './attribution.js';

/** Commands outstanding on one connection at most; past it the oldest is given up as unanswered. */
export const MAX_PENDING_COMMANDS = 4096;
/**
 * Characters of text (Claimant.held) the commands outstanding on one connection keep at most; past it the oldest are
 * given up too. 4,096 commands of a long UID set each (a line of 64 KiB, never answered: a capture of the client's side
 * only) kept 256 MiB.
 */
export const MAX_PENDING_HELD = 16 * 1024 * 1024;

/** Up to this many outstanding commands a tag is looked up by scanning them; beyond, by an index. */
const SCAN_LIMIT = 8;

/** The list while at most one command is outstanding: one shared empty array, not one per connection. */
const NONE: never[] = Object.freeze([]) as never[];

/** The caps of PendingCommands: one shared object, not two numbers in every connection's list. */
export interface PendingLimits {
  commands: number;
  held: number;
}

export const DEFAULT_PENDING_LIMITS: PendingLimits = Object.freeze({ commands: MAX_PENDING_COMMANDS, held: MAX_PENDING_HELD });

/** What a list of two or more outstanding commands counts: their text, and their tags once past scanning. */
interface Many {
  held: number;
  /** Outstanding commands per tag, while more than SCAN_LIMIT are outstanding; null otherwise. */
  tags: Map<string, number> | null;
}

/**
 * The commands of one connection that await their tagged completion, oldest first. On a long pipeline
 * their tags are counted, so that a tag lookup costs nothing when the tag is not outstanding; the usual
 * one or two commands are scanned instead (an index per open connection would cost more than they do).
 * A single outstanding command (an IDLE, a command waiting for its answer) is held without a list, and without a
 * count of its text: one alone is never given up for its length.
 */
export class PendingCommands<T extends Claimant> {
  /** The only outstanding command; null when none is, or when `items` holds them (from the second one on). */
  private one: T | null = null;
  private items: T[] = NONE;
  /** While `items` holds any: what they count. */
  private many: Many | null = null;

  constructor(private readonly limits: PendingLimits = DEFAULT_PENDING_LIMITS) {}

  get length(): number {
    return this.one !== null ? 1 : this.items.length;
  }

  /** The oldest, or undefined. */
  get first(): T | undefined {
    return this.one ?? this.items[0];
  }

  /** The newest, or undefined. */
  get last(): T | undefined {
    return this.one ?? this.items[this.items.length - 1];
  }

  /** Oldest first; valid until the next change (a list is made when one command is outstanding). */
  get list(): readonly T[] {
    return this.one !== null ? [this.one] : this.items;
  }

  hasTag(tag: string | null): boolean {
    if (tag === null) return false;
    if (this.one !== null) return this.one.tag === tag;
    const tags = this.many?.tags;
    return tags ? tags.has(tag) : this.items.some((p) => p.tag === tag);
  }

  /** Add a command; returns the oldest one when the cap on their number pushed it out. */
  add(item: T): T | undefined {
    if (this.one === null && this.items.length === 0) {
      this.one = item;
      return undefined;
    }
    if (this.one !== null) {
      this.items = [this.one];
      this.many = { held: this.one.held ?? 0, tags: null };
      this.one = null;
    }
    this.items.push(item);
    const many = this.many!;
    many.held += item.held ?? 0;
    if (many.tags) this.count(item.tag, 1);
    else if (this.items.length > SCAN_LIMIT) this.index();
    if (this.items.length <= this.limits.commands) return undefined;
    return this.shift();
  }

  /** While those outstanding keep more than the cap's characters, the oldest but the newest leaves: it, or undefined. */
  shed(): T | undefined {
    return this.many !== null && this.many.held > this.limits.held && this.items.length > 1 ? this.shift() : undefined;
  }

  /** The oldest of two or more leaves. */
  private shift(): T {
    const oldest = this.items.shift()!;
    this.count(oldest.tag, -1);
    this.many!.held -= oldest.held ?? 0;
    return oldest;
  }

  /** Remove and return the oldest command with this tag (a reused tag answers the command sent first). */
  takeByTag(tag: string): T | undefined {
    if (this.one !== null) return this.one.tag === tag ? this.take() : undefined;
    const many = this.many;
    if (many === null || (many.tags && !many.tags.has(tag))) return undefined;
    const at = this.items.findIndex((p) => p.tag === tag);
    if (at < 0) return undefined;
    const [item] = this.items.splice(at, 1);
    this.count(tag, -1);
    many.held -= item!.held ?? 0;
    if (this.items.length === 0) {
      this.items = NONE;
      this.many = null;
    }
    return item;
  }

  find(predicate: (item: T) => boolean): T | undefined {
    if (this.one !== null) return predicate(this.one) ? this.one : undefined;
    return this.items.find(predicate);
  }

  /** The oldest that `predicate` accepts among the `newest` sent last (asked of every continuation request: bounded). */
  findRecent(predicate: (item: T) => boolean, newest: number): T | undefined {
    if (this.one !== null) return predicate(this.one) ? this.one : undefined;
    const items = this.items;
    for (let i = Math.max(0, items.length - newest); i < items.length; i++) if (predicate(items[i]!)) return items[i];
    return undefined;
  }

  /** Remove everything, oldest first. */
  drain(): readonly T[] {
    const all = this.list;
    this.one = null;
    this.items = NONE;
    this.many = null;
    return all;
  }

  /** The only outstanding command leaves. */
  private take(): T {
    const item = this.one!;
    this.one = null;
    return item;
  }

  /** The pipeline grew past scanning: count the tags from here on. */
  private index(): void {
    const tags = (this.many!.tags = new Map());
    for (const p of this.items) if (p.tag !== null) tags.set(p.tag, (tags.get(p.tag) ?? 0) + 1);
  }

  private count(tag: string | null, delta: number): void {
    const tags = this.many?.tags;
    if (tag === null || !tags) return;
    const n = (tags.get(tag) ?? 0) + delta;
    if (n > 0) tags.set(tag, n);
    else tags.delete(tag);
  }
}
