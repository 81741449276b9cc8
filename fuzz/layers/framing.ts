import type { FramerLimits } from '../../src/imap/framer.js';
import { TokenReader, renderValues, type Value } from '../../src/imap/tokens.js';
import type { Side } from '../../src/tcp/types.js';
import { check } from '../invariants.js';
import type { Layer } from '../layer.js';
import { SCRIPT_DICTIONARY, frameScript, generateSession, recordedScripts } from '../imap-script.js';

/** Small caps, so that inputs reach them. */
const LIMITS: FramerLimits = { maxLine: 2048, keepLiteral: 512, instalmentLiterals: 2, instalmentOctets: 1024, maxLiterals: 6, maxHeldOctets: 4096 };

function depth(v: Value): number {
  return v.kind === 'list' ? 1 + Math.max(0, ...v.items.map(depth)) : 0;
}

/**
 * IMAP framing of both directions (lines, every literal kind, gaps, resynchronisation) and tokenising of
 * every framed message. Messages never claim more bytes than were pushed, literals never more than
 * announced, kept literals and lines respect the caps, and token nesting stays within the depth cap.
 */
export const framingLayer: Layer = {
  name: 'framing',
  about: 'IMAP framing (lines, {n} {n+} {n-} ~{n} literals, gaps, resync, caps) and tokenising, both directions',
  seeds: recordedScripts,
  generate: generateSession,
  dictionary: SCRIPT_DICTIONARY,
  run(input) {
    const { messages, pushed } = frameScript(input, LIMITS);
    const framed: Record<Side, number> = { client: 0, server: 0 };
    for (const m of messages) {
      framed[m.side] += m.wireBytes;
      check(m.lines.length === m.literals.length + 1, `${m.lines.length} line pieces around ${m.literals.length} literals`);
      check(m.literals.length <= LIMITS.maxLiterals, `${m.literals.length} literals kept (cap ${LIMITS.maxLiterals})`);
      const held = m.lines.reduce((n, l) => n + l.length, 0) + m.literals.reduce((n, l) => n + (l.data?.length ?? 0), 0);
      // The piece that reaches the cap is kept whole, and the last line always.
      check(held <= LIMITS.maxHeldOctets + 2 * LIMITS.maxLine + LIMITS.keepLiteral, `${held} octets held (cap ${LIMITS.maxHeldOctets})`);
      if (m.elided) check(m.elided.literals > 0 && m.elided.octets > 0, `elided ${m.elided.literals} literals of ${m.elided.octets} octets`);
      for (const line of m.lines) check(line.length <= LIMITS.maxLine, `a line of ${line.length} chars kept (cap ${LIMITS.maxLine})`);
      for (const lit of m.literals) {
        check(lit.received >= 0 && lit.received <= lit.length, `literal of ${lit.length} received ${lit.received}`);
        if (lit.data) check(lit.data.length === lit.length && lit.length <= LIMITS.keepLiteral, `literal of ${lit.length} kept ${lit.data.length} bytes (cap ${LIMITS.keepLiteral})`);
      }
      check(m.firstFrame <= m.lastFrame, `message spans frames ${m.firstFrame}..${m.lastFrame}`);
      const reader = new TokenReader(m);
      const values = reader.values();
      for (const v of values) check(depth(v) <= 101, `a value nested ${depth(v)} deep`);
      renderValues(values);
    }
    for (const side of ['client', 'server'] as const) check(framed[side] <= pushed[side], `${side}: messages claim ${framed[side]} wire bytes, ${pushed[side]} were pushed`);
  },
};
