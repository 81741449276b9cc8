import { isIP } from 'node:net';

/** An address or a CIDR block: `prefix` bits of `value` count (all of them for a plain address). */
export interface IpBlock {
  v6: boolean;
  value: bigint;
  prefix: number;
}

/** 10.0.0.1, 10.0.0.0/8, ::1, 2001:db8::/32; null when it is none of these. */
export function parseIp(text: string): IpBlock | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return null;
  const v6 = family === 6;
  const bits = v6 ? 128 : 32;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return null;
    prefix = Number(p);
  }
  return { v6, value: v6 ? ipv6Value(addr) : ipv4Value(addr), prefix };
}

function ipv4Value(addr: string): bigint {
  return addr.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(addr: string): bigint {
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets first.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  let text = addr;
  if (v4) {
    const n = ipv4Value(v4[1]!);
    text = `${addr.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** `addr` lies in `block` (same family, same leading prefix bits). */
export function ipInBlock(addr: IpBlock, block: IpBlock): boolean {
  if (addr.v6 !== block.v6) return false;
  const shift = BigInt((block.v6 ? 128 : 32) - block.prefix);
  return (addr.value >> shift) === (block.value >> shift);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, min: 60, h: 3600 };

/** 100ms, 1.5s, 2min, or a bare number of seconds (as Wireshark's relative-time fields). */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|min|h)?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
}

/** Decimal, hexadecimal (0x…) or octal-free whole and fractional numbers. */
export function parseNumber(text: string): number | null {
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+|0x[0-9a-fA-F]+)$/.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export function parseBoolean(text: string): boolean | null {
  const t = text.toLowerCase();
  if (t === '1' || t === 'true') return true;
  if (t === '0' || t === 'false') return false;
  return null;
}
