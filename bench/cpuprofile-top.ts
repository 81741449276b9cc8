/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, mapped back to the
 * TypeScript source through the build's source maps, and self time per source file.
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof dist/src/cli/main.js commands FILE --json > /dev/null
 *   node dist/bench/cpuprofile-top.js /tmp/prof/CPU.*.cpuprofile [--top 25]
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number; // 0-based
  columnNumber: number; // 0-based
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  /** Samples per line (1-based, in the generated JavaScript) within this node's function. */
  positionTicks?: { line: number; ticks: number }[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let map: SourceMap | null = null;
    try {
      const file = fileURLToPath(url) + '.map';
      if (existsSync(file)) {
        const payload = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourceRoot?: string };
        // Node's SourceMap hands sources back as written; make them absolute paths.
        payload.sources = payload.sources.map((s) => resolve(dirname(file), payload.sourceRoot ?? '', s));
        map = new SourceMap(payload as never);
      }
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  return maps.get(url)!;
}

const jsLines = new Map<string, string[]>();

/** The TypeScript line (and its text) that generated line `line` (1-based) of the JavaScript at `url`. */
function sourceLine(url: string, line: number): { at: string; text: string } {
  if (!jsLines.has(url)) {
    try {
      jsLines.set(url, readFileSync(fileURLToPath(url), 'utf8').split('\n'));
    } catch {
      jsLines.set(url, []);
    }
  }
  const js = jsLines.get(url)![line - 1] ?? '';
  const column = js.length - js.trimStart().length;
  const at = where({ functionName: '', url, lineNumber: line - 1, columnNumber: column });
  const m = /^(.*):(\d+)$/.exec(at);
  let text = js.trim();
  if (m && existsSync(m[1]!)) text = (readFileSync(m[1]!, 'utf8').split('\n')[Number(m[2]) - 1] ?? text).trim();
  return { at, text: text.length > 100 ? text.slice(0, 97) + '...' : text };
}

/** "src/imap/framer.ts:123" for our code (through the source map), the URL's tail for everything else. */
function where(cf: CallFrame): string {
  if (!cf.url) return '(native)';
  if (cf.url.startsWith('file://')) {
    const map = sourceMapFor(cf.url);
    const entry = map?.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource) {
      const o = entry.originalSource;
      const src = o.startsWith('file://') ? fileURLToPath(o) : o;
      return `${relative(process.cwd(), src)}:${entry.originalLine! + 1}`;
    }
    return `${relative(process.cwd(), fileURLToPath(cf.url))}:${cf.lineNumber + 1}`;
  }
  return `${cf.url}:${cf.lineNumber + 1}`;
}

function main(): void {
  // Piped into head: end quietly when the reader has had enough.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const path = positionals[0];
  if (!path) throw new Error('usage: cpuprofile-top FILE.cpuprofile [--top N]');
  const top = Number(values.top) || 25;
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;

  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the sample's time is attributed to the node it hit.
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + Math.max(0, d));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const byFunction = new Map<string, { fn: string; at: string; us: number }>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    const at = where(cf);
    const fn = cf.functionName || '(anonymous)';
    const key = `${fn} ${at}`;
    const e = byFunction.get(key) ?? { fn, at, us: 0 };
    e.us += us;
    byFunction.set(key, e);
    const file = at.replace(/:\d+$/, '');
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }

  // The same time, charged to the nearest caller in our own code (so Buffer.concat, GC-free natives and
  // other library time land on the line that asked for them). GC cannot be charged: it stays separate.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = (cf: CallFrame) => cf.url.startsWith('file://') && !cf.url.includes('/node_modules/');
  const charged = new Map<string, { fn: string; at: string; us: number }>();
  for (const [id, us] of selfUs) {
    let n = byId.get(id)!;
    const special = n.callFrame.functionName.startsWith('(');
    while (!special && !own(n.callFrame) && parent.has(n.id)) n = byId.get(parent.get(n.id)!)!;
    const cf = n.callFrame;
    const at = where(cf);
    const fn = cf.functionName || '(anonymous)';
    const e = charged.get(`${fn} ${at}`) ?? { fn, at, us: 0 };
    e.us += us;
    charged.set(`${fn} ${at}`, e);
  }

  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.write(`${path}: ${(total / 1e6).toFixed(2)} s sampled\n\nself time by function\n`);
  for (const e of [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top)) {
    process.stdout.write(`${pct(e.us)}  ${(e.us / 1000).toFixed(0).padStart(6)} ms  ${e.fn}  ${e.at}\n`);
  }
  process.stdout.write('\nself time charged to the nearest own-code caller (Node internals folded in)\n');
  for (const e of [...charged.values()].sort((a, b) => b.us - a.us).slice(0, top)) {
    process.stdout.write(`${pct(e.us)}  ${(e.us / 1000).toFixed(0).padStart(6)} ms  ${e.fn}  ${e.at}\n`);
  }
  // Hottest source lines, from the per-line tick counts V8 records inside each function.
  const tickUs = total / Math.max(1, p.samples.length);
  const lines = new Map<string, { at: string; text: string; ticks: number }>();
  for (const n of p.nodes) {
    if (!n.callFrame.url.startsWith('file://')) continue;
    for (const t of n.positionTicks ?? []) {
      const { at, text } = sourceLine(n.callFrame.url, t.line);
      const e = lines.get(at) ?? { at, text, ticks: 0 };
      e.ticks += t.ticks;
      lines.set(at, e);
    }
  }
  process.stdout.write('\nhottest source lines (self time)\n');
  for (const e of [...lines.values()].sort((a, b) => b.ticks - a.ticks).slice(0, top)) {
    process.stdout.write(`${pct(e.ticks * tickUs)}  ${e.at}  ${e.text}\n`);
  }
  process.stdout.write('\nself time by file\n');
  for (const [file, us] of [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${file}\n`);
  }
}

main();
