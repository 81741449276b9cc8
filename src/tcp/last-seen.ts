import type { Frame } from '../capture/types.js';
import type { Connection, TimePoint } from './types.js';

/** A frame's time, as a record keeps it. */
export function timeOf(frame: Frame): TimePoint {
  return { sec: frame.tsSec, nsec: frame.tsNsec, digits: frame.tsDigits };
}

/**
 * A connection record's last frame and end are this frame's (a segment of it, open or lingering, was seen). The
 * frame that opened the record is its last already, with its time: no second copy of that time (a SYN flood's every
 * record held two).
 */
export function lastSeen(record: Pick<Connection, 'lastFrame' | 'end'>, frame: Frame): void {
  if (record.lastFrame === frame.number) return;
  record.lastFrame = frame.number;
  record.end = timeOf(frame);
}
