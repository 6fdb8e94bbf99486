//! Pure business rules and value types. Nothing in here performs I/O or
//! knows about actix or diesel, so every rule can be tested in isolation.

pub mod account;
pub mod audit;
pub mod calendar;
pub mod digest;
pub mod event;
pub mod import;
pub mod insight;
pub mod lesson;
pub mod mail;
pub mod matching;
pub mod merger;
pub mod organisation;
pub mod pagination;
pub mod partner;
pub mod privacy;
pub mod refusal;
pub mod schedule;
pub mod search;
pub mod session;
pub mod spreadsheet;
pub mod stats;
pub mod topic;
pub mod visit;
pub mod webhook;

/// An enum whose values have fixed names: in the API, in configuration and
/// in the database's TEXT columns. Declares the enum with `ALL`, `as_str`,
/// `Display`, `FromStr` (refusing an unknown name with the list of known
/// ones), and the conversions the database layer reads and writes rows
/// with (`TryFrom<String>`: a name the code does not know is a corrupt row,
/// not a default).
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::Invalid;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    $crate::domain::Invalid::new(format!(
                        "unknown {} '{s}'; expected {}",
                        $what,
                        $crate::domain::either(&[$($text),+])
                    ))
                })
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::Invalid;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }
    };
}
pub(crate) use named_enum;

/// "a, b or c".
pub fn either(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A value that failed validation, with a message meant for the person who
/// typed it. When a use case knows which field it was, it says so apart
/// from the message: the API's `detail` reads "proposedDates: …", a page
/// shows the message beside its own field (see `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field as the API names it.
    pub field: Option<&'static str>,
    pub message: String,
}

impl Invalid {
    pub fn new(msg: impl Into<String>) -> Self {
        Invalid {
            field: None,
            message: msg.into(),
        }
    }

    /// `invalid`, said of `field`.
    pub fn of(field: &'static str, invalid: Invalid) -> Self {
        Invalid {
            field: Some(field),
            ..invalid
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Invalid {}

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
