'use strict';
// Loads the bin's bundle, dist/bundle/imapscope.js (one CommonJS file), with the V8 code cache made for it when it was
// built (imapscope.js.cache, scripts/bundle.mjs). Node 20 compiles each script anew at every start and keeps no cache
// of its own (Node 22 has one): compiling and linking took a third of a small capture's run. A cache that another V8,
// another build or V8 flags other than the bin's made is rejected by V8, and the bundle is compiled as usual.
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, 'imapscope.js');
const CACHE = `${BUNDLE}.cache`;

/**
 * The bundle's exports, and how its code cache went: 'used', 'rejected' or 'none'. With `writeCache` (the build's
 * warm-up run only), the cache is written when the process exits, with every function the run compiled.
 */
function load(options = {}) {
  let cached;
  try {
    cached = readFileSync(CACHE);
  } catch {
    cached = undefined;
  }
  // The bundle has no import() (scripts/bundle.mjs checks): a script run this way has no loader for one.
  const script = new Script(wrap(readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, cachedData: cached });
  if (options.writeCache) process.on('exit', () => writeFileSync(CACHE, script.createCachedData()));
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, __dirname);
  return { exports: module.exports, cache: cached === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used' };
}

module.exports = { load };
