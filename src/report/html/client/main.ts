/*
 * Entry point: read the embedded data, draw one section per capture (header, timeline, ladder, commands,
 * messages) and the differences between captures, then mark the page ready (data-ready on <html> and a
 * performance mark, which the browser tests and the benchmark read as time to interactive).
 */

function readData(): ReportData {
  const node = document.getElementById('imapscope-data');
  if (!node?.textContent) throw new Error('the report has no data');
  return JSON.parse(node.textContent) as ReportData;
}

function captureSection(cap: CaptureData, index: number, data: ReportData): { section: HTMLElement; timeline: Timeline } {
  const id = `c${index}`;
  const ladder = new LadderPanel(id);
  const openConn = (conn: number, frame: number | null) => {
    const found = cap.connections.find((c) => c.id === conn);
    if (found) ladder.open(found, frame ?? undefined);
  };
  const timeline = new Timeline(cap, (conn) => ladder.open(conn));
  const section = el('section', { class: 'capture', id, 'data-capture': index, 'aria-labelledby': `${id}-title` },
    sectionHeading('h2', `${id}-title`, cap.path),
    captureHeader(cap),
    sectionHeading('h3', `${id}-timeline`, 'Timeline'),
    el('p', { class: 'hint' }, 'One lane per IMAP connection. Hover a mark for its command; click a lane or press Enter on it for its ladder; arrow keys move between lanes and commands.'),
    el('p', { class: 'legend', 'aria-hidden': 'true' },
      ...[['st-ok', 'OK'], ['st-no', 'NO'], ['st-bad', 'BAD'], ['st-inc', 'incomplete'], ['idle', 'IDLE']].map(([cls, label]) => el('span', { class: `key ${cls}` }, label))),
    cap.connections.length ? timeline.root : el('p', { class: 'note' }, 'No IMAP connections in this capture.'),
    ladder.root,
    sectionHeading('h3', `${id}-commands`, 'Commands'),
    commandsTable(cap, data.histogramEdgesMs, id),
    sectionHeading('h3', `${id}-messages`, 'Messages'),
    messagesList(cap, id, openConn));
  return { section, timeline };
}

function navigation(data: ReportData): HTMLElement {
  const links: [string, string][] = [];
  if (data.comparisons.length) links.push(['#compare', 'Differences']);
  data.captures.forEach((cap, i) => {
    const name = cap.path.split(/[\\/]/).pop() ?? cap.path;
    links.push([`#c${i}-title`, name], [`#c${i}-timeline`, 'timeline'], [`#c${i}-commands`, 'commands'], [`#c${i}-messages`, 'messages']);
  });
  return el('nav', { 'aria-label': 'sections' }, el('ul', {}, ...links.map(([href, text]) => el('li', {}, el('a', { href }, text)))));
}

function main(): void {
  const app = document.getElementById('app')!;
  try {
    const data = readData();
    const sections = data.captures.map((cap, i) => captureSection(cap, i, data));
    app.replaceChildren();
    append(app, [
      el('header', { class: 'top' }, el('h1', {}, 'IMAP report'), el('p', { class: 'note' }, `${plural(data.captures.length, 'capture')} · made by ${data.generator}`), navigation(data)),
      data.comparisons.length ? differencesSection(data) : null,
      ...sections.map((s) => s.section)]);
    document.body.appendChild(tooltip);
    for (const s of sections) if (s.section.querySelector('.timeline')) s.timeline.mount();
    document.documentElement.dataset.ready = 'true';
    performance.mark('imapscope-ready');
  } catch (err) {
    app.replaceChildren(el('p', { class: 'error' }, `The report could not be drawn: ${err instanceof Error ? err.message : String(err)}`));
    console.error(err);
  }
}

main();
