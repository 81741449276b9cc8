import { FilterError } from './error.js';
import { tokenize, type Token } from './lexer.js';

/** A value as written: a bare word (field name, number, address, duration, …) or a quoted string. */
export interface Operand {
  kind: 'word' | 'string';
  text: string;
  pos: number;
}

export interface SetItem {
  from: Operand;
  /** `{1..5}`: an inclusive range. */
  to: Operand | null;
}

export type Relation = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'matches';

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'exists'; field: Operand }
  | { kind: 'compare'; op: Relation; left: Operand; right: Operand; opPos: number }
  | { kind: 'in'; left: Operand; items: SetItem[]; opPos: number };

/**
 * Recursive descent over Wireshark's display-filter grammar:
 *   or   := and (('||' | 'or') and)*
 *   and  := not (('&&' | 'and') not)*
 *   not  := ('!' | 'not') not | '(' or ')' | test
 *   test := operand [relation operand | 'in' set | 'not' 'in' set]
 */
export function parseFilter(expr: string): FilterNode {
  const p = new Parser(tokenize(expr));
  if (p.peek().kind === 'end') throw new FilterError('empty filter', 0);
  const node = p.or();
  const rest = p.peek();
  if (rest.kind !== 'end') throw new FilterError(rest.kind === ')' ? "unbalanced ')'" : `unexpected '${rest.text}': expected && or || (or the end)`, rest.pos);
  return node;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.i++;
    return t;
  }

  or(): FilterNode {
    return this.chain('or', () => this.and());
  }

  private and(): FilterNode {
    return this.chain('and', () => this.not());
  }

  /** `operand (op operand)*`, grouped to the left. */
  private chain(kind: 'and' | 'or', operand: () => FilterNode): FilterNode {
    let left = operand();
    while (this.peek().kind === kind) {
      this.next();
      left = { kind, left, right: operand() };
    }
    return left;
  }

  private not(): FilterNode {
    const t = this.peek();
    if (t.kind === 'not') {
      this.next();
      return { kind: 'not', operand: this.not() };
    }
    if (t.kind === '(') {
      this.next();
      const inner = this.or();
      const close = this.next();
      if (close.kind !== ')') throw new FilterError(`expected ')' to close the '(' at position ${t.pos + 1}`, close.pos);
      return inner;
    }
    return this.test();
  }

  private test(): FilterNode {
    const left = this.operand('a field name');
    const t = this.peek();
    if (t.kind === 'op' || t.kind === 'contains' || t.kind === 'matches') {
      this.next();
      const op = (t.kind === 'op' ? t.text : t.kind) as Relation;
      return { kind: 'compare', op, left, right: this.operand(`a value after '${t.text}'`), opPos: t.pos };
    }
    if (t.kind === 'in') {
      this.next();
      return { kind: 'in', left, items: this.set(), opPos: t.pos };
    }
    if (t.kind === 'not' && t.text === 'not' && this.peek(1).kind === 'in') {
      this.next();
      const inTok = this.next();
      return { kind: 'not', operand: { kind: 'in', left, items: this.set(), opPos: inTok.pos } };
    }
    return { kind: 'exists', field: left };
  }

  private operand(expected: string): Operand {
    const t = this.next();
    if (t.kind === 'word' || t.kind === 'string') return { kind: t.kind, text: t.text, pos: t.pos };
    throw new FilterError(`expected ${expected}${t.kind === 'end' ? '' : `, found '${t.text}'`}`, t.pos);
  }

  /** `{a b c}`, `{a, b, c}`, `{1..5 8}` */
  private set(): SetItem[] {
    const open = this.next();
    if (open.kind !== '{') throw new FilterError("expected '{' after 'in'", open.pos);
    const items: SetItem[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === '}') {
        this.next();
        break;
      }
      if (t.kind === ',' && items.length > 0) {
        this.next();
        continue;
      }
      const from = this.operand("a value or '}'");
      let to: Operand | null = null;
      if (this.peek().kind === '..') {
        this.next();
        to = this.operand("a value after '..'");
      }
      items.push({ from, to });
    }
    if (items.length === 0) throw new FilterError('empty set', open.pos);
    return items;
  }
}
