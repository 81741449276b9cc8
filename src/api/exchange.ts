import { latencyMs } from '../analysis/stats.js';
import type { Exchange as ModelExchange } from '../imap/model.js';
import type { TimePoint } from '../tcp/types.js';
import { isoTime } from '../util/time.js';

/**
 * One command exchange as the library hands it out: the model's fields, with times and latency as the
 * JSON output has them (`start`/`end` ISO 8601 UTC at the capture's resolution, `latencyMs`), and the
 * exact times kept as `startTime`/`endTime`.
 */
export interface Exchange extends Omit<ModelExchange, 'start' | 'end'> {
  start: string | null;
  end: string | null;
  latencyMs: number | null;
  startTime: TimePoint | null;
  endTime: TimePoint | null;
}

export function publicExchange(ex: ModelExchange): Exchange {
  const { start, end, ...rest } = ex;
  return {
    ...rest,
    start: start ? isoTime(start) : null,
    end: end ? isoTime(end) : null,
    latencyMs: latencyMs(ex),
    startTime: start,
    endTime: end,
  };
}
