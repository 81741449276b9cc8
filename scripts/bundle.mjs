// Bundles the CLI (built by tsc into dist/src) into dist/bundle:
// - imapscope.js: the program as one CommonJS file. Each command, and the worker of --jobs, is loaded on demand within it
//   (esbuild keeps a dynamic import's modules uninitialised until it runs);
// - imapscope.js.cache: V8's code cache of it, made by a warm-up run under the bin's V8 flags;
// - main.js (the bin) and worker.js (a --jobs thread): launchers that load the bundle with its cache (scripts/launch/);
// - client/: the report's page scripts.
// Node 20 resolves, reads and compiles every ES module on its own and keeps no compile cache: a small capture's run
// spent a third of its time in that (docs/benchmarks.md, "Start-up"). dist/src stays as it is: the library entry and
// the tests' imports.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const OUT = 'dist/bundle';
/** What the warm-up run does: what it compiles is what the cache holds (the rest compiles on first use, as before). */
const WARM_UP = ['summary', 'captures/seed-alice.pcap'];

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: ['dist/src/cli/bundle-entry.js'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: `${OUT}/imapscope.js`,
  // A native module: loaded on first use from node_modules.
  external: ['@duckdb/node-api'],
  // import.meta.url (where the worker's launcher and the page scripts are found) is the bundle's own address.
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Without the layout its text is 0.7 MB rather than 1.1, which V8 keeps: 3.5 MiB less at the peak. Names stay.
  minifyWhitespace: true,
  logLevel: 'warning',
});
// The launcher runs the bundle as a script, which has no loader for import(): every module must be in it, or required.
if (/\bimport\(/.test(readFileSync(`${OUT}/imapscope.js`, 'utf8'))) throw new Error('the bundle has an import(): bundle the module or require it');
// The package is of ES modules; the files here are CommonJS.
writeFileSync(`${OUT}/package.json`, '{ "type": "commonjs" }\n');
// The bin's first line runs node with the V8 flags of src/cli/main.ts.
const shebang = readFileSync('src/cli/main.ts', 'utf8').split('\n', 1)[0];
if (!shebang.startsWith('#!')) throw new Error('src/cli/main.ts does not start with #!');
writeFileSync(`${OUT}/main.js`, `${shebang}\n${readFileSync('scripts/launch/main.cjs', 'utf8')}`);
chmodSync(`${OUT}/main.js`, 0o755);
copyFileSync('scripts/launch/worker.cjs', `${OUT}/worker.js`);
copyFileSync('scripts/launch/load.cjs', `${OUT}/load.js`);
cpSync('dist/src/report/html/client', `${OUT}/client`, { recursive: true, filter: (path) => !/\.(d\.ts|map)$/.test(path) });

// The code cache, made under the bin's flags: V8 rejects a cache made under other flags.
const flags = shebang.split(/\s+/).filter((word) => word.startsWith('--'));
const warm = spawnSync(process.execPath, [...flags, 'scripts/launch/warm.cjs', ...WARM_UP], { stdio: ['ignore', 'ignore', 'inherit'] });
if (warm.status !== 0) throw new Error(`the warm-up run for the code cache failed (${warm.status ?? warm.signal})`);
