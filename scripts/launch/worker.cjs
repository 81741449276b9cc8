'use strict';
// A thread of --jobs (the pool starts ./worker.js next to the bundle): the worker from the bundle.
require('./load.js').load().exports.startWorker();
