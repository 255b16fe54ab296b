-- The done-ledger: one row per (tenant, policy, ovid), merged as a lattice
-- (docs/contract.md §4). Unsigned values the merge compares are stored as
-- value - 2^63 (sign bit flipped) so bigint order is u64 order; run and
-- shard ids are stored as their bits read as signed, the contract's
-- tie-break order (§4.2).
CREATE TABLE done_ledger (
    tenant         bytea    NOT NULL CHECK (octet_length(tenant) = 32),
    policy         bytea    NOT NULL CHECK (octet_length(policy) = 32),
    ovid           bytea    NOT NULL CHECK (octet_length(ovid) = 32),
    status         smallint NOT NULL CHECK (status IN (1, 2, 3, 10, 11)),
    bytes_scanned  bigint   NOT NULL,
    findings_count bigint   NOT NULL CHECK (findings_count BETWEEN 0 AND 4294967295),
    run_id         bigint   NOT NULL,
    shard_id       bigint   NOT NULL,
    fence_epoch    bigint   NOT NULL,
    started_at     bigint   NOT NULL,
    finished_at    bigint   NOT NULL,
    -- "C": the tie-break compares codes byte by byte.
    error_code     text COLLATE "C",
    PRIMARY KEY (tenant, policy, ovid)
);

-- list-done-hashes and count-done-hashes read only the terminal rows of a
-- scope (every status but FailedRetryable, rank 1), in ovid order.
CREATE INDEX done_ledger_terminal ON done_ledger (tenant, policy, ovid) WHERE status <> 1;
