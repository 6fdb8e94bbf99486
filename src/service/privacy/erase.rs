//! Erasure (AVG art. 17; docs/privacy.md): a person's name and address
//! disappear from every table and mail file, while the history stays true:
//! their account row stays as "verwijderde gebruiker" (so visits, lessons
//! and the audit log still point somewhere), counts, ratings and published
//! lessons stay. An organisation's erasure is that of its contact address
//! and of every account it has. One transaction; audited without the
//! identity that went.

use std::net::IpAddr;

use serde_json::json;

use super::export::{subject_of, Whose};
use crate::auth::limits::ApiLimiter;
use crate::db::subject::{self, Subject};
use crate::db::DbConn;
use crate::domain::account::User;
use crate::domain::refusal::AccountRefusal;
use crate::service::admin::require_admin;
use crate::service::context::Context;
use crate::service::{audit, user_ref, ServiceError};

use crate::domain::privacy::Erasure;
pub use crate::domain::privacy::ERASED;

pub use crate::domain::privacy::Erased;

/// An admin erases a person or an organisation's personal data; `confirm`
/// must repeat the account's address or the organisation's code, so that
/// no erasure happens by a slip. Never one's own account.
pub async fn erase_for_admin(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    whose: Whose,
    confirm: &str,
    limiter: &ApiLimiter,
) -> Result<Erased, ServiceError> {
    require_admin(&admin)?;
    limiter
        .check(&format!("erase:{}", admin.id.0))
        .map_err(ServiceError::RateLimited)?;
    if whose == Whose::User(admin.id) {
        return Err(AccountRefusal::OwnAccount.into());
    }
    erase(
        ctx,
        user_ref(admin.id),
        Some(address),
        whose,
        Some(confirm.trim().to_lowercase()),
    )
    .await
}

/// The operator, on the server (`meeloop privacy erase`).
pub async fn erase_by_operator(ctx: &Context, whose: Whose) -> Result<Erased, ServiceError> {
    erase(ctx, "cli".into(), None, whose, None).await
}

async fn erase(
    ctx: &Context,
    actor: String,
    address: Option<IpAddr>,
    whose: Whose,
    confirm: Option<String>,
) -> Result<Erased, ServiceError> {
    let _turn = super::whole_tables().await?;
    let mail_folder = ctx.mail_folder.clone();
    let (mut erased, needles) = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                let subject = subject_of(conn, whose)?;
                if let Some(confirm) = &confirm {
                    confirmed(conn, whose, confirm)?;
                }
                let erased = erase_in(conn, whose, &subject)?;
                audit(
                    conn,
                    actor,
                    "privacy.erased",
                    address,
                    Some(whose.reference()),
                    json!({ "erased": erased }),
                )?;
                Ok::<_, ServiceError>((erased, subject.needles))
            })
        })
        .await?;
    if let Some(folder) = mail_folder {
        erased.mail_files = crate::mail::files::remove_mentioning(&folder, &needles)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("mail files: {e}")))?;
    }
    Ok(erased)
}

/// The confirmation names the subject: its address or its code.
fn confirmed(conn: &mut DbConn, whose: Whose, confirm: &str) -> Result<(), ServiceError> {
    let expected = match whose {
        Whose::User(id) => crate::db::users::find(conn, id)?.map(|u| u.email.to_lowercase()),
        Whose::Organisation(id) => {
            crate::db::organisations::find(conn, id)?.map(|o| o.code.to_lowercase())
        }
    };
    if expected.as_deref() == Some(confirm) {
        Ok(())
    } else {
        Err(AccountRefusal::NotConfirmed.into())
    }
}

fn erase_in(conn: &mut DbConn, whose: Whose, subject: &Subject) -> Result<Erased, ServiceError> {
    let mut erased = Erased::default();
    let accounts: Vec<i64> = match whose {
        Whose::User(id) => vec![id.0],
        Whose::Organisation(id) => crate::db::users::of_organisation(conn, id)?
            .iter()
            .map(|u| u.id.0)
            .collect(),
    };
    for id in &accounts {
        let account = crate::domain::account::UserId(*id);
        crate::db::users::anonymise(conn, account, ERASED)?;
        // An invitation or reset link must not bring the account back.
        crate::db::sign_in::retire_all(conn, account, crate::db::now())?;
        // What they followed was theirs alone: no digest for nobody.
        crate::db::follows::forget(conn, account)?;
        crate::db::unsubscribe::forget(conn, account)?;
        crate::db::digests::forget(conn, account)?;
        erased.accounts += 1;
    }
    erased.unsent_emails = crate::db::outbox::delete_unsent_to(conn, &subject.needles)?;
    let (_, mentions) = subject::about(conn, subject)?;
    let erasure = Erasure::new(&subject.needles).map_err(|e| ServiceError::Internal(e.into()))?;
    for m in &mentions {
        let text = erasure.rewrite(&m.table, &m.column, &m.text);
        erased.texts += subject::rewrite(conn, m, text.as_deref())?;
    }
    if mentions.iter().any(|m| m.table == "lessons") {
        // The words taken out must leave the search index too.
        crate::db::lessons::compact_search_index(conn)?;
    }
    Ok(erased)
}
