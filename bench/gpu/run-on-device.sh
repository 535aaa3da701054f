#!/usr/bin/env bash
# bench:webgpu and bench:pool on a GPU machine (one H100/H200, 16 cores, no network), for a session that is lent one.
# That machine has neither Node nor Chromium, and a device call carries at most 64 MiB (this repo's tree included),
# so bench/gpu/pack.sh packs Node, the needed node_modules, Chromium with its libraries and the model files into
# parts under .gpu/ (ignored) and prints the calls to make. Every call but the last stages its part on the machine
# (kept in /tmp while the machine stays warm: make the next call at once, within 30 s); the last call carries the
# last part, unpacks everything and runs the benches (about 7 minutes at most), writing under $OUT.
#
# How to call it (from the session that has the device tool; here, first):
#   bash bench/gpu/pack.sh                  # prints the exact list of calls, e.g.:
#   run(command="bash bench/gpu/run-on-device.sh stage", carry=[".gpu/part-00"], timeout_s=120)
#   run(command="bash bench/gpu/run-on-device.sh stage", carry=[".gpu/part-01"], timeout_s=120)
#   …
#   run(command="bash bench/gpu/run-on-device.sh run", carry=[".gpu/part-NN", ".gpu/payload.sha256"], timeout_s=540)
# then copy what comes back (summary.md, results.tar.gz, log.txt) into bench/results/ (webgpu-gpu.md) and give_back.
# Without Chromium (PACK_CHROMIUM=0 bash bench/gpu/pack.sh: fewer parts) it runs the native part only:
# onnxruntime-node on 16 CPU cores, its WebGPU provider (Dawn on the NVIDIA Vulkan driver), CUDA where installed.
# If a stage call finds the machine cold (a part missing at "run"), start again from the first part.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
PARTS=/tmp/frontier-gpu-parts
mkdir -p "$PARTS"
cp .gpu/part-* "$PARTS/" 2>/dev/null
echo "parts on this machine: $(cd "$PARTS" && ls part-* | tr '\n' ' ')"
[ "${1:-}" = stage ] && { nvidia-smi -L 2>/dev/null; exit 0; }
[ "${1:-}" = run ] || { echo "usage: run-on-device.sh stage|run" >&2; exit 2; }

OUT=${OUT:-$REPO/.gpu/out}
mkdir -p "$OUT/work"
exec > >(tee "$OUT/log.txt") 2>&1
started=$(date +%s)
want=$(cat .gpu/payload.sha256)
have=$(cat "$PARTS"/part-* | sha256sum | cut -d' ' -f1)
[ "$want" = "$have" ] || { echo "the parts do not make the payload (sha256 $have, expected $want): a stage call was missed or the machine went cold; stage every part again"; exit 1; }
cat "$PARTS"/part-* | xz -d | tar -x -C /tmp || exit 1
G=/tmp/frontier-gpu
export PATH=$G/bin:$PATH
[ -e node_modules ] || ln -s $G/node_modules node_modules
mkdir -p models/build && { [ -e models/build/files ] || ln -s $G/models models/build/files; }
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ -x $G/chromium/chromium ]; then
  export CHROME_PATH=$G/chromium/chromium
  export LD_LIBRARY_PATH=$G/chromium/lib:$G/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# The NVIDIA Vulkan driver (device README): Dawn (Chromium's WebGPU, onnxruntime-node's WebGPU) finds it here.
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $ICD ] && export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f $G/lib/libvulkan.so.1 ] || echo "no Vulkan loader packed: onnxruntime-node's WebGPU provider may not start"
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; node --version
[ -n "${CHROME_PATH:-}" ] && "$CHROME_PATH" --version 2>/dev/null
python3 -c "import onnxruntime as o; print('python onnxruntime', o.__version__, o.get_available_providers())" 2>/dev/null

NODE_RUN="node --import tsx"
MODELS=esrgan-slim-x2,esrgan-medium-x2,esrgan-thick-x2,styleswin-ffhq-256-tiny,gram-ffhq-256-tiny,simmim-swin-base-192-tiny,vqdiffusion-ithq-decoder-tiny,vqdiffusion-ithq-transformer-tiny
echo "== bench:webgpu (real GPU: Chromium WebGPU, onnxruntime-node CPU / WebGPU (Dawn) / CUDA)"
if [ -n "${CHROME_PATH:-}" ]; then
  BENCH_WEBGPU_GPU=1 BENCH_WEBGPU_NODE_WEBGPU=1 BENCH_WEBGPU_MODELS=$MODELS BENCH_RESULTS_DIR=$OUT/work/webgpu \
    timeout 210 $NODE_RUN bench/webgpu.ts; rc=$?
else rc=1; fi
if [ $rc != 0 ]; then
  echo "== bench:webgpu without the browser (rc $rc above)"
  BENCH_WEBGPU_GPU=1 BENCH_WEBGPU_NO_BROWSER=1 BENCH_WEBGPU_NODE_WEBGPU=1 BENCH_WEBGPU_MODELS=$MODELS BENCH_RESULTS_DIR=$OUT/work/webgpu-native \
    timeout 100 $NODE_RUN bench/webgpu.ts
fi
if [ -n "${CHROME_PATH:-}" ]; then
  for n in 2 4 8; do
    left=$(( 450 - ($(date +%s) - started) ))
    (( left > 30 )) || { echo "== bench:pool $n workers: skipped, the 8-minute budget is spent"; continue; }
    echo "== bench:pool, $n workers (ESRGAN slim ×4, 512² astronaut; ${left} s left)"
    BENCH_POOL_WORKERS=$n BENCH_ONLY=slim BENCH_SKIP_MEMORY=1 BENCH_RESULTS_DIR=$OUT/work/pool-$n \
      timeout $(( left < 150 ? left : 150 )) $NODE_RUN bench/pool.ts
  done
fi
# At most 8 files come back: one summary, one archive, the log.
for f in "$OUT"/work/*/*.md; do echo "# ${f#$OUT/work/}"; cat "$f"; echo; done > "$OUT/summary.md" 2>/dev/null
tar -C "$OUT/work" -czf "$OUT/results.tar.gz" . && rm -rf "$OUT/work"
echo "done in $(( $(date +%s) - started )) s"
