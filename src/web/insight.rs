//! The pages that picture who learns from whom (issue 22): statistics as
//! charts, a topic's map and learning network, an organisation's learning
//! history. Every chart comes with a table of the same figures.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::charts::{self, Bar, MapMark, NetNode};
use super::session::{Nav, OnPage};
use super::{page, Chrome, PageResult, Session, WebError};
use crate::domain::insight::{AppliedCounts, Party};
use crate::domain::organisation::{kind_name, Language, OrganisationId, OrganisationKind};
use crate::domain::stats::Month;
use crate::domain::topic::TopicSlug;
use crate::service::insight;
use crate::service::reader::Reader;

/// A table beside a chart: its caption, head and rows, all as text.
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A table cell, with a link when it names an organisation.
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, href: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::from(text.to_string())
    }
}

/// A chart and its table.
pub struct Figure {
    pub heading: String,
    /// The heading's id, for `aria-labelledby`.
    pub id: String,
    pub svg: String,
    pub table: Table,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_string(), |r| format!("{:.0}%", r * 100.0))
}

fn decimal(v: f64, lang: Language) -> String {
    let s = format!("{v:.1}");
    match lang {
        Language::Nl => s.replace('.', ","),
        Language::En => s,
    }
}

/// "nov", with the year under the first column and every January.
fn short_month(m: Month, first: bool, lang: Language) -> (String, Option<String>) {
    let name = m
        .first_day()
        .map(|d| crate::domain::calendar::month_name(d, lang))
        .unwrap_or_default();
    let head: String = name.chars().take(3).collect();
    (head, (first || m.month == 1).then(|| m.year.to_string()))
}

fn t(lang: Language, nl: &str, en: &str) -> String {
    match lang {
        Language::Nl => nl.to_string(),
        Language::En => en.to_string(),
    }
}

