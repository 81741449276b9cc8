import { readCapture, type CaptureInput, type CaptureResult, type ReadControl } from './capture/reader.js';
import type { WarningSink } from './capture/types.js';
import { PacketDecoder } from './decode/decoder.js';
import { DEFAULT_MAX_HELD_BYTES, DEFAULT_PORTS, TcpTracker, type TcpOverview } from './tcp/tracker.js';
import { timeOf } from './tcp/last-seen.js';
import type { StreamSink, TimePoint } from './tcp/types.js';
import { collectGarbage } from './util/collect-garbage.js';
import { EndingCollections } from './util/ending-collections.js';
import { DSB_TLS_KEY_LOG, KeyLog, keyLogFromDsb, MAX_KEYLOG_SESSIONS } from './tls/keylog.js';

export interface PipelineOptions extends ReadControl {
  ports?: readonly number[];
  maxHeldBytes?: number;
  /** Out-of-order bytes held by all connections together (TcpTracker; default DEFAULT_MAX_HELD_TOTAL). */
  maxHeldTotal?: number;
  /** Out-of-order segments held per direction, and by all connections together (TcpTracker; tests use small ones). */
  maxHeldSegments?: number;
  maxHeldSegmentsTotal?: number;
  /** Ended TCP conversations kept for their late segments, at most (TcpTracker; default MAX_LINGERING). */
  maxLingering?: number;
  /** TCP conversations open at once, at most (TcpTracker; default from the heap limit, openConversationCap). */
  maxOpen?: number;
  /** TLS secrets: from --keylog files, and gaining those embedded in the capture (pcapng DSB) as they are read. */
  keys?: KeyLog;
  /** Called once with the capture's first frame time (relative times count from it, as Wireshark's). */
  onFirstFrame?(time: TimePoint): void;
}

/** Connections ended at the end of the input between two questions to the output (ReadControl.room). */
const ENDING_BATCH = 256;

/** One streaming pass over a capture: frames → TCP segments → reassembled IMAP streams into `sink`. */
export async function streamCapture<S>(path: CaptureInput, sink: StreamSink<S>, warn: WarningSink, options: PipelineOptions = {}): Promise<CaptureResult & { tcp: TcpOverview }> {
  const decoder = new PacketDecoder(warn);
  const tracker = new TcpTracker(sink, warn, {
    ports: new Set(options.ports ?? DEFAULT_PORTS),
    maxHeldBytes: options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES,
    maxLingering: options.maxLingering,
    maxOpen: options.maxOpen,
    maxHeldTotal: options.maxHeldTotal,
    maxHeldSegments: options.maxHeldSegments,
    maxHeldSegmentsTotal: options.maxHeldSegmentsTotal,
  });
  let onFirst = options.onFirstFrame;
  const result = await readCapture(path, (frame) => {
    if (onFirst) {
      onFirst(timeOf(frame));
      onFirst = undefined;
    }
    const seg = decoder.decode(frame);
    if (seg) tracker.segment(seg);
  }, warn, (secret) => {
    if (secret.type === DSB_TLS_KEY_LOG) options.keys?.merge(KeyLog.parse(keyLogFromDsb(secret.data)));
  }, options);
  // The connections still open end here, a batch at a time, each batch once the output has room for what it made.
  let ended = 0;
  let collections: EndingCollections | null = null;
  for (const left of tracker.ending()) {
    collections ??= new EndingCollections(left + 1);
    if (++ended % ENDING_BATCH !== 0) continue;
    if (collections.due(ended)) collectGarbage();
    const wait = options.room?.();
    if (wait) await wait;
  }
  if (collections?.dueAtTheEnd) collectGarbage();
  if (options.keys && options.keys.dropped > 0) {
    warn({ frame: null, message: `the TLS key logs name more than ${MAX_KEYLOG_SESSIONS.toLocaleString('en-US')} sessions (the cap): ${options.keys.dropped} secret(s) of later sessions were not used` });
  }
  return { ...result, tcp: tracker.overview() };
}
