import type { Connection } from './types.js';

/**
 * What a sink keeps, per closed connection, until the connection's late changes come (StreamSink.retired): by id,
 * given up at the retirement. A connection still open when it closed was closed by the end of the input (or by a new
 * connection on its 4-tuple): nothing can move its record any more, so it gets no entry (its retirement, right after
 * its close, finds nothing to do; an entry made and dropped for each of 200,000 connections ending at once made the
 * table grow and shrink once per connection).
 */
export class Unsettled<T> {
  private readonly byId = new Map<number, T>();

  add(conn: Pick<Connection, 'id' | 'state'>, value: T): void {
    if (conn.state !== 'open') this.byId.set(conn.id, value);
  }

  /** What was kept for a connection whose late changes came, given up; undefined when nothing was. */
  take(id: number): T | undefined {
    const value = this.byId.get(id);
    if (value !== undefined) this.byId.delete(id);
    return value;
  }
}