#[derive(Template)]
#[template(path = "web/statistics.html")]
struct StatisticsPage {
    c: Chrome,
    from: String,
    to: String,
    error: Option<String>,
    figures: Vec<Figure>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Period {
    from: String,
    to: String,
}

/// GET /statistics: the figures of `GET /api/v1/stats` as charts.
pub async fn statistics(session: Session, req: HttpRequest) -> PageResult {
    let lang = session.lang;
    let asked: Period = super::decode(req.query_string().as_bytes(), lang)?;
    let this_month = Month::of(session.ctx().today());
    let mut error = None;
    let mut month = |raw: &str, default: Month| match raw.trim() {
        "" => default,
        raw => Month::parse(raw).unwrap_or_else(|_| {
            error = Some(t(
                lang,
                "Een maand schrijf je als 2027-03.",
                "Write a month as 2027-03.",
            ));
            default
        }),
    };
    let mut to = month(&asked.to, this_month);
    let mut from = month(&asked.from, to.minus(11));
    if from > to || to.minus(35) > from {
        error = Some(t(
            lang,
            "Kies hoogstens 36 maanden, de eerste niet na de laatste.",
            "Pick at most 36 months, the first not after the last.",
        ));
        (from, to) = (this_month.minus(11), this_month);
    }
    let found = insight::figures(
        session.ctx(),
        Reader::User(session.user.clone()),
        from,
        to,
        lang,
    )
    .await
    .on_page(lang)?;
    let figures = statistics_figures(&found, from, to, lang);
    Ok(page(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &StatisticsPage {
            c: session.chrome(Nav::Statistics),
            from: from.to_string(),
            to: to.to_string(),
            error,
            figures,
        },
    ))
}

fn statistics_figures(
    found: &insight::Figures,
    from: Month,
    to: Month,
    lang: Language,
) -> Vec<Figure> {
    let stats = &found.stats;
    let name = |slug: &str| {
        found
            .topics
            .iter()
            .find(|t| t.slug == slug)
            .map_or_else(|| slug.to_string(), |t| t.name(lang).to_string())
    };
    let months = from.through(to);
    let period = format!("{from} – {to}");
    let mut figures = Vec::new();

    // Visits per topic per month.
    let mut slugs: Vec<&String> = stats.visits.keys().map(|(t, _)| t).collect();
    slugs.dedup();
    let mut series: Vec<(String, Vec<u32>)> = slugs
        .iter()
        .map(|slug| {
            let counts = months
                .iter()
                .map(|m| {
                    stats
                        .visits
                        .get(&((*slug).clone(), *m))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            (name(slug), counts)
        })
        .collect();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let labels: Vec<(String, Option<String>)> = months
        .iter()
        .enumerate()
        .map(|(i, m)| short_month(*m, i == 0, lang))
        .collect();
    let total: u32 = series.iter().flat_map(|s| s.1.iter()).sum();
    figures.push(Figure {
        heading: t(lang, "Meeloopdagen per onderwerp per maand", "Shadow visits per topic per month"),
        id: "visits".into(),
        svg: charts::month_columns(
            "visits-chart",
            &t(lang, "Meeloopdagen per onderwerp per maand", "Shadow visits per topic per month"),
            &match lang {
                Language::Nl => format!("{total} geplande of gehouden meeloopdagen van {period}, per onderwerp een rij met een staaf per maand."),
                Language::En => format!("{total} scheduled or held shadow visits from {period}, a row per topic with a bar per month."),
            },
            &labels,
            &series,
        ),
        table: Table {
            caption: t(lang, "Meeloopdagen per onderwerp per maand (gepland of gehouden)", "Shadow visits per topic per month (scheduled or held)"),
            head: [t(lang, "Onderwerp", "Topic"), t(lang, "Maand", "Month"), t(lang, "Meeloopdagen", "Visits")].into(),
            rows: stats
                .visits
                .iter()
                .map(|((slug, m), n)| vec![name(slug).into(), m.to_string().into(), n.to_string().into()])
                .collect(),
        },
    });

    // The lessons forms.
    let rate = stats.response_rate();
    let forms = format!("{} / {}", stats.forms_answered, stats.forms_sent);
    figures.push(Figure {
        heading: t(
            lang,
            "Beantwoorde lessenformulieren",
            "Lessons forms answered",
        ),
        id: "forms".into(),
        svg: charts::bars(
            "forms-chart",
            &t(
                lang,
                "Beantwoorde lessenformulieren",
                "Lessons forms answered",
            ),
            &match lang {
                Language::Nl => format!(
                    "{} van de {} formulieren beantwoord ({}).",
                    stats.forms_answered,
                    stats.forms_sent,
                    percent(rate)
                ),
                Language::En => format!(
                    "{} of {} forms answered ({}).",
                    stats.forms_answered,
                    stats.forms_sent,
                    percent(rate)
                ),
            },
            &[Bar {
                label: t(lang, "Beantwoord", "Answered"),
                value: rate.unwrap_or(0.0),
                text: format!("{} ({forms})", percent(rate)),
            }],
            Some(1.0),
        ),
        table: Table {
            caption: t(
                lang,
                "Lessenformulieren van de gehouden meeloopdagen (twee per dag)",
                "Lessons forms of the held visits (two per visit)",
            ),
            head: [
                t(lang, "Verstuurd", "Sent"),
                t(lang, "Beantwoord", "Answered"),
                t(lang, "Respons", "Response rate"),
            ]
            .into(),
            rows: vec![vec![
                stats.forms_sent.to_string().into(),
                stats.forms_answered.to_string().into(),
                percent(rate).into(),
            ]],
        },
    });

    // Hours saved per topic.
    let mut saved: Vec<(String, i64, u32)> = stats
        .time_saved
        .iter()
        .map(|(slug, (hours, lessons))| (name(slug), *hours, *lessons))
        .collect();
    saved.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let hours_word = t(lang, "uur", "hours");
    figures.push(Figure {
        heading: t(lang, "Bespaarde uren per onderwerp", "Hours saved per topic"),
        id: "hours".into(),
        svg: charts::bars(
            "hours-chart",
            &t(lang, "Bespaarde uren per onderwerp", "Hours saved per topic"),
            &t(lang, "De uren die de lessen van de meeloopdagen schatten, per onderwerp, meeste bovenaan.", "The hours the visits' lessons estimate they saved, per topic, most first."),
            &saved
                .iter()
                .map(|(topic, hours, _)| Bar {
                    label: topic.clone(),
                    value: *hours as f64,
                    text: format!("{hours} {hours_word}"),
                })
                .collect::<Vec<_>>(),
            None,
        ),
        table: Table {
            caption: t(lang, "Bespaarde uren per onderwerp, volgens de lessen", "Hours saved per topic, as the lessons say"),
            head: [t(lang, "Onderwerp", "Topic"), t(lang, "Uren", "Hours"), t(lang, "Lessen", "Lessons")].into(),
            rows: saved
                .iter()
                .map(|(topic, hours, lessons)| vec![topic.as_str().into(), hours.to_string().into(), lessons.to_string().into()])
                .collect(),
        },
    });

    // How hosts answer.
    let mut answers: Vec<(String, &crate::domain::stats::Answers)> = stats
        .answers
        .iter()
        .map(|(slug, a)| (name(slug), a))
        .collect();
    answers.sort_by(|a, b| a.0.cmp(&b.0));
    figures.push(Figure {
        heading: t(lang, "Geaccepteerde verzoeken per onderwerp", "Requests accepted per topic"),
        id: "acceptance".into(),
        svg: charts::bars(
            "acceptance-chart",
            &t(lang, "Geaccepteerde verzoeken per onderwerp", "Requests accepted per topic"),
            &t(lang, "Van de verzoeken die de gastorganisatie accepteerde, afwees of liet verlopen: het deel dat ze accepteerde, per onderwerp.", "Of the requests the host accepted, declined or let run out: the share it accepted, per topic."),
            &answers
                .iter()
                .map(|(topic, a)| Bar {
                    label: topic.clone(),
                    value: a.acceptance_rate().unwrap_or(0.0),
                    text: format!(
                        "{} ({} / {})",
                        percent(a.acceptance_rate()),
                        a.accepted,
                        a.accepted + a.declined + a.expired
                    ),
                })
                .collect::<Vec<_>>(),
            Some(1.0),
        ),
        table: Table {
            caption: t(lang, "Verzoeken die in de periode zijn gedaan, per onderwerp", "Requests made in the period, per topic"),
            head: [
                t(lang, "Onderwerp", "Topic"),
                t(lang, "Verzoeken", "Requests"),
                t(lang, "Geaccepteerd", "Accepted"),
                t(lang, "Afgewezen", "Declined"),
                t(lang, "Verlopen", "Expired"),
                t(lang, "Acceptatie", "Acceptance"),
                t(lang, "Antwoord na (dagen, mediaan)", "Answered after (days, median)"),
            ]
            .into(),
            rows: answers
                .iter()
                .map(|(topic, a)| {
                    vec![
                        topic.as_str().into(),
                        a.requests.to_string().into(),
                        a.accepted.to_string().into(),
                        a.declined.to_string().into(),
                        a.expired.to_string().into(),
                        percent(a.acceptance_rate()).into(),
                        a.median_hours.map_or_else(|| "–".to_string(), |h| decimal(h / 24.0, lang)).into(),
                    ]
                })
                .collect(),
        },
    });
    let answered: Vec<&(String, &crate::domain::stats::Answers)> = answers
        .iter()
        .filter(|(_, a)| a.median_hours.is_some())
        .collect();
    let days_word = t(lang, "dagen", "days");
    figures.push(Figure {
        heading: t(lang, "Tijd tot een antwoord per onderwerp", "Time to an answer per topic"),
        id: "answer-time".into(),
        svg: charts::bars(
            "answer-time-chart",
            &t(lang, "Tijd tot een antwoord per onderwerp", "Time to an answer per topic"),
            &t(lang, "De mediaan van de tijd tussen verzoek en antwoord van de gastorganisatie, in dagen, per onderwerp.", "The median time from a request to the host's answer, in days, per topic."),
            &answered
                .iter()
                .map(|(topic, a)| {
                    let days = a.median_hours.unwrap_or(0.0) / 24.0;
                    Bar {
                        label: topic.clone(),
                        value: days,
                        text: format!("{} {days_word}", decimal(days, lang)),
                    }
                })
                .collect::<Vec<_>>(),
            None,
        ),
        table: Table {
            caption: t(lang, "Mediane tijd tot een antwoord, per onderwerp", "Median time to an answer, per topic"),
            head: [t(lang, "Onderwerp", "Topic"), t(lang, "Dagen (mediaan)", "Days (median)"), t(lang, "Beantwoorde verzoeken", "Requests answered")].into(),
            rows: answered
                .iter()
                .map(|(topic, a)| {
                    vec![
                        topic.as_str().into(),
                        decimal(a.median_hours.unwrap_or(0.0) / 24.0, lang).into(),
                        (a.accepted + a.declined).to_string().into(),
                    ]
                })
                .collect(),
        },
    });
    figures
}

#[derive(Template)]
#[template(path = "web/topic.html")]
struct TopicPage {
    c: Chrome,
    slug: String,
    name: String,
    figures: Vec<Figure>,
}

const KINDS: [OrganisationKind; 5] = [
    OrganisationKind::Municipality,
    OrganisationKind::HousingCorporation,
    OrganisationKind::Province,
    OrganisationKind::WaterBoard,
    OrganisationKind::Other,
];

fn organisation_link(id: OrganisationId) -> Option<String> {
    Some(format!("/organisations/{}", id.0))
}

/// GET /topics/{slug}: the topic's map and learning network.
pub async fn topic(session: Session, slug: web::Path<String>) -> PageResult {
    let lang = session.lang;
    let slug = TopicSlug::parse(&slug).map_err(|_| WebError::not_found(lang))?;
    let picture = insight::topic_picture(
        session.ctx(),
        &Reader::User(session.user.clone()),
        &slug,
        lang,
    )
    .await
    .on_page(lang)?;
    let name = picture.topic.name(lang).to_string();
    let since = crate::domain::calendar::month_name(picture.since, lang);
    let yes_no = |b: bool| {
        t(
            lang,
            if b { "ja" } else { "nee" },
            if b { "yes" } else { "no" },
        )
    };

    // The map.
    let kinds: Vec<(OrganisationKind, String)> = KINDS
        .iter()
        .filter(|k| picture.experts.iter().any(|e| e.host.kind == **k))
        .map(|k| (*k, kind_name(*k, lang).to_string()))
        .collect();
    let marks: Vec<MapMark> = picture
        .experts
        .iter()
        .map(|e| MapMark {
            latitude: e.host.latitude,
            longitude: e.host.longitude,
            kind: e.host.kind,
            level: e.level,
            best: e.best,
            label: match lang {
                Language::Nl => format!(
                    "{} ({}), niveau {}",
                    e.host.name,
                    kind_name(e.host.kind, lang),
                    e.level
                ),
                Language::En => format!(
                    "{} ({}), level {}",
                    e.host.name,
                    kind_name(e.host.kind, lang),
                    e.level
                ),
            },
        })
        .collect();
    let best_count = picture.experts.iter().filter(|e| e.best).count();
    let map = Figure {
        heading: t(lang, "Wie heeft expertise, en waar", "Who has expertise, and where"),
        id: "map".into(),
        svg: charts::map(
            "map-chart",
            &match lang {
                Language::Nl => format!("Kaart: expertise op {name}"),
                Language::En => format!("Map: expertise on {name}"),
            },
            &match lang {
                Language::Nl => format!("Kaart van Nederland getekend uit de coördinaten van alle gemeenten en alle {} organisaties in de gids (grijze stippen). {} organisaties met expertise op {name} zijn gemarkeerd: de vorm en kleur geven de soort organisatie, de grootte het niveau (1–5); de {best_count} beste van de klas hebben een dikke rand.", picture.directory.len(), marks.len()),
                Language::En => format!("Map of the Netherlands drawn from the coordinates of every municipality and all {} organisations in the directory (grey dots). {} organisations with expertise on {name} are marked: shape and colour give the kind of organisation, size the level (1–5); the {best_count} best in class have a thick outline.", picture.directory.len(), marks.len()),
            },
            &charts::municipalities()
                .chain(picture.directory.iter().copied())
                .collect::<Vec<_>>(),
            &marks,
            (
                &kinds,
                &t(lang, "beste van de klas", "best in class"),
                match lang {
                    Language::Nl => ["niveau 1", "niveau 5"],
                    Language::En => ["level 1", "level 5"],
                },
            ),
        ),
        table: Table {
            caption: match lang {
                Language::Nl => format!("Organisaties met expertise op {name}, beste eerst"),
                Language::En => format!("Organisations with expertise on {name}, best first"),
            },
            head: [
                t(lang, "Organisatie", "Organisation"),
                t(lang, "Soort", "Kind"),
                t(lang, "Provincie", "Province"),
                t(lang, "Niveau", "Level"),
                t(lang, "Reputatie (1–5)", "Reputation (1–5)"),
                t(lang, "Beste van de klas", "Best in class"),
            ]
            .into(),
            rows: picture
                .experts
                .iter()
                .map(|e| {
                    vec![
                        Cell {
                            text: e.host.name.clone(),
                            href: organisation_link(e.host.id),
                        },
                        kind_name(e.host.kind, lang).into(),
                        e.host.province.clone().unwrap_or_default().into(),
                        e.level.to_string().into(),
                        decimal(e.reputation.score, lang).into(),
                        yes_no(e.best).into(),
                    ]
                })
                .collect(),
        },
    };

    // The learning network.
    let nodes: Vec<NetNode> = picture
        .network
        .nodes
        .iter()
        .zip(&picture.labels)
        .map(|(node, label)| NetNode {
            label: label.label.clone(),
            kind: label.kind,
            standing: node.standing,
            named: matches!(node.party, Party::Named(_)),
            summary: match lang {
                Language::Nl => format!(
                    "{}: {} bezocht, {} ontvangen",
                    label.label, node.visits_made, node.visits_hosted
                ),
                Language::En => format!(
                    "{}: {} made, {} hosted",
                    label.label, node.visits_made, node.visits_hosted
                ),
            },
        })
        .collect();
    let edges = &picture.network.edges;
    let cell = |i: usize| {
        let label = &picture.labels[i];
        Cell {
            text: label.label.clone(),
            href: label.host.as_ref().and_then(|h| organisation_link(h.id)),
        }
    };
    let network = Figure {
        heading: t(lang, "Wie leerde van wie", "Who learnt from whom"),
        id: "network".into(),
        svg: charts::network(
            "network-chart",
            &match lang {
                Language::Nl => format!("Leernetwerk: {name}"),
                Language::En => format!("Learning network: {name}"),
            },
            &match lang {
                Language::Nl => format!("{} meeloopdagen op {name} sinds {since} tussen {} organisaties: een pijl per meeloopdag, van bezoeker naar gastorganisatie. De beste van de klas staan in het midden, de andere gastorganisaties in een ring eromheen, de bezoekers daarbuiten.", edges.len(), nodes.len()),
                Language::En => format!("{} shadow visits on {name} since {since} between {} organisations: an arrow per visit, from visitor to host. The best in class are in the middle, the other hosts in a ring around them, the visitors outside.", edges.len(), nodes.len()),
            },
            &nodes,
            edges,
            &t(lang, "Nog geen gehouden meeloopdagen op dit onderwerp.", "No shadow visits held on this topic yet."),
        ),
        table: Table {
            caption: match lang {
                Language::Nl => format!("Gehouden meeloopdagen op {name} sinds {since}, per bezoeker en gastorganisatie"),
                Language::En => format!("Shadow visits held on {name} since {since}, by visitor and host"),
            },
            head: [t(lang, "Bezoeker", "Visitor"), t(lang, "Gastorganisatie", "Host"), t(lang, "Meeloopdagen", "Visits")].into(),
            rows: picture
                .network
                .pairs()
                .into_iter()
                .map(|(from, to, n)| vec![cell(from), cell(to), n.to_string().into()])
                .collect(),
        },
    };
    Ok(page(
        StatusCode::OK,
        &TopicPage {
            c: session.chrome(Nav::Knowledge),
            slug: slug.as_str().to_string(),
            name,
            figures: vec![map, network],
        },
    ))
}

#[derive(Template)]
#[template(path = "web/organisation_page.html")]
struct OrganisationPage {
    c: Chrome,
    name: String,
    kind: String,
    province: String,
    expertise: Vec<(String, String, u8)>,
    facts: Vec<(String, String)>,
    figure: Option<Figure>,
}

/// "3 van 4 (75%)", or "nog geen antwoorden" (also the knowledge page's
/// leaders table).
pub(super) fn applied_text(a: &AppliedCounts, lang: Language) -> String {
    match (a.answered(), lang) {
        (0, Language::Nl) => "nog geen antwoorden".into(),
        (0, Language::En) => "no answers yet".into(),
        (n, Language::Nl) => format!("{} van {n} ({})", a.yes + a.partly, percent(a.rate())),
        (n, Language::En) => format!("{} of {n} ({})", a.yes + a.partly, percent(a.rate())),
    }
}

/// GET /organisations/{id}: an organisation's entry and learning history.
pub async fn organisation(session: Session, id: web::Path<String>) -> PageResult {
    let lang = session.lang;
    let id = OrganisationId(id.parse().map_err(|_| WebError::not_found(lang))?);
    let found = insight::organisation_page(session.ctx(), &session.user, id)
        .await
        .on_page(lang)?;
    let h = &found.history;
    let facts = vec![
        (
            t(lang, "Meeloopdagen bij anderen", "Shadow visits made"),
            h.visits_made.to_string(),
        ),
        (
            t(lang, "Meeloopdagen ontvangen", "Shadow visits hosted"),
            h.visits_hosted.to_string(),
        ),
        (
            t(lang, "Gepubliceerde lessen", "Lessons published"),
            h.lessons_published.to_string(),
        ),
        (
            t(
                lang,
                "Uren die bezoekers hier bespaarden",
                "Hours its visitors saved",
            ),
            h.hours_saved_for_others.to_string(),
        ),
        (
            t(
                lang,
                "Bezoekers die het geleerde toepasten (na drie maanden)",
                "Visitors who applied what they learnt (three months on)",
            ),
            applied_text(&h.applied, lang),
        ),
    ];
    let name = found.organisation.name.clone();
    let figure = (!h.per_year.is_empty()).then(|| Figure {
        heading: t(lang, "Meeloopdagen per jaar", "Shadow visits per year"),
        id: "years".into(),
        svg: charts::bars(
            "years-chart",
            &match lang {
                Language::Nl => format!("Meeloopdagen van {name} per jaar"),
                Language::En => format!("Shadow visits of {name} per year"),
            },
            &match lang {
                Language::Nl => format!("Per jaar een staaf voor de meeloopdagen bij anderen ({} in totaal) en een voor de ontvangen ({} in totaal).", h.visits_made, h.visits_hosted),
                Language::En => format!("Per year a bar for the visits made ({} in all) and one for those hosted ({} in all).", h.visits_made, h.visits_hosted),
            },
            &h.per_year
                .iter()
                .flat_map(|(year, (made, hosted))| {
                    [
                        (t(lang, "bij anderen", "made"), *made),
                        (t(lang, "ontvangen", "hosted"), *hosted),
                    ]
                    .map(|(what, n)| Bar {
                        label: format!("{year}, {what}"),
                        value: f64::from(n),
                        text: n.to_string(),
                    })
                })
                .collect::<Vec<_>>(),
            None,
        ),
        table: Table {
            caption: match lang {
                Language::Nl => format!("Gehouden meeloopdagen van {name} per jaar"),
                Language::En => format!("Held shadow visits of {name} per year"),
            },
            head: [t(lang, "Jaar", "Year"), t(lang, "Bij anderen", "Made"), t(lang, "Ontvangen", "Hosted")].into(),
            rows: h
                .per_year
                .iter()
                .map(|(year, (made, hosted))| vec![year.to_string().into(), made.to_string().into(), hosted.to_string().into()])
                .collect(),
        },
    });
    Ok(page(
        StatusCode::OK,
        &OrganisationPage {
            c: session.chrome(Nav::Peers),
            kind: kind_name(found.organisation.kind, lang).to_string(),
            province: found.organisation.province.clone().unwrap_or_default(),
            expertise: found
                .expertise
                .iter()
                .map(|e| {
                    (
                        e.topic.slug.clone(),
                        e.topic.name(lang).to_string(),
                        e.level.get(),
                    )
                })
                .collect(),
            name,
            facts,
            figure,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_short_and_numbers_local() {
        let m = Month {
            year: 2026,
            month: 11,
        };
        assert_eq!(short_month(m, false, Language::Nl), ("nov".into(), None));
        assert_eq!(
            short_month(m, true, Language::En),
            ("Nov".into(), Some("2026".into()))
        );
        assert_eq!(decimal(1.25, Language::Nl), "1,2");
        assert_eq!(percent(Some(0.755)), "76%");
        assert_eq!(percent(None), "–");
        let mut a = AppliedCounts::default();
        assert_eq!(applied_text(&a, Language::Nl), "nog geen antwoorden");
        a.add(crate::domain::lesson::Applied::Yes);
        a.add(crate::domain::lesson::Applied::No);
        assert_eq!(applied_text(&a, Language::En), "1 of 2 (50%)");
    }
}
