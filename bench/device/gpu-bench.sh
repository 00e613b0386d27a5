#!/usr/bin/env bash
# The GPU bench on a machine with a GPU but no Node of its own.
#
#   bash bench/device/gpu-bench.sh pack        # here: bundle bench/src/gpu/gpu-bench.ts into .device/, and pack
#                                              # Node, the Vulkan loader and webgpu's dawn.node beside it (pack.sh)
#   bash bench/device/gpu-bench.sh run [--tiny] # there (repository root, .device/ carried along): the WebGPU rows,
#                                              # then, if python3 has torch with CUDA, PyTorch's rows on CUDA
#                                              # and W7 on 1 and on all CPU cores, each with tapestry ÷ PyTorch
#   bash bench/device/gpu-bench.sh bundle      # here: only the bundle and webgpu (what `local` needs)
#   bash bench/device/gpu-bench.sh local --tiny # here, on llvmpipe: the bundle itself, in seconds
#
# Results: $OUT/gpu-bench.json, $OUT/torch-bench.json and $OUT/torch-cpu-N.json when OUT is set (the device tool's output folder),
# else bench/results/*.local.json. Everything printed is also in those files.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mode=${1:-run}
shift || true
# the device tool's output folder there; here bench/results/*.local.json (git-ignored)
results=${OUT:-$root/bench/results}
suffix=$([[ -n ${OUT:-} ]] && echo json || echo local.json)
mkdir -p "$results"

case $mode in
  bundle|pack)
    # the bench entry as one ES module; it finds webgpu (external) in .device/node_modules
    node_modules/.bin/esbuild bench/src/gpu/gpu-bench.ts --bundle --platform=node --format=esm --target=node20 \
      --external:webgpu --outfile=.device/gpu-bench.mjs --log-level=warning
    wg=$(cd bench/node_modules/webgpu && pwd -P)
    mkdir -p .device/node_modules/webgpu/dist/linux-x64
    cp "$wg/index.js" "$wg/package.json" .device/node_modules/webgpu/
    cp "$wg/dist/linux-x64/dawn.node" .device/node_modules/webgpu/dist/linux-x64/
    cp bench/device/torch-bench.py .device/
    # Node, the Vulkan loader and remote.sh for the GPU machine
    [[ $mode == pack ]] && bash "${PACK:-/work/shared/device/pack.sh}" "$root/.device"
    du -sh .device
    ;;
  local)
    [[ -f .device/gpu-bench.mjs ]] || { echo "gpu-bench: run 'bash bench/device/gpu-bench.sh pack' first" >&2; exit 1; }
    export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
    node .device/gpu-bench.mjs "$@" --out "$results/gpu-bench.$suffix"
    ;;
  run)
    [[ -f .device/remote.sh ]] || { echo "gpu-bench: .device/ is missing: run 'bash bench/device/gpu-bench.sh pack' and carry .device" >&2; exit 1; }
    # within one device call (600 s at most): tapestry's rows keep what they measured if cut short
    status=0
    timeout 330 bash .device/remote.sh node .device/gpu-bench.mjs "$@" --out "$results/gpu-bench.$suffix" || status=$?
    if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      timeout 120 python3 .device/torch-bench.py "$@" --tapestry "$results/gpu-bench.$suffix" --out "$results/torch-bench.$suffix" || status=$?
      # the issue's CPU reference for W7: PyTorch on one core and on all of them (a BLAS reads its thread
      # count once, when it loads, so each count is a process of its own)
      for n in 1 "$(nproc)"; do
        OMP_NUM_THREADS=$n OPENBLAS_NUM_THREADS=$n MKL_NUM_THREADS=$n OMP_WAIT_POLICY=PASSIVE timeout 60 \
          python3 .device/torch-bench.py "$@" --cpu "$n" --tapestry "$results/gpu-bench.$suffix" --out "$results/torch-cpu-$n.$suffix" || status=$?
      done
    else
      echo "gpu-bench: no PyTorch with CUDA on this machine: no PyTorch rows"
    fi
    exit $status
    ;;
  *)
    echo "usage: gpu-bench.sh pack | bundle | run [--tiny] | local [--tiny]" >&2
    exit 2
    ;;
esac
