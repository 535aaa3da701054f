// Figma main-thread entry (bundled to dist/figma/main.js). Shows the UI and starts the host bridge.
import { startBridge } from './bridge.ts';

figma.showUI(__html__, { width: 320, height: 560, themeColors: true, title: 'Frontier' });
startBridge(figma);
