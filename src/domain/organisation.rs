//! Organisations in the directory and the value types that describe them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Invalid;

/// Database id of an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganisationId(pub i64);

impl TryFrom<i64> for OrganisationId {
    type Error = Invalid;
    fn try_from(n: i64) -> Result<Self, Invalid> {
        if n > 0 {
            Ok(OrganisationId(n))
        } else {
            Err(Invalid::new(format!(
                "'{n}' is not an organisation id (a positive integer)"
            )))
        }
    }
}

impl FromStr for OrganisationId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        s.parse::<i64>()
            .ok()
            .and_then(|n| OrganisationId::try_from(n).ok())
            .ok_or_else(|| {
                Invalid::new(format!(
                    "'{s}' is not an organisation id (a positive integer)"
                ))
            })
    }
}

impl fmt::Display for OrganisationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An organisation in the directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub code: String,
    pub kind: OrganisationKind,
    pub name: String,
    pub province: Option<String>,
    /// Inhabitants, rental homes or employees: see [`OrganisationKind::size_unit`].
    pub size: i64,
    pub latitude: f64,
    pub longitude: f64,
    /// Where invitations go. Never shown in public responses.
    pub contact_email: Option<String>,
    pub language: Language,
    /// How many visits it can host per month.
    pub monthly_capacity: i32,
    /// Deactivated organisations vanish from the directory and matching,
    /// and their coordinators can no longer log in.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

super::named_enum! {
    /// What sort of public organisation this is. Stored as its snake_case name.
    #[derive(Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OrganisationKind ("organisation kind") {
        Municipality = "municipality",
        HousingCorporation = "housing_corporation",
        Province = "province",
        WaterBoard = "water_board",
        Other = "other",
    }
}

impl OrganisationKind {
    /// What `size` counts for this kind of organisation.
    pub fn size_unit(self) -> SizeUnit {
        match self {
            OrganisationKind::HousingCorporation => SizeUnit::RentalHomes,
            OrganisationKind::Other => SizeUnit::Employees,
            _ => SizeUnit::Inhabitants,
        }
    }
}

/// The unit of an organisation's `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeUnit {
    Inhabitants,
    RentalHomes,
    Employees,
}

/// Preferred language for emails and pages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Nl,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
        }
    }
}

impl FromStr for Language {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Ok(Language::Nl),
            "en" => Ok(Language::En),
            _ => Err(Invalid::new(format!(
                "unknown language '{s}'; expected nl or en"
            ))),
        }
    }
}

/// Stable identifier of an organisation: a CBS code (`GM0363`) for
/// municipalities, any short stable identifier for others. Stored upper case
/// so that `gm0363` and `GM0363` can never both exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganisationCode(String);

impl OrganisationCode {
    pub fn parse(raw: &str, kind: OrganisationKind) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        if kind == OrganisationKind::Municipality {
            let valid = code.len() == 6
                && code.starts_with("GM")
                && code[2..].bytes().all(|b| b.is_ascii_digit());
            if !valid {
                return Err(Invalid::new(format!(
                    "'{raw}' is not a CBS municipality code (GM followed by four digits, e.g. GM0363)"
                )));
            }
        } else {
            let valid = (2..=32).contains(&code.len())
                && code
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err(Invalid::new(format!(
                    "'{raw}' is not a valid code (2 to 32 letters, digits, '-', '_' or '.')"
                )));
            }
        }
        Ok(OrganisationCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The twelve Dutch provinces, in the spelling CBS uses.
pub const PROVINCES: [&str; 12] = [
    "Drenthe",
    "Flevoland",
    "Fryslân",
    "Gelderland",
    "Groningen",
    "Limburg",
    "Noord-Brabant",
    "Noord-Holland",
    "Overijssel",
    "Utrecht",
    "Zeeland",
    "Zuid-Holland",
];

/// Accepts a province name ignoring case and accents (`friesland` and
/// `Fryslan` both mean Fryslân) and returns the CBS spelling.
pub fn parse_province(raw: &str) -> Result<&'static str, Invalid> {
    let folded = super::search::fold(raw);
    if folded == "friesland" {
        return Ok("Fryslân");
    }
    PROVINCES
        .into_iter()
        .find(|p| super::search::fold(p) == folded)
        .ok_or_else(|| {
            Invalid::new(format!(
                "unknown province '{raw}'; expected one of: {}",
                PROVINCES.join(", ")
            ))
        })
}

