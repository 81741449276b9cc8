import { closeSync, lstatSync, writeFileSync } from 'node:fs';
import { openInto, OTHER_DEVICE, outputTarget } from '../output-target.js';
import chalk from 'chalk';
import { expandCaptures } from '../../fleet/walk.js';
import { inOrder } from '../../parallel/pool.js';
import { loadRulesFile, parseStat } from '../../check/load.js';
import { failureLine, junitXml } from '../../check/junit.js';
import { combine, normalizeCommand, ruleName, type CaptureOutcomes, type CheckReport, type Rule } from '../../check/rules.js';
import { makeTable } from '../../report/format.js';
import { escapeText } from '../../util/escape.js';
import { EXIT_CHECK_FAILED, UsageError } from '../errors.js';
import { parseNonNegativeInt, captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureSizes, jobsFor } from '../../parallel/jobs.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';

export interface CheckOptions {
  port: string; keylog?: string[]; jobs?: string;
  rules?: string;
  maxConnections?: string;
  maxConcurrent?: string;
  /** commander's negatable `--no-bad`: false when the flag was given. */
  bad: boolean;
  forbidNo?: boolean;
  allowNo?: string[];
  allCompleted?: boolean;
  /** commander's negatable `--no-plaintext-auth`: false when the flag was given. */
  plaintextAuth: boolean;
  requireCommand?: string[];
  forbidCommand?: string[];
  requireCapability?: string[];
  requireSequence?: string[];
  forbidSequence?: string[];
  maxLatency?: string[];
  json?: boolean;
  junit?: string;
  annotate?: boolean;
  allowEncrypted?: boolean;
  filter?: string;
}

export async function runCheck(args: string[], opts: CheckOptions): Promise<void> {
  const captures = await expandCaptures(args);
  const settings = captureSettings(opts);
  compileFilterOption(opts.filter); // a bad -Y is a usage error before any capture is read
  const rules = rulesFromOptions(opts);
  if (rules.length === 0) throw new UsageError('check: no rules (give --rules FILE or a rule option such as --no-bad)');
  if (opts.junit !== undefined) junitTarget(opts.junit);
  const checked: CaptureOutcomes[] = [];
  const inputs = captures.map((path) => ({ path, settings: plainSettings(settings), filter: opts.filter, rules, allowEncrypted: Boolean(opts.allowEncrypted) }));
  const sizes = captureSizes(captures);
  for await (const r of inOrder('check', inputs, jobsFor(jobsOf(opts), captures, sizes), undefined, settings, { sizes })) {
    checked.push(r);
    output.warnings(r.warnings, r.capture);
  }
  const report = combine(rules, checked);
  if (opts.json) await output.json(checkJson(report));
  else output.write(checkText(report));
  if (opts.annotate) {
    for (const line of annotations(report)) {
      if (opts.json) output.note(line);
      else output.write(`${line}\n`);
    }
  }
  if (opts.junit !== undefined) await writeJunit(opts.junit, junitXml(report));
  if (!report.passed) process.exitCode = EXIT_CHECK_FAILED;
}

