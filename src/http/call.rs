//! What every API handler needs besides its caller and body: the request
//! (query string, language, client address) and the application around it.
//! One argument instead of two, and the idioms every handler repeated
//! (refuse a query string, find the client, read the language) live here.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use utoipa::IntoParams;

use super::problem::ApiError;
use super::query::QueryParams;
use super::{client, lang};
use crate::domain::organisation::Language;
use crate::service::context::Context;
use crate::service::ServiceError;
use crate::state::AppState;

pub struct Call {
    req: HttpRequest,
    state: web::Data<AppState>,
}

impl FromRequest for Call {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => Ok(Call {
                req: req.clone(),
                state: state.clone(),
            }),
            None => Err(ServiceError::Internal(anyhow::anyhow!(
                "the application state is not registered"
            ))
            .into()),
        })
    }
}

impl Call {
    /// What the use cases take.
    pub fn ctx(&self) -> &Context {
        &self.state.ctx
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn req(&self) -> &HttpRequest {
        &self.req
    }

    /// The caller's language (`Accept-Language`), for refusals' details.
    pub fn lang(&self) -> Language {
        lang::preferred(&self.req)
    }

    /// The client's address, for rate limits and the audit log.
    pub fn client(&self) -> IpAddr {
        client::address(&self.req, &self.state.trusted_proxies)
    }

    /// The client's address and software, for a new session.
    pub fn origin(&self) -> crate::service::accounts::Origin {
        client::origin(&self.req, &self.state.trusted_proxies)
    }

    /// Refuses any query parameter: the operation documents none.
    pub fn no_query(&self) -> Result<(), ApiError> {
        QueryParams::parse(&self.req, &[]).map(drop)
    }

    /// The query string, refused unless every name is in one of `sets`
    /// (the parameter names of the structs it documents).
    pub fn query_named(&self, sets: &[&[&str]]) -> Result<QueryParams, ApiError> {
        QueryParams::named(&self.req, sets)
    }

    /// The query string, refused unless every name is one `P` documents.
    pub fn query<P: IntoParams + 'static>(&self) -> Result<QueryParams, ApiError> {
        QueryParams::of::<P>(&self.req)
    }
}
