import type { Connection } from '../tcp/types.js';

/**
 * Records of ended connections held until they are final, then handed on once each. A closed connection's record
 * still changes while its conversation lingers in the TCP index (the last ACKs move its last frame and end): it is
 * final when the tracker retires it (StreamSink.retired), or at the end of the input.
 */
export class FinalRecords<T> {
  private readonly waiting = new Map<Connection, T>();

  constructor(private readonly final: (record: T) => void) {}

  /** The connection closed: its record waits (and keeps the TCP record alive, so late segments still reach it). */
  ended(conn: Connection, record: T): void {
    this.waiting.set(conn, record);
  }

  /** StreamSink.retired. */
  readonly retired = (conn: Connection): void => {
    const record = this.waiting.get(conn);
    if (record === undefined) return;
    this.waiting.delete(conn);
    this.final(record);
  };

  /** End of the input: every waiting record is final. */
  flush(): void {
    for (const record of this.waiting.values()) this.final(record);
    this.waiting.clear();
  }
}
