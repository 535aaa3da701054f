// The clip chooser as app.tsx wires it for a video task (useChosenClip + useClipFit + ClipChooser, Run off while the
// clip is too large), alone on a page, so its warning can be tested in Chromium against a real server.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { useChosenClip, useClipFit } from '../../../ui/clip.ts';
import { ClipChooser } from '../../../ui/components/ClipChooser.tsx';

const config = (window as unknown as { clipFitConfig: { serverUrl: string; token: string } }).clipFitConfig;

function Page() {
  const clipChoice = useChosenClip();
  const chosenClip = clipChoice.clip.state === 'chosen' ? clipChoice.clip.clip : null;
  const [modelId, setModelId] = useState('ttvsr-reds');
  const clipFit = useClipFit({ clip: chosenClip, model: modelId || undefined, serverUrl: config.serverUrl, token: config.token });
  const blocker = !chosenClip ? 'Choose a clip first.' : clipFit.warning;
  return (
    <div>
      <select data-testid="model" value={modelId} onChange={(e) => setModelId(e.currentTarget.value)}>
        <option value="">Automatic</option>
        <option value="ttvsr-reds">TTVSR (REDS)</option>
        <option value="esrgan-slim-x2">ESRGAN slim ×2</option>
      </select>
      <ClipChooser clip={clipChoice.clip} disabled={false} host={null} fit={clipFit} onChoose={(file) => void clipChoice.choose(file)} onClear={clipChoice.clear} />
      <button type="button" data-testid="run" disabled={blocker !== null} title={blocker ?? undefined}>Upscale video</button>
    </div>
  );
}

render(<Page />, document.getElementById('app')!);
