/** One captured packet as the capture file stores it. */
export interface Frame {
  /** 1-based position in its file, as Wireshark's frame.number. */
  number: number;
  /** Seconds since the epoch. */
  tsSec: number;
  /** Fraction of the second in nanoseconds (0..999_999_999). */
  tsNsec: number;
  /** Decimal digits of the timestamp resolution the file gave (6 for µs, 9 for ns, …). */
  tsDigits: number;
  /** Link-layer header type (LINKTYPE_* number from tcpdump.org). */
  linkType: number;
  /** The captured bytes. Only valid during the callback that receives the frame: copy to keep. */
  data: Buffer;
  /** Length of the packet on the wire (may exceed data.length when the snaplen cut it). */
  origLen: number;
  /** pcapng interface id within its section (0 in classic pcap): kept when frames are written out. */
  iface: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** What a reader learned about one capture file, filled in while it is read. */
export interface CaptureInfo {
  path: string;
  format: CaptureFormat | null;
  gzip: boolean;
  /** Distinct link types seen, in order of first appearance. */
  linkTypes: number[];
  frames: number;
  firstFrame: number | null;
  lastFrame: number | null;
  /** Earliest and latest timestamps as [sec, nsec, digits]; captures are not always monotonic. */
  first: Timestamp | null;
  last: Timestamp | null;
  bytes: number;
}

export interface Timestamp {
  sec: number;
  nsec: number;
  digits: number;
}

export interface Warning {
  /** Frame number the problem belongs to, or null for file-level problems. */
  frame: number | null;
  /** TCP connection id (tcp.stream), when the problem belongs to one. */
  conn?: number;
  message: string;
}

export type WarningSink = (w: Warning) => void;

/** Receives frames in file order. Readers call it synchronously from their parse loop. */
export type FrameSink = (frame: Frame) => void;

/** Secrets found inside a capture (pcapng Decryption Secrets Block). */
export interface EmbeddedSecret {
  type: number;
  data: Buffer;
}
