//! The done-ledger status lattice (docs/contract.md §3.2), exhaustively.

use gossip_persistence::done_ledger::DoneLedgerStatus::{self, *};

const ALL: [DoneLedgerStatus; 5] = DoneLedgerStatus::ALL;

#[test]
fn ranks_and_all_are_in_rank_order() {
    assert_eq!(ALL, [FailedRetryable, FailedPermanent, Skipped, ScannedClean, ScannedWithFindings]);
    let ranks: Vec<u8> = ALL.iter().map(|s| s.rank()).collect();
    assert_eq!(ranks, [1, 2, 3, 10, 11]);
    for s in ALL {
        assert_eq!(s as u8, s.rank(), "rank is the discriminant");
    }
    assert!(ALL.windows(2).all(|w| w[0] < w[1]), "Ord follows rank");
}

#[test]
fn join_is_idempotent() {
    for a in ALL {
        assert_eq!(a.merge(a), a);
    }
}

#[test]
fn join_is_commutative() {
    for a in ALL {
        for b in ALL {
            assert_eq!(a.merge(b), b.merge(a), "{a:?} ⊔ {b:?}");
        }
    }
}

#[test]
fn join_rank_is_the_max_rank() {
    for a in ALL {
        for b in ALL {
            assert_eq!(a.merge(b).rank(), a.rank().max(b.rank()), "{a:?} ⊔ {b:?}");
        }
    }
}

#[test]
fn join_is_associative_over_all_125_triples() {
    let mut triples = 0;
    for a in ALL {
        for b in ALL {
            for c in ALL {
                assert_eq!(a.merge(b).merge(c), a.merge(b.merge(c)), "({a:?}, {b:?}, {c:?})");
                triples += 1;
            }
        }
    }
    assert_eq!(triples, 125);
}

#[test]
fn from_rank_round_trips_and_rejects_every_other_byte() {
    for s in ALL {
        assert_eq!(DoneLedgerStatus::from_rank(s.rank()), Some(s));
    }
    for rank in [0u8, 4, 5, 6, 7, 8, 9, 12, 255] {
        assert_eq!(DoneLedgerStatus::from_rank(rank), None, "rank {rank}");
    }
    let mapped: Vec<u8> = (0..=u8::MAX).filter(|r| DoneLedgerStatus::from_rank(*r).is_some()).collect();
    assert_eq!(mapped, [1, 2, 3, 10, 11]);
}

#[test]
fn predicate_table() {
    // (status, is_scanned, is_failure, is_skipped, is_terminal)
    let table = [
        (FailedRetryable, false, true, false, false),
        (FailedPermanent, false, true, false, true),
        (Skipped, false, false, true, true),
        (ScannedClean, true, false, false, true),
        (ScannedWithFindings, true, false, false, true),
    ];
    for (s, scanned, failure, skipped, terminal) in table {
        assert_eq!(s.is_scanned(), scanned, "{s:?}.is_scanned");
        assert_eq!(s.is_failure(), failure, "{s:?}.is_failure");
        assert_eq!(s.is_skipped(), skipped, "{s:?}.is_skipped");
        assert_eq!(s.is_terminal(), terminal, "{s:?}.is_terminal");
    }
}

#[test]
fn terminal_includes_scanned() {
    for s in ALL {
        if s.is_scanned() {
            assert!(s.is_terminal(), "{s:?}");
        }
    }
}

#[test]
fn names_are_the_variant_names() {
    for s in ALL {
        assert_eq!(s.name(), format!("{s:?}"));
    }
}
