/* One tooltip for the whole page: the exchange under the pointer (or under the keyboard cursor of a lane). */

const tooltip = el('div', { id: 'tooltip', class: 'tooltip', role: 'tooltip', hidden: true });

function exchangeTooltipLines(ex: ExchangeData): string[] {
  const frames = ex.requestFrame !== null
    ? `frame ${ex.requestFrame}${ex.responseFrame !== null ? ` → ${ex.responseFrame}` : ''}`
    : `response frame ${ex.responseFrame ?? '?'} (request not captured)`;
  return [
    `${ex.tag ?? '(untagged)'} ${ex.command}`,
    `${statusText(ex.status)}${ex.code ? ` [${ex.code}]` : ''}`,
    ex.latencyMs !== null ? `latency ${formatMs(ex.latencyMs)}` : 'no latency (incomplete)',
    frames,
    formatOffset(ex.start ?? ex.end),
  ].filter((line) => line !== '');
}

/** Show `lines` (the first one bold) next to a point of the viewport. */
function showTooltip(lines: string[], x: number, y: number): void {
  tooltip.replaceChildren(...lines.map((line, i) => el(i === 0 ? 'strong' : 'span', {}, line)));
  tooltip.hidden = false;
  const box = tooltip.getBoundingClientRect();
  const left = Math.min(x + 14, window.innerWidth - box.width - 4);
  const top = y + 16 + box.height > window.innerHeight ? y - box.height - 8 : y + 16;
  tooltip.style.left = `${Math.max(4, left)}px`;
  tooltip.style.top = `${Math.max(4, top)}px`;
}

function hideTooltip(): void {
  tooltip.hidden = true;
}
