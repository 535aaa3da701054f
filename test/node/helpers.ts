// Shared test helpers for Node-side tests: real photos and their degraded versions.
import { readFile } from 'node:fs/promises';
import { nodeCodec } from '../../worker/image/codec-node.ts';
import { crop, resizeBicubic } from '../../worker/image/rgba.ts';
import type { RgbaImage } from '../../worker/job.ts';
import type { Registry } from '../../worker/models/card.ts';

export const FIXTURES = new URL('../fixtures/images/', import.meta.url);

export async function loadPhoto(name: 'astronaut.png' | 'chelsea.png'): Promise<RgbaImage> {
  return nodeCodec.decode(new Uint8Array(await readFile(new URL(name, FIXTURES))));
}

/** Crops to a multiple of `scale` and bicubic-downscales: the classic super-resolution test pair. */
export function degrade(img: RgbaImage, scale: number): { original: RgbaImage; small: RgbaImage } {
  const w = img.width - (img.width % scale);
  const h = img.height - (img.height % scale);
  const original = crop(img, 0, 0, w, h);
  return { original, small: resizeBicubic(original, w / scale, h / scale) };
}

/**
 * `platform` with the larger-tile builds (role 'large-tiles', MAXIM at 256 px) left out of its registry: Node then
 * restores on the cards' own 128-px tiles, as the browser does, so its results compare with the browser's.
 */
export function withBrowserTiles<P extends { loadRegistry(): Promise<Registry> }>(platform: P): P {
  return {
    ...platform,
    async loadRegistry() {
      const registry = await platform.loadRegistry();
      return { ...registry, models: registry.models.filter((m) => m.role !== 'large-tiles') };
    },
  };
}
