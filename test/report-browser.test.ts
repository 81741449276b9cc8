/**
 * The HTML report in a real browser (Debian's chromium through puppeteer-core): reports of the recorded
 * captures open without errors or requests, draw one lane per connection and, per lane, a ladder with one
 * row per exchange; hovering shows the right exchange; the hostile capture runs nothing; lazy rendering
 * keeps big reports usable; the page fits 390 and 1920 px screens. Screenshots go to test-output/report/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { CAPTURES, CHROMIUM, NO_CHROMIUM, unavailable } from './helpers/env.js';
import { launchBrowser, openReport } from './helpers/browser.js';
import { HOSTILE, writeBusyCapture, writeHostileCapture } from './helpers/report-captures.js';
import { buildReportData } from '../src/report/html/report.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { renderReportPage } from '../src/report/html/template.js';
import { cliJson, recordedCaptureArgs, runCli, TEST_OUTPUT, type CommandsJson, type SummaryJson } from './helpers/report.js';

const skip = unavailable(!CHROMIUM && NO_CHROMIUM);
const OUT = join(TEST_OUTPUT, 'report');
let browser: Browser;

before(async () => {
  if (skip) return;
  mkdirSync(OUT, { recursive: true });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); });

function writeReport(name: string, args: string[]): string {
  const file = join(OUT, `${name}.html`);
  const r = runCli(['report', ...args, '-o', file]);
  assert.equal(r.code, 0, r.stderr);
  return file;
}

/** data-conn of the lanes in the DOM, in page order. */
async function laneIds(page: Page, section: string): Promise<number[]> {
  return page.$$eval(`${section} .lanes [data-conn]`, (lanes) => lanes.map((l) => Number(l.getAttribute('data-conn'))));
}

/** [data-frame, data-tag] of the ladder rows in the DOM, in page order. */
async function ladderRows(page: Page, section: string): Promise<[string, string][]> {
  return page.$$eval(`${section} .ladder .ex`, (rows) => rows.map((r) => [r.getAttribute('data-frame') ?? '', r.getAttribute('data-tag') ?? ''] as [string, string]));
}

async function openLadder(page: Page, section: string, conn: number): Promise<void> {
  await page.click(`${section} .lanes [data-conn="${conn}"] .tl-label`);
  await page.waitForSelector(`${section} .ladder[data-ladder-conn="${conn}"]`);
}

async function tooltipLines(page: Page): Promise<string[]> {
  await page.waitForSelector('#tooltip:not([hidden])');
  return page.$$eval('#tooltip > *', (lines) => lines.map((l) => l.textContent ?? ''));
}

/** Width, from a PNG's IHDR chunk. */
function pngWidth(file: string): number {
  const png = readFileSync(file);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', `${file} is a PNG`);
  return png.readUInt32BE(16);
}

for (const { name, args } of recordedCaptureArgs()) {
  test(`browser: report of ${name} — no errors, a lane per connection, a ladder row per exchange, the hovered tag`, { skip }, async (t) => {
    const file = writeReport(name, args);
    const summary = cliJson<SummaryJson>(['summary', ...args]);
    const { exchanges } = cliJson<CommandsJson>(['commands', ...args]);
    const { page, problems, dialogs, readyMs } = await openReport(browser, file, 1280);
    t.diagnostic(`time to interactive ${readyMs.toFixed(0)} ms`);
    try {
      const ids = await laneIds(page, '#c0');
      assert.deepEqual([...ids].sort((a, b) => a - b), summary.connections.map((c) => c.id).sort((a, b) => a - b));
      for (const id of ids) {
        await openLadder(page, '#c0', id);
        const expected = exchanges.filter((e) => e.conn === id).map((e) => [String(e.requestFrame ?? ''), e.tag ?? '']);
        assert.deepEqual(await ladderRows(page, '#c0'), expected, `ladder of connection ${id}`);
      }
      // Hover each drawn mark of the busiest lane: the tooltip names that very exchange.
      const busiest = ids.reduce((best, id) => (exchanges.filter((e) => e.conn === id).length > exchanges.filter((e) => e.conn === best).length ? id : best), ids[0]!);
      const own = exchanges.filter((e) => e.conn === busiest);
      const marks = await page.$$(`#c0 [data-conn="${busiest}"] .mark`);
      assert.equal(marks.length > 0, own.length > 0, 'a lane with commands has marks');
      for (const mark of marks.slice(0, 8)) {
        const i = Number(await mark.evaluate((m) => m.getAttribute('data-i')));
        await mark.hover();
        const lines = await tooltipLines(page);
        assert.equal(lines[0], `${own[i]!.tag} ${own[i]!.command}`);
        assert.ok(lines.includes(`frame ${own[i]!.requestFrame} → ${own[i]!.responseFrame}`), lines.join(' | '));
      }
      assert.deepEqual(problems, []);
      assert.deepEqual(await dialogs(), []);
    } finally {
      await page.close();
    }
  });
}

