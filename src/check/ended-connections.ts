/**
 * What the connection rules read of each connection that ended (its id, first frame, start and end), in columns:
 * check keeps about 46 bytes per connection, not its record.
 */
import { LifetimeColumns, startOrder, type Lifetimes } from '../analysis/concurrency.js';
import type { Connection, LateChanges } from '../tcp/types.js';
import { Unsettled } from '../tcp/unsettled.js';
import { float64List, listValues, pushValue } from '../util/typed-list.js';

export class EndedConnections {
  // One connection more per connection that ends: the columns grow where they stand.
  private readonly lifetimes = new LifetimeColumns(64, true);
  private readonly firstFrames = float64List(64, true);
  /** Index of each connection whose end later segments may still move. */
  private readonly unsettled = new Unsettled<number>();

  /** A connection ended; with `settled`, its end is final already. */
  add(c: Connection, settled = false): void {
    const index = this.lifetimes.push(c);
    pushValue(this.firstFrames, c.firstFrame);
    if (!settled) this.unsettled.add(c, index);
  }

  /** StreamSink.retired: a connection's last frame and end are final (one never added is ignored). */
  readonly settle = (late: LateChanges): void => {
    const index = this.unsettled.take(late.id);
    if (index === undefined) return;
    this.lifetimes.settle(index, late);
  };

  /** Those `keep` accepts, in the order they opened (ids are given in that order). Add no more after. */
  selected(keep: (id: number) => boolean): SelectedConnections {
    const ids = this.lifetimes.ids;
    const firstFrames = listValues(this.firstFrames);
    const order: number[] = [];
    for (let i = 0; i < ids.length; i++) if (keep(ids[i]!)) order.push(i);
    // Connections end in about the order they opened: most often nothing moves.
    order.sort((a, b) => ids[a]! - ids[b]!);
    // Every one, in the order they ended: the columns as they are (a copy of them would be the end phase's peak).
    if (order.length === ids.length && order.every((i, k) => i === k)) return new SelectedConnections(this.lifetimes.take(), firstFrames);
    return new SelectedConnections(this.lifetimes.take(order), Float64Array.from(order, (i) => firstFrames[i]!));
  }
}

/** The connections a check counts, in the order they opened (so by id). */
export class SelectedConnections {
  constructor(readonly lifetimes: Lifetimes, private readonly firstFrames: Float64Array) {}

  get count(): number {
    return this.lifetimes.size;
  }

  id(i: number): number {
    return this.lifetimes.ids[i]!;
  }

  firstFrame(i: number): number {
    return this.firstFrames[i]!;
  }

  /** Indices in order of start, ties by id. */
  byStart(): Uint32Array {
    return startOrder(this.lifetimes);
  }
}
