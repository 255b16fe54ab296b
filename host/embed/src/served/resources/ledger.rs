//! The served `done-ledger` and its writes.

#[allow(clippy::wildcard_imports)]
use super::*;

impl done_ledger::HostDoneWrite for ServedState {
    fn operation_id(&mut self, write: Resource<DoneWrite>) -> wasmtime::Result<u64> {
        // No `store-error` to answer with: an unknown handle (a host bug,
        // see the module docs) traps the call instead.
        Ok(self.table.get(&write)?.0.op_id)
    }

    fn poll(
        &mut self,
        write: Resource<DoneWrite>,
    ) -> wasmtime::Result<Option<Result<wit::DoneReceipt, wit::StoreError>>> {
        self.timed(|s| s.poll_write(LEDGER, &write, |w| &mut w.0, encode::done_receipt))
    }

    fn drop(&mut self, write: Resource<DoneWrite>) -> wasmtime::Result<()> {
        // Dropping cancels nothing: the write still applies; its outcome is discarded.
        let _ = self.table.delete(write);
        Ok(())
    }
}

impl done_ledger::HostDoneLedger for ServedState {
    fn new(&mut self) -> wasmtime::Result<Resource<LedgerHandle>> {
        Ok(self.table.push(LedgerHandle)?)
    }

    fn batch_get(
        &mut self,
        ledger: Resource<LedgerHandle>,
        tenant_id: wit::Digest,
        policy_hash: wit::Digest,
        ovid_hashes: Vec<wit::Digest>,
    ) -> Answer<Vec<Option<wit::DoneRecord>>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            // Before any key is converted, as the native store checks it before reading.
            if let Err(e) = check_read_size(ovid_hashes.len()) {
                return Ok(Err(refused(&e)));
            }
            let (tenant, policy) = inbound::scope(tenant_id, policy_hash);
            let result = s.ledger.batch_get(tenant, policy, &inbound::ovids(&ovid_hashes));
            answer(LEDGER, "batch-get", result, |rows| {
                rows.iter().map(|row| row.as_ref().map(convert::done_record)).collect()
            })
        })
    }

    fn list_done_hashes(
        &mut self,
        ledger: Resource<LedgerHandle>,
        tenant_id: wit::Digest,
        policy_hash: wit::Digest,
        after: Option<wit::Digest>,
        limit: u32,
    ) -> Answer<Vec<wit::Digest>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            let (tenant, policy) = inbound::scope(tenant_id, policy_hash);
            let result = s.ledger.list_done_hashes_page(tenant, policy, after.map(Decoder::ovid), limit as usize);
            answer(LEDGER, "list-done-hashes", result, |hashes| {
                hashes.iter().map(|h| convert::wit_digest(h.as_bytes())).collect()
            })
        })
    }

    fn count_done_hashes(
        &mut self,
        ledger: Resource<LedgerHandle>,
        tenant_id: wit::Digest,
        policy_hash: wit::Digest,
    ) -> Answer<Option<u64>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            let (tenant, policy) = inbound::scope(tenant_id, policy_hash);
            answer(LEDGER, "count-done-hashes", s.ledger.count_done_hashes(tenant, policy), |n| n.map(|n| n as u64))
        })
    }

    fn batch_upsert(
        &mut self,
        ledger: Resource<LedgerHandle>,
        records: Vec<wit::DoneRecord>,
    ) -> Answer<Resource<DoneWrite>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            // Before any record is converted, as the native store checks it first.
            if let Err(e) = check_batch_size(records.len()) {
                return Ok(Err(refused(&e)));
            }
            let rows = match records.into_iter().map(inbound::done_record).collect::<Result<Vec<_>, _>>() {
                Ok(rows) => rows,
                Err(refusal) => return Ok(Err(refusal)),
            };
            match answer(LEDGER, "batch-upsert", s.ledger.batch_upsert(&rows), |w| Write::new(LEDGER, w))? {
                Ok(write) => Ok(Ok(s.table.push(DoneWrite(write))?)),
                Err(error) => Ok(Err(error)),
            }
        })
    }

    fn get_record(&mut self, ledger: Resource<LedgerHandle>, key: wit::DoneKey) -> Answer<Option<wit::DoneRecord>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            answer(LEDGER, "get-record", s.ledger.get_record(&Decoder::key(&key)), |row| {
                row.as_ref().map(convert::done_record)
            })
        })
    }

    fn snapshot(
        &mut self,
        ledger: Resource<LedgerHandle>,
        after: Option<wit::DoneKey>,
        limit: u32,
    ) -> Answer<Vec<wit::DoneRecord>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            let after = after.as_ref().map(Decoder::key);
            answer(LEDGER, "snapshot", s.ledger.snapshot_page(after.as_ref(), limit as usize), |rows| {
                rows.iter().map(convert::done_record).collect()
            })
        })
    }

    fn drop(&mut self, ledger: Resource<LedgerHandle>) -> wasmtime::Result<()> {
        let _ = self.table.delete(ledger);
        Ok(())
    }
}

impl done_ledger::Host for ServedState {}
