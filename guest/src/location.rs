//! Where an observation was seen: display-safe metadata, bounded in size.

use thiserror::Error;

pub const MAX_LOCATION_DISPLAY_SIZE: usize = 4096;
pub const MAX_LOCATION_URL_SIZE: usize = 4096;

/// Bad input at the connector boundary (locations, version bytes, tags).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConnectorInputError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} too large ({size} bytes, max {max})")]
    TooLarge { field: &'static str, size: usize, max: usize },
    #[error("{field} contains invalid byte 0x{byte:02X} at index {index}")]
    InvalidByte { field: &'static str, index: usize, byte: u8 },
}

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

    pub fn display(&self) -> &str {
        &self.display
    }

    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}
