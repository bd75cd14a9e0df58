/* getting-started.vala: a bump allocator, an array, statistics.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

int main () {
    try {
        /* Construction validates the configuration: a bad property throws. */
        var bump = (Nebula.BumpAllocator) GLib.Initable.new (typeof (Nebula.BumpAllocator), null,
                                                             "capacity", (uint64) 4096,
                                                             "name", "getting-started");
        print ("capacity: %" + uint64.FORMAT + " bytes\n", bump.get_capacity ());

        /* Room for ten 16-byte points aligned to 8; 10 * 16 is overflow-checked. */
        uint64 address = bump.allocate_array_address (10, 16, 8, false);
        print ("aligned to 8: %s\n", (address % 8 == 0).to_string ());
        print ("bytes in use: %" + uint64.FORMAT + "\n", bump.bytes_used);

        /* One call frees everything. */
        bump.reset ();
        var stats = bump.get_stats ();
        print ("after reset: %" + uint64.FORMAT + " bytes in use, %" + uint64.FORMAT
               + " allocation, %" + uint64.FORMAT + " reset\n",
               bump.bytes_used, stats.allocations, stats.resets);
    } catch (GLib.Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }
    return 0;
}
