import type { Layer } from '../layer.js';
import { captureLayer } from './capture.js';
import { decodeLayer } from './decode.js';
import { fetchLayer } from './fetch.js';
import { framingLayer } from './framing.js';
import { inflateLayer } from './inflate.js';
import { namesLayer } from './names.js';
import { parseLayer } from './parse.js';
import { pipelineLayer } from './pipeline.js';
import { rulesLayer } from './rules.js';
import { saslLayer } from './sasl.js';
import { sessionLayer } from './session.js';
import { tcpLayer } from './tcp.js';
import { tlsLayer } from './tls.js';
import { utf7Layer } from './utf7.js';

/**
 * Every harness, bottom layer first. To fuzz a new layer (the display filter parser, the HTML report's
 * escaping), write a module exporting a Layer (see ../layer.ts and utf7.ts for the smallest example) and
 * add it here: `npm run fuzz`, the CI budget test and the regression fixtures pick it up by name.
 */
export const LAYERS: readonly Layer[] = [
  captureLayer, decodeLayer, tcpLayer, framingLayer, parseLayer, sessionLayer, fetchLayer, saslLayer,
  inflateLayer, tlsLayer, utf7Layer, namesLayer, rulesLayer, pipelineLayer,
];

export function layerNamed(name: string): Layer | undefined {
  return LAYERS.find((l) => l.name === name);
}
