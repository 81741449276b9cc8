import { test } from 'node:test';
import { seededInt } from './helpers/random.js';
import assert from 'node:assert/strict';
import {
  userFromCramMd5,
  userFromDigestMd5,
  userFromLoginStep,
  userFromNtlm,
  userFromPlain,
  userFromScram,
  userFromXoauth2,
} from '../src/imap/sasl.js';

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
const SECRET = 'hunter2';

test('PLAIN: authcid is the user, authzid reported separately', () => {
  assert.deepEqual(userFromPlain(b64(`\0alice\0${SECRET}`)), { user: 'alice', authzid: null });
  assert.deepEqual(userFromPlain(b64(`admin\0alice\0${SECRET}`)), { user: 'alice', authzid: 'admin' });
  assert.deepEqual(userFromPlain(b64(`\0jürgen@example.de\0${SECRET}`)), { user: 'jürgen@example.de', authzid: null });
  // Latin-1 bytes (not UTF-8) survive instead of becoming U+FFFD.
  assert.equal(userFromPlain(Buffer.from(`\0j\xfcrgen\0x`, 'latin1').toString('base64')).user, 'jürgen');
  // Unpadded base64 and the surrounding whitespace of a wire line are accepted.
  assert.equal(userFromPlain(b64(`\0bob\0${SECRET}`).replace(/=+$/, '') + '\r\n').user, 'bob');
});

test('PLAIN: anything but exactly three parts gives no user, never the password', () => {
  for (const msg of [`alice\0${SECRET}`, `\0${SECRET}`, `a\0b\0c\0${SECRET}`, `\0\0${SECRET}`, SECRET, '']) {
    assert.deepEqual(userFromPlain(b64(msg)), { user: null, authzid: null }, JSON.stringify(msg));
  }
  for (const bad of ['*', '=', '!!!!', 'YWxpY2U', 'YQ=', 'Y===', 'YWJj=', 'a b c d']) {
    assert.equal(userFromPlain(bad).user, null, bad);
  }
});

test('LOGIN: the answer to the user prompt, never to the password prompt', () => {
  const username = b64('Username:');
  const password = b64('Password:');
  assert.equal(userFromLoginStep(username, b64('alice')), 'alice');
  assert.equal(userFromLoginStep(password, b64(SECRET)), null);
  assert.equal(userFromLoginStep(password, b64(SECRET), true), null, 'even when claimed first');
  assert.equal(userFromLoginStep(b64('User Name\0'), b64('alice')), 'alice'); // Microsoft's prompt
  assert.equal(userFromLoginStep(b64('Passwort:'), b64(SECRET)), null);
  assert.equal(userFromLoginStep('Username:', b64('alice')), 'alice', 'prompt sent unencoded');
  assert.equal(userFromLoginStep('UGFzc3dvcmQ6', b64(SECRET)), null);
});

test('LOGIN: an empty or unknown prompt means the user only on the first step', () => {
  assert.equal(userFromLoginStep('', b64('alice')), 'alice'); // SASL-IR: no prompt at all
  assert.equal(userFromLoginStep('', b64('alice'), true), 'alice');
  assert.equal(userFromLoginStep('', b64(SECRET), false), null);
  assert.equal(userFromLoginStep(b64('Kennwort:'), b64(SECRET), false), null);
  assert.equal(userFromLoginStep(b64('go ahead'), b64('alice'), true), 'alice');
  assert.equal(userFromLoginStep(b64('Username:'), b64('alice'), false), 'alice');
  assert.equal(userFromLoginStep(b64('Username:'), '*'), null);
  assert.equal(userFromLoginStep(b64('Username:'), '%%%'), null);
  assert.equal(userFromLoginStep(b64('Username:'), ''), null);
});

test('CRAM-MD5: "user digest"', () => {
  // RFC 2195 example.
  assert.equal(userFromCramMd5('dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw'), 'tim');
  assert.equal(userFromCramMd5(b64('John Smith B913A602C7EDA7A495B4E6E7334D3890')), 'John Smith');
  for (const bad of ['tim', 'tim b913', ' b913a602c7eda7a495b4e6e7334d3890', 'tim g913a602c7eda7a495b4e6e7334d3890']) {
    assert.equal(userFromCramMd5(b64(bad)), null, bad);
  }
  assert.equal(userFromCramMd5('not base64!'), null);
});

