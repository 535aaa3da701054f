// Real photos for the inpainting quality bench, from Debian's python3-skimage package (public domain / CC0 images),
// extracted at bench time into a temp folder, never stored in git:
//   apt-get download python3-skimage && dpkg -x python3-skimage_*.deb DIR
// BENCH_SKIMAGE_DATA=DIR uses an already extracted skimage/data folder instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { RgbaImage } from '../../../worker/job.ts';

export interface Photo {
  id: string;
  /** What it is and its licence, as skimage's data README states. */
  about: string;
  image: RgbaImage;
}

export const PHOTOS: { id: string; file: string; about: string }[] = [
  { id: 'astronaut', file: 'astronaut.png', about: 'Eileen Collins, NASA portrait, 512×512 RGB (public domain)' },
  { id: 'chelsea', file: 'chelsea.png', about: 'Chelsea the cat, 451×300 RGB (CC0, Stéfan van der Walt)' },
  { id: 'brick', file: 'brick.png', about: 'brick wall texture, 512×512 greyscale, used as RGB (CC0)' },
];

const HOW = 'apt-get download python3-skimage && dpkg -x python3-skimage_*.deb DIR (Debian 12: python3-skimage 0.19.3)';

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.stderr.trim().split('\n').pop()}). The quality bench needs skimage's photos: ${HOW}, or set BENCH_SKIMAGE_DATA to an extracted skimage/data folder.`);
  }
}

/** The skimage/data folder: BENCH_SKIMAGE_DATA, or the package downloaded and extracted into `tmp`. */
export function skimageData(tmp: string): string {
  const given = process.env.BENCH_SKIMAGE_DATA;
  if (given) {
    if (!existsSync(join(given, PHOTOS[0].file))) throw new Error(`BENCH_SKIMAGE_DATA=${given} has no ${PHOTOS[0].file}`);
    return given;
  }
  run('apt-get', ['download', 'python3-skimage'], tmp);
  const deb = readdirSync(tmp).find((f) => f.startsWith('python3-skimage_') && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download python3-skimage wrote no .deb into ${tmp}; ${HOW}`);
  run('dpkg', ['-x', deb, join(tmp, 'x')], tmp);
  const data = join(tmp, 'x', 'usr', 'lib', 'python3', 'dist-packages', 'skimage', 'data');
  if (!existsSync(join(data, PHOTOS[0].file))) throw new Error(`${deb} has no skimage/data/${PHOTOS[0].file}`);
  return data;
}

/** A PNG as RGBA (greyscale and RGB files alike: pngjs expands them). */
export function readPng(path: string): RgbaImage {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

export function writePngBytes(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

export function loadPhotos(dataDir: string): Photo[] {
  return PHOTOS.map((p) => {
    const image = readPng(join(dataDir, p.file));
    for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255; // opaque
    return { id: p.id, about: p.about, image };
  });
}
