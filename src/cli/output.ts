import { fstatSync } from 'node:fs';
import type { Warning } from '../capture/types.js';
import { warningLines } from '../report/format.js';
import chalk, { type ColorSupportLevel } from 'chalk';
import { jsonPieces } from '../util/json.js';
import type { ReadControl, ReadProgress } from '../capture/reader.js';
import { setTableWidth } from '../report/table-width.js';
import { ProgressLine } from './progress.js';

/**
 * The one owner of the command line's screen: stdout writing, a closed pipe, Ctrl-C, colour, table
 * width and the progress line. Every command writes through `output` and reads captures with
 * `output.readControl()`, so these behave the same everywhere.
 */

export type OutputFormat = 'text' | 'json' | 'ndjson' | 'raw' | 'fields' | 'csv';
export type ColourChoice = 'auto' | 'always' | 'never';

/** The options every command shares (captureOptions) plus those that name its output format. */
export interface TerminalFlags {
  /** `--color [when]` gives a string or true; `--no-color` gives false. */
  color?: string | boolean;
  wide?: boolean;
  quiet?: boolean;
  json?: boolean;
  ndjson?: boolean;
  raw?: boolean;
  /** `-T FORMAT` (commands with -T/-e): wins like --json; conflicts are the command's usage error. */
  T?: 'text' | 'json' | 'ndjson' | 'fields' | 'csv';
}

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;
/** How much text write() gathers before writing it (characters): big enough that writes are rare, small enough to stream. */
const BATCH_CHARS = 64 * 1024;

export function colourChoice(flag: string | boolean | undefined): ColourChoice {
  if (flag === false) return 'never';
  if (flag === true) return 'always';
  return (flag ?? 'auto') as ColourChoice;
}

/**
 * chalk's level for stdout. The flag wins; then FORCE_COLOR (0/false off, 1-3 a level, else on), then
 * NO_COLOR (any non-empty value: off), then the terminal: no colour unless stdout is one
 * (`terminalDepth` is its getColorDepth(), null when it is not a terminal).
 */
export function colourLevel(choice: ColourChoice, env: NodeJS.ProcessEnv, terminalDepth: number | null): ColorSupportLevel {
  if (choice === 'never') return 0;
  const depthLevel = (depth: number | null): ColorSupportLevel => (depth === null || depth < 4 ? 0 : depth < 8 ? 1 : depth < 24 ? 2 : 3);
  const forced = env.FORCE_COLOR;
  const forcedLevel = forced === undefined ? null : /^(0|false)$/i.test(forced) ? 0 : /^[123]$/.test(forced) ? (Number(forced) as ColorSupportLevel) : 1;
  if (choice === 'always') return Math.max(1, forcedLevel ?? 0, depthLevel(terminalDepth)) as ColorSupportLevel;
  if (forcedLevel !== null) return forcedLevel;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  return depthLevel(terminalDepth);
}

/** Whether the progress line may be drawn: stderr a terminal, stdout not a pipe, not CI, not --quiet. */
export function wantsProgress(o: { stderrIsTTY: boolean; stdoutIsPipe: boolean; env: NodeJS.ProcessEnv; quiet: boolean }): boolean {
  const ci = o.env.CI !== undefined && o.env.CI !== '' && o.env.CI !== 'false' && o.env.CI !== '0';
  return o.stderrIsTTY && !o.stdoutIsPipe && !ci && !o.quiet;
}

export class Output {
  format: OutputFormat = 'text';
  /** The subcommand being run, for `see 'imapscope <command> --help'`. */
  command: string | null = null;
  private stdoutClosed = false;
  private interruptedFlag = false;
  private interruptedLine: string | null = null;
  private readonly stop = new AbortController();
  private progress: ProgressLine | null = null;
  private lastRead: ReadProgress | null = null;
  private pending: string[] = [];
  private pendingChars = 0;
  private flushScheduled = false;

