// Bootstrap of the engine thread (engine-thread.ts). The engine's task code is TypeScript and worker threads do not
// inherit tsx's loader, so it is registered here first (the server itself runs under tsx: npm start).
import { register } from 'tsx/esm/api';

register();
await import('./engine-thread.ts');
