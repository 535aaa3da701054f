#!/usr/bin/env node
// Launcher for the TypeScript CLI (server/cli.ts) through tsx, so `npx frontier` works without a compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
