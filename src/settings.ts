import { KeyLog, type KeyLogSecrets } from './tls/keylog.js';
import type { PipelineOptions } from './pipeline.js';

/**
 * How to read a capture, in a form that crosses to a worker thread (plain data): server ports and the
 * secrets of the TLS key logs given. Each capture gets its own KeyLog made of these, so secrets one capture embeds
 * never decrypt another, whichever thread or order the captures are read in.
 */
export interface CaptureSettings {
  ports: number[];
  keySecrets: KeyLogSecrets;
}

export function pipelineOptions(settings: CaptureSettings): PipelineOptions & { ports: number[]; keys: KeyLog } {
  return { ports: settings.ports, keys: KeyLog.of(settings.keySecrets) };
}
