// Shows a result from the UI's Results list: selects it and scrolls it into view, on its own page.
import type { FigmaApi } from './api.ts';
import { pageOf } from './place.ts';

export const RESULT_GONE = 'That result is no longer in the file: it was undone or deleted.';

/** Selects the node and scrolls it into view; false (and a toast) when it is gone or is not on a page. */
export async function showNode(figma: FigmaApi, nodeId: string): Promise<boolean> {
  const node = await figma.getNodeByIdAsync(nodeId);
  const page = node && !node.removed ? pageOf(node) : null;
  if (!node || !page || node === page) {
    figma.notify(RESULT_GONE);
    return false;
  }
  // With "dynamic-page" document access a page is entered through setCurrentPageAsync, never by assignment.
  if (page !== figma.currentPage) await figma.setCurrentPageAsync(page);
  const scene = node as SceneNode;
  page.selection = [scene];
  figma.viewport.scrollAndZoomIntoView([scene]);
  return true;
}
