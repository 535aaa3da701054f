// Shows a result from the UI's Results list: brings its document to the front and makes its layer the only selected
// one. Photoshop has no "scroll to layer"; the selected layer is what the Layers panel highlights.
import { activeDocument, findDocument, findLayer, type PhotoshopModule } from './api.ts';
import { parseNodeId } from './document.ts';
import type { ModalQueue } from './pixels.ts';

/** Selects the layer `nodeId` names; false when its document or layer is gone (closed, deleted, undone). */
export async function showLayer(ps: PhotoshopModule, modal: ModalQueue, nodeId: string): Promise<boolean> {
  const ref = parseNodeId(nodeId);
  const doc = ref ? findDocument(ps.app, ref.docId) : null;
  if (!ref || !doc) return false;
  const layer = ref.layerId === null ? null : findLayer(doc, ref.layerId);
  if (ref.layerId !== null && !layer) return false;
  // Selection changes are state changes to Photoshop: they run in a modal scope, like every write.
  await modal.run(`Frontier: showing “${layer?.name ?? doc.title}”`, async () => {
    // DOM objects are wrappers: compare ids, not identity.
    if (activeDocument(ps.app)?.id !== doc.id) ps.app.activeDocument = doc;
    if (!layer) return;
    const active = doc.activeLayers;
    for (let i = 0; i < active.length; i++) if (active[i].id !== layer.id) active[i].selected = false;
    layer.selected = true;
  });
  return true;
}
