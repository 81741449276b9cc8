import { userFromCramMd5, userFromDigestMd5, userFromLoginStep, userFromNtlm, userFromPlain, userFromScram, userFromXoauth2 } from './sasl.js';

/** Mechanisms whose exchange carries the password itself (or a bearer token) in the clear. */
const CLEARTEXT_MECHANISMS = new Set(['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER']);

/**
 * Follows one AUTHENTICATE exchange step by step to learn the user name, the way each mechanism
 * carries it. Secrets are never stored: only the user name leaves this class.
 */
export class SaslTracker {
  private mechanism = '';
  private lastPrompt = '';
  private found: string | null = null;
  private steps = 0;

  start(mechanism: string, initialResponse: string | null): void {
    this.mechanism = mechanism.toUpperCase();
    this.lastPrompt = '';
    this.found = null;
    this.steps = 0;
    if (initialResponse !== null && initialResponse !== '=') this.clientStep(initialResponse);
  }

  get cleartext(): boolean {
    return CLEARTEXT_MECHANISMS.has(this.mechanism);
  }

  serverStep(text: string): void {
    this.lastPrompt = text;
  }

  clientStep(b64: string): void {
    this.steps++;
    if (this.found !== null || b64 === '*') return;
    switch (this.mechanism) {
      case 'PLAIN': this.found = userFromPlain(b64).user; break;
      case 'LOGIN':
        // The user answers the first prompt ("Username:"); later steps carry the password.
        if (this.steps === 1) this.found = userFromLoginStep(this.lastPrompt, b64);
        break;
      case 'CRAM-MD5': this.found = userFromCramMd5(b64); break;
      case 'DIGEST-MD5': this.found = userFromDigestMd5(b64); break;
      case 'XOAUTH2': case 'OAUTHBEARER': this.found = userFromXoauth2(b64); break;
      case 'SCRAM-SHA-1': case 'SCRAM-SHA-256': case 'SCRAM-SHA-512':
        if (this.steps === 1) this.found = userFromScram(b64).user;
        break;
      case 'NTLM': {
        const n = userFromNtlm(b64);
        if (n.user) this.found = n.domain ? `${n.domain}\\${n.user}` : n.user;
        break;
      }
      default: break;
    }
  }

  user(): string | null {
    return this.found;
  }
}
