/**
 * Rules files for `imapscope check`: JSON or YAML (the same document either way), validated strictly so a
 * typo is an error (exit 2), not a rule that silently never runs. Format: docs/check.md.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Document } from 'yaml';
import { escapeText } from '../util/escape.js';
import { lazyRequire } from '../util/lazy-require.js';
import { RulesError } from './errors.js';
import { normalizeCommand, type LatencyStat, type Rule } from './rules.js';

/** Only rules files in YAML need the parser. */
const yaml = lazyRequire<typeof import('yaml')>('yaml');

const KEYS = [
  'version', 'maxConnections', 'maxConcurrent', 'noBad', 'noNo', 'allCompleted', 'noPlaintextAuth', 'latency',
  'requireCommands', 'forbidCommands', 'requireCapabilities', 'requireSequences', 'forbidSequences',
] as const;

/** Read and validate a rules file; any problem is a RulesError naming the file and the place. */
export function loadRulesFile(path: string): Rule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.message ?? String(err));
    throw new RulesError(`cannot read rules file ${path}: ${why}`);
  }
  return parseRules(text, path);
}

/** Parse rules from text (JSON when the name ends in .json, else YAML, which also reads JSON). */
export function parseRules(text: string, source: string): Rule[] {
  let data: unknown;
  if (extname(source).toLowerCase() === '.json') {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new RulesError(`rules file ${source}: invalid JSON: ${firstLine((err as Error).message)}`);
    }
  } else {
    const doc = yaml().parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new RulesError(`rules file ${source}: invalid YAML: ${firstLine(problem.message)}`);
    const badKey = nonTextKeyLine(doc, text);
    if (badKey !== null) throw new RulesError(`rules file ${source}: invalid YAML: a key must be text, not a list, a mapping or binary data (line ${badKey})`);
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new RulesError(`rules file ${source}: invalid YAML: ${firstLine((err as Error).message)}`);
    }
  }
  return rulesFromSpec(data, `rules file ${source}`);
}

/**
 * The line of the first mapping key that is not a plain value (`? [a, b]`, `? {a: 1}`, `!!binary` data), or null.
 * Rules and commands are named by text; such a key would become text of its own making, and the YAML library warns
 * on the process about it.
 */
function nonTextKeyLine(doc: Document.Parsed, text: string): number | null {
  const y = yaml();
  let offset: number | null = null;
  y.visit(doc, {
    Pair(_key, pair) {
      // An alias (`? *a`) is the node it names.
      const key = y.isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      const plain = key === null || key === undefined || (y.isScalar(key) && (typeof key.value !== 'object' || key.value === null));
      if (plain) return undefined;
      offset = y.isNode(pair.key) ? pair.key.range?.[0] ?? 0 : 0;
      return y.visit.BREAK;
    },
  });
  return offset === null ? null : text.slice(0, offset).split('\n').length;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim().replace(/:$/, '');
}

type Fail = (where: string, problem: string) => never;

