/** The rules about connections: how many, how many at once, clear-text authentication, capabilities announced. */
import { lifetimeEvents } from '../analysis/concurrency.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { atMostNamed, NAMED_AT_MOST } from '../util/named.js';
import type { SelectedConnections } from './ended-connections.js';
import { FirstInOrder, listed, placeOf, plural, type ExchangePlace } from './failures.js';
import type { CheckEnd, RuleCheck } from './rule-check.js';
import { MAX_FAILURES, type CaptureOutcome, type Failure } from './types.js';

export function maxConnections(max: number): RuleCheck {
  return {
    outcome({ failures: f, lifetimes }) {
      const conns = lifetimes!;
      const n = conns.count;
      const message = `${plural(n, 'IMAP connection')} (at most ${max} allowed)`;
      if (n <= max) return f.outcome(true, message);
      const order = conns.byStart();
      const failures: Failure[] = [];
      for (let k = max; k < Math.min(n, max + MAX_FAILURES); k++) {
        const i = order[k]!;
        failures.push(f.connection(conns.id(i), conns.firstFrame(i), `connection number ${k + 1} (at most ${max} allowed), opened at frame ${conns.firstFrame(i)}`));
      }
      return f.outcome(false, message, failures, n - max);
    },
  };
}

export function maxConcurrent(max: number): RuleCheck {
  return {
    outcome({ failures: f, lifetimes }) {
      const conns = lifetimes!;
      // One sweep, as concurrency() counts the peak: at equal times a start before an end, each open until its openUntil.
      const open = new Set<number>();
      const failures: Failure[] = [];
      let peak = 0;
      let count = 0;
      for (const event of lifetimeEvents(conns.lifetimes)) {
        const i = event >>> 1;
        if (event & 1) {
          open.delete(i);
          continue;
        }
        open.add(i);
        peak = Math.max(peak, open.size);
        if (open.size <= max) continue;
        // Only the failures listed are worded: with thousands open, naming everyone for everyone was quadratic.
        if (count++ < MAX_FAILURES) failures.push(f.connection(conns.id(i), conns.firstFrame(i), `opened at frame ${conns.firstFrame(i)} while ${openOthers(open, i, conns)} open (${open.size} at once)`));
      }
      const message = `${plural(peak, 'connection')} open at once at the peak (at most ${max} allowed)`;
      if (peak <= max) return f.outcome(true, message);
      return f.outcome(false, `${message}; ${plural(count, 'connection')} opened over the bound${listed(count)}`, failures, count);
    },
  };
}

/** `connection 3 was` / `connections 1, 2, … and N more were`: the lowest ids of those open besides the i-th. */
function openOthers(open: ReadonlySet<number>, self: number, conns: SelectedConnections): string {
  // Indices are in order of id: the lowest ids are the lowest indices, kept sorted in one pass over those open.
  const lowest: number[] = [];
  for (const o of open) {
    if (o === self || (lowest.length === NAMED_AT_MOST && o > lowest[NAMED_AT_MOST - 1]!)) continue;
    let at = lowest.length;
    while (at > 0 && lowest[at - 1]! > o) at--;
    lowest.splice(at, 0, o);
    if (lowest.length > NAMED_AT_MOST) lowest.pop();
  }
  const others = open.size - 1;
  return `${others === 1 ? 'connection' : 'connections'} ${atMostNamed(lowest.map((o) => conns.id(o)), others)} ${others === 1 ? 'was' : 'were'}`;
}

/** An exchange's place per connection, held until the connection is drained. */
class PlacePerConnection {
  private readonly places = new Map<number, ExchangePlace>();

  /** Take this exchange's place, unless one is held already and `replace` is false. */
  take(ex: Exchange, replace: boolean): void {
    if (replace || !this.places.has(ex.conn)) this.places.set(ex.conn, placeOf(ex));
  }

  /** The place held for a drained connection, given up. */
  release(id: number): ExchangePlace | undefined {
    const place = this.places.get(id);
    this.places.delete(id);
    return place;
  }
}

