//! Reasons in plain Dutch or English: why a host is proposed, or why not.

use super::{Candidate, Class, Exclusion, Host, Preference, SnapshotTopic};
use crate::domain::organisation::Language;
pub use crate::domain::organisation::{kind_name, thousands, unit};

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

fn topic_name(topic: &SnapshotTopic, lang: Language) -> &str {
    match lang {
        Language::En => &topic.name_en,
        Language::Nl => &topic.name_nl,
    }
}

/// Travel time by road, estimated from the straight-line distance: roads
/// are about a quarter longer than the crow flies, at 90 km/h on average.
/// Rounded to a quarter of an hour, at least one.
pub fn travel_minutes(distance_km: f64) -> u32 {
    let quarters = (road_minutes(distance_km) / 15.0).round().max(1.0);
    (quarters as u32).saturating_mul(15)
}

fn road_minutes(distance_km: f64) -> f64 {
    distance_km.max(0.0) * ROAD_FACTOR / ROAD_KMH * 60.0
}

const ROAD_FACTOR: f64 = 1.25;
const ROAD_KMH: f64 = 90.0;

/// "ongeveer anderhalf uur reizen" / "about an hour and a half of travel".
pub fn travel(distance_km: f64, lang: Language) -> String {
    let minutes = travel_minutes(distance_km);
    let nl = match minutes {
        15 => "een kwartier".to_string(),
        30 => "een half uur".to_string(),
        45 => "drie kwartier".to_string(),
        60 => "een uur".to_string(),
        75 => "een uur en een kwartier".to_string(),
        90 => "anderhalf uur".to_string(),
        105 => "een uur en drie kwartier".to_string(),
        _ => half_hours(distance_km, lang),
    };
    let en = match minutes {
        15 => "a quarter of an hour".to_string(),
        30 => "half an hour".to_string(),
        45 => "three quarters of an hour".to_string(),
        60 => "an hour".to_string(),
        75 => "an hour and a quarter".to_string(),
        90 => "an hour and a half".to_string(),
        105 => "an hour and three quarters".to_string(),
        _ => half_hours(distance_km, lang),
    };
    match lang {
        Language::Nl => format!("ongeveer {nl} reizen"),
        Language::En => format!("about {en} of travel"),
    }
}

/// Two hours and more, to the nearest half hour: "2,5 uur" / "2.5 hours".
fn half_hours(distance_km: f64, lang: Language) -> String {
    let halves = ((road_minutes(distance_km) / 30.0).round() as u32).max(4);
    let hours = if halves % 2 == 0 {
        (halves / 2).to_string()
    } else {
        decimal(f64::from(halves) / 2.0, lang)
    };
    match lang {
        Language::Nl => format!("{hours} uur"),
        Language::En => format!("{hours} hours"),
    }
}

/// "niveau 5 sinds 2019; 4,6 uit 5 van 7 bezoekers"
fn record(candidate: &Candidate, lang: Language) -> String {
    let level = match (candidate.since_year, lang) {
        (Some(y), Language::Nl) => format!("niveau {} sinds {y}", candidate.level),
        (Some(y), Language::En) => format!("level {} since {y}", candidate.level),
        (None, Language::Nl) => format!("niveau {}", candidate.level),
        (None, Language::En) => format!("level {}", candidate.level),
    };
    let r = candidate.reputation;
    let mean = decimal(r.mean_rating, lang);
    let rated = match (r.visits, lang) {
        (0, Language::Nl) => "nog geen beoordelingen".to_string(),
        (0, Language::En) => "no ratings yet".to_string(),
        (1, Language::Nl) => format!("{mean} uit 5 van 1 bezoeker"),
        (1, Language::En) => format!("{mean} out of 5 from 1 visitor"),
        (n, Language::Nl) => format!("{mean} uit 5 van {n} bezoekers"),
        (n, Language::En) => format!("{mean} out of 5 from {n} visitors"),
    };
    format!("{level}; {rated}")
}

/// The one sentence that says why this host: how good it is at the topic,
/// on what record, and how far away.
pub fn headline(
    candidate: &Candidate,
    host: &Host,
    topic: &SnapshotTopic,
    lang: Language,
) -> String {
    let name = topic_name(topic, lang);
    let standing = match (candidate.class, lang) {
        (Class::Best, Language::Nl) => format!("is de beste van de klas op {name}"),
        (Class::Best, Language::En) => format!("is the best in class on {name}"),
        (Class::AmongBest, Language::Nl) => format!("hoort bij de besten van de klas op {name}"),
        (Class::AmongBest, Language::En) => format!("is among the best in class on {name}"),
        (Class::Ahead, Language::Nl) => format!("is verder dan u op {name}"),
        (Class::Ahead, Language::En) => format!("is further along than you on {name}"),
    };
    format!(
        "{} {standing} ({}) — {}, {}",
        host.name,
        record(candidate, lang),
        km(candidate.distance_km, lang),
        travel(candidate.distance_km, lang)
    )
}

