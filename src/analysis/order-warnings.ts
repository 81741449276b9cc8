import type { Warning, WarningSink } from '../capture/types.js';
import type { Exchange } from '../imap/model.js';
import { MAX_WAITING, MAX_WAITING_BYTES } from './orderer.js';

/**
 * Commands let go of the request order that get a warning each: the first ones say what happened and why. A server's
 * capture of many clients idling lets go of one IDLE per client, and a warning each made thousands of lines saying
 * the same; the rest are counted in one warning at the end (LetGoWarnings.end).
 */
export const LET_GO_WARNED = 10;

/**
 * The orderer's cap was hit: the unfinished command everything waited behind (usually an IDLE that lasts the whole
 * capture, or a command whose answer the capture lost) leaves the order, at the frame that tipped it: an answer, or the end
 * of a connection that waited too.
 */
export function orderOverflowWarning(blocking: Exchange, frame: number | null): Warning {
  const what = `${blocking.tag ?? '(no tag)'} ${blocking.command}`;
  const where = blocking.requestFrame !== null ? ` (request in frame ${blocking.requestFrame})` : '';
  const cap = `${MAX_WAITING.toLocaleString('en-US')} complete commands and ended connections (or ${MAX_WAITING_BYTES / 1024 / 1024} MiB of commands)`;
  return {
    frame,
    message: `connection ${blocking.conn}'s ${what}${where} is not complete, and more than ${cap} wait behind it (the cap): it is reported when it completes, out of request order`,
  };
}

/** The warnings for commands let go of the request order: LET_GO_WARNED of them one by one, then a count. */
export class LetGoWarnings {
  private count = 0;
  private idles = 0;
  private lastFrame: number | null = null;

  constructor(private readonly warn: WarningSink) {}

  readonly letGo = (blocking: Exchange, frame: number | null): void => {
    if (++this.count <= LET_GO_WARNED) {
      this.warn(orderOverflowWarning(blocking, frame));
      return;
    }
    if (blocking.command === 'IDLE') this.idles++;
    this.lastFrame = frame;
  };

  /** The input ended: the commands let go after the first LET_GO_WARNED, counted, at the frame that let the last one go. */
  end(): void {
    const more = this.count - LET_GO_WARNED;
    if (more <= 0) return;
    const idles = this.idles === more ? ', each an IDLE,' : this.idles > 0 ? `, ${this.idles} of them IDLE,` : '';
    this.warn({
      frame: this.lastFrame,
      message: `${more} more unfinished command(s)${idles} left the request order the same way (the cap), the last in this frame: each is reported when it completes`,
    });
  }
}
