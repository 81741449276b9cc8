/*
 * The ladder of one connection, like Wireshark's flow graph: a client and a server column, an arrow per
 * request and per tagged response with its frame, time and latency. Literals are already folded to their
 * size and credentials redacted in the data; continuations, STARTTLS, COMPRESS and IDLE are marked, and
 * the conversation's markers (TLS, COMPRESS, gaps) sit between the exchanges where they happened.
 */

const LADDER_ROW_HEIGHT = 52;

type Greeting = NonNullable<ConnectionData['greeting']>;
type LadderItem = { kind: 'exchange'; ex: ExchangeData } | { kind: 'marker'; marker: MarkerData } | { kind: 'greeting'; greeting: Greeting }
  | { kind: 'omitted'; count: number; conn: number };

/** The greeting, then exchanges (request order) and markers (frame order) merged by frame; a long connection's gap where it is. */
function ladderItems(conn: ConnectionData): LadderItem[] {
  const items: LadderItem[] = conn.greeting ? [{ kind: 'greeting', greeting: conn.greeting }] : [];
  let m = 0;
  conn.exchanges.forEach((ex, i) => {
    const frame = ex.requestFrame ?? ex.responseFrame ?? Infinity;
    while (m < conn.markers.length && conn.markers[m]!.frame < frame) items.push({ kind: 'marker', marker: conn.markers[m++]! });
    if (conn.omitted && i === conn.omitted.after) items.push({ kind: 'omitted', count: conn.omitted.count, conn: conn.id });
    items.push({ kind: 'exchange', ex });
  });
  while (m < conn.markers.length) items.push({ kind: 'marker', marker: conn.markers[m++]! });
  return items;
}

function frameAndTime(frame: number | null, t: number | null): string {
  return frame === null ? '—' : `${frame} · ${formatOffset(t)}`;
}

/** "{311}" (a literal the data folded to its size) reads as "{311 bytes}". */
function foldedLiterals(args: string): string {
  return args.replace(/(^|[\s(])\{(\d+)\}(?=$|[\s)])/g, '$1{$2 bytes}');
}

function requestLine(ex: ExchangeData): HTMLElement {
  if (ex.requestMissing) return el('div', { class: 'arrow req missing' }, el('span', { class: 'msg' }, `${ex.tag ?? ''} (request not captured)`));
  const extra = ex.continuations > 0 ? el('span', { class: 'badge cont', title: 'continuation requests (+) from the server' }, `+ ${ex.continuations}`) : null;
  return el('div', { class: 'arrow req' }, el('span', { class: 'msg' }, `${ex.tag ?? ''} ${ex.command}${ex.args ? ` ${foldedLiterals(ex.args)}` : ''}`), extra);
}

function responseLine(ex: ExchangeData): HTMLElement {
  if (ex.status === null) return el('div', { class: 'arrow res missing' }, el('span', { class: 'msg' }, 'no tagged response in the capture'));
  const untagged = ex.untagged > 0 ? ` · ${plural(ex.untagged, 'untagged response')}` : '';
  const idled = ex.start !== null && ex.end !== null ? ` after idling ${formatSpan(ex.end - ex.start)}` : '';
  const what = ex.command === 'IDLE' ? `DONE → ${ex.status}${idled}` : `${ex.status}${ex.code ? ` [${ex.code}]` : ''} ${ex.text}`;
  return el('div', { class: `arrow res ${statusClass(ex.status)}` },
    el('span', { class: 'msg' }, `${ex.tag ?? ''} ${what}${untagged}`),
    el('span', { class: 'latency' }, formatMs(ex.latencyMs)));
}

const SWITCHES: Record<string, string> = { STARTTLS: 'TLS from here', COMPRESS: 'COMPRESS from here', IDLE: 'IDLE' };

function exchangeRow(ex: ExchangeData): HTMLElement {
  const note = SWITCHES[ex.command];
  const classes = ['ex', statusClass(ex.status), ex.command === 'IDLE' ? 'idle' : '', note && ex.command !== 'IDLE' ? 'switch' : ''].filter(Boolean).join(' ');
  return el('div', { class: classes, role: 'listitem', 'data-frame': ex.requestFrame ?? '', 'data-tag': ex.tag ?? '' },
    el('div', { class: 'when' },
      el('span', {}, frameAndTime(ex.requestFrame, ex.start)),
      el('span', {}, frameAndTime(ex.responseFrame, ex.end))),
    el('div', { class: 'flow' }, requestLine(ex), responseLine(ex)),
    note && ex.status === 'OK' ? el('span', { class: 'badge switch-note' }, note) : null);
}

function greetingRow(g: Greeting): HTMLElement {
  return el('div', { class: 'greeting', role: 'listitem' },
    el('div', { class: 'when' }, el('span', {}, `${g.frame}`)),
    el('div', { class: 'flow' }, el('div', { class: 'arrow res' }, el('span', { class: 'msg' }, `* ${g.status} ${g.text}`))));
}