/// What ordered the list, in one sentence for the whole list.
pub fn ordering(preference: Preference, lang: Language) -> &'static str {
    match (preference, lang) {
        (Preference::Best, Language::Nl) => "De besten eerst: wie het verst is op het onderwerp (niveau, recente ervaring en beoordelingen van bezoekers) staat bovenaan. Bij minder dan een half niveau verschil gaan nabijheid, gelijkenis, vrije plekken en spreiding van de bezoeken voor.",
        (Preference::Best, Language::En) => "Best first: whoever is furthest along on the topic (level, recent experience and visitors' ratings) comes first. Within half a level of each other, proximity, similarity, free slots and spreading the visits decide.",
        (Preference::Near, Language::Nl) => "Dichtbij eerst: de kortste reis staat bovenaan. Bij vergelijkbare afstand gaan meesterschap, gelijkenis, vrije plekken en spreiding van de bezoeken voor.",
        (Preference::Near, Language::En) => "Nearby first: the shortest journey comes first. At comparable distances, mastery, similarity, free slots and spreading the visits decide.",
        (Preference::Similar, Language::Nl) => "Vergelijkbare organisaties eerst: dezelfde soort organisatie van vergelijkbare omvang staat bovenaan. Daarbinnen gaan meesterschap, nabijheid, vrije plekken en spreiding van de bezoeken voor.",
        (Preference::Similar, Language::En) => "Similar organisations first: the same kind of organisation of a similar size comes first. Among those, mastery, proximity, free slots and spreading the visits decide.",
    }
}

/// The chosen order, as a short reason on each match.
fn order_reason(preference: Preference, lang: Language) -> &'static str {
    match (preference, lang) {
        (Preference::Best, Language::Nl) => "Volgorde: de besten eerst",
        (Preference::Best, Language::En) => "Order: best first",
        (Preference::Near, Language::Nl) => "Volgorde: dichtbij eerst",
        (Preference::Near, Language::En) => "Order: nearby first",
        (Preference::Similar, Language::Nl) => "Volgorde: vergelijkbare organisaties eerst",
        (Preference::Similar, Language::En) => "Order: similar organisations first",
    }
}

/// Why this host, in plain sentences: the headline, the order that placed
/// it, then one sentence per component.
pub fn reasons(
    candidate: &Candidate,
    requester: &Host,
    host: &Host,
    topic: &SnapshotTopic,
    horizon_months: u32,
    preference: Preference,
    lang: Language,
) -> Vec<String> {
    let en = lang == Language::En;
    let mut out = Vec::with_capacity(7);
    out.push(headline(candidate, host, topic, lang));
    out.push(order_reason(preference, lang).to_string());
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
        format!(
            "{} away, {}",
            km(candidate.distance_km, lang),
            travel(candidate.distance_km, lang)
        )
    } else {
        format!(
            "{} verderop, {}",
            km(candidate.distance_km, lang),
            travel(candidate.distance_km, lang)
        )
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

    #[test]
    fn travel_time_is_said_the_way_people_say_it() {
        // Waddinxveen to Veere: 110 km as the crow flies.
        assert_eq!(travel_minutes(110.0), 90);
        assert_eq!(travel(110.0, Language::Nl), "ongeveer anderhalf uur reizen");
        assert_eq!(
            travel(110.0, Language::En),
            "about an hour and a half of travel"
        );
        assert_eq!(travel(0.3, Language::Nl), "ongeveer een kwartier reizen");
        assert_eq!(travel(12.0, Language::Nl), "ongeveer een kwartier reizen");
        assert_eq!(travel(36.0, Language::Nl), "ongeveer een half uur reizen");
        assert_eq!(
            travel(55.0, Language::En),
            "about three quarters of an hour of travel"
        );
        assert_eq!(travel(72.0, Language::Nl), "ongeveer een uur reizen");
        // Groningen to Maastricht, about 270 km.
        assert_eq!(travel_minutes(270.0), 225);
        assert_eq!(travel(270.0, Language::Nl), "ongeveer 4 uur reizen");
        assert_eq!(travel(160.0, Language::En), "about 2 hours of travel");
        assert_eq!(travel(200.0, Language::Nl), "ongeveer 3 uur reizen");
        assert_eq!(travel(240.0, Language::Nl), "ongeveer 3,5 uur reizen");
    }
}
