# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pool of worker threads sharing one thread-safe MultiPoolAllocator,
the place GSlice code goes: blocks of many sizes, each freed on its own
with the size it was allocated with, some of them on another thread than
the one that allocated them."""
import threading

import gi
gi.require_version('Nebula', '1')
from gi.repository import GLib, Nebula

N_WORKERS = 4
N_JOBS = 1000
KEEP_EVERY = 10  # every tenth result goes back to the main thread


def job_size(worker, job):
    return 8 + (worker * 7919 + job * 131) % 992


class Worker(threading.Thread):
    def __init__(self, multi, worker_id):
        super().__init__()
        self.multi = multi
        self.id = worker_id
        self.checksum = 0
        self.failures = 0
        self.kept = []

    def run(self):
        for job in range(N_JOBS):
            size = job_size(self.id, job)
            try:
                address = self.multi.allocate(size, 8)
            except GLib.Error:
                self.failures += 1
                continue
            byte = (self.id + job) & 0xFF
            view = self.multi.view(address, size)
            view[:] = bytes([byte]) * size
            self.checksum += view[size - 1]
            if job % KEEP_EVERY == 0:
                # The result goes to the main thread, which frees it.
                self.kept.append((address, size))
            else:
                self.multi.deallocate(address, size, 8)


# Thread-safe by default, as GSlice was: each thread keeps a magazine of
# free blocks per size class.
multi = Nebula.MultiPoolAllocator(name='workers')
print(f'{multi.get_n_classes()} size classes up to {multi.get_class_size(1024)} bytes; '
      f'100 bytes take a block of {multi.get_class_size(100)}')

workers = [Worker(multi, i) for i in range(N_WORKERS)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
    print(f'worker {worker.id}: {N_JOBS} jobs, checksum {worker.checksum}, '
          f'{worker.failures} failures')

# Frees on another thread than the allocating one are fine.
freed = 0
for worker in workers:
    for address, size in worker.kept:
        multi.deallocate(address, size, 8)
        freed += 1
print(f'main thread freed {freed} results')

stats = multi.get_stats()
classes = multi.get_report().unpack()['classes']
print(f'{stats.allocations} allocations, {stats.deallocations} frees, '
      f'{stats.bytes_in_use} bytes in use, {len(classes)} classes used')

# A block must be freed with the size it was allocated with: 40 bytes are a
# block of the 48-byte class, 100 bytes picks the 112-byte one.
address = multi.allocate(40, 8)
try:
    multi.deallocate(address, 100, 8)
except GLib.Error as error:
    # Addresses change from run to run; print a name in their place.
    print(f'error: {error.message.replace(f"{address:#x}", "<block>")}')
    print(f'  suggestion: {error.suggestion}')
if multi.deallocate(address, 40, 8):
    print('freed with its own size: ok')
