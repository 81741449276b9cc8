import type { CaptureInfo, Warning } from '../capture/types.js';
import { WarningList } from './warning-list.js';
import { streamCapture, type PipelineOptions } from '../pipeline.js';
import type { Connection, LateChanges, StreamSink } from '../tcp/types.js';

export interface StreamsResult {
  capture: CaptureInfo;
  connections: Connection[];
  warnings: Warning[];
}

/** What collectStreams hands on as connections close, when it keeps no records (as analyzeCapture's options). */
export interface StreamRecordHooks {
  onConnectionClose(conn: Connection): void;
  onConnectionSettled(late: LateChanges): void;
}

/**
 * The TCP-level view of a capture: its IMAP connections, their bytes, gaps and end states. With `hooks`, each record is
 * handed on at its connection's close, and its last frame and end once final, and none is kept: `connections` is empty.
 */
export async function collectStreams(path: string, options: PipelineOptions = {}, hooks?: StreamRecordHooks): Promise<StreamsResult> {
  const connections: Connection[] = [];
  const warnings = new WarningList();
  const sink: StreamSink = {
    open: (conn) => { if (!hooks) connections.push(conn); },
    data: () => {},
    gap: () => {},
    close: (conn) => { hooks?.onConnectionClose(conn); },
    retired: hooks?.onConnectionSettled,
  };
  const { info } = await streamCapture(path, sink, warnings.add, options);
  return { capture: info, connections, warnings: warnings.result() };
}
