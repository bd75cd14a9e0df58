#!/bin/sh
# fuzz-smoke.sh TARGET SEED_CORPUS WORK_CORPUS
# Runs a libFuzzer target for FUZZ_SECONDS (default 60) seconds, starting
# from the seed corpus in the source tree; new inputs go to WORK_CORPUS in
# the build tree, so the checkout is never written; a finding is saved in
# WORK_CORPUS.findings/. Exits non-zero on any finding (crash, model
# mismatch, leak, sanitizer report, timeout).
set -eu
target=$1
seeds=$2
work=$3
artifacts=$work.findings
mkdir -p "$work" "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# libFuzzer reports a finding with exit status 77 by default, which Meson
# would take for "skipped": ask for 1 (and 2 for a timeout) instead.
exec "$target" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=2 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$work" "$seeds"
