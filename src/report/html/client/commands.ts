/* The per-command table: counts by status, median and p95 latency, a latency histogram; sortable and filterable. */

type CommandKey = 'command' | 'count' | 'ok' | 'no' | 'bad' | 'incomplete' | 'medianMs' | 'p95Ms' | 'maxMs';

const COMMAND_COLUMNS: [CommandKey, string][] = [
  ['command', 'command'], ['count', 'count'], ['ok', 'OK'], ['no', 'NO'], ['bad', 'BAD'], ['incomplete', 'incomplete'],
  ['medianMs', 'median'], ['p95Ms', 'p95'], ['maxMs', 'max'],
];

function histogramLabel(edges: number[], bin: number): string {
  const ms = (v: number) => formatMs(v).replace('.00 ', ' ').replace('.0 ', ' ');
  if (bin === 0) return `< ${ms(edges[0]!)}`;
  if (bin === edges.length) return `≥ ${ms(edges[edges.length - 1]!)}`;
  return `${ms(edges[bin - 1]!)} – ${ms(edges[bin]!)}`;
}

/** Bars per latency bin, scaled to the row's fullest bin; each bar names its range and count. */
function histogram(c: CommandData, edges: number[]): SVGElement {
  const bar = 7;
  const height = 22;
  const max = Math.max(1, ...c.histogram);
  const svg = svgEl('svg', { width: c.histogram.length * bar, height, class: 'histogram', role: 'img', 'aria-label': `latency histogram of ${c.command}` });
  c.histogram.forEach((n, i) => {
    const h = n === 0 ? 0 : Math.max(2, (n / max) * height);
    svg.appendChild(svgEl('rect', { x: i * bar, y: height - h, width: bar - 1, height: h, class: n ? 'bar' : 'bar empty' }, `${histogramLabel(edges, i)}: ${n}`));
    if (n === 0) svg.appendChild(svgEl('rect', { x: i * bar, y: height - 1, width: bar - 1, height: 1, class: 'bar-base' }));
  });
  return svg;
}

function commandsTable(cap: CaptureData, edges: number[], idPrefix: string): HTMLElement {
  let sortKey: CommandKey = 'count';
  let descending = true;
  const filter = el('input', { type: 'search', id: `${idPrefix}-cmd-filter`, placeholder: 'filter commands', 'aria-label': 'filter commands by name' });
  const body = el('tbody');
  const headers = COMMAND_COLUMNS.map(([key, label]) => {
    const button = el('button', { type: 'button', 'data-sort': key }, label);
    button.addEventListener('click', () => {
      descending = sortKey === key ? !descending : key !== 'command';
      sortKey = key;
      render();
    });
    return el('th', { scope: 'col', class: key === 'command' ? '' : 'num' }, button);
  });
  const render = () => {
    const wanted = filter.value.trim().toUpperCase();
    const rows = cap.commands.filter((c) => c.command.toUpperCase().includes(wanted));
    rows.sort((a, b) => {
      const x = a[sortKey];
      const y = b[sortKey];
      const order = typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : (x === null ? -1 : Number(x)) - (y === null ? -1 : Number(y));
      return descending ? -order : order;
    });
    headers.forEach((th, i) => th.setAttribute('aria-sort', COMMAND_COLUMNS[i]![0] === sortKey ? (descending ? 'descending' : 'ascending') : 'none'));
    body.replaceChildren(...rows.map((c) => el('tr', { 'data-command': c.command },
      el('th', { scope: 'row' }, c.command),
      ...COMMAND_COLUMNS.slice(1).map(([key]) => {
        const v = c[key];
        return el('td', { class: `num${key === 'bad' && c.bad ? ' st-bad' : key === 'no' && c.no ? ' st-no' : ''}` }, typeof v === 'number' && key.endsWith('Ms') ? formatMs(v) : v ?? '');
      }),
      el('td', {}, histogram(c, edges)))));
    if (rows.length === 0) body.appendChild(el('tr', {}, el('td', { colspan: COMMAND_COLUMNS.length + 1, class: 'note' }, cap.commands.length ? 'No command matches the filter.' : 'No commands in this capture.')));
  };
  filter.addEventListener('input', render);
  render();
  return el('div', { class: 'commands' },
    el('div', { class: 'controls' }, filter, el('span', { class: 'note' }, `histogram bins: ${histogramLabel(edges, 0)} … ${histogramLabel(edges, edges.length)}`)),
    el('div', { class: 'scroll-x' }, el('table', { class: 'command-table' },
      el('thead', {}, el('tr', {}, ...headers, el('th', { scope: 'col' }, 'latency histogram'))), body)));
}
