// Shared by the code-server drivers: Debian's Chromium under playwright-core, offline-safe flags, a log with elapsed
// seconds, and the named-step runner (result per step, screenshot on failure, results JSON).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';

export const CHROMIUM = process.env.OCTET_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

const started = Date.now();
export function log(...parts: unknown[]): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...parts);
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/e2e/run-e2e.sh sets it)`);
  return value;
}

export interface Step { name: string; ok: boolean; detail: string }

/** Runs named steps, logging each; on failure saves a screenshot `${failPrefix}N.png` and, if asked, stops the run. */
export class StepRunner {
  readonly steps: Step[] = [];
  page: Page | undefined;

  constructor(private readonly shots: string, private readonly options: { failPrefix: string; stopOnFailure: boolean }) {}

  async step(name: string, fn: () => Promise<string | void>): Promise<void> {
    try {
      const detail = (await fn()) ?? '';
      this.steps.push({ name, ok: true, detail });
      log(`ok - ${name}${detail ? `: ${detail}` : ''}`);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.steps.push({ name, ok: false, detail });
      log(`not ok - ${name}: ${detail}`);
      if (this.page) await this.page.screenshot({ path: join(this.shots, `${this.options.failPrefix}${this.steps.length}.png`) }).catch(() => undefined);
      if (this.options.stopOnFailure) throw err;
    }
  }

  async shot(name: string): Promise<string> {
    const path = join(this.shots, name);
    await this.page?.screenshot({ path });
    return path;
  }

  get allOk(): boolean {
    return this.steps.every((s) => s.ok);
  }

  writeResults(path: string, suite: string): void {
    const failed = this.steps.filter((s) => !s.ok).length;
    writeFileSync(path, `${JSON.stringify({ steps: this.steps, summary: `${suite}: ${this.steps.length - failed} passed, ${failed} failed` }, null, 2)}\n`);
  }
}

/** Explorer contributions arrive after the extension host has scanned extensions: retries the right-click until the
 *  context menu offers `entry`, calls `onShown` (e.g. a screenshot), then clicks it until the menu closes. */
export async function openContextEntry(p: Page, row: Locator, entry: string, onShown?: () => Promise<unknown>): Promise<void> {
  const item = p.locator('.context-view .action-item', { hasText: entry });
  for (let attempt = 0; ; attempt++) {
    await row.click({ button: 'right' });
    await p.locator('.context-view .action-item').first().waitFor({ timeout: 10_000 });
    if (await item.count() > 0) break;
    if (attempt > 30) throw new Error(`the Explorer context menu never showed '${entry}'`);
    await p.keyboard.press('Escape');
    await p.waitForTimeout(1000);
  }
  await onShown?.();
  // Under load a click can land while the menu is still settling and be lost: click until the menu closes.
  const menu = p.locator('.context-view .action-item').first();
  for (let attempt = 0; attempt < 3; attempt++) {
    await item.first().click({ timeout: 5_000 }).catch(() => undefined);
    if (await menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)) return;
  }
  throw new Error(`the context menu entry '${entry}' did not respond to clicks`);
}
