//! Reasons in plain Dutch or English: why a host is proposed, or why not.

use super::{Candidate, Exclusion, Host, SnapshotTopic};
use crate::domain::organisation::{Language, OrganisationKind, SizeUnit};

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

/// Whole kilometres, "less than 1 km" below one.
fn km(distance: f64, lang: Language) -> String {
    let whole = distance.round() as i64;
    match (whole, lang) {
        (0, Language::En) => "less than 1 km".into(),
        (0, Language::Nl) => "minder dan 1 km".into(),
        (n, lang) => format!("{} km", thousands(n, lang)),
    }
}

fn decimal(x: f64, lang: Language) -> String {
    let s = format!("{x:.1}");
    match lang {
        Language::En => s,
        Language::Nl => s.replace('.', ","),
    }
}

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

fn topic_name(topic: &SnapshotTopic, lang: Language) -> &str {
    match lang {
        Language::En => &topic.name_en,
        Language::Nl => &topic.name_nl,
    }
}

/// One sentence per component, in the order of the model.
pub fn reasons(
    candidate: &Candidate,
    requester: &Host,
    host: &Host,
    topic: &SnapshotTopic,
    horizon_months: u32,
    lang: Language,
) -> Vec<String> {
    let en = lang == Language::En;
    let name = topic_name(topic, lang);
    let mut out = Vec::with_capacity(6);
    out.push(match (candidate.since_year, en) {
        (Some(y), true) => format!("Maturity {}/5 on {name} (since {y})", candidate.level),
        (Some(y), false) => format!("Volwassenheid {}/5 op {name} (sinds {y})", candidate.level),
        (None, true) => format!("Maturity {}/5 on {name}", candidate.level),
        (None, false) => format!("Volwassenheid {}/5 op {name}", candidate.level),
    });
    let r = candidate.reputation;
    let published = match (r.published, en) {
        (0, _) => String::new(),
        (1, true) => " (1 published lesson)".to_string(),
        (1, false) => " (1 gepubliceerde les)".to_string(),
        (n, true) => format!(" ({n} published lessons)"),
        (n, false) => format!(" ({n} gepubliceerde lessen)"),
    };
    out.push(match (r.visits, en) {
        (0, true) => format!("No ratings from earlier visits yet{published}"),
        (0, false) => format!("Nog geen beoordelingen van eerdere bezoeken{published}"),
        (1, true) => format!(
            "Rated {}/5 by 1 earlier visitor{published}",
            decimal(r.mean_rating, lang)
        ),
        (1, false) => format!(
            "Beoordeeld met {}/5 door 1 eerdere bezoeker{published}",
            decimal(r.mean_rating, lang)
        ),
        (n, true) => format!(
            "Rated {}/5 by {n} earlier visitors{published}",
            decimal(r.mean_rating, lang)
        ),
        (n, false) => format!(
            "Beoordeeld met {}/5 door {n} eerdere bezoekers{published}",
            decimal(r.mean_rating, lang)
        ),
    });
    out.push(if host.kind != requester.kind {
        if en {
            format!(
                "Another kind of organisation: {}",
                kind_name(host.kind, lang)
            )
        } else {
            format!("Andere soort organisatie: {}", kind_name(host.kind, lang))
        }
    } else {
        let sizes = format!(
            "{} {} {} {}",
            thousands(host.size, lang),
            if en { "vs" } else { "tegen" },
            thousands(requester.size, lang),
            unit(host.kind, lang)
        );
        // Within a factor three counts as similar (size part of the component ≥ 0.76).
        let ratio = (host.size.max(1) as f64) / (requester.size.max(1) as f64);
        match ((1.0 / 3.0..=3.0).contains(&ratio), en) {
            (true, true) => format!("Similar size: {sizes}"),
            (true, false) => format!("Vergelijkbare omvang: {sizes}"),
            (false, true) => format!(
                "Also a {}, of another size: {sizes}",
                kind_name(host.kind, lang)
            ),
            (false, false) => format!(
                "Ook een {}, van andere omvang: {sizes}",
                kind_name(host.kind, lang)
            ),
        }
    });
    out.push(if en {
        format!("{} away", km(candidate.distance_km, lang))
    } else {
        format!("{} verderop", km(candidate.distance_km, lang))
    });
    out.push(if en {
        format!(
            "{} of {} visit slots free in the coming {horizon_months} months",
            candidate.capacity_left, candidate.capacity
        )
    } else {
        format!(
            "{} van {} plekken vrij in de komende {horizon_months} maanden",
            candidate.capacity_left, candidate.capacity
        )
    });
    out.push(match (candidate.activity.hosted_recently, en) {
        (1, true) => "Hosted 1 visit this quarter".to_string(),
        (n, true) => format!("Hosted {n} visits this quarter"),
        (1, false) => "1 bezoek ontvangen dit kwartaal".to_string(),
        (n, false) => format!("{n} bezoeken ontvangen dit kwartaal"),
    });
    out
}

