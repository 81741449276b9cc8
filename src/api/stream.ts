import { createReadStream } from 'node:fs';
import { analyzeCapture } from '../analysis/analyzer.js';
import { inputName, type CaptureInput, type NamedSource } from '../capture/reader.js';
import { publicExchange, type Exchange } from './exchange.js';
import { pipelineOptions, type AnalyzeOptions } from './options.js';

/** Exchanges waiting for the consumer before reading pauses. */
const HIGH_WATER = 1000;

/**
 * Exchanges one by one, in request order, while the capture streams: reading waits whenever the consumer
 * is HIGH_WATER exchanges behind, so memory stays bounded by the connections, not the capture's size.
 * Leaving the loop early stops the reading.
 */
export function exchanges(input: CaptureInput, options: AnalyzeOptions = {}): AsyncGenerator<Exchange> {
  return pacedExchanges(input, options, HIGH_WATER);
}

/** exchanges() with the pause point as a parameter (tests use a small one). */
export async function* pacedExchanges(input: CaptureInput, options: AnalyzeOptions, highWater: number): AsyncGenerator<Exchange> {
  const queue: Exchange[] = [];
  let head = 0;
  let finished = false;
  let failure: unknown = null;
  let stopped = false;
  // Whoever waits leaves its resolver here: the consumer for exchanges, the reader for room.
  const wake: { consumer: (() => void) | null; reader: (() => void) | null } = { consumer: null, reader: null };

  // The reader pulls its next chunk only when the consumer has caught up.
  async function* paced(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      while (queue.length - head >= highWater && !stopped) await new Promise<void>((r) => { wake.reader = r; });
      if (stopped) return;
      yield chunk;
    }
  }
  const source: NamedSource = { name: inputName(input), chunks: paced(chunkSource(input)) };

  const running = analyzeCapture(source, {
    ...pipelineOptions(options),
    keepConnections: false, // only exchanges are handed out: memory stays bounded by open connections
    onExchange: (ex) => {
      queue.push(publicExchange(ex));
      wake.consumer?.();
    },
  }).then(() => { finished = true; }, (err: unknown) => { failure = err; finished = true; })
    .finally(() => wake.consumer?.());

  try {
    for (;;) {
      if (head < queue.length) {
        const ex = queue[head++]!;
        if (head > highWater) { queue.splice(0, head); head = 0; }
        if (queue.length - head < highWater / 2) wake.reader?.();
        yield ex;
        continue;
      }
      if (finished) break;
      await new Promise<void>((r) => { wake.consumer = r; });
      wake.consumer = null;
    }
    if (failure) throw failure;
  } finally {
    stopped = true;
    wake.reader?.();
    await running;
  }
}

/** The input as chunks (a path opens the file; '-' is standard input). */
function chunkSource(input: CaptureInput): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (typeof input === 'string') return input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 1024 * 1024 });
  if (input instanceof Uint8Array) return [input];
  if ('chunks' in input && 'name' in input) return input.chunks;
  return input;
}
