#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds and runs tests/consumer, a Meson project that uses Nebula through
# dependency('nebula-1'), the ways a downstream project can get Nebula:
#
#   check-consumer.sh subproject
#       this checkout (with its uncommitted changes) as subprojects/nebula,
#       found through nebula.wrap as in docs/getting-started.md, built with
#       introspection, documentation and tests disabled
#   check-consumer.sh installed BUILD_DIR
#       `meson install` of BUILD_DIR into a temporary DESTDIR, found through
#       its nebula-1.pc (relocated there) and run with LD_LIBRARY_PATH
#   check-consumer.sh system
#       the nebula-1.pc pkg-config finds without help (e.g. the .debs)
#
# Several modes may be given; each gets its own temporary directory, which
# is removed at the end. Exit status 0 when every mode passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nebula-consumer.XXXXXX")
# NEBULA_CONSUMER_KEEP=1 keeps the temporary directory and its logs.
if [ -n "${NEBULA_CONSUMER_KEEP:-}" ]; then
  echo "check-consumer: working in $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

# The consumer's own sources, outside any Nebula tree.
new_project() {
  local dir=$1
  mkdir -p "$dir"
  cp "$here/meson.build" "$here/main.c" "$dir/"
}

# Configure, build and run the consumer; its output must name the
# refused alignment.
build_and_run() {
  local src=$1; shift
  meson setup "$src/_build" "$src" --wrap-mode=nodownload "$@" >"$src/setup.log" 2>&1 || {
    tail -n 40 "$src/setup.log" >&2
    return 1
  }
  meson compile -C "$src/_build" >"$src/compile.log" 2>&1 || {
    tail -n 40 "$src/compile.log" >&2
    return 1
  }
  local out
  out=$("$src/_build/nebula-consumer")
  printf '%s\n' "$out"
  grep -q '^nebula-consumer: bad alignment refused: ' <<<"$out"
}

# A copy of the checkout as git sees it (tracked and untracked-but-not-
# ignored files, as they are on disk), or of the whole tree without build
# trees when this is not a git checkout.
copy_checkout() {
  local dest=$1
  mkdir -p "$dest"
  # (A copy inside another checkout, like the one ./run test packages, is
  # not that checkout's top and is copied whole.)
  if [ "$(git -C "$root" rev-parse --show-toplevel 2>/dev/null)" = "$root" ]; then
    (cd "$root" &&
     git ls-files -z --cached --others --exclude-standard |
       while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
       tar --null -T - -cf -) | tar -xf - -C "$dest"
  else
    (cd "$root" && tar --exclude='./_build*' --exclude='./obj-*' --exclude=./.git -cf - .) |
      tar -xf - -C "$dest"
  fi
}

mode_subproject() {
  local src=$tmp/subproject
  new_project "$src"
  mkdir -p "$src/subprojects"
  copy_checkout "$src/subprojects/nebula"
  # The wrap file of docs/getting-started.md; the directory is there
  # already, so nothing is downloaded.
  cat >"$src/subprojects/nebula.wrap" <<'EOF'
[wrap-git]
url = https://gitlab.example.org/nebula/nebula.git
revision = v0.1.0
depth = 1

[provide]
nebula-1 = nebula_dep
EOF
  # Even where pkg-config would find an installed Nebula (the .debs).
  build_and_run "$src" --force-fallback-for=nebula-1 \
      -Dnebula:introspection=disabled -Dnebula:documentation=disabled -Dnebula:tests=disabled
  grep -q "Subproject nebula finished" "$src/setup.log" || {
    echo "check-consumer: Nebula was not built as a subproject" >&2
    return 1
  }
  # What the parent project installs of Nebula: the library, its headers
  # and nebula-1.pc; not the benchmark, nor bindings without a typelib.
  local extra
  extra=$(meson introspect --installed "$src/_build" |
            /usr/bin/python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin).values()))' |
            grep -Ev '/libnebula-1\.so(\.0(\.0\.0)?)?$|/include/nebula-1/[a-z-]+\.h$|/pkgconfig/nebula-1\.pc$|/nebula-consumer$' || true)
  if [ -n "$extra" ]; then
    printf 'check-consumer: the subproject installs more than the library:\n%s\n' "$extra" >&2
    return 1
  fi
}

mode_installed() {
  local build=$1 src=$tmp/installed destdir=$tmp/destdir
  new_project "$src"
  meson install -C "$build" --no-rebuild --quiet --destdir "$destdir" >/dev/null
  local pc
  pc=$(find "$destdir" -name nebula-1.pc -path '*/pkgconfig/*' | head -n 1)
  [ -n "$pc" ] || { echo "check-consumer: the install has no nebula-1.pc" >&2; return 1; }
  # The .pc says prefix=PREFIX; point it into DESTDIR (PKG_CONFIG_SYSROOT_DIR
  # would move GLib's paths too).
  local prefix libdir
  prefix=$(sed -n 's/^prefix=//p' "$pc")
  mkdir -p "$tmp/pkgconfig"
  sed "s|^prefix=.*|prefix=$destdir$prefix|" "$pc" >"$tmp/pkgconfig/nebula-1.pc"
  libdir=$(PKG_CONFIG_PATH=$tmp/pkgconfig pkg-config --variable=libdir nebula-1)
  [ -e "$libdir/libnebula-1.so.0" ] || {
    echo "check-consumer: no libnebula-1.so.0 in $libdir" >&2
    return 1
  }
  local linked
  PKG_CONFIG_PATH=$tmp/pkgconfig build_and_run "$src" --wrap-mode=nofallback &&
    LD_LIBRARY_PATH=$libdir "$src/_build/nebula-consumer" >/dev/null &&
    # The program must have run against the installed library. Not
    # `ldd | grep -q`: grep stops reading at the first match, and under
    # pipefail ldd's SIGPIPE would fail the check now and then.
    linked=$(LD_LIBRARY_PATH=$libdir ldd "$src/_build/nebula-consumer") &&
    grep -qF "$libdir/libnebula-1.so.0" <<<"$linked"
}

mode_system() {
  local src=$tmp/system
  new_project "$src"
  pkg-config --exists nebula-1 || { echo "check-consumer: pkg-config finds no nebula-1" >&2; return 1; }
  build_and_run "$src" --wrap-mode=nofallback
}

[ $# -gt 0 ] || { sed -n '4,17p' "$0" >&2; exit 2; }
failed=0
while [ $# -gt 0 ]; do
  mode=$1; shift
  case "$mode" in
    subproject|system) ;;
    installed)
      [ $# -gt 0 ] || { echo "check-consumer: installed needs a build directory" >&2; exit 2; }
      ;;
    *) echo "check-consumer: unknown mode '$mode'" >&2; exit 2 ;;
  esac
  if [ "$mode" = installed ]; then
    build=$1; shift
    set +e; (set -e; mode_installed "$build"); rc=$?; set -e
  else
    set +e; (set -e; "mode_$mode"); rc=$?; set -e
  fi
  if [ "$rc" -eq 0 ]; then
    echo "ok: the consumer builds and runs ($mode)"
  else
    echo "FAILED: the consumer ($mode)"
    failed=1
  fi
done
exit "$failed"