  /** Listen for a closed stdout or stderr and for Ctrl-C (the command line only; the library never does). */
  install(): void {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      // The reader went away (| head): nothing more can be shown, so stop reading too.
      this.stdoutClosed = true;
      this.stop.abort();
    });
    // Warnings into a closed pipe are lost, and that is no reason to fail.
    process.stderr.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
    process.on('SIGINT', () => {
      if (this.interruptedFlag) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: leave at once
      this.interruptedFlag = true;
      this.stop.abort();
    });
  }

  /** Settings from the command's options, before it runs. */
  configure(command: string, flags: TerminalFlags): void {
    this.command = command;
    this.format = flags.T ?? (flags.json ? 'json' : flags.ndjson ? 'ndjson' : flags.raw ? 'raw' : 'text');
    const out = process.stdout;
    chalk.level = colourLevel(colourChoice(flags.color), process.env, out.isTTY ? out.getColorDepth() : null);
    setTableWidth(out.isTTY && !flags.wide ? out.columns ?? null : null);
    const show = wantsProgress({ stderrIsTTY: Boolean(process.stderr.isTTY), stdoutIsPipe: isPipe(1), env: process.env, quiet: Boolean(flags.quiet) });
    this.progress = show ? new ProgressLine(process.stderr) : null;
  }

  /** The terminal's width when stdout is one, else null. */
  get columns(): number | null {
    return process.stdout.isTTY ? process.stdout.columns ?? null : null;
  }

  get interrupted(): boolean {
    return this.interruptedFlag;
  }

  /** True when reading should not go on (Ctrl-C or a closed output). */
  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  /** Aborted when `stopped` becomes true: a wait for something else than a capture (a pipe's reader) ends with it. */
  get stopSignal(): AbortSignal {
    return this.stop.signal;
  }

  /**
   * Text is gathered and written in pieces of up to BATCH_CHARS: one write per exchange cost more than
   * building the exchange. What is gathered goes out once the event loop turns (before more input is
   * read, so output still streams with a live capture), before any line on stderr, and at the end.
   */
  write(chunk: string | Uint8Array): void {
    if (this.stdoutClosed) return;
    if (typeof chunk !== 'string') {
      this.flush();
      this.writeNow(chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingChars += chunk.length;
    if (this.pendingChars >= BATCH_CHARS) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
  }

  /** Write out what write() has gathered. */
  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    if (!this.stdoutClosed) this.writeNow(text);
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private writeNow(chunk: string | Uint8Array): void {
    // The progress line shares the screen only when stdout is the terminal too (not `> file`).
    if (process.stdout.isTTY) this.progress?.clear();
    process.stdout.write(chunk);
  }

  /** A JSON document, with `"partial": true` when Ctrl-C cut the input short. */
  async json(value: object): Promise<void> {
    // In pieces: a summary of 50,000 connections must not become one string before it is written, nor
    // wait whole in memory for a slow pipe.
    await this.pieces(jsonPieces({ ...value, ...this.partialField() }, 2));
    this.write('\n');
  }

  /** Text made while it is written, waiting for a slow pipe to drain between pieces. */
  async pieces(text: Iterable<string>): Promise<void> {
    for (const piece of text) {
      this.write(piece);
      if (process.stdout.writableNeedDrain) await this.room();
    }
  }

  /** `{ partial: true }` after Ctrl-C, else nothing: spread it into a JSON document. */
  partialField(): { partial?: true } {
    return this.interruptedFlag ? { partial: true } : {};
  }

  /** A line for stderr that the progress line must not mix with. */
  note(line: string): void {
    this.flush(); // what stdout was given before this line is shown before it
    this.progress?.clear();
    process.stderr.write(`${line}\n`);
  }

  /** A capture's warnings on stderr, one line each, after what stdout was given before them. */
  warnings(list: readonly Warning[], path?: string): void {
    for (const line of warningLines(list, path)) this.note(line);
  }

  /** What the capture readers need: the stop signal, and the progress line when one is shown. */
  readControl(): ReadControl {
    return {
      signal: this.stop.signal,
      onProgress: (p) => {
        this.lastRead = p;
        this.progress?.update(p);
      },
      room: () => this.room(),
    };
  }

  /**
   * Null while stdout keeps up; when it is a pipe whose reader is slower than us, a promise that settles
   * once it has drained (or output stops): reading waits, and memory does not fill with queued output.
   */
  room(): Promise<void> | null {
    this.flush();
    const out = process.stdout;
    if (!out.writableNeedDrain || this.stdoutClosed || this.stopped) return null;
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        this.stop.signal.removeEventListener('abort', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
      this.stop.signal.addEventListener('abort', done);
    });
  }

  /** The captures, one at a time, until reading has been stopped. */
  *inputs<T>(paths: readonly T[]): Generator<[number, T]> {
    for (const [i, path] of paths.entries()) {
      if (this.stopped) return;
      yield [i, path];
    }
  }

  /**
   * What Ctrl-C did to a command that reports nothing of what it read when interrupted (export adds no part of a
   * batch): the line said after it, on stderr, in place of the partial mark.
   */
  interruptedMeans(line: string): void {
    this.interruptedLine = line;
  }

  /** After the command: mark an interrupted report as partial and exit 130. */
  finish(): void {
    this.flush();
    this.progress?.clear();
    if (!this.interruptedFlag) return;
    process.exitCode = EXIT_INTERRUPTED;
    if (this.interruptedLine !== null) {
      this.note(`imapscope: ${this.interruptedLine}`);
      return;
    }
    const at = this.lastRead;
    const where = at ? ` while reading ${at.path === '-' ? 'stdin' : at.path} (${at.frames} frames read)` : '';
    const line = `partial: interrupted${where}; only what was read before Ctrl-C is reported`;
    // A text report carries the mark itself; other formats keep stdout clean and say it on stderr.
    if (this.format === 'text' && !this.stdoutClosed) this.writeNow(`${line}\n`);
    else this.note(`imapscope: ${line}`);
    process.exitCode = EXIT_INTERRUPTED;
  }

  /** The hint that ends a usage error. */
  helpHint(): string {
    return helpHint(this.command);
  }
}

export function helpHint(command: string | null): string {
  return `see 'imapscope${command ? ` ${command}` : ''} --help'`;
}

function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/** The command line's single output. */
export const output = new Output();
