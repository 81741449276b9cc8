import type { Command } from 'commander';
import { lazyAction } from '../common-options.js';

export function registerFields(program: Command): void {
  program.command('fields')
    .description('every field a display filter (-Y) or a column (-e) can name: type, level, meaning, and its JSON key')
    .option('--json', 'as JSON: [{name, aliases, type, level, description, json}]')
    .action(lazyAction(async () => (await import('../run/fields.js')).runFields));
}
