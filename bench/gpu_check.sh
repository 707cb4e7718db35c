#!/usr/bin/env bash
# The GPU run of issue 16, prepared so that the device's 15 minutes go to measuring.
#
#   make gpu-wheels                 # here, once: the wheels the device lacks, into .whl/
#   device run: bash bench/gpu_check.sh          (carry .whl; results land in $OUT)
#   bash bench/gpu_check.sh --tiny  # the rehearsal: the same script on this CPU, tiny
#
# Rows run in priority order, each under its own time budget, and everything is written
# to $OUT as it goes (run.log, and gpu-results.json at the end: two files, since the
# device brings back at most eight), so a run cut short still brings back what it measured:
#   (a) SD-Turbo architecture, 512², 1 step: ours eager / CUDA graphs / compile+graphs,
#       and StreamDiffusion 0.1.1 on the same UNet and TAESD, in the same process
#   (b) knob-to-photon latency on the real-size UNet, headless EGL
#   (c) SDXL-Turbo architecture at 512² and 1024²
#   (d) 2 steps, stream batching
#   (e) the new conditioning, SD-Turbo 512², 1 step, img2img, at most 90 s in all: ours
#       fast (compile + CUDA graphs; first CUDA graphs alone, which capture in seconds,
#       so a compile that outruns its budget still leaves a figure) with 1 ControlNet,
#       with a LoRA whose weight sweeps every frame, with 2 ControlNets; then the
#       ControlNet preprocessors on the GPU. Each is its own process: a failure in one
#       (CUDA graphs + ControlNet has never run) is logged and the next still runs.
# The script stops itself before 9 minutes (one device command may run 10), then writes
# $OUT/gpu-results.json (docs/gpu-results.json's format) with bench/gpu_results.py.
set -uo pipefail
cd "$(dirname "$0")/.."

TINY=()
[ "${1:-}" = "--tiny" ] && TINY=(--tiny)
OUT=${OUT:-out/gpu-check}
WORK=$(mktemp -d)  # the benches' own JSON files, gathered into gpu-results.json
PY=${PYTHON:-python3}
[ ${#TINY[@]} -gt 0 ] && [ -x .venv/bin/python ] && PY=${PYTHON:-.venv/bin/python}
BUDGET=${BUDGET:-530}  # seconds for the whole script
START=$SECONDS
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

if [ ${#TINY[@]} -eq 0 ]; then
  # The device has torch with CUDA and no network: the project and what it lacks travel
  # as wheels (make gpu-wheels), installed beside its own packages, not over them.
  if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "no wheels in .whl/: run 'make gpu-wheels' here and carry .whl" >&2
    exit 2
  fi
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 2
  export PYTHONPATH=/tmp/site
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$OUT/run.log"
fi
if [ ${#TINY[@]} -gt 0 ] && ls .whl/streamdiffusion-*.whl >/dev/null 2>&1; then
  # the rehearsal runs the anchor too: StreamDiffusion from the carried wheel, beside .venv
  $PY -m pip install -q --no-index --no-deps --target "$WORK/site" .whl/streamdiffusion-*.whl
  export PYTHONPATH="$WORK/site"
fi
$PY -c "import torch, performer; print('torch', torch.__version__, 'performer from', performer.__file__)" \
  | tee -a "$OUT/run.log"

left() { echo $((BUDGET - (SECONDS - START))); }

# stage NAME SECONDS COMMAND...: run COMMAND for at most SECONDS (less if the script's
# budget is nearly spent), its output to the terminal and to $OUT/run.log
stage() {
  local name=$1 budget=$2 remaining
  shift 2
  remaining=$(left)
  if [ "$remaining" -lt 15 ]; then
    echo "== $name: skipped, ${remaining}s left" | tee -a "$OUT/run.log"
    return
  fi
  [ "$budget" -gt "$remaining" ] && budget=$remaining
  echo "== $name (at most ${budget}s)" | tee -a "$OUT/run.log"
  local began=$SECONDS
  timeout -k 5 "$budget" "$@" 2>&1 | tee -a "$OUT/run.log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -ne 0 ] && echo "== $name: exit $rc" | tee -a "$OUT/run.log"
  echo "== $name: $((SECONDS - began)) s" | tee -a "$OUT/run.log"
}

SPEED=(bench/gpu_speed.py "${TINY[@]}" --quiet)
if [ ${#TINY[@]} -gt 0 ]; then
  SPEED+=(--frames 20 --warmup 3)
  LAT=(--tiny --changes 10 --warmup 2 --fps 60)
else
  SPEED+=(--frames 200 --warmup 20)
  LAT=(--random sd-turbo --compile default --cuda-graphs --changes 60 --warmup 5 --fps 60)
fi

# The gpu tests run from a copy of tests/: in the checkout, pytest would put the
# repository first on the path, and its performer/ lacks performer/control (the wheel's
# layout, which only an installed copy has).
cp -r tests bench "$WORK/"
case $PY in /*) ;; */*) PY="$PWD/$PY" ;; esac  # the copy runs from another folder
stage gpu-tests 60 env -C "$WORK" PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$WORK" \
  "$PY" -m pytest -q -p no:cacheprovider -p no:warnings --import-mode=importlib -m gpu tests
stage a-sd-turbo-512 180 $PY "${SPEED[@]}" --model sd-turbo --size "$([ ${#TINY[@]} -gt 0 ] && echo 32 || echo 512)" \
  --steps 1 --runners eager graphs fast --streamdiffusion --json "$WORK/a.json"
stage b-latency 80 $PY bench/latency.py "${LAT[@]}" --json "$WORK/b.json"
stage c-sdxl-turbo 100 $PY "${SPEED[@]}" --model sdxl-turbo --size $([ ${#TINY[@]} -gt 0 ] && echo "32 64" || echo "512 1024") \
  --steps 1 --runners eager fast --json "$WORK/c.json"
stage d-two-steps 70 $PY "${SPEED[@]}" --model sd-turbo --size "$([ ${#TINY[@]} -gt 0 ] && echo 32 || echo 512)" \
  --steps 2 --runners fast stream --streamdiffusion --json "$WORK/d.json"

SIZE=$([ ${#TINY[@]} -gt 0 ] && echo 32 || echo 512)
COND=("${SPEED[@]}" --model sd-turbo --size "$SIZE" --steps 1 --modes img2img --runners graphs fast)
stage e1-controlnet 35 $PY "${COND[@]}" --controlnets 1 --json "$WORK/e1.json"
stage e2-lora 25 $PY "${COND[@]}" --lora-rank 16 --json "$WORK/e2.json"
stage e3-two-controlnets 15 $PY "${COND[@]}" --controlnets 2 --json "$WORK/e3.json"
stage e4-preprocess 15 $PY bench/control_preprocess.py --sizes "$SIZE" --frames 0 --json "$WORK/e4.json" \
  $([ ${#TINY[@]} -gt 0 ] && echo "--runs 5 --threads 1" || echo "--runs 30 --device cuda")

$PY bench/gpu_results.py "$WORK"/[abcd].json "$WORK"/e[1-4].json --command "bash bench/gpu_check.sh ${TINY[*]}" \
  --out "$OUT/gpu-results.json" | tee -a "$OUT/run.log"
rm -rf "$WORK"
echo "== done in $((SECONDS - START)) s; results in $OUT/gpu-results.json"
