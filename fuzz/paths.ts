import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is compiled to dist/fuzz/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CAPTURES = join(ROOT, 'captures');
export const FUZZ_FIXTURES = join(ROOT, 'test', 'fixtures', 'fuzz');
