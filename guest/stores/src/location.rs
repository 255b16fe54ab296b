//! Where an observation was seen: display-safe metadata, bounded in size.

use crate::input_error::FieldError;

/// Longest accepted display string, in bytes.
pub const MAX_LOCATION_DISPLAY_SIZE: usize = 4096;
/// Longest accepted URL, in bytes.
pub const MAX_LOCATION_URL_SIZE: usize = 4096;

/// Bad input at the connector boundary (locations, version bytes, tags).
pub type ConnectorInputError = FieldError;

/// A human-readable path plus an optional URL. Not secret, so `Debug` is derived.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    display: String,
    url: Option<String>,
}

impl Location {
    /// An empty URL is stored as `None`.
    pub fn try_new(display: impl Into<String>, url: Option<impl Into<String>>) -> Result<Self, ConnectorInputError> {
        let display = display.into();
        if display.is_empty() {
            return Err(ConnectorInputError::Empty { field: "Location.display" });
        }
        if display.len() > MAX_LOCATION_DISPLAY_SIZE {
            return Err(ConnectorInputError::TooLarge {
                field: "Location.display",
                size: display.len(),
                max: MAX_LOCATION_DISPLAY_SIZE,
            });
        }
        let url = url.map(Into::into).filter(|u: &String| !u.is_empty());
        if let Some(u) = &url
            && u.len() > MAX_LOCATION_URL_SIZE
        {
            return Err(ConnectorInputError::TooLarge {
                field: "Location.url",
                size: u.len(),
                max: MAX_LOCATION_URL_SIZE,
            });
        }
        Ok(Self { display, url })
    }

    /// Human-readable, 1 to 4,096 bytes; safe to log.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Never empty when present: an empty URL is stored as `None`.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}
