import { ImapFramer, DEFAULT_FRAMER_LIMITS, type FramerLimits } from '../../src/imap/framer.js';
import { ImapSession, SessionContext } from '../../src/imap/session.js';
import type { Exchange } from '../../src/imap/model.js';
import type { ImapMessage } from '../../src/imap/types.js';
import type { Warning } from '../../src/capture/types.js';
import type { Connection, Side } from '../../src/tcp/types.js';
import type { KeyLog } from '../../src/tls/keylog.js';
import { analyzeCapture } from '../../src/analysis/analyzer.js';
import { parseFetch } from '../../src/imap/fetch.js';
import type { FetchAttributes } from '../../src/mime/types.js';
import type { FetchTracker } from '../../src/analysis/fetches.js';

export const T0 = { sec: 1_700_000_000, nsec: 0, digits: 6 };

export function fakeConnection(sawSyn = true): Connection {
  return {
    id: 0, client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, firstFrame: 1, lastFrame: 1,
    start: T0, end: T0, sawSyn, state: 'open',
    stats: { client: { bytes: 0, gaps: 0, gapBytes: 0 }, server: { bytes: 0, gaps: 0, gapBytes: 0 } },
  };
}

/** An exchange of connection 0 with nothing said about it but its tag and `fields` (for the orderer's tests). */
export function exchangeStub(tag: string, fields: Partial<Exchange> = {}): Exchange {
  return {
    conn: 0, tag, command: 'NOOP', args: '', argsClear: '', shape: 'NOOP', requestMissing: false, requestFrame: null, start: null,
    status: null, code: null, text: '', responseFrame: null, end: null, untagged: 0, untaggedByType: {}, continuations: 0,
    continuationAt: null, clientMs: 0, requestBytes: 0, responseBytes: 0, mailbox: null, ...fields,
  };
}

/** A framer that records what it frames; feed() splits input into chunks of the given size. */
export function recordingFramer(side: Side, limits: FramerLimits = DEFAULT_FRAMER_LIMITS, plausible: (l: string) => boolean = () => true) {
  const messages: ImapMessage[] = [];
  const warnings: string[] = [];
  const framer = new ImapFramer({ message: (m) => messages.push(m), warn: (_f, w) => warnings.push(w) }, { side, limits, plausibleStart: plausible });
  let frame = 0;
  const feed = (data: string | Buffer, chunk = Infinity) => {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (let i = 0; i < b.length; i += chunk) framer.push(b.subarray(i, Math.min(b.length, i + chunk)), ++frame, T0);
  };
  return { framer, messages, warnings, feed, frame: () => frame };
}

/** A session fed a scripted conversation: each step is one TCP segment of one side. */
/** A scripted session: each step is one frame of a side's bytes, or (a number) that many bytes the capture lost. */
export function runSession(steps: [Side, string | Buffer | number][], sawSyn = true, keys?: KeyLog) {
  const exchanges: Exchange[] = [];
  const messages: ImapMessage[] = [];
  const markers: string[] = [];
  const warnings: Warning[] = [];
  const session = new ImapSession(fakeConnection(sawSyn), new SessionContext({
    exchange: (ex) => exchanges.push(ex),
    message: (m) => messages.push(m),
    marker: (_s, _f, text) => markers.push(text),
  }, (w) => warnings.push(w), { keys }));
  let frame = 0;
  for (const [side, data] of steps) {
    frame++;
    const time = { ...T0, nsec: frame * 1000 };
    if (typeof data === 'number') session.gap(side, data, frame, time);
    else session.data(side, typeof data === 'string' ? Buffer.from(data, 'latin1') : data, frame, time);
  }
  const newest = session.close(frame + 1, T0);
  return { session, exchanges, messages, markers, warnings, info: session.info, newest };
}

/** Every server FETCH response of a capture, parsed, through the real pipeline and session. */
export async function captureFetches(path: string): Promise<{ conn: number; number: number; attrs: FetchAttributes; warnings: string[] }[]> {
  const out: { conn: number; number: number; attrs: FetchAttributes; warnings: string[] }[] = [];
  await analyzeCapture(path, {
    keepLiteral: DEFAULT_FRAMER_LIMITS.keepLiteral,
    onUntagged: (r, _m, _owner, info) => {
      if (r.kind !== 'numbered' || r.type !== 'FETCH') return;
      const warnings: string[] = [];
      out.push({ conn: info.conn.id, number: r.number, attrs: parseFetch(r.values, (w) => warnings.push(w)), warnings });
    },
  });
  return out;
}

/** One scripted session (client and server turns, one frame each) on connection `id`, feeding a FetchTracker. */
export function feedTracker(tracker: FetchTracker, steps: readonly ['client' | 'server', string][], id = 0): void {
  const session = new ImapSession({ ...fakeConnection(), id }, new SessionContext({
    exchange: () => {},
    untagged: (r, m, owner, info) => tracker.untagged(r, m, owner, info),
    literalStart: (m, lit) => tracker.literalStart(m, lit),
  }, () => {}));
  steps.forEach(([side, text], i) => session.data(side, Buffer.from(text, 'latin1'), i + 1, T0));
  session.close(steps.length + 1, T0);
}
