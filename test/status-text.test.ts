/**
 * statusText (src/imap/response.ts): the response code in brackets at the start of a status text, brackets inside it
 * paired, found by the first ']' when the code holds no '[' of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText } from '../src/imap/response.js';

/** The rule spelled out: one character at a time, counting brackets from the first. */
function byCharacter(s: string): { code: { name: string; text: string } | null; text: string } {
  if (!s.startsWith('[')) return { code: null, text: s };
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '[') depth++;
    else if (s[i] === ']' && --depth === 0) {
      const inner = s.slice(1, i);
      const sp = inner.indexOf(' ');
      return { code: { name: (sp < 0 ? inner : inner.slice(0, sp)).toUpperCase(), text: sp < 0 ? '' : inner.slice(sp + 1) }, text: s.slice(i + 1).trimStart() };
    }
  }
  return { code: null, text: s };
}

test('codes as servers send them: plain, with arguments, with brackets inside, unclosed, none', () => {
  assert.deepEqual(statusText('[READ-WRITE] Select completed.'), { code: { name: 'READ-WRITE', text: '' }, text: 'Select completed.' });
  assert.deepEqual(statusText('[CAPABILITY IMAP4rev1 IDLE] Logged in'), { code: { name: 'CAPABILITY', text: 'IMAP4rev1 IDLE' }, text: 'Logged in' });
  assert.deepEqual(statusText('[BADCHARSET (UTF-8 [x])] no'), { code: { name: 'BADCHARSET', text: '(UTF-8 [x])' }, text: 'no' });
  assert.deepEqual(statusText('[PERMANENTFLAGS (\\Seen \\*)] ok] more'), { code: { name: 'PERMANENTFLAGS', text: '(\\Seen \\*)' }, text: 'ok] more' });
  assert.deepEqual(statusText('[ALERT [nested] never closed'), { code: null, text: '[ALERT [nested] never closed' });
  assert.deepEqual(statusText('[ALERT'), { code: null, text: '[ALERT' });
  assert.deepEqual(statusText('Logged in [not a code]'), { code: null, text: 'Logged in [not a code]' });
  assert.deepEqual(statusText(''), { code: null, text: '' });
});

test('20,000 random texts of brackets, spaces and letters read as the rule reads them', () => {
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = ['[', ']', ' ', 'a', 'B', '(', ')'];
  for (let i = 0; i < 20_000; i++) {
    const length = random(16);
    let s = random(4) === 0 ? '' : '[';
    for (let j = 0; j < length; j++) s += alphabet[random(alphabet.length)];
    assert.deepEqual(statusText(s), byCharacter(s), JSON.stringify(s));
  }
});
