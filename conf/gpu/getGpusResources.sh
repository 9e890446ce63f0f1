#!/usr/bin/env bash
# Spark resource discovery for GPUs: prints {"name":"gpu","addresses":["0","1",...]}, the indices
# nvidia-smi reports on this node (Spark assigns them to tasks; llic maps an address to its CUDA
# device through CUDA_VISIBLE_DEVICES when that is set). No GPU, or no nvidia-smi: no addresses.
set -euo pipefail
addresses=""
if command -v nvidia-smi >/dev/null 2>&1; then
  addresses="$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' | grep -E '^[0-9]+$' \
    | sed 's/.*/"&"/' | paste -sd, - || true)"
fi
echo "{\"name\":\"gpu\",\"addresses\":[${addresses}]}"
