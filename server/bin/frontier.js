#!/usr/bin/env node
// `frontier` (npx frontier …): the CLI in server/cli.ts, started from its prebuilt bundle, which is made when missing
// or out of date (server/cli/bundle.mjs), or through tsx where it cannot be.
import '../../worker/runtime/no-telemetry.mjs'; // first: the bundle loads onnxruntime-node before its own code runs
import { loadCli } from '../cli/bundle.mjs';

const main = await loadCli();
process.exitCode = await main(process.argv.slice(2));
