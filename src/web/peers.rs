//! "Find a peer": pick a topic and filters, see the ranked peers with
//! their reasons, ask "why not X?", and go on to request a visit.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use askama::Template;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::matching::text::kind_name;
use crate::domain::matching::{self as rules, Preference, DEFAULT_LIMIT};
use crate::domain::organisation::{parse_province, Language, OrganisationKind, PROVINCES};
use crate::domain::refusal::Kind;
use crate::domain::topic::TopicSlug;
use crate::service::matching::{self, CandidateStanding, Match, MatchExplanation, MatchRequest};

/// The search form as typed (kept when it comes back with an error).
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub topic: String,
    pub kinds: Vec<String>,
    pub province: String,
    pub distance: String,
    pub name: String,
    pub prefer: String,
}

impl Search {
    fn from_query(req: &HttpRequest, lang: Language) -> Result<Search, WebError> {
        let pairs: Vec<(String, String)> = super::decode(req.query_string().as_bytes(), lang)?;
        let mut s = Search::default();
        for (k, v) in pairs {
            match k.as_str() {
                "topic" => s.topic = v,
                "kind" => s.kinds.push(v),
                "province" => s.province = v,
                "distance" => s.distance = v.trim().to_string(),
                "name" => s.name = v,
                "prefer" => s.prefer = v,
                _ => {}
            }
        }
        Ok(s)
    }

    /// The request, or the first thing wrong with the form, in `lang`.
    fn request(&self, lang: Language) -> Result<Option<MatchRequest>, String> {
        if self.topic.is_empty() {
            return Ok(None);
        }
        let nl = lang == Language::Nl;
        let topic = TopicSlug::parse(&self.topic).map_err(|_| {
            if nl {
                "Kies een onderwerp uit de lijst."
            } else {
                "Pick a topic from the list."
            }
            .to_string()
        })?;
        let kinds = self
            .kinds
            .iter()
            .map(|k| k.parse::<OrganisationKind>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                if nl {
                    "Kies soorten organisaties uit de lijst."
                } else {
                    "Pick kinds of organisation from the list."
                }
                .to_string()
            })?;
        let province = match self.province.as_str() {
            "" => None,
            p => Some(
                parse_province(p)
                    .map_err(|_| {
                        if nl {
                            "Kies een provincie uit de lijst."
                        } else {
                            "Pick a province from the list."
                        }
                        .to_string()
                    })?
                    .to_string(),
            ),
        };
        let max_distance_km = match self.distance.as_str() {
            "" => None,
            d => Some(rules::parse_max_distance(d).map_err(|_| {
                if nl {
                    "Afstand: een getal van 1 tot 1000 (km), of leeg."
                } else {
                    "Distance: a number from 1 to 1000 (km), or empty."
                }
                .to_string()
            })?),
        };
        let preference = match self.prefer.as_str() {
            "" => Preference::Best,
            p => p.parse().map_err(|_| {
                if nl {
                    "Kies wat voorgaat: de besten, dichtbij of vergelijkbaar."
                } else {
                    "Choose what comes first: the best, nearby or similar."
                }
                .to_string()
            })?,
        };
        Ok(Some(MatchRequest {
            topic,
            organisation: None,
            limit: DEFAULT_LIMIT,
            kinds,
            province,
            max_distance_km,
            preference,
        }))
    }

    fn has_kind(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    /// The chosen preference's value; `best` when none (or a bad one) was given.
    fn prefers(&self, value: &str) -> bool {
        match self.prefer.parse::<Preference>() {
            Ok(p) => p.as_str() == value,
            Err(_) => value == Preference::Best.as_str(),
        }
    }
}

/// One peer as shown.
pub struct Peer {
    pub rank: usize,
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub province: String,
    pub distance: String,
    /// How good it is at the topic, its record and the journey.
    pub headline: String,
    /// The rest of the reasons, under "why this match?".
    pub reasons: Vec<String>,
    pub lessons: u32,
}

fn peer(rank: usize, m: &Match, lang: Language) -> Peer {
    Peer {
        rank,
        id: m.host.id.0,
        name: m.host.name.clone(),
        kind: kind_name(m.host.kind, lang),
        province: m.host.province.clone().unwrap_or_default(),
        distance: format!("{:.0} km", m.candidate.distance_km),
        headline: m.reasons.first().cloned().unwrap_or_default(),
        reasons: m.reasons.iter().skip(1).cloned().collect(),
        lessons: m.candidate.reputation.published,
    }
}

/// The outcome of "why not X?".
pub struct Why {
    pub name: String,
    /// "ranks 3rd of 12" or why it is left out.
    pub summary: String,
    pub peer: Option<Peer>,
}

