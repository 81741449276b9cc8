/* What `compare` found between the captures: each one against the first, differences first. */

function comparisonBlock(c: ComparisonData): HTMLElement {
  const verdict = c.same
    ? `${c.a} and ${c.b} behave the same (${plural(c.sameAspects.length, 'aspect')} compared; accounts, tags, UIDs and times do not count).`
    : `${c.a} and ${c.b} behave differently in ${plural(c.differences.length, 'way')}.`;
  return el('div', { class: `comparison ${c.same ? 'same' : 'differs'}` },
    el('p', { class: 'verdict' }, verdict),
    el('p', { class: 'note' }, `a = ${c.a}, b = ${c.b}`),
    c.differences.length ? el('ul', { class: 'differences' }, ...c.differences.map((d) => el('li', { title: d.what }, d.text))) : null,
    ...c.pairs.map((p, i) => pairBlock(p, i, c.pairs.length)),
    c.sameAspects.length ? el('details', {}, el('summary', {}, `the same: ${plural(c.sameAspects.length, 'aspect')}`), el('ul', {}, ...c.sameAspects.map((s) => el('li', {}, s)))) : null);
}

const MARK_SIGNS: Record<string, string> = { same: '', changed: '≠', onlyA: '<', onlyB: '>' };

/** One pair of connections, their commands side by side; open when they differ. */
function pairBlock(p: ComparisonData['pairs'][number], index: number, total: number): HTMLElement {
  const side = (name: 'a' | 'b') => (p[name] === null ? `nothing in ${name}` : `${name}: conn ${p[name]}`);
  const differs = p.rows.some((r) => r.mark !== 'same');
  return el('details', { class: 'pair', open: differs },
    el('summary', {}, `connection ${index + 1} of ${total}, which ${p.role} — ${side('a')}, ${side('b')}, ${Math.round(p.similarity * 100)} % alike`),
    el('div', { class: 'scroll-x' }, el('table', { class: 'aligned' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'a'), el('th', { scope: 'col' }, ''), el('th', { scope: 'col' }, 'b'))),
      el('tbody', {}, ...p.rows.map((r) => el('tr', { class: `mark-${r.mark}` },
        el('td', {}, el('code', {}, r.a ?? '')), el('td', { class: 'sign' }, MARK_SIGNS[r.mark] ?? ''), el('td', {}, el('code', {}, r.b ?? ''))))))),
    p.rowsOmitted ? el('p', { class: 'note' }, `… ${p.rowsOmitted} more rows`) : null);
}

function differencesSection(data: ReportData): HTMLElement {
  return el('section', { class: 'compare', 'aria-labelledby': 'compare' },
    sectionHeading('h2', 'compare', 'Differences between the captures'),
    ...data.comparisons.map(comparisonBlock));
}
