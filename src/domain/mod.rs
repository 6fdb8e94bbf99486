//! Pure business rules and value types. Nothing in here performs I/O or
//! knows about actix or diesel, so every rule can be tested in isolation.

pub mod account;
pub mod audit;
pub mod calendar;
pub mod event;
pub mod import;
pub mod lesson;
pub mod mail;
pub mod matching;
pub mod organisation;
pub mod pagination;
pub mod partner;
pub mod refusal;
pub mod schedule;
pub mod search;
pub mod spreadsheet;
pub mod stats;
pub mod topic;
pub mod visit;

/// Enums kept in a TEXT column by their `as_str` name: the database layer
/// reads them with `TryFrom<String>` (a name it does not know is a corrupt
/// row, not a default) and writes them with `From<_> for String`.
macro_rules! stored_as_text {
    ($($t:ty),+ $(,)?) => {$(
        impl TryFrom<String> for $t {
            type Error = $crate::domain::Invalid;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.as_str().to_string()
            }
        }
    )+};
}
pub(crate) use stored_as_text;

/// A value that failed validation, with a message meant for the person who
/// typed it (shown in problem+json `detail` and in import reports).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(msg: impl Into<String>) -> Self {
        Invalid(msg.into())
    }
}

/// U+0000 (NUL): PostgreSQL cannot store it in text, so every text input
/// refuses it at the edge, on every backend alike, naming the field.
pub fn storable(text: &str) -> Result<(), Invalid> {
    if text.contains('\0') {
        Err(Invalid::new(
            "contains U+0000 (a NUL character), which cannot be stored; remove it",
        ))
    } else {
        Ok(())
    }
}

/// The first field of a form (name = value pairs) that cannot be stored,
/// with why; `None` when all can.
pub fn unstorable_field(pairs: &[(String, String)]) -> Option<(&str, Invalid)> {
    pairs.iter().find_map(|(name, value)| {
        storable(name)
            .and_then(|()| storable(value))
            .err()
            .map(|why| (name.as_str(), why))
    })
}

/// One field's problem, for the message next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name (the API's camelCase name).
    pub field: &'static str,
    pub message: String,
}