test('DIGEST-MD5: username directive', () => {
  // RFC 2831 §4 example response.
  const rfc =
    'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
    'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",' +
    'response=d388dad90d4bbd760a152321f2143af7,qop=auth';
  assert.equal(userFromDigestMd5(b64(rfc)), 'chris');
  assert.equal(userFromDigestMd5(b64('username="a\\"b\\\\c", response=abc')), 'a"b\\c');
  assert.equal(userFromDigestMd5(b64('  UserName = bare , qop=auth')), 'bare', 'unquoted, spaced, any case');
  // A decoy inside another directive's quoted value is not the username.
  assert.equal(userFromDigestMd5(b64('realm="x,username=\\"evil\\"",username="real"')), 'real');
  assert.equal(userFromDigestMd5(b64('username="first",username="second"')), 'first');
  // The charset directive decides how the name's bytes are read.
  assert.equal(userFromDigestMd5(b64('charset=utf-8,username="jürgen"')), 'jürgen');
  assert.equal(userFromDigestMd5(Buffer.from('username="j\xfcrgen"', 'latin1').toString('base64')), 'jürgen');
  for (const bad of ['username="unterminated', 'realm="x"', 'username=""', '=x', 'username', 'nonce="a",="b"']) {
    assert.equal(userFromDigestMd5(b64(bad)), null, bad);
  }
});

test('XOAUTH2 and OAUTHBEARER', () => {
  const xoauth2 = `user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01`;
  assert.equal(userFromXoauth2(b64(xoauth2)), 'someuser@example.com');
  const bearer = 'n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01';
  assert.equal(userFromXoauth2(b64(bearer)), 'user@example.com'); // RFC 7628 §4.1
  assert.equal(userFromXoauth2(b64('n,a=odd=2Cname=3D,\x01auth=Bearer x\x01\x01')), 'odd,name=');
  assert.equal(userFromXoauth2(b64('n,,\x01auth=Bearer tok\x01\x01')), null, 'no authzid: user only in the token');
  assert.equal(userFromXoauth2(b64('n,a=bad=2,\x01auth=Bearer x\x01\x01')), null);
  assert.equal(userFromXoauth2(b64('user=\x01auth=Bearer tok\x01\x01')), null);
  assert.equal(userFromXoauth2(b64('auth=Bearer tok\x01\x01')), null);
  // The server's error JSON, or the client's empty reply to it.
  assert.equal(userFromXoauth2(b64('{"status":"401","schemes":"bearer"}')), null);
  assert.equal(userFromXoauth2(''), null);
});

test('SCRAM client-first-message', () => {
  assert.deepEqual(userFromScram(b64('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')), { user: 'user', authzid: null });
  assert.deepEqual(userFromScram(b64('y,a=admin,n=us=3Der,r=abc')), { user: 'us=er', authzid: 'admin' });
  assert.deepEqual(userFromScram(b64('p=tls-unique,,n=bob,r=abc')), { user: 'bob', authzid: null });
  for (const bad of ['n,,r=abc', 'x,,n=user,r=abc', 'n,,n=us=4er,r=abc', 'n,,n=,r=abc', 'c=biws,r=abc,p=proof']) {
    assert.equal(userFromScram(b64(bad)).user, null, bad);
  }
});

interface NtlmFields {
  domain?: Buffer;
  user?: Buffer;
  workstation?: Buffer;
  flags?: number;
  /** Without the session key and flags: the 52-byte header of some old clients. */
  short?: boolean;
  type?: number;
}

const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
const oem = (s: string): Buffer => Buffer.from(s, 'latin1');

