//! `DoneLedgerErrorCode` validation (docs/contract.md §3.3), in its check order.

use gossip_persistence::done_ledger::{DoneLedgerErrorCode, MAX_DONE_LEDGER_ERROR_CODE_SIZE};
use gossip_persistence::{FieldError, PersistenceInputError};

const FIELD: &str = "DoneLedgerErrorCode";

#[test]
fn empty_is_rejected() {
    assert_eq!(DoneLedgerErrorCode::try_new(""), Err(PersistenceInputError::Field(FieldError::Empty { field: FIELD })));
}

#[test]
fn length_limit_is_128_bytes() {
    assert_eq!(MAX_DONE_LEDGER_ERROR_CODE_SIZE, 128);
    let at_limit = "A".repeat(128);
    assert_eq!(DoneLedgerErrorCode::try_new(at_limit.clone()).expect("128 bytes fit").as_str(), at_limit);
    assert_eq!(
        DoneLedgerErrorCode::try_new("A".repeat(129)),
        Err(PersistenceInputError::Field(FieldError::TooLarge { field: FIELD, size: 129, max: 128 }))
    );
}

#[test]
fn size_is_checked_before_bytes() {
    // 129 bytes that also contain a forbidden byte: the size error comes first.
    assert!(matches!(
        DoneLedgerErrorCode::try_new(format!("*{}", "A".repeat(128))),
        Err(PersistenceInputError::Field(FieldError::TooLarge { size: 129, .. }))
    ));
}

#[test]
fn first_invalid_byte_is_reported() {
    assert_eq!(
        DoneLedgerErrorCode::try_new("BAD*CODE"),
        Err(PersistenceInputError::Field(FieldError::InvalidByte { field: FIELD, index: 3, byte: b'*' }))
    );
    assert_eq!(
        DoneLedgerErrorCode::try_new("a\u{e9}"),
        Err(PersistenceInputError::Field(FieldError::InvalidByte { field: FIELD, index: 1, byte: 0xC3 }))
    );
    for bad in [b'\n', b'\t', b'\0', b'"', b'\\', b'+', b'=', b'@', 0x7f] {
        let text = format!("OK{}", bad as char);
        assert_eq!(
            DoneLedgerErrorCode::try_new(text),
            Err(PersistenceInputError::Field(FieldError::InvalidByte { field: FIELD, index: 2, byte: bad })),
            "byte 0x{bad:02x}"
        );
    }
}

#[test]
fn all_spaces_is_empty() {
    for n in [1, 2, 128] {
        assert_eq!(
            DoneLedgerErrorCode::try_new(" ".repeat(n)),
            Err(PersistenceInputError::Field(FieldError::Empty { field: FIELD }))
        );
    }
}

#[test]
fn allowed_bytes_are_accepted() {
    for good in ["TIMEOUT", "HTTP_403", "IO:RETRY", "SCAN-FAILED", "a.b/c", "with space", " lead", "0123456789"] {
        let code = DoneLedgerErrorCode::try_new(good).expect(good);
        assert_eq!(code.as_str(), good);
        assert_eq!(code.to_string(), good);
    }
}

#[test]
fn every_ascii_byte_is_classified() {
    for byte in 0u8..=0x7f {
        let allowed = byte.is_ascii_alphanumeric() || b" _-.:/".contains(&byte);
        let result = DoneLedgerErrorCode::try_new(format!("X{}", byte as char));
        assert_eq!(result.is_ok(), allowed, "byte 0x{byte:02x}");
    }
}

#[test]
fn debug_quotes_and_display_is_raw() {
    let code = DoneLedgerErrorCode::try_new("TIMEOUT").expect("valid");
    assert_eq!(format!("{code:?}"), r#"DoneLedgerErrorCode("TIMEOUT")"#);
    assert_eq!(format!("{code}"), "TIMEOUT");
}
