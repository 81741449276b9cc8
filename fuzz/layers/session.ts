import type { Warning } from '../../src/capture/types.js';
import { DEFAULT_FRAMER_LIMITS } from '../../src/imap/framer.js';
import type { Exchange } from '../../src/imap/model.js';
import { ImapSession, SessionContext } from '../../src/imap/session.js';
import type { ImapMessage } from '../../src/imap/types.js';
import { exchangeJson, exchangeRow } from '../../src/report/commands.js';
import { warningLines } from '../../src/report/format.js';
import { transcriptLines } from '../../src/report/transcript.js';
import type { Connection } from '../../src/tcp/types.js';
import { jsonText } from '../../src/util/json.js';
import { check, checkJsonText, checkPrintable, checkSchema } from '../invariants.js';
import type { Layer } from '../layer.js';
import { SCRIPT_DICTIONARY, decodeScript, generateSession, recordedScripts } from '../imap-script.js';

const T = { sec: 1_700_000_000, nsec: 0, digits: 6 };

function connection(): Connection {
  return {
    id: 0, client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, firstFrame: 1, lastFrame: 1,
    start: T, end: T, sawSyn: true, state: 'open',
    stats: { client: { bytes: 0, gaps: 0, gapBytes: 0 }, server: { bytes: 0, gaps: 0, gapBytes: 0 } },
  };
}

/** What one run of a script made: its exchanges, messages and warnings, and everything it said, in order, as text. */
interface Dissected {
  opened: Set<Exchange>;
  completed: Set<Exchange>;
  messages: ImapMessage[];
  warnings: Warning[];
  said: string[];
}

/**
 * The script through one session. `resting`: after every step the session is offered rest (ImapSession.rest), as a
 * quiet connection's is, and woken from it when it rested: what it says must not change.
 */
function dissect(input: Buffer, resting: boolean): Dissected {
  const out: Dissected = { opened: new Set(), completed: new Set(), messages: [], warnings: [], said: [] };
  const context = new SessionContext({
    opened: (ex) => {
      check(!out.opened.has(ex), 'an exchange opened twice');
      out.opened.add(ex);
      out.said.push(`opened ${ex.tag}`);
    },
    exchange: (ex) => {
      check(!out.completed.has(ex), `exchange ${ex.tag} ${ex.command} completed twice`);
      out.completed.add(ex);
      out.said.push(`completed ${jsonText(exchangeJson(ex, { showSecrets: true }))}`);
    },
    message: (m) => {
      out.messages.push(m);
      out.said.push(`${m.side} ${m.lines.join('|')} ${m.literals.length}`);
    },
  }, (w) => {
    out.warnings.push(w);
    out.said.push(`warning ${w.frame} ${w.message}`);
  }, { limits: { ...DEFAULT_FRAMER_LIMITS, keepLiteral: 16 * 1024, instalmentLiterals: 2, instalmentOctets: 2048, maxLiterals: 3, maxHeldOctets: 4096 } });
  let session = new ImapSession(connection(), context);
  let frame = 0;
  for (const step of decodeScript(input)) {
    frame++;
    if ('gap' in step) session.gap(step.side, step.gap, frame, T);
    else if (step.bytes.length > 0) session.data(step.side, step.bytes, frame, T);
    const rested = resting ? session.rest() : null;
    if (rested) session = ImapSession.woken(rested, context);
  }
  session.close(frame, T);
  out.said.push(`record ${jsonText(session.info)}`);
  return out;
}

/**
 * A whole IMAP connection: pairing, AUTHENTICATE, IDLE, STARTTLS, COMPRESS, literals refused or not.
 * Counts stay consistent (every command sent is completed exactly once, exchanges never outnumber
 * the messages framed), and every view of it (commands JSON and table, follow transcript, warnings)
 * validates against its schema and carries no raw control character. A session offered rest after every segment
 * says exactly what one never offered it says.
 */
export const sessionLayer: Layer = {
  name: 'session',
  about: 'IMAP session: pairing of commands and responses, SASL, IDLE, COMPRESS inflate, STARTTLS, rest; commands/follow output',
  seeds: recordedScripts,
  generate: generateSession,
  dictionary: SCRIPT_DICTIONARY,
  run(input) {
    const { opened, completed, messages, warnings, said } = dissect(input, false);
    for (const ex of opened) check(completed.has(ex), `exchange ${ex.tag} ${ex.command} opened but never completed`);
    const clientMessages = messages.filter((m) => m.side === 'client').length;
    check(completed.size <= messages.length, `${completed.size} exchanges from ${messages.length} messages`);
    const sent = [...opened].filter((ex) => !ex.requestMissing).length;
    check(sent <= clientMessages, `${sent} commands opened from ${clientMessages} client messages`);
    for (const ex of completed) {
      check(ex.untagged >= 0 && ex.continuations >= 0, 'negative counts');
      check(Object.values(ex.untaggedByType).reduce((a, b) => a + b, 0) === ex.untagged, `untagged by type does not add up to ${ex.untagged}`);
      for (const showSecrets of [false, true]) {
        const json = exchangeJson(ex, { showSecrets });
        checkSchema(json, 'commands', ['$defs', 'exchange']);
        checkJsonText(jsonText(json), 'commands --json');
        for (const cell of exchangeRow(ex, '0.000', { showSecrets })) checkPrintable(cell, 'commands table');
      }
    }
    for (const m of messages) {
      for (const full of [false, true]) for (const line of transcriptLines(m, { full, showSecrets: false, t0: T })) checkPrintable(line, 'follow');
    }
    for (const line of warningLines(warnings)) checkPrintable(line, 'warning');
    const rested = dissect(input, true).said;
    const at = said.findIndex((line, i) => line !== rested[i]);
    check(at < 0 && said.length === rested.length, `resting changed what the session said, at ${at}: ${said[at]} → ${rested[at]}`);
  },
};
