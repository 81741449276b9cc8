import { DEFAULT_FRAMER_LIMITS, ImapFramer } from '../../src/imap/framer.js';
import { parseFetch } from '../../src/imap/fetch.js';
import { looksLikeResponse, parseResponse } from '../../src/imap/response.js';
import { renderValues, type Value } from '../../src/imap/tokens.js';
import type { ImapMessage } from '../../src/imap/types.js';
import { flattenParts, parseBodyStructure, parseEnvelope } from '../../src/mime/bodystructure.js';
import type { MimePart } from '../../src/mime/types.js';
import { addressText, partViews } from '../../src/analysis/message-view.js';
import { partJson } from '../../src/report/fetches.js';
import { jsonText } from '../../src/util/json.js';
import { check, checkJsonText, checkSchema } from '../invariants.js';
import type { Layer } from '../layer.js';
import type { Rng } from '../rng.js';
import { decodeScript, generateSession } from '../imap-script.js';
import { IMAP_DICTIONARY, recordedStreams } from '../seeds.js';

const T = { sec: 1_700_000_000, nsec: 0, digits: 6 };
const PART_SCHEMA = ['properties', 'messages', 'items', 'properties', 'parts', 'items'];
const MAX_BODY_DEPTH = 120;

function checkTree(root: MimePart): void {
  const parts = flattenParts(root);
  const views = partViews(root);
  check(views.length === parts.length && views.every((v, i) => v.part === parts[i]!.part), 'partViews and flattenParts list the same parts in the same order');
  const numbers = new Map<string, MimePart>();
  for (const [i, p] of parts.entries()) {
    // A multipart has no number of its own: the root's is "", an encapsulated one shares its message/rfc822's.
    const before = numbers.get(p.part);
    check(!before || (before.type === 'message/rfc822' && p.type.startsWith('multipart/')), `part number ${p.part} twice in one tree`);
    numbers.set(p.part, p);
    check(p.part === '' || p.part.split('.').length <= MAX_BODY_DEPTH + 1, `part ${p.part.slice(0, 40)}… deeper than the cap`);
    const json = partJson(views[i]!);
    checkSchema(json, 'fetches', PART_SCHEMA);
    checkJsonText(jsonText(json), 'fetches --json part');
  }
}

/** Every list value, however deep: each is tried as a BODYSTRUCTURE and as an ENVELOPE. */
function* lists(values: readonly Value[], depth = 0): Generator<Value> {
  for (const v of values) {
    if (v.kind !== 'list') continue;
    yield v;
    if (depth < 4) yield* lists(v.items, depth + 1);
  }
}

/** Server bytes of FETCH responses: the recorded ones and those of generated sessions. */
function generate(rng: Rng): Buffer {
  return Buffer.concat(decodeScript(generateSession(rng)).flatMap((s) => ('bytes' in s && s.side === 'server' ? [s.bytes] : [])));
}

/**
 * FETCH responses: attributes, section specs, ENVELOPE (addresses, groups, encoded words) and
 * BODYSTRUCTURE (nesting, parameters, RFC 2231, message/rfc822). Part numbers are unique within a
 * tree, nesting respects the cap, and each part's JSON validates and carries no raw control character.
 * Each response's values read with nested lists on demand render as those read at once.
 */
export const fetchLayer: Layer = {
  name: 'fetch',
  about: 'FETCH attributes, section specs, ENVELOPE and BODYSTRUCTURE',
  seeds: () => recordedStreams('server').map((s) => {
    const at = s.indexOf(' FETCH (');
    return s.subarray(Math.max(0, s.lastIndexOf('\n', at) + 1), Math.max(0, s.lastIndexOf('\n', at) + 1) + 16 * 1024);
  }),
  generate,
  dictionary: IMAP_DICTIONARY,
  run(input) {
    const messages: ImapMessage[] = [];
    const framer = new ImapFramer({ message: (m) => messages.push(m), warn: () => {} }, { side: 'server', limits: DEFAULT_FRAMER_LIMITS, plausibleStart: looksLikeResponse });
    framer.push(input, 1, T);
    framer.end(1, T);
    for (const m of messages) {
      const r = parseResponse(m);
      if (r.kind !== 'numbered' && r.kind !== 'data') continue;
      const values = r.values;
      // compare reads nested lists on demand (TokenReader): read in full, they are the lists read at once.
      const onDemand = parseResponse(m, true);
      check((onDemand.kind === 'numbered' || onDemand.kind === 'data') && renderValues(onDemand.values) === renderValues(values), 'lists read on demand read as the lists read at once');
      if (r.kind === 'numbered' && r.type === 'FETCH') {
        const warnings: string[] = [];
        const attrs = parseFetch(values, (w) => warnings.push(w));
        // The cap: 40 problems, then one line saying that further ones are not reported.
        check(warnings.length <= 41 && (warnings.length <= 40 || warnings[40]!.startsWith('… further problems')), `${warnings.length} warnings for one FETCH response (cap 40 and one line saying so)`);
        if (attrs.bodyStructure) checkTree(attrs.bodyStructure);
        if (attrs.envelope) for (const list of [attrs.envelope.from, attrs.envelope.to, attrs.envelope.cc]) addressText(list);
        for (const s of attrs.sections) check(s.length >= 0, `section ${s.item} of length ${s.length}`);
      }
      for (const list of lists(values)) {
        const tree = parseBodyStructure(list);
        if (tree) checkTree(tree);
        parseEnvelope(list);
      }
    }
  },
};
