import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '../test/helpers/json-schema.js';
import { ROOT } from './paths.js';
import chalk from 'chalk';

// Our own colours are escape sequences too: the checks look for control characters from the wire, so none.
chalk.level = 0;

/** An invariant broken: the harness found a bug (as opposed to input the code rightly refused). */
export class InvariantError extends Error {}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const RAW_CONTROL_JSON = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Text for a terminal: no C0 (but tab and newline), DEL, C1 or bidi control may reach it raw. */
export function checkPrintable(text: string, where: string): void {
  const m = RAW_CONTROL_TEXT.exec(text);
  check(m === null, `${where}: raw control character U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in output near ${JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 20), (m?.index ?? 0) + 20))}`);
}

/** Serialised JSON: every control and bidi character must be a \u escape, none raw (newlines of the indentation aside). */
export function checkJsonText(json: string, where: string): void {
  const m = RAW_CONTROL_JSON.exec(json);
  check(m === null, `${where}: raw control character U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in JSON output`);
}

const schemas = new Map<string, object>();

/** The value validates against docs/schema/<name>.schema.json, or the sub-schema at `path` in it (e.g. ['$defs', 'exchange']). */
export function checkSchema(value: unknown, name: string, path: readonly string[] = []): void {
  let schema = schemas.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', `${name}.schema.json`), 'utf8')) as object;
    schemas.set(name, schema);
  }
  const sub = path.reduce<Record<string, unknown>>((s, key) => s[key] as Record<string, unknown>, schema as Record<string, unknown>);
  const errors = validate(value, sub as never);
  check(errors.length === 0, `${name} schema${path.length ? ` at ${path.join('/')}` : ''}: ${errors.slice(0, 3).join('; ')}`);
}
