import { RulesError } from '../../src/check/errors.js';
import { usageLine } from '../../src/cli/errors.js';
import { parseRules } from '../../src/check/load.js';
import { check, checkPrintable } from '../invariants.js';
import type { Layer } from '../layer.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../paths.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'rules');

/**
 * Rules files (docs/check.md), JSON (first byte odd) or YAML (even). Either rules come back, or a
 * RulesError with one printable line (the CLI prints it and exits 2); nothing else may escape, and nothing may warn
 * on the process.
 */
export const rulesLayer: Layer = {
  name: 'rules',
  about: 'check rules files: JSON and YAML (anchors, aliases, tags), validation messages',
  maxLength: 16 * 1024,
  seeds: () => readdirSync(FIXTURES).map((f) => Buffer.concat([Buffer.from([f.endsWith('.json') ? 1 : 0]), readFileSync(join(FIXTURES, f))])),
  dictionary: ['noBad: true\n', 'maxConcurrent: ', 'latency:\n  SELECT:\n    p95: ', 'require:\n  - ', 'forbid: [', '&a ', '*a', '!!binary ', '{"', '": ', '[', ']', '<<: ', '---\n', '~', '1e309', '-1', '"\\u202e"'].map((t) => Buffer.from(t, 'utf8')),
  run(input) {
    if (input.length === 0) return;
    const source = input[0]! & 1 ? 'rules.json' : 'rules.yaml';
    // A library that warns on the process prints a line of its own on the user's stderr: caught as it is made.
    const emitWarning = process.emitWarning;
    let warned: string | null = null;
    process.emitWarning = ((warning: string | Error) => { warned ??= String(warning); }) as typeof process.emitWarning;
    try {
      const rules = parseRules(input.subarray(1).toString('utf8'), source);
      check(Array.isArray(rules), 'rules are not a list');
    } catch (err) {
      if (!(err instanceof RulesError)) throw err;
      const line = usageLine(err);
      check(!line.includes('\n'), `a usage error of several lines: ${JSON.stringify(line.slice(0, 80))}`);
      checkPrintable(line, 'usage error');
    } finally {
      process.emitWarning = emitWarning;
    }
    check(warned === null, `the process was warned: ${JSON.stringify(String(warned).slice(0, 80))}`);
  },
};
