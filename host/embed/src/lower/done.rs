//! `done-ledger.batch-upsert`'s rows: `types.done-record`.

use gossip_persistence::done_ledger::DoneLedgerRecord;
use wasmtime::component::__internal::{InterfaceType, LowerContext, bad_type_info};
use wasmtime::component::Lower;

use super::{TwoPassRow, put, put_digest, two_pass_row};
use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert;

/// Byte offsets of `done-record` fields in the canonical ABI (32-bit memory).
pub(crate) mod layout {
    pub(crate) const KEY: usize = 0;
    pub(crate) const STATUS: usize = 96;
    pub(crate) const BYTES_SCANNED: usize = 104;
    pub(crate) const FINDINGS_COUNT: usize = 112;
    pub(crate) const PROVENANCE: usize = 120;
    pub(crate) const ERROR_CODE: usize = 160;
    pub(crate) const SIZE: usize = 176;
    /// Index of `error-code` among the record's fields.
    pub(crate) const ERROR_CODE_FIELD: usize = 5;
}

/// A native done row, lowered as a WIT `done-record` without converting it.
#[derive(Clone, Copy)]
pub(crate) struct DoneRow<'a>(pub(crate) &'a DoneLedgerRecord);

two_pass_row!(DoneRow, wit::DoneRecord, convert::done_record);

impl TwoPassRow for DoneRow<'_> {
    const SIZE: usize = layout::SIZE;
    const RECORD: &'static str = "done-record";

    fn lower_strings<T>(
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
        items: &[Self],
    ) -> wasmtime::Result<()> {
        let code_ty = match ty {
            InterfaceType::Record(record) => {
                cx.types[record].fields.get(layout::ERROR_CODE_FIELD).map_or_else(bad_type_info, |f| f.ty)
            }
            _ => bad_type_info(),
        };
        for (i, row) in items.iter().enumerate() {
            // `none` is a single zero byte, written with the fixed fields.
            if let Some(code) = row.0.error_code() {
                Some(code.as_str()).linear_lower_to_memory(
                    cx,
                    code_ty,
                    offset + i * layout::SIZE + layout::ERROR_CODE,
                )?;
            }
        }
        Ok(())
    }

    fn write_fixed(&self, slot: &mut [u8]) {
        use layout::*;
        let row = self.0;
        let key = row.key();
        let p = row.provenance();
        put_digest(slot, KEY, key.tenant_id().as_bytes());
        put_digest(slot, KEY + 32, key.policy_hash().as_bytes());
        put_digest(slot, KEY + 64, key.ovid_hash().as_bytes());
        put(slot, STATUS, &[row.status().rank()]);
        put(slot, BYTES_SCANNED, &row.bytes_scanned().to_le_bytes());
        put(slot, FINDINGS_COUNT, &row.findings_count().to_le_bytes());
        let words = [
            p.run_id().as_raw(),
            p.shard_id().as_raw(),
            p.fence_epoch().as_raw(),
            p.started_at().as_raw(),
            p.finished_at().as_raw(),
        ];
        for (i, word) in words.iter().enumerate() {
            put(slot, PROVENANCE + 8 * i, &word.to_le_bytes());
        }
        if row.error_code().is_none() {
            put(slot, ERROR_CODE, &[0]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::layout;
    use crate::bindings::exports::gossip::persistence::types as wit;
    use wasmtime::component::ComponentType;

    #[test]
    fn offsets_match_the_canonical_layout_of_the_generated_record() {
        let mut offset = 0usize;
        let mut next = |abi: wasmtime::component::__internal::CanonicalAbiInfo| abi.next_field32_size(&mut offset);
        assert_eq!(next(<wit::DoneKey as ComponentType>::ABI), layout::KEY);
        assert_eq!(next(<u8 as ComponentType>::ABI), layout::STATUS);
        assert_eq!(next(<u64 as ComponentType>::ABI), layout::BYTES_SCANNED);
        assert_eq!(next(<u32 as ComponentType>::ABI), layout::FINDINGS_COUNT);
        assert_eq!(next(<wit::Provenance as ComponentType>::ABI), layout::PROVENANCE);
        assert_eq!(next(<Option<String> as ComponentType>::ABI), layout::ERROR_CODE);
        assert_eq!(<wit::DoneRecord as ComponentType>::SIZE32, layout::SIZE);
        assert_eq!(<wit::DoneKey as ComponentType>::SIZE32, 96);
        assert_eq!(<wit::Provenance as ComponentType>::SIZE32, 40);
    }
}
