// Finds a Chromium for the real-browser tests: CHROME_PATH, then Debian's /usr/bin/chromium, then Playwright's
// own download (installed on demand where the internet is reachable). Fails loudly when none can be had.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function playwrightChromium(): string | undefined {
  try {
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function findChromium(opts: { install?: boolean } = {}): string {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROME_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  const found = CANDIDATES.find((p) => existsSync(p)) ?? playwrightChromium();
  if (found) return found;
  if (opts.install) {
    console.log('No Chromium found: installing Playwright\'s (needs internet)…');
    try {
      execFileSync(process.execPath, [join('node_modules', 'playwright-core', 'cli.js'), 'install', 'chromium'], { stdio: 'inherit' });
    } catch {
      /* reported below */
    }
    const installed = playwrightChromium();
    if (installed) return installed;
  }
  throw new Error('No Chromium for the browser tests. Install one (Debian: apt-get install -y chromium) or set CHROME_PATH.');
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader'] : [])],
  });
}

export async function launchContext(opts: { webgpu?: boolean } = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'frontier-chromium-')), {
    executablePath: findChromium(),
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
}
