#!/usr/bin/env bash
# Prepares a GPU run of the device suite (scripts/device-suite.sh), here on a
# machine without a GPU: packs Node (../shared/device/pack-node.sh), builds the
# addon with the CUDA addon (RP_CUDA=1), and packs what the suite needs at run
# time into .device/payload.tgz (kept out of git with .device/). Then run, with
# the device tool, carry [".device"]:
#   source .device/unpack-node.sh && bash scripts/device-suite.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
shared=${RP_DEVICE_SHARED:-$root/../shared/device}
[ -f "$shared/unpack-node.sh" ] || shared=/work/shared/device
# As ../shared/device/pack-node.sh does, but from a git worktree too (where .git is a file).
mkdir -p .device
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.device/' "$exclude" 2>/dev/null || echo '/.device/' >> "$exclude"
if [ ! -s .device/node.xz ]; then
  xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .device/node.xz.part && mv .device/node.xz.part .device/node.xz
fi
cp "$shared/unpack-node.sh" .device/unpack-node.sh
RP_CUDA=1 npx cmake-js build --parallel "$(nproc)" --log-level warn
test -f build/Release/cuda/resumable_pipeline_cuda.node
node scripts/cuda-targets.mjs build/Release/cuda/resumable_pipeline_cuda.node
# Run-time needs: the addons, tsx (runs the TypeScript suite and bench) with esbuild,
# node-gyp-build (the main addon's loader), @msgpack/msgpack (imported by the bench index).
tar czf .device/payload.tgz build/Release node_modules/node-gyp-build node_modules/tsx node_modules/esbuild \
  node_modules/@esbuild node_modules/@msgpack
ls -la .device
echo 'Device tool: run with carry [".device"] and the command'
echo '  source .device/unpack-node.sh && bash scripts/device-suite.sh'
