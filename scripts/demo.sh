#!/usr/bin/env bash
# The main job (`make demo`): simulate the default workloads of the workload library on the default
# presets and print each report. Outputs (stats.json, stats.csv, report.txt, trace.json) go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
tilesim=${TILESIM:-build/tilesim}
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

run() {  # name, then tilesim run arguments
  local name=$1
  shift
  echo
  echo "################ $name"
  "$tilesim" run "$@" -o "out/demo/$name" --trace "out/demo/$name/trace.json"
}

run h100_sxm5_gemm_2048_bf16   -p h100_sxm5 -p sm90_core --set workload.name=gemm \
    --set workload.M=2048 --set workload.N=2048 --set workload.K=2048
run a100_sxm4_gemm_2048_bf16   -p a100_sxm4 -p sm80_core --set workload.name=gemm \
    --set workload.M=2048 --set workload.N=2048 --set workload.K=2048
run h100_sxm5_attention_s1024_d128 -p h100_sxm5 -p sm90_core --set workload.name=attention_fwd \
    --set workload.batch=4 --set workload.heads=16 --set workload.seqlen=1024 --set workload.headdim=128
# The same library GEMM on a TPU-style megacore (tpu_v6e), with megacore-sized blocks (K steps of 2 x the
# 256-wide MXU, 1024 x 1024 output blocks: 4 grid steps, so that grid-step pipelining shows in the trace).
run tpu_v6e_gemm_2048_bf16     -p tpu_v6e --set workload.name=gemm \
    --set workload.M=2048 --set workload.N=2048 --set workload.K=2048 \
    --set workload.BLOCK_M=1024 --set workload.BLOCK_N=1024 --set workload.BLOCK_K=512
echo
echo "demo outputs in out/demo/ (each trace.json opens in the Perfetto UI)"
