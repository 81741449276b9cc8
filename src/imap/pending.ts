import type { Claimant } from './attribution.js';

/** Commands outstanding on one connection at most; past it the oldest is given up as unanswered. */
export const MAX_PENDING_COMMANDS = 4096;

/** Up to this many outstanding commands a tag is looked up by scanning them; beyond, by an index. */
const SCAN_LIMIT = 8;

/** The list while nothing is outstanding: one shared empty array, not one per idle connection. */
const NONE: never[] = Object.freeze([]) as never[];

/**
 * The commands of one connection that await their tagged completion, oldest first. On a long pipeline
 * their tags are counted, so that a tag lookup costs nothing when the tag is not outstanding; the usual
 * one or two commands are scanned instead (an index per open connection would cost more than they do).
 */
export class PendingCommands<T extends Claimant> {
  private items: T[] = NONE;
  /** Outstanding commands per tag, while more than SCAN_LIMIT are outstanding; null otherwise. */
  private tags: Map<string, number> | null = null;

  constructor(private readonly cap = MAX_PENDING_COMMANDS) {}

  get length(): number {
    return this.items.length;
  }

  /** Oldest first; valid until the next change. */
  get list(): readonly T[] {
    return this.items;
  }

  hasTag(tag: string | null): boolean {
    if (tag === null) return false;
    return this.tags ? this.tags.has(tag) : this.items.some((p) => p.tag === tag);
  }

  /** Add a command; returns the oldest one when the cap pushed it out. */
  add(item: T): T | undefined {
    // push() onto an empty array reserves room for 16: most connections have one command outstanding.
    if (this.items.length === 0) this.items = [item];
    else this.items.push(item);
    if (this.tags) this.count(item.tag, 1);
    else if (this.items.length > SCAN_LIMIT) this.index();
    if (this.items.length <= this.cap) return undefined;
    const evicted = this.items.shift()!;
    this.count(evicted.tag, -1);
    return evicted;
  }

  /** Remove and return the oldest command with this tag (a reused tag answers the command sent first). */
  takeByTag(tag: string): T | undefined {
    if (this.tags && !this.tags.has(tag)) return undefined;
    const at = this.items.findIndex((p) => p.tag === tag);
    if (at < 0) return undefined;
    const [item] = this.items.splice(at, 1);
    this.count(tag, -1);
    if (this.items.length === 0) {
      this.items = NONE;
      this.tags = null;
    }
    return item;
  }

  find(predicate: (item: T) => boolean): T | undefined {
    return this.items.find(predicate);
  }

  /** Remove everything, oldest first. */
  drain(): T[] {
    const all = this.items;
    this.items = NONE;
    this.tags = null;
    return all;
  }

  /** The pipeline grew past scanning: count the tags from here on. */
  private index(): void {
    this.tags = new Map();
    for (const p of this.items) this.count(p.tag, 1);
  }

  private count(tag: string | null, delta: number): void {
    if (tag === null || !this.tags) return;
    const n = (this.tags.get(tag) ?? 0) + delta;
    if (n > 0) this.tags.set(tag, n);
    else this.tags.delete(tag);
  }
}
