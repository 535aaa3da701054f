// Shared by the Photoshop panel unit tests: a known pixel pattern, a panel that has said hello, the raw pixels read.
import assert from 'node:assert/strict';
import { RAW_RGBA, type HostToUi, type UiMessage } from '../../plugin/messages.ts';
import { startPanel, type FakePhotoshop, type PanelSession } from '../fakes/photoshop.ts';

export type Rgba = [number, number, number, number];

/** A pattern whose every pixel says where it is: a misplaced read or write shows. */
export const pattern = (x: number, y: number): Rgba => [(x * 7) & 255, (y * 11) & 255, (x + y) & 255, 255];

/** The pattern's pixels of a width×height box at (left, top) of the document. */
export function expectedPixels(left: number, top: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(pattern(left + x, top + y), (y * width + x) * 4);
  return out;
}

/** A panel on `fake` after the UI's hello and the host's init. */
export async function ready(fake: FakePhotoshop, options: Parameters<typeof startPanel>[1] = {}): Promise<PanelSession> {
  const s = startPanel(fake, options);
  await s.send({ type: 'ui-ready' } as UiMessage);
  await s.next('init');
  return s;
}

/** The pixels of an `image` answer, which the panel sends raw (RAW_RGBA, width × height × 4 bytes). */
export function rawPixels(image: Pick<HostToUi['image'], 'bytes' | 'mime' | 'width' | 'height'>): { width: number; height: number; data: Uint8Array } {
  assert.equal(image.mime, RAW_RGBA, 'the panel sends raw RGBA');
  assert.equal(image.bytes.length, image.width * image.height * 4, 'width × height × 4 bytes');
  return { width: image.width, height: image.height, data: image.bytes };
}
