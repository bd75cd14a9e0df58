#!/bin/sh
# build.sh SOURCE_DIR WORK_DIR OUTPUT: builds the bumpalo peer (Cargo.toml,
# lib.rs) offline against Debian's crate registry (librust-bumpalo-dev) and
# copies the static library to OUTPUT. Nothing is written outside WORK_DIR.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
src=$1
work=$2
case $3 in
  /*) out=$3 ;;
  *) out=$PWD/$3 ;;
esac

mkdir -p "$work/crate/.cargo"
cp "$src/Cargo.toml" "$src/lib.rs" "$work/crate/"
# A lock file another cargo wrote may be a format this one cannot read.
rm -f "$work/crate/Cargo.lock"
cat >"$work/crate/.cargo/config.toml" <<'CONFIG'
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
CONFIG

# The rustc beside this cargo: a rustup proxy on PATH needs the user's
# HOME, which a package build replaces.
cargo=${CARGO:-cargo}
rustc=$(dirname "$(command -v "$cargo")")/rustc
if [ -x "$rustc" ]; then
  RUSTC=$rustc
  export RUSTC
fi

cd "$work/crate"
CARGO_HOME="$work/cargo-home" "$cargo" build --release --offline --quiet --target-dir "$work/target"
cp "$work/target/release/libnebula_bench_bumpalo.a" "$out"
