// Video in Photoshop. UXP gives a plugin no way to write frames into a video layer, so place-video saves the clip to a
// file the designer picks (the system's save dialog) and opens it as a new document: Photoshop opens MP4 as a video
// timeline. Layers are never read as video: a clip comes from Choose a clip… in the panel, straight to the server.
import type { Message, UiToHost } from '../messages.ts';
import { errorMessage, HostRequestError, type PhotoshopModule, type PsDocument, type UxpModule } from './api.ts';
import type { ModalQueue } from './pixels.ts';

export const READ_VIDEO_REFUSED = 'Photoshop layers cannot be read as video: use Choose a clip… in the Frontier panel to send a video file.';
export const VIDEO_NOT_SAVED = 'The clip was not saved (the save dialog was closed): download it from the Frontier panel.';

/** Extensions Photoshop opens as video, by type. */
const EXTENSIONS: Record<string, string> = { 'video/mp4': 'mp4', 'video/quicktime': 'mov' };

/** A file name from the result's name: "Upscale video ×2 · ESRGAN slim.mp4", without characters file systems refuse. */
export function videoFileName(name: string, extension: string): string {
  const base = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 100).trim() || 'Frontier clip';
  return `${base}.${extension}`;
}

/** Saves the clip where the designer chooses and opens it as a new document (brought to the front). */
export async function saveAndOpenVideo(ps: PhotoshopModule, uxp: UxpModule, modal: ModalQueue, msg: Message<UiToHost, 'place-video'>): Promise<PsDocument> {
  const extension = EXTENSIONS[msg.mime];
  if (!extension) throw new HostRequestError(`Photoshop opens MP4 and MOV clips; this one is ${msg.mime}: download it from the Frontier panel.`);
  const fs = uxp.storage.localFileSystem;
  let file;
  try {
    file = await fs.getFileForSaving(videoFileName(msg.name, extension), { types: [extension] });
  } catch (err) {
    throw new HostRequestError(`Photoshop could not show the save dialog (${errorMessage(err)}): download the clip from the Frontier panel.`);
  }
  if (!file) throw new HostRequestError(VIDEO_NOT_SAVED);
  const where = file.nativePath ?? file.name ?? 'the chosen file';
  try {
    // UXP writes binary data from an ArrayBuffer (not a typed array); a view is cut to its own bytes first.
    const data = msg.bytes.buffer.slice(msg.bytes.byteOffset, msg.bytes.byteOffset + msg.bytes.byteLength) as ArrayBuffer;
    await file.write(data, { format: uxp.storage.formats.binary });
  } catch (err) {
    throw new HostRequestError(`Frontier could not save the clip to ${where} (${errorMessage(err)}): choose another place, or download it from the Frontier panel.`);
  }
  let doc: PsDocument | null = null;
  try {
    doc = await modal.run('Frontier: opening the clip', () => ps.app.open(file));
  } catch (err) {
    throw new HostRequestError(`The clip is saved at ${where}, but Photoshop did not open it (${errorMessage(err)}): open it with File ▸ Open.`);
  }
  if (!doc) throw new HostRequestError(`The clip is saved at ${where}, but Photoshop did not open it: open it with File ▸ Open.`);
  return doc;
}
