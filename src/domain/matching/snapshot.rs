//! The in-memory picture of the directory that ranking works on: active
//! organisations, active topics and who is how far on which topic.

use std::collections::HashMap;

use crate::domain::organisation::{OrganisationId, OrganisationKind};
use crate::domain::topic::TopicId;

/// An organisation as matching sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub id: OrganisationId,
    pub code: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub province: Option<String>,
    pub size: i64,
    pub latitude: f64,
    pub longitude: f64,
    pub monthly_capacity: i32,
    // Precomputed for the distance formula.
    pub(super) lat_rad: f64,
    pub(super) lon_rad: f64,
    pub(super) cos_lat: f64,
}

impl Host {
    pub fn new(
        id: OrganisationId,
        (code, name): (String, String),
        kind: OrganisationKind,
        province: Option<String>,
        size: i64,
        (latitude, longitude): (f64, f64),
        monthly_capacity: i32,
    ) -> Host {
        let lat_rad = latitude.to_radians();
        Host {
            id,
            code,
            name,
            kind,
            province,
            size,
            latitude,
            longitude,
            monthly_capacity,
            lat_rad,
            lon_rad: longitude.to_radians(),
            cos_lat: lat_rad.cos(),
        }
    }
}

/// One organisation's expertise on the topic it is filed under.
#[derive(Debug, Clone, PartialEq)]
pub struct Expert {
    /// Index into the snapshot's hosts.
    pub(super) host: u32,
    pub level: u8,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
}

/// A topic and everyone with expertise on it.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotTopic {
    pub id: TopicId,
    pub slug: String,
    pub name_nl: String,
    pub name_en: String,
    pub experts: Vec<Expert>,
    by_host: HashMap<OrganisationId, usize>,
}

impl SnapshotTopic {
    pub fn expert(&self, host: OrganisationId) -> Option<&Expert> {
        self.by_host.get(&host).map(|&i| &self.experts[i])
    }

    /// The organisation's level on this topic; 0 when it has none.
    pub fn level_of(&self, host: OrganisationId) -> u8 {
        self.expert(host).map_or(0, |e| e.level)
    }
}

/// One expertise row as loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertiseRow {
    pub organisation: OrganisationId,
    pub topic: TopicId,
    pub level: u8,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
}

/// The directory at one moment, identified by `version`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub version: i64,
    hosts: Vec<Host>,
    by_id: HashMap<OrganisationId, u32>,
    topics: HashMap<TopicId, SnapshotTopic>,
    by_slug: HashMap<String, TopicId>,
    /// Indexes into `hosts`, by name with case and accents ignored.
    by_name: Vec<u32>,
}

impl Snapshot {
    /// Builds the snapshot. Expertise of organisations or topics not given
    /// (deactivated, retired) is left out.
    pub fn build(
        version: i64,
        hosts: Vec<Host>,
        topics: Vec<(TopicId, String, String, String)>,
        expertise: Vec<ExpertiseRow>,
    ) -> Snapshot {
        let by_id: HashMap<OrganisationId, u32> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.id, i as u32))
            .collect();
        let mut topics: HashMap<TopicId, SnapshotTopic> = topics
            .into_iter()
            .map(|(id, slug, name_nl, name_en)| {
                let topic = SnapshotTopic {
                    id,
                    slug,
                    name_nl,
                    name_en,
                    experts: Vec::new(),
                    by_host: HashMap::new(),
                };
                (id, topic)
            })
            .collect();
        for row in expertise {
            let (Some(&host), Some(topic)) =
                (by_id.get(&row.organisation), topics.get_mut(&row.topic))
            else {
                continue;
            };
            topic.by_host.insert(row.organisation, topic.experts.len());
            topic.experts.push(Expert {
                host,
                level: row.level,
                since_year: row.since_year,
                willing_to_host: row.willing_to_host,
            });
        }
        let by_slug = topics.values().map(|t| (t.slug.clone(), t.id)).collect();
        let mut by_name: Vec<u32> = (0..hosts.len() as u32).collect();
        by_name.sort_by_cached_key(|&i| crate::domain::search::fold(&hosts[i as usize].name));
        Snapshot {
            version,
            hosts,
            by_id,
            topics,
            by_slug,
            by_name,
        }
    }

    pub fn host(&self, id: OrganisationId) -> Option<&Host> {
        self.by_id.get(&id).map(|&i| &self.hosts[i as usize])
    }

    pub(super) fn host_at(&self, index: u32) -> &Host {
        &self.hosts[index as usize]
    }

    pub fn topic(&self, id: TopicId) -> Option<&SnapshotTopic> {
        self.topics.get(&id)
    }

    /// The active topics, in no particular order.
    pub fn topics(&self) -> impl Iterator<Item = &SnapshotTopic> {
        self.topics.values()
    }

    pub fn topic_by_slug(&self, slug: &str) -> Option<&SnapshotTopic> {
        self.by_slug.get(slug).and_then(|id| self.topics.get(id))
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Every organisation, by name (case and accents ignored).
    pub fn hosts_by_name(&self) -> impl Iterator<Item = &Host> {
        self.by_name.iter().map(|&i| &self.hosts[i as usize])
    }

    /// The organisation a person means by `raw`: its code (`GM0193`), its
    /// name (case and accents ignored), or the one name that contains it.
    pub fn find_by_name(&self, raw: &str) -> Option<&Host> {
        let folded = crate::domain::search::fold(raw);
        if folded.is_empty() {
            return None;
        }
        let code = raw.trim().to_ascii_uppercase();
        if let Some(h) = self
            .hosts
            .iter()
            .find(|h| h.code == code || crate::domain::search::fold(&h.name) == folded)
        {
            return Some(h);
        }
        let mut containing = self
            .hosts
            .iter()
            .filter(|h| crate::domain::search::fold(&h.name).contains(&folded));
        match (containing.next(), containing.next()) {
            (Some(h), None) => Some(h),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}
