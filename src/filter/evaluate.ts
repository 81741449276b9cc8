import { FilterError } from './error.js';
import { lookupField, type FieldDef, type FieldLevel, type FieldValue, type FilterRecord } from './fields.js';
import { parseFilter, type FilterNode, type Operand, type Relation, type SetItem } from './parser.js';
import { ipInBlock, parseBoolean, parseDuration, parseIp, parseNumber, type IpBlock } from './values.js';

export type Predicate = (r: FilterRecord) => boolean;

export interface CompiledFilter {
  expr: string;
  test: Predicate;
  /** Some field needs an exchange (frame.number, imap.command, …), not only its connection. */
  usesExchangeFields: boolean;
}

export interface CompileOptions {
  /** 'connection' where there are no exchanges (streams): exchange fields are refused. */
  level?: FieldLevel;
  /** Named in the refusal ("streams"). */
  context?: string;
}

/**
 * Parse and type-check a display filter, and turn it into a predicate (closures built once, so
 * evaluating it per exchange costs a few calls). Throws FilterError with the offending position.
 */
export function compileFilter(expr: string, options: CompileOptions = {}): CompiledFilter {
  const state = { usesExchange: false, level: options.level ?? 'exchange', context: options.context ?? 'this view' };
  const test = compileNode(parseFilter(expr), state);
  return { expr, test, usesExchangeFields: state.usesExchange };
}

interface State {
  usesExchange: boolean;
  level: FieldLevel;
  context: string;
}

function compileNode(node: FilterNode, s: State): Predicate {
  switch (node.kind) {
    case 'and': {
      const a = compileNode(node.left, s);
      const b = compileNode(node.right, s);
      return (r) => a(r) && b(r);
    }
    case 'or': {
      const a = compileNode(node.left, s);
      const b = compileNode(node.right, s);
      return (r) => a(r) || b(r);
    }
    case 'not': {
      const a = compileNode(node.operand, s);
      return (r) => !a(r);
    }
    case 'exists': {
      const f = requireField(node.field, s);
      return (r) => {
        const v = f.get(r);
        return v !== null && (!Array.isArray(v) || v.length > 0);
      };
    }
    case 'compare': return compileCompare(node.op, node.left, node.right, node.opPos, s);
    case 'in': return compileIn(node.left, node.items, s);
  }
}

function fieldOf(o: Operand, s: State): FieldDef | null {
  if (o.kind !== 'word') return null;
  const f = lookupField(o.text);
  if (!f) return null;
  if (f.level === 'exchange' && s.level === 'connection') {
    throw new FilterError(`${o.text} is a field of command exchanges; ${s.context} filters on connection fields only (see 'imapscope fields')`, o.pos);
  }
  if (f.level === 'exchange') s.usesExchange = true;
  return f;
}

function requireField(o: Operand, s: State): FieldDef {
  const f = fieldOf(o, s);
  if (f) return f;
  if (o.kind === 'string') throw new FilterError('a string alone is not a test: compare a field with it', o.pos);
  throw new FilterError(`'${o.text}' is not a field (see 'imapscope fields')`, o.pos);
}

function valuesOf(f: FieldDef, r: FilterRecord): FieldValue[] {
  const v = f.get(r);
  if (v === null) return [];
  return Array.isArray(v) ? v : [v];
}

const MIRROR: Partial<Record<Relation, Relation>> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/**
 * Wireshark's semantics for fields with several values (ip.addr, tcp.port): a relation holds when it
 * holds for any value, except != which holds when no value equals (`!(a == b)`). An absent field makes
 * every relation false.
 */
function compileCompare(op: Relation, left: Operand, right: Operand, opPos: number, s: State): Predicate {
  let field = fieldOf(left, s);
  let other = right;
  let rel = op;
  if (!field) {
    const rf = fieldOf(right, s);
    if (!rf) throw new FilterError(`'${left.text}' is not a field (see 'imapscope fields')`, left.pos);
    const mirrored = MIRROR[op];
    if (!mirrored) throw new FilterError(`put the field on the left of '${op}'`, opPos);
    field = rf;
    other = left;
    rel = mirrored;
  }
  const f = field;
  if (f.type === 'protocol') throw new FilterError(`${f.name} is a protocol: test it alone ('${f.name}' or '!${f.name}')`, opPos);
  const otherField = fieldOf(other, s);
  if (otherField) return compareFields(f, rel, otherField);
  if (rel === '!=') {
    const eq = matcher(f, '==', other);
    return (r) => {
      const vs = valuesOf(f, r);
      return vs.length > 0 && !vs.some(eq);
    };
  }
  const m = matcher(f, rel, other);
  return (r) => valuesOf(f, r).some(m);
}

