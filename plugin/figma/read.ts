// read-image: the pixels of one selected node, as encoded bytes the UI decodes itself.
import type { HostToUi, Message } from '../messages.ts';
import { errorMessage, HostRequestError, type FigmaApi } from './api.ts';
import { readImageHeader } from './bytes.ts';
import { readingFor, type ReadPlan } from './selection.ts';
import { maskParts } from './mask.ts';
import { findNode } from './nodes.ts';

async function bytesFor(figma: FigmaApi, node: SceneNode, plan: ReadPlan): Promise<Uint8Array> {
  if (plan.type === 'image-fill') {
    const image = figma.getImageByHash(plan.imageHash);
    if (!image) throw new HostRequestError(`Figma has no data for the image in "${node.name}". Wait for it to load, then retry.`);
    const bytes = await image.getBytesAsync();
    const header = readImageHeader(bytes);
    if (header && header.mime !== 'image/gif') return bytes;
    // GIF (or an unknown format) cannot go to the UI as is: render the node at the image's native width instead.
    const size = await image.getSizeAsync();
    return exportNode(node, { format: 'PNG', constraint: { type: 'WIDTH', value: size.width } });
  }
  return exportNode(node, plan.settings);
}

async function exportNode(node: SceneNode, settings: ExportSettingsImage): Promise<Uint8Array> {
  try {
    return await node.exportAsync(settings);
  } catch (err) {
    throw new HostRequestError(`Figma could not export "${node.name}": ${errorMessage(err)}. Try a smaller frame or a single layer.`);
  }
}

export async function readImage(figma: FigmaApi, requestId: string, nodeId: string, withMask = false): Promise<Message<HostToUi, 'image'>> {
  const node = await findNode(figma, nodeId);
  const reading = await readingFor(figma, node);
  if ('problem' in reading) throw new HostRequestError(reading.problem);
  const bytes = await bytesFor(figma, node as SceneNode, reading.plan);
  const header = readImageHeader(bytes);
  if (!header || header.mime === 'image/gif') {
    throw new HostRequestError(`"${(node as SceneNode).name}" did not give a PNG or JPEG image. Export it as PNG and place that instead.`);
  }
  // A Buffer or a view into a larger buffer would not survive figma.ui.postMessage as a plain Uint8Array.
  const plain = bytes.constructor === Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  const mask = withMask ? await maskParts(figma, node as SceneNode, header.width, header.height) : undefined;
  return { type: 'image', requestId, nodeId, bytes: plain, mime: header.mime, width: header.width, height: header.height, ...(mask ? { mask } : {}) };
}
