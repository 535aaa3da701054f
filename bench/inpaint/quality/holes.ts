// The holes the quality bench cuts into each photo, as boolean masks (1 = hole). Positions are fixed per photo
// (on content: the astronaut's face and suit, the cat's head, the bricks) so every run measures the same holes.
import { Rng } from '../../../worker/random.ts';

export interface Hole {
  id: string;
  about: string;
  /** width·height bytes, 1 = hole. */
  mask: Uint8Array;
  pixels: number;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Per photo: the 32-px aligned square and the unaligned 80×48 rectangle (x, y of their top-left corners). */
const PLACES: Record<string, { square: [number, number]; rect: [number, number] }> = {
  astronaut: { square: [192, 96], rect: [150, 250] },
  chelsea: { square: [224, 96], rect: [181, 117] },
  brick: { square: [256, 256], rect: [97, 301] },
};

const CELL = 32;
const SCATTERED = 6;

function rectMask(width: number, height: number, rects: Rect[]): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const r of rects) {
    for (let y = r.y; y < r.y + r.height; y++) mask.fill(1, y * width + r.x, y * width + r.x + r.width);
  }
  return mask;
}

function hole(id: string, about: string, width: number, height: number, rects: Rect[]): Hole {
  const mask = rectMask(width, height, rects);
  return { id, about, mask, pixels: mask.reduce((a, b) => a + b, 0) };
}

export function holesFor(photo: string, width: number, height: number): Hole[] {
  const place = PLACES[photo];
  if (!place) throw new Error(`no hole positions for photo ${photo}`);
  // SCATTERED distinct 32-px cells of the image's 32-px grid, not touching the border, seeded per photo.
  const rng = new Rng(photo.length * 7919 + width);
  const cols = Math.floor(width / CELL) - 2;
  const rows = Math.floor(height / CELL) - 2;
  const cells = new Set<number>();
  while (cells.size < SCATTERED) cells.add(Math.floor(rng.uniform() * cols * rows));
  const scattered = [...cells].map((c) => ({ x: (1 + (c % cols)) * CELL, y: (1 + Math.floor(c / cols)) * CELL, width: CELL, height: CELL }));
  return [
    hole('square-32-aligned', `one 32×32 square on the 32-px grid at (${place.square.join(', ')})`, width, height, [{ x: place.square[0], y: place.square[1], width: CELL, height: CELL }]),
    hole('rect-80x48-unaligned', `one 80 wide × 48 high rectangle off the grid at (${place.rect.join(', ')})`, width, height, [{ x: place.rect[0], y: place.rect[1], width: 80, height: 48 }]),
    hole('scattered-cells', `${SCATTERED} separate 32×32 cells on the 32-px grid (seeded positions): ${scattered.map((r) => `(${r.x}, ${r.y})`).join(' ')}`, width, height, scattered),
  ];
}
