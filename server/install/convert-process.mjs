// Bootstrap of a conversion process (convert-process.ts, started by installer.ts). The converter is TypeScript and
// a child process does not inherit the server's tsx loader, so it is registered here first.
import '../../worker/runtime/no-telemetry.mjs'; // first: before onnxruntime-node initialises
import '../work-child.mjs'; // ends with the server; ignores Ctrl-C (the server decides)
import { register } from 'tsx/esm/api';

register();
await import('./convert-process.ts');
