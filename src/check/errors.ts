/**
 * A rules document that cannot be used (unreadable file, invalid JSON/YAML, an unknown rule, a bad value).
 * The library throws it; the command line turns it into one line and exit code 2.
 */
export class RulesError extends Error {
  override name = 'RulesError';
}
