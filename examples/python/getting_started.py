# SPDX-License-Identifier: LGPL-2.1-or-later
"""Getting started: a bump allocator, a typed array, statistics."""
import ctypes

import gi
gi.require_version('Nebula', '1')
from gi.repository import Nebula


class Point(ctypes.Structure):
    _fields_ = [('x', ctypes.c_double), ('y', ctypes.c_double)]


# Construction validates the configuration: a bad property raises GLib.Error.
bump = Nebula.BumpAllocator(capacity=4096, name='getting-started')
print(f'capacity: {bump.props.capacity} bytes')

# Ten points, aligned for Point; 10 * sizeof(Point) is overflow-checked.
address = bump.allocate_array(10, ctypes.sizeof(Point), ctypes.alignment(Point))
points = (Point * 10).from_buffer(bump.view(address, 10 * ctypes.sizeof(Point)))
for i, point in enumerate(points):
    point.x, point.y = i, 2 * i
print(f'sum of 10 points: {sum(p.x + p.y for p in points):g}')
print(f'bytes in use: {bump.props.bytes_used}')

# One call frees everything.
del points
bump.reset()
stats = bump.stats
print(f'after reset: {bump.props.bytes_used} bytes in use, '
      f'{stats.allocations} allocation, {stats.resets} reset')
