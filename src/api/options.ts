import { CaptureError } from '../capture/reader.js';
import { KeyLog } from '../tls/keylog.js';
import { readKeyLogFile } from '../tls/keylog-file.js';
import type { AnalyzeOptions as PipelineAnalyzeOptions } from '../analysis/analyzer.js';

/** A TLS key log (NSS format, as SSLKEYLOGFILE writes): a file path, or its text. */
export type KeyLogSource = string | { text: string } | Uint8Array;

/** What the command line's options set, for code. */
export interface AnalyzeOptions {
  /** IMAP server ports (default 143 and 993), as --port. */
  ports?: number[];
  /** Key logs to decrypt IMAPS and STARTTLS, as --keylog; secrets embedded in pcapng are used too. */
  keylog?: KeyLogSource | KeyLogSource[];
  limits?: {
    /** Out-of-order bytes held per direction while waiting for a hole to fill (default 4 MiB). */
    maxHeldBytes?: number;
    /** The same, by all connections together (default 256 MiB): past it the oldest hole is given up as a gap. */
    maxHeldTotal?: number;
    /** Out-of-order segments held per direction (default 4,096), and by all connections together (default 262,144). */
    maxHeldSegments?: number;
    maxHeldSegmentsTotal?: number;
    /** Literals up to this many octets are kept for parsing (default 256 KiB in analyze, 16 KiB in exchanges). */
    keepLiteral?: number;
    /**
     * TCP conversations open at once, at most: past it one quiet for long is let go, with a warning (default: 8 KiB
     * of the heap limit each, about 525,000 with Node's default limit).
     */
    maxOpenConversations?: number;
  };
}

/** The analysis options these stand for; a key log that cannot be read is a CaptureError. */
export function pipelineOptions(options: AnalyzeOptions): PipelineAnalyzeOptions {
  const keys = new KeyLog();
  const sources = options.keylog === undefined ? [] : Array.isArray(options.keylog) ? options.keylog : [options.keylog];
  for (const source of sources) keys.merge(keyLogOf(source));
  const out: PipelineAnalyzeOptions = { keys };
  if (options.ports) out.ports = options.ports;
  if (options.limits?.maxHeldBytes !== undefined) out.maxHeldBytes = options.limits.maxHeldBytes;
  if (options.limits?.maxHeldTotal !== undefined) out.maxHeldTotal = options.limits.maxHeldTotal;
  if (options.limits?.maxHeldSegments !== undefined) out.maxHeldSegments = options.limits.maxHeldSegments;
  if (options.limits?.maxHeldSegmentsTotal !== undefined) out.maxHeldSegmentsTotal = options.limits.maxHeldSegmentsTotal;
  if (options.limits?.keepLiteral !== undefined) out.keepLiteral = options.limits.keepLiteral;
  if (options.limits?.maxOpenConversations !== undefined) out.maxOpen = options.limits.maxOpenConversations;
  return out;
}

function keyLogOf(source: KeyLogSource): KeyLog {
  if (source instanceof Uint8Array) return KeyLog.parse(Buffer.from(source).toString('utf8'));
  if (typeof source === 'object') return KeyLog.parse(source.text);
  try {
    return readKeyLogFile(source).keys;
  } catch (err) {
    throw new CaptureError(`key log ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
