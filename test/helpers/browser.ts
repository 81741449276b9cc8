import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CHROMIUM } from './env.js';

/** The system's chromium, headless; --no-sandbox because tests run as root in CI. */
export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface OpenedReport {
  page: Page;
  /** Console errors and warnings, uncaught exceptions, and any request for something other than the file. */
  problems: string[];
  /** Dialogs (alert, confirm, prompt) the page opened, and calls to the hooked window.alert. */
  dialogs: () => Promise<string[]>;
  /** Milliseconds from navigation start to the page marking itself ready. */
  readyMs: number;
}

/** Open a report file at a viewport width, with window.alert hooked before any page script runs. */
export async function openReport(browser: Browser, file: string, width: number, options: { dark?: boolean; height?: number } = {}): Promise<OpenedReport> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const opened: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${(e as Error).message}`));
  page.on('request', (r) => { if (r.url() !== url) problems.push(`request for ${r.url()}`); });
  page.on('dialog', (d) => { opened.push(d.message()); void d.dismiss(); });
  await page.evaluateOnNewDocument('window.__alerts = []; window.alert = (m) => { window.__alerts.push(String(m)); };');
  await page.setViewport({ width, height: options.height ?? 900 });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: options.dark ? 'dark' : 'light' }]);
  await page.goto(url);
  await page.waitForSelector('html[data-ready]', { timeout: 60_000 });
  const readyMs = await page.evaluate('performance.getEntriesByName("imapscope-ready")[0].startTime') as number;
  return {
    page, problems, readyMs,
    dialogs: async () => [...opened, ...(await page.evaluate('window.__alerts') as string[])],
  };
}
