import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded on first use, synchronously. Some weigh as much as Node's own start-up (yaml,
 * libmime with its charset tables) and most runs never need them, so they are not imported eagerly.
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
