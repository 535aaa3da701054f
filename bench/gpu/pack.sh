#!/usr/bin/env bash
# Packs what bench/gpu/run-on-device.sh needs on the GPU machine, which has no Node, no Chromium and no network:
# Node itself, the few node_modules the benches load, Chromium with the libraries it links, and the model files.
# Written to .gpu/ (ignored through .git/info/exclude), split into parts that each fit one device call: a call
# carries at most 64 MiB, the working tree included, so the parts go over in several calls (see run-on-device.sh).
#
#   bash bench/gpu/pack.sh            # everything (Node, modules, models, Chromium)
#   PACK_CHROMIUM=0 bash bench/gpu/pack.sh   # without Chromium: onnxruntime-node CPU/WebGPU(Dawn)/CUDA only
#
# Needs: the built models (npm run convert-models; the tiny ones come with models/build), /usr/bin/node,
# /usr/lib/chromium (Debian's chromium). Compression: xz -T0 (slow on a loaded machine; PACK_XZ_LEVEL=1 is faster).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUTDIR=$ROOT/.gpu
LEVEL=${PACK_XZ_LEVEL:-6}
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# 1. Node and the modules bench/webgpu.ts loads without a browser (its browser modules load only when one runs),
#    plus what the browser part and bench:pool load (playwright-core, esbuild for the page bundle, onnxruntime-web's
#    jsep build, comlink).
mkdir -p "$STAGE/frontier-gpu/bin"
cp "$(readlink -f "$(command -v node)")" "$STAGE/frontier-gpu/bin/node"
M=node_modules
keep=(tsx esbuild @esbuild/linux-x64 onnxruntime-common pngjs jpeg-js eventsource-parser comlink playwright-core)
for p in "${keep[@]}"; do mkdir -p "$STAGE/frontier-gpu/$M/$(dirname "$p")"; cp -a "$M/$p" "$STAGE/frontier-gpu/$M/$p"; done
# onnxruntime-node: Linux x64 only (its other platforms are 220 MB).
mkdir -p "$STAGE/frontier-gpu/$M/onnxruntime-node/bin/napi-v6/linux"
cp -a $M/onnxruntime-node/package.json $M/onnxruntime-node/dist $M/onnxruntime-node/lib "$STAGE/frontier-gpu/$M/onnxruntime-node/" 2>/dev/null || true
cp -a $M/onnxruntime-node/bin/napi-v6/linux/x64 "$STAGE/frontier-gpu/$M/onnxruntime-node/bin/napi-v6/linux/"
# onnxruntime-web: the package files and the one build the product uses (jsep).
mkdir -p "$STAGE/frontier-gpu/$M/onnxruntime-web/dist"
cp -a $M/onnxruntime-web/package.json $M/onnxruntime-web/types.d.ts $M/onnxruntime-web/lib "$STAGE/frontier-gpu/$M/onnxruntime-web/" 2>/dev/null || true
cp -a $M/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.* $M/onnxruntime-web/dist/ort.bundle.min.mjs $M/onnxruntime-web/dist/ort.mjs $M/onnxruntime-web/dist/ort.node.min.mjs "$STAGE/frontier-gpu/$M/onnxruntime-web/dist/" 2>/dev/null || true
cp -a $M/onnxruntime-web/dist/*.d.ts "$STAGE/frontier-gpu/$M/onnxruntime-web/dist/" 2>/dev/null || true
[ -d $M/.bin ] && mkdir -p "$STAGE/frontier-gpu/$M/.bin" && cp -a $M/.bin/tsx "$STAGE/frontier-gpu/$M/.bin/" 2>/dev/null || true

# The Vulkan loader (Chromium's copy): onnxruntime-node's WebGPU provider (Dawn) needs one to reach the NVIDIA driver.
mkdir -p "$STAGE/frontier-gpu/lib"
cp -L /usr/lib/chromium/libvulkan.so.1 "$STAGE/frontier-gpu/lib/"

# 2. The models the bench measures: ESRGAN slim/medium/thick ×2 (converted pretrained weights), the tiny builds.
#    MAXIM (93 MB with its weights) stays here: it would need two more calls by itself.
mkdir -p "$STAGE/frontier-gpu/models"
for id in esrgan-slim-x2 esrgan-slim-x4 esrgan-medium-x2 esrgan-thick-x2 styleswin-ffhq-256-tiny gram-ffhq-256-tiny simmim-swin-base-192-tiny \
  vqdiffusion-ithq-text-tiny vqdiffusion-ithq-transformer-tiny vqdiffusion-ithq-decoder-tiny; do
  cp models/build/files/"$id".* "$STAGE/frontier-gpu/models/"
done
cp models/build/files/clip-bpe-simple-vocab-16e6.*.txt.gz "$STAGE/frontier-gpu/models/"

# 3. Chromium and every library it links that is not glibc's own (the GPU machine's distribution may lack them).
if [ "${PACK_CHROMIUM:-1}" = 1 ]; then
  mkdir -p "$STAGE/frontier-gpu/chromium/lib"
  cp -a /usr/lib/chromium/. "$STAGE/frontier-gpu/chromium/"
  ldd /usr/lib/chromium/chromium | awk '/=> \//{print $3}' | grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' \
    | while read -r lib; do cp -L "$lib" "$STAGE/frontier-gpu/chromium/lib/"; done
fi

echo "packing $(du -sh "$STAGE/frontier-gpu" | cut -f1) with xz -$LEVEL…"
tar -C "$STAGE" -cf - frontier-gpu | xz -T0 -"$LEVEL" > "$STAGE/payload.tar.xz"
TREE=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
UNTRACKED=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
BUDGET=$(( 64 * 1024 * 1024 - TREE - ${UNTRACKED:-0} - 2 * 1024 * 1024 ))   # 2 MiB to spare
(( BUDGET > 8 * 1024 * 1024 )) || { echo "the working tree leaves only $BUDGET bytes per call" >&2; exit 1; }
split -b "$BUDGET" -d -a 2 "$STAGE/payload.tar.xz" "$OUTDIR/part-"
sha256sum "$STAGE/payload.tar.xz" | cut -d' ' -f1 > "$OUTDIR/payload.sha256"
n=$(ls "$OUTDIR"/part-* | wc -l)
echo "payload $(stat -c %s "$STAGE/payload.tar.xz") bytes in $n part(s) of at most $BUDGET bytes (tree: $TREE bytes)."
echo "Device calls, one after another (the machine stays warm 30 s after each):"
i=0
for part in "$OUTDIR"/part-*; do
  i=$((i + 1)); name=.gpu/$(basename "$part")
  if [ "$i" -lt "$n" ]; then echo "  run(command='bash bench/gpu/run-on-device.sh stage', carry=['$name'], timeout_s=120)"
  else echo "  run(command='bash bench/gpu/run-on-device.sh run', carry=['$name', '.gpu/payload.sha256'], timeout_s=540)"; fi
done
