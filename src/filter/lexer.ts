import { FilterError } from './error.js';

export type TokenKind =
  | 'word' | 'string' | 'op' | 'and' | 'or' | 'not' | 'contains' | 'matches' | 'in'
  | '(' | ')' | '{' | '}' | ',' | '..' | 'end';

/** One token of a display filter; `pos` is its offset in the expression (for the ^ under errors). */
export interface Token {
  kind: TokenKind;
  /** The operator in canonical form ('==', '!=', '<', …), the word, or the decoded string. */
  text: string;
  pos: number;
}

const KEYWORDS: Record<string, TokenKind> = { and: 'and', or: 'or', not: 'not', contains: 'contains', matches: 'matches', in: 'in' };
const WORD_OPS: Record<string, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
const SYMBOL_OPS = ['===', '!==', '==', '!=', '<=', '>=', '<', '>', '~'];
const CANONICAL: Record<string, string> = { '===': '==', '!==': '!=', '~': 'matches' };

/** Words: field names, numbers, durations (100ms), IPv4/IPv6 addresses and CIDR blocks, bare strings. */
const WORD_CHAR = /[A-Za-z0-9_.:/\-+]/;

/** Splits a Wireshark-style display filter into tokens. */
export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '"') {
      const { text, end } = readString(expr, i);
      tokens.push({ kind: 'string', text, pos: i });
      i = end;
      continue;
    }
    if (expr.startsWith('&&', i)) { tokens.push({ kind: 'and', text: '&&', pos: i }); i += 2; continue; }
    if (expr.startsWith('||', i)) { tokens.push({ kind: 'or', text: '||', pos: i }); i += 2; continue; }
    if (expr.startsWith('..', i)) { tokens.push({ kind: '..', text: '..', pos: i }); i += 2; continue; }
    const sym = SYMBOL_OPS.find((s) => expr.startsWith(s, i));
    if (sym) {
      const canonical = CANONICAL[sym] ?? sym;
      tokens.push(canonical === 'matches' ? { kind: 'matches', text: 'matches', pos: i } : { kind: 'op', text: canonical, pos: i });
      i += sym.length;
      continue;
    }
    if (c === '!') { tokens.push({ kind: 'not', text: '!', pos: i }); i++; continue; }
    if ('(){},'.includes(c)) { tokens.push({ kind: c as TokenKind, text: c, pos: i }); i++; continue; }
    if (WORD_CHAR.test(c)) {
      let j = i;
      // A range inside a set ({1..5}) ends the word at the "..".
      while (j < expr.length && WORD_CHAR.test(expr[j]!) && !expr.startsWith('..', j)) j++;
      const word = expr.slice(i, j);
      const lower = word.toLowerCase();
      if (KEYWORDS[lower]) tokens.push({ kind: KEYWORDS[lower]!, text: lower, pos: i });
      else if (WORD_OPS[lower]) tokens.push({ kind: 'op', text: WORD_OPS[lower]!, pos: i });
      else tokens.push({ kind: 'word', text: word, pos: i });
      i = j;
      continue;
    }
    throw new FilterError(`unexpected character '${c}'`, i);
  }
  tokens.push({ kind: 'end', text: '', pos: expr.length });
  return tokens;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', 0: '\0' };

/** A double-quoted string with C escapes (\" \\ \n \t \xhh), as in Wireshark. */
function readString(expr: string, start: number): { text: string; end: number } {
  let out = '';
  let i = start + 1;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"') return { text: out, end: i + 1 };
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = expr[i + 1];
    if (e === undefined) break;
    if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(expr.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(expr.slice(i + 2, i + 4), 16));
      i += 4;
      continue;
    }
    const mapped = ESCAPES[e];
    if (mapped === undefined) throw new FilterError(`unknown escape '\\${e}' in string`, i);
    out += mapped;
    i += 2;
  }
  throw new FilterError('string is not closed (missing ")', start);
}
