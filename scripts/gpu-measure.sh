#!/usr/bin/env bash
# The planned-step measurement on a GPU, in one call: every fused kernel against its
# reference on this driver, planned and eager training steps of gpt and hsm-ab*6 (host time,
# wait for the readback, GPU objects made per step; then pipelined), and the PyTorch anchor
# in fp32 on the same GPU, side by side. Prints a short table last; full logs go to $OUT
# (default runs/gpu). Run from the repository root after a build.
#
#   bash scripts/gpu-measure.sh [--shape standard|small] [--dawn auto|vulkan|opengles]
#        [--anchor path/to/torch_ref.py] [--python python3] [--steps 20]
#
# --shape small (batch 4, context 64, D 96) tries the script where GPU work is slow (Mesa).
set -uo pipefail
shape=standard dawn=auto anchor="" python=python3 steps=20
while [ $# -gt 0 ]; do
  case "$1" in
    --shape) shape=$2; shift 2 ;;
    --dawn) dawn=$2; shift 2 ;;
    --anchor) anchor=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "gpu-measure.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
  esac
done
case "$shape" in
  standard) dims=(--batch 64 --ctx 256 --dim 384 --heads 6) ;;
  small) dims=(--batch 4 --ctx 64 --dim 96 --heads 6) ;;
  *) echo "gpu-measure.sh: --shape is standard or small, not $shape" >&2; exit 2 ;;
esac
out=${OUT:-runs/gpu}
mkdir -p "$out"
data=benchmarks/data/tinyshakespeare.txt
bench=apps/bench/dist/gpu
[ -f "$bench/train-step.js" ] || { echo "gpu-measure.sh: $bench/train-step.js is missing; run npm run build first" >&2; exit 2; }

echo "== kernel parity on the driver"
node "$bench/kernel-parity.js" --dawn "$dawn" --json "$out/parity.json" > "$out/parity.txt" 2>&1
parity=$?
grep -E '^(adapter|FAIL)' "$out/parity.txt"; tail -n 1 "$out/parity.txt"

echo "== training steps, planned then eager, one at a time"
node "$bench/train-step.js" --dawn "$dawn" --models gpt,hsm-ab "${dims[@]}" --steps "$steps" --warmup 5 \
  --step planned,eager --data "$data" --json "$out/steps.json" > "$out/steps.txt" 2>&1
steps_rc=$?
echo "== training steps, planned, pipelined"
node "$bench/train-step.js" --dawn "$dawn" --models gpt,hsm-ab "${dims[@]}" --steps "$steps" --warmup 5 \
  --step planned --pipeline --data "$data" --json "$out/steps-pipelined.json" > "$out/steps-pipelined.txt" 2>&1
pipelined_rc=$?

anchor_note="no --anchor given"
if [ -n "$anchor" ]; then
  anchor_note=""
  for model in gpt hsm-ab; do
    "$python" "$anchor" --model "$model" --iters $((steps + 20)) --eval-batches 2 --amp fp32 "${dims[@]}" \
      --data "$data" > "$out/torch-$model.json" 2> "$out/torch-$model.err" || anchor_note="PyTorch failed (see $out/torch-*.err)"
  done
fi

echo "== summary ($shape shape; logs in $out)"
node - "$out" "$parity" "$steps_rc" "$pipelined_rc" "$anchor_note" <<'NODE'
const fs = require('node:fs');
const [out, parity, stepsRc, pipelinedRc, anchorNote] = process.argv.slice(2);
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${out}/${f}`, 'utf8')); } catch { return undefined; } };
const torch = (m) => { try { return JSON.parse(fs.readFileSync(`${out}/torch-${m}.json`, 'utf8').trim().split('\n').pop()); } catch { return undefined; } };
const steps = read('steps.json'), piped = read('steps-pipelined.json');
console.log(`kernel parity: ${parity === '0' ? 'all passed' : 'FAILED (see parity.txt)'}; adapter: ${steps?.backend ?? '?'}`);
const rows = [['model', 'step', 'ms/step', 'host ms', 'wait ms', 'bind groups/step', 'pipelined ms', 'PyTorch fp32 ms', 'vs PyTorch']];
for (const r of steps?.results ?? []) {
  const p = (piped?.results ?? []).find((x) => x.model === r.model);
  const t = torch(r.model === 'hsm-ab' ? 'hsm-ab' : 'gpt');
  const best = r.step === 'planned' && p?.medianMs ? Math.min(r.medianMs, p.medianMs) : r.medianMs;
  const f = (x, d = 3) => (typeof x === 'number' ? x.toPrecision(d) : '-');
  rows.push([r.model, r.step, r.error ? 'ERROR' : f(r.medianMs), f(r.hostMs), f(r.waitMs), f(r.gpuObjectsPerStep?.['bind groups']),
    r.step === 'planned' ? f(p?.medianMs) : '-', f(t?.ms_per_iter), t?.ms_per_iter && !r.error ? `${(t.ms_per_iter / best).toFixed(3)}x` : '-']);
}
if (anchorNote) console.log(`PyTorch anchor: ${anchorNote}`);
if (stepsRc !== '0' || pipelinedRc !== '0') console.log('a training-step run failed: see steps.txt and steps-pipelined.txt');
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
NODE
