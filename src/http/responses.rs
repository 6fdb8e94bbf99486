//! The error answers many operations share, declared once for the OpenAPI
//! document: an operation lists its success and the problems of its own,
//! then one of these sets (`responses((status = 200, …), AdminOnly)`).

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
    ($( $(#[$doc:meta])* $name:ident { $($status:literal => $description:literal),+ $(,)? } )+) => {
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

shared_responses! {
    /// Any operation: the database may be away.
    Unavailable {
        "503" => "The database is unavailable",
    }
    /// An operation for callers with a token.
    Guarded {
        "401" => "No valid token",
        "429" => "Too many requests with this token; see Retry-After",
        "503" => "The database is unavailable",
    }
    /// An operation for admins.
    AdminOnly {
        "401" => "No valid token",
        "403" => "Not an admin",
        "429" => "Too many requests with this token; see Retry-After",
        "503" => "The database is unavailable",
    }
    /// What a JSON body can get wrong (with `Body<T>`).
    JsonBody {
        "400" => "A field is invalid (the detail names it)",
        "413" => "The body is too large",
        "415" => "The body is not JSON",
    }
}
