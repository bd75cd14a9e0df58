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
# With --driver it times tools/nebula-fastpath-driver instead (its
# `--time` mode: a fixed loop per path, the fastest of 7 rounds): NEW's
# driver source is compiled against both revisions, so the harness is the
# same code on both sides and only the library differs. Each loop is
# divided by its floor of the same process (the inline floor for an
# inline loop, the exported-call floor for an interface loop).
#
# Usage: tools/compare-revisions.sh [--driver] OLD [NEW [RUNS]]
#   OLD, NEW: git revisions (NEW defaults to the working tree, "."),
#   RUNS: runs per layout and revision (default 2).
# Builds go to _build-compare/; the sources of a revision to a git worktree
# there. Needs what `./run bench` installs.

set -euo pipefail
cd "$(dirname "$0")/.."

driver=
if [ "${1:-}" = --driver ]; then
  driver=1
  shift
fi
old=${1:?usage: tools/compare-revisions.sh [--driver] OLD [NEW [RUNS]]}
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
target=tools/nebula-fastpath-driver
[ -n "$driver" ] || target=tools/nebula-bench
mkdir -p "$top"
out=$top/results.csv
driver_source=$PWD/tools/nebula-fastpath-driver.c
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
    git -C "$dir" checkout --detach -q -f "$rev"
  fi
  # The same driver on both sides; before 7cc9c51 the stack's inline
  # entry points were called _push() and _pop().
  if [ -n "$driver" ]; then
    if grep -q 'nebula_stack_allocator_alloc (' "$dir/nebula/nebula-stack-allocator.h"; then
      cp "$driver_source" "$dir/tools/"
    else
      sed -e 's/nebula_stack_allocator_alloc (/nebula_stack_allocator_push (/' \
          -e 's/nebula_stack_allocator_free (/nebula_stack_allocator_pop (/' \
          "$driver_source" >"$dir/tools/nebula-fastpath-driver.c"
    fi
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
    meson compile -C "$dir" "$target" >/dev/null
    bench[$name-$i]=$dir/$target
  done
done

for run in $(seq "$runs"); do
  for i in "${!layouts[@]}"; do
    for name in old new; do
      echo "compare-revisions: run $run, layout $i, $name" >&2
      if [ -n "$driver" ]; then
        # loop, ns per operation -> the CSV below, the loop as allocator
        "${bench[$name-$i]}" --time 7 |
          awk -v name="$name" -v layout="$i" -v run="$run" \
            '{ print name "," layout "," run "," $1 ",driver," $2 }' >>"$out"
        continue
      fi
      "${bench[$name-$i]}" -a "$allocators" -w "$workloads" -f csv -r 7 2>/dev/null |
        awk -F, -v name="$name" -v layout="$i" -v run="$run" \
          '$1 == "allocators" && $4 == "ok" { print name "," layout "," run "," $2 "," $3 "," $6 }' >>"$out"
    done
  done
done

/usr/bin/python3 - "$out" "$driver" <<'PY'
import collections, csv, math, sys

rows = list(csv.reader(open(sys.argv[1])))
driver = sys.argv[2] == "1"
ns_of = {(r[0], r[1], r[2], r[3], r[4]): float(r[5]) for r in rows}

def floor_of(alloc):
    """The loop an allocator's loop is divided by."""
    if not driver:
        return "floor-call"
    family = alloc.split("_")[0]
    inline = alloc.endswith("_inline")
    return {"run": ("run_floor_inline", "run_floor_call"),
            "churn": ("churn_free_list_inline", "churn_free_list_call"),
            "frames": ("frames_floor_inline", "frames_floor_call")}[family][0 if inline else 1]

floors = {floor_of(r[3]) for r in rows}
ratios = collections.defaultdict(list)
for name, layout, run, alloc, workload, ns in rows:
    if alloc in floors:
        continue
    ratios[(alloc, workload, name)].append(
        float(ns) / ns_of[(name, layout, run, floor_of(alloc), workload)])

def mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))

print("x the %s, geometric mean over layouts and runs"
      % ("loop's floor" if driver else "exported-call floor"))
print("%-24s %-18s %8s %8s %9s" % ("allocator", "workload", "old", "new", "new/old"))
keys = sorted({(a, w) for a, w, _ in ratios})
for alloc, workload in keys:
    o, n = ratios.get((alloc, workload, "old")), ratios.get((alloc, workload, "new"))
    if not o or not n:
        continue
    print("%-24s %-18s %8.3f %8.3f %9.3f" % (alloc, workload, mean(o), mean(n), mean(n) / mean(o)))

raw = collections.defaultdict(list)
for name, layout, run, alloc, workload, ns in rows:
    raw[(alloc, workload, name)].append(float(ns))
print("\nns per operation, geometric mean over layouts and runs")
for alloc, workload in sorted({(a, w) for a, w, _ in raw}):
    o, n = raw.get((alloc, workload, "old")), raw.get((alloc, workload, "new"))
    if o and n:
        print("%-24s %-18s %8.3f %8.3f %9.3f" % (alloc, workload, mean(o), mean(n), mean(n) / mean(o)))
PY
