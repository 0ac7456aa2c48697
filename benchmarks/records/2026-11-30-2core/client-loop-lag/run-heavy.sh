#!/bin/sh
# usage: run-heavy.sh <out> <base|work> ; heavy phases, no instrumentation, niced -5
out=$1; tree=$2
if [ "$tree" = base ]; then R=/tmp/lag-base; else R=/work/wt/lag; fi
export PYTHONPATH=$R/apps/load-generator/src:$R/apps/local-cluster/src:$R/benchmarks/src:$R/libs/demo-common/src:$R/libs/test-support/src
mkdir -p $out
{ date -u; uptime; } > $out/uptime-start.txt
cd /work/wt/lag && nice -n -5 .venv/bin/python benchmarks/records/2026-11-30-2core/client-loop-lag/lagprobe.py $out 0 120 180 > $out/out.log 2>&1
{ date -u; uptime; } > $out/uptime-end.txt
