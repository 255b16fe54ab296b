//! `findings-sink.upsert-batch`'s rows: `types.finding`, `types.occurrence`
//! and `types.observation`.

use gossip_persistence::findings::{FindingRecord, ObservationRecord, OccurrenceRecord};
use wasmtime::component::__internal::{InterfaceType, LowerContext};
use wasmtime::component::Lower;

use super::{TwoPassRow, put, put_digest, two_pass_row};
use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert;

/// Byte offsets of the findings records' fields in the canonical ABI (32-bit memory).
pub(crate) mod layout {
    /// `finding`: five digests.
    pub(crate) mod finding {
        pub(crate) const TENANT_ID: usize = 0;
        pub(crate) const FINDING_ID: usize = 32;
        pub(crate) const STABLE_ITEM_ID: usize = 64;
        pub(crate) const RULE_FINGERPRINT: usize = 96;
        pub(crate) const SECRET_HASH: usize = 128;
        pub(crate) const SIZE: usize = 160;
    }

    /// `occurrence`: four digests and the span.
    pub(crate) mod occurrence {
        pub(crate) const TENANT_ID: usize = 0;
        pub(crate) const OCCURRENCE_ID: usize = 32;
        pub(crate) const FINDING_ID: usize = 64;
        pub(crate) const OBJECT_VERSION_ID: usize = 96;
        pub(crate) const BYTE_OFFSET: usize = 128;
        pub(crate) const BYTE_LENGTH: usize = 136;
        pub(crate) const SIZE: usize = 144;
    }

    /// `observation`: five digests, four words and `option<location>`.
    pub(crate) mod observation {
        pub(crate) const TENANT_ID: usize = 0;
        pub(crate) const OBSERVATION_ID: usize = 32;
        pub(crate) const OCCURRENCE_ID: usize = 64;
        pub(crate) const POLICY_HASH: usize = 96;
        pub(crate) const OVID_HASH: usize = 128;
        pub(crate) const RUN_ID: usize = 160;
        pub(crate) const SHARD_ID: usize = 168;
        pub(crate) const FENCE_EPOCH: usize = 176;
        pub(crate) const SEEN_AT: usize = 184;
        /// The `option<location>` discriminant.
        pub(crate) const LOCATION: usize = 192;
        /// `location.display`: a string's pointer and length.
        pub(crate) const DISPLAY: usize = LOCATION + 4;
        /// The `location.url` discriminant.
        pub(crate) const URL: usize = DISPLAY + 8;
        /// `location.url`'s string: pointer and length.
        pub(crate) const URL_STRING: usize = URL + 4;
        pub(crate) const SIZE: usize = 216;
    }
}

/// A native finding, lowered as a WIT `finding` without converting it.
#[derive(Clone, Copy)]
pub(crate) struct FindingRow<'a>(pub(crate) &'a FindingRecord);

/// A native occurrence, lowered as a WIT `occurrence` without converting it.
#[derive(Clone, Copy)]
pub(crate) struct OccurrenceRow<'a>(pub(crate) &'a OccurrenceRecord);

/// A native observation, lowered as a WIT `observation` without converting it.
#[derive(Clone, Copy)]
pub(crate) struct ObservationRow<'a>(pub(crate) &'a ObservationRecord);

two_pass_row!(FindingRow, wit::Finding, convert::finding);
two_pass_row!(OccurrenceRow, wit::Occurrence, convert::occurrence);
two_pass_row!(ObservationRow, wit::Observation, convert::observation);

impl TwoPassRow for FindingRow<'_> {
    const SIZE: usize = layout::finding::SIZE;
    const RECORD: &'static str = "finding";

    fn write_fixed(&self, slot: &mut [u8]) {
        use layout::finding::*;
        let f = self.0;
        put_digest(slot, TENANT_ID, f.tenant_id().as_bytes());
        put_digest(slot, FINDING_ID, f.finding_id().as_bytes());
        put_digest(slot, STABLE_ITEM_ID, f.stable_item_id().as_bytes());
        put_digest(slot, RULE_FINGERPRINT, f.rule_fingerprint().as_bytes());
        put_digest(slot, SECRET_HASH, f.secret_hash().as_bytes());
    }
}

impl TwoPassRow for OccurrenceRow<'_> {
    const SIZE: usize = layout::occurrence::SIZE;
    const RECORD: &'static str = "occurrence";

    fn write_fixed(&self, slot: &mut [u8]) {
        use layout::occurrence::*;
        let o = self.0;
        put_digest(slot, TENANT_ID, o.tenant_id().as_bytes());
        put_digest(slot, OCCURRENCE_ID, o.occurrence_id().as_bytes());
        put_digest(slot, FINDING_ID, o.finding_id().as_bytes());
        put_digest(slot, OBJECT_VERSION_ID, o.object_version_id().as_bytes());
        put(slot, BYTE_OFFSET, &o.byte_offset().to_le_bytes());
        put(slot, BYTE_LENGTH, &o.byte_length().get().to_le_bytes());
    }
}

