import { isAbsolute, join, relative, resolve } from 'node:path';
import { UniqueNames, extensionFor, safeComponent, truncateBytes } from '../../src/extract/names.js';
import { check } from '../invariants.js';
import type { Layer } from '../layer.js';

const OUT = resolve('/tmp/imapscope-out');
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * Extract's file names from hostile text (attachment file names, mailbox names): one path component
 * that stays inside the output directory, no separators, control or bidi characters, no leading dot,
 * at most 120 UTF-8 bytes; UniqueNames never hands out the same name twice (case-insensitively).
 */
export const namesLayer: Layer = {
  name: 'names',
  about: 'extract file names: safe components, truncation, uniqueness',
  maxLength: 4096,
  seeds: () => ['report.pdf', '../../etc/passwd', '..', '.', '.bashrc', 'a\u202egpj.exe', 'CON', 'x'.repeat(300) + '.txt', 'ü'.repeat(100) + '.pdf', 'a/b\\c:d', '\x00\x9b[31m', ' .. ', 'Résumé.PDF\nrésumé.pdf\nRÉSUMÉ.pdf'].map((s) => Buffer.from(s, 'utf8')),
  dictionary: ['..', '/', '\\', '.', '\u202e', '\u0000', ' ', '.pdf', '\n', '\u0301'].map((t) => Buffer.from(t, 'utf8')),
  run(input) {
    const names = new UniqueNames();
    const handed = new Set<string>();
    for (const raw of input.toString('utf8').split('\n')) {
      const name = safeComponent(raw);
      check(name.length > 0 && Buffer.byteLength(name) <= 120, `name of ${Buffer.byteLength(name)} bytes`);
      check(!UNSAFE.test(name), `unsafe character in ${JSON.stringify(name)}`);
      check(!name.startsWith('.') && !name.endsWith('.') && name !== '..', `dot name ${JSON.stringify(name)}`);
      const rel = relative(OUT, resolve(join(OUT, name)));
      check(rel === name && !isAbsolute(rel) && !rel.startsWith('..'), `${JSON.stringify(name)} leaves the directory (${rel})`);
      const unique = names.take(name + extensionFor(raw.includes('/') ? raw.slice(0, 30) : null));
      check(!handed.has(unique.toLowerCase()), `${JSON.stringify(unique)} handed out twice`);
      handed.add(unique.toLowerCase());
      check(Buffer.byteLength(truncateBytes(raw, 50)) <= 50 || Buffer.byteLength(raw) <= 50, 'truncateBytes went over');
    }
  },
};
