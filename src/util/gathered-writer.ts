import { closeSync, openSync, writeSync } from 'node:fs';

/** Bytes gathered per write. */
const GATHERED_BYTES = 64 * 1024;

/**
 * Text appended to a new file (mode 0600), gathered into large writes: spilled runs, extract's plans and its
 * manifest write a short line per record, and a system call per line cost more than the lines.
 */
export class GatheredWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(GATHERED_BYTES);
  private used = 0;
  /** Bytes appended so far (gathered ones too): where the next text starts. */
  size = 0;

  /**
   * `mode`: the new file's permissions (before the umask); private to this user by default. `opened`: a descriptor
   * already open for writing at `path` (a pipe, a terminal), used instead of a new file, and closed by close().
   */
  constructor(readonly path: string, mode = 0o600, opened?: number) {
    this.fd = opened ?? openSync(path, 'wx', mode);
  }

  /** Append `text` as UTF-8; returns its length in bytes. */
  write(text: string): number {
    // A UTF-16 unit takes at most 3 octets in UTF-8.
    const most = 3 * text.length;
    if (this.used + most > GATHERED_BYTES) this.flush();
    let n: number;
    if (most > GATHERED_BYTES) n = writeSync(this.fd, text); // longer than the buffer: straight to the file
    else this.used += (n = this.buffer.write(text, this.used));
    this.size += n;
    return n;
  }

  /** Append octets as they are. */
  writeOctets(octets: Uint8Array): void {
    if (this.used + octets.length > GATHERED_BYTES) this.flush();
    if (octets.length > GATHERED_BYTES) writeSync(this.fd, octets); // longer than the buffer: straight to the file
    else {
      this.buffer.set(octets, this.used);
      this.used += octets.length;
    }
    this.size += octets.length;
  }

  /** Put what is gathered into the file (before the file is read). */
  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buffer, 0, this.used);
    this.used = 0;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}
