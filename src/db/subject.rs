//! Everything the database holds about one person or organisation (AVG
//! art. 15, 17 and 20; docs/privacy.md), found the same way in every
//! table: the rows that point at them, and every row with a text cell that
//! mentions their name or address. The tables and columns come from the
//! database's own catalogue, so a table added later is covered without
//! anyone remembering to add it here. Secrets and email bodies are read to
//! find mentions but never handed out.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde_json::{Map, Value};

use super::DbConn;

/// Who an export or erasure is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// Columns that point at the subject, with its id: `("requested_by",
    /// 12)`, `("organisation_id", 7)`; `("users.id", 12)` for one table only.
    pub refs: Vec<(String, i64)>,
    /// How the audit log names the subject: `user:12`, `organisation:7`.
    pub names: Vec<String>,
    /// Texts that identify the subject (addresses, names), lower case,
    /// matched anywhere in every text cell.
    pub needles: Vec<String>,
}

impl Subject {
    fn points_at(&self, table: &str, row: &Map<String, Value>) -> bool {
        self.refs.iter().any(|(column, id)| {
            let column = match column.split_once('.') {
                Some((t, c)) if t == table => c,
                Some(_) => return false,
                None => column.as_str(),
            };
            row.get(column).and_then(Value::as_i64) == Some(*id)
        }) || ["actor", "subject"].iter().any(|c| {
            row.get(*c)
                .and_then(Value::as_str)
                .is_some_and(|v| self.names.iter().any(|n| n == v))
        })
    }

    /// Whether `text` mentions the subject.
    pub fn mentioned_in(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.needles.iter().any(|n| text.contains(n.as_str()))
    }
}

/// Columns never handed out: they hold secrets, whole emails, or a copy of
/// other columns.
pub const WITHHELD: [&str; 13] = [
    "password_hash",
    "token_hash",
    "secret_hash",
    "code_hash",
    "totp_secret",
    "totp_pending",
    // Webhook signing keys (stored as they are: signing needs them).
    "secret",
    "previous_secret",
    // A session's token id: not a credential alone, but never shown.
    "sid",
    "body_text",
    "body_html",
    "attachments",
    "search_text",
];

/// Tables that hold nothing about anyone.
const SKIPPED: [&str; 3] = [
    "__diesel_schema_migrations",
    "directory_version",
    "maintenance",
];

/// One table as the catalogue describes it.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    /// The columns holding text.
    pub texts: Vec<String>,
}

impl Table {
    /// What identifies a row: `id`, or (for the two tables without one)
    /// their primary key.
    pub fn key(&self, row: &Map<String, Value>) -> String {
        let get = |c: &str| row.get(c).map(|v| v.to_string()).unwrap_or_default();
        match self.name.as_str() {
            "expertise" => format!("{}:{}", get("organisation_id"), get("topic_id")),
            "followups" => get("visit_id"),
            _ => get("id"),
        }
    }

    fn has_id(&self) -> bool {
        self.columns.iter().any(|c| c == "id")
    }
}

#[derive(QueryableByName)]
struct CatalogueRow {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = Text)]
    c: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Nullable<Text>)]
    j: Option<String>,
}

/// The tables and their columns, from the database's catalogue.
pub fn tables(conn: &mut DbConn) -> QueryResult<Vec<Table>> {
    let rows: Vec<CatalogueRow> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            // Ordinary tables: the full-text index is a view of `lessons`.
            "SELECT m.name AS t, p.name AS c, upper(p.type) AS kind \
             FROM pragma_table_list m, pragma_table_info(m.name) p \
             WHERE m.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             ORDER BY m.name, p.cid",
        )
        .load(&mut **c)?,
        DbConn::Pg(c) => diesel::sql_query(
            "SELECT table_name::text AS t, column_name::text AS c, upper(data_type::text) AS kind \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position",
        )
        .load(&mut **c)?,
    };
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for r in rows
        .into_iter()
        .filter(|r| !SKIPPED.contains(&r.t.as_str()))
    {
        let table = tables.entry(r.t.clone()).or_insert_with(|| Table {
            name: r.t.clone(),
            columns: Vec::new(),
            texts: Vec::new(),
        });
        if r.kind.contains("TEXT") || r.kind.contains("CHAR") {
            table.texts.push(r.c.clone());
        }
        table.columns.push(r.c);
    }
    Ok(tables.into_values().collect())
}

/// Rows read at a time from tables with an `id`.
const PAGE: i64 = 1000;

