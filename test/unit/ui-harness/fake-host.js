// The fake host (plain browser JS, inlined into host.html): answers the UI like Figma's main thread would,
// and records what it was asked to do in window.hostLog for the test to inspect.
(() => {
  const { uiHtml, fixtures, serverUrl, maxImageEdge } = window.HARNESS;
  const frame = document.getElementById('plugin');
  const bytesOf = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const items = {
    '1:1': { nodeId: '1:1', name: 'Astronaut', width: 512, height: 512, kind: 'image', bytes: bytesOf(fixtures.astronaut) },
    '1:2': { nodeId: '1:2', name: 'Chelsea the cat', width: 451, height: 300, kind: 'image', bytes: bytesOf(fixtures.chelsea) },
    '9:9': { nodeId: '9:9', name: 'Crashes the engine', width: 64, height: 64, kind: 'image', bytes: new Uint8Array(0) },
    // For the other tasks: a photo with a marked region (Inpaint), results Frontier generated (Variations, In-betweens,
    // Rotate view: they remember their latent), and a clip (Upscale video).
    '4:1': { nodeId: '4:1', name: 'Chelsea, region marked', width: 451, height: 300, kind: 'image', mask: { label: 'Dragged region' }, bytes: bytesOf(fixtures.chelsea) },
    '3:1': { nodeId: '3:1', name: 'Generated A', width: 64, height: 64, kind: 'image', meta: generated('generate', 'styleswin-fake', 7), bytes: bytesOf(fixtures.chelsea) },
    '3:2': { nodeId: '3:2', name: 'Generated B', width: 64, height: 64, kind: 'image', meta: generated('generate', 'styleswin-fake', 8), bytes: bytesOf(fixtures.chelsea) },
    '3:3': { nodeId: '3:3', name: 'Face to turn', width: 64, height: 64, kind: 'image', meta: generated('rotate-view', 'gram-fake', 9), bytes: bytesOf(fixtures.chelsea) },
    '6:1': { nodeId: '6:1', name: 'Clip', width: 64, height: 48, kind: 'video', video: true, bytes: new Uint8Array(64) },
  };
  function generated(task, model, seed) {
    return { task, model, modelVariant: 'full', params: { seed }, seed, latent: 'AAAA', target: 'wasm', version: '0.1.0', runMs: 1 };
  }
  const log = { received: [], placed: [], placedVideos: [], settings: [], shown: [], notices: [] };
  window.hostLog = log;
  const summary = (ids) => ({ items: ids.map((id) => { const { bytes, ...item } = items[id]; return item; }) });
  const send = (msg) => frame.contentWindow.postMessage({ pluginMessage: msg }, '*');
  window.hostSend = send;
  window.selectItems = (ids) => send({ type: 'selection-changed', selection: ids.length ? summary(ids) : { items: [], problem: 'Select an image or a frame.' } });
  let nextNode = 100;
  // Results placed and not undone; window.undoLast() takes the newest away as Undo does (the selection changes too).
  const placedNodes = new Set();
  window.undoLast = () => {
    const last = [...placedNodes].pop();
    placedNodes.delete(last);
    send({ type: 'selection-changed', selection: { items: [], problem: 'Select an image or a frame.' } });
    return last;
  };
  window.addEventListener('message', (event) => {
    if (event.source !== frame.contentWindow || !event.data || !event.data.pluginMessage) return;
    const msg = event.data.pluginMessage;
    log.received.push(msg.type);
    switch (msg.type) {
      case 'ui-ready': {
        // HARNESS.holdInit: the host is slow to answer (a busy machine); the test sends init with window.sendInit().
        const init = () => send({
          type: 'init',
          host: { name: window.HARNESS.hostName || 'figma', version: 'harness', maxImageEdge, video: !!window.HARNESS.hostVideo, ...(window.HARNESS.hostVideo ? { videoPlace: window.HARNESS.hostName === 'photoshop' ? 'saved-file' : 'canvas' } : {}) },
          settings: { target: 'auto', serverUrl, token: '', placeMode: 'beside', ...(window.HARNESS.settings || {}) },
          selection: summary(['1:1', '1:2']),
        });
        if (window.HARNESS.holdInit) window.sendInit = init;
        else init();
        break;
      }
      case 'read-image': {
        const item = items[msg.nodeId];
        // The marked region: any PNG will do as its mask (its grey levels say how much to fill).
        const mask = msg.withMask && item?.mask ? { mask: [{ png: item.bytes, x: 0, y: 0, width: item.width, height: item.height }] } : {};
        if (!item) send({ type: 'request-failed', requestId: msg.requestId, message: `Node ${msg.nodeId} is gone. Select it again.` });
        else send({ type: 'image', requestId: msg.requestId, nodeId: msg.nodeId, bytes: item.bytes, mime: 'image/png', width: item.width, height: item.height, ...mask });
        break;
      }
      case 'read-video': {
        const item = items[msg.nodeId];
        if (!item || !item.video) send({ type: 'request-failed', requestId: msg.requestId, message: `Node ${msg.nodeId} is not a clip.` });
        else send({ type: 'video', requestId: msg.requestId, nodeId: msg.nodeId, bytes: item.bytes, mime: 'video/mp4', width: item.width, height: item.height });
        break;
      }
      case 'place-result': {
        const ok = msg.png instanceof Uint8Array && msg.png[0] === 0x89 && msg.png[1] === 0x50;
        log.placed.push({ sourceNodeId: msg.sourceNodeId, name: msg.name, width: msg.width, height: msg.height, mode: msg.mode, pngOk: ok, pngBytes: msg.png.length, meta: msg.meta });
        const nodeId = `5:${nextNode++}`;
        placedNodes.add(nodeId);
        setTimeout(() => send({ type: 'placed', requestId: msg.requestId, nodeId }), 30);
        break;
      }
      case 'place-video': {
        // As Figma without a paid plan: createVideoAsync refuses.
        if (window.HARNESS.videoRefused) {
          log.placedVideos.push({ refused: true });
          send({ type: 'request-failed', requestId: msg.requestId, message: window.HARNESS.videoRefused });
          break;
        }
        // What a host would place: the clip's first bytes say whether it is the engine's result.
        log.placedVideos.push({ sourceNodeId: 'sourceNodeId' in msg ? msg.sourceNodeId : '(none)', name: msg.name, width: msg.width, height: msg.height, mime: msg.mime, bytes: msg.bytes.length });
        const nodeId = `7:${nextNode++}`;
        placedNodes.add(nodeId);
        setTimeout(() => send({ type: 'placed', requestId: msg.requestId, nodeId }), 30);
        break;
      }
      case 'check-nodes':
        send({ type: 'nodes', requestId: msg.requestId, present: msg.nodeIds.filter((id) => placedNodes.has(id) || id in items) });
        break;
      case 'show-node':
        // As Figma's bridge: the result is selected (a selection change reaches the UI); a gone one stays unselected.
        log.shown.push(msg.nodeId);
        if (placedNodes.has(msg.nodeId)) send({ type: 'selection-changed', selection: { items: [{ nodeId: msg.nodeId, name: 'Result', width: 64, height: 64, kind: 'image' }] } });
        break;
      case 'save-settings':
        log.settings.push({ ...msg.settings, token: msg.settings.token ? '(set)' : '' });
        break;
      case 'notify':
        log.notices.push({ message: msg.message, error: msg.error === true });
        break;
    }
  });
  frame.srcdoc = uiHtml;
})();