/// A position in WGS84 degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

impl Coordinates {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, Invalid> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(Invalid::new(format!(
                "latitude {latitude} is out of range (-90 to 90 degrees)"
            )));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(Invalid::new(format!(
                "longitude {longitude} is out of range (-180 to 180 degrees)"
            )));
        }
        Ok(Coordinates {
            latitude,
            longitude,
        })
    }
}

/// An email address that mail can be delivered to: the mail library's own
/// parser (lettre's `Address`) must accept it, so that nothing accepted here
/// fails when the invitation is sent. On top of that, the part before the
/// `@` is ASCII (`a-z`, digits and ``!#$%&'*+/=?^_`{|}~-``, dots between
/// them: no quoted forms, which relays without SMTPUTF8 refuse), at most 64
/// characters; the domain is ASCII with at least two dot-separated labels
/// (international domains in their `xn--` form); at most 254 characters in
/// all. The OpenAPI pattern states the same shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEmail(String);

/// The characters RFC 5322 allows in an unquoted local part (`atext`).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

impl ContactEmail {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new(format!("'{raw}' is not a valid email address"));
        if raw.chars().count() > 254 {
            return Err(bad());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(bad)?;
        let local_ok = (1..=64).contains(&local.len())
            && local
                .split('.')
                .all(|atom| !atom.is_empty() && atom.chars().all(is_atext));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                (1..=63).contains(&l.len())
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !local_ok || !domain_ok {
            return Err(bad());
        }
        let address = format!("{local}@{}", domain.to_ascii_lowercase());
        address.parse::<lettre::Address>().map_err(|_| bad())?;
        Ok(ContactEmail(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Upper bound for `size`: far above any Dutch organisation, low enough to
/// catch a shifted column.
pub const MAX_SIZE: i64 = 100_000_000;

pub fn parse_size(raw: &str) -> Result<i64, Invalid> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (0..=MAX_SIZE).contains(&n) => Ok(n),
        _ => Err(Invalid::new(format!(
            "size '{raw}' must be a whole number from 0 to {MAX_SIZE}"
        ))),
    }
}

pub const MAX_NAME_LEN: usize = 200;

pub fn parse_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Invalid::new("name is empty"));
    }
    // Control characters are refused before trimming: `trim` also removes
    // some (U+0085), and the schema forbids them anywhere.
    if name.chars().count() > MAX_NAME_LEN || raw.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "name must be at most {MAX_NAME_LEN} characters without control characters"
        )));
    }
    Ok(name.to_string())
}

/// The default number of visits an organisation can host per month until it
/// says otherwise.
pub const DEFAULT_MONTHLY_CAPACITY: i32 = 2;

/// Visits per month an organisation can host: 0 (not hosting now) to 31.
pub fn parse_capacity(n: i64) -> Result<i32, Invalid> {
    if (0..=31).contains(&n) {
        Ok(n as i32)
    } else {
        Err(Invalid::new(format!(
            "monthly hosting capacity {n} must be between 0 and 31"
        )))
    }
}

/// `28000` → `28,000` (en) or `28.000` (nl).
pub fn thousands(n: i64, lang: Language) -> String {
    let sep = match lang {
        Language::En => ',',
        Language::Nl => '.',
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(d);
    }
    out
}

/// The kind as a word: "gemeente", "water board".
pub fn kind_name(kind: OrganisationKind, lang: Language) -> &'static str {
    use OrganisationKind::*;
    match (kind, lang) {
        (Municipality, Language::En) => "municipality",
        (Municipality, Language::Nl) => "gemeente",
        (HousingCorporation, Language::En) => "housing corporation",
        (HousingCorporation, Language::Nl) => "woningcorporatie",
        (Province, Language::En) => "province",
        (Province, Language::Nl) => "provincie",
        (WaterBoard, Language::En) => "water board",
        (WaterBoard, Language::Nl) => "waterschap",
        (Other, Language::En) => "other organisation",
        (Other, Language::Nl) => "andere organisatie",
    }
}

