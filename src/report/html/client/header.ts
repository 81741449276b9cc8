/* A capture's header: what the file is, what is encrypted or compressed, who authenticated in clear text, and its warnings. */

function captureFacts(cap: CaptureData): HTMLElement {
  const facts: [string, string][] = [
    ['format', `${cap.format ?? 'unknown'}${cap.gzip ? ' (gzip)' : ''}${cap.linkTypes.length ? `, ${cap.linkTypes.join(', ')}` : ''}`],
    ['frames', String(cap.frames)],
    ['time', cap.start ? `${cap.start} – ${cap.end ?? ''} (${formatSpan(cap.spanS)})` : 'no frames'],
    ['IMAP connections', `${cap.connections.length}, at most ${cap.maxOpen} open at once`],
    ['exchanges', String(cap.exchangeCount)],
    ['messages fetched', cap.messagesOmitted ? `${cap.messages.length + cap.messagesOmitted} (the first ${cap.messages.length} listed)` : String(cap.messages.length)],
  ];
  return el('dl', { class: 'facts-list' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

/** One line per kind: TLS (with versions), COMPRESS, and clear-text authentication flagged. */
function securitySummary(cap: CaptureData): HTMLElement {
  const ids = (list: ConnectionData[]) => list.map((c) => c.id).join(', ');
  const tls = cap.connections.filter((c) => c.tls);
  const decrypted = tls.filter((c) => c.tls!.decrypted);
  const versions = [...new Set(tls.map((c) => c.tls!.version ?? 'TLS'))].join(', ');
  const compress = cap.connections.filter((c) => c.compressFrame !== null);
  const clear = cap.connections.filter((c) => c.cleartextAuth);
  const injected = tls.filter((c) => c.tls!.injectedBeforeTls);
  const items = [
    el('li', {}, tls.length
      ? `TLS on ${plural(tls.length, 'connection')} (${ids(tls)}): ${versions}; ${decrypted.length} decrypted`
      : 'No TLS: every connection is in clear text.'),
    compress.length ? el('li', {}, `COMPRESS=DEFLATE on ${plural(compress.length, 'connection')} (${ids(compress)})`) : null,
    clear.length ? el('li', { class: 'danger' }, `Clear-text authentication on ${plural(clear.length, 'connection')} (${ids(clear)}): credentials crossed the wire unencrypted (shown here as ***)`) : null,
    injected.length ? el('li', { class: 'danger' }, `Data injected before the TLS handshake on ${ids(injected)}`) : null,
  ];
  return el('ul', { class: 'security-list' }, ...items);
}

function warningsBlock(cap: CaptureData): HTMLElement {
  const count = cap.warnings.length + cap.warningsOmitted;
  if (count === 0) return el('p', { class: 'note' }, 'No warnings: every frame was read and every stream followed.');
  const list = el('ul', { class: 'warnings' }, ...cap.warnings.map((w) => el('li', {},
    el('span', { class: 'where' }, [w.frame !== null ? `frame ${w.frame}` : 'file', w.conn !== null ? `conn ${w.conn}` : ''].filter(Boolean).join(', ')),
    ' ', w.message)));
  return el('details', { class: 'warnings-box', open: count <= 5 },
    el('summary', {}, `${plural(count, 'warning')}${cap.warningsOmitted ? ` (first ${cap.warnings.length} listed)` : ''}`),
    list);
}

function captureHeader(cap: CaptureData): HTMLElement {
  return el('div', { class: 'capture-head' },
    cap.notice ? el('p', { class: 'capture-notice', role: 'note' }, cap.notice) : null,
    captureFacts(cap), securitySummary(cap), warningsBlock(cap));
}
