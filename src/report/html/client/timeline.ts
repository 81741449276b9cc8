/*
 * The timeline: one lane per IMAP connection on the capture's time axis, the number open at once drawn
 * above. Commands are marks coloured by status (one mark per 3-pixel column: the worst status wins), IDLE
 * periods are shaded. Hover a mark for its exchange; click a lane (or Enter) to open its ladder;
 * arrow keys move between lanes (up/down) and between a lane's commands (left/right).
 */

const LANE_HEIGHT = 24;
const CHART_HEIGHT = 44;
/** How close (px) the pointer must be to a mark to show it. */
const HOVER_REACH = 4;
/** Width of a mark's column: commands closer than this share one mark, so marks never overlap. */
const MARK_PX = 3;

const SEVERITY: Record<string, number> = { 'st-ok': 0, 'st-inc': 1, 'st-no': 2, 'st-bad': 3 };

class Timeline {
  readonly root: HTMLElement;
  private readonly chart: HTMLElement;
  private readonly lanes: HTMLElement;
  private readonly ruler: HTMLElement;
  private list: VirtualList<ConnectionData> | null = null;
  private width = 0;
  /** Keyboard cursor per connection: the index of the exchange shown. */
  private readonly cursor = new Map<number, number>();

  constructor(private readonly cap: CaptureData, private readonly onOpen: (conn: ConnectionData) => void) {
    this.chart = el('div', { class: 'tl-track' });
    this.lanes = el('div', { class: 'lanes', role: 'list', 'aria-label': `${plural(cap.connections.length, 'connection')}, one lane each` });
    this.ruler = el('div', { class: 'tl-track ruler' });
    this.root = el('div', { class: 'timeline' },
      el('div', { class: 'tl-row tl-chart' }, el('div', { class: 'tl-label' }, 'open at once', el('br'), `max ${cap.maxOpen}`), this.chart),
      this.lanes,
      el('div', { class: 'tl-row tl-axis' }, el('div', { class: 'tl-label' }, 'seconds'), this.ruler));
    this.lanes.addEventListener('pointermove', (e) => this.hover(e));
    this.lanes.addEventListener('pointerleave', hideTooltip);
    this.lanes.addEventListener('click', (e) => {
      const lane = this.laneOf(e.target);
      if (lane) this.onOpen(lane.conn);
    });
    this.lanes.addEventListener('keydown', (e) => this.key(e));
    this.lanes.addEventListener('focusout', hideTooltip);
  }

  /** Draw, once the timeline is in the page (it needs its width), and again whenever the width changes. */
  mount(): void {
    this.draw();
    new ResizeObserver(() => {
      if (Math.round(this.ruler.clientWidth) !== this.width) this.draw();
    }).observe(this.ruler);
  }

  private draw(): void {
    this.width = Math.max(50, Math.round(this.ruler.clientWidth));
    this.chart.replaceChildren(this.openChart());
    this.ruler.replaceChildren(this.axis());
    if (this.list) this.list.redraw();
    else this.list = new VirtualList(this.lanes, this.cap.connections, LANE_HEIGHT, (conn) => this.lane(conn));
  }

  private x(t: number): number {
    return this.cap.spanS > 0 ? (t / this.cap.spanS) * this.width : 0;
  }

  /** The number of connections open over time: per pixel column the most open during it. */
  private openChart(): SVGElement {
    const w = this.width;
    const columns = new Array<number>(w).fill(0);
    const steps = this.cap.open;
    steps.forEach(([t, open], i) => {
      const from = Math.min(w - 1, Math.floor(this.x(t)));
      const to = Math.min(w - 1, Math.floor(this.x(steps[i + 1]?.[0] ?? t)));
      for (let c = from; c <= to; c++) columns[c] = Math.max(columns[c]!, open);
    });
    const max = Math.max(1, this.cap.maxOpen);
    const y = (v: number) => CHART_HEIGHT - (v / max) * (CHART_HEIGHT - 4);
    let d = `M0,${CHART_HEIGHT}`;
    columns.forEach((v, c) => { d += `L${c},${y(v)}L${c + 1},${y(v)}`; });
    d += `L${w},${CHART_HEIGHT}Z`;
    const svg = svgEl('svg', { width: w, height: CHART_HEIGHT, class: 'open-chart', role: 'img', 'aria-label': `at most ${this.cap.maxOpen} connections open at once` });
    svg.appendChild(svgEl('path', { d, class: 'open-area' }));
    svg.appendChild(svgEl('line', { x1: 0, x2: w, y1: y(max), y2: y(max), class: 'open-max' }));
    return svg;
  }

  private axis(): SVGElement {
    const svg = svgEl('svg', { width: this.width, height: 18, class: 'axis', 'aria-hidden': 'true' });
    const span = this.cap.spanS;
    if (span <= 0) return svg;
    const step = niceStep(span / Math.max(1, Math.floor(this.width / 90)));
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    for (let t = 0; t <= span + step / 1e6; t += step) {
      const x = this.x(t);
      svg.appendChild(svgEl('line', { x1: x, x2: x, y1: 0, y2: 4, class: 'tick' }));
      const label = svgEl('text', { x: Math.min(x, this.width - 2), y: 15, 'text-anchor': x < 10 ? 'start' : x > this.width - 30 ? 'end' : 'middle' });
      label.textContent = t.toFixed(digits);
      svg.appendChild(label);
    }
    return svg;
  }