impl From<(MatchExplanation, Language)> for Why {
    fn from((explanation, lang): (MatchExplanation, Language)) -> Self {
        match explanation.standing {
            CandidateStanding::Ranked { rank, of, matched } => Why {
                name: matched.host.name.clone(),
                summary: match lang {
                    Language::Nl => format!("staat op plaats {rank} van {of} voor deze zoekvraag."),
                    Language::En => format!("ranks {rank} of {of} for this search."),
                },
                peer: Some(peer(rank, &matched, lang)),
            },
            CandidateStanding::Excluded { host, sentence, .. } => Why {
                name: host.name,
                summary: sentence,
                peer: None,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "web/peers.html")]
struct PeersPage {
    c: Chrome,
    search: Search,
    topics: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    provinces: &'static [&'static str],
    names: Vec<String>,
    error: Option<String>,
    topic: String,
    preferences: Vec<(&'static str, &'static str)>,
    ordering: String,
    peers: Option<Vec<Peer>>,
    best: Vec<Peer>,
    best_in_class: bool,
    near: Vec<Peer>,
    why: Option<Why>,
    why_error: Option<String>,
}

impl PeersPage {
    fn has_kind(&self, kind: &str) -> bool {
        self.search.has_kind(kind)
    }

    fn prefers(&self, value: &str) -> bool {
        self.search.prefers(value)
    }
}

fn preference_label(p: Preference, lang: Language) -> &'static str {
    match (p, lang) {
        (Preference::Best, Language::Nl) => "De besten eerst",
        (Preference::Best, Language::En) => "The best first",
        (Preference::Near, Language::Nl) => "Dichtbij eerst",
        (Preference::Near, Language::En) => "Nearby first",
        (Preference::Similar, Language::Nl) => "Vergelijkbare organisaties eerst",
        (Preference::Similar, Language::En) => "Similar organisations first",
    }
}

const KINDS: [OrganisationKind; 5] = [
    OrganisationKind::Municipality,
    OrganisationKind::HousingCorporation,
    OrganisationKind::Province,
    OrganisationKind::WaterBoard,
    OrganisationKind::Other,
];

/// GET /peers (and /peers?…&name=X for "why not X?")
pub async fn find(req: HttpRequest, session: Session) -> PageResult {
    let lang = session.lang;
    let search = Search::from_query(&req, lang)?;
    let (request, invalid) = match search.request(lang) {
        Ok(r) => (r, None),
        Err(e) => (None, Some(e)),
    };
    let found = matching::find_peers(session.ctx(), session.user.clone(), request.clone(), lang)
        .await
        .on_page(lang)?;
    let error = invalid.or_else(|| found.refused.as_ref().map(|e| e.message(lang)));
    let (why, why_error) = match (&request, search.name.trim()) {
        (Some(request), name) if !name.is_empty() => {
            let asked = matching::explain_named(
                session.ctx(),
                session.user.clone(),
                request.clone(),
                name,
                lang,
            )
            .await;
            match asked {
                Ok(explanation) => (Some(Why::from((explanation, lang))), None),
                Err(e) if matches!(e.kind(), Some(Kind::NotFound | Kind::Invalid)) => {
                    (None, Some(e.message(lang)))
                }
                Err(e) => return Err(WebError::service(e, lang)),
            }
        }
        _ => (None, None),
    };
    let ranked = |list: &[Match]| -> Vec<Peer> {
        list.iter()
            .enumerate()
            .map(|(i, m)| peer(i + 1, m, lang))
            .collect()
    };
    let list = found.list.as_ref();
    let glance = found.glance.as_ref();
    let status = if error.is_some() || why_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &PeersPage {
            c: session.chrome(Nav::Peers),
            topics: found
                .topics
                .iter()
                .map(|t| (t.slug.clone(), t.name(lang).to_string()))
                .collect(),
            kinds: KINDS
                .iter()
                .map(|k| (k.as_str(), kind_name(*k, lang)))
                .collect(),
            provinces: &PROVINCES,
            names: found.names,
            error,
            topic: list
                .map(|l| l.topic.name(lang).to_string())
                .unwrap_or_default(),
            preferences: Preference::ALL
                .iter()
                .map(|p| (p.as_str(), preference_label(*p, lang)))
                .collect(),
            ordering: list.map(|l| l.ordering.to_string()).unwrap_or_default(),
            peers: list.map(|l| ranked(&l.matches)),
            best: glance.map(|g| ranked(&g.best)).unwrap_or_default(),
            best_in_class: glance.is_some_and(|g| g.best_in_class),
            near: glance.map(|g| ranked(&g.near)).unwrap_or_default(),
            why,
            why_error,
            search,
        },
    ))
}
