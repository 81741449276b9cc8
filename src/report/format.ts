import chalk from 'chalk';
import type { Warning } from '../capture/types.js';
import type { Endpoint } from '../tcp/types.js';
import { escapeText } from '../util/escape.js';
import { FitTable, type ColumnSpec } from './table.js';

export function endpoint(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

export function bytesHuman(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function seconds(s: number): string {
  if (Math.abs(s) < 1) return `${(s * 1000).toFixed(1)} ms`;
  return `${s.toFixed(3)} s`;
}

/** A command's status as people scan for it: NO yellow, BAD red, incomplete dim (colour only when chalk has it). */
export function paintStatus(status: string, text: string = status): string {
  switch (status) {
    case 'NO': return chalk.yellow(text);
    case 'BAD': return chalk.red(text);
    case 'incomplete': return chalk.dim(text);
    default: return text;
  }
}

/** Warnings as text lines for stderr (already escaped: messages may quote wire bytes). */
export function warningLines(warnings: readonly Warning[], path?: string): string[] {
  return warnings.map((w) => {
    const where = [path, w.frame !== null ? `frame ${w.frame}` : null, w.conn !== undefined ? `conn ${w.conn}` : null].filter(Boolean).join(', ');
    return chalk.yellow(`warning: ${where ? `${where}: ` : ''}${escapeText(w.message)}`);
  });
}

export function jsonWarnings(warnings: readonly Warning[]): object[] {
  return warnings.map((w) => ({ frame: w.frame, ...(w.conn !== undefined ? { conn: w.conn } : {}), message: w.message }));
}

/**
 * A table fitted to the screen when printed (see table.ts); it colours its header and borders only when
 * chalk does (so pipes and files get plain text).
 */
export function makeTable(head: readonly (string | ColumnSpec)[]): FitTable {
  return new FitTable(head);
}

