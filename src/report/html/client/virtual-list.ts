/*
 * A list of fixed-height rows that renders only what is in view once it is long: 5,000 lanes or
 * 100,000 ladder rows cost a few dozen elements. Short lists (most captures) are rendered whole, so they
 * print, search and tab like any page. Before printing, long lists render whole too, up to a cap.
 */

const WHOLE_LIST_LIMIT = 400;
const PRINT_LIMIT = 5000;
const OVERSCAN = 10;

/** Every list on the page, so that printing can render them whole. */
const virtualLists: VirtualList<unknown>[] = [];

class VirtualList<T> {
  private readonly rendered = new Map<number, HTMLElement>();
  private readonly spacer: HTMLElement | null = null;
  private pending = false;
  private printing = false;

  constructor(
    readonly viewport: HTMLElement,
    readonly items: readonly T[],
    readonly rowHeight: number,
    private readonly renderRow: (item: T, index: number) => HTMLElement,
  ) {
    virtualLists.push(this as VirtualList<unknown>);
    viewport.dataset.rows = String(items.length);
    if (items.length <= WHOLE_LIST_LIMIT) {
      const all = document.createDocumentFragment();
      items.forEach((item, i) => all.appendChild(this.row(i, item)));
      viewport.appendChild(all);
      return;
    }
    viewport.classList.add('virtual');
    this.spacer = el('div', { class: 'spacer' });
    this.spacer.style.height = `${items.length * rowHeight}px`;
    viewport.appendChild(this.spacer);
    viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.update();
  }

  get isVirtual(): boolean {
    return this.spacer !== null;
  }

  private row(i: number, item: T): HTMLElement {
    const node = this.renderRow(item, i);
    node.dataset.index = String(i);
    this.rendered.set(i, node);
    return node;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.update();
    });
  }

  /** Render the rows in view (and a few either side); drop the others, unless one holds the focus. */
  update(): void {
    if (!this.spacer || this.printing) return;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.items.length - 1, Math.ceil((top + height) / this.rowHeight) + OVERSCAN);
    for (const [i, node] of this.rendered) {
      if ((i < first || i > last) && !node.contains(document.activeElement)) {
        node.remove();
        this.rendered.delete(i);
      }
    }
    for (let i = first; i <= last; i++) {
      if (this.rendered.has(i)) continue;
      const node = this.row(i, this.items[i]!);
      node.classList.add('placed');
      node.style.top = `${i * this.rowHeight}px`;
      this.spacer.appendChild(node);
    }
  }

  /** Draw every rendered row again (after the available width changed). */
  redraw(): void {
    for (const [i, old] of [...this.rendered]) {
      const node = this.row(i, this.items[i]!);
      node.className = old.className;
      node.style.top = old.style.top;
      old.replaceWith(node);
    }
  }

  /** The row of item i, scrolled into view (rendered first if it was not). */
  reveal(i: number): HTMLElement | null {
    if (i < 0 || i >= this.items.length) return null;
    if (this.spacer) {
      const want = i * this.rowHeight;
      const view = this.viewport.clientHeight || 600;
      if (want < this.viewport.scrollTop || want + this.rowHeight > this.viewport.scrollTop + view) {
        this.viewport.scrollTop = Math.max(0, want - view / 2);
      }
      this.update();
    }
    const node = this.rendered.get(i) ?? null;
    node?.scrollIntoView({ block: 'nearest' });
    return node;
  }

  /** For printing: every row (up to a cap) in normal flow; `false` goes back to rendering what is in view. */
  setPrinting(on: boolean): void {
    if (!this.spacer || on === this.printing) return;
    this.printing = on;
    this.viewport.classList.toggle('virtual', !on);
    for (const node of this.rendered.values()) node.remove();
    this.rendered.clear();
    if (on) {
      this.spacer.style.height = 'auto';
      const count = Math.min(this.items.length, PRINT_LIMIT);
      for (let i = 0; i < count; i++) this.spacer.appendChild(this.row(i, this.items[i]!));
      if (count < this.items.length) this.spacer.appendChild(el('p', { class: 'note' }, `… ${this.items.length - count} more rows not printed`));
    } else {
      this.spacer.replaceChildren();
      this.spacer.style.height = `${this.items.length * this.rowHeight}px`;
      this.update();
    }
  }
}

window.addEventListener('beforeprint', () => virtualLists.forEach((l) => l.setPrinting(true)));
window.addEventListener('afterprint', () => virtualLists.forEach((l) => l.setPrinting(false)));
