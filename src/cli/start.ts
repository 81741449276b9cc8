import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { EXIT_USAGE, reportFatal } from './errors.js';
import { output } from './output.js';
import { leanHeapWhenLarge } from '../util/heap-growth.js';

/** The command line, started: parses the arguments and runs the command (the bin's entry, main.ts, and its bundle). */
export function startCli(): void {
  runCli().catch(reportFatal);
}

async function runCli(): Promise<void> {
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
