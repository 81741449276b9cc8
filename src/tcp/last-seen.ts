import type { Frame } from '../capture/types.js';
import type { Connection, TimePoint } from './types.js';

/** A frame's time, as a record keeps it. */
export function timeOf(frame: Frame): TimePoint {
  return { sec: frame.tsSec, nsec: frame.tsNsec, digits: frame.tsDigits };
}

/** A connection record's last frame and end are this frame's (a segment of it, open or lingering, was seen). */
export function lastSeen(record: Pick<Connection, 'lastFrame' | 'end'>, frame: Frame): void {
  record.lastFrame = frame.number;
  record.end = timeOf(frame);
}
