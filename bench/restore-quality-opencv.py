#!/usr/bin/python3
"""Classical denoising baseline for bench/restore-quality.ts: OpenCV's non-local means for colour images.

    /usr/bin/python3 bench/restore-quality-opencv.py JOB.json

JOB.json: {"template": 7, "search": 21,
           "cases": [{"input": "noisy.png", "outputs": [{"path": "out.png", "h": 15.0, "hColor": 15.0}, ...]}]}
Each output is cv2.fastNlMeansDenoisingColored(input, None, h, hColor, template, search).
Prints one line of JSON: {"opencv": version, "ms": [[ms per output] per case]}.
"""

import json
import sys
import time

try:
    import cv2
except ImportError:
    print('OpenCV for /usr/bin/python3 is missing: apt-get install -y python3-opencv', file=sys.stderr)
    sys.exit(3)


def main(job_path):
    with open(job_path, encoding='utf-8') as f:
        job = json.load(f)
    template = job.get('template', 7)
    search = job.get('search', 21)
    ms = []
    for case in job['cases']:
        image = cv2.imread(case['input'], cv2.IMREAD_COLOR)  # BGR, as fastNlMeansDenoisingColored expects
        if image is None:
            raise SystemExit(f'cannot read {case["input"]}')
        times = []
        for out in case['outputs']:
            t0 = time.perf_counter()
            result = cv2.fastNlMeansDenoisingColored(image, None, out['h'], out['hColor'], template, search)
            times.append((time.perf_counter() - t0) * 1000)
            if not cv2.imwrite(out['path'], result):
                raise SystemExit(f'cannot write {out["path"]}')
        ms.append(times)
    print(json.dumps({'opencv': cv2.__version__, 'ms': ms}))


if __name__ == '__main__':
    main(sys.argv[1])
