import { SaslTracker } from '../../src/imap/sasl-tracker.js';
import { userFromCramMd5, userFromDigestMd5, userFromLoginStep, userFromNtlm, userFromPlain, userFromScram, userFromXoauth2 } from '../../src/imap/sasl.js';
import { check } from '../invariants.js';
import type { Layer } from '../layer.js';
import { Rng } from '../rng.js';

const MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'DIGEST-MD5', 'XOAUTH2', 'OAUTHBEARER', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'NTLM', 'GSSAPI'];
const b64 = (s: string | Buffer) => Buffer.from(s as string, 'latin1').toString('base64');

function ntlmAuthenticate(user: string, domain: string): Buffer {
  const u = Buffer.from(user, 'utf16le');
  const d = Buffer.from(domain, 'utf16le');
  const h = Buffer.alloc(64);
  h.write('NTLMSSP\0', 0, 'latin1');
  h.writeUInt32LE(3, 8);
  h.writeUInt16LE(d.length, 28); h.writeUInt16LE(d.length, 30); h.writeUInt32LE(64, 32);
  h.writeUInt16LE(u.length, 36); h.writeUInt16LE(u.length, 38); h.writeUInt32LE(64 + d.length, 40);
  h.writeUInt32LE(1, 60);
  return Buffer.concat([h, d, u]);
}

/** Input: mechanism index byte, then lines: the initial response, then alternating server prompt / client response. */
function script(mechanism: number, lines: string[]): Buffer {
  return Buffer.concat([Buffer.from([mechanism]), Buffer.from(lines.join('\n'), 'latin1')]);
}

function generate(rng: Rng): Buffer {
  const user = rng.pick(['alice', 'bob@example.org', 'ünï', 'x\x9by', '']);
  switch (rng.int(7)) {
    case 0: return script(0, [b64(`\0${user}\0pw`)]);
    case 1: return script(1, ['=', b64('Username:'), b64(user), b64('Password:'), b64('pw')]);
    case 2: return script(2, ['=', b64('<1.2@host>'), b64(`${user} 0123456789abcdef0123456789abcdef`)]);
    case 3: return script(3, ['=', b64('realm="x",nonce="n"'), b64(`username="${user}",realm="x",nonce="n",response=ab`)]);
    case 4: return script(4, [b64(`user=${user}\x01auth=Bearer t\x01\x01`)]);
    case 5: return script(7, [b64(`n,,n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=abc`)]);
    default: return script(8, ['=', b64('challenge'), ntlmAuthenticate(user, 'DOM').toString('base64')]);
  }
}

/**
 * SASL decoding: the user name each mechanism carries (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, XOAUTH2,
 * SCRAM, NTLM). Whatever comes back is a string no longer than the input (never a secret invented
 * from nothing), and nothing throws.
 */
export const saslLayer: Layer = {
  name: 'sasl',
  about: 'SASL decoding of user names: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, XOAUTH2/OAUTHBEARER, SCRAM, NTLM',
  maxLength: 8192,
  seeds: () => Array.from({ length: 24 }, (_, i) => generate(new Rng(i + 1))),
  generate,
  dictionary: ['=', '\n', 'NTLMSSP', 'n,,', 'user=', 'auth=Bearer ', 'username="', '\x01'].map((t) => Buffer.from(t, 'latin1')),
  run(input) {
    if (input.length === 0) return;
    const lines = input.subarray(1).toString('latin1').split('\n');
    const tracker = new SaslTracker();
    tracker.start(MECHANISMS[input[0]! % MECHANISMS.length]!, lines[0] ?? null);
    for (let i = 1; i < lines.length; i++) {
      if (i % 2 === 1) tracker.serverStep(lines[i]!);
      else tracker.clientStep(lines[i]!);
    }
    const found = [tracker.user(), userFromPlain(lines[0]!).user, userFromLoginStep(lines[1] ?? '', lines[0]!), userFromCramMd5(lines[0]!),
      userFromDigestMd5(lines[0]!), userFromXoauth2(lines[0]!), userFromScram(lines[0]!).user, userFromNtlm(lines[0]!).user];
    for (const user of found) {
      if (user === null) continue;
      check(typeof user === 'string', `user ${String(user)} is not a string`);
      check(user.length <= input.length, `a user name of ${user.length} chars from ${input.length} bytes`);
    }
  },
};
