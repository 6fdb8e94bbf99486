//! What many operations share in the OpenAPI document, declared once: the
//! error answers (an operation lists its success and the problems of its own,
//! then some of these sets: `responses((status = 200, …), BadId, AdminOnly)`)
//! and who needs a token.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

use super::problem::PROBLEM_JSON;

/// A problem+json answer with the shared `Problem` schema.
fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

macro_rules! shared_responses {
    ($( $(#[$doc:meta])* $name:ident { $($status:literal => $description:expr),+ $(,)? } )+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([$(($status.to_string(), problem($description))),+])
                }
            }
        )+
    };
}

/// The 401 answer of every operation that takes a token; `TokenSecurity`
/// reads the document's security requirements from it.
pub const NO_TOKEN: &str = "No valid token";

shared_responses! {
    /// Any operation: the database may be away.
    Unavailable {
        "503" => "The database is unavailable",
    }
    /// An operation for callers with a token.
    Guarded {
        "401" => NO_TOKEN,
        "429" => "Too many requests with this token; see Retry-After",
        "503" => "The database is unavailable",
    }
    /// An operation for admins.
    AdminOnly {
        "401" => NO_TOKEN,
        "403" => "Not an admin",
        "429" => "Too many requests with this token; see Retry-After",
        "503" => "The database is unavailable",
    }
    /// A partner's webhook operation (scope `webhooks:manage`).
    WebhookManager {
        "401" => NO_TOKEN,
        "403" => "The token lacks the webhooks:manage scope",
        "429" => "Too many requests with this token; see Retry-After",
        "503" => "The database is unavailable",
    }
    /// An operation with query parameters (or none: an unknown one is refused).
    BadQuery {
        "400" => "An unknown or malformed query parameter",
    }
    /// An operation on `/…/{id}`.
    BadId {
        "400" => "A malformed id, or an unknown query parameter",
    }
    /// A JSON body that is too large or not JSON; the operation says what its
    /// own 400 means.
    BodyLimits {
        "413" => "The body is too large",
        "415" => "The body is not JSON",
    }
    /// What a JSON body can get wrong (with `Body<T>`).
    JsonBody {
        "400" => "A field is invalid (the detail names it)",
        "413" => "The body is too large",
        "415" => "The body is not JSON",
    }
}

/// Every operation that can answer `NO_TOKEN` takes a bearer token, and the
/// document says so; the others (login, the partner token, health, the
/// catalogue) take none. Declared here once instead of on each operation.
pub struct TokenSecurity;

impl utoipa::Modify for TokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityRequirement;
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
            ]
            .into_iter()
            .flatten()
            {
                let guarded = operation.responses.responses.get("401").is_some_and(
                    |r| matches!(r, RefOr::T(response) if response.description == NO_TOKEN),
                );
                if guarded {
                    operation.security = Some(vec![SecurityRequirement::new(
                        "bearer",
                        Vec::<String>::new(),
                    )]);
                }
            }
        }
    }
}
