/**
 * A mailbox's message sequence numbers and the UIDs learned for them, renumbered as EXPUNGE says, each in O(log n).
 * A list spliced at every EXPUNGE made expunging a mailbox quadratic (200,000 messages: 5.8 s, fourfold per
 * doubling), and a FETCH naming sequence number 4,000,000,000 followed by an EXPUNGE never finished.
 *
 * Until the first EXPUNGE the numbers are a plain list (most sessions never expunge, and a folder sync makes one of
 * these per session). From then on every message the numbering has had takes a slot, in order; an expunged one's
 * slot stays, marked gone, until gone slots outnumber the others (then the slots are rebuilt). Sequence number n is the
 * n-th slot not gone, which a Fenwick tree over the slots' presence finds by descent.
 */
export class SequenceUids {
  /** Before the first EXPUNGE: the UID of each sequence number, at n - 1 (undefined: not learned). Null after it. */
  private list: (number | undefined)[] | null = [];
  /** Each slot's UID (0: not learned; UIDs are 1 to 2^32 - 1). Until the first EXPUNGE, empty ones shared by all. */
  private uids = NO_SLOTS.uids;
  /** 1 while the slot's message is in the mailbox. */
  private alive = NO_SLOTS.alive;
  /** Fenwick tree over `alive`, 1-based: tree[i] counts the present slots in (i - lowbit(i), i]. */
  private tree = NO_SLOTS.tree;
  private slots = 0;
  private present = 0;

  /** The UID learned for sequence number `seq`, or undefined. */
  get(seq: number): number | undefined {
    if (this.list) return this.list[seq - 1];
    if (!(seq >= 1 && seq <= this.present)) return undefined;
    return this.uids[this.slotOf(seq)] || undefined;
  }

  /**
   * Learn `seq`'s UID. The numbering reaches `seq` first (the messages between, UIDs unknown), as far as `exists` (the
   * mailbox's EXISTS, when known) or MAX_AHEAD beyond its end allows, and never beyond MAX_MESSAGES: past that, a
   * number names no message this keeps (false).
   */
  set(seq: number, uid: number, exists = 0): boolean {
    const end = this.list ? this.list.length : this.present;
    if (!Number.isInteger(seq) || seq < 1 || seq > Math.min(MAX_MESSAGES, Math.max(exists, end + MAX_AHEAD))) return false;
    if (this.list) {
      this.list[seq - 1] = uid;
      return true;
    }
    while (this.present < seq) this.append();
    this.uids[this.slotOf(seq)] = uid;
    return true;
  }

  /** `* seq EXPUNGE`: the message leaves, and those after it move down one. */
  expunge(seq: number): void {
    if (this.list) this.toSlots(this.list);
    if (!(seq >= 1 && seq <= this.present)) return;
    const slot = this.slotOf(seq);
    this.alive[slot] = 0;
    for (let i = slot + 1; i < this.tree.length; i += i & -i) this.tree[i]!--;
    this.present--;
    if (this.slots > 1024 && this.slots - this.present > this.present) this.compact();
  }

  /** 0-based slot of the seq-th present message (1 <= seq <= present). */
  private slotOf(seq: number): number {
    let at = 0;
    let left = seq;
    for (let step = topBit(this.tree.length - 1); step > 0; step >>= 1) {
      const next = at + step;
      if (next < this.tree.length && this.tree[next]! < left) {
        at = next;
        left -= this.tree[next]!;
      }
    }
    return at;
  }

  private append(): void {
    if (this.slots === this.uids.length) this.resize(this.uids.length * 2, false);
    this.alive[this.slots++] = 1;
    this.present++;
    for (let i = this.slots; i < this.tree.length; i += i & -i) this.tree[i]!++;
  }

  /** The first EXPUNGE: the list becomes slots, all present. */
  private toSlots(list: (number | undefined)[]): void {
    this.list = null;
    this.uids = new Uint32Array(Math.max(16, list.length * 2));
    for (let i = 0; i < list.length; i++) this.uids[i] = list[i] ?? 0;
    this.alive = new Uint8Array(this.uids.length).fill(1, 0, list.length);
    this.tree = fenwickOver(this.alive);
    this.slots = this.present = list.length;
  }

  /** Gone slots outnumber the present ones: keep the present ones only. */
  private compact(): void {
    this.resize(Math.max(16, this.present * 2), true);
  }

  /** Move the slots into arrays of `capacity` (`dropGone`: leaving out the gone ones) and rebuild the tree, in O(n). */
  private resize(capacity: number, dropGone: boolean): void {
    const uids = new Uint32Array(capacity);
    const alive = new Uint8Array(capacity);
    let slots = 0;
    for (let i = 0; i < this.slots; i++) {
      if (dropGone && !this.alive[i]) continue;
      uids[slots] = this.uids[i]!;
      alive[slots++] = this.alive[i]!;
    }
    this.uids = uids;
    this.alive = alive;
    this.tree = fenwickOver(alive);
    this.slots = slots;
  }
}

/** No slot: what every numbering starts with, never written (the first EXPUNGE makes its own). */
const NO_SLOTS = { uids: new Uint32Array(0), alive: new Uint8Array(0), tree: new Int32Array(1) };

/** Sequence numbers a FETCH may name beyond the numbering's end, when no EXISTS says the mailbox is that large. */
export const MAX_AHEAD = 65_536;
/** Messages a mailbox's numbering keeps at most (9 bytes each). */
export const MAX_MESSAGES = 1 << 22;

/** The Fenwick tree of these counts, in O(n). */
function fenwickOver(counts: Uint8Array): Int32Array<ArrayBuffer> {
  const tree = new Int32Array(counts.length + 1);
  // Every node passes its sum up, the empty ones past the last slot too: a parent beyond them sums what they got.
  for (let i = 1; i <= counts.length; i++) {
    tree[i]! += counts[i - 1]!;
    const parent = i + (i & -i);
    if (parent <= counts.length) tree[parent]! += tree[i]!;
  }
  return tree;
}

/** The highest power of two not above n (n >= 1). */
function topBit(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}
