/**
 * One stack of bench/layers.ts over one file, in a process of its own: `node dist/bench/layer-stack.js STACK FILE`.
 * It prints what it counted (records, segments, bytes, messages or exchanges), so that the bench sees each run did the
 * same work. Nothing is imported until the stack is known: the `node` stack is Node's own start-up.
 */
type Stack = 'node' | 'read' | 'decode' | 'tcp' | 'frame' | 'analyze';

async function run(stack: Stack, file: string): Promise<void> {
  const warn = (): void => {};
  let count = 0;
  switch (stack) {
    case 'node':
      break;
    case 'read': {
      const { readCapture } = await import('../src/capture/reader.js');
      await readCapture(file, () => count++, warn);
      break;
    }
    case 'decode': {
      const { readCapture } = await import('../src/capture/reader.js');
      const { PacketDecoder } = await import('../src/decode/decoder.js');
      const decoder = new PacketDecoder(warn);
      await readCapture(file, (frame) => {
        if (decoder.decode(frame)) count++;
      }, warn);
      break;
    }
    case 'tcp': {
      const { streamCapture } = await import('../src/pipeline.js');
      await streamCapture(file, { open: () => undefined, data: (_c, _s, bytes) => void (count += bytes.length), gap: () => {}, close: () => {} }, warn);
      break;
    }
    case 'frame': {
      const { streamCapture } = await import('../src/pipeline.js');
      const { DEFAULT_FRAMER_LIMITS, ImapFramer } = await import('../src/imap/framer.js');
      const out = { message: () => void count++, warn: () => {} };
      // Literal octets are only counted, as the analysis does for the responses it does not read.
      const settings = (side: 'client' | 'server') => ({ side, limits: DEFAULT_FRAMER_LIMITS, plausibleStart: () => true, keepsOctets: () => false });
      const client = settings('client');
      const server = settings('server');
      await streamCapture(file, {
        open: () => ({ client: new ImapFramer(out, client), server: new ImapFramer(out, server) }),
        data: (_c, side, bytes, frame, time, framers) => void framers[side].push(bytes, frame, time),
        gap: (_c, side, length, frame, time, framers) => framers[side].gap(length, frame, time),
        close: () => {},
      }, warn);
      break;
    }
    case 'analyze': {
      const { analyzeCapture } = await import('../src/analysis/analyzer.js');
      await analyzeCapture(file, { keepConnections: false, statistics: false, onExchange: () => void count++ });
      break;
    }
  }
  process.stdout.write(`${count}\n`);
}

const [stack, file] = process.argv.slice(2);
await run(stack as Stack, file!);
