import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ReportDocument } from './report.js';
import { REPORT_CSS } from './styles.js';
import { compactJsonPieces, gathered } from '../../util/json.js';

/**
 * The page's script, built from client/*.ts by its own tsconfig (browser scripts, no modules) into
 * dist/src/report/html/client/. Order matters: helpers first, main (which runs) last.
 */
const CLIENT_FILES = ['dom', 'virtual-list', 'tooltip', 'timeline', 'ladder', 'header', 'commands', 'messages', 'differences', 'main'];

let clientScript: string | null = null;

function loadClientScript(): string {
  if (clientScript !== null) return clientScript;
  const parts = CLIENT_FILES.map((name) => {
    const url = new URL(`./client/${name}.js`, import.meta.url);
    try {
      return readFileSync(url, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '').trim();
    } catch {
      throw new Error(`the report's page script is missing (${name}.js): build with 'npm run build'`);
    }
  });
  // One function scope: nothing leaks into the page's globals.
  clientScript = `(() => {\n'use strict';\n${parts.join('\n')}\n})();`;
  return clientScript;
}

/**
 * JSON that is safe inside <script type="application/json">: `<`, `>` and `&` cannot close the element or
 * open a comment, and U+2028/2029 are escaped too (they end lines in older script parsers).
 */
export function scriptSafe(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Levels of the report's data written member by member: the data, its captures, each capture, its lists. */
const DATA_LEVELS = 4;

/** Text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The whole report as one HTML file: style, script and data inline. The Content-Security-Policy allows
 * exactly this page's own style and script (by hash) and nothing from anywhere else: no network, no
 * other script, no form, no frame. The data is never markup: the script reads it with JSON.parse and
 * writes it into the page as text.
 */
export function renderReportPage(data: ReportDocument, title: string): string {
  return [...reportPagePieces(data, title)].join('');
}

/**
 * The page in pieces, as they are written: the data of 100,000 sessions is 150 MB of JSON, which as one string (and
 * again as the page, and as the bytes written) tripled the report's peak.
 */
export function* reportPagePieces(data: ReportDocument, title: string): Generator<string> {
  const script = loadClientScript();
  const csp = [
    "default-src 'none'", `script-src ${sha256(script)}`, `style-src ${sha256(REPORT_CSS)}`, 'img-src data:',
    "base-uri 'none'", "form-action 'none'",
  ].join('; ');
  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="${escapeHtml(data.generator)}">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main id="app"><p>Drawing the report… (it needs JavaScript; everything it shows is inside this file).</p></main>
<script type="application/json" id="imapscope-data">`;
  // The escapes are of single characters: each piece can be made safe on its own.
  for (const piece of gathered(compactJsonPieces(data, DATA_LEVELS))) yield scriptSafe(piece);
  yield `</script>
<script>${script}</script>
</body>
</html>
`;
}
