#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --no-parallel-scavenge --heap-growing-percent=100 --expose-gc
// A small young generation keeps peak memory low on big captures at no cost in speed, and an old generation
// let grow to twice what survived its last collection (V8 lets it reach up to four times) keeps the peak
// near what is live when much is kept, as with many connections (docs/benchmarks.md, tenth round). Each
// scavenge of that young generation finds little alive, and runs faster on this thread than with helpers
// started for it (nineteenth round). --expose-gc: the collections of docs/architecture.md, Memory. Once much
// survives a full collection, that growth is cut to 35 % (leanHeapWhenLarge).
// The bin (dist/bundle/main.js, made by scripts/bundle.mjs) starts with the same first line.
import { startCli } from './start.js';

startCli();