impl TwoPassRow for ObservationRow<'_> {
    const SIZE: usize = layout::observation::SIZE;
    const RECORD: &'static str = "observation";

    /// A string's canonical ABI is the same whatever record holds it, so the
    /// strings are lowered as plain `string`s at their layout offsets; the
    /// record's type check already proved both fields are strings.
    fn lower_strings<T>(
        cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        offset: usize,
        items: &[Self],
    ) -> wasmtime::Result<()> {
        use layout::observation::*;
        for (i, row) in items.iter().enumerate() {
            if let Some(location) = row.0.location() {
                let at = offset + i * SIZE;
                location.display().linear_lower_to_memory(cx, InterfaceType::String, at + DISPLAY)?;
                if let Some(url) = location.url() {
                    url.linear_lower_to_memory(cx, InterfaceType::String, at + URL_STRING)?;
                }
            }
        }
        Ok(())
    }

    fn write_fixed(&self, slot: &mut [u8]) {
        use layout::observation::*;
        let o = self.0;
        put_digest(slot, TENANT_ID, o.tenant_id().as_bytes());
        put_digest(slot, OBSERVATION_ID, o.observation_id().as_bytes());
        put_digest(slot, OCCURRENCE_ID, o.occurrence_id().as_bytes());
        put_digest(slot, POLICY_HASH, o.policy_hash().as_bytes());
        put_digest(slot, OVID_HASH, o.ovid_hash().as_bytes());
        put(slot, RUN_ID, &o.run_id().as_raw().to_le_bytes());
        put(slot, SHARD_ID, &o.shard_id().as_raw().to_le_bytes());
        put(slot, FENCE_EPOCH, &o.fence_epoch().as_raw().to_le_bytes());
        put(slot, SEEN_AT, &o.seen_at().as_raw().to_le_bytes());
        // Discriminants only: the string pass wrote every pointer and length.
        match o.location() {
            None => put(slot, LOCATION, &[0]),
            Some(location) => {
                put(slot, LOCATION, &[1]);
                put(slot, URL, &[u8::from(location.url().is_some())]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::layout::{finding, observation, occurrence};
    use crate::bindings::exports::gossip::persistence::types as wit;
    use wasmtime::component::__internal::{CanonicalAbiInfo, ComponentVariant};
    use wasmtime::component::ComponentType;

    /// Offsets of consecutive fields with these ABIs, as wasmtime lays out a record.
    fn offsets(fields: &[CanonicalAbiInfo]) -> Vec<usize> {
        let mut offset = 0usize;
        fields.iter().map(|abi| abi.next_field32_size(&mut offset)).collect()
    }

    const DIGEST: CanonicalAbiInfo = <wit::Digest as ComponentType>::ABI;
    const U64: CanonicalAbiInfo = <u64 as ComponentType>::ABI;

    #[test]
    fn finding_offsets_match_the_canonical_layout_of_the_generated_record() {
        use finding::*;
        assert_eq!(offsets(&[DIGEST; 5]), [TENANT_ID, FINDING_ID, STABLE_ITEM_ID, RULE_FINGERPRINT, SECRET_HASH]);
        assert_eq!(<wit::Finding as ComponentType>::SIZE32, SIZE);
    }

    #[test]
    fn occurrence_offsets_match_the_canonical_layout_of_the_generated_record() {
        use occurrence::*;
        assert_eq!(
            offsets(&[DIGEST, DIGEST, DIGEST, DIGEST, U64, U64]),
            [TENANT_ID, OCCURRENCE_ID, FINDING_ID, OBJECT_VERSION_ID, BYTE_OFFSET, BYTE_LENGTH]
        );
        assert_eq!(<wit::Occurrence as ComponentType>::SIZE32, SIZE);
    }

    #[test]
    fn observation_offsets_match_the_canonical_layout_of_the_generated_record() {
        use observation::*;
        let location = <Option<wit::Location> as ComponentType>::ABI;
        assert_eq!(
            offsets(&[DIGEST, DIGEST, DIGEST, DIGEST, DIGEST, U64, U64, U64, U64, location]),
            [
                TENANT_ID,
                OBSERVATION_ID,
                OCCURRENCE_ID,
                POLICY_HASH,
                OVID_HASH,
                RUN_ID,
                SHARD_ID,
                FENCE_EPOCH,
                SEEN_AT,
                LOCATION
            ]
        );
        assert_eq!(<wit::Observation as ComponentType>::SIZE32, SIZE);
        // Inside the location: the option's payload, then the record's fields.
        let payload = LOCATION + <Option<wit::Location> as ComponentVariant>::PAYLOAD_OFFSET32;
        let fields = offsets(&[<String as ComponentType>::ABI, <Option<String> as ComponentType>::ABI]);
        assert_eq!([payload + fields[0], payload + fields[1]], [DISPLAY, URL]);
        assert_eq!(URL + <Option<String> as ComponentVariant>::PAYLOAD_OFFSET32, URL_STRING);
        assert_eq!(<wit::Location as ComponentType>::SIZE32, URL_STRING + 8 - DISPLAY);
    }
}
