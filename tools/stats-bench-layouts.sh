#!/bin/bash
# stats-bench-layouts.sh: nebula-stats-bench over several code layouts.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What statistics cost on a 2-4 ns path is a few instructions, and where
# the compiler and the linker happen to place the code moves the figure as
# much: the same machine code of nebula_allocator_allocate() read +2% and
# +13% in two builds that differed only in an unrelated function
# (HACKING.md, "Statistics: how the counters are built and what they
# cost"). This script builds the library in
# four layouts (function, loop and jump alignments; nothing else changes),
# runs nebula-stats-bench in each, in turn, and averages the per-workload
# costs over all runs.
#
# Usage: tools/stats-bench-layouts.sh [RUNS]   (default 2 runs per layout)
# Builds go to _build-layouts/N; needs what `./run bench` installs.

set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-2}
layouts=(
  "-falign-functions=16"
  "-falign-functions=32"
  "-falign-functions=64 -falign-loops=32"
  "-falign-functions=128 -falign-jumps=16"
)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for i in "${!layouts[@]}"; do
  dir=_build-layouts/$i
  if [ ! -d "$dir" ]; then
    meson setup "$dir" -Dbuildtype=release -Dtests=disabled -Dintrospection=disabled \
      -Dvapi=disabled "-Dc_args=${layouts[$i]}" >/dev/null
  fi
  meson compile -C "$dir" tools/nebula-stats-bench >/dev/null
done

for run in $(seq "$runs"); do
  for i in "${!layouts[@]}"; do
    echo "run $run, layout $i (${layouts[$i]})" >&2
    # the rows of the single-thread workload table: allocator, workload,
    # off, on, cost, control
    "_build-layouts/$i/tools/nebula-stats-bench" |
      awk -v layout="$i" '/^  (bump|pool|stack)/ && NF == 6 { print layout, $0 }' >> "$out"
  done
done

awk '
  {
    key = $2 " " $3
    if (!(key in n)) order[++rows] = key
    cost = $6; sub(/%/, "", cost); cost += 0
    control = $7; sub(/%/, "", control); control += 0
    n[key]++; sum[key] += cost; ctl[key] += control
    if (!(key in lo) || cost < lo[key]) lo[key] = cost
    if (!(key in hi) || cost > hi[key]) hi[key] = cost
  }
  END {
    printf "%-30s %8s %17s %8s\n", "allocator, workload", "cost", "runs min..max", "control"
    for (r = 1; r <= rows; r++) {
      key = order[r]; mean = sum[key] / n[key]
      printf "%-30s %+7.1f%% %+7.1f..%+6.1f%% %+7.1f%%\n", key, mean, lo[key], hi[key], ctl[key] / n[key]
      group = (key ~ /inline/) ? "inline" : "interface"
      logsum[group] += log (1 + mean / 100); count[group]++
    }
    for (g in count)
      printf "geometric mean, %-9s %+6.1f%%  (%d cases, %d runs each)\n",
             g, 100 * (exp (logsum[g] / count[g]) - 1), count[g], n[order[1]]
  }' "$out"
