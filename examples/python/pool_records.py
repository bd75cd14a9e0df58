# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pool of fixed-size records. Records come and go in any order, a freed
block is the next one handed out, and a double free is an error that leaves
the pool intact."""
import ctypes

import gi
gi.require_version('Nebula', '1')
from gi.repository import GLib, Nebula

Code = Nebula.AllocatorError


class Record(ctypes.Structure):
    _fields_ = [('id', ctypes.c_uint32),
                ('name', ctypes.c_char * 20),
                ('balance', ctypes.c_double)]


SIZE, ALIGNMENT = ctypes.sizeof(Record), ctypes.alignment(Record)
NAMES = ['alice', 'bob', 'carol', 'dave']


def show(error, address=None, name=None):
    # Addresses change from run to run; print a name in their place.
    message = error.message
    if address is not None:
        message = message.replace(f'{address:#x}', name)
    print(f'error: {message}')
    print(f'  suggestion: {error.suggestion}')


def record_new(pool, record_id, name, balance):
    """Returns the address of a new record; its fields are set through a
    ctypes view of the block."""
    address = pool.allocate(SIZE, ALIGNMENT)
    record = Record.from_buffer(pool.view(address, SIZE))
    record.id, record.name, record.balance = record_id, name.encode(), balance
    return address


def record_at(pool, address):
    return Record.from_buffer(pool.view(address, SIZE))


def blocks_in_use(pool):
    return pool.props.bytes_used // SIZE


# One block per record, four of them; the pool does not grow.
pool = Nebula.PoolAllocator(block_size=SIZE, block_alignment=ALIGNMENT,
                            block_count=len(NAMES), name='records')

records = [record_new(pool, i + 1, name, 10.5 * (i + 1)) for i, name in enumerate(NAMES)]
for address in records:
    record = record_at(pool, address)
    print(f'record {record.id}: {record.name.decode()}, balance {record.balance:.2f}')
print(f'{blocks_in_use(pool)} of {len(NAMES)} blocks in use')

# Every block is in use: the next record has to wait.
try:
    record_new(pool, 5, 'erin', 0)
    raise SystemExit('a fifth record fitted in four blocks')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Code.EXHAUSTED)
    show(e)

# Records leave in any order; a freed block is the next one handed out.
pool.deallocate(records[1], SIZE, ALIGNMENT)
print(f'bob left: {blocks_in_use(pool)} blocks in use')
erin = record_new(pool, 5, 'erin', 99.0)
record = record_at(pool, erin)
print(f"record {record.id}: {record.name.decode()} takes bob's block: "
      f"{'yes' if erin == records[1] else 'no'}")

# Freeing a block twice is refused, and the pool stays intact.
pool.deallocate(records[2], SIZE, ALIGNMENT)
print(f'carol left: {blocks_in_use(pool)} blocks in use')
try:
    pool.deallocate(records[2], SIZE, ALIGNMENT)
    raise SystemExit('a double free went unnoticed')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Code.DOUBLE_FREE)
    show(e, records[2], "<carol's block>")
print(f'still {blocks_in_use(pool)} blocks in use')

stats = pool.stats
print(f'{stats.allocations} allocations, {stats.deallocations} frees, '
      f'{stats.failed_allocations} failed allocation')

# One call gives every block back.
pool.reset()
print(f'after reset: {blocks_in_use(pool)} blocks in use')
