#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --no-parallel-scavenge --heap-growing-percent=100 --expose-gc
// A small young generation keeps peak memory low on big captures at no cost in speed, and an old generation
// let grow to twice what survived its last collection (V8 lets it reach up to four times) keeps the peak
// near what is live when much is kept, as with many connections (docs/benchmarks.md, tenth round). Each
// scavenge of that young generation finds little alive, and runs faster on this thread than with helpers
// started for it (nineteenth round). --expose-gc: the collections of docs/architecture.md, Memory. Once much
// survives a full collection, that growth is cut to 35 % (leanHeapWhenLarge).
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { EXIT_USAGE, reportFatal } from './errors.js';
import { output } from './output.js';
import { leanHeapWhenLarge } from '../util/heap-growth.js';

async function main(): Promise<void> {
  output.install();
  leanHeapWhenLarge();
  // A failure outside the command's own promise (a stream callback) is still one line and exit 70.
  process.on('uncaughtException', reportFatal);
  process.on('unhandledRejection', reportFatal);
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other commander error is bad usage (it printed the line).
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    reportFatal(err);
  }
  output.finish();
}

main().catch(reportFatal);
