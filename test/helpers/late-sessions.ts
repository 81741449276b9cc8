/**
 * Two-connection captures where what a connection did is known only after it ended: its exchanges are reported
 * after its end (another connection's IDLE holds the request order), or its last ACK moves its end later.
 */
import { TcpFlow, writeCapture, type SynthPacket } from './synth.js';

/**
 * Connection 0 starts IDLE before connection 1 opens and ends it after connection 1 closed: every exchange of
 * connection 1 is reported (in request order) after connection 1's end.
 */
export function idleAcrossAnotherSession(path: string): void {
  const idler = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, start: 1_700_000_000 });
  const other = new TcpFlow({ client: { ip: '10.0.0.2', port: 40001 }, start: 1_700_000_001 });
  const packets: SynthPacket[] = [
    ...idler.handshake(), ...idler.send('server', '* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n'),
    ...idler.send('client', 'a1 IDLE\r\n'), ...idler.send('server', '+ idling\r\n'),
    ...other.handshake(), ...other.send('server', '* OK ready\r\n'),
    ...other.send('client', 'b1 CAPABILITY\r\n'), ...other.send('server', '* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nb1 OK done\r\n'),
    ...other.send('client', 'b2 LOGIN bob secret\r\n'), ...other.send('server', 'b2 OK logged in\r\n'),
    ...other.send('client', 'b3 LOGOUT\r\n'), ...other.send('server', '* BYE\r\nb3 OK\r\n'), ...other.close('fin', 'server'),
  ];
  idler.wait(10);
  packets.push(...idler.send('client', 'DONE\r\n'), ...idler.send('server', 'a1 OK idle done\r\n'), ...idler.close('fin', 'client'));
  writeCapture(path, { format: 'pcap', packets: packets.sort((x, y) => Number(x.t) - Number(y.t)) });
}

/** Connection 0's FINs, then connection 1's SYN, then connection 0's last ACK: the two overlap by that ACK. */
export function lastAckAfterNextSyn(path: string): void {
  const first = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, start: 1_700_000_000 });
  const second = new TcpFlow({ client: { ip: '10.0.0.2', port: 40001 }, start: 1_700_000_001 });
  const packets = [...first.handshake(), ...first.send('server', '* OK ready\r\n'), ...first.send('client', 'a1 LOGOUT\r\n'), ...first.send('server', '* BYE\r\na1 OK\r\n')];
  const [finA, finB, lastAck] = first.close('fin', 'server');
  const opening = [...second.handshake(), ...second.send('server', '* OK ready\r\n')];
  lastAck!.t = Number(opening[0]!.t) + 0.5;
  writeCapture(path, { format: 'pcap', packets: [...packets, finA!, finB!, ...opening, lastAck!] });
}