test('browser: the hostile capture runs nothing and shows its markup as text', { skip }, async () => {
  const capture = join(OUT, 'hostile.pcap');
  writeHostileCapture(capture);
  const file = writeReport('hostile', [capture]);
  const { page, problems, dialogs } = await openReport(browser, file, 1280);
  try {
    await page.click('#c0 .message-item summary');
    await page.waitForSelector('#c0 .message-item table.parts');
    await openLadder(page, '#c0', 0);
    assert.deepEqual(await dialogs(), [], 'window.alert was never called and no dialog opened');
    assert.equal(await page.$$eval('img, iframe, object, embed', (n) => n.length), 0, 'no element made from wire text');
    assert.equal(await page.$$eval('script', (n) => n.length), 2, 'no script element added');
    const summaryText = await page.$eval('#c0 .message-item summary', (s) => s.textContent ?? '');
    assert.ok(summaryText.includes(HOSTILE.subject), summaryText);
    assert.ok(summaryText.startsWith(HOSTILE.mailbox), summaryText);
    const partsText = await page.$eval('#c0 .message-item table.parts', (s) => s.textContent ?? '');
    assert.ok(partsText.includes(HOSTILE.filename), partsText);
    const select = await page.$eval('#c0 .ladder .ex[data-tag="a3"]', (r) => r.textContent ?? '');
    assert.ok(select.includes(`SELECT "${HOSTILE.mailbox}"`), select);
    const fetch = await page.$eval('#c0 .ladder .ex[data-tag="a5"]', (r) => r.textContent ?? '');
    assert.ok(fetch.includes(HOSTILE.responseText), fetch);
    const greeting = await page.$eval('#c0 .ladder .greeting', (r) => r.textContent ?? '');
    assert.ok(greeting.includes(HOSTILE.greeting), greeting);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('browser: two captures — a section each with its own lanes, and the differences', { skip }, async () => {
  const alice = join(CAPTURES, 'seed-alice.pcap');
  const curl = join(CAPTURES, 'curl.pcap');
  const file = writeReport('two-captures', [alice, curl]);
  const { page, problems } = await openReport(browser, file, 1280);
  try {
    assert.deepEqual(await laneIds(page, '#c0'), [0, 1, 2]);
    assert.deepEqual(await laneIds(page, '#c1'), [0, 1, 2, 3, 4]);
    await openLadder(page, '#c1', 3);
    assert.equal((await ladderRows(page, '#c1')).length, cliJson<CommandsJson>(['commands', curl, '--conn', '3']).exchanges.length);
    assert.equal(await page.$('#c0 .ladder'), null, 'the other capture\'s ladder stays closed');
    const verdict = await page.$eval('.compare .verdict', (v) => v.textContent ?? '');
    assert.match(verdict, /behave differently/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('browser: keyboard — arrows move between lanes and commands, Enter opens the ladder; commands sort and filter', { skip }, async () => {
  const args = [join(CAPTURES, 'seed-alice.pcap')];
  const file = writeReport('seed-alice-keyboard', args);
  const { exchanges } = cliJson<CommandsJson>(['commands', ...args]);
  const { page, problems } = await openReport(browser, file, 1280);
  try {
    await page.focus('#c0 [data-conn="0"]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate('document.activeElement.getAttribute("data-conn")'), '1');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const second = exchanges.filter((e) => e.conn === 1)[1]!;
    assert.equal((await tooltipLines(page))[0], `${second.tag} ${second.command}`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#c0 .ladder[data-ladder-conn="1"]');
    assert.equal(await page.evaluate('document.activeElement.id'), 'c0-ladder', 'focus moves to the ladder');

    const commandOrder = () => page.$$eval('#c0 .command-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-command')));
    await page.click('#c0 .command-table [data-sort="medianMs"]');
    const summary = cliJson<SummaryJson>(['summary', ...args]);
    const byMedian = [...summary.commands].sort((a, b) => (b.medianMs ?? -1) - (a.medianMs ?? -1)).map((c) => c.command);
    assert.deepEqual(await commandOrder(), byMedian);
    await page.click('#c0 .command-table [data-sort="medianMs"]');
    assert.deepEqual(await commandOrder(), [...byMedian].reverse());
    await page.type('#c0-cmd-filter', 'uid');
    assert.deepEqual(await commandOrder(), byMedian.reverse().filter((c) => c.includes('UID')));
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('browser: screenshots at 1280 and 390 px; no sideways scrolling at 390 or 1920 px; dark by preference', { skip }, async () => {
  const file = writeReport('seed-alice', [join(CAPTURES, 'seed-alice.pcap')]);
  for (const [width, dark] of [[1280, false], [390, false], [390, true], [1920, true]] as const) {
    const { page, problems } = await openReport(browser, file, width, { dark });
    try {
      await openLadder(page, '#c0', 0);
      const scrollWidth = await page.evaluate('document.documentElement.scrollWidth') as number;
      assert.ok(scrollWidth <= width, `page is ${scrollWidth} px wide in a ${width} px window`);
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      assert.equal(background, dark ? 'rgb(21, 24, 28)' : 'rgb(255, 255, 255)');
      const shot = join(OUT, `seed-alice-${width}${dark ? '-dark' : ''}.png`);
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      assert.equal(pngWidth(shot), width);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  }
});

test('browser: 450 connections and a 500-command connection render lazily and completely', { skip }, async (t) => {
  const capture = join(OUT, 'busy.pcap');
  const tags = writeBusyCapture(capture, { connections: 450, commands: 2, firstCommands: 498 });
  const file = writeReport('busy', [capture]);
  const { page, problems, readyMs } = await openReport(browser, file, 1280);
  t.diagnostic(`time to interactive ${readyMs.toFixed(0)} ms`);
  try {
    const drawn = await laneIds(page, '#c0');
    assert.ok(drawn.length < 100, `${drawn.length} lanes in the DOM, not 450`);
    assert.equal(await page.$eval('#c0 .lanes', (l) => l.getAttribute('data-rows')), '450');
    await page.$eval('#c0 .lanes', (l) => { l.scrollTop = l.scrollHeight; });
    await page.waitForSelector('#c0 .lanes [data-conn="449"]');

    await page.$eval('#c0 .lanes', (l) => { l.scrollTop = 0; });
    await page.waitForSelector('#c0 .lanes [data-conn="0"]');
    await openLadder(page, '#c0', 0);
    const rows = await ladderRows(page, '#c0');
    assert.ok(rows.length < 100, `${rows.length} ladder rows in the DOM, not 500`);
    assert.deepEqual(rows.slice(0, 3).map((r) => r[1]), tags.slice(0, 3));
    await page.$eval('#c0 .ladder', (l) => { l.scrollTop = l.scrollHeight; });
    await page.waitForSelector(`#c0 .ladder .ex[data-tag="${tags[tags.length - 1]}"]`);

    await page.evaluate('window.dispatchEvent(new Event("beforeprint"))');
    assert.equal((await laneIds(page, '#c0')).length, 450, 'printing draws every lane');
    assert.equal((await ladderRows(page, '#c0')).length, 500, 'and every ladder row');
    await page.evaluate('window.dispatchEvent(new Event("afterprint"))');
    assert.ok((await laneIds(page, '#c0')).length < 100);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('browser: the ladder folds literals, marks continuations, IDLE, COMPRESS and STARTTLS; the lane shades IDLE', { skip }, async () => {
  const idle = await openReport(browser, writeReport('append-idle', [join(CAPTURES, 'append-idle.pcap')]), 1280);
  try {
    await openLadder(idle.page, '#c0', 0);
    const append = await idle.page.$eval('#c0 .ex[data-tag="X3"]', (r) => r.textContent ?? '');
    assert.match(append, /APPEND INBOX .* \{311 bytes\}/);
    assert.ok(append.includes('+ 1'), `one continuation marked: ${append}`);
    assert.equal(await idle.page.$eval('#c0 .ex[data-tag="X7"]', (r) => r.classList.contains('idle')), true);
    assert.match(await idle.page.$eval('#c0 .ex[data-tag="X7"]', (r) => r.textContent ?? ''), /DONE → OK after idling 523\.0 ms/);
    assert.equal(await idle.page.$$eval('#c0 [data-conn="0"] rect.idle', (r) => r.length), 1, 'one IDLE period shaded in the lane');
    assert.equal(await idle.page.$$eval('#c0 [data-conn="1"] rect.idle', (r) => r.length), 0);
  } finally {
    await idle.page.close();
  }
  const mbsync = await openReport(browser, writeReport('mbsync', [join(CAPTURES, 'mbsync.pcap')]), 1280);
  try {
    await openLadder(mbsync.page, '#c0', 0);
    const rows = await mbsync.page.$$eval('#c0 .ladder > *', (r) => r.map((x) => `${x.className}|${x.getAttribute('data-tag') ?? ''}|${x.textContent}`));
    const compress = rows.findIndex((r) => r.startsWith('ex') && r.split('|')[1] === '2');
    assert.ok(rows[compress]!.includes('switch') && rows[compress]!.includes('COMPRESS from here'), rows[compress]);
    assert.match(rows[compress + 1]!, /^marker\|\|.*COMPRESS=DEFLATE active/, 'the marker follows the COMPRESS exchange');
  } finally {
    await mbsync.page.close();
  }
  const tls = await openReport(browser, writeReport('starttls-tls12', [join(CAPTURES, 'starttls-tls12.pcap'), '--keylog', join(CAPTURES, 'starttls-tls12.keys')]), 1280);
  try {
    await openLadder(tls.page, '#c0', 0);
    assert.match(await tls.page.$eval('#c0 .ex[data-tag="S1"]', (r) => r.textContent ?? ''), /STARTTLS.*TLS from here/);
    const markers = await tls.page.$$eval('#c0 .ladder .marker', (m) => m.map((x) => x.textContent ?? ''));
    assert.ok(markers.some((m) => m.includes('STARTTLS accepted')), markers.join(' | '));
    assert.match(await tls.page.$eval('#c0 .ladder-panel .security', (s) => s.textContent ?? ''), /TLS.*STARTTLS.*decrypted/);
  } finally {
    await tls.page.close();
  }
});

test('browser: a page that embeds only the first messages says so, in the header and above the list', { skip }, async () => {
  const data = await buildReportData([join(CAPTURES, 'mbsync.pcap')], {}, undefined, { maxMessages: 2 });
  const total = data.captures[0]!.messages.length + data.captures[0]!.messagesOmitted;
  assert.ok(total > 2);
  const file = join(OUT, 'messages-capped.html');
  writeFileSync(file, renderReportPage(data, 'first messages only'));
  const { page, problems } = await openReport(browser, file, 1280);
  try {
    assert.equal(await page.$eval('#c0-messages + .messages .messages-count', (e) => e.textContent),
      `the first 2 messages of ${total}, by mailbox and UID (imapscope fetches --json lists every one)`);
    assert.equal(await page.$$eval('#c0-messages + .messages .message-item', (items) => items.length), 2);
    const facts = await page.$$eval('#c0 .facts-list dt, #c0 .facts-list dd', (cells) => cells.map((c) => c.textContent));
    assert.equal(facts[facts.indexOf('messages fetched') + 1], `${total} (the first 2 listed)`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('browser: a connection of 12,000 commands shows its first and last 5,000, and a row that says how many it left out between them', { skip }, async () => {
  const capture = join(OUT, 'long.pcap');
  await generateScaleCapture('pipelined', 12_000, capture);
  const file = writeReport('long', [capture]);
  const { page, problems } = await openReport(browser, file, 1280);
  try {
    assert.match(await page.$eval('#c0 .lanes [data-conn="0"]', (l) => l.getAttribute('aria-label') ?? ''), /12000 commands/);
    // The lane's commands are numbered as in the whole connection: the last one shown is the 12,000th.
    await page.focus('#c0 [data-conn="0"]');
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual((await tooltipLines(page)).filter((l) => l.startsWith('command ')), ['command 12000 of 12000']);
    await page.keyboard.press('Escape');
    await openLadder(page, '#c0', 0);
    // The greeting, 5,000 exchanges, then the row that stands for those left out.
    await page.$eval('#c0 .ladder', (l) => { l.scrollTop = 5_001 * 52 - l.clientHeight / 2; });
    await page.waitForSelector('#c0 .ladder .omitted');
    assert.match(await page.$eval('#c0 .ladder .omitted', (r) => r.textContent ?? ''), /2000 exchanges not shown .*tcp\.stream == 0/);
    // In the DOM, as on the page: p4999, the row, p7000.
    const rows = await page.$$eval('#c0 .ladder .ex, #c0 .ladder .omitted', (r) => r.map((x) => (x.classList.contains('omitted') ? 'gap' : x.getAttribute('data-tag') ?? '')));
    const gap = rows.indexOf('gap');
    assert.deepEqual(rows.slice(gap - 1, gap + 2), ['p4999', 'gap', 'p7000'], JSON.stringify(rows));
    assert.ok(!rows.some((t) => t === 'p5000' || t === 'p6999'));
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
