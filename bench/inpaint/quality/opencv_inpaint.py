#!/usr/bin/python3
"""Classical inpainting baselines for bench/inpaint-quality.ts: OpenCV's Telea (fast marching) and Navier-Stokes.

    /usr/bin/python3 bench/inpaint/quality/opencv_inpaint.py JOB.json

JOB.json: {"radius": 3, "cases": [{"image": "holed.png", "mask": "mask.png", "telea": "out.png", "ns": "out.png"}]}
(mask: white = hole). Prints JSON: {"opencv": version, "ms": {"telea": [...], "ns": [...]}}.
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
    radius = job.get('radius', 3)
    ms = {'telea': [], 'ns': []}
    for case in job['cases']:
        image = cv2.imread(case['image'], cv2.IMREAD_COLOR)
        mask = cv2.imread(case['mask'], cv2.IMREAD_GRAYSCALE)
        if image is None or mask is None:
            raise SystemExit(f'cannot read {case["image"]} or {case["mask"]}')
        mask = (mask > 127).astype('uint8') * 255
        for name, flag in (('telea', cv2.INPAINT_TELEA), ('ns', cv2.INPAINT_NS)):
            t0 = time.perf_counter()
            out = cv2.inpaint(image, mask, radius, flag)
            ms[name].append((time.perf_counter() - t0) * 1000)
            cv2.imwrite(case[name], out)
    print(json.dumps({'opencv': cv2.__version__, 'ms': ms}))


if __name__ == '__main__':
    main(sys.argv[1])
