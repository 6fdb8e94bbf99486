//! Accounts: who may log in, in which role, and the password policy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::organisation::{ContactEmail, OrganisationId};
use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl FromStr for UserId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(UserId(n)),
            _ => Err(Invalid::new(format!(
                "'{s}' is not a user id (a positive integer)"
            ))),
        }
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

super::named_enum! {
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Role ("role") {
        /// Runs the service.
        Admin = "admin",
        /// Acts for one organisation.
        Coordinator = "coordinator",
    }
}

impl Role {
    /// The role as people call it.
    pub fn name_in(self, language: super::organisation::Language) -> &'static str {
        use super::organisation::Language::{En, Nl};
        match (self, language) {
            (Role::Admin, Nl) => "beheerder",
            (Role::Admin, En) => "administrator",
            (Role::Coordinator, Nl) => "coördinator",
            (Role::Coordinator, En) => "coordinator",
        }
    }
}

/// A login address, compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEmail(String);

impl LoginEmail {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Ok(LoginEmail(
            ContactEmail::parse(raw)?.as_str().to_lowercase(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 12 to 128 characters (not bytes), used
/// whole — never truncated. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Invalid::new(format!(
                "the password is too short: use at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if chars > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "the password is too long: use at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// How role and organisation can fail to fit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipError {
    CoordinatorWithoutOrganisation,
    AdminInOrganisation,
}

impl From<MembershipError> for Invalid {
    fn from(e: MembershipError) -> Self {
        match e {
            MembershipError::CoordinatorWithoutOrganisation => Invalid::new(
                "a coordinator belongs to an organisation (--organisation CODE on the command line, organisationId in the API)",
            ),
            MembershipError::AdminInOrganisation => {
                Invalid::new("an admin belongs to no organisation")
            }
        }
    }
}

/// Checks that role and organisation fit together.
pub fn check_membership(
    role: Role,
    organisation: Option<OrganisationId>,
) -> Result<(), MembershipError> {
    match (role, organisation) {
        (Role::Coordinator, None) => Err(MembershipError::CoordinatorWithoutOrganisation),
        (Role::Admin, Some(_)) => Err(MembershipError::AdminInOrganisation),
        _ => Ok(()),
    }
}

/// Whether `user` may change organisation `id`'s profile and expertise:
/// admins any, coordinators only their own.
pub fn may_edit_organisation(user: &User, id: OrganisationId) -> bool {
    user.active && (user.role == Role::Admin || user.organisation_id == Some(id))
}

/// Whether `user` may run the service: read the audit log, manage accounts.
pub fn is_admin(user: &User) -> bool {
    user.active && user.role == Role::Admin
}

/// An account as the rest of the application sees it (no password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub active: bool,
    pub token_version: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_counts_characters_and_never_truncates() {
        assert!(Password::parse("short-pass1").is_err()); // 11
        assert!(Password::parse("long-enough1").is_ok()); // 12
        assert!(Password::parse(&"é".repeat(12)).is_ok()); // 24 bytes, 12 characters
        assert!(Password::parse(&"a".repeat(128)).is_ok());
        assert!(Password::parse(&"a".repeat(129)).is_err());
        let long = "b".repeat(128);
        assert_eq!(Password::parse(&long).unwrap().expose(), long);
        assert_eq!(
            format!("{:?}", Password::parse("long-enough1").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn login_emails_ignore_case() {
        assert_eq!(
            LoginEmail::parse("Anne@Gemeente.NL").unwrap().as_str(),
            "anne@gemeente.nl"
        );
    }

    #[test]
    fn only_admins_and_own_coordinators_edit() {
        let mut user = User {
            id: UserId(1),
            email: "a@b.nl".into(),
            name: "A".into(),
            role: Role::Coordinator,
            organisation_id: Some(OrganisationId(7)),
            active: true,
            token_version: 0,
        };
        assert!(may_edit_organisation(&user, OrganisationId(7)));
        assert!(!may_edit_organisation(&user, OrganisationId(8)));
        user.role = Role::Admin;
        user.organisation_id = None;
        assert!(may_edit_organisation(&user, OrganisationId(8)));
        user.active = false;
        assert!(!may_edit_organisation(&user, OrganisationId(8)));
    }

    #[test]
    fn membership() {
        assert!(check_membership(Role::Coordinator, None).is_err());
        assert!(check_membership(Role::Coordinator, Some(OrganisationId(1))).is_ok());
        assert!(check_membership(Role::Admin, Some(OrganisationId(1))).is_err());
        assert!(check_membership(Role::Admin, None).is_ok());
    }
}