/** A connection a rule fails at: where to point, found when it drained. */
interface FailedConnection {
  id: number;
  firstFrame: number;
  place: ExchangePlace | undefined;
}

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

export class PlaintextAuthCheck implements RuleCheck {
  /** Each connection's first LOGIN or AUTHENTICATE. */
  private readonly auth = new PlacePerConnection();
  private readonly cleartext = new FirstInOrder<FailedConnection & { what: string }>(byId);

  exchange(ex: Exchange): void {
    if (ex.command === 'LOGIN' || ex.command === 'AUTHENTICATE') this.auth.take(ex, false);
  }

  drained(c: ImapConnection, counts: boolean): void {
    const place = this.auth.release(c.conn.id);
    if (!counts || !c.cleartextAuth) return;
    const what = `${c.authMechanism ?? 'credentials'} sent without TLS${c.user !== null ? ` (user ${c.user})` : ''}`;
    this.cleartext.offer({ id: c.conn.id, firstFrame: c.conn.firstFrame, place, what });
  }

  outcome({ failures: f, connections }: CheckEnd): CaptureOutcome {
    const n = this.cleartext.count;
    const message = n === 0
      ? `no clear-text authentication in ${plural(connections, 'connection')}`
      : `clear-text authentication on ${plural(n, 'connection')}`;
    const failures = this.cleartext.first.map((c) => (c.place ? f.exchange(c.place, c.what) : f.connection(c.id, c.firstFrame, c.what)));
    return f.outcome(n === 0, message, failures, n);
  }
}

export class CapabilityCheck implements RuleCheck {
  private readonly wanted: string;
  /** Each connection's last exchange its capabilities came from. */
  private readonly source = new PlacePerConnection();
  /** Connections whose server announced capabilities. */
  private visible = 0;
  private readonly lacking = new FirstInOrder<FailedConnection & { greetingFrame: number | null }>(byId);

  constructor(private readonly capability: string) {
    this.wanted = capability.toUpperCase();
  }

  exchange(ex: Exchange): void {
    if (ex.command === 'CAPABILITY' || (ex.code?.toUpperCase().startsWith('CAPABILITY ') ?? false)) this.source.take(ex, true);
  }

  drained(c: ImapConnection, counts: boolean): void {
    const place = this.source.release(c.conn.id);
    if (!counts || c.capabilities.length === 0) return;
    this.visible++;
    if (c.capabilities.some((cap) => cap.toUpperCase() === this.wanted)) return;
    this.lacking.offer({ id: c.conn.id, firstFrame: c.conn.firstFrame, place, greetingFrame: c.greeting?.frame ?? null });
  }

  outcome({ failures: f, connections }: CheckEnd): CaptureOutcome {
    const { capability, visible } = this;
    if (visible === 0) {
      const message = `no server capabilities visible in ${plural(connections, 'connection')} (encrypted or not captured)`;
      return f.outcome(false, message, [f.whole(message)]);
    }
    const n = this.lacking.count;
    const hidden = connections - visible;
    const note = hidden ? `; ${plural(hidden, 'connection')} without visible capabilities not checked` : '';
    if (n === 0) return f.outcome(true, `${capability} announced on ${plural(visible, 'connection')}${note}`);
    const detail = `the server did not announce ${capability}`;
    const failures = this.lacking.first.map((c) => {
      // Point at the last place the connection's capabilities came from.
      if (c.place) return f.exchange(c.place, `${detail} (capabilities from this exchange)`);
      if (c.greetingFrame !== null) return { ...f.connection(c.id, c.firstFrame, `${detail} (greeting, frame ${c.greetingFrame})`), responseFrame: c.greetingFrame };
      return f.connection(c.id, c.firstFrame, detail);
    });
    return f.outcome(false, `${capability} missing on ${plural(n, 'connection')} of ${visible}${note}`, failures, n);
  }
}