pub fn unit(kind: OrganisationKind, lang: Language) -> &'static str {
    match (kind.size_unit(), lang) {
        (SizeUnit::Inhabitants, Language::En) => "inhabitants",
        (SizeUnit::Inhabitants, Language::Nl) => "inwoners",
        (SizeUnit::RentalHomes, Language::En) => "rental homes",
        (SizeUnit::RentalHomes, Language::Nl) => "huurwoningen",
        (SizeUnit::Employees, Language::En) => "employees",
        (SizeUnit::Employees, Language::Nl) => "medewerkers",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_but_control_characters_are_refused_anywhere() {
        assert_eq!(parse_name("  Zwolle ").unwrap(), "Zwolle");
        // U+0085 (NEL) is a control character that `trim` would remove.
        for bad in ["TKn\u{0085}", "Zwolle\t", "\nZwolle", "Zwo\u{7f}lle", "   "] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn municipality_codes_must_be_cbs_codes() {
        let m = OrganisationKind::Municipality;
        assert_eq!(
            OrganisationCode::parse(" gm0363", m).unwrap().as_str(),
            "GM0363"
        );
        for bad in ["GM363", "GM03633", "XX0363", "GM03A3", ""] {
            assert!(OrganisationCode::parse(bad, m).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_codes_are_short_identifiers() {
        let h = OrganisationKind::HousingCorporation;
        assert_eq!(
            OrganisationCode::parse("ymere", h).unwrap().as_str(),
            "YMERE"
        );
        assert!(OrganisationCode::parse("-x", h).is_err());
        assert!(OrganisationCode::parse("a b", h).is_err());
        assert!(OrganisationCode::parse(&"A".repeat(33), h).is_err());
    }

    #[test]
    fn provinces_ignore_case_and_accents() {
        assert_eq!(parse_province("fryslan").unwrap(), "Fryslân");
        assert_eq!(parse_province("Friesland").unwrap(), "Fryslân");
        assert_eq!(parse_province("noord-holland").unwrap(), "Noord-Holland");
        assert!(parse_province("Vlaanderen").is_err());
    }

    #[test]
    fn coordinates_are_range_checked() {
        assert!(Coordinates::new(52.37, 4.89).is_ok());
        assert!(Coordinates::new(91.0, 4.0).is_err());
        assert!(Coordinates::new(52.0, 181.0).is_err());
        assert!(Coordinates::new(f64::NAN, 4.0).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            ContactEmail::parse("Info@Gemeente.NL").unwrap().as_str(),
            "Info@gemeente.nl"
        );
        for bad in [
            "no-at",
            "a@b",
            "a@@b.nl",
            "@b.nl",
            "a b@c.nl",
            "a@.nl",
            "a@b..nl",
            " a@b.nl",
            "a@b_c.nl",
            // What the mail layer would refuse at sending time.
            "<svg/onload=alert(3)>@swf.example",
            "\"quoted\"@b.nl",
            "a,b@c.nl",
            "a;b@c.nl",
            "a(b)@c.nl",
            "a\\b@c.nl",
            ".a@b.nl",
            "a.@b.nl",
            "a..b@c.nl",
            "josé@b.nl",
        ] {
            assert!(ContactEmail::parse(bad).is_err(), "{bad}");
        }
        // Whatever passes is an address the mail library takes.
        for good in [
            "info@gemeente.nl",
            "first.last+tag@sub.gemeente.nl",
            "o'brien@x-y.example",
            "a!#$%&'*+/=?^_`{|}~-@b.nl",
        ] {
            let parsed = ContactEmail::parse(good).unwrap();
            assert!(parsed.as_str().parse::<lettre::Address>().is_ok(), "{good}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in OrganisationKind::ALL {
            assert_eq!(k.as_str().parse::<OrganisationKind>().unwrap(), k);
        }
        assert!("gemeente".parse::<OrganisationKind>().is_err());
    }
}

/// Profile fields an organisation edits itself; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub province: Option<&'static str>,
    pub size: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub contact_email: Option<ContactEmail>,
    pub language: Option<Language>,
    pub monthly_capacity: Option<i32>,
}
