//! Accounts, partners and the admin's outbox.

use super::{area, Explain, Kind};
use crate::domain::organisation::Language;

/// An account as a refusal describes it: "a coordinator of organisation 3".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub admin: bool,
    pub organisation: Option<i64>,
}

impl Membership {
    fn describe(&self, language: Language) -> String {
        match (self.admin, self.organisation, language) {
            (true, _, Language::Nl) => "een beheerder".into(),
            (true, _, Language::En) => "an admin".into(),
            (false, Some(o), Language::Nl) => format!("een coördinator van organisatie {o}"),
            (false, Some(o), Language::En) => format!("a coordinator of organisation {o}"),
            (false, None, Language::Nl) => "een coördinator".into(),
            (false, None, Language::En) => "a coordinator".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum AccountRefusal {
    UnknownUser {
        id: i64,
    },
    EmailInUse {
        email: String,
    },
    /// An admin cannot demote or deactivate themselves.
    OwnAccount,
    /// The change would leave a coordinator without an organisation.
    CoordinatorNeedsOrganisation {
        current: Membership,
    },
    /// The change would put an admin in an organisation.
    AdminInOrganisation {
        current: Membership,
    },
    WrongCurrentPassword,
    /// Never says which part was wrong.
    BadCredentials,
    /// Logged out, changed by an admin, or deactivated since the token.
    SessionEnded,
    AdminsOnly,
    /// An erasure whose confirmation does not repeat the address (or code).
    NotConfirmed,
    /// An invitation or reset link that is unknown, used, expired, or whose
    /// account cannot sign in.
    LinkNotValid,
    /// Inviting this account is not the caller's to do (coordinators invite
    /// only colleagues, and only when the operator allows it).
    MayNotInvite,
    /// Not one of the caller's open sessions.
    UnknownSession {
        id: i64,
    },
    /// The account uses two-step verification: the login needs a code.
    SecondStepNeeded,
    /// The code (or recovery code) is wrong, used already, or too late.
    BadSecondStep,
    /// Admins must use two-step verification (`auth.two_step.required_for_admins`).
    TwoStepRequired,
    TwoStepAlreadyOn,
    /// Nothing being set up (or nothing on) to confirm, renew or turn off.
    TwoStepNotSetUp,
    UnknownProvider {
        id: String,
    },
    /// The identity provider's answer did not hold up.
    SsoFailed {
        reason: String,
    },
    SsoEmailNotVerified,
    /// The identity provider cannot be reached (or answers nonsense).
    SsoUnavailable,
    /// Nobody here has this identity, and no account may be made for it.
    SsoNoAccount,
    /// An account has the address, but it may not be linked by address
    /// (an admin, another organisation, an unmapped domain).
    SsoNotLinked,
    UnknownDomain {
        domain: String,
    },
    /// The organisation signs in through its identity provider only.
    PasswordLoginOff,
}

area!(AccountRefusal);

impl Explain for AccountRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        use AccountRefusal as R;
        match self {
            R::UnknownUser { .. } => Kind::NotFound,
            R::EmailInUse { .. }
            | R::OwnAccount
            | R::CoordinatorNeedsOrganisation { .. }
            | R::AdminInOrganisation { .. }
            | R::NotConfirmed => Kind::Conflict,
            R::LinkNotValid | R::UnknownSession { .. } => Kind::NotFound,
            R::SecondStepNeeded | R::BadSecondStep => Kind::Unauthorized,
            R::TwoStepRequired => Kind::Forbidden,
            R::TwoStepAlreadyOn | R::TwoStepNotSetUp => Kind::Conflict,
            R::UnknownProvider { .. } | R::UnknownDomain { .. } => Kind::NotFound,
            R::SsoFailed { .. } => Kind::Unauthorized,
            R::SsoUnavailable => Kind::Conflict,
            R::SsoEmailNotVerified | R::SsoNoAccount | R::SsoNotLinked | R::PasswordLoginOff => {
                Kind::Forbidden
            }
            R::WrongCurrentPassword | R::AdminsOnly | R::MayNotInvite => Kind::Forbidden,
            R::BadCredentials | R::SessionEnded => Kind::Unauthorized,
        }
    }

    fn message(&self, language: Language) -> String {
        use AccountRefusal as R;
        let nl = language == Language::Nl;
        match self {
            R::UnknownUser { id } if nl => format!("gebruiker {id} bestaat niet"),
            R::UnknownUser { id } => format!("user {id} does not exist"),
            R::EmailInUse { email } if nl => {
                format!("er bestaat al een gebruiker met e-mailadres {email}")
            }
            R::EmailInUse { email } => format!("a user with email {email} already exists"),
            R::OwnAccount if nl => {
                "je kunt je eigen account niet degraderen, uitschakelen of wissen; vraag een andere beheerder"
                    .into()
            }
            R::OwnAccount => {
                "you cannot demote, deactivate or erase your own account; ask another admin".into()
            }
            R::NotConfirmed if nl => {
                "'confirm' is niet het e-mailadres van het account (of de code van de organisatie); er is niets gewist".into()
            }
            R::NotConfirmed => {
                "'confirm' is not the account's email address (or the organisation's code); nothing was erased".into()
            }
            R::CoordinatorNeedsOrganisation { current } if nl => format!(
                "een coördinator hoort bij een organisatie; dit account is {}",
                current.describe(language)
            ),
            R::CoordinatorNeedsOrganisation { current } => format!(
                "a coordinator belongs to an organisation; this account is {}",
                current.describe(language)
            ),
            R::AdminInOrganisation { current } if nl => format!(
                "een beheerder hoort bij geen organisatie; dit account is {}",
                current.describe(language)
            ),
            R::AdminInOrganisation { current } => format!(
                "an admin belongs to no organisation; this account is {}",
                current.describe(language)
            ),
            R::WrongCurrentPassword if nl => "currentPassword is niet je huidige wachtwoord".into(),
            R::WrongCurrentPassword => "currentPassword is not your current password".into(),
            R::BadCredentials if nl => "het e-mailadres of het wachtwoord klopt niet".into(),
            R::BadCredentials => "the email address or password is wrong".into(),
            R::SessionEnded if nl => {
                "het toegangstoken is niet meer geldig; log opnieuw in".into()
            }
            R::SessionEnded => "the access token is no longer valid; log in again".into(),
            R::LinkNotValid if nl => {
                "deze link is niet (meer) geldig: hij is al gebruikt, verlopen of onbekend; vraag een nieuwe".into()
            }
            R::LinkNotValid => {
                "this link is not valid (any more): it was used, expired or is unknown; ask for a new one".into()
            }
            R::MayNotInvite if nl => {
                "je mag alleen collega's van je eigen organisatie als coördinator uitnodigen, en alleen als de beheerder dat toestaat".into()
            }
            R::MayNotInvite => {
                "you may invite only colleagues of your own organisation as coordinators, and only when the operator allows it".into()
            }
            R::UnknownSession { id } if nl => {
                format!("je hebt geen open sessie {id}")
            }
            R::UnknownSession { id } => format!("you have no open session {id}"),
            R::SecondStepNeeded if nl => {
                "dit account gebruikt verificatie in twee stappen: stuur ook 'code' mee, de code uit je app of een herstelcode".into()
            }
            R::SecondStepNeeded => {
                "this account uses two-step verification: send 'code' too, the code from your app or a recovery code".into()
            }
            R::BadSecondStep if nl => {
                "de code klopt niet, is al gebruikt of is verlopen; probeer de volgende code uit je app".into()
            }
            R::BadSecondStep => {
                "the code is wrong, used already or expired; try the next code from your app".into()
            }
            R::TwoStepRequired if nl => {
                "beheerders moeten verificatie in twee stappen gebruiken; zet die eerst aan op /account/two-step".into()
            }
            R::TwoStepRequired => {
                "administrators must use two-step verification; turn it on at /account/two-step first".into()
            }
            R::TwoStepAlreadyOn if nl => "verificatie in twee stappen staat al aan".into(),
            R::TwoStepAlreadyOn => "two-step verification is on already".into(),
            R::TwoStepNotSetUp if nl => {
                "er wordt geen verificatie in twee stappen ingesteld, of die staat niet aan".into()
            }
            R::TwoStepNotSetUp => {
                "no two-step verification is being set up, or it is not on".into()
            }
            R::UnknownProvider { id } if nl => format!("er is geen identiteitsprovider '{id}'"),
            R::UnknownProvider { id } => format!("there is no identity provider '{id}'"),
            R::SsoFailed { reason } if nl => {
                format!("inloggen via de identiteitsprovider is mislukt ({reason}); probeer het opnieuw")
            }
            R::SsoFailed { reason } => {
                format!("signing in through the identity provider failed ({reason}); try again")
            }
            R::SsoEmailNotVerified if nl => {
                "de identiteitsprovider heeft je e-mailadres niet bevestigd; vraag de beheerder je account te koppelen".into()
            }
            R::SsoEmailNotVerified => {
                "the identity provider has not verified your email address; ask the administrator to link your account".into()
            }
            R::SsoUnavailable if nl => {
                "de identiteitsprovider is nu niet bereikbaar; probeer het zo opnieuw".into()
            }
            R::SsoUnavailable => "the identity provider cannot be reached now; try again shortly".into(),
            R::SsoNoAccount if nl => {
                "er is hier geen account voor je; vraag de beheerder om een uitnodiging".into()
            }
            R::SsoNoAccount => "there is no account for you here; ask the administrator for an invitation".into(),
            R::SsoNotLinked if nl => {
                "je account kan niet zo gekoppeld worden; vraag de beheerder je account aan deze identiteitsprovider te koppelen".into()
            }
            R::SsoNotLinked => {
                "your account cannot be linked this way; ask the administrator to link it to this identity provider".into()
            }
            R::UnknownDomain { domain } if nl => format!("domein {domain} is niet gekoppeld"),
            R::UnknownDomain { domain } => format!("domain {domain} is not mapped"),
            R::PasswordLoginOff if nl => {
                "je organisatie logt in via haar eigen identiteitsprovider; gebruik de knop 'Inloggen met …'".into()
            }
            R::PasswordLoginOff => {
                "your organisation signs in through its own identity provider; use the 'Log in with …' button".into()
            }
            R::AdminsOnly if nl => "hiervoor is een beheerdersaccount nodig".into(),
            R::AdminsOnly => "this needs an admin account".into(),
        }
    }
}

impl AccountRefusal {
    pub(super) fn examples() -> Vec<Self> {
        use AccountRefusal as R;
        let current = Membership {
            admin: false,
            organisation: Some(3),
        };
        vec![
            R::UnknownUser { id: 7 },
            R::EmailInUse {
                email: "a@example.nl".into(),
            },
            R::OwnAccount,
            R::CoordinatorNeedsOrganisation {
                current: current.clone(),
            },
            R::AdminInOrganisation { current },
            R::WrongCurrentPassword,
            R::BadCredentials,
            R::SessionEnded,
            R::AdminsOnly,
            R::NotConfirmed,
            R::LinkNotValid,
            R::MayNotInvite,
            R::UnknownSession { id: 4 },
            R::SecondStepNeeded,
            R::BadSecondStep,
            R::TwoStepRequired,
            R::TwoStepAlreadyOn,
            R::TwoStepNotSetUp,
            R::UnknownProvider { id: "entra".into() },
            R::SsoFailed {
                reason: "ID token: Invalid nonce".into(),
            },
            R::SsoEmailNotVerified,
            R::SsoUnavailable,
            R::SsoNoAccount,
            R::SsoNotLinked,
            R::UnknownDomain {
                domain: "zwolle.nl".into(),
            },
            R::PasswordLoginOff,
        ]
    }
}

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum PartnerRefusal {
    UnknownPartner {
        client_id: String,
    },
    /// Never says whether the id or the secret was wrong.
    BadClient,
    /// Revoked or changed since the token was issued.
    TokenEnded,
    /// OAuth2's insufficient_scope.
    MissingScope {
        needed: String,
        has: String,
    },
    /// A token asked for more than the client has.
    ScopeTooWide {
        requested: String,
        has: String,
    },
}

area!(PartnerRefusal);

impl Explain for PartnerRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        use PartnerRefusal as R;
        match self {
            R::UnknownPartner { .. } => Kind::NotFound,
            R::BadClient | R::TokenEnded => Kind::Unauthorized,
            R::MissingScope { .. } => Kind::Forbidden,
            R::ScopeTooWide { .. } => Kind::Invalid,
        }
    }

    fn message(&self, language: Language) -> String {
        use PartnerRefusal as R;
        let nl = language == Language::Nl;
        match self {
            R::UnknownPartner { client_id } if nl => {
                format!("geen actieve partner met client id '{client_id}'")
            }
            R::UnknownPartner { client_id } => {
                format!("no active partner with client id '{client_id}'")
            }
            R::BadClient if nl => {
                "de client id of het secret klopt niet, of de client is ingetrokken".into()
            }
            R::BadClient => "the client id or secret is wrong, or the client was revoked".into(),
            R::TokenEnded if nl => {
                "het toegangstoken is niet meer geldig; vraag een nieuw aan".into()
            }
            R::TokenEnded => "the access token is no longer valid; request a new one".into(),
            R::MissingScope { needed, has } if nl => {
                format!("hiervoor is scope '{needed}' nodig; het token heeft '{has}'")
            }
            R::MissingScope { needed, has } => {
                format!("this needs the '{needed}' scope; the token has '{has}'")
            }
            R::ScopeTooWide { requested, has } if nl => {
                format!("scope '{requested}' is meer dan deze client heeft ('{has}')")
            }
            R::ScopeTooWide { requested, has } => {
                format!("scope '{requested}' is more than this client has ('{has}')")
            }
        }
    }
}

