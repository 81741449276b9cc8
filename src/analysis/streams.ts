import type { CaptureInfo, Warning } from '../capture/types.js';
import { WarningList } from './warning-list.js';
import { streamCapture, type PipelineOptions } from '../pipeline.js';
import type { Connection, StreamSink } from '../tcp/types.js';
import { FinalRecords } from './final-records.js';

export interface StreamsResult {
  capture: CaptureInfo;
  connections: Connection[];
  warnings: Warning[];
}

/**
 * The TCP-level view of a capture: its IMAP connections, their bytes, gaps and end states. With `onConnectionEnd`, each
 * record is handed to it once final (see FinalRecords) and none is kept: `connections` is empty.
 */
export async function collectStreams(path: string, options: PipelineOptions & { onConnectionEnd?(conn: Connection): void } = {}): Promise<StreamsResult> {
  const connections: Connection[] = [];
  const warnings = new WarningList();
  const finals = options.onConnectionEnd ? new FinalRecords(options.onConnectionEnd) : null;
  const sink: StreamSink = {
    open: (conn) => { if (!finals) connections.push(conn); },
    data: () => {},
    gap: () => {},
    close: (conn) => { finals?.ended(conn, conn); },
    retired: finals?.retired,
  };
  const { info } = await streamCapture(path, sink, warnings.add, options);
  finals?.flush();
  return { capture: info, connections, warnings: warnings.result() };
}
