/** The report's style sheet: light and dark by the system's preference, narrow screens, and print. */
export const REPORT_CSS = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1f24; --muted: #5b6570; --line: #d5dae0; --panel: #f5f7f9; --accent: #1f5fbf;
  --ok: #2e8540; --no: #b8860b; --bad: #c62828; --inc: #8a939c; --idle: rgba(80, 130, 220, 0.22); --life: #b9c2cc;
  --chart: rgba(31, 95, 191, 0.35); --focus: #ff9800; --label-w: 10rem; --lane-h: 24px; --row-h: 52px;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181c; --fg: #e3e7eb; --muted: #9aa4ae; --line: #343b43; --panel: #1d2126; --accent: #7fb0ff;
    --ok: #5cc26f; --no: #e0b341; --bad: #ff6b6b; --inc: #8d98a3; --idle: rgba(110, 160, 255, 0.25); --life: #4a535d;
    --chart: rgba(127, 176, 255, 0.4);
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
#app { max-width: 1800px; margin: 0 auto; padding: 0 1rem 3rem; }
h1 { font-size: 1.5rem; margin: 1rem 0 0.25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--line); padding-bottom: 0.25rem; overflow-wrap: anywhere; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
a { color: var(--accent); }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 1px; }
.note, .hint { color: var(--muted); }
.hint { margin: 0 0 0.25rem; font-size: 0.9em; }
.error { color: var(--bad); font-weight: bold; }
nav ul { list-style: none; padding: 0; margin: 0.5rem 0; display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; }
button { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 0.15rem 0.5rem; cursor: pointer; }
input[type=search] { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0.2rem 0.4rem; min-width: 12rem; max-width: 100%; }
.controls { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; margin-bottom: 0.5rem; }
.scroll-x { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.2rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th button { background: none; border: none; padding: 0; font-weight: bold; }
th[aria-sort=ascending] button::after { content: " ▲"; }
th[aria-sort=descending] button::after { content: " ▼"; }
.facts-list { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem; margin: 0.5rem 0; }
.facts-list dt { color: var(--muted); }
.facts-list dd { margin: 0; overflow-wrap: anywhere; }
.security-list { margin: 0.5rem 0; padding-left: 1.2rem; }
.danger, li.danger { color: var(--bad); font-weight: 600; }
.warnings-box summary { cursor: pointer; }
.warnings { max-height: 16rem; overflow: auto; margin: 0.25rem 0; padding-left: 1.2rem; }
.warnings .where { color: var(--muted); font-variant-numeric: tabular-nums; }
.badge { display: inline-block; border: 1px solid var(--line); border-radius: 3px; padding: 0 0.35rem; margin-right: 0.35rem; font-size: 0.85em; background: var(--panel); }
.badge.danger { border-color: var(--bad); }
.legend { margin: 0.25rem 0; display: flex; gap: 0.75rem; flex-wrap: wrap; font-size: 0.9em; }
.key::before { content: ""; display: inline-block; width: 0.7rem; height: 0.7rem; margin-right: 0.25rem; vertical-align: -1px; background: var(--inc); }
.key.st-ok::before { background: var(--ok); } .key.st-no::before { background: var(--no); }
.key.st-bad::before { background: var(--bad); } .key.idle::before { background: var(--idle); border: 1px solid var(--accent); }

/* Timeline */
.timeline { border: 1px solid var(--line); border-radius: 4px; padding: 0.25rem 0; background: var(--bg); }
.tl-row { display: grid; grid-template-columns: var(--label-w) minmax(0, 1fr); align-items: center; padding-right: 0.5rem; }
.tl-label { padding: 0 0.5rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 0.85em; }
.tl-track { min-width: 0; overflow: hidden; }
.tl-track svg { display: block; }
.tl-chart .tl-label { color: var(--muted); line-height: 1.1; }
.open-area { fill: var(--chart); }
.open-max { stroke: var(--accent); stroke-dasharray: 3 3; stroke-width: 1; }
.axis text { font-size: 10px; fill: var(--muted); }
.axis .tick { stroke: var(--muted); }
.lanes { position: relative; }
.lanes.virtual { max-height: 70vh; overflow-y: auto; }
.lane { height: var(--lane-h); cursor: pointer; border-top: 1px solid transparent; }
.lane:hover { background: var(--panel); }
.lane .who { color: var(--muted); }
.lane .flags { margin-left: 0.35rem; color: var(--accent); font-size: 0.85em; }
.placed { position: absolute; left: 0; right: 0; }
.spacer { position: relative; }
.life { fill: var(--life); }
.idle { fill: var(--idle); }
.mark.st-ok { fill: var(--ok); } .mark.st-no { fill: var(--no); } .mark.st-bad { fill: var(--bad); } .mark.st-inc { fill: var(--inc); }
.tooltip { position: fixed; z-index: 10; pointer-events: none; background: var(--panel); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: 0.3rem 0.5rem; box-shadow: 0 2px 8px rgba(0,0,0,0.25); max-width: min(28rem, 90vw); font-size: 0.9em; }
.tooltip span, .tooltip strong { display: block; overflow-wrap: anywhere; }

/* Ladder */
.ladder-panel { border: 1px solid var(--line); border-radius: 4px; padding: 0.5rem; margin-top: 0.75rem; background: var(--panel); }
.panel-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
.panel-head h3 { margin: 0.25rem 0; overflow-wrap: anywhere; }
.ladder-panel .facts { margin: 0.25rem 0; }
.ladder-head, .ex, .marker, .greeting { display: grid; grid-template-columns: 9.5rem minmax(0, 1fr); }
.ladder-head { grid-template-columns: 9.5rem 1fr 1fr; font-weight: bold; color: var(--muted); font-size: 0.85em; padding: 0.25rem 0; }
.ladder-head span:last-child { text-align: right; }
.ladder { position: relative; background: var(--bg); border: 1px solid var(--line); }
.ladder.virtual { max-height: 70vh; overflow-y: auto; }
.ex, .marker, .greeting { height: var(--row-h); border-bottom: 1px solid var(--line); position: relative; }
.when { display: flex; flex-direction: column; justify-content: space-around; padding: 0 0.4rem; font-size: 0.8em; color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; }
.flow { display: flex; flex-direction: column; justify-content: space-around; border-left: 3px solid var(--accent); border-right: 3px solid var(--accent); padding: 0 0.6rem; min-width: 0; }
.arrow { position: relative; display: flex; gap: 0.5rem; align-items: flex-end; border-bottom: 1.5px solid var(--fg); height: 1.35rem; font-size: 0.9em; min-width: 0; }
.arrow .msg { flex: 1; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.92em; }
.arrow.req::after { content: ""; position: absolute; right: -2px; bottom: -5px; border: 4.5px solid transparent; border-left: 7px solid var(--fg); border-right: 0; }
.arrow.res { justify-content: flex-end; }
.arrow.res::before { content: ""; position: absolute; left: -2px; bottom: -5px; border: 4.5px solid transparent; border-right: 7px solid var(--fg); border-left: 0; }
.arrow.res .msg { text-align: right; }
.arrow.res.st-ok { border-bottom-color: var(--ok); } .arrow.res.st-no { border-bottom-color: var(--no); } .arrow.res.st-bad { border-bottom-color: var(--bad); }
.arrow.missing { border-bottom-style: dashed; color: var(--muted); }
.latency { white-space: nowrap; font-variant-numeric: tabular-nums; color: var(--muted); }
.ex.st-bad .when { color: var(--bad); } .ex.st-no .when { color: var(--no); }
.ex.idle { background: var(--idle); }
.ex.switch { background: linear-gradient(90deg, transparent, var(--panel)); }
.ex .switch-note { position: absolute; right: 1rem; top: 0.15rem; }
.ex .cont { margin-left: 0.25rem; }
.ex.highlight { outline: 2px solid var(--focus); outline-offset: -2px; }
.marker { color: var(--no); font-style: italic; }
.marker-text { display: flex; align-items: center; padding: 0 0.6rem; border-left: 3px solid var(--accent); border-right: 3px solid var(--accent); overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }

/* Commands and messages */
.histogram .bar { fill: var(--accent); } .histogram .bar-base { fill: var(--line); }
.command-table td.st-bad { color: var(--bad); font-weight: bold; } .command-table td.st-no { color: var(--no); font-weight: bold; }
.message-item summary { cursor: pointer; padding: 0.2rem 0; overflow-wrap: anywhere; }
.parts { margin: 0.25rem 0 0.75rem 1rem; font-size: 0.9em; }
.parts .indent { display: inline-block; }
${[1, 2, 3, 4, 5, 6, 7, 8].map((d) => `.parts .indent[data-depth="${d}"] { padding-left: ${d}rem; }`).join(' ')}
.parts tr.not-fetched { color: var(--muted); }
.fetch-ref { display: block; margin: 0.1rem 0; text-align: left; font-size: 0.9em; background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
.comparison { margin: 0.5rem 0 1rem; }
.comparison .verdict { font-weight: 600; }
.comparison.differs .verdict { color: var(--bad); } .comparison.same .verdict { color: var(--ok); }
.differences li { margin: 0.15rem 0; }
.pair summary { cursor: pointer; }
.aligned { font-size: 0.85em; margin: 0.25rem 0 0.5rem; }
.aligned td { padding: 0 0.5rem; border: none; }
.aligned code { white-space: pre-wrap; overflow-wrap: anywhere; }
.aligned .sign { color: var(--bad); font-weight: bold; text-align: center; }
.aligned tr.mark-changed, .aligned tr.mark-onlyA, .aligned tr.mark-onlyB { background: var(--panel); }
.capture-notice { color: var(--no); font-weight: 600; }

/* Narrow screens (phones, 390 px) */
@media (max-width: 640px) {
  :root { --label-w: 4.5rem; font-size: 13px; }
  #app { padding: 0 0.5rem 2rem; }
  .ladder-head, .ex, .marker, .greeting { grid-template-columns: 5.5rem minmax(0, 1fr); }
  .ladder-head { grid-template-columns: 5.5rem 1fr 1fr; }
  .lane .flags { display: none; }
  .flow, .marker-text { padding: 0 0.3rem; }
  .ex .switch-note { display: none; }
}

/* Paper: no controls, everything open, no fixed heights */
@media print {
  :root { --bg: #fff; --fg: #000; --panel: #fff; color-scheme: light; }
  nav, .controls, button.more, button.close, .tooltip, .hint { display: none !important; }
  .lanes.virtual, .ladder.virtual, .warnings { max-height: none; overflow: visible; }
  .lane, .ex, .marker, .greeting, tr { break-inside: avoid; }
  .capture { break-before: page; }
  .capture:first-of-type { break-before: auto; }
}
`;