/** An NTLMSSP AUTHENTICATE message laid out the way Windows does it: header, then the payload. */
function ntlmType3(f: NtlmFields): Buffer {
  const lm = Buffer.alloc(24, 0x11);
  const nt = Buffer.alloc(24, 0x22);
  const sessionKey = Buffer.alloc(16, 0x33);
  const headerLength = f.short ? 52 : 64 + 8; // with the 8-byte version structure
  const fields = [lm, nt, f.domain ?? Buffer.alloc(0), f.user ?? Buffer.alloc(0), f.workstation ?? Buffer.alloc(0)];
  if (!f.short) fields.push(sessionKey);
  const header = Buffer.alloc(headerLength);
  header.write('NTLMSSP\0', 0, 'latin1');
  header.writeUInt32LE(f.type ?? 3, 8);
  let offset = headerLength;
  fields.forEach((data, k) => {
    const at = 12 + 8 * k;
    header.writeUInt16LE(data.length, at);
    header.writeUInt16LE(data.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += data.length;
  });
  if (!f.short) header.writeUInt32LE(f.flags ?? 0xe2888215, 60);
  return Buffer.concat([header, ...fields]);
}

test('NTLM type 3: Unicode names', () => {
  const msg = ntlmType3({ domain: utf16('CORP'), user: utf16('jürgen'), workstation: utf16('WS-07') });
  assert.deepEqual(userFromNtlm(b64(msg)), { user: 'jürgen', domain: 'CORP', workstation: 'WS-07' });
});

test('NTLM type 3: OEM names when NEGOTIATE_UNICODE is clear', () => {
  const msg = ntlmType3({ domain: oem('CORP'), user: oem('j\xfcrgen'), workstation: oem('WS'), flags: 0x00008202 });
  assert.deepEqual(userFromNtlm(b64(msg)), { user: 'jürgen', domain: 'CORP', workstation: 'WS' });
});

test('NTLM type 3 without flags: encoding guessed from the user name', () => {
  const unicode = ntlmType3({ short: true, domain: utf16('D'), user: utf16('bob') });
  assert.deepEqual(userFromNtlm(b64(unicode)), { user: 'bob', domain: 'D', workstation: null });
  const ascii = ntlmType3({ short: true, domain: oem('D'), user: oem('bob') });
  assert.deepEqual(userFromNtlm(b64(ascii)), { user: 'bob', domain: 'D', workstation: null });
});

test('NTLM: other messages, empty and out-of-bounds fields', () => {
  const none = { user: null, domain: null, workstation: null };
  assert.deepEqual(userFromNtlm(b64(ntlmType3({ user: utf16('bob'), type: 1 }))), none);
  assert.deepEqual(userFromNtlm(b64(ntlmType3({}))), none, 'anonymous');
  const badSignature = ntlmType3({ user: utf16('bob') });
  badSignature[0] = 0x6e;
  assert.deepEqual(userFromNtlm(b64(badSignature)), none);

  const good = ntlmType3({ domain: utf16('CORP'), user: utf16('bob'), workstation: utf16('WS') });
  const userAt = 36;
  const hostile = (patch: (m: Buffer) => void): ReturnType<typeof userFromNtlm> => {
    const m = Buffer.from(good);
    patch(m);
    return userFromNtlm(b64(m));
  };
  assert.equal(hostile((m) => m.writeUInt32LE(0xfffffff0, userAt + 4)).user, null, 'offset past the end');
  assert.equal(hostile((m) => m.writeUInt16LE(0xffff, userAt)).user, null, 'length past the end');
  assert.equal(hostile((m) => m.writeUInt32LE(8, userAt + 4)).user, null, 'offset into the header');
  assert.equal(hostile((m) => m.writeUInt16LE(5, userAt)).user, null, 'odd UTF-16 length');
  // The other fields still come through when one is bad.
  assert.equal(hostile((m) => m.writeUInt32LE(0xfffffff0, userAt + 4)).domain, 'CORP');
  // Truncation anywhere: no throw; the header cut short names nobody.
  for (let n = 0; n < good.length; n++) {
    const r = userFromNtlm(b64(good.subarray(0, n)));
    if (n < 72) assert.deepEqual(r, none, `prefix ${n}`);
  }
  assert.deepEqual(userFromNtlm('TlRMTVNTUAAB'), none);
  assert.deepEqual(userFromNtlm('@@@'), none);
});

test('no function returns the secret from its own well-formed message', () => {
  const results = [
    userFromPlain(b64(`\0alice\0${SECRET}`)),
    userFromLoginStep(b64('Password:'), b64(SECRET)),
    userFromLoginStep('', b64(SECRET), false),
    userFromXoauth2(b64(`user=alice\x01auth=Bearer ${SECRET}\x01\x01`)),
    userFromXoauth2(b64(`n,a=alice,\x01auth=Bearer ${SECRET}\x01\x01`)),
    userFromDigestMd5(b64(`username="alice",response=${SECRET}`)),
  ];
  for (const r of results) assert.ok(!JSON.stringify(r).includes(SECRET), JSON.stringify(r));
});

test('garbage never throws', () => {
  const rand = seededInt(99);
  const samples = [
    b64(`\0alice\0${SECRET}`),
    b64('charset=utf-8,username="chris",realm="x\\"y",nonce="n"'),
    b64(ntlmType3({ domain: utf16('CORP'), user: utf16('bob'), workstation: utf16('WS') })),
    b64('n,a=user@example.com,\x01auth=Bearer x\x01\x01'),
  ];
  const inputs: string[] = ['', '=', '*', '====', '\u0000', 'é'];
  for (const s of samples) for (let n = 0; n <= s.length; n++) inputs.push(s.slice(0, n));
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(Array.from({ length: rand(120) }, () => rand(256)));
    if (i % 3 === 0 && bytes.length >= 12) bytes.write('NTLMSSP\0\x03\0\0\0', 0, 'latin1');
    inputs.push(bytes.toString('base64'));
    inputs.push(bytes.toString('latin1'));
  }
  for (const s of inputs) {
    userFromPlain(s);
    userFromLoginStep(s, s);
    userFromLoginStep('', s, false);
    userFromCramMd5(s);
    userFromDigestMd5(s);
    userFromXoauth2(s);
    userFromScram(s);
    userFromNtlm(s);
  }
});
