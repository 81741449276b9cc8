import type { Exchange } from '../imap/model.js';
import { latencyMs } from '../analysis/stats.js';
import { escapeText } from '../util/escape.js';
import { isoTime } from '../util/time.js';

export interface ExchangeView {
  showSecrets: boolean;
}

/** JSON twin of a commands row (schema: docs/schema/commands.schema.json). */
export function exchangeJson(ex: Exchange, view: ExchangeView): object {
  return {
    conn: ex.conn,
    tag: ex.tag,
    command: ex.command,
    args: view.showSecrets ? ex.argsClear : ex.args,
    status: ex.status,
    code: ex.code,
    text: ex.text,
    requestFrame: ex.requestFrame,
    responseFrame: ex.responseFrame,
    start: ex.start ? isoTime(ex.start) : null,
    end: ex.end ? isoTime(ex.end) : null,
    latencyMs: latencyMs(ex),
    untagged: ex.untagged,
    untaggedByType: ex.untaggedByType,
    continuations: ex.continuations,
    requestBytes: ex.requestBytes,
    responseBytes: ex.responseBytes,
    mailbox: ex.mailbox,
    requestMissing: ex.requestMissing,
  };
}

export const COMMAND_COLUMNS = ['conn', 'frame', 'time', 'tag', 'command', 'arguments', 'status', 'response', 'latency', 'untagged'];

/** One table row; wire text is escaped and shortened. `time` is the time cell, formatted by the caller (-t). */
export function exchangeRow(ex: Exchange, time: string, view: ExchangeView): string[] {
  const ms = latencyMs(ex);
  return [
    String(ex.conn),
    ex.requestFrame !== null ? String(ex.requestFrame) : `(${ex.responseFrame})`,
    time,
    escapeText(ex.tag ?? ''),
    escapeText(ex.command) + (ex.requestMissing ? ' (request not captured)' : ''),
    shorten(escapeText(view.showSecrets ? ex.argsClear : ex.args), 60),
    ex.status ?? 'incomplete',
    shorten(escapeText((ex.code ? `[${ex.code}] ` : '') + ex.text), 40),
    ms !== null ? `${ms.toFixed(1)} ms` : '',
    String(ex.untagged),
  ];
}

export function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
