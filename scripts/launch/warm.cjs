'use strict';
// The build's warm-up run (scripts/bundle.mjs): runs the command line given to it from the bundle in dist/bundle and
// writes the bundle's code cache as the process exits, with what the run compiled.
require('../../dist/bundle/load.js').load({ writeCache: true }).exports.startCli();
