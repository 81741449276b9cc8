import type { Exchange } from '../imap/model.js';
import { latencyMs } from '../analysis/stats.js';
import { escapeText } from '../util/escape.js';
import { paintStatus } from './format.js';
import type { ColumnSpec } from './table.js';
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

/** On a narrow terminal the wire text gives way first: the response text, then arguments, then names. */
export const COMMAND_COLUMNS: ColumnSpec[] = [
  { head: 'conn' }, { head: 'frame' }, { head: 'time' }, { head: 'tag', shrink: 1, align: 'left' }, { head: 'command', shrink: 1 },
  { head: 'arguments', shrink: 2 }, { head: 'status' }, { head: 'response', shrink: 3 }, { head: 'latency' }, { head: 'untagged' },
];

/** One table row; wire text is escaped (the table cuts it to the screen, never here). `time` is the time cell, formatted by the caller (-t). */
export function exchangeRow(ex: Exchange, time: string, view: ExchangeView): string[] {
  const ms = latencyMs(ex);
  return [
    String(ex.conn),
    ex.requestFrame !== null ? String(ex.requestFrame) : `(${ex.responseFrame})`,
    time,
    escapeText(ex.tag ?? ''),
    escapeText(ex.command) + (ex.requestMissing ? ' (request not captured)' : ''),
    escapeText(view.showSecrets ? ex.argsClear : ex.args),
    paintStatus(ex.status ?? 'incomplete'),
    escapeText((ex.code ? `[${ex.code}] ` : '') + ex.text),
    ms !== null ? `${ms.toFixed(1)} ms` : '',
    String(ex.untagged),
  ];
}
