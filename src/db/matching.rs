//! What matching reads: the directory version and the snapshot's rows.

use diesel::prelude::*;

use super::schema::{directory_version, expertise, organisations, topics};
use super::{dispatch, DbConn};
use crate::domain::matching::{ExpertiseRow, Host, Snapshot};
use crate::domain::organisation::OrganisationId;
use crate::domain::topic::TopicId;

/// Raised by triggers on every change to organisations, topics or expertise.
pub fn version(conn: &mut DbConn) -> QueryResult<i64> {
    dispatch!(conn, c => directory_version::table
        .find(1)
        .select(directory_version::version)
        .first(c))
}

type HostTuple = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    f64,
    f64,
    i32,
);

/// The active directory as one consistent snapshot.
pub fn load_snapshot(conn: &mut DbConn) -> QueryResult<Snapshot> {
    conn.read_consistent(|conn| {
        let version = version(conn)?;
        let hosts: Vec<HostTuple> = dispatch!(conn, c => organisations::table
            .filter(organisations::active.eq(true))
            .select((
                organisations::id,
                organisations::code,
                organisations::name,
                organisations::kind,
                organisations::province,
                organisations::size,
                organisations::latitude,
                organisations::longitude,
                organisations::monthly_capacity,
            ))
            .load(c))?;
        let topics: Vec<(i64, String, String, String)> = dispatch!(conn, c => topics::table
            .filter(topics::active.eq(true))
            .select((topics::id, topics::slug, topics::name_nl, topics::name_en))
            .load(c))?;
        let rows: Vec<(i64, i64, i32, Option<i32>, bool)> = dispatch!(conn, c => expertise::table
            .select((
                expertise::organisation_id,
                expertise::topic_id,
                expertise::level,
                expertise::since_year,
                expertise::willing_to_host,
            ))
            .load(c))?;
        let hosts = hosts
            .into_iter()
            .map(
                |(id, code, name, kind, province, size, lat, lon, capacity)| {
                    let kind = kind.parse().map_err(|_| {
                        diesel::result::Error::DeserializationError(
                            format!("stored kind '{kind}' is not valid").into(),
                        )
                    })?;
                    Ok(Host::new(
                        OrganisationId(id),
                        (code, name),
                        kind,
                        province,
                        size,
                        (lat, lon),
                        capacity,
                    ))
                },
            )
            .collect::<QueryResult<Vec<_>>>()?;
        let topics = topics
            .into_iter()
            .map(|(id, slug, nl, en)| (TopicId(id), slug, nl, en))
            .collect();
        let rows = rows
            .into_iter()
            .map(|(org, topic, level, since_year, willing)| ExpertiseRow {
                organisation: OrganisationId(org),
                topic: TopicId(topic),
                level: level.clamp(0, 5) as u8,
                since_year,
                willing_to_host: willing,
            })
            .collect();
        Ok(Snapshot::build(version, hosts, topics, rows))
    })
}
