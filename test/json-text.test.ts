/** JSON output carries no raw C1 control or bidi override from the wire: a terminal showing it must not act on them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonText } from '../src/util/json.js';
import { CLI } from './helpers/env.js';
import { tcpConversation, writeCapture } from './helpers/synth.js';

const HOSTILE = 'in\x9b31mbox\u202etxt.exe\x7f\u2028';

test('jsonText escapes DEL, C1, line separators and bidi controls, and parses back to the same value', () => {
  const text = jsonText({ name: HOSTILE, plain: 'Grüße' }, 2);
  assert.doesNotMatch(text, /[\u007f-\u009f\u2028\u202e]/);
  assert.match(text, /\\u009b31mbox\\u202etxt\.exe\\u007f\\u2028/);
  assert.match(text, /Grüße/, 'printable non-ASCII stays as it is');
  assert.deepEqual(JSON.parse(text), { name: HOSTILE, plain: 'Grüße' });
});

test('commands --json and --ndjson escape C1 controls sent in a mailbox name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-json-'));
  try {
    const path = join(dir, 'c1.pcap');
    // Arguments are shown as their wire bytes (Latin-1): 0x9b is a C1 control, a CSI to many terminals.
    const mailbox = '"in\x9b31mbox\x85"';
    writeCapture(path, { format: 'pcap', packets: tcpConversation({ exchanges: [
      { from: 'server', data: '* OK ready\r\n' },
      { from: 'client', data: `a1 SELECT ${mailbox}\r\n` },
      { from: 'server', data: 'a1 OK done\r\n' },
    ] }) });
    for (const flag of ['--json', '--ndjson']) {
      const r = spawnSync(process.execPath, [CLI, 'commands', flag, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /SELECT/);
      assert.doesNotMatch(r.stdout, /[\u007f-\u009f\u2028\u202e]/, `${flag}: no raw C1 character in the output`);
      assert.match(r.stdout, /in\\u009b31mbox\\u0085/, `${flag}: the CSI byte is there, escaped`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
