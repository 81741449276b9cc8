import type { CaptureInfo, Warning } from '../capture/types.js';
import { WarningList } from './warning-list.js';
import { streamCapture, type PipelineOptions } from '../pipeline.js';
import type { Connection, StreamSink } from '../tcp/types.js';

export interface StreamsResult {
  capture: CaptureInfo;
  connections: Connection[];
  warnings: Warning[];
}

/** The TCP-level view of a capture: its IMAP connections, their bytes, gaps and end states. */
export async function collectStreams(path: string, options: PipelineOptions = {}): Promise<StreamsResult> {
  const connections: Connection[] = [];
  const warnings = new WarningList();
  const sink: StreamSink = {
    open: (conn) => { connections.push(conn); },
    data: () => {},
    gap: () => {},
    close: () => {},
  };
  const { info } = await streamCapture(path, sink, warnings.add, options);
  return { capture: info, connections, warnings: warnings.result() };
}
