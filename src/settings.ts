import { KeyLog } from './tls/keylog.js';
import type { PipelineOptions } from './pipeline.js';

/**
 * How to read a capture, in a form that crosses to a worker thread (plain data): server ports and the
 * texts of TLS key logs. Each capture gets its own KeyLog built from these, so secrets one capture embeds
 * never decrypt another, whichever thread or order the captures are read in.
 */
export interface CaptureSettings {
  ports: number[];
  keylogTexts: string[];
}

export function pipelineOptions(settings: CaptureSettings): PipelineOptions & { ports: number[]; keys: KeyLog } {
  const keys = new KeyLog();
  for (const text of settings.keylogTexts) keys.merge(KeyLog.parse(text));
  return { ports: settings.ports, keys };
}
