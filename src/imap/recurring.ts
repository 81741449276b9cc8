import { Interner, ListInterner } from '../util/intern.js';

/**
 * One copy of what recurs across the connections of a capture: capability lists, flag lists, greeting
 * texts, mailbox and user names. Every connection record is kept until the end of the capture, and
 * folder-sync traffic makes thousands of them that say the same things; each also cut its strings from
 * wire lines, which kept those whole lines alive. Lists handed out are shared and frozen.
 */
export class RecurringValues {
  private readonly lists = new ListInterner();
  private readonly texts = new Interner<string>((key) => key);
  /** Space-separated word lists (a CAPABILITY response code) by their text: no list made to look them up. */
  private readonly spaced = new Interner<string[]>((key) => this.list(key.split(' ').filter(Boolean)));
  /**
   * Command tags: a client numbers the commands of each connection the same way ("a1", "a2", …), so an outstanding
   * command of every idle connection held a copy of "a3". A table of their own: a client whose tags never recur
   * (a counter across connections) empties it, not the one of names and texts.
   */
  private readonly tags = new Interner<string>((key) => key);

  list(words: readonly string[]): string[] {
    return this.lists.get(words);
  }

  /** The words of `text`, separated by spaces, as the shared list. */
  words(text: string): string[] {
    return this.spaced.get(text);
  }

  text(s: string): string {
    return this.texts.get(s);
  }

  tag(s: string): string {
    return this.tags.get(s);
  }
}
