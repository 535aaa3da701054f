// The part of UXP's `photoshop` and `uxp` modules the panel uses, typed from @types/photoshop (DefinitelyTyped) and
// Adobe's UXP reference, narrowed to what this code touches. Every module takes these as parameters instead of
// calling require(), so tests hand in the fake (test/fakes/photoshop.ts) and the subset stays explicit.
// Where the typings and the reference disagree (executeAsModal's context, suspendHistory's argument), the
// reference wins: `hostControl.suspendHistory({ documentID, name })` → an id for `resumeHistory(id, commit)`.

export interface PsBounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A DOM collection: indexable and sized (UXP's collections are not promised to be real arrays). */
export interface PsCollection<T> {
  readonly length: number;
  readonly [index: number]: T;
}

export interface PsLayer {
  readonly id: number;
  name: string;
  /** Constants.LayerKind: "pixel", "group", "text", "smartObject", "solidColor", adjustment kinds… */
  readonly kind: string;
  /** Bounds of the pixels without layer effects; all zero for an empty layer. */
  readonly boundsNoEffects: PsBounds;
  readonly visible: boolean;
  readonly isBackgroundLayer: boolean;
  /** Children of a group. */
  readonly layers?: PsCollection<PsLayer> | null;
  /** Whether the layer is selected in the Layers panel (read/write in @types/photoshop; set only in a modal scope). */
  selected?: boolean;
  /** Restacks the layer: "placeBefore" puts it directly above `relativeObject` (modal only; PS 23.0+). */
  move?(relativeObject: PsLayer, insertLocation: 'placeBefore' | 'placeAfter' | 'placeInside'): void | Promise<void>;
}

export interface PsSelection {
  /** Bounds of the marquee selection (PS 25+), null when nothing is selected. */
  readonly bounds: PsBounds | null;
}

export interface PixelLayerOptions {
  name?: string;
  opacity?: number;
  blendMode?: string;
  fillNeutral?: boolean;
}

export interface PsDocument {
  readonly id: number;
  readonly title: string;
  /** File path, or "" for a document never saved. */
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** Constants.DocumentMode, e.g. "RGBColorMode". */
  readonly mode: string;
  /** Constants.BitsPerChannelType, e.g. "bitDepth8". */
  readonly bitsPerChannel: string;
  readonly layers: PsCollection<PsLayer>;
  readonly activeLayers: PsCollection<PsLayer>;
  readonly selection: PsSelection;
  /** Creates a pixel layer above the active layer and makes it active (modal only). */
  createPixelLayer(options?: PixelLayerOptions): Promise<PsLayer | null>;
}

export interface PsApp {
  /** The active document; null (or a throw, in older builds) when none is open. Assigning brings a document to the
   *  front (in a modal scope). */
  activeDocument: PsDocument | null;
  readonly documents: PsCollection<PsDocument>;
  /** Photoshop's version, e.g. "26.0.0". */
  readonly version: string;
  showAlert(message: string): Promise<void>;
  /** Opens a file as a new document and brings it to the front (modal only); a video file becomes a video timeline. */
  open(entry: UxpFile): Promise<PsDocument>;
}

export interface ModalProgress {
  /** 0..1 */
  value: number;
  commandName?: string;
}

export type HistorySuspension = unknown;

export interface ExecutionContext {
  /** True once the user cancelled (Escape, or Cancel on Photoshop's progress bar). */
  readonly isCancelled: boolean;
  onCancel?: () => void;
  reportProgress(progress: ModalProgress): void;
  hostControl: {
    suspendHistory(info: { documentID: number; name: string }): Promise<HistorySuspension>;
    /** `commit` false drops every change since suspendHistory. */
    resumeHistory(suspension: HistorySuspension, commit?: boolean): Promise<void>;
  };
}

export interface PsCore {
  executeAsModal<T>(target: (context: ExecutionContext, descriptor?: object) => Promise<T>, options: { commandName: string; timeOut?: number }): Promise<T>;
}

export type NotificationListener = (event: string, descriptor: unknown) => void;

export interface PsAction {
  addNotificationListener(events: string[], listener: NotificationListener): Promise<void>;
  removeNotificationListener(events: string[], listener: NotificationListener): Promise<void>;
}

export type ComponentData = Uint8Array | Uint16Array | Float32Array;

export interface PsImageData {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly componentSize: 8 | 16 | 32;
  readonly hasAlpha: boolean;
  readonly colorSpace: string;
  getData(options?: { chunky?: boolean; fullRange?: boolean }): Promise<ComponentData>;
  dispose(): void | Promise<void>;
}

export interface GetPixelsOptions {
  documentID?: number;
  layerID?: number;
  sourceBounds?: PsBounds;
  targetSize?: { width?: number; height?: number };
  colorSpace?: string;
  colorProfile?: string;
  componentSize?: -1 | 8 | 16 | 32;
  applyAlpha?: boolean;
}

export interface PsImaging {
  getPixels(options: GetPixelsOptions): Promise<{ imageData: PsImageData; sourceBounds: PsBounds; level: number }>;
  putPixels(options: {
    documentID?: number;
    layerID: number;
    imageData: PsImageData;
    replace?: boolean;
    targetBounds?: PsBounds | { left: number; top: number; width: number; height: number };
    commandName?: string;
  }): Promise<void>;
  getSelection(options: { documentID?: number; sourceBounds?: PsBounds; targetSize?: { width?: number; height?: number } }): Promise<{ imageData: PsImageData; sourceBounds: PsBounds }>;
  createImageDataFromBuffer(
    buffer: ComponentData,
    options: { width: number; height: number; components: number; chunky?: boolean; colorProfile?: string; colorSpace: string; fullRange?: boolean },
  ): Promise<PsImageData>;
}

/** require('photoshop') */
export interface PhotoshopModule {
  app: PsApp;
  core: PsCore;
  action: PsAction;
  imaging: PsImaging;
}

export interface UxpFile {
  readonly isFile: boolean;
  /** The file's name, e.g. "clip.mp4". */
  readonly name?: string;
  /** Its path on disk (files from pickers). */
  readonly nativePath?: string;
  read(options?: { format?: unknown }): Promise<string | ArrayBuffer>;
  /** Text in formats.utf8 (the default), an ArrayBuffer in formats.binary. */
  write(data: string | ArrayBuffer, options?: { format?: unknown; append?: boolean }): Promise<unknown>;
}

export interface UxpFolder {
  getEntry(path: string): Promise<UxpFile | { isFile: false }>;
  createFile(name: string, options?: { overwrite?: boolean }): Promise<UxpFile>;
}

export interface UxpSecureStorage {
  /** Resolves with the decrypted value as bytes (UXP docs: Promise<Uint8Array>). */
  getItem(key: string): Promise<Uint8Array | string | null | undefined>;
  /** Rejects when the value is empty: clear with removeItem. */
  setItem(key: string, value: string | Uint8Array): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/** require('uxp') */
export interface UxpModule {
  storage: {
    secureStorage: UxpSecureStorage;
    localFileSystem: {
      getDataFolder(): Promise<UxpFolder>;
      /** The system's save dialog (manifest: localFileSystem "request"); null (or undefined) when the designer cancels. */
      getFileForSaving(suggestedName: string, options?: { types?: string[] }): Promise<UxpFile | null | undefined>;
    };
    /** File content formats for read/write. */
    formats: { utf8: unknown; binary: unknown };
  };
}

/** The panel's window.localStorage (UXP keeps it per plugin). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The panel side of a <webview>: JSON values out, `message` events in. */
export interface WebviewLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: unknown) => void): void;
  removeEventListener(type: 'message', listener: (event: unknown) => void): void;
}

export { consoleLog, errorMessage, HostRequestError, type Log } from '../host-common.ts';

/** The active document, or null; tolerant of builds whose getter throws when none is open. */
export function activeDocument(app: PsApp): PsDocument | null {
  try {
    return app.activeDocument ?? null;
  } catch {
    return null;
  }
}

export function findDocument(app: PsApp, id: number): PsDocument | null {
  for (let i = 0; i < app.documents.length; i++) if (app.documents[i].id === id) return app.documents[i];
  return null;
}

/** The layer with `id` anywhere in the document's tree. */
export function findLayer(doc: PsDocument, id: number): PsLayer | null {
  const walk = (layers: PsCollection<PsLayer> | null | undefined): PsLayer | null => {
    if (!layers) return null;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      if (layer.id === id) return layer;
      const inner = walk(layer.layers);
      if (inner) return inner;
    }
    return null;
  };
  return walk(doc.layers);
}
