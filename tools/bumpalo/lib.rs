// SPDX-License-Identifier: LGPL-2.1-or-later
//! nebula-bench's bumpalo peer: the trace replay of nebula-bench
//! (nebula_bench_replay() in nebula/nebula-benchmark-private.h) written in
//! Rust around one bumpalo::Bump, which a reset rewinds.

use bumpalo::Bump;
use std::alloc::Layout;

/// One operation of a trace: NebulaBenchOp.
#[repr(C)]
pub struct Op {
    size: u32,
    slot: u16,
    kind: u8,
    alignment_shift: u8,
}

const OP_ALLOC: u8 = 0;
const OP_FREE: u8 = 1;

/// A bump arena with a first chunk of `capacity` bytes.
#[no_mangle]
pub extern "C" fn nebula_bumpalo_new(capacity: usize) -> *mut Bump {
    Box::into_raw(Box::new(Bump::with_capacity(capacity)))
}

/// Frees an arena of nebula_bumpalo_new().
///
/// # Safety
/// `bump` comes from nebula_bumpalo_new() and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nebula_bumpalo_free(bump: *mut Bump) {
    if !bump.is_null() {
        drop(Box::from_raw(bump));
    }
}

/// Replays `n_ops` operations: an allocation writes a byte into its block
/// and keeps it in `slots`; a free does nothing (an arena frees at the
/// reset); a reset rewinds the arena. Returns true.
///
/// # Safety
/// `ops` holds `n_ops` operations whose slots index `slots`, and every
/// alignment is a power of two no larger than 4096.
#[no_mangle]
pub unsafe extern "C" fn nebula_bumpalo_replay(
    bump: *mut Bump,
    ops: *const Op,
    n_ops: usize,
    slots: *mut *mut u8,
) -> bool {
    let bump = &mut *bump;
    let ops = std::slice::from_raw_parts(ops, n_ops);

    for (i, op) in ops.iter().enumerate() {
        match op.kind {
            OP_ALLOC => {
                let layout =
                    Layout::from_size_align_unchecked(op.size as usize, 1usize << op.alignment_shift);
                let ptr = bump.alloc_layout(layout).as_ptr();
                ptr.write(i as u8);
                *slots.add(op.slot as usize) = ptr;
            }
            OP_FREE => {}
            _ => bump.reset(),
        }
    }
    true
}
