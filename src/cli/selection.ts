import type { CompiledFilter } from '../filter/evaluate.js';
import type { FilterRecord } from '../filter/fields.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import type { TimePoint } from '../tcp/types.js';

/**
 * What -Y (with --conn and --command where a view has them) selects in one capture: exchanges as they
 * stream past, and the connections that have a selected one. A filter that names no exchange field
 * selects connections by themselves (so a TLS connection without keys, which has no exchanges, counts).
 */
export class Selection {
  /** The capture's first frame time (pass it as analyzeCapture's onFirstFrame). */
  t0: TimePoint | null = null;
  /** Ids of the connections that have a selected exchange. */
  private readonly withExchange = new Set<number>();

  constructor(
    readonly filter: CompiledFilter | null,
    private readonly extra: ((ex: Exchange) => boolean) | null = null,
    private readonly conn: number | null = null,
    /** Remember the connections of selected exchanges, for connections() (-w); a streaming view that never asks turns it off. */
    private readonly remembers = true,
  ) {}

  /** Nothing is filtered: every exchange and connection is selected. */
  get all(): boolean {
    return !this.filter && !this.extra && this.conn === null;
  }

  private get byConnection(): boolean {
    return !this.extra && !this.filter?.usesExchangeFields;
  }

  record(ex: Exchange | null, info: ImapConnection): FilterRecord {
    return { tcp: info.conn, conn: info, ex, t0: this.t0 };
  }

  /** Whether this exchange is selected; remembers its connection. */
  exchange(ex: Exchange, info: ImapConnection): boolean {
    const ok = (this.conn === null || ex.conn === this.conn) && (!this.extra || this.extra(ex)) && (!this.filter || this.filter.test(this.record(ex, info)));
    if (ok && this.remembers) this.withExchange.add(info.conn.id);
    return ok;
  }

  /** The selected connections among those the analysis found, in their order. */
  connections(all: readonly ImapConnection[]): ImapConnection[] {
    if (this.all) return [...all];
    if (this.byConnection) return all.filter((c) => this.selectsByItself(c));
    return all.filter((c) => this.withExchange.has(c.conn.id));
  }

  /**
   * For a view that lets each record go when its connection ends: false when the ended connection is certainly not
   * selected. Whether one with a selected exchange is, `keeps` says after the capture (exchanges can be reported later).
   */
  mayKeep(c: ImapConnection): boolean {
    return this.all || !this.byConnection || this.selectsByItself(c);
  }

  /** Whether a drained connection (ended, each of its exchanges seen) is selected: settled then, not only after the capture. */
  selectsDrained(c: ImapConnection): boolean {
    return this.mayKeep(c) && this.keeps(c.conn.id);
  }

  /** After the capture: whether the connection of this id, which mayKeep let through, is selected. */
  keeps(id: number): boolean {
    return this.all || this.byConnection || this.withExchange.has(id);
  }

  private selectsByItself(c: ImapConnection): boolean {
    return (this.conn === null || c.conn.id === this.conn) && (!this.filter || this.filter.test(this.record(null, c)));
  }
}
