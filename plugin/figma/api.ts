// The part of Figma's plugin API the bridge uses. Every module takes it as a parameter instead of reading the
// `figma` global, so tests can hand in the fake (test/fakes/figma.ts) and the subset stays explicit.
export type FigmaApi = Pick<
  PluginAPI,
  | 'apiVersion'
  | 'currentPage'
  | 'getNodeByIdAsync'
  | 'getImageByHash'
  | 'createImage'
  | 'createVideoAsync'
  | 'createRectangle'
  | 'commitUndo'
  | 'notify'
  | 'clientStorage'
  | 'ui'
  | 'showUI'
  | 'viewport'
  | 'on'
>;

/** Logger the bridge writes to; console in Figma, a capture in tests. Never given settings or tokens. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLog: Log = {
  info: (message) => console.info(`[frontier] ${message}`),
  warn: (message) => console.warn(`[frontier] ${message}`),
  error: (message) => console.error(`[frontier] ${message}`),
};

/** Message of any thrown value, for request-failed answers and logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
