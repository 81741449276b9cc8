import type { StreamsResult } from '../../analysis/streams.js';
import { streamsJsonStreamed, streamsTextPieces } from '../../report/streams.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { runPerConnection, type PerConnectionOptions } from '../per-connection.js';

export async function runStreams(args: string[], opts: PerConnectionOptions): Promise<void> {
  const filter = compileFilterOption(opts.filter, { level: 'connection', context: 'streams' });
  await runPerConnection('streams', args, opts, filter !== null, (r) => r.streams, async (results: StreamsResult[], rows) => {
    if (opts.json) {
      await output.json(streamsJsonStreamed(results, rows));
      return;
    }
    for (const [n, r] of results.entries()) {
      await output.pieces(streamsTextPieces(r, rows[n]));
      output.warnings(r.warnings, r.capture.path);
    }
  });
}
