import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readRows, RowFile, type RowPlaces } from '../analysis/connection-rows.js';
import type { FetchStep } from '../analysis/fetches.js';
import { GatheredWriter } from '../util/gathered-writer.js';
import { readLines } from '../util/read-lines.js';
import { float64List, listValues, pushValue } from '../util/typed-list.js';

/**
 * Steps spilled by StepFile, plain data (it crosses threads): those that came in order, one per line of `inOrder` after
 * their key, and those that came late, in order, with their keys.
 */
export interface SpilledSteps {
  inOrder: string;
  late: RowPlaces & { frames: Float64Array; created: Float64Array };
}

/**
 * FETCH steps written to a file of the spill directory as their commands complete, listed at the end in request order
 * (by request frame, then in order of creation, as FetchTracker.steps orders them). Exchanges are reported in request
 * order but where it was given up (a command let go of the order, an IDLE that never ends), so steps come in that
 * order but for a few: those go to a second file whose order is kept in memory (about 30 bytes each), the rest need
 * nothing. 1,000,000 FETCH commands kept 36 MiB of keys when every step's were kept.
 */
export class StepFile {
  private readonly inOrder: GatheredWriter;
  private lastFrame = -Infinity;
  private lastCreated = -Infinity;
  private late: RowFile | null = null;
  private readonly lateFrames = float64List(16);
  private readonly lateCreated = float64List(16);

  constructor(private readonly dir: string) {
    this.inOrder = new GatheredWriter(join(dir, `steps-${randomUUID()}`));
  }

  add(step: FetchStep, created: number): void {
    const frame = step.requestFrame ?? Infinity;
    const text = JSON.stringify(step);
    if (frame > this.lastFrame || (frame === this.lastFrame && created > this.lastCreated)) {
      this.inOrder.write(`${frame} ${created} ${text}\n`);
      this.lastFrame = frame;
      this.lastCreated = created;
      return;
    }
    this.late ??= new RowFile(join(this.dir, `late-steps-${randomUUID()}`));
    this.late.add(text);
    pushValue(this.lateFrames, frame);
    pushValue(this.lateCreated, created);
  }

  /** The pass failed: the files are closed unfinished (the caller removes the directory). */
  abandon(): void {
    this.inOrder.close();
    this.late?.close();
  }

  finish(): SpilledSteps {
    this.inOrder.close();
    const frames = listValues(this.lateFrames);
    const created = listValues(this.lateCreated);
    const order = Array.from(frames, (_, i) => i).sort((a, b) => frames[a]! - frames[b]! || created[a]! - created[b]!);
    const places = this.late?.finish(order) ?? { path: '', offsets: new Float64Array(0), lengths: new Uint32Array(0) };
    return {
      inOrder: this.inOrder.path,
      late: { ...places, frames: Float64Array.from(order, (i) => frames[i]!), created: Float64Array.from(order, (i) => created[i]!) },
    };
  }
}

/** The spilled steps in request order: both files merged (each closed when the reading ends, early or not). */
export function* readSteps(s: SpilledSteps): Generator<FetchStep> {
  const late = s.late.offsets.length > 0 ? readRows(s.late) : null;
  try {
    let k = 0;
    let next = late?.next();
    for (const line of readLines(s.inOrder)) {
      const space = line.indexOf(' ');
      const second = line.indexOf(' ', space + 1);
      const frame = Number(line.slice(0, space));
      const created = Number(line.slice(space + 1, second));
      for (; next && !next.done && (s.late.frames[k]! < frame || (s.late.frames[k] === frame && s.late.created[k]! < created)); k++) {
        yield JSON.parse(next.value) as FetchStep;
        next = late!.next();
      }
      yield JSON.parse(line.slice(second + 1)) as FetchStep;
    }
    for (; next && !next.done; next = late!.next()) yield JSON.parse(next.value) as FetchStep;
  } finally {
    late?.return(undefined);
  }
}
