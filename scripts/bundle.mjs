// Bundles the CLI (built by tsc into dist/src) into dist/bundle: the program, its commands as chunks loaded on demand,
// the worker of --jobs and the report's page script. A run then loads a few files instead of about a hundred modules
// and packages, each resolved and compiled on its own: start-up is most of a small capture's time
// (docs/benchmarks.md, "Start-up"). dist/src stays as it is: the library entry and the tests' imports.
import { build } from 'esbuild';
import { chmodSync, cpSync, rmSync } from 'node:fs';

const OUT = 'dist/bundle';
rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: ['dist/src/cli/main.js', 'dist/src/parallel/worker.js'],
  bundle: true,
  // The commands' dynamic imports become chunks, so a run still loads only its own command.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: OUT,
  // Entries and chunks side by side: the pool starts ./worker.js and the report reads ./client/ next to the chunk that asks.
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  // A native module, and packages loaded on first use through createRequire (lazyRequire): resolved at run time.
  external: ['@duckdb/node-api'],
  // CommonJS packages (commander) require Node's modules; an ES module has no require of its own.
  banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
cpSync('dist/src/report/html/client', `${OUT}/client`, { recursive: true, filter: (path) => !/\.(d\.ts|map)$/.test(path) });
chmodSync(`${OUT}/main.js`, 0o755);
