#!/usr/bin/env bash
# The device suite on a GPU machine (README, "CUDA"; ../shared/device/README.md):
# unpacks what scripts/device-pack.sh packed, then runs `npm run test:cuda`
# (every device result against the CPU path, byte for byte) and
# `npm run bench -- --only cuda` (issue 12's figures, torch's beside them),
# writing logs and figures to $OUT (default ./device-out). The bench table is
# printed last. Exit status: the test suite's.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
if [ -f .device/payload.tgz ]; then tar xzf .device/payload.tgz; fi
if ! command -v node >/dev/null; then
  echo 'device-suite: no node on PATH (begin the command with: source .device/unpack-node.sh &&)' >&2
  exit 2
fi
tsx="node node_modules/tsx/dist/cli.mjs"
{ nvidia-smi || true; } > "$OUT/nvidia-smi.txt" 2>&1
node -e "const { cuda } = require('./node_modules/tsx/dist/cjs/api/index.cjs').require('./src/index.ts', __filename); console.log(JSON.stringify({ status: cuda.status(), devices: cuda.available() ? cuda.devices() : [] }))" \
  > "$OUT/status.json" 2>&1 || true
cat "$OUT/status.json"

started=$(date +%s)
timeout 330 $tsx test/device/cuda-device.ts > "$OUT/test-cuda.tap" 2>&1
test_rc=$?
echo "test:cuda exit $test_rc in $(( $(date +%s) - started )) s"
grep -E '^# (tests|pass|fail)|^not ok' "$OUT/test-cuda.tap" | head -40

started=$(date +%s)
timeout 200 $tsx bench/index.ts --only cuda --json "$OUT/bench-cuda.json" > "$OUT/bench-cuda.md" 2>&1
echo "bench exit $? in $(( $(date +%s) - started )) s"
cat "$OUT/bench-cuda.md"
exit $test_rc
