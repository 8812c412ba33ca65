/**
 * A real browser for the console's tests: Debian's chromium driven by
 * playwright-core (`.ci/run` installs chromium). Screenshots go to
 * test-artifacts/console/ (kept by CI as artefacts, not committed).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './region.js';

export const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';
/** Why the browser tests cannot run here, or false. */
export const noBrowser = existsSync(CHROMIUM) ? false : `needs chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Opens the console and signs in with an API key; resolves once the first page shows. */
export async function signIn(page: Page, endpoint: string, key: { SecretId: string; SecretKey: string }): Promise<void> {
  await page.goto(`http://${endpoint}/console/`);
  await page.fill('[data-testid=signin] input[name=secretId]', key.SecretId);
  await page.fill('[data-testid=signin] input[name=secretKey]', key.SecretKey);
  await page.click('[data-testid=signin] button[type=submit]');
  await page.waitForSelector('nav a[data-nav]');
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
