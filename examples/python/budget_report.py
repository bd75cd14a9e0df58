# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tree of memory budgets bounds what a growing bump allocator may take
from the system, and the allocator's report shows where its memory went."""
import json
import sys

import gi
gi.require_version('Nebula', '1')
from gi.repository import GLib, Nebula

RECORD_SIZE = 304   # a C struct of a name, a score and a payload


def show_budgets(when):
    print(f'{when}: requests {requests.props.used} of {requests.props.limit}, '
          f'app {app.props.used} of {app.props.limit} bytes')


# The whole application may hold 256 KiB, no single charge above 64 KiB;
# request handling gets at most 32 KiB of that.
app = Nebula.MemoryBudget.new('app', 256 * 1024)
app.props.per_allocation_limit = 64 * 1024
requests = app.new_child('requests', 32 * 1024)
requests.connect('limit-reached',
                 lambda budget, requested:
                 print(f"'{budget.props.name}' reached its limit: refused {requested} bytes"))

# The first chunk is charged when the allocator is built.
arena = Nebula.BumpAllocator(capacity=4096, max_capacity=64 * 1024,
                             budget=requests, name='request-arena')
show_budgets('built')

# Twenty records outgrow the first chunk: the next one, twice as large, is
# charged to both budgets.
for _ in range(20):
    arena.allocate(RECORD_SIZE)
show_budgets('20 records')

# Above large-allocation-threshold (half the capacity), a request gets a
# chunk of its own, charged as it is taken.
arena.allocate(10000)
show_budgets('a 10000-byte buffer')

# The next one would take 'requests' over its limit: refused, and nothing
# changes.
try:
    arena.allocate(16000)
    sys.exit('the budget did not refuse')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.BUDGET_EXCEEDED)
    print(f'refused: {e.message}')
    print(f'  retryable: {"yes" if Nebula.error_is_retryable(e) else "no"}')

# Memory that no Nebula allocator manages can be charged directly.
app.try_reserve(8192)
show_budgets('8192 bytes reserved')
app.release(8192)

try:
    app.try_reserve(100000)
    sys.exit('the budget did not refuse')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.BUDGET_EXCEEDED)
    print(f'refused: {e.message}')

# The report: a GLib.Variant dictionary (a{sv}); unpack() makes it a dict.
report = arena.get_report().unpack()
print(f"reserved {report['reserved']} bytes, fragmentation {report['fragmentation']:.3f}")
for chunk in report['chunks']:
    print(f"  {chunk['kind']:9} chunk: {chunk['size']:5} bytes, {chunk['used']:5} used")

# The same as JSON text, members sorted by name.
print(json.dumps(json.loads(arena.report_to_json()), indent=2))

# A reset keeps the largest chunk (reset-policy KEEP_LARGEST) and gives the
# others back to the budgets.
arena.reset()
show_budgets('after reset')
print(f'peak: requests {requests.props.peak}, app {app.props.peak} bytes')

del arena
show_budgets('after finalize')
sys.exit(0 if app.props.used == 0 else 1)
