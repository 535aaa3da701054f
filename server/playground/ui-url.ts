// Which plugin UI the playground hosts, and how to link to a playground with another one (e2e tests).
// Kept free of DOM code so Node tests can import it.

export const DEFAULT_UI_URL = '/dist/figma/ui.html';

/** The UI to host: `?ui=/some/path.html` (a same-origin path) replaces dist/figma/ui.html. */
export function uiUrlFrom(search: string): string {
  const ui = new URLSearchParams(search).get('ui');
  return ui && ui.startsWith('/') && !ui.startsWith('//') ? ui : DEFAULT_UI_URL;
}

/**
 * The playground's address on `serverUrl`, hosting `ui` (a path on that server), optionally cross-origin isolated,
 * and paired with the server's `token` (in the fragment, as npm start prints it).
 */
export function playgroundUrl(serverUrl: string, opts: { ui?: string; coi?: boolean; token?: string } = {}): string {
  const url = new URL('/', serverUrl);
  if (opts.ui) url.searchParams.set('ui', opts.ui);
  if (opts.coi) url.searchParams.set('coi', '1');
  if (opts.token) url.hash = `pair=${encodeURIComponent(opts.token)}`;
  return url.href;
}
