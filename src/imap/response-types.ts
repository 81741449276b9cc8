import { CappedNames, cappedNamesText, quotedName } from '../util/capped-names.js';
import { KNOWN_RESPONSE_NAMES } from './response.js';

/**
 * Untagged response types an exchange counts apart (Exchange.untaggedByType) besides the known ones, per capture: a
 * server, or a hostile capture, can name each response anew, and each name was a key of its exchange's counts.
 */
export const MAX_OTHER_RESPONSE_TYPES = 100;

/** The type every later new one is counted as. */
export const OTHER_RESPONSES = '(other responses)';

/** A response that could not be read as any kind: the session counts it under this type. */
export const UNKNOWN_RESPONSE = 'UNKNOWN';

/** The capture's rule: one for every exchange of it (SessionContext.responseTypes). */
export function responseTypeRows(): CappedNames {
  return new CappedNames(MAX_OTHER_RESPONSE_TYPES, OTHER_RESPONSES, new Set([...KNOWN_RESPONSE_NAMES.keys(), UNKNOWN_RESPONSE]));
}

export function otherResponsesWarning(type: string): string {
  return `${cappedNamesText(MAX_OTHER_RESPONSE_TYPES, "types of untagged responses that are not IMAP's")} (the cap on those an exchange counts apart): ${quotedName(type)} and every later new type are counted together as "${OTHER_RESPONSES}"`;
}
