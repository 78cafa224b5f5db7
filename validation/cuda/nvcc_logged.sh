#!/bin/sh
# nvcc_logged.sh LOG NVCC ARGS...: runs nvcc with its output (including the --resource-usage report, whose
# "Compiling entry function ... for 'sm_XX'" lines prove which architectures each file was built for) kept
# in LOG. Errors and warnings still reach the build output.
log="$1"
shift
"$@" >"$log" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
  cat "$log" >&2
else
  grep -i "warning" "$log" | grep -v "C7519" >&2 || true  # C7519: ptxas notes on wgmma register fences
fi
exit "$status"
