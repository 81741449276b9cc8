import { Option, type Command } from 'commander';
import { lazyAction } from '../common-options.js';

export function registerSql(program: Command): void {
  program.command('sql')
    .description('run SQL over a dataset written by export, with embedded DuckDB; the tables are views named captures, connections, exchanges, fetches, warnings (docs/fleet.md)')
    .argument('<dir>', 'dataset directory (export --out)')
    .argument('<query>', 'SQL, e.g. "SELECT command, count(*) FROM exchanges GROUP BY ALL"')
    .addOption(new Option('-T, --output <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
    .action(lazyAction(async () => (await import('../run/sql.js')).runSql));
}
