// What a TTVSR card is, apart from the driver (ttvsr.ts): which card names a TTVSR pipeline and how to name it to a
// designer. No runtime code, so the UI can use it.
import type { ModelCard } from '../models/card.ts';

export const TTVSR_PARTS = ['flow', 'features', 'align', 'refine', 'reconstruct'] as const;
export type TtvsrPart = (typeof TTVSR_PARTS)[number];

/**
 * Whether `card` is the part of a TTVSR pipeline that video jobs name (its reconstruct part, which makes the ×4
 * frames): the model pickers offer TTVSR by it, as text-to-image offers VQ-Diffusion by its transformer.
 */
export function isTtvsrEntry(card: Partial<Pick<ModelCard, 'task' | 'role' | 'pipeline'>>): boolean {
  return card.task === 'upscale-video' && card.role === 'reconstruct' && !!card.pipeline && TTVSR_PARTS.every((p) => typeof card.pipeline?.[p] === 'string');
}

/** "TTVSR (REDS)", "TTVSR (tiny)": the pipeline in a designer's words (cards are labelled "TTVSR REDS reconstruct"). */
export function ttvsrName(card: Pick<ModelCard, 'label' | 'role'>): string {
  const base = card.label.replace(/\s*\([^)]*\)\s*$/, '').replace(new RegExp(`\\s+${card.role ?? 'reconstruct'}$`, 'i'), '').trim();
  const m = /^TTVSR\s+(.+)$/i.exec(base);
  return m ? `TTVSR (${m[1]})` : base;
}

