//! Why a use case says no. Services return these typed refusals; each edge
//! renders them in its caller's language: the API by `Accept-Language`,
//! pages by the page's language, email-link pages by the recipient's, the
//! command line in English. Every refusal has a stable problem `code`
//! (the variant's name in snake case) that API clients can rely on.

mod access;
mod directory;
mod lesson;
mod visit;
mod webhook;

pub use access::{AccountRefusal, Membership, OutboxRefusal, PartnerRefusal};
pub use directory::{DirectoryRefusal, MergeProblem};
pub use lesson::{LessonRefusal, LinkRefusal};
pub use visit::VisitRefusal;
pub use webhook::WebhookRefusal;

use super::organisation::Language;

/// What kind of no: the edges turn it into an HTTP status
/// (`http::problem::status_of`) and a page's heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request cannot be right whatever is stored (400).
    Invalid,
    /// Credentials missing, wrong or no longer valid (401).
    Unauthorized,
    /// Known caller, but not allowed to do this (403).
    Forbidden,
    /// Does not exist, or the caller may not know it does (404).
    NotFound,
    /// Conflicts with what is stored now (409).
    Conflict,
}

/// What every area's refusals say about themselves.
pub trait Explain {
    /// Stable, snake case, unique across all refusals.
    fn code(&self) -> &'static str;
    fn kind(&self) -> Kind;
    fn message(&self, language: Language) -> String;
}

/// A name that differs per language (a topic's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub nl: String,
    pub en: String,
}

impl Named {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Nl => &self.nl,
            Language::En => &self.en,
        }
    }
}

macro_rules! refusals {
    ($($area:ident($ty:ty)),+ $(,)?) => {
        /// Any refusal, by area.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Refusal {
            $($area($ty),)+
        }

        impl Explain for Refusal {
            fn code(&self) -> &'static str {
                match self { $(Refusal::$area(r) => r.code(),)+ }
            }
            fn kind(&self) -> Kind {
                match self { $(Refusal::$area(r) => r.kind(),)+ }
            }
            fn message(&self, language: Language) -> String {
                match self { $(Refusal::$area(r) => r.message(language),)+ }
            }
        }

        $(impl From<$ty> for Refusal {
            fn from(r: $ty) -> Self { Refusal::$area(r) }
        })+

        impl Refusal {
            /// One example of every refusal (each area proves it lists all
            /// its variants): for the test of both languages, the OpenAPI
            /// document and the problem-type page.
            pub fn examples() -> Vec<Refusal> {
                let mut all = Vec::new();
                $(all.extend(<$ty>::examples().into_iter().map(Refusal::$area));)+
                all
            }
        }
    };
}

refusals!(
    Directory(DirectoryRefusal),
    Visit(VisitRefusal),
    Link(LinkRefusal),
    Lesson(LessonRefusal),
    Account(AccountRefusal),
    Partner(PartnerRefusal),
    Outbox(OutboxRefusal),
    Webhook(WebhookRefusal),
);

impl std::fmt::Display for Refusal {
    /// English, for logs and the command line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Language::En))
    }
}

/// Implements [`Explain::code`] from strum's snake-case variant name and an
/// `examples` that must name every variant once.
macro_rules! area {
    ($ty:ty) => {
        impl $ty {
            pub(super) fn variant(&self) -> &'static str {
                self.into()
            }

            #[cfg(test)]
            pub(super) fn count() -> usize {
                <$ty as strum::EnumCount>::COUNT
            }
        }
    };
}
pub(crate) use area;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Words that give away an English sentence on a Dutch page.
    const ENGLISH: &[&str] = &[
        " the ",
        " not ",
        " you ",
        " your ",
        " has ",
        " this ",
        " only ",
        " already ",
        " does ",
        " must ",
        " with ",
    ];

    #[test]
    fn every_refusal_has_a_unique_code_and_both_texts() {
        let all = Refusal::examples();
        let mut codes = HashSet::new();
        for r in &all {
            let code = r.code();
            assert!(codes.insert(code), "{code} is used twice");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code} is not snake case"
            );
            let (nl, en) = (r.message(Language::Nl), r.message(Language::En));
            assert!(!nl.trim().is_empty() && !en.trim().is_empty(), "{code}");
            assert_ne!(nl, en, "{code} says the same in both languages");
            let padded = format!(" {} ", nl.to_lowercase());
            for word in ENGLISH {
                assert!(
                    !padded.contains(word),
                    "{code}: '{word}' in Dutch text '{nl}'"
                );
            }
        }
        let listed = DirectoryRefusal::count()
            + VisitRefusal::count()
            + LinkRefusal::count()
            + LessonRefusal::count()
            + AccountRefusal::count()
            + PartnerRefusal::count()
            + OutboxRefusal::count()
            + WebhookRefusal::count();
        assert_eq!(all.len(), listed, "an area's examples miss a variant");
    }

    #[test]
    fn the_code_is_the_variant_name() {
        let r = Refusal::from(VisitRefusal::AlreadyAnswered);
        assert_eq!(r.code(), "already_answered");
        assert_eq!(r.kind(), Kind::Conflict);
    }
}
