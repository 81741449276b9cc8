import type { CaptureInfo, Frame, Timestamp } from './types.js';

/** Numbers frames in file order and keeps the capture summary up to date as frames pass. */
export class FrameBuilder {
  constructor(private readonly info: CaptureInfo) {}

  /** A record that Wireshark numbers as a frame but that holds no packet (pcapng custom blocks). */
  skip(): void {
    this.info.frames++;
  }

  next(sec: number, nsec: number, digits: number, linkType: number, data: Buffer, origLen: number, iface = 0): Frame {
    const info = this.info;
    const number = ++info.frames;
    if (info.firstFrame === null) info.firstFrame = number;
    info.lastFrame = number;
    info.bytes += data.length;
    if (!info.linkTypes.includes(linkType)) info.linkTypes.push(linkType);
    if (info.first === null || before(sec, nsec, info.first)) info.first = { sec, nsec, digits };
    const last = info.last;
    if (last === null) info.last = { sec, nsec, digits };
    else if (last.sec < sec || (last.sec === sec && last.nsec < nsec)) {
      // Moved in place: frames come mostly in time order, and an object per frame was garbage at once. Nobody keeps
      // the capture's last time while it is read (the views read it at the end).
      last.sec = sec;
      last.nsec = nsec;
      last.digits = digits;
    }
    return { number, tsSec: sec, tsNsec: nsec, tsDigits: digits, linkType, data, origLen, iface };
  }
}

function before(sec: number, nsec: number, t: Timestamp): boolean {
  return sec < t.sec || (sec === t.sec && nsec < t.nsec);
}
