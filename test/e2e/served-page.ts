// A test page bundled from `entry` and served by bench/common/serve.ts, open in a Chromium of its own (with WebGPU
// where asked), once the entry has set its global `ready`: what the pool, warm-up and WebGPU tests start from.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openBenchPage } from '../../bench/common/chromium.ts';
import { serveBenchPage } from '../../bench/common/serve.ts';
import { launchBrowser } from '../browser.ts';

export interface ServedPage {
  page: Page;
  url: string;
  close(): Promise<void>;
}

export async function openServedPage(o: { entry: string; file: (rel: string) => string | null; ready: string; webgpu?: boolean }): Promise<ServedPage> {
  const { server, url } = await serveBenchPage({ entry: o.entry, file: o.file });
  const browser = await launchBrowser(o.webgpu ? { webgpu: true } : {});
  const close = async () => {
    await browser.close();
    server.close();
  };
  const page = await openBenchPage(browser, url, o.ready).catch(async (err: Error) => {
    await close();
    assert.fail(err.message);
  });
  return { page, url, close };
}
