// Shared by the code-server drivers: Debian's Chromium under playwright-core, offline-safe flags, and a log with
// elapsed seconds.
import { Browser, chromium } from 'playwright-core';

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
