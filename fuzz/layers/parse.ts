import { parseCommand } from '../../src/imap/command.js';
import { DEFAULT_FRAMER_LIMITS } from '../../src/imap/framer.js';
import { parseResponse } from '../../src/imap/response.js';
import { commandShape } from '../../src/imap/shape.js';
import { renderValues } from '../../src/imap/tokens.js';
import { check } from '../invariants.js';
import type { Layer } from '../layer.js';
import { SCRIPT_DICTIONARY, frameScript, generateSession, recordedScripts } from '../imap-script.js';

/**
 * Command and response parsing of every framed message: commands (with their shapes for compare and
 * the redaction of credentials) and responses (status, codes, numbered and keyword data, tokenised).
 */
export const parseLayer: Layer = {
  name: 'parse',
  about: 'command and response parsing: tags, names, arguments, redaction, shapes, response codes, untagged data',
  seeds: recordedScripts,
  generate: generateSession,
  dictionary: SCRIPT_DICTIONARY,
  run(input) {
    const { messages } = frameScript(input, DEFAULT_FRAMER_LIMITS);
    for (const m of messages) {
      if (m.side === 'client') {
        const cmd = parseCommand(m);
        check(cmd.name === cmd.name.toUpperCase(), `command name ${JSON.stringify(cmd.name)} is not upper case`);
        commandShape(cmd);
        // A password given to LOGIN never shows in the redacted display, unless the redaction itself spells it (the
        // user name and the mask: user "alice", password "alice ").
        if (cmd.name === 'LOGIN' && cmd.args.length >= 2) {
          const pw = cmd.args[1]!;
          const redaction = `${renderValues(cmd.args.slice(0, 1))} ***`;
          if ((pw.kind === 'string' || pw.kind === 'atom') && pw.text.length >= 4 && !redaction.includes(pw.text)) {
            check(!cmd.display.includes(pw.text), `LOGIN password ${JSON.stringify(pw.text)} shown in ${JSON.stringify(cmd.display)}`);
          }
        }
      } else {
        const r = parseResponse(m);
        if (r.kind === 'numbered' || r.kind === 'data') void r.values.length;
      }
    }
  },
};
