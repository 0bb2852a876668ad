#!/usr/bin/env bash
# The speed issue's targets in one sitting (benchmarks/README.md, "fifth session"): nanoq bench's detector pairs
# interleaved (two rounds) and each workload alone, the training steps beside torchvision's (peer_detection.py), the
# ResNet-18 step beside ../shared/tools/peer_bench.py, then Nanoq.Onnx.Benchmarks on a trained run folder; the load
# average between the parts.
#
#   benchmarks/targets.sh [RUN_FOLDER] [OLD_NANOQ]
#
# RUN_FOLDER: a default `nanoq run`'s folder (default runs/shapes; skipped if absent). OLD_NANOQ: another build's
# nanoq executable to alternate with this one for a before/after (e.g. from `git worktree add ../old <commit>`
# and a Release build there). Warm-ups are given explicitly so that both builds get at least 2 s of them (this build's `nanoq bench` adds its own minimum of 4 s; an older build may have 2 s).
set -u
cd "$(dirname "$0")/.."
RUN=${1:-runs/shapes}
OLD=${2:-}
dotnet build src/Nanoq.Cli -c Release -v q >/dev/null && dotnet build benchmarks/Nanoq.Onnx.Benchmarks -c Release -v q >/dev/null || exit 1
dotnet build-server shutdown >/dev/null 2>&1
N=src/Nanoq.Cli/bin/Release/net10.0/nanoq
# The PyTorch peers need Debian's python3-torch and python3-torchvision (not on every fresh machine).
/usr/bin/python3 -c "import torch, torchvision" 2>/dev/null || { command -v apt-get >/dev/null \
  && apt-get install -y -qq python3-torch python3-torchvision >/dev/null 2>&1; } \
  || echo "note: python3-torch and python3-torchvision are missing and could not be installed; the PyTorch rows will fail"
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_ARENA_MAX=1   # peer_bench.py's allocator settings
la() { echo "## loadavg $(cut -d' ' -f1-3 /proc/loadavg) at $(date +%T)"; }
warm() { case "$1" in retinanet-1) echo 600;; retinanet-8) echo 150;; faster-rcnn-1) echo 300;; faster-rcnn-8) echo 60;; esac; }
la
for round in 1 2; do
  for d in retinanet faster-rcnn; do for b in 1 8; do
    r=$([ "$b" = 1 ] && echo 40 || echo 20); w=$(warm "$d-$b")
    echo "== round $round: $d b$b"; $N bench --only "$d-int4-b$b,$d-float-b$b" --runs "$r" --warmup "$w" 2>&1 | tail -3
    [ -n "$OLD" ] && { echo "== round $round, old: $d b$b"; "$OLD" bench --only "$d-int4-b$b,$d-float-b$b" --runs "$r" --warmup "$w" 2>&1 | tail -3; }
  done; done
  la
done
for d in retinanet faster-rcnn; do for b in 1 8; do w=$(warm "$d-$b"); for m in int4 float; do
  echo "== alone: $d-$m-b$b"; $N bench --only "$d-$m-b$b" --runs 25 --warmup "$w" 2>&1 | tail -1
  [ -n "$OLD" ] && [ "$m" = int4 ] && { echo "== alone, old: $d-$m-b$b"; "$OLD" bench --only "$d-$m-b$b" --runs 25 --warmup "$w" 2>&1 | tail -1; }
done; done; done
la
for round in 1 2; do
  echo "== torchvision (peer_detection.py)"; /usr/bin/python3 benchmarks/peer_detection.py --threads 2 2>&1 | tail -2
  echo "== nanoq training steps"; $N bench --only retinanet-train-step,retinanet-finetune-step --warmup 25 2>&1 | tail -3
  [ -n "$OLD" ] && { echo "== old training steps"; "$OLD" bench --only retinanet-train-step,retinanet-finetune-step --warmup 25 2>&1 | tail -3; }
done
la
echo "== nanoq resnet18"; $N bench --only resnet18-train-step --warmup 6 2>&1 | tail -1
echo "== peer_bench.py"; /usr/bin/python3 ../shared/tools/peer_bench.py --threads 2 2>&1 | grep -E "resnet18_train"
echo "== nanoq resnet18"; $N bench --only resnet18-train-step --warmup 6 2>&1 | tail -1
[ -n "$OLD" ] && { echo "== old resnet18"; "$OLD" bench --only resnet18-train-step --warmup 6 2>&1 | tail -1; }
la
if [ -d "$RUN" ]; then
  echo "== Nanoq.Onnx.Benchmarks on $RUN"
  dotnet run -c Release --no-build --project benchmarks/Nanoq.Onnx.Benchmarks -- --out "$RUN" --runs 25 2>&1 | grep -E "batch|vs"
  la
fi
