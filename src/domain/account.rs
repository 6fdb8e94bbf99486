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

/// An email domain's organisation and provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainMapping {
    pub domain: String,
    pub organisation: OrganisationId,
    pub provider: String,
}

/// Two-step verification settings (`[auth.two_step]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwoStepRules {
    /// Admins must turn it on before they can do anything else.
    pub required_for_admins: bool,
    /// Codes tried at once per client address and per account...
    pub burst: u32,
    /// ...then one more per this many milliseconds.
    pub refill_ms: u64,
}

impl Default for TwoStepRules {
    fn default() -> Self {
        TwoStepRules {
            required_for_admins: true,
            burst: 5,
            refill_ms: 60_000,
        }
    }
}

impl TwoStepRules {
    /// Whether `user` must turn on two-step verification before going on.
    pub fn must_enrol(&self, user: &User) -> bool {
        self.required_for_admins && user.role == Role::Admin && !user.two_step
    }

    /// Whether `user` may turn it off (admins may not while it is required).
    pub fn may_turn_off(&self, user: &User) -> bool {
        !(self.required_for_admins && user.role == Role::Admin)
    }
}

/// Whether `user` may run the service: read the audit log, manage accounts.
pub fn is_admin(user: &User) -> bool {
    user.active && user.role == Role::Admin
}

super::named_enum! {
    /// What a sign-in link in an email is for.
    pub enum SignInPurpose ("purpose") {
        /// A new account's first password.
        Invitation = "invitation",
        /// A forgotten password.
        Reset = "reset",
    }
}

/// How invitations and resets behave (`[auth]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignInRules {
    /// An invitation link is good for this many hours (a week by default:
    /// people are away).
    pub invitation_hours: u32,
    /// A reset link is good for this many minutes.
    pub reset_minutes: u32,
    /// Coordinators may invite colleagues into their own organisation.
    pub coordinators_invite: bool,
}

impl Default for SignInRules {
    fn default() -> Self {
        SignInRules {
            invitation_hours: 7 * 24,
            reset_minutes: 60,
            coordinators_invite: false,
        }
    }
}

impl SignInRules {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=30 * 24).contains(&self.invitation_hours) {
            return Err("auth.sign_in.invitation_hours must be 1 to 720".into());
        }
        if !(5..=24 * 60).contains(&self.reset_minutes) {
            return Err("auth.sign_in.reset_minutes must be 5 to 1440".into());
        }
        Ok(())
    }

    /// How long a link for `purpose` stays good.
    pub fn lifetime(&self, purpose: SignInPurpose) -> chrono::Duration {
        match purpose {
            SignInPurpose::Invitation => chrono::Duration::hours(self.invitation_hours.into()),
            SignInPurpose::Reset => chrono::Duration::minutes(self.reset_minutes.into()),
        }
    }

    /// Whether `by` may invite someone as `role` into `organisation`:
    /// admins anyone; coordinators, when allowed, colleagues of their own
    /// organisation only.
    pub fn may_invite(&self, by: &User, role: Role, organisation: Option<OrganisationId>) -> bool {
        is_admin(by)
            || (self.coordinators_invite
                && by.active
                && role == Role::Coordinator
                && organisation.is_some()
                && by.organisation_id == organisation)
    }
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
    /// Two-step verification is on: logging in asks for a code too.
    pub two_step: bool,
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

    fn coordinator_of_7() -> User {
        User {
            id: UserId(1),
            email: "a@b.nl".into(),
            name: "A".into(),
            role: Role::Coordinator,
            organisation_id: Some(OrganisationId(7)),
            active: true,
            token_version: 0,
            two_step: false,
        }
    }

    #[test]
    fn who_may_invite_whom() {
        let coordinator = coordinator_of_7();
        let admin = User {
            role: Role::Admin,
            organisation_id: None,
            ..coordinator.clone()
        };
        let off = SignInRules::default();
        let on = SignInRules {
            coordinators_invite: true,
            ..off
        };
        let own = Some(OrganisationId(7));
        assert!(off.may_invite(&admin, Role::Admin, None));
        assert!(off.may_invite(&admin, Role::Coordinator, Some(OrganisationId(9))));
        assert!(!off.may_invite(&coordinator, Role::Coordinator, own));
        assert!(on.may_invite(&coordinator, Role::Coordinator, own));
        assert!(!on.may_invite(&coordinator, Role::Coordinator, Some(OrganisationId(9))));
        assert!(!on.may_invite(&coordinator, Role::Admin, None));
        let inactive = User {
            active: false,
            ..coordinator
        };
        assert!(!on.may_invite(&inactive, Role::Coordinator, own));
        assert_eq!(
            off.lifetime(SignInPurpose::Reset),
            chrono::Duration::hours(1)
        );
        assert_eq!(
            off.lifetime(SignInPurpose::Invitation),
            chrono::Duration::days(7)
        );
        assert!(off.validate().is_ok());
        assert!(SignInRules {
            reset_minutes: 0,
            ..off
        }
        .validate()
        .is_err());
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
        let mut user = coordinator_of_7();
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
