// The largest clip a video job takes, checked by the UI before it reads a clip and by the video tasks again.

/** Figma's createVideoAsync takes at most 100 MB; servers have their own upload limit. */
export const MAX_CLIP_BYTES = 100 * 2 ** 20;
