/*
 * The fetched messages, each with its MIME tree and, per part, which connection and command fetched it.
 * A message's tree is drawn when it is opened; the list grows by a page at a time.
 */

const MESSAGES_PER_PAGE = 100;

type OpenExchange = (conn: number, requestFrame: number | null) => void;

function fetchRef(f: SectionFetchData, open: OpenExchange): HTMLElement {
  const range = f.origin !== null ? ` <${f.origin}.${f.bytes}>` : '';
  const label = `conn ${f.conn} · ${f.tag ?? '?'} ${f.command} · [${f.section}] ${f.how}${range} · ${formatBytes(f.bytes)}${f.complete ? '' : ' (cut)'} · frame ${f.frame}`;
  const button = el('button', { type: 'button', class: 'fetch-ref', title: 'show this command in its connection\'s ladder' }, label);
  button.addEventListener('click', () => open(f.conn, f.requestFrame));
  return button;
}

function messageTitle(m: MessageData): string {
  const id = m.uid !== null ? `uid ${m.uid}` : `seq ${m.seq} (UID unknown)`;
  return [`${m.mailbox ?? '?'} ${id}`, m.date, m.from, m.subject !== null ? `“${m.subject}”` : null, m.size !== null ? formatBytes(m.size) : null]
    .filter((s): s is string => Boolean(s)).join(' · ');
}

function partsTable(m: MessageData, open: OpenExchange): HTMLElement {
  const rows = m.parts.map((p) => el('tr', { class: p.notFetched ? 'not-fetched' : '' },
    el('td', { class: 'part' }, el('span', { class: 'indent', 'data-depth': Math.min(p.depth, 8) }, p.enclosed ? `${p.part} ↳` : p.part || '(message)')),
    el('td', {}, p.type),
    el('td', {}, p.encoding ?? ''),
    el('td', { class: 'num' }, formatBytes(p.size)),
    el('td', {}, p.filename ?? ''),
    el('td', {}, ...(p.fetches.length ? p.fetches.map((f) => fetchRef(f, open)) : [p.notFetched ? el('span', { class: 'note' }, 'not fetched') : '']))));
  if (m.fetches.length) {
    rows.unshift(el('tr', { class: 'whole' }, el('td', { colspan: 5 }, m.parts.length ? '(whole message, or a part not in its tree)' : '(sections fetched)'), el('td', {}, ...m.fetches.map((f) => fetchRef(f, open)))));
  }
  return el('div', { class: 'scroll-x' }, el('table', { class: 'parts' },
    el('thead', {}, el('tr', {}, ...['part', 'type', 'encoding', 'size', 'file name', 'fetched by'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows)),
  m.fetchesOmitted ? el('p', { class: 'note' }, `… and ${m.fetchesOmitted} more sections fetched, not listed here (fetches --json lists every one).`) : null,
  m.structureFrom === 'message' ? el('p', { class: 'note' }, 'Tree parsed from the fetched message (no BODYSTRUCTURE was fetched).') : null,
  m.parts.length === 0 ? el('p', { class: 'note' }, 'No MIME tree: neither BODYSTRUCTURE nor the whole message was fetched.') : null);
}

function messageItem(m: MessageData, open: OpenExchange): HTMLElement {
  const details = el('details', { class: 'message-item' }, el('summary', {}, messageTitle(m)));
  details.addEventListener('toggle', () => {
    if (details.open && details.childElementCount === 1) details.appendChild(partsTable(m, open));
  }, { once: false });
  return details;
}

function messagesList(cap: CaptureData, idPrefix: string, open: OpenExchange): HTMLElement {
  if (cap.messages.length === 0) return el('p', { class: 'note' }, 'No messages were fetched in this capture.');
  const filter = el('input', { type: 'search', id: `${idPrefix}-msg-filter`, placeholder: 'filter: mailbox, subject, sender', 'aria-label': 'filter messages' });
  const list = el('div', { class: 'messages-list' });
  const more = el('button', { type: 'button', class: 'more' }, 'Show more');
  let shown: MessageData[] = [];
  let count = 0;
  const showPage = () => {
    const page = shown.slice(count, count + MESSAGES_PER_PAGE);
    list.append(...page.map((m) => messageItem(m, open)));
    count += page.length;
    more.hidden = count >= shown.length;
    more.textContent = `Show more (${shown.length - count} left)`;
  };
  const apply = () => {
    const wanted = filter.value.trim().toLowerCase();
    shown = wanted ? cap.messages.filter((m) => messageTitle(m).toLowerCase().includes(wanted)) : cap.messages;
    list.replaceChildren();
    count = 0;
    showPage();
    if (shown.length === 0) list.appendChild(el('p', { class: 'note' }, 'No message matches the filter.'));
  };
  more.addEventListener('click', showPage);
  filter.addEventListener('input', apply);
  apply();
  const listed = cap.messagesOmitted
    ? `the first ${plural(cap.messages.length, 'message')} of ${cap.messages.length + cap.messagesOmitted}, by mailbox and UID (imapscope fetches --json lists every one)`
    : plural(cap.messages.length, 'message');
  return el('div', { class: 'messages' }, el('div', { class: 'controls' }, filter, el('span', { class: 'note messages-count' }, listed)), list, more);
}
