/**
 * What each layer of the pipeline costs, and so where the floor of a whole run lies: the same capture run through
 * ever more of the pipeline, each stack a whole process of its own (Node's start-up included, as in the tshark
 * comparison), one at a time, in rounds, median of the runs:
 *
 *   node       a process that loads nothing: Node's own start-up
 *   read       + the capture reader (src/capture/reader.ts): every record as a Frame
 *   decode     + link, IP and TCP decoding (src/decode/decoder.ts)
 *   tcp        + TCP reassembly into a sink that only counts bytes (src/pipeline.ts, src/tcp/)
 *   frame      + IMAP framing of both directions into messages nobody reads (src/imap/framer.ts)
 *   analyze    + sessions, pairing and request order: what `commands` analyses, written nowhere
 *   commands   + its JSON: `commands --json` to /dev/null, from the modules as the stacks load them
 *   bin        the same from the bin (bundled: its modules load faster), as the bench runs it
 *   tshark     tshark -r FILE -Y imap -T fields -e imap.request.command, to /dev/null
 *
 * Each stack's time less the one before it is what that layer adds; tshark's time over 10 and over 20 are the issue's
 * budgets for a whole run. The stacks run with the bin's V8 flags, so that they collect garbage as it does.
 *
 *   node dist/bench/layers.js FILE [FILE ...] [--runs N] [--skip-tshark]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, machine, markdownTable, measure, ok, summarise, type Measurement } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const BIN = resolve(HERE, '../bundle/main.js');
const MAIN = resolve(HERE, '../src/cli/main.js');
/** The stacks' own script: it loads nothing until it knows its stack, so that `node` is Node's start-up alone. */
const CHILD = resolve(HERE, 'layer-stack.js');
/** The bin's V8 flags, read off its first line (src/cli/main.ts's, which scripts/bundle.mjs gives the bin). */
const V8_FLAGS = readFileSync(BIN, 'utf8').split('\n', 1)[0]!.split(/\s+/).filter((word) => word.startsWith('--'));

const STACKS = ['node', 'read', 'decode', 'tcp', 'frame', 'analyze'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Parent side

interface Run {
  label: string;
  cmd: string;
  args: string[];
  /** The child prints a count: each run's must be the same. */
  counts: boolean;
}

function runsFor(file: string, skipTshark: boolean): Run[] {
  const runs: Run[] = STACKS.map((stack) => ({ label: stack, cmd: process.execPath, args: [...V8_FLAGS, CHILD, stack, file], counts: true }));
  runs.push({ label: 'commands', cmd: process.execPath, args: [...V8_FLAGS, MAIN, 'commands', '--json', file], counts: false });
  runs.push({ label: 'bin: commands --json', cmd: BIN, args: ['commands', '--json', file], counts: false });
  if (!skipTshark) runs.push({ label: 'tshark -Y imap fields', cmd: 'tshark', args: ['-r', file, '-Y', 'imap', '-T', 'fields', '-e', 'imap.request.command'], counts: false });
  return runs;
}

async function layersOf(file: string, runs: number, skipTshark: boolean): Promise<void> {
  const jobs = runsFor(file, skipTshark);
  const all: Measurement[][] = jobs.map(() => []);
  const counts: string[] = jobs.map(() => '');
  // In rounds (every stack, then again), so that a noisy moment does not land on one stack only.
  for (let round = 0; round < runs; round++) {
    for (const [i, job] of jobs.entries()) {
      const m = await measure(job.cmd, job.args, { stdout: job.counts ? 'capture' : 'null' });
      if (!ok(m)) throw new Error(`${job.label} failed (exit ${m.exitCode ?? m.signal}): ${m.stderrTail.trim()}`);
      const count = m.stdout.trim();
      if (job.counts && round > 0 && count !== counts[i]) throw new Error(`${job.label} counted ${count}, then ${counts[i]}`);
      counts[i] = count;
      all[i]!.push(m);
    }
  }
  const medians = all.map(summarise);
  const commands = medians[STACKS.length]!;
  const tshark = skipTshark ? null : medians[STACKS.length + 2]!;
  const rows = jobs.map((job, i) => {
    const m = medians[i]!;
    const before = i > 0 && i <= STACKS.length ? medians[i - 1]!.seconds : null;
    return [
      job.label,
      fmt(m.seconds, 3),
      fmt(m.user !== null && m.sys !== null ? m.user + m.sys : null, 2),
      before === null ? '' : signed(m.seconds - before),
      `${((m.seconds / commands.seconds) * 100).toFixed(0)} %`,
      tshark ? `${(tshark.seconds / m.seconds).toFixed(1)}x` : '',
      fmt((m.maxRssKiB ?? 0) / 1024, 0),
      job.counts ? counts[i]! : '',
    ];
  });
  process.stdout.write(`\n${file} (median of ${runs} run${runs === 1 ? '' : 's'})\n\n`);
  process.stdout.write(markdownTable(['stack', 'wall s', 'CPU s', 'layer adds s', 'of commands', 'tshark ÷ this', 'peak MiB', 'count'], rows) + '\n');
  if (tshark) {
    process.stdout.write(`\nbudgets for a whole run: 10x tshark = ${fmt(tshark.seconds / 10, 3)} s, 20x tshark = ${fmt(tshark.seconds / 20, 3)} s\n`);
  }
}

/** A difference with its sign: noise can make a layer look free, or cheaper than nothing. */
function signed(seconds: number): string {
  return `${seconds < 0 ? '−' : '+'}${fmt(Math.abs(seconds), 3)}`;
}

async function parent(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '3' }, 'skip-tshark': { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new Error('usage: layers FILE [FILE ...] [--runs N] [--skip-tshark]');
  const runs = Math.max(1, Math.floor(Number(values.runs) || 1));
  const skipTshark = values['skip-tshark'] || spawnSync('tshark', ['--version']).status !== 0;
  for (const [k, v] of Object.entries(machine())) process.stdout.write(`${k}: ${v}\n`);
  for (const file of positionals) await layersOf(resolve(file), runs, skipTshark);
}

await parent();