/** Validate a parsed rules document and turn it into rules (in a fixed order). */
export function rulesFromSpec(data: unknown, source: string): Rule[] {
  // Keys and names come from the file: a newline in one must not split the message (it is one line on stderr).
  const fail: Fail = (where, problem) => {
    throw new RulesError(`${source}: ${where ? `${escapeText(where)}: ` : ''}${escapeText(problem)}`);
  };
  if (data === null || data === undefined) fail('', 'is empty (expected a mapping of rules, see docs/check.md)');
  if (!isObject(data)) fail('', 'expected a mapping of rules at the top level (see docs/check.md)');
  const spec = data as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (!(KEYS as readonly string[]).includes(key)) fail(key, `unknown rule (known: ${KEYS.filter((k) => k !== 'version').join(', ')})`);
  }
  if (spec.version !== undefined && spec.version !== 1) fail('version', 'only version 1 is known');

  const rules: Rule[] = [];
  if (spec.maxConnections !== undefined) rules.push({ kind: 'max-connections', max: count(spec.maxConnections, 'maxConnections', fail) });
  if (spec.maxConcurrent !== undefined) rules.push({ kind: 'max-concurrent', max: count(spec.maxConcurrent, 'maxConcurrent', fail) });
  if (flag(spec.noBad, 'noBad', fail)) rules.push({ kind: 'no-bad' });
  if (spec.noNo !== undefined) {
    if (typeof spec.noNo === 'boolean') {
      if (spec.noNo) rules.push({ kind: 'no-no', except: [] });
    } else if (isObject(spec.noNo)) {
      const o = spec.noNo as Record<string, unknown>;
      for (const k of Object.keys(o)) if (k !== 'except') fail(`noNo.${k}`, 'unknown key (only except)');
      rules.push({ kind: 'no-no', except: o.except === undefined ? [] : names(o.except, 'noNo.except', fail).map(normalizeCommand) });
    } else {
      fail('noNo', 'expected true/false or {except: [COMMAND, …]}');
    }
  }
  if (flag(spec.allCompleted, 'allCompleted', fail)) rules.push({ kind: 'all-completed' });
  if (flag(spec.noPlaintextAuth, 'noPlaintextAuth', fail)) rules.push({ kind: 'no-plaintext-auth' });
  if (spec.latency !== undefined) {
    if (!isObject(spec.latency)) fail('latency', 'expected a mapping COMMAND: {p50|p95|p99|max: ms}');
    for (const [command, bounds] of Object.entries(spec.latency as Record<string, unknown>)) {
      const where = `latency.${command}`;
      if (normalizeCommand(command) === '') fail(where, 'empty command name');
      if (typeof bounds === 'number') {
        // `SELECT: 200` is shorthand for `SELECT: {max: 200}`.
        rules.push({ kind: 'latency', command: normalizeCommand(command), stat: { kind: 'max' }, maxMs: milliseconds(bounds, where, fail) });
        continue;
      }
      if (!isObject(bounds)) fail(where, 'expected {p50|p95|p99|max: ms} or a number of ms (max)');
      const entries = Object.entries(bounds as Record<string, unknown>);
      if (entries.length === 0) fail(where, 'no bound given');
      for (const [stat, ms] of entries) {
        rules.push({ kind: 'latency', command: normalizeCommand(command), stat: parseStat(stat, `${where}.${stat}`, fail), maxMs: milliseconds(ms, `${where}.${stat}`, fail) });
      }
    }
  }
  for (const c of listOf(spec.requireCommands, 'requireCommands', fail)) rules.push({ kind: 'require-command', command: normalizeCommand(c) });
  for (const c of listOf(spec.forbidCommands, 'forbidCommands', fail)) rules.push({ kind: 'forbid-command', command: normalizeCommand(c) });
  for (const c of listOf(spec.requireCapabilities, 'requireCapabilities', fail)) rules.push({ kind: 'require-capability', capability: c.trim() });
  for (const [key, present] of [['requireSequences', true], ['forbidSequences', false]] as const) {
    const value = spec[key];
    if (value === undefined) continue;
    if (!Array.isArray(value)) fail(key, 'expected a list of sequences ([CMD, CMD, …] or {name, commands})');
    value.forEach((item, i) => {
      const where = `${key}[${i}]`;
      if (Array.isArray(item)) {
        rules.push({ kind: 'sequence', commands: sequenceOf(item, where, fail), present });
      } else if (isObject(item)) {
        const o = item as Record<string, unknown>;
        for (const k of Object.keys(o)) if (k !== 'name' && k !== 'commands') fail(`${where}.${k}`, 'unknown key (name, commands)');
        if (o.name !== undefined && (typeof o.name !== 'string' || o.name.trim() === '')) fail(`${where}.name`, 'expected a non-empty string');
        if (o.commands === undefined) fail(where, 'commands missing');
        const rule: Rule = { kind: 'sequence', commands: sequenceOf(o.commands, `${where}.commands`, fail), present };
        if (typeof o.name === 'string') rule.name = o.name.trim();
        rules.push(rule);
      } else {
        fail(where, 'expected a list of command names or {name, commands}');
      }
    });
  }
  return rules;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(v: unknown, where: string, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, `expected a whole number >= 0, got ${show(v)}`);
  return v as number;
}

function flag(v: unknown, where: string, fail: Fail): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(where, `expected true or false, got ${show(v)}`);
  return v as boolean;
}

function milliseconds(v: unknown, where: string, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, `expected milliseconds (a number >= 0), got ${show(v)}`);
  return v as number;
}

function names(v: unknown, where: string, fail: Fail): string[] {
  if (!Array.isArray(v)) fail(where, 'expected a list of names');
  return (v as unknown[]).map((s, i) => {
    if (typeof s !== 'string' || s.trim() === '') fail(`${where}[${i}]`, `expected a non-empty name, got ${show(s)}`);
    return s as string;
  });
}

function listOf(v: unknown, where: string, fail: Fail): string[] {
  return v === undefined ? [] : names(v, where, fail);
}

function sequenceOf(v: unknown, where: string, fail: Fail): string[] {
  const list = names(v, where, fail).map(normalizeCommand);
  if (list.length === 0) fail(where, 'an empty sequence');
  return list;
}

/** "p95" / "P99.9" / "max" (also "p100" = max). */
export function parseStat(s: string, where: string, fail: Fail): LatencyStat {
  const t = s.trim().toLowerCase();
  if (t === 'max') return { kind: 'max' };
  const m = /^p(\d+(?:\.\d+)?)$/.exec(t);
  const p = m ? Number(m[1]) : NaN;
  if (!(p > 0 && p <= 100)) fail(where, `unknown statistic '${s}' (p50, p95, p99, any pN with 0 < N <= 100, or max)`);
  return { kind: 'percentile', p };
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
