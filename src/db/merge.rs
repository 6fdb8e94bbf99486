//! Municipal mergers: everything of one organisation moves to another, in
//! the caller's transaction (docs/import.md, "Mergers").

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{expertise, lessons, link_tokens, organisations, users, visits};
use super::{dispatch, DbConn};
use crate::domain::merger::{combined, Know};

pub use crate::domain::merger::Moved;

/// A day both have a visit booked on, still to come (as host or requester).
pub fn same_day(conn: &mut DbConn, a: i64, b: i64) -> QueryResult<Option<NaiveDate>> {
    let booked = |conn: &mut DbConn, org: i64| -> QueryResult<Vec<NaiveDate>> {
        let days: Vec<Option<NaiveDate>> = dispatch!(conn, c => visits::table
            .filter(visits::state.eq("accepted"))
            .filter(visits::host_id.eq(org).or(visits::requester_id.eq(org)))
            .select(visits::visit_date)
            .load(c))?;
        Ok(days.into_iter().flatten().collect())
    };
    let theirs = booked(conn, b)?;
    Ok(booked(conn, a)?.into_iter().find(|d| theirs.contains(d)))
}

type KnowRow = (i64, i32, String, Option<i32>, bool);

fn know_of(conn: &mut DbConn, org: i64) -> QueryResult<Vec<KnowRow>> {
    dispatch!(conn, c => expertise::table
        .filter(expertise::organisation_id.eq(org))
        .select((expertise::topic_id, expertise::level, expertise::summary, expertise::since_year, expertise::willing_to_host))
        .load(c))
}

/// Moves expertise, visits, lessons, accounts and email links of `old` to
/// `new`, and retires `old` (inactive, `merged_into`). Reputation follows
/// the lessons; visit history follows the visits.
pub fn merge(conn: &mut DbConn, old: i64, new: i64) -> QueryResult<Moved> {
    let now = super::now();
    let mut moved = Moved::default();
    let kept = know_of(conn, new)?;
    for (topic, level, summary, since_year, willing_to_host) in know_of(conn, old)? {
        let gone = Know {
            level,
            summary,
            since_year,
            willing_to_host,
        };
        match kept.iter().find(|k| k.0 == topic) {
            Some((_, level, summary, since_year, willing_to_host)) => {
                let both = combined(
                    &Know {
                        level: *level,
                        summary: summary.clone(),
                        since_year: *since_year,
                        willing_to_host: *willing_to_host,
                    },
                    &gone,
                );
                dispatch!(conn, c => diesel::update(expertise::table.find((new, topic)))
                    .set((
                        expertise::level.eq(both.level),
                        expertise::summary.eq(&both.summary),
                        expertise::since_year.eq(both.since_year),
                        expertise::willing_to_host.eq(both.willing_to_host),
                        expertise::updated_at.eq(now),
                    ))
                    .execute(c))?;
                dispatch!(conn, c => diesel::delete(expertise::table.find((old, topic))).execute(c))?;
            }
            None => {
                dispatch!(conn, c => diesel::update(expertise::table.find((old, topic)))
                    .set((expertise::organisation_id.eq(new), expertise::updated_at.eq(now)))
                    .execute(c))?;
            }
        }
        moved.expertise += 1;
    }
    moved.visits = dispatch!(conn, c => diesel::update(visits::table.filter(visits::requester_id.eq(old)))
        .set(visits::requester_id.eq(new))
        .execute(c))?;
    moved.visits += dispatch!(conn, c => diesel::update(visits::table.filter(visits::host_id.eq(old)))
        .set(visits::host_id.eq(new))
        .execute(c))?;
    moved.lessons = dispatch!(conn, c => diesel::update(lessons::table.filter(lessons::organisation_id.eq(old)))
        .set(lessons::organisation_id.eq(new))
        .execute(c))?;
    moved.lessons += dispatch!(conn, c => diesel::update(lessons::table.filter(lessons::host_id.eq(old)))
        .set(lessons::host_id.eq(new))
        .execute(c))?;
    moved.accounts = dispatch!(conn, c => diesel::update(users::table.filter(users::organisation_id.eq(old)))
        .set((users::organisation_id.eq(new), users::updated_at.eq(now)))
        .execute(c))?;
    moved.links = dispatch!(conn, c => diesel::update(link_tokens::table.filter(link_tokens::organisation_id.eq(old)))
        .set(link_tokens::organisation_id.eq(new))
        .execute(c))?;
    dispatch!(conn, c => diesel::update(organisations::table.find(old))
        .set((
            organisations::active.eq(false),
            organisations::merged_into.eq(Some(new)),
            organisations::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(moved)
}

/// Where a merged organisation went: `(id, name)`.
pub fn merged_into(conn: &mut DbConn, org: i64) -> QueryResult<Option<(i64, String)>> {
    let into: Option<Option<i64>> = dispatch!(conn, c => organisations::table
        .find(org)
        .select(organisations::merged_into)
        .first(c)
        .optional())?;
    let Some(Some(into)) = into else {
        return Ok(None);
    };
    let name: String =
        dispatch!(conn, c => organisations::table.find(into).select(organisations::name).first(c))?;
    Ok(Some((into, name)))
}

/// Active municipalities (CBS codes `GM…`) whose code is not in `codes`:
/// what an imported CBS list no longer has.
pub fn municipalities_not_in(
    conn: &mut DbConn,
    codes: &[&str],
) -> QueryResult<Vec<(String, String)>> {
    let all: Vec<(String, String)> = dispatch!(conn, c => organisations::table
        .filter(organisations::active.eq(true))
        .filter(organisations::code.like("GM%"))
        .select((organisations::code, organisations::name))
        .order(organisations::code)
        .load(c))?;
    Ok(all
        .into_iter()
        .filter(|(code, _)| !codes.contains(&code.as_str()))
        .collect())
}
