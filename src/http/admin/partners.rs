//! Admins manage partner clients over the API, as operators do with
//! `meeloop partner create|revoke`.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::LOCATION;
use actix_web::{patch, post, route};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::organisation::{parse_name, ContactEmail};
use crate::domain::partner::{Partner, Scopes};
use crate::domain::Invalid;
use crate::http::body::Body;
use crate::http::extract::AdminUser;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::path;
use crate::http::responses::{AdminOnly, BadQuery};
use crate::service::partners::{self, PartnerUpdate};

/// What a partner token may read.
#[derive(ToSchema)]
pub enum ScopeName {
    #[schema(rename = "organisations:read")]
    Organisations,
    #[schema(rename = "lessons:read")]
    Lessons,
    #[schema(rename = "stats:read")]
    Stats,
    #[schema(rename = "webhooks:manage")]
    Webhooks,
}

/// A partner client as admins see it (never its secret or hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerClientView {
    #[schema(example = "mp_0123456789abcdef")]
    pub client_id: String,
    pub name: String,
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: Vec<String>,
    /// Revoked clients get no tokens, and their tokens stopped working.
    pub active: bool,
    /// Who is emailed when one of the partner's webhook endpoints is switched off.
    pub contact_email: Option<String>,
}

impl From<Partner> for PartnerClientView {
    fn from(p: Partner) -> Self {
        PartnerClientView {
            scopes: p.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            client_id: p.client_id,
            name: p.name,
            active: p.active,
            contact_email: p.contact_email,
        }
    }
}

/// A new client and its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerClientWithSecret {
    pub client: PartnerClientView,
    /// Only a hash is stored: hand it over safely, it is not shown again.
    pub client_secret: String,
}

/// Every partner client
///
/// Partner clients with their scopes, revoked ones included; never their
/// secrets. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    responses(
        (status = 200, description = "All partner clients, oldest first", body = Vec<PartnerClientView>),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/partners", method = "GET", method = "HEAD")]
pub async fn list(call: Call, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let clients = partners::list_partners(call.ctx(), admin.0).await?;
    Ok(HttpResponse::Ok().json(
        clients
            .into_iter()
            .map(PartnerClientView::from)
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreatePartner {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "VNG Realisatie"
    )]
    pub name: String,
    #[schema(value_type = Vec<ScopeName>, min_items = 1)]
    pub scopes: Vec<String>,
    /// Who is emailed when one of the partner's webhook endpoints is
    /// switched off. May be left out, but is never `null`.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        max_length = 254,
        pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$",
        example = "api@vng.example"
    )]
    pub contact_email: Option<String>,
}

fn parse_scopes(names: &[String]) -> Result<Scopes, ApiError> {
    if names.iter().any(|n| n.contains([' ', ','])) {
        return Err(ApiError::invalid_field(
            "scopes",
            &Invalid::new("give each scope as its own list item"),
        ));
    }
    Scopes::parse(&names.join(" ")).map_err(ApiError::field("scopes"))
}

/// Create a partner client
///
/// Creates a client for a partner program (an umbrella body, a researcher) with
/// scopes (reading, and `webhooks:manage`). The answer carries its `client_secret`, this once: only a
/// hash is stored. Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    request_body = CreatePartner,
    responses(
        (status = 201, description = "Created", body = PartnerClientWithSecret),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/partners")]
pub async fn create(call: Call, admin: AdminUser, body: Body<CreatePartner>) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    let name = parse_name(&body.name).map_err(ApiError::field("name"))?;
    let scopes = parse_scopes(&body.scopes)?;
    let contact = body
        .contact_email
        .as_deref()
        .map(ContactEmail::parse)
        .transpose()
        .map_err(ApiError::field("contactEmail"))?;
    let (client, secret) =
        partners::admin_create_partner(call.ctx(), admin.0, call.client(), name, scopes, contact)
            .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            LOCATION,
            format!("/api/v1/admin/partners/{}", client.client_id),
        ))
        .json(PartnerClientWithSecret {
            client: PartnerClientView::from(client),
            client_secret: secret,
        }))
}

/// Changes to a partner client; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PartnerPatch {
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: Option<String>,
    /// Replaces the scopes; tokens already issued lose any scope taken away.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(value_type = Vec<ScopeName>, nullable = false, min_items = 1)]
    pub scopes: Option<Vec<String>>,
    /// `false` revokes the client at once; `true` restores it.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// Who is emailed when an endpoint is switched off; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$"
    )]
    pub contact_email: Option<Option<String>>,
}

/// Change a partner client
///
/// Renames a partner client, changes its scopes, revokes or restores it. A
/// revoked client's tokens stop working at once (`token_ended`). Admins only;
/// audited.
#[utoipa::path(
    patch,
    tag = "admin",
    params(("clientId" = String, Path, description = "Client id", pattern = "^mp_[0-9a-f]{16}$")),
    request_body = PartnerPatch,
    responses(
        (status = 200, description = "The client after the change", body = PartnerClientView),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[patch("/admin/partners/{clientId}")]
pub async fn update(
    call: Call,
    client_id: web::Path<String>,
    admin: AdminUser,
    body: Body<PartnerPatch>,
) -> ApiResult {
    call.no_query()?;
    let client_id = path("clientId", &client_id, parse_client_id)?;
    let body = body.admitted()?;
    let update = PartnerUpdate {
        name: body
            .name
            .as_deref()
            .map(parse_name)
            .transpose()
            .map_err(ApiError::field("name"))?,
        scopes: body.scopes.as_deref().map(parse_scopes).transpose()?,
        active: body.active,
        contact_email: body
            .contact_email
            .as_ref()
            .map(|c| c.as_deref().map(ContactEmail::parse).transpose())
            .transpose()
            .map_err(ApiError::field("contactEmail"))?,
    };
    let client =
        partners::update_partner(call.ctx(), admin.0, call.client(), client_id, update).await?;
    Ok(HttpResponse::Ok().json(PartnerClientView::from(client)))
}

fn parse_client_id(raw: &str) -> Result<String, Invalid> {
    let valid = raw.len() == 19
        && raw.starts_with("mp_")
        && raw[3..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(raw.to_string())
    } else {
        Err(Invalid::new(format!(
            "'{raw}' is not a client id (mp_ and 16 hex digits)"
        )))
    }
}
