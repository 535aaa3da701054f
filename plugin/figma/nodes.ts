// What several bridge modules need of a node: finding it by id, the plugin data key of how a result was made, and
// its top image paint. Kept apart so that placing, reading and summarising the selection do not import each other.
import { HostRequestError, type FigmaApi } from './api.ts';

/** Key of the plugin data that records how a result was made (the ResultMeta as JSON). */
export const PLUGIN_DATA_KEY = 'frontier';

export const NODE_GONE = 'The layer is no longer in the document (deleted or undone). Select it again and retry.';

export async function findNode(figma: FigmaApi, nodeId: string): Promise<BaseNode> {
  const node = await figma.getNodeByIdAsync(nodeId);
  if (!node || node.removed) throw new HostRequestError(NODE_GONE);
  return node;
}

/** The image paint the user sees on top: fills paint bottom-to-top, so the last visible one. */
export function topImagePaint(node: BaseNode): ImagePaint | null {
  if (!('fills' in node) || !Array.isArray(node.fills)) return null; // figma.mixed on text ranges
  const fills = node.fills as ReadonlyArray<Paint>;
  for (let i = fills.length - 1; i >= 0; i--) {
    const paint = fills[i];
    if (paint.type === 'IMAGE' && paint.visible !== false && paint.imageHash) return paint;
  }
  return null;
}
