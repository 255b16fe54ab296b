//! A bounded, display-safe error code carried by failed and skipped rows.

use core::fmt;

use crate::input_error::{FieldError, PersistenceInputError};

/// Longest accepted error code, in bytes.
pub const MAX_DONE_LEDGER_ERROR_CODE_SIZE: usize = 128;

const FIELD: &str = "DoneLedgerErrorCode";

/// ASCII alphanumerics plus space and `_ - . : /`, never blank: safe to log.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DoneLedgerErrorCode(Box<str>);

impl DoneLedgerErrorCode {
    /// Checks, in order: empty, longer than 128 bytes, a forbidden byte, only spaces;
    /// the first failure names field `DoneLedgerErrorCode` (`docs/contract.md §3.3`).
    pub fn try_new(code: impl Into<String>) -> Result<Self, PersistenceInputError> {
        let code = code.into();
        if code.is_empty() {
            return Err(PersistenceInputError::Field(FieldError::Empty { field: FIELD }));
        }
        if code.len() > MAX_DONE_LEDGER_ERROR_CODE_SIZE {
            return Err(PersistenceInputError::Field(FieldError::TooLarge {
                field: FIELD,
                size: code.len(),
                max: MAX_DONE_LEDGER_ERROR_CODE_SIZE,
            }));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'.' | b':' | b'/');
        if let Some((index, byte)) = code.bytes().enumerate().find(|&(_, b)| !allowed(b)) {
            return Err(PersistenceInputError::Field(FieldError::InvalidByte { field: FIELD, index, byte }));
        }
        if code.bytes().all(|b| b == b' ') {
            return Err(PersistenceInputError::Field(FieldError::Empty { field: FIELD }));
        }
        Ok(Self(code.into_boxed_str()))
    }

    /// The code as given; safe to log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DoneLedgerErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DoneLedgerErrorCode({:?})", &*self.0)
    }
}

impl fmt::Display for DoneLedgerErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
