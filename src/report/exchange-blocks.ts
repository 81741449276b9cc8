import type { Exchange } from '../imap/model.js';
import type { ImapMessage } from '../imap/types.js';

/**
 * Holds transcript text per command exchange until the exchange is complete and a filter has decided
 * on it (follow -Y). A command, its continuations and SASL lines, its untagged responses and its tagged
 * answer go to one block; what belongs to no command (greeting, unsolicited data) is left out.
 * Memory: the text of commands still waiting for their answer.
 */
export class ExchangeBlocks {
  private readonly blocks = new Map<string, { frame: number; text: string }[]>();
  private readonly owners = new WeakMap<ImapMessage, Exchange>();
  /**
   * The session completes an exchange while handling its tagged answer, before that message passes
   * here: the decision waits for it (true: print it, false: drop it).
   */
  private readonly awaitingAnswer = new Map<string, boolean>();
  private lastClientTag: string | null = null;

  constructor(private readonly write: (text: string) => void) {}

  /** The session attributed this untagged response to `owner` (it says so before the message passes). */
  owned(msg: ImapMessage, owner: Exchange | null): void {
    if (owner) this.owners.set(msg, owner);
  }

  message(m: ImapMessage, text: string): void {
    const tag = this.tagOf(m);
    if (tag === null) return;
    const decided = this.awaitingAnswer.get(tag);
    if (decided !== undefined && m.side === 'server' && !this.owners.has(m)) {
      this.awaitingAnswer.delete(tag);
      if (decided) this.write(text);
      return;
    }
    const entry = { frame: m.firstFrame, text };
    const block = this.blocks.get(tag);
    if (block) block.push(entry);
    else this.blocks.set(tag, [entry]);
  }

  /** The exchange is complete: print its block if the filter chose it, else forget it. */
  decided(ex: Exchange, chosen: boolean): void {
    if (ex.tag === null) return;
    const block = this.blocks.get(ex.tag);
    this.blocks.delete(ex.tag);
    // In wire order: a command with a literal completes after the "+" sent in its middle.
    if (chosen && block) this.write(block.sort((a, b) => a.frame - b.frame).map((e) => e.text).join(''));
    if (ex.responseFrame !== null) this.awaitingAnswer.set(ex.tag, chosen);
  }

  private tagOf(m: ImapMessage): string | null {
    const first = /^(\S+)/.exec(m.lines[0] ?? '')?.[1] ?? null;
    if (m.side === 'client') {
      // SASL responses and IDLE's DONE ("tag command" has a space, they have none) belong to the command before them.
      if (/^\S+ \S/.test(m.lines[0] ?? '')) this.lastClientTag = first;
      return this.lastClientTag;
    }
    const owner = this.owners.get(m);
    if (owner) return owner.tag;
    if (first === '+') return this.lastClientTag;
    return first === '*' ? null : first;
  }
}