  private lane(conn: ConnectionData): HTMLElement {
    const who = conn.user ?? conn.client;
    const flags = [conn.tls ? 'TLS' : '', conn.compressFrame !== null ? 'Z' : '', conn.cleartextAuth ? '⚠' : ''].filter(Boolean).join(' ');
    const lane = el('div', {
      class: 'lane tl-row', 'data-conn': conn.id, tabindex: 0, role: 'button',
      'aria-label': `connection ${conn.id}, ${who}, ${plural(conn.exchanges.length + (conn.omitted?.count ?? 0), 'command')}: open its ladder`,
    },
    el('div', { class: 'tl-label' }, el('strong', {}, String(conn.id)), ' ', el('span', { class: 'who' }, who), flags ? el('span', { class: 'flags' }, flags) : null),
    el('div', { class: 'tl-track' }, this.laneSvg(conn)));
    return lane;
  }

  private laneSvg(conn: ConnectionData): SVGElement {
    const svg = svgEl('svg', { width: this.width, height: LANE_HEIGHT - 4, 'aria-hidden': 'true' });
    const from = this.x(conn.start);
    svg.appendChild(svgEl('rect', { x: from, y: 8, width: Math.max(1, this.x(conn.end) - from), height: 4, class: 'life' }));
    const marks = new Map<number, number>();
    conn.exchanges.forEach((ex, i) => {
      if (ex.command === 'IDLE' && ex.start !== null) {
        const x = this.x(ex.start);
        svg.appendChild(svgEl('rect', { x, y: 1, width: Math.max(1, this.x(ex.end ?? conn.end) - x), height: LANE_HEIGHT - 6, class: 'idle' }));
      }
      const t = ex.start ?? ex.end;
      if (t === null) return;
      const column = Math.floor(this.x(t) / MARK_PX);
      const held = marks.get(column);
      if (held === undefined || SEVERITY[statusClass(ex.status)]! > SEVERITY[statusClass(conn.exchanges[held]!.status)]!) marks.set(column, i);
    });
    for (const [column, i] of marks) {
      svg.appendChild(svgEl('rect', { x: column * MARK_PX, y: 3, width: MARK_PX - 0.5, height: LANE_HEIGHT - 10, class: `mark ${statusClass(conn.exchanges[i]!.status)}`, 'data-i': i }));
    }
    return svg;
  }

  private laneOf(target: EventTarget | null): { node: HTMLElement; conn: ConnectionData } | null {
    const node = target instanceof Element ? target.closest<HTMLElement>('.lane') : null;
    if (!node) return null;
    const conn = this.cap.connections[Number(node.dataset.index)];
    return conn ? { node, conn } : null;
  }

  /** The exchange under the pointer: the mark it is on, else the nearest within reach. */
  private hover(e: PointerEvent): void {
    const lane = this.laneOf(e.target);
    const svg = lane?.node.querySelector('svg');
    if (!lane || !svg) return hideTooltip();
    const onMark = e.target instanceof Element ? e.target.getAttribute('data-i') : null;
    let index = onMark !== null ? Number(onMark) : -1;
    if (index < 0) {
      const x = e.clientX - svg.getBoundingClientRect().left;
      let best = HOVER_REACH;
      lane.conn.exchanges.forEach((ex, i) => {
        const t = ex.start ?? ex.end;
        const d = t === null ? Infinity : Math.abs(this.x(t) - x);
        if (d <= best) { best = d; index = i; }
      });
    }
    const ex = lane.conn.exchanges[index];
    if (!ex) return hideTooltip();
    showTooltip(exchangeTooltipLines(ex), e.clientX, e.clientY);
  }

  private key(e: KeyboardEvent): void {
    const lane = this.laneOf(e.target);
    if (!lane || !this.list) return;
    const index = Number(lane.node.dataset.index);
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.onOpen(lane.conn);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      this.list.reveal(index + (e.key === 'ArrowDown' ? 1 : -1))?.focus();
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      this.stepCursor(lane.node, lane.conn, e.key === 'ArrowRight' ? 1 : -1);
    } else if (e.key === 'Escape') {
      hideTooltip();
    }
  }

  /** Move a lane's keyboard cursor to the next or previous command and show it. */
  private stepCursor(node: HTMLElement, conn: ConnectionData, by: number): void {
    const count = conn.exchanges.length;
    if (count === 0) return;
    const now = this.cursor.get(conn.id);
    const next = now === undefined ? (by > 0 ? 0 : count - 1) : Math.min(count - 1, Math.max(0, now + by));
    this.cursor.set(conn.id, next);
    const ex = conn.exchanges[next]!;
    const svg = node.querySelector('svg')!.getBoundingClientRect();
    const t = ex.start ?? ex.end ?? conn.start;
    // Numbered as in the whole connection: a long one's page leaves out those between its first and last ones.
    const skipped = conn.omitted && next >= conn.omitted.after ? conn.omitted.count : 0;
    showTooltip([...exchangeTooltipLines(ex), `command ${next + 1 + skipped} of ${count + (conn.omitted?.count ?? 0)}`], svg.left + this.x(t), svg.top);
  }
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}
