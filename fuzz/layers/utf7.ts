import { decodeMailboxName, encodeMailboxName } from '../../src/imap/utf7.js';
import { check } from '../invariants.js';
import type { Layer } from '../layer.js';

/**
 * Modified UTF-7 (RFC 3501 mailbox names). Decoding any text never throws; encoding any Unicode text
 * gives printable ASCII that decodes back to exactly that text.
 */
export const utf7Layer: Layer = {
  name: 'utf7',
  about: 'modified UTF-7 mailbox names: decode anything, encode/decode round trip',
  maxLength: 4096,
  seeds: () => ['INBOX', 'Entw&APw-rfe', '&ZeVnLIqe-', '&-', 'a&AOQ-b&AMQ-', '&Jjo-!', '&2D3eAA-', '&AGE-', '&', '&AOQ', '&-&-'].map((s) => Buffer.from(s, 'latin1')),
  dictionary: ['&', '-', '&-', '+', ',', '/', '&AOQ-', '&2D3eAA-'].map((t) => Buffer.from(t, 'latin1')),
  run(input) {
    decodeMailboxName(input.toString('latin1'));
    const text = input.toString('utf8');
    const encoded = encodeMailboxName(text);
    // eslint-disable-next-line no-control-regex
    check(/^[\x20-\x7e]*$/.test(encoded), `encoding gave non-printable ${JSON.stringify(encoded.slice(0, 40))}`);
    const back = decodeMailboxName(encoded);
    check(back === text, `round trip changed ${JSON.stringify(text.slice(0, 40))} into ${JSON.stringify(back.slice(0, 40))}`);
  },
};
