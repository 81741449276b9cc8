/* What `compare` found between the captures: each one against the first, differences first. */

function comparisonBlock(c: ComparisonData): HTMLElement {
  const verdict = c.same
    ? `${c.a} and ${c.b} behave the same (${plural(c.sameAspects.length, 'aspect')} compared; accounts, tags, UIDs and times do not count).`
    : `${c.a} and ${c.b} behave differently in ${plural(c.differences.length, 'way')}.`;
  return el('div', { class: `comparison ${c.same ? 'same' : 'differs'}` },
    el('p', { class: 'verdict' }, verdict),
    c.differences.length ? el('div', { class: 'scroll-x' }, el('table', { class: 'differences' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'what differs'), el('th', { scope: 'col' }, c.a), el('th', { scope: 'col' }, c.b))),
      el('tbody', {}, ...c.differences.map((d) => el('tr', {}, el('th', { scope: 'row' }, d.what), el('td', {}, el('code', {}, d.a)), el('td', {}, el('code', {}, d.b))))))) : null,
    c.sameAspects.length ? el('details', {}, el('summary', {}, `the same: ${plural(c.sameAspects.length, 'aspect')}`), el('ul', {}, ...c.sameAspects.map((s) => el('li', {}, s)))) : null);
}

function differencesSection(data: ReportData): HTMLElement {
  return el('section', { class: 'compare', 'aria-labelledby': 'compare' },
    sectionHeading('h2', 'compare', 'Differences between the captures'),
    ...data.comparisons.map(comparisonBlock));
}
