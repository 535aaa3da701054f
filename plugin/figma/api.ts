// The part of Figma's plugin API the bridge uses. Every module takes it as a parameter instead of reading the
// `figma` global, so tests can hand in the fake (test/fakes/figma.ts) and the subset stays explicit.
export type FigmaApi = Pick<
  PluginAPI,
  | 'apiVersion'
  | 'currentPage'
  | 'setCurrentPageAsync'
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

export { consoleLog, errorMessage, HostRequestError, type Log } from '../host-common.ts';
