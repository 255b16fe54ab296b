//! Fast lowerings of store batches into guest memory.
//!
//! wasmtime lowers a `list<record>` field by field, re-resolving the guest
//! memory for every scalar; for 1,000-row batches that was over half of the
//! component's write time. The row wrappers here lower the same record
//! layouts with one memory lookup per list: they write every string first
//! (each may reallocate, i.e. move, guest memory), then all fixed-size fields
//! (and `none` discriminants) through a single slice.
//!
//! Soundness rests on each wrapper's `ComponentType` being delegated to the
//! generated record (so wasmtime's type check is exactly the WIT record's)
//! and on the byte offsets in each `layout`, which the tests check against
//! the canonical-ABI layout wasmtime computes for that generated type.

mod done;
pub(crate) mod findings;

// `layout` is the done-record's, as before the findings rows existed.
pub(crate) use done::{DoneRow, layout};
pub(crate) use findings::{FindingRow, ObservationRow, OccurrenceRow};

use wasmtime::component::__internal::{InterfaceType, LowerContext};

/// A row lowered in two passes (see the module docs).
pub(crate) trait TwoPassRow: Sized {
    /// The record's canonical-ABI size (32-bit memory).
    const SIZE: usize;
    /// The WIT record's name, for errors.
    const RECORD: &'static str;

    /// Lowers the strings of `items`, whose list starts at `offset`, each
    /// into its own allocation, with its pointer and length in the row.
    /// Writes nothing else, so the fixed pass may come after it.
    fn lower_strings<T>(
        _cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        _offset: usize,
        _items: &[Self],
    ) -> wasmtime::Result<()> {
        Ok(())
    }

    /// Writes every byte of `slot` (one row) that the string pass did not.
    fn write_fixed(&self, slot: &mut [u8]);
}

/// The shared `linear_store_list_to_memory`: strings, then one window for
/// every fixed field of the list.
pub(crate) fn store_list<R: TwoPassRow, T>(
    cx: &mut LowerContext<'_, T>,
    ty: InterfaceType,
    offset: usize,
    items: &[R],
) -> wasmtime::Result<()> {
    R::lower_strings(cx, ty, offset, items)?;
    let end = items
        .len()
        .checked_mul(R::SIZE)
        .and_then(|n| n.checked_add(offset))
        .ok_or_else(|| wasmtime::Error::msg(format!("{} list size overflows", R::RECORD)))?;
    let window = cx
        .as_slice_mut()
        .get_mut(offset..end)
        .ok_or_else(|| wasmtime::Error::msg(format!("{} list lies outside guest memory", R::RECORD)))?;
    for (row, slot) in items.iter().zip(window.chunks_exact_mut(R::SIZE)) {
        row.write_fixed(slot);
    }
    Ok(())
}

/// Copies `bytes` into `slot` at `at`. Offsets are the layout constants,
/// checked by the tests, and `slot` is one row, so this stays in bounds.
fn put(slot: &mut [u8], at: usize, bytes: &[u8]) {
    slot[at..at + bytes.len()].copy_from_slice(bytes);
}

/// A `digest` is four little-endian words, so in memory it is the id's own bytes.
fn put_digest(slot: &mut [u8], at: usize, id: &[u8; 32]) {
    put(slot, at, id);
}

/// Implements `ComponentType` and `Lower` for a row wrapper `$row<'_>(&native)`:
/// type and ABI are `$generated`'s, lists go through [`store_list`], and a
/// lone row lowered flat is converted with `$convert` (only a record passed
/// as a direct parameter is; never on a hot path).
macro_rules! two_pass_row {
    ($row:ident, $generated:ty, $convert:path) => {
        // SAFETY: the type, its ABI and its check are exactly those of the
        // generated record, which wasmtime derived from the WIT definition.
        unsafe impl wasmtime::component::ComponentType for $row<'_> {
            type Lower = <$generated as wasmtime::component::ComponentType>::Lower;
            const ABI: wasmtime::component::__internal::CanonicalAbiInfo =
                <$generated as wasmtime::component::ComponentType>::ABI;

            fn typecheck(
                ty: &wasmtime::component::__internal::InterfaceType,
                types: &wasmtime::component::__internal::InstanceType<'_>,
            ) -> wasmtime::Result<()> {
                <$generated as wasmtime::component::ComponentType>::typecheck(ty, types)
            }
        }

        // SAFETY: `store_list` writes only inside the list window wasmtime
        // allocated for `items` (it checks), at the offsets of the canonical
        // layout; strings go through wasmtime's own lowering.
        unsafe impl wasmtime::component::Lower for $row<'_> {
            fn linear_lower_to_flat<T>(
                &self,
                cx: &mut wasmtime::component::__internal::LowerContext<'_, T>,
                ty: wasmtime::component::__internal::InterfaceType,
                dst: &mut core::mem::MaybeUninit<Self::Lower>,
            ) -> wasmtime::Result<()> {
                wasmtime::component::Lower::linear_lower_to_flat(&$convert(self.0), cx, ty, dst)
            }

            fn linear_lower_to_memory<T>(
                &self,
                cx: &mut wasmtime::component::__internal::LowerContext<'_, T>,
                ty: wasmtime::component::__internal::InterfaceType,
                offset: usize,
            ) -> wasmtime::Result<()> {
                $crate::lower::store_list(cx, ty, offset, core::slice::from_ref(self))
            }

            fn linear_store_list_to_memory<T>(
                cx: &mut wasmtime::component::__internal::LowerContext<'_, T>,
                ty: wasmtime::component::__internal::InterfaceType,
                offset: usize,
                items: &[Self],
            ) -> wasmtime::Result<()> {
                $crate::lower::store_list(cx, ty, offset, items)
            }
        }
    };
}
pub(crate) use two_pass_row;
