/**
 * The scaling table of docs/benchmarks.md: for each dimension (bench/scale-captures.ts) imapscope runs on a
 * capture of N and of 2N; doubling a dimension must at most double the time (within noise) and keep peak
 * memory in check. Also checks that `commands --json` reports as many exchanges as the capture holds.
 *
 *   node dist/bench/scaling.js [--n open=50000,idling=50000,idling-tls=20000,midway-tls=100000,idling-compress=50000,syn-flood=200000,chatty=200000,closed=10000,busy=50000,named=50000,pipelined=200000,untagged=200000,literals=100000,mailboxes=20000,parts=10000,expunged=100000,held=100000,outstanding=200000,refetched=100000,appended=100000]
 *                              [--only busy,closed]  (those dimensions alone)
 *                              [--workdir DIR]
 *                              [--commands commands,summary,'check --no-bad --max-connections 1000000']  (views with options; each must exit 0)
 *
 * A view is given the capture last, with --json. One that names `{file}` gets the capture there instead, and nothing
 * added: `report -o {out}.html {file}`, `export --out {out} --format ndjson {file}`, `compare --jobs 1 {file} OTHER`.
 * `{out}` is a path in the work directory, removed after each run. Either way, the options a dimension's captures need
 * follow (the key log of `idling-tls`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCALE_KINDS, SCALE_OPTIONS, generateScaleCapture, type ScaleKind } from './scale-captures.js';
import { fmt, markdownTable, measure, ok, table } from './measure.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../bundle/main.js');
const DEFAULT_N: Record<ScaleKind, number> = { open: 50_000, idling: 50_000, 'idling-tls': 20_000, 'midway-tls': 100_000, 'idling-compress': 50_000, 'syn-flood': 200_000, chatty: 200_000, closed: 10_000, busy: 50_000, named: 50_000, pipelined: 200_000, untagged: 200_000, literals: 100_000, mailboxes: 20_000, parts: 10_000, expunged: 100_000, held: 100_000, outstanding: 200_000, refetched: 100_000, appended: 100_000 };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string' }, only: { type: 'string' }, workdir: { type: 'string' }, commands: { type: 'string', default: 'commands,summary' } } });
  const only = values.only?.split(',').filter(Boolean) ?? [...SCALE_KINDS];
  for (const kind of only) if (!SCALE_KINDS.includes(kind as ScaleKind)) throw new Error(`--only: '${kind}' is not one of ${SCALE_KINDS.join(', ')}`);
  const n = { ...DEFAULT_N };
  for (const pair of (values.n ?? '').split(',').filter(Boolean)) {
    const [kind, count] = pair.split('=');
    if (!SCALE_KINDS.includes(kind as ScaleKind) || !(Number(count) > 0)) throw new Error(`--n: '${pair}' is not KIND=COUNT`);
    n[kind as ScaleKind] = Number(count);
  }
  const views = values.commands!.split(',');
  const dir = values.workdir ?? mkdtempSync(join(tmpdir(), 'imapscope-scaling-'));
  const head = ['dimension', 'N', 'command', 's @N', 's @2N', 'ratio', 'peak MiB @N', 'peak MiB @2N', 'exchanges ok'];
  const rows: string[][] = [];
  try {
    for (const kind of SCALE_KINDS.filter((k) => only.includes(k))) {
      const files: { path: string; summary: Awaited<ReturnType<typeof generateScaleCapture>> }[] = [];
      for (const count of [n[kind], 2 * n[kind]]) {
        const path = join(dir, `${kind}-${count}.pcap`);
        files.push({ path, summary: await generateScaleCapture(kind, count, path) });
      }
      for (const view of views) {
        const args = view.split(' ').filter(Boolean);
        const run = async (file: string) => {
          const out = join(dir, 'out');
          try {
            return await measure(CLI, [...viewArgs(args, file, out), ...(SCALE_OPTIONS[kind] ?? [])], { stdout: 'capture' });
          } finally {
            for (const path of [out, `${out}.html`]) rmSync(path, { recursive: true, force: true });
          }
        };
        const [a, b] = [await run(files[0]!.path), await run(files[1]!.path)];
        const counted = view === 'commands' && ok(a) && ok(b)
          ? [a, b].every((m, i) => (JSON.parse(m.stdout) as { exchanges: unknown[] }).exchanges.length === files[i]!.summary.exchanges) ? 'yes' : 'NO'
          : '-';
        rows.push([kind, String(n[kind]), view, ok(a) ? a.seconds.toFixed(2) : 'FAILED', ok(b) ? b.seconds.toFixed(2) : 'FAILED',
          ok(a) && ok(b) ? `${(b.seconds / a.seconds).toFixed(2)}x` : '-', fmt(a.maxRssKiB && a.maxRssKiB / 1024), fmt(b.maxRssKiB && b.maxRssKiB / 1024), counted]);
        process.stdout.write(`${rows[rows.length - 1]!.join('  ')}\n`);
      }
    }
    process.stdout.write(`\n${table(head, rows)}\n\nmarkdown:\n${markdownTable(head, rows)}\n`);
  } finally {
    if (!values.workdir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The view's arguments for one capture: in place of `{file}` (and `{out}`), or else the capture and --json last. The
 * options the dimension needs (SCALE_OPTIONS) follow.
 */
function viewArgs(args: string[], file: string, out: string): string[] {
  const given = args.map((a) => a.replaceAll('{file}', file).replaceAll('{out}', out));
  return args.some((a) => a.includes('{file}')) ? given : [...given, file, '--json'];
}

main().catch((err: unknown) => {
  process.stderr.write(`scaling: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
