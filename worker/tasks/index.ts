// The task table: adding a task = one file in this folder + one row here.
import type { TaskDef } from './task.ts';
import { upscale } from './upscale.ts';
import { restore } from './restore.ts';
import { upscaleVideo } from './upscale-video.ts';
import { restoreVideo } from './restore-video.ts';
import { generate } from './generate.ts';
import { vary } from './vary.ts';
import { interpolate } from './interpolate.ts';
import { rotateView } from './rotate-view.ts';
import { inpaint } from './inpaint.ts';
import { textToImage } from './text-to-image.ts';

export const TASKS: readonly TaskDef[] = [upscale, restore, upscaleVideo, restoreVideo, generate, vary, interpolate, rotateView, inpaint, textToImage];

export function findTask(id: string): TaskDef | undefined {
  return TASKS.find((t) => t.id === id);
}
