#!/usr/bin/env python3
# check-layers.py: no import circle among the parts of the library.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A part is a file stem in nebula/ without "-private": nebula-stats.c,
# nebula-stats-private.h and nebula-stats.h are the part nebula-stats. A
# part imports another when one of its files includes the other's private
# header (installed headers only declare types and public calls, and any
# file may include them). docs/architecture.md ("Layers") says which part
# sits on which; this test fails, naming the includes, when some parts
# import each other in a circle, or when the interface (nebula-allocator*)
# includes any header, public or private, of a built-in allocator: the
# dispatch knows built-ins only through their common core; or when a .c
# file reaches 1,000 lines.
#
# Usage: check-layers.py NEBULA_SOURCE_DIR

import collections
import os
import re
import sys


# Parts made of several files that call each other by design, named by
# their main file: a flight starts when a permit frees, its waiters detach
# from it, its failure feeds the key's breaker (docs/architecture.md, "The
# caches").
GROUPS = {
    "nebula-circuit-breaker": "nebula-compute-flight",
    "nebula-compute-permit": "nebula-compute-flight",
    "nebula-compute-waiter": "nebula-compute-flight",
}


def part(filename):
    stem = re.sub(r"\.(c|h|h\.in)$", "", filename)
    stem = re.sub(r"-private$", "", stem)
    return GROUPS.get(stem, stem)


def imports(directory):
    graph = collections.defaultdict(set)
    why = collections.defaultdict(list)
    for name in sorted(os.listdir(directory)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            text = f.read()
        for included in re.findall(r'^#include "([^"]+-private\.h)"', text, re.M):
            a, b = part(name), part(os.path.basename(included))
            if a != b:
                graph[a].add(b)
                why[(a, b)].append("%s includes %s" % (name, included))
    return graph, why


# Files hold one behaviour each: none reaches this many lines.
MAX_LINES = 1000

BUILT_INS = re.compile(r"^nebula-(bump|pool|stack|system)-allocator")


def interface_includes(directory):
    """Includes of a built-in's header by the interface's files."""
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.startswith("nebula-allocator") or not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            text = f.read()
        for included in re.findall(r'^#include "([^"]+)"', text, re.M):
            if BUILT_INS.match(os.path.basename(included)):
                found.append("%s includes %s" % (name, included))
    return found


def circles(graph):
    """The strongly connected components of more than one part (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    directory = sys.argv[1]
    graph, why = imports(directory)
    if not graph:
        print("check-layers: no private header is included in %s" % directory)
        return 1
    found = circles(graph)
    for component in found:
        print("These parts import each other in a circle: %s" % ", ".join(component))
        for a in component:
            for b in component:
                for line in why.get((a, b), ()):
                    print("  %s" % line)
    upward = interface_includes(directory)
    for name in sorted(os.listdir(directory)):
        if name.endswith(".c"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                n_lines = sum(1 for _ in f)
            if n_lines >= MAX_LINES:
                print("%s has %d lines: split it by behaviour (at most %d)" %
                      (name, n_lines, MAX_LINES - 1))
                upward.append(name)
    for line in upward:
        print("The interface includes a built-in allocator's header: %s" % line)
    if found or upward:
        return 1
    print("ok: %d parts, %d imports, no circle" %
          (len(set(graph) | {b for s in graph.values() for b in s}),
           sum(len(s) for s in graph.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
