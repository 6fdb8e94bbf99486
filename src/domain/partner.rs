//! Partner clients: programs that read the API with scoped credentials.

use std::fmt;

use super::Invalid;

super::named_enum! {
    /// What a partner token allows.
    #[derive(PartialOrd, Ord)]
    pub enum Scope ("scope") {
        OrganisationsRead = "organisations:read",
        LessonsRead = "lessons:read",
        StatsRead = "stats:read",
        /// Register and manage the partner's own webhook endpoints.
        WebhooksManage = "webhooks:manage",
    }
}

/// A set of scopes, parsed from a list separated by commas or spaces
/// (OAuth2 uses spaces); sorted, without duplicates, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let mut scopes = raw
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Scope>, _>>()?;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(Invalid::new("give at least one scope"));
        }
        Ok(Scopes(scopes))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope in `other` is also in `self`.
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.0.contains(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    /// Space-separated, as OAuth2 writes scopes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

/// A partner client as stored (without its secret hash).
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub scopes: Scopes,
    pub active: bool,
    /// Who hears of the partner's endpoints being switched off.
    pub contact_email: Option<String>,
}

impl Partner {
    /// Whether this partner (with its token's scopes) may read what `scope`
    /// guards; a revoked client may read nothing.
    pub fn may(&self, scope: Scope) -> bool {
        self.active && self.scopes.contains(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_sorted_and_deduplicated() {
        let s = Scopes::parse("stats:read,organisations:read stats:read").unwrap();
        assert_eq!(s.to_string(), "organisations:read stats:read");
        assert!(s.contains(Scope::StatsRead));
        assert!(!s.contains(Scope::LessonsRead));
        assert!(Scopes::parse("").is_err());
        assert!(Scopes::parse("admin").is_err());
        assert!(s.covers(&Scopes::parse("stats:read").unwrap()));
        assert!(!s.covers(&Scopes::parse("lessons:read").unwrap()));
    }

    #[test]
    fn partners_may_read_what_their_scopes_name_while_active() {
        let mut partner = Partner {
            id: 1,
            client_id: "mp_0123456789abcdef".into(),
            name: "VNG".into(),
            scopes: Scopes::parse("stats:read").unwrap(),
            active: true,
            contact_email: None,
        };
        assert!(partner.may(Scope::StatsRead));
        assert!(!partner.may(Scope::LessonsRead));
        partner.active = false;
        assert!(!partner.may(Scope::StatsRead));
    }
}
