//! The served `findings-sink` and its writes.

#[allow(clippy::wildcard_imports)]
use super::*;

impl findings::HostFindingsWrite for ServedState {
    fn operation_id(&mut self, write: Resource<FindingsWrite>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&write)?.0.op_id)
    }

    fn poll(
        &mut self,
        write: Resource<FindingsWrite>,
    ) -> wasmtime::Result<Option<Result<wit::FindingsReceipt, wit::StoreError>>> {
        self.timed(|s| s.poll_write(SINK, &write, |w| &mut w.0, encode::findings_receipt))
    }

    fn drop(&mut self, write: Resource<FindingsWrite>) -> wasmtime::Result<()> {
        let _ = self.table.delete(write);
        Ok(())
    }
}

fn tenant(digest: wit::Digest) -> TenantId {
    TenantId::from_bytes(convert::digest(digest))
}

impl findings::HostFindingsSink for ServedState {
    fn new(&mut self) -> wasmtime::Result<Resource<SinkHandle>> {
        Ok(self.table.push(SinkHandle)?)
    }

    fn upsert_batch(
        &mut self,
        sink: Resource<SinkHandle>,
        findings: Vec<wit::Finding>,
        occurrences: Vec<wit::Occurrence>,
        observations: Vec<wit::Observation>,
    ) -> Answer<Resource<FindingsWrite>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            if let Err(e) = check_batch_size(findings.len() + occurrences.len() + observations.len()) {
                return Ok(Err(refused(&e)));
            }
            let (findings, occurrences, observations) =
                match inbound::findings_batch(&findings, &occurrences, &observations) {
                    Ok(rows) => rows,
                    Err(refusal) => return Ok(Err(refusal)),
                };
            let batch = FindingsUpsertBatch::new(&findings, &occurrences, &observations);
            match answer(SINK, "upsert-batch", s.sink.upsert_batch(batch), |w| Write::new(SINK, w))? {
                Ok(write) => Ok(Ok(s.table.push(FindingsWrite(write))?)),
                Err(error) => Ok(Err(error)),
            }
        })
    }

    fn durable_counts(&mut self, sink: Resource<SinkHandle>) -> Answer<wit::DurableCounts> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            answer(SINK, "durable-counts", s.sink.durable_counts(), |c| encode::counts(&c))
        })
    }

    fn get_finding(
        &mut self,
        sink: Resource<SinkHandle>,
        tenant_id: wit::Digest,
        finding_id: wit::Digest,
    ) -> Answer<Option<wit::Finding>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let id = FindingId::from_bytes(convert::digest(finding_id));
            answer(SINK, "get-finding", s.sink.get_finding(tenant(tenant_id), id), |row| {
                row.as_ref().map(convert::finding)
            })
        })
    }

    fn get_occurrence(
        &mut self,
        sink: Resource<SinkHandle>,
        tenant_id: wit::Digest,
        occurrence_id: wit::Digest,
    ) -> Answer<Option<wit::Occurrence>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let id = OccurrenceId::from_bytes(convert::digest(occurrence_id));
            answer(SINK, "get-occurrence", s.sink.get_occurrence(tenant(tenant_id), id), |row| {
                row.as_ref().map(convert::occurrence)
            })
        })
    }

    fn get_observation(
        &mut self,
        sink: Resource<SinkHandle>,
        tenant_id: wit::Digest,
        observation_id: wit::Digest,
    ) -> Answer<Option<wit::Observation>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let id = ObservationId::from_bytes(convert::digest(observation_id));
            answer(SINK, "get-observation", s.sink.get_observation(tenant(tenant_id), id), |row| {
                row.as_ref().map(convert::observation)
            })
        })
    }

    fn findings_snapshot(
        &mut self,
        sink: Resource<SinkHandle>,
        after: Option<wit::FindingRef>,
        limit: u32,
    ) -> Answer<Vec<wit::Finding>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let after = after.map(|r| (tenant(r.tenant_id), FindingId::from_bytes(convert::digest(r.finding_id))));
            answer(SINK, "findings-snapshot", s.sink.findings_page(after, limit as usize), |rows| {
                rows.iter().map(convert::finding).collect()
            })
        })
    }

    fn occurrences_snapshot(
        &mut self,
        sink: Resource<SinkHandle>,
        after: Option<wit::OccurrenceRef>,
        limit: u32,
    ) -> Answer<Vec<wit::Occurrence>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let after =
                after.map(|r| (tenant(r.tenant_id), OccurrenceId::from_bytes(convert::digest(r.occurrence_id))));
            answer(SINK, "occurrences-snapshot", s.sink.occurrences_page(after, limit as usize), |rows| {
                rows.iter().map(convert::occurrence).collect()
            })
        })
    }

    fn observations_snapshot(
        &mut self,
        sink: Resource<SinkHandle>,
        after: Option<wit::ObservationRef>,
        limit: u32,
    ) -> Answer<Vec<wit::Observation>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let after =
                after.map(|r| (tenant(r.tenant_id), ObservationId::from_bytes(convert::digest(r.observation_id))));
            answer(SINK, "observations-snapshot", s.sink.observations_page(after, limit as usize), |rows| {
                rows.iter().map(convert::observation).collect()
            })
        })
    }

    fn drop(&mut self, sink: Resource<SinkHandle>) -> wasmtime::Result<()> {
        let _ = self.table.delete(sink);
        Ok(())
    }
}

impl findings::Host for ServedState {}
