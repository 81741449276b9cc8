#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { buildProgram } from './program.js';
import { EXIT_USAGE, reportFatal } from './errors.js';

async function main(): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other commander error is bad usage (it printed the line).
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    reportFatal(err);
  }
}

void Command;
void Option;
main().catch(reportFatal);
