import { Session } from 'node:inspector';

interface Range { startOffset: number; endOffset: number; count: number }
interface FunctionCoverage { ranges: Range[] }
interface ScriptCoverage { url: string; functions: FunctionCoverage[] }

/**
 * Block coverage of the code under test, from V8's precise coverage (the same data `c8` uses), through
 * an inspector session on this thread. Taking coverage resets V8's counters, so each take tells which
 * blocks ran since the last one. A block is a (script, start, end) range; V8 reports a function's
 * blocks with their counts, so blocks never run are known too (the total).
 */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly covered = new Set<string>();
  private readonly seen = new Set<string>();

  constructor(private readonly include: (url: string) => boolean) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  /** Blocks run since the last call; returns how many had never run before. */
  take(): number {
    const result = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let fresh = 0;
    for (const script of result.result) {
      if (!this.include(script.url)) continue;
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          const key = `${script.url}:${r.startOffset}:${r.endOffset}`;
          this.seen.add(key);
          if (r.count > 0 && !this.covered.has(key)) {
            this.covered.add(key);
            fresh++;
          }
        }
      }
    }
    return fresh;
  }

  get blocksCovered(): number {
    return this.covered.size;
  }

  /** Blocks of the loaded modules V8 has reported so far (run or not). */
  get blocksKnown(): number {
    return this.seen.size;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
  }

  /** Same-thread inspector sessions answer synchronously. */
  private post(method: string, params?: object): unknown {
    let answer: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params ?? {}, (err, result) => {
      answered = true;
      failure = err;
      answer = result;
    });
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (failure) throw failure;
    return answer;
  }
}
