-- The findings layers (docs/contract.md §6): finding -< occurrence -<
-- observation, each keyed by (tenant, id). The foreign keys restate the
-- referential integrity the store checks before it writes.
CREATE TABLE findings (
    tenant           bytea NOT NULL CHECK (octet_length(tenant) = 32),
    finding_id       bytea NOT NULL CHECK (octet_length(finding_id) = 32),
    stable_item_id   bytea NOT NULL CHECK (octet_length(stable_item_id) = 32),
    rule_fingerprint bytea NOT NULL CHECK (octet_length(rule_fingerprint) = 32),
    secret_hash      bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    PRIMARY KEY (tenant, finding_id)
);

CREATE TABLE occurrences (
    tenant            bytea  NOT NULL CHECK (octet_length(tenant) = 32),
    occurrence_id     bytea  NOT NULL CHECK (octet_length(occurrence_id) = 32),
    finding_id        bytea  NOT NULL,
    object_version_id bytea  NOT NULL CHECK (octet_length(object_version_id) = 32),
    byte_offset       bigint NOT NULL,
    -- value - 2^63; a length is never 0.
    byte_length       bigint NOT NULL CHECK (byte_length <> -9223372036854775808),
    PRIMARY KEY (tenant, occurrence_id),
    FOREIGN KEY (tenant, finding_id) REFERENCES findings (tenant, finding_id)
);

CREATE TABLE observations (
    tenant           bytea  NOT NULL CHECK (octet_length(tenant) = 32),
    observation_id   bytea  NOT NULL CHECK (octet_length(observation_id) = 32),
    occurrence_id    bytea  NOT NULL,
    policy_hash      bytea  NOT NULL CHECK (octet_length(policy_hash) = 32),
    ovid_hash        bytea  NOT NULL CHECK (octet_length(ovid_hash) = 32),
    run_id           bigint NOT NULL,
    shard_id         bigint NOT NULL,
    fence_epoch      bigint NOT NULL,
    seen_at          bigint NOT NULL,
    location_display text,
    location_url     text,
    CHECK (location_display IS NOT NULL OR location_url IS NULL),
    PRIMARY KEY (tenant, observation_id),
    FOREIGN KEY (tenant, occurrence_id) REFERENCES occurrences (tenant, occurrence_id)
);
