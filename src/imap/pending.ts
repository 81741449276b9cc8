import type { Claimant } from './attribution.js';

/** Commands outstanding on one connection at most; past it the oldest is given up as unanswered. */
export const MAX_PENDING_COMMANDS = 4096;

/**
 * The commands of one connection that await their tagged completion, oldest first, with their tags
 * counted so that a tag lookup on a long pipeline costs nothing when the tag is not outstanding.
 */
export class PendingCommands<T extends Claimant> {
  private items: T[] = [];
  private readonly tags = new Map<string, number>();

  constructor(private readonly cap = MAX_PENDING_COMMANDS) {}

  get length(): number {
    return this.items.length;
  }

  /** Oldest first; valid until the next change. */
  get list(): readonly T[] {
    return this.items;
  }

  hasTag(tag: string | null): boolean {
    return tag !== null && this.tags.has(tag);
  }

  /** Add a command; returns the oldest one when the cap pushed it out. */
  add(item: T): T | undefined {
    this.items.push(item);
    this.count(item.tag, 1);
    if (this.items.length <= this.cap) return undefined;
    const evicted = this.items.shift()!;
    this.count(evicted.tag, -1);
    return evicted;
  }

  /** Remove and return the oldest command with this tag (a reused tag answers the command sent first). */
  takeByTag(tag: string): T | undefined {
    if (!this.tags.has(tag)) return undefined;
    const at = this.items.findIndex((p) => p.tag === tag);
    const [item] = this.items.splice(at, 1);
    this.count(tag, -1);
    return item;
  }

  find(predicate: (item: T) => boolean): T | undefined {
    return this.items.find(predicate);
  }

  /** Remove everything, oldest first. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    this.tags.clear();
    return all;
  }

  private count(tag: string | null, delta: number): void {
    if (tag === null) return;
    const n = (this.tags.get(tag) ?? 0) + delta;
    if (n > 0) this.tags.set(tag, n);
    else this.tags.delete(tag);
  }
}