function ladderRow(item: LadderItem): HTMLElement {
  if (item.kind === 'exchange') return exchangeRow(item.ex);
  if (item.kind === 'omitted') return omittedRow(item.count, item.conn);
  return item.kind === 'marker' ? markerRow(item.marker) : greetingRow(item.greeting);
}

function omittedRow(count: number, conn: number): HTMLElement {
  return el('div', { class: 'marker omitted', role: 'listitem' },
    el('div', { class: 'when' }),
    el('div', { class: 'marker-text' }, `… ${plural(count, 'exchange')} not shown here: the page keeps a connection's first and last ones (imapscope commands -Y 'tcp.stream == ${conn}' lists every one) …`));
}

function markerRow(m: MarkerData): HTMLElement {
  return el('div', { class: 'marker', role: 'listitem', 'data-marker-frame': m.frame },
    el('div', { class: 'when' }, el('span', {}, `${m.frame}`)),
    el('div', { class: 'marker-text' }, `${m.side ? `${m.side}: ` : ''}${m.text}`));
}

function connectionFacts(conn: ConnectionData): string[] {
  const facts = [
    conn.user ? `user ${conn.user}` : 'no user seen',
    conn.clientName ?? '',
    conn.authMechanism ? `auth ${conn.authMechanism}` : '',
    `${formatOffset(conn.start)} to ${formatOffset(conn.end)} (${formatSpan(conn.end - conn.start)})`,
    `frames ${conn.firstFrame}–${conn.lastFrame}`,
    `${formatBytes(conn.bytes.client)} C→S, ${formatBytes(conn.bytes.server)} S→C`,
    `ended ${conn.state}`,
    conn.midStream ? 'capture starts mid-connection' : '',
    conn.gaps > 0 ? plural(conn.gaps, 'gap') : '',
  ];
  return facts.filter(Boolean);
}

/** The ladder panel of one capture: shows one connection at a time, the one last opened. */
class LadderPanel {
  readonly root: HTMLElement;
  private list: VirtualList<LadderItem> | null = null;
  private items: LadderItem[] = [];

  constructor(private readonly idPrefix: string) {
    this.root = el('section', { class: 'ladder-panel', hidden: true, 'aria-live': 'polite' });
  }

  open(conn: ConnectionData, frame?: number): void {
    this.items = ladderItems(conn);
    const title = sectionHeading('h3', `${this.idPrefix}-ladder`, `Connection ${conn.id}: ${conn.client} → ${conn.server}`);
    const viewport = el('div', { class: 'ladder', tabindex: 0, role: 'list', 'data-ladder-conn': conn.id, 'aria-label': `exchanges of connection ${conn.id}` });
    const close = el('button', { type: 'button', class: 'close' }, 'Close');
    close.addEventListener('click', () => { this.root.hidden = true; });
    this.root.replaceChildren();
    append(this.root, [
      el('div', { class: 'panel-head' }, title, close),
      el('p', { class: 'facts' }, connectionFacts(conn).join(' · ')),
      securityLine(conn),
      el('div', { class: 'ladder-head', 'aria-hidden': 'true' }, el('span', {}, 'frame · time'), el('span', {}, 'client'), el('span', {}, 'server')),
      viewport,
      conn.exchanges.length === 0 ? el('p', { class: 'note' }, conn.tls && !conn.tls.decrypted ? 'No commands: the connection is encrypted (give --keylog to decrypt it).' : 'No commands in this connection.') : null]);
    this.root.hidden = false;
    this.list = new VirtualList(viewport, this.items, LADDER_ROW_HEIGHT, ladderRow);
    const at = frame === undefined ? -1 : this.items.findIndex((item) => item.kind === 'exchange' && item.ex.requestFrame === frame);
    if (at >= 0) {
      const row = this.list.reveal(at);
      row?.classList.add('highlight');
    }
    title.scrollIntoView({ block: 'start' });
    title.focus({ preventScroll: true });
  }
}

/** TLS, COMPRESS and clear-text authentication of a connection, or nothing. */
function securityLine(conn: ConnectionData): HTMLElement | null {
  const parts: HTMLElement[] = [];
  const tls = conn.tls;
  if (tls) {
    const state = tls.decrypted ? 'decrypted' : tls.note ? `not decrypted: ${tls.note}` : 'encrypted';
    parts.push(el('span', { class: 'badge tls' }, `${tls.version ?? 'TLS'}${tls.how === 'starttls' ? ' (STARTTLS)' : ''} from frame ${tls.frame}${tls.cipher ? ` ${tls.cipher}` : ''}${tls.sni ? ` SNI ${tls.sni}` : ''}, ${state}`));
    if (tls.injectedBeforeTls) parts.push(el('span', { class: 'badge danger' }, 'data injected before TLS'));
  }
  if (conn.compressFrame !== null) parts.push(el('span', { class: 'badge' }, `COMPRESS from frame ${conn.compressFrame}`));
  if (conn.cleartextAuth) parts.push(el('span', { class: 'badge danger' }, 'clear-text authentication'));
  return parts.length ? el('p', { class: 'security' }, ...parts) : null;
}