impl PartnerRefusal {
    pub(super) fn examples() -> Vec<Self> {
        use PartnerRefusal as R;
        vec![
            R::UnknownPartner {
                client_id: "vng".into(),
            },
            R::BadClient,
            R::TokenEnded,
            R::MissingScope {
                needed: "lessons:read".into(),
                has: "directory:read".into(),
            },
            R::ScopeTooWide {
                requested: "lessons:read".into(),
                has: "directory:read".into(),
            },
        ]
    }
}

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum OutboxRefusal {
    UnknownMessage {
        id: i64,
    },
    /// Only dead messages can be requeued.
    NotDead {
        id: i64,
        state: String,
    },
}

area!(OutboxRefusal);

impl Explain for OutboxRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        match self {
            OutboxRefusal::UnknownMessage { .. } => Kind::NotFound,
            OutboxRefusal::NotDead { .. } => Kind::Conflict,
        }
    }

    fn message(&self, language: Language) -> String {
        match (self, language) {
            (OutboxRefusal::UnknownMessage { id }, Language::Nl) => {
                format!("bericht {id} staat niet in de wachtrij")
            }
            (OutboxRefusal::UnknownMessage { id }, Language::En) => {
                format!("no message {id} in the outbox")
            }
            (OutboxRefusal::NotDead { id, state }, Language::Nl) => format!(
                "bericht {id} is {state}; alleen onbestelbare berichten kunnen opnieuw in de wachtrij"
            ),
            (OutboxRefusal::NotDead { id, state }, Language::En) => {
                format!("message {id} is {state}; only dead messages can be requeued")
            }
        }
    }
}

impl OutboxRefusal {
    pub(super) fn examples() -> Vec<Self> {
        vec![
            OutboxRefusal::UnknownMessage { id: 7 },
            OutboxRefusal::NotDead {
                id: 7,
                state: "pending".into(),
            },
        ]
    }
}
