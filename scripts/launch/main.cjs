'use strict';
// The bin: the command line from the bundle (scripts/bundle.mjs gives this file src/cli/main.ts's first line, which
// sets the V8 flags the code cache was made with).
require('./load.js').load().exports.startCli();
