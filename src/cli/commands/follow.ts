import type { Command } from 'commander';
import { Option } from 'commander';
import { streamCapture } from '../../pipeline.js';
import type { Side } from '../../tcp/types.js';
import { warningLines } from '../../report/format.js';
import { UsageError } from '../errors.js';
import { parseNonNegativeInt, parsePortList } from '../options.js';
import { captureOptions } from '../program.js';

export function registerFollow(program: Command): void {
  captureOptions(program.command('follow')
    .description('one connection\'s reassembled bytes (--raw) exactly as the peers exchanged them')
    .argument('<capture>', 'capture file (pcap, pcapng, gzip; - for stdin)')
    .requiredOption('--conn <id>', 'connection id (as in streams, = Wireshark tcp.stream)')
    .option('--raw', 'write the raw bytes of one direction to stdout (gaps left out, reported on stderr)')
    .addOption(new Option('--side <side>', 'direction for --raw').choices(['client', 'server']).default('client')))
    .action(async (capture: string, opts: { conn: string; raw?: boolean; side: Side; port: string }) => {
      const ports = parsePortList(opts.port);
      const id = parseNonNegativeInt('--conn', opts.conn);
      if (!opts.raw) throw new UsageError('follow: only --raw is available so far');
      let found = false;
      const result = await streamCapture(capture, {
        open: (c) => { if (c.id === id) found = true; },
        data: (c, side, bytes) => { if (c.id === id && side === opts.side) process.stdout.write(Buffer.from(bytes)); },
        gap: (c, side, length, frame) => {
          if (c.id === id && side === opts.side) process.stderr.write(`imapscope: gap of ${length} bytes at frame ${frame} (left out)\n`);
        },
        close: () => {},
      }, () => {}, { ports });
      if (!found) throw new UsageError(`follow: ${capture} has no IMAP connection with id ${id} (see 'imapscope streams')`);
      void result;
      void warningLines;
    });
}
