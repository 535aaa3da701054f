// What the server and a conversion process (convert-process.ts) say to each other.
import type { ConvertProgress } from '../../models/convert/from-checkpoint.ts';
import type { ModelCard } from '../../worker/models/card.ts';

export type ConvertIn = {
  type: 'convert';
  /** The card ids to make from the checkpoint, in order. */
  cards: string[];
  /** The checkpoint file (the catalogue's main file). */
  file: string;
  /** How messages name the file: the user knows "FFHQ_256.pt", not where the server keeps it. */
  name: string;
  /** Other files of the checkpoint the user gave (GRAM's ema.pth picked with generator.pth). */
  companions?: string[];
  /** How messages name every file given, by its path on the server. */
  names?: Record<string, string>;
  outDir: string;
  templatesDir?: string;
};

export type ConvertOut =
  | { type: 'progress'; card: number; progress: ConvertProgress }
  | { type: 'done'; converted: { card: ModelCard; paths: string[] }[] }
  | { type: 'failed'; message: string; code?: string };
