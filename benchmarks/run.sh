#!/usr/bin/env bash
# Runs the kernel benchmarks and the PyTorch peers in one sitting, so their ratios mean something.
# Usage: benchmarks/run.sh [extra BenchmarkDotNet args]   (from anywhere; results under BenchmarkDotNet.Artifacts/)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# $(date -u +%FT%TZ)  $(uptime)"
lscpu | grep -E "Model name|^CPU\(s\)" || true
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_ARENA_MAX=1
peer() {
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    /usr/bin/python3 benchmarks/peer_kernels.py --threads 2
  else
    echo "python3-torch missing: apt-get install -y python3-torch python3-torchvision"
  fi
}
echo "## PyTorch (before)"; peer
dotnet run -c Release --project benchmarks/Nanoq.Benchmarks -- --filter '*' --join "$@"
echo "## PyTorch (after)"; peer
echo "# $(date -u +%FT%TZ)  $(uptime)"
