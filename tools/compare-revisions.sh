#!/bin/bash
# compare-revisions.sh: nebula-bench's bump, pool and stack figures, through
# the interface and inline, of two revisions, averaged over code layouts.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A 2-4 ns path moves by several percent with where the linker places it,
# so one build of each revision says little. This script builds
# nebula-bench of OLD and of NEW in the four layouts that
# tools/stats-bench-layouts.sh uses, runs them in turn (old, new, old,
# new, ... so that whatever else the machine does falls on both), and
# prints for each allocator and workload the mean over layouts and runs of
# ns per operation divided by the exported-call floor measured in the same
# process (`floor-call`), for both revisions, and new over old.
#
# Usage: tools/compare-revisions.sh OLD [NEW [RUNS]]
#   OLD, NEW: git revisions (NEW defaults to the working tree, "."),
#   RUNS: runs per layout and revision (default 2).
# Builds go to _build-compare/; the sources of a revision to a git worktree
# there. Needs what `./run bench` installs.

set -euo pipefail
cd "$(dirname "$0")/.."

old=${1:?usage: tools/compare-revisions.sh OLD [NEW [RUNS]]}
new=${2:-.}
runs=${3:-2}
allocators=floor-inline,floor-call,bump,bump-inline,pool,pool-inline,stack,stack-inline
workloads=small-mixed,fixed-64,lifo-frames,request-response
layouts=(
  "-falign-functions=16"
  "-falign-functions=32"
  "-falign-functions=64 -falign-loops=32"
  "-falign-functions=128 -falign-jumps=16"
)
top=_build-compare
mkdir -p "$top"
out=$top/results.csv
: >"$out"

# The sources of a revision: the working tree itself for ".", else a
# detached worktree, refreshed to the revision.
sources() {
  local rev=$1 name=$2
  if [ "$rev" = . ]; then
    echo "$PWD"
    return
  fi
  local dir=$top/src-$name
  if [ ! -d "$dir" ]; then
    git worktree add --detach "$dir" "$rev" >/dev/null 2>&1
  else
    git -C "$dir" checkout --detach -q "$rev"
  fi
  echo "$PWD/$dir"
}

declare -A bench
for name in old new; do
  rev=$old
  [ "$name" = new ] && rev=$new
  src=$(sources "$rev" "$name")
  for i in "${!layouts[@]}"; do
    dir=$PWD/$top/$name-$i
    if [ ! -f "$dir/build.ninja" ]; then
      meson setup "$dir" "$src" -Dbuildtype=release -Dtests=disabled -Dintrospection=disabled \
        -Dvapi=disabled -Ddocumentation=disabled "-Dc_args=${layouts[$i]}" >/dev/null
    fi
    meson compile -C "$dir" tools/nebula-bench >/dev/null
    bench[$name-$i]=$dir/tools/nebula-bench
  done
done

for run in $(seq "$runs"); do
  for i in "${!layouts[@]}"; do
    for name in old new; do
      echo "compare-revisions: run $run, layout $i, $name" >&2
      "${bench[$name-$i]}" -a "$allocators" -w "$workloads" -f csv -r 7 2>/dev/null |
        awk -F, -v name="$name" -v layout="$i" -v run="$run" \
          '$1 == "allocators" && $4 == "ok" { print name "," layout "," run "," $2 "," $3 "," $6 }' >>"$out"
    done
  done
done

/usr/bin/python3 - "$out" <<'PY'
import collections, csv, math, sys

rows = list(csv.reader(open(sys.argv[1])))
floor = {(r[0], r[1], r[2], r[4]): float(r[5]) for r in rows if r[3] == "floor-call"}
ratios = collections.defaultdict(list)
for name, layout, run, alloc, workload, ns in rows:
    if alloc == "floor-call":
        continue
    ratios[(alloc, workload, name)].append(float(ns) / floor[(name, layout, run, workload)])

def mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))

print("x the exported-call floor, geometric mean over layouts and runs")
print("%-14s %-18s %8s %8s %9s" % ("allocator", "workload", "old", "new", "new/old"))
keys = sorted({(a, w) for a, w, _ in ratios})
for alloc, workload in keys:
    o, n = ratios.get((alloc, workload, "old")), ratios.get((alloc, workload, "new"))
    if not o or not n:
        continue
    print("%-14s %-18s %8.3f %8.3f %9.3f" % (alloc, workload, mean(o), mean(n), mean(n) / mean(o)))
PY
