#!/usr/bin/env bash
# The prepared GPU run (docs/MODEL_CARD.md, "Training on a GPU"): trains training/configs/gpu.json for a fixed
# wall-clock budget and leaves the EMA weights and the log under $OUT. Needs only the repository with device_data/
# (training/prepare_device_data.py), Python with torch and numpy; no bpy, no network.
#
#   OUT=/tmp/rehearsal MINUTES=1 WORKERS=1 bash training/device_run.sh    # the CPU rehearsal (about 2 minutes)
#
# MINUTES: the schedule's length (default 7: with start-up and export, well inside 8 minutes); WORKERS: data
# worker processes (default: the CPU count minus 2, at most 12); NPROC: processes (GPUs; default all visible).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to the output folder}
MINUTES=${MINUTES:-7}
PY=${PYTHON:-python3}
CPUS=$(nproc)
WORKERS=${WORKERS:-$(( CPUS > 14 ? 12 : (CPUS > 3 ? CPUS - 2 : 1) ))}
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
NPROC=${NPROC:-$(( GPUS > 0 ? GPUS : 1 ))}
test -d device_data/shared || { echo "device_data/ missing: run training/prepare_device_data.py and carry it"; exit 2; }
mkdir -p "$OUT"
"$PY" -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, 'cuda', torch.cuda.is_available())" | tee "$OUT/env.txt"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 5 > "$OUT/gpu_util.csv" &
  SMI=$!
  trap 'kill $SMI 2> /dev/null || true' EXIT
fi
echo "{\"schedule_minutes\": $MINUTES}" > "$OUT/budget.json"
CONFIG=$("$PY" -c "import json,sys; c=json.load(open('training/configs/gpu.json')); c.update(json.load(open(sys.argv[1]))); print(json.dumps(c))" "$OUT/budget.json")
echo "$CONFIG" > "$OUT/config.json"
LAUNCH=("$PY")
if [ "$NPROC" -gt 1 ]; then LAUNCH=("$PY" -m torch.distributed.run --nproc_per_node "$NPROC"); fi
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "${LAUNCH[@]}" training/train.py --out "$OUT/run" --config "$OUT/config.json" \
  --shared device_data/shared --cache device_data/synthetic --workers "$WORKERS" --checkpoint-every 200 \
  2>&1 | tee "$OUT/train.log"
rm -f "$OUT/run/checkpoint.pt"  # the optimiser state is large; the EMA weights and the log are what come back
ls -la "$OUT/run"