function compareFields(a: FieldDef, op: Relation, b: FieldDef): Predicate {
  const test = (x: FieldValue, y: FieldValue): boolean => {
    switch (op) {
      case '==': return x === y;
      case '!=': return x !== y;
      case '<': return x < y;
      case '<=': return x <= y;
      case '>': return x > y;
      case '>=': return x >= y;
      case 'contains': return String(x).includes(String(y));
      case 'matches': return false; // refused below
    }
  };
  if (op === 'matches') throw new FilterError(`'matches' needs a quoted regular expression, not the field ${b.name}`, 0);
  return (r) => {
    const ys = valuesOf(b, r);
    const xs = valuesOf(a, r);
    if (op === '!=') return xs.length > 0 && ys.length > 0 && !xs.some((x) => ys.some((y) => x === y));
    return xs.some((x) => ys.some((y) => test(x, y)));
  };
}

type Matcher = (v: FieldValue) => boolean;

function ordered<T extends number | string | bigint>(op: Relation, x: T, y: T): boolean {
  switch (op) {
    case '==': return x === y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
    default: return false;
  }
}

/** The test of one field value against a literal, with the literal converted to the field's type once. */
function matcher(f: FieldDef, op: Relation, lit: Operand): Matcher {
  if (op === 'contains') {
    const needle = lit.text;
    return (v) => String(v).includes(needle);
  }
  if (op === 'matches') {
    if (lit.kind !== 'string') throw new FilterError("'matches' needs a quoted regular expression", lit.pos);
    const re = regex(lit);
    return (v) => re.test(String(v));
  }
  switch (f.type) {
    case 'string': {
      const want = lit.text;
      return (v) => ordered(op, String(v), want);
    }
    case 'number': {
      const n = parseNumber(lit.text);
      if (n === null) throw new FilterError(`'${lit.text}' is not a number (${f.name} is a number)`, lit.pos);
      return (v) => ordered(op, v as number, n);
    }
    case 'duration': {
      const d = parseDuration(lit.text);
      if (d === null) throw new FilterError(`'${lit.text}' is not a duration (write 100ms, 1.5s, or seconds)`, lit.pos);
      // Compare in nanoseconds, rounded, so that 0.1 s and 100ms are the same instant.
      const want = Math.round(d * 1e9);
      return (v) => ordered(op, Math.round((v as number) * 1e9), want);
    }
    case 'ip': {
      const block = parseIp(lit.text);
      if (!block) throw new FilterError(`'${lit.text}' is not an IP address or CIDR block`, lit.pos);
      if (op === '==') return (v) => { const a = cachedIp(String(v)); return a !== null && ipInBlock(a, block); };
      if (block.prefix !== (block.v6 ? 128 : 32)) throw new FilterError(`a CIDR block can only be tested with == or !=`, lit.pos);
      return (v) => { const a = cachedIp(String(v)); return a !== null && a.v6 === block.v6 && ordered(op, a.value, block.value); };
    }
    case 'boolean': {
      const b = parseBoolean(lit.text);
      if (b === null) throw new FilterError(`'${lit.text}' is not a boolean (1, 0, true or false)`, lit.pos);
      if (op !== '==') throw new FilterError(`${f.name} is a boolean: compare it with == or !=`, lit.pos);
      return (v) => v === b;
    }
    case 'protocol': throw new FilterError(`${f.name} is a protocol: test it alone`, lit.pos);
  }
}

function regex(lit: Operand): RegExp {
  // Wireshark uses PCRE2, where (?i) at the start makes the match case-insensitive; JavaScript wants a flag.
  const insensitive = lit.text.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? lit.text.slice(4) : lit.text, insensitive ? 'i' : '');
  } catch (err) {
    throw new FilterError(`bad regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`, lit.pos);
  }
}

/** Field values are address strings: parse each distinct one once (bounded: addresses of the capture). */
const ipCache = new Map<string, IpBlock | null>();
function cachedIp(text: string): IpBlock | null {
  let v = ipCache.get(text);
  if (v === undefined) {
    if (ipCache.size > 100_000) ipCache.clear();
    v = parseIp(text);
    ipCache.set(text, v);
  }
  return v;
}

function compileIn(left: Operand, items: SetItem[], s: State): Predicate {
  const f = requireField(left, s);
  if (f.type === 'protocol') throw new FilterError(`${f.name} is a protocol: test it alone`, left.pos);
  const tests: Matcher[] = items.map((item) => {
    if (!item.to) return matcher(f, '==', item.from);
    if (f.type !== 'number' && f.type !== 'duration' && f.type !== 'string') throw new FilterError(`a range needs a number, duration or string field, not ${f.name}`, item.from.pos);
    const lo = matcher(f, '>=', item.from);
    const hi = matcher(f, '<=', item.to);
    return (v) => lo(v) && hi(v);
  });
  return (r) => valuesOf(f, r).some((v) => tests.some((t) => t(v)));
}
