/*
 * Building blocks of the page. Every text goes in as a text node or an attribute value, never as markup:
 * nothing from the capture can become an element, an attribute or a script.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttrs(node: Element, attrs: Attrs | undefined): void {
  if (!attrs) return;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(node: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** An HTML element with attributes and children (strings become text nodes). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** An SVG element; `title` becomes its tooltip text. */
function svgEl(tag: string, attrs?: Attrs, title?: string): SVGElement {
  const node = document.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(node, attrs);
  if (title !== undefined) {
    const t = document.createElementNS(SVG_NS, 'title');
    t.textContent = title;
    node.appendChild(t);
  }
  return node;
}

function formatMs(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Seconds since the capture's first frame. */
function formatOffset(s: number | null): string {
  return s === null ? '' : `+${s.toFixed(3)} s`;
}

function formatBytes(n: number | null): string {
  if (n === null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A span of seconds in the unit that reads best. */
function formatSpan(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function statusClass(status: ExchangeData['status']): string {
  return status === 'OK' ? 'st-ok' : status === 'NO' ? 'st-no' : status === 'BAD' ? 'st-bad' : 'st-inc';
}

function statusText(status: ExchangeData['status']): string {
  return status ?? 'incomplete';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A heading with a section id the page's navigation links to. */
function sectionHeading(level: 'h2' | 'h3', id: string, text: string): HTMLHeadingElement {
  return el(level, { id, tabindex: -1 }, text);
}
