// read-video and place-video: Figma has no API to read a video fill's bytes, so a clip comes from exporting a
// top-level frame's animation as MP4 (exportAsync), and a result goes back as a new rectangle with a video fill
// (createVideoAsync: MP4/MOV/WebM, at most 100 MB, paid teams only), in one undo step.
import type { HostToUi, Message, UiToHost } from '../messages.ts';
import { errorMessage, HostRequestError, type FigmaApi } from './api.ts';
import { MAX_PLUGIN_DATA_BYTES, placeBeside, sourceIfPresent, utf8Length } from './place.ts';
import { findNode } from './nodes.ts';

/** createVideoAsync's limit. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;
const VIDEO_FPS = 30;

/** Whether Figma can export `node` as video: only a frame placed directly on a page. */
export function isTopLevelFrame(node: BaseNode): node is FrameNode {
  return node.type === 'FRAME' && node.parent?.type === 'PAGE';
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export async function readVideo(figma: FigmaApi, requestId: string, nodeId: string): Promise<Message<HostToUi, 'video'>> {
  const node = await findNode(figma, nodeId);
  if (!isTopLevelFrame(node)) {
    throw new HostRequestError(`"${node.name}" is not a top-level frame. Figma exports video only from a frame placed directly on the page: select that frame.`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await node.exportAsync({ format: 'MP4', fps: VIDEO_FPS, quality: 'HIGH', constraint: { type: 'SCALE', value: 1 } });
  } catch (err) {
    throw new HostRequestError(`Figma could not export "${node.name}" as video (${errorMessage(err)}). Only a frame with animation (Smart Animate, video fills) exports as MP4.`);
  }
  if (bytes.length > MAX_VIDEO_BYTES) throw new HostRequestError(`"${node.name}" exported as ${mb(bytes.length)} of video; the limit is 100 MB. Shorten the animation or make the frame smaller.`);
  // A view into a larger buffer would not cross figma.ui.postMessage as a plain Uint8Array.
  const plain = bytes.constructor === Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  return { type: 'video', requestId, nodeId, bytes: plain, mime: 'video/mp4', width: Math.round(node.width), height: Math.round(node.height) };
}

export async function placeVideo(figma: FigmaApi, msg: Message<UiToHost, 'place-video'>): Promise<string> {
  const { width, height } = msg;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new HostRequestError(`The video size ${width}×${height} is not a whole number of pixels. Run the task again.`);
  }
  if (msg.bytes.length > MAX_VIDEO_BYTES) {
    // Upscaling makes a clip larger; a restored clip is as large as its source: name the remedy for the task that made it.
    const smaller = msg.meta.task === 'upscale-video' ? ', or choose a smaller scale' : ', or use a shorter clip';
    throw new HostRequestError(`The result clip is ${mb(msg.bytes.length)}; Figma takes video up to 100 MB. Download it from the plugin${smaller}.`);
  }
  const metaJson = JSON.stringify(msg.meta);
  if (utf8Length(metaJson) > MAX_PLUGIN_DATA_BYTES) throw new HostRequestError("The record of how this result was made is over Figma's 100 kB limit.");
  let video: Video;
  try {
    video = await figma.createVideoAsync(msg.bytes);
  } catch (err) {
    const detail = errorMessage(err);
    const plan = /paid|team|plan/i.test(detail) ? ' Figma adds video only in paid Professional, Organization or Education teams.' : '';
    throw new HostRequestError(`Figma did not accept the video (${detail}).${plan}`);
  }
  // A clip chosen from a file in the UI has no source: it goes in view, as a generated image does.
  const source = msg.sourceNodeId ? await sourceIfPresent(figma, msg.sourceNodeId) : null;
  const placed = placeBeside(figma, source, msg, { type: 'VIDEO', videoHash: video.hash, scaleMode: 'FILL' }, metaJson);
  figma.commitUndo();
  return placed.id;
}