/// The hard filter that excluded a candidate, as a sentence.
pub fn exclusion(reason: &Exclusion, topic: &SnapshotTopic, lang: Language) -> String {
    let en = lang == Language::En;
    let name = topic_name(topic, lang);
    match reason {
        Exclusion::Requester if en => "This is your own organisation".into(),
        Exclusion::Requester => "Dit is uw eigen organisatie".into(),
        Exclusion::NotInDirectory if en => "Not in the directory (unknown or deactivated)".into(),
        Exclusion::NotInDirectory => "Staat niet in de gids (onbekend of gedeactiveerd)".into(),
        Exclusion::NoExpertise if en => format!("Has no expertise on {name}"),
        Exclusion::NoExpertise => format!("Heeft geen expertise op {name}"),
        Exclusion::NotWillingToHost if en => {
            format!("Does not host visits on {name} at the moment")
        }
        Exclusion::NotWillingToHost => format!("Ontvangt op dit moment geen bezoek over {name}"),
        Exclusion::NotAhead {
            host_level,
            requester_level,
        } if en => format!(
            "Not further than you on {name}: level {host_level}/5, yours is {requester_level}/5"
        ),
        Exclusion::NotAhead {
            host_level,
            requester_level,
        } => format!(
            "Niet verder dan u op {name}: niveau {host_level}/5, het uwe is {requester_level}/5"
        ),
        Exclusion::DeclinedRecently if en => {
            format!("Recently declined a visit from you on {name}")
        }
        Exclusion::DeclinedRecently => {
            format!("Heeft onlangs een bezoek van u over {name} afgewezen")
        }
        Exclusion::NoCapacity if en => "No visit slots free in the coming months".into(),
        Exclusion::NoCapacity => "Geen plekken vrij in de komende maanden".into(),
        Exclusion::KindNotAsked { kind } if en => {
            format!("A {}, which your search left out", kind_name(*kind, lang))
        }
        Exclusion::KindNotAsked { kind } => {
            format!(
                "Een {}, die uw zoekopdracht uitsloot",
                kind_name(*kind, lang)
            )
        }
        Exclusion::ProvinceNotAsked { province } if en => format!(
            "In {}, not in the province you asked for",
            province.as_deref().unwrap_or("no province")
        ),
        Exclusion::ProvinceNotAsked { province } => format!(
            "Ligt in {}, niet in de gevraagde provincie",
            province.as_deref().unwrap_or("geen provincie")
        ),
        Exclusion::TooFar {
            distance_km,
            max_km,
        } if en => format!(
            "{} away, more than the {} you asked for",
            km(*distance_km, lang),
            km(*max_km, lang)
        ),
        Exclusion::TooFar {
            distance_km,
            max_km,
        } => format!(
            "{} verderop, meer dan de gevraagde {}",
            km(*distance_km, lang),
            km(*max_km, lang)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_use_the_language_separator() {
        assert_eq!(thousands(28_000, Language::En), "28,000");
        assert_eq!(thousands(28_000, Language::Nl), "28.000");
        assert_eq!(thousands(931_298, Language::Nl), "931.298");
        assert_eq!(thousands(999, Language::En), "999");
        assert_eq!(thousands(1_000_000, Language::En), "1,000,000");
        assert_eq!(thousands(0, Language::En), "0");
    }

    #[test]
    fn distances_are_whole_kilometres() {
        assert_eq!(km(31.6, Language::En), "32 km");
        assert_eq!(km(0.4, Language::Nl), "minder dan 1 km");
        assert_eq!(km(1234.0, Language::Nl), "1.234 km");
    }
}
