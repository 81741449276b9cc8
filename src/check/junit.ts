/**
 * JUnit XML for `imapscope check --junit FILE`, in the shape Jenkins, GitLab and GitHub test reporters read:
 * <testsuites> with one <testsuite> per capture and one <testcase> per rule; a failing rule gets a
 * <failure message="…" type="…"> whose text lists every place (connection, tag, frames).
 */
import { basename } from 'node:path';
import { escapeText } from '../util/escape.js';
import type { CheckReport, Failure } from './rules.js';

/** Text for an XML attribute or element: wire bytes made visible, markup escaped, XML-1.0-illegal code points replaced. */
export function xmlEscape(s: string): string {
  return escapeText(s)
    // Lone surrogates and U+FFFE/U+FFFF are not XML characters.
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** One line per failure, naming where to look in Wireshark. */
export function failureLine(f: Failure): string {
  const where: string[] = [];
  if (f.conn !== null) where.push(`conn ${f.conn}`);
  if (f.tag !== null) where.push(`tag ${f.tag}`);
  if (f.command !== null) where.push(f.command);
  if (f.requestFrame !== null) where.push(`request frame ${f.requestFrame}`);
  if (f.responseFrame !== null) where.push(`response frame ${f.responseFrame}`);
  return `${where.length ? `${where.join(', ')}: ` : ''}${f.detail}`;
}

/** A class name per capture that test reporters group by ("imapscope.check.seed-alice_pcap"). */
function className(capture: string): string {
  return `imapscope.check.${basename(capture).replace(/[.\s]+/g, '_')}`;
}

export function junitXml(report: CheckReport): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const suites = report.captures.map((capture, i) => {
    const cases = report.results.map((r) => ({ rule: r.rule, kind: r.kind, outcome: r.captures[i]! }));
    return { capture, cases, failures: cases.filter((c) => !c.outcome.passed).length };
  });
  const tests = suites.reduce((n, s) => n + s.cases.length, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  lines.push(`<testsuites name="imapscope check" tests="${tests}" failures="${failures}" errors="0" skipped="0">`);
  suites.forEach((s, i) => {
    lines.push(`  <testsuite name="${xmlEscape(s.capture)}" id="${i}" tests="${s.cases.length}" failures="${s.failures}" errors="0" skipped="0">`);
    for (const c of s.cases) {
      const open = `    <testcase name="${xmlEscape(c.rule)}" classname="${xmlEscape(className(s.capture))}" file="${xmlEscape(s.capture)}"`;
      if (c.outcome.passed) {
        lines.push(`${open}>`, `      <system-out>${xmlEscape(c.outcome.message)}</system-out>`, '    </testcase>');
        continue;
      }
      const body = c.outcome.failures.map(failureLine);
      const more = c.outcome.failureCount - c.outcome.failures.length;
      if (more > 0) body.push(`… and ${more} more`);
      lines.push(
        `${open}>`,
        `      <failure message="${xmlEscape(c.outcome.message)}" type="${xmlEscape(c.kind)}">${body.map(xmlEscape).join('\n')}</failure>`,
        '    </testcase>',
      );
    }
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