/// Every row of `table` as a JSON object, a page at a time, to `each`.
fn scan(
    conn: &mut DbConn,
    table: &Table,
    mut each: impl FnMut(Map<String, Value>),
) -> QueryResult<()> {
    // Names come from the catalogue, not from a client.
    let object = match conn {
        DbConn::Sqlite(_) => format!(
            "json_object({})",
            table
                .columns
                .iter()
                .map(|c| format!("'{c}', \"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DbConn::Pg(_) => "row_to_json(t)::text".to_string(),
    };
    let from = format!("\"{}\" t", table.name);
    let mut after = i64::MIN;
    loop {
        let sql = if table.has_id() {
            format!("SELECT {object} AS j FROM {from} WHERE t.id > $1 ORDER BY t.id LIMIT {PAGE}")
        } else {
            format!("SELECT {object} AS j FROM {from}")
        };
        let page: Vec<JsonRow> = match conn {
            DbConn::Sqlite(c) if table.has_id() => diesel::sql_query(sql.replace("$1", "?"))
                .bind::<BigInt, _>(after)
                .load(&mut **c)?,
            DbConn::Sqlite(c) => diesel::sql_query(sql).load(&mut **c)?,
            DbConn::Pg(c) if table.has_id() => diesel::sql_query(sql)
                .bind::<BigInt, _>(after)
                .load(&mut **c)?,
            DbConn::Pg(c) => diesel::sql_query(sql).load(&mut **c)?,
        };
        let count = page.len();
        for row in page {
            let parsed = row
                .j
                .as_deref()
                .map(serde_json::from_str::<Map<String, Value>>);
            match parsed {
                Some(Ok(object)) => {
                    after = object.get("id").and_then(Value::as_i64).unwrap_or(after);
                    each(object);
                }
                Some(Err(e)) => {
                    return Err(diesel::result::Error::DeserializationError(Box::new(e)))
                }
                None => {}
            }
        }
        if !table.has_id() || count < PAGE as usize {
            return Ok(());
        }
    }
}

/// The rows about a subject, per table (named as in the database), with
/// the withheld columns left out.
pub type Found = BTreeMap<String, Vec<Map<String, Value>>>;

/// A text cell that mentions the subject, for erasure.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub table: String,
    /// The row's id; `None` for the tables keyed otherwise.
    pub id: Option<i64>,
    pub key: String,
    pub column: String,
    pub text: String,
}

/// Every row about `s`, and every text cell that mentions it, on one
/// consistent view of the database. Rows of the subject's own visits (their
/// lessons, follow-up, links) come along with them.
/// Call it on a consistent view (`DbConn::read_consistent`) or inside the
/// transaction that acts on what it finds.
pub fn about(conn: &mut DbConn, s: &Subject) -> QueryResult<(Found, Vec<Mention>)> {
    {
        let tables = tables(conn)?;
        let mut found = Found::new();
        let mut mentions = Vec::new();
        let mut visits: Vec<i64> = Vec::new();
        // Visits first, so that rows of their visits are recognised after.
        let order = tables
            .iter()
            .filter(|t| t.name == "visits")
            .chain(tables.iter().filter(|t| t.name != "visits"));
        for table in order {
            let mut rows = Vec::new();
            let mut pointed = Vec::new();
            scan(conn, table, |mut row| {
                let points = s.points_at(&table.name, &row);
                if points && table.name == "visits" {
                    pointed.extend(row.get("id").and_then(Value::as_i64));
                }
                let mut hit = points
                    || row
                        .get("visit_id")
                        .and_then(Value::as_i64)
                        .is_some_and(|v| visits.contains(&v));
                for column in &table.texts {
                    if let Some(text) = row.get(column).and_then(Value::as_str) {
                        if s.mentioned_in(text) {
                            hit = true;
                            mentions.push(Mention {
                                table: table.name.clone(),
                                id: row.get("id").and_then(Value::as_i64),
                                key: table.key(&row),
                                column: column.clone(),
                                text: text.to_string(),
                            });
                        }
                    }
                }
                if hit {
                    for withheld in WITHHELD {
                        row.remove(withheld);
                    }
                    rows.push(row);
                }
            })?;
            if table.name == "visits" {
                visits = pointed;
            }
            found.insert(table.name.clone(), rows);
        }
        Ok((found, mentions))
    }
}

/// Writes `text` into one cell a [`Mention`] found.
pub fn rewrite(conn: &mut DbConn, m: &Mention, text: Option<&str>) -> QueryResult<usize> {
    // Table and column names come from the catalogue, never from a client.
    let set = format!("UPDATE \"{}\" SET \"{}\" = $1 WHERE ", m.table, m.column);
    let number = |s: &str| s.parse::<i64>().unwrap_or_default();
    let (condition, first, second) = match (m.id, m.table.as_str()) {
        (Some(id), _) => ("id = $2", id, None),
        (None, "followups") => ("visit_id = $2", number(&m.key), None),
        (None, "expertise") => {
            let (o, t) = m.key.split_once(':').unwrap_or_default();
            (
                "organisation_id = $2 AND topic_id = $3",
                number(o),
                Some(number(t)),
            )
        }
        (None, other) => {
            return Err(diesel::result::Error::QueryBuilderError(
                format!("no way to address a row of {other}").into(),
            ))
        }
    };
    let sql = format!("{set}{condition}");
    macro_rules! run {
        ($c:expr, $sql:expr) => {{
            let query = diesel::sql_query($sql)
                .bind::<Nullable<Text>, _>(text)
                .bind::<BigInt, _>(first);
            match second {
                Some(second) => query.bind::<BigInt, _>(second).execute($c),
                None => query.execute($c),
            }
        }};
    }
    match conn {
        // SQLite numbers its parameters ?1, ?2; PostgreSQL $1, $2.
        DbConn::Sqlite(c) => run!(&mut **c, sql.replace('$', "?")),
        DbConn::Pg(c) => run!(&mut **c, sql),
    }
}