/** Rules from the file (first) and the flags, without duplicates. */
export function rulesFromOptions(opts: CheckOptions): Rule[] {
  const rules: Rule[] = opts.rules !== undefined ? loadRulesFile(opts.rules) : [];
  if (opts.maxConnections !== undefined) rules.push({ kind: 'max-connections', max: parseNonNegativeInt('--max-connections', opts.maxConnections) });
  if (opts.maxConcurrent !== undefined) rules.push({ kind: 'max-concurrent', max: parseNonNegativeInt('--max-concurrent', opts.maxConcurrent) });
  if (opts.bad === false) rules.push({ kind: 'no-bad' });
  if (opts.forbidNo || (opts.allowNo ?? []).length) rules.push({ kind: 'no-no', except: (opts.allowNo ?? []).map((n) => commandName('--allow-no', n)) });
  if (opts.allCompleted) rules.push({ kind: 'all-completed' });
  if (opts.plaintextAuth === false) rules.push({ kind: 'no-plaintext-auth' });
  for (const n of opts.requireCommand ?? []) rules.push({ kind: 'require-command', command: commandName('--require-command', n) });
  for (const n of opts.forbidCommand ?? []) rules.push({ kind: 'forbid-command', command: commandName('--forbid-command', n) });
  for (const c of opts.requireCapability ?? []) {
    if (c.trim() === '') throw new UsageError('--require-capability: empty capability');
    rules.push({ kind: 'require-capability', capability: c.trim() });
  }
  for (const s of opts.requireSequence ?? []) rules.push({ kind: 'sequence', commands: sequenceArg('--require-sequence', s), present: true });
  for (const s of opts.forbidSequence ?? []) rules.push({ kind: 'sequence', commands: sequenceArg('--forbid-sequence', s), present: false });
  for (const l of opts.maxLatency ?? []) rules.push(latencyArg(l));
  const seen = new Set<string>();
  return rules.filter((r) => {
    const name = ruleName(r);
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

function commandName(flag: string, value: string): string {
  const name = normalizeCommand(value);
  if (name === '') throw new UsageError(`${flag}: empty command name`);
  return name;
}

function sequenceArg(flag: string, value: string): string[] {
  const parts = value.split(',').map(normalizeCommand);
  if (parts.some((p) => p === '')) throw new UsageError(`${flag}: '${value}' is not a comma list of command names (e.g. CAPABILITY,LOGIN,SELECT)`);
  return parts;
}

/** `SELECT=200`, `UID FETCH:p95=500`, `LIST:max=50ms`. */
export function latencyArg(value: string): Rule {
  const usage = `--max-latency: '${value}' is not NAME=MS or NAME:STAT=MS (e.g. SELECT=200, "UID FETCH:p95=500")`;
  const eq = value.lastIndexOf('=');
  if (eq < 0) throw new UsageError(usage);
  const left = value.slice(0, eq);
  const msText = value.slice(eq + 1).trim().replace(/\s*ms$/i, '');
  const ms = Number(msText);
  if (msText === '' || !Number.isFinite(ms) || ms < 0) throw new UsageError(usage);
  const colon = left.lastIndexOf(':');
  const command = normalizeCommand(colon < 0 ? left : left.slice(0, colon));
  if (command === '') throw new UsageError(usage);
  const stat = colon < 0 ? { kind: 'max' as const } : parseStat(left.slice(colon + 1), '', () => { throw new UsageError(`${usage}; STAT is p50, p95, p99, pN or max`); });
  return { kind: 'latency', command, stat, maxMs: ms };
}

export function checkJson(report: CheckReport): object {
  return {
    passed: report.passed,
    captures: report.captures,
    results: report.results.map((r) => ({ rule: r.rule, passed: r.passed, message: r.message, failures: r.failures })),
  };
}

export function checkText(report: CheckReport): string {
  const mark = (passed: boolean) => (passed ? chalk.green('PASS') : chalk.red.bold('FAIL'));
  const table = makeTable(['result', { head: 'rule', shrink: 1 }, { head: 'details', shrink: 2 }]);
  for (const r of report.results) table.push([mark(r.passed), escapeText(r.rule), escapeText(r.message)]);
  let out = `${table.toString()}\n`;
  const failing = report.results.filter((r) => !r.passed);
  if (failing.length) {
    const many = report.captures.length > 1;
    const ft = makeTable([...(many ? [{ head: 'capture', shrink: 2 }] : []), { head: 'rule', shrink: 1 }, 'conn', { head: 'tag', align: 'left' }, { head: 'command', shrink: 1 }, 'request', 'response', { head: 'detail', shrink: 3 }]);
    const dash = (v: number | string | null) => (v === null ? '' : escapeText(String(v)));
    for (const r of failing) {
      for (const f of r.failures) {
        ft.push([...(many ? [escapeText(f.capture)] : []), escapeText(r.rule), dash(f.conn), dash(f.tag), dash(f.command), dash(f.requestFrame), dash(f.responseFrame), escapeText(f.detail)]);
      }
    }
    out += `${ft.toString()}\n`;
  }
  const failed = failing.length;
  out += failed === 0
    ? `${chalk.green('check passed')}: ${report.results.length} rule${report.results.length === 1 ? '' : 's'} hold${report.results.length === 1 ? 's' : ''}\n`
    : `${chalk.red.bold('check failed')}: ${failed} of ${report.results.length} rules failed\n`;
  return out;
}

/** GitHub Actions workflow-command escaping (as @actions/core does). */
function ghData(s: string): string {
  return escapeText(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function ghProperty(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One `::error file=…,title=…::message` line per failure. */
export function annotations(report: CheckReport): string[] {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.passed) continue;
    for (const c of r.captures) {
      if (c.passed) continue;
      for (const f of c.failures) lines.push(`::error file=${ghProperty(c.capture)},title=${ghProperty(`imapscope check: ${r.rule}`)}::${ghData(failureLine(f))}`);
      const more = c.failureCount - c.failures.length;
      if (more > 0) lines.push(`::error file=${ghProperty(c.capture)},title=${ghProperty(`imapscope check: ${r.rule}`)}::${ghData(`… and ${more} more`)}`);
    }
  }
  return lines;
}

/**
 * Refuse a --junit path that is a directory, a symbolic link to a file (we write exactly the path named) or a device other
 * than a terminal or /dev/null; a pipe, a terminal or /dev/null is written into (outputTarget).
 */
function junitTarget(path: string): void {
  if (path.trim() === '') throw new UsageError('--junit: empty file name');
  const target = outputTarget(path);
  if (target === 'into') return; // a pipe, a terminal or /dev/null: written into
  if (target === 'other-device') throw new UsageError(`--junit: ${path} ${OTHER_DEVICE}`);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // does not exist yet: fine
  }
  if (st.isDirectory()) throw new UsageError(`--junit: ${path} is a directory; name the XML file to write`);
  if (st.isSymbolicLink()) throw new UsageError(`--junit: ${path} is a symbolic link; name the file itself`);
  if (!st.isFile()) throw new UsageError(`--junit: ${path} is not a regular file`);
}

async function writeJunit(path: string, xml: string): Promise<void> {
  junitTarget(path);
  try {
    if (outputTarget(path) !== 'into') {
      writeFileSync(path, xml);
      return;
    }
    // A pipe waits for its reader; Ctrl-C ends the wait.
    const fd = await openInto(path, output.stopSignal);
    if (fd === null) {
      output.interruptedMeans(`check interrupted while ${escapeText(path)} waited for a reader; the JUnit report was not written`);
      return;
    }
    try {
      writeFileSync(fd, xml);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new UsageError(`--junit: cannot write ${path}: ${(err as Error).message}`);
  }
}
