/** escapeText: what came off the wire reaches a terminal with every control character made visible. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeText } from '../src/util/escape.js';

/** Every character escapeText must escape: C0, DEL, C1, the line and paragraph separators, bidi controls. */
function unsafeCharacters(): string[] {
  const codes: number[] = [];
  for (let c = 0x00; c <= 0x1f; c++) codes.push(c);
  for (let c = 0x7f; c <= 0x9f; c++) codes.push(c);
  codes.push(0x2028, 0x2029, 0x200e, 0x200f);
  for (let c = 0x202a; c <= 0x202e; c++) codes.push(c);
  for (let c = 0x2066; c <= 0x2069; c++) codes.push(c);
  return codes.map((c) => String.fromCharCode(c));
}

/** The escape written out from its definition. */
function expected(c: string): string {
  if (c === '\r') return '\\r';
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  const code = c.charCodeAt(0);
  return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
}

test('each control character is escaped alone, first, in the middle and last; nothing else is left in it', () => {
  for (const c of unsafeCharacters()) {
    const e = expected(c);
    assert.equal(escapeText(c), e);
    assert.equal(escapeText(`${c}ab`), `${e}ab`);
    assert.equal(escapeText(`a${c}b`), `a${e}b`);
    assert.equal(escapeText(`ab${c}`), `ab${e}`);
    assert.equal(escapeText(`${c}é${c}`), `${e}é${e}`);
  }
});

test('printable text, non-ASCII included, passes unchanged', () => {
  for (const s of ['', 'INBOX', 'Re: Grüße aus Köln', '日本語の件名', '😀 party', 'a\u00a0b', '\u2027\u202f\u2065\u206a']) {
    assert.equal(escapeText(s), s);
  }
});
