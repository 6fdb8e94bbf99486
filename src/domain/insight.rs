//! Pictures of who learns from whom (issue 22): a topic's learning network
//! and an organisation's learning history, from held visits, their lessons
//! and the three-month follow-ups. No I/O; the drawing is `web::charts`.

use std::collections::BTreeMap;

use crate::domain::lesson::Applied;
use crate::domain::organisation::{OrganisationId, OrganisationKind};

/// A held visit on the topic, as the network draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldVisit {
    pub requester: Party,
    pub host: Party,
}

/// One side of a visit. An organisation that published its lesson on the
/// visit without its name is not named as a party of it: the network would
/// otherwise tell who wrote that lesson. It is drawn as its kind and size
/// class, one node for all such parties of that class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Party {
    Named(OrganisationId),
    /// The kind and the size class ("gemeente, 20.000–50.000 inwoners").
    Unnamed(OrganisationKind, String),
}

impl Party {
    /// Named ones first (by id), then unnamed by kind and class.
    fn key(&self) -> (u8, i64, &str, &str) {
        match self {
            Party::Named(id) => (0, id.0, "", ""),
            Party::Unnamed(kind, class) => (1, 0, kind.as_str(), class),
        }
    }
}

impl Ord for Party {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Party {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a node stands in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Best or among the best in class on the topic: drawn in the middle.
    BestInClass,
    /// Hosted at least one of the visits.
    Host,
    /// Only visited.
    Visitor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub party: Party,
    pub standing: Standing,
    pub visits_made: u32,
    pub visits_hosted: u32,
}

/// Who visited whom on a topic: one node per party, one edge per visit
/// (indexes into `nodes`, requester → host). Nodes come best in class
/// first, then hosts, then visitors, each by most visits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize)>,
}

impl Network {
    /// (requester, host, visits) per pair, for tables and JSON.
    pub fn pairs(&self) -> Vec<(usize, usize, u32)> {
        let mut pairs: BTreeMap<(usize, usize), u32> = BTreeMap::new();
        for e in &self.edges {
            *pairs.entry(*e).or_default() += 1;
        }
        pairs.into_iter().map(|((a, b), n)| (a, b, n)).collect()
    }
}

/// The network of `visits`; `best` are the topic's best in class (only
/// those among the parties show).
pub fn network(visits: &[HeldVisit], best: &[OrganisationId]) -> Network {
    let mut counts: BTreeMap<Party, (u32, u32)> = BTreeMap::new();
    for v in visits {
        counts.entry(v.requester.clone()).or_default().0 += 1;
        counts.entry(v.host.clone()).or_default().1 += 1;
    }
    let mut nodes: Vec<Node> = counts
        .into_iter()
        .map(|(party, (made, hosted))| {
            let standing = match &party {
                Party::Named(id) if best.contains(id) => Standing::BestInClass,
                _ if hosted > 0 => Standing::Host,
                _ => Standing::Visitor,
            };
            Node {
                party,
                standing,
                visits_made: made,
                visits_hosted: hosted,
            }
        })
        .collect();
    nodes.sort_by(|a, b| {
        (
            a.standing,
            std::cmp::Reverse(a.visits_hosted + a.visits_made),
            &a.party,
        )
            .cmp(&(
                b.standing,
                std::cmp::Reverse(b.visits_hosted + b.visits_made),
                &b.party,
            ))
    });
    let index = |p: &Party| nodes.iter().position(|n| &n.party == p).unwrap_or(0);
    let edges = visits
        .iter()
        .map(|v| (index(&v.requester), index(&v.host)))
        .collect();
    Network { nodes, edges }
}

/// What one organisation learnt and taught, all topics together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Held visits it made (as the visitor) and hosted.
    pub visits_made: u32,
    pub visits_hosted: u32,
    /// Its lessons in the knowledge base (either side, named or not).
    pub lessons_published: u32,
    /// Hours its visitors say their visits here saved them.
    pub hours_saved_for_others: i64,
    /// Visitors' answers three months on: did they apply what they learnt
    /// here?
    pub applied: AppliedCounts,
    /// Held visits per year: (made, hosted).
    pub per_year: BTreeMap<i32, (u32, u32)>,
}

/// The follow-up answers about visits to one host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppliedCounts {
    pub yes: u32,
    pub partly: u32,
    pub no: u32,
}

impl AppliedCounts {
    /// Counts stored answers (`yes`, `partly`, `no`; anything else is
    /// skipped).
    pub fn of<'a>(answers: impl IntoIterator<Item = &'a str>) -> AppliedCounts {
        let mut counts = AppliedCounts::default();
        for answer in answers
            .into_iter()
            .filter_map(|a| a.parse::<Applied>().ok())
        {
            counts.add(answer);
        }
        counts
    }

    pub fn add(&mut self, answer: Applied) {
        match answer {
            Applied::Yes => self.yes += 1,
            Applied::Partly => self.partly += 1,
            Applied::No => self.no += 1,
        }
    }

    pub fn answered(&self) -> u32 {
        self.yes + self.partly + self.no
    }

    /// Applied wholly or partly, of the answers; `None` without answers.
    pub fn rate(&self) -> Option<f64> {
        let n = self.answered();
        (n > 0).then(|| f64::from(self.yes + self.partly) / f64::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: i64) -> Party {
        Party::Named(OrganisationId(id))
    }

    #[test]
    fn one_node_per_party_one_edge_per_visit_best_in_class_first() {
        let anonymous = Party::Unnamed(OrganisationKind::Municipality, "gemeente, < 20.000".into());
        let visit = |requester: Party, host: Party| HeldVisit { requester, host };
        let visits = [
            visit(named(1), named(2)),
            visit(named(1), named(2)),
            visit(named(3), named(2)),
            visit(anonymous.clone(), named(4)),
            visit(named(4), named(2)),
        ];
        let net = network(&visits, &[OrganisationId(4), OrganisationId(9)]);
        let parties: Vec<&Party> = net.nodes.iter().map(|n| &n.party).collect();
        assert_eq!(
            parties,
            [&named(4), &named(2), &named(1), &named(3), &anonymous],
            "best in class, then hosts, then visitors by visits"
        );
        assert_eq!(net.nodes[0].standing, Standing::BestInClass);
        assert_eq!(
            (net.nodes[0].visits_made, net.nodes[0].visits_hosted),
            (1, 1)
        );
        assert_eq!(net.nodes[1].visits_hosted, 4);
        assert_eq!(net.edges.len(), 5);
        assert_eq!(net.edges[0], (2, 1));
        assert_eq!(net.edges[3], (4, 0));
        assert_eq!(net.pairs()[0..2], [(0, 1, 1), (2, 1, 2)]);
        assert_eq!(network(&[], &[]), Network::default());
    }

    #[test]
    fn applied_counts_partly_as_applied() {
        let mut a = AppliedCounts::default();
        assert_eq!(a.rate(), None);
        for answer in [Applied::Yes, Applied::Partly, Applied::No, Applied::No] {
            a.add(answer);
        }
        assert_eq!((a.answered(), a.rate()), (4, Some(0.5)));
    }
}
