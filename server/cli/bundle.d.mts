// Types of server/cli/bundle.mjs (plain JavaScript, so that it runs before anything can compile TypeScript).
export const BUNDLE: string;
export function bundleIsCurrent(file?: string): boolean;
export function buildBundle(file?: string): Promise<void>;
export function loadCli(): Promise<(argv: string[]) => Promise<number>>;
