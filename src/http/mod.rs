//! The JSON API: thin handlers that parse, call one service function and
//! map the result; the one route table; the OpenAPI document.

pub mod admin;
pub mod auth;
pub mod body;
pub mod call;
pub mod client;
pub mod extract;
pub mod follows;
pub mod health;
pub mod insight;
pub mod knowledge;
pub mod lang;
pub mod lessons;
pub mod matches;
pub mod metrics;
pub mod organisations;
pub mod partners;
pub mod privacy;
pub mod problem;
pub mod query;
pub mod responses;
pub mod sign_in;
pub mod topics;
pub mod visits;
pub mod webhooks;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::header;
use actix_web::{guard, web, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, OpenApiFactory};
use utoipa_swagger_ui::SwaggerUi;

/// Sent as the `API-Version` header on every response (NL API Design Rules).
/// What an API handler answers: a response, or a problem+json refusal.
pub type ApiResult = Result<actix_web::HttpResponse, problem::ApiError>;

pub const API_VERSION: &str = "1.0.0";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Meeloop API",
        version = "1.0.0",
        description = "Find best-in-class peers among Dutch public organisations for shadow visits (meeloopdagen). \
                       Errors are application/problem+json (RFC 9457) with a stable `code`; \
                       every response carries an `API-Version` header.",
        license(name = "EUPL-1.2")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "directory", description = "Organisations, their expertise and the topic catalogue"),
        (name = "matching", description = "Finding the peers most worth visiting"),
        (name = "auth", description = "Logging in and out"),
        (name = "visits", description = "Shadow visits: request, answer, schedule"),
        (name = "lessons", description = "Lessons learned after a visit"),
        (name = "webhooks", description = "Partners' webhook endpoints and their delivery logs; the events are in `webhooks`"),
        (name = "admin", description = "For those who run the service"),
        (name = "privacy", description = "Personal data: exports for the people concerned and for admins (AVG art. 15 and 20), erasure (art. 17)"),
        (name = "operations", description = "Probes for operators and load balancers"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme that login tokens use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// Says in the document what every text input refuses: U+0000, which
/// PostgreSQL cannot store (`domain::storable`). Each free string schema
/// (no pattern, enum or format of its own) of a parameter or a request body
/// gets the pattern `^[^\u0000]*$`, so clients and schemathesis know before
/// they send. (Answers are left alone: a problem's `detail` may quote what
/// was sent.)
struct StorableText;

impl utoipa::Modify for StorableText {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        /// Component names a part of the document refers to (`$ref`).
        fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                        if let Some(name) = r.strip_prefix("#/components/schemas/") {
                            found.push(name.to_string());
                        }
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        fn walk(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    let string = match map.get("type") {
                        Some(serde_json::Value::String(t)) => t == "string",
                        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                        _ => false,
                    };
                    let free = ["pattern", "enum", "format", "const"]
                        .iter()
                        .all(|k| !map.contains_key(*k));
                    if string && free {
                        map.insert("pattern".into(), "^[^\\u0000]*$".into());
                    }
                    map.values_mut().for_each(walk);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        let Ok(mut document) = serde_json::to_value(&*openapi) else {
            return;
        };
        // Parameters and request bodies, and every component they lead to.
        let mut wanted = Vec::new();
        if let Some(paths) = document.get_mut("paths").and_then(|p| p.as_object_mut()) {
            for item in paths.values_mut().filter_map(|i| i.as_object_mut()) {
                for operation in item.values_mut().filter_map(|o| o.as_object_mut()) {
                    for part in ["parameters", "requestBody"] {
                        if let Some(v) = operation.get_mut(part) {
                            refs(v, &mut wanted);
                            walk(v);
                        }
                    }
                }
            }
        }
        let mut done = std::collections::BTreeSet::new();
        while let Some(name) = wanted.pop() {
            if !done.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = document.pointer_mut(&format!("/components/schemas/{name}")) {
                refs(schema, &mut wanted);
                walk(schema);
            }
        }
        if let Ok(done) = serde_json::from_value(document) {
            *openapi = done;
        }
    }
}

/// Lists every problem type in the problem schema's `type` (an enum, so a
/// client generator and schemathesis both know them all).
struct ProblemTypes;

impl utoipa::Modify for ProblemTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut document) = serde_json::to_value(&*openapi) else {
            return;
        };
        let types: Vec<serde_json::Value> = problem::problem_types()
            .iter()
            .map(|t| problem::type_path(t.code).into())
            .collect();
        if let Some(member) = document.pointer_mut("/components/schemas/Problem/properties/type") {
            member["enum"] = types.into();
        }
        if let Ok(done) = serde_json::from_value(document) {
            *openapi = done;
        }
    }
}

/// Declares the `API-Version` header on every response of every operation.
struct ApiVersionHeader;

impl utoipa::Modify for ApiVersionHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::RefOr;
        let header = HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .examples([API_VERSION]),
            ))
            .description(Some(
                "Version of the API that answered (NL API Design Rules)",
            ))
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response
                            .headers
                            .insert("API-Version".into(), header.clone().into());
                    }
                }
            }
        }
    }
}

/// Every operation of the versioned API, each named once: `service`
/// registers its route (from the handler's actix attribute) and collects
/// its documentation (from its `#[utoipa::path]`).
fn api() -> impl HttpServiceFactory + OpenApiFactory {
    scope("/api/v1")
        .service(organisations::list)
        .service(organisations::get)
        .service(organisations::patch)
        .service(organisations::expertise)
        .service(organisations::put_expertise)
        .service(organisations::delete_expertise)
        .service(topics::list)
        .service(matches::list)
        .service(matches::explain)
        .service(auth::login)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::change_password)
        .service(auth::sessions)
        .service(auth::end_session)
        .service(follows::list)
        .service(follows::follow)
        .service(follows::unfollow)
        .service(sign_in::forgot_password)
        .service(sign_in::invite_member)
        .service(partners::token)
        .service(partners::me)
        .service(admin::audit)
        .service(admin::organisations::list)
        .service(admin::organisations::create)
        .service(admin::organisations::set_status)
        .service(admin::organisations::merge)
        .service(admin::topics::list)
        .service(admin::topics::create)
        .service(admin::topics::update)
        .service(admin::users::list)
        .service(admin::users::create)
        .service(admin::users::update)
        .service(admin::users::reset_password)
        .service(admin::sso::overview)
        .service(admin::sso::map_domain)
        .service(admin::sso::unmap_domain)
        .service(admin::sso::link_subject)
        .service(admin::sso::password_login)
        .service(admin::partners::list)
        .service(admin::partners::create)
        .service(admin::partners::update)
        .service(admin::outbox::list)
        .service(admin::outbox::requeue)
        .service(admin::webhooks::list)
        .service(admin::webhooks::get)
        .service(admin::webhooks::pause)
        .service(admin::webhooks::deliveries)
        .service(admin::webhooks::redeliver)
        .service(webhooks::list)
        .service(webhooks::create)
        .service(webhooks::get)
        .service(webhooks::update)
        .service(webhooks::remove)
        .service(webhooks::rotate)
        .service(webhooks::test)
        .service(webhooks::deliveries)
        .service(webhooks::redeliver)
        .service(visits::list)
        .service(visits::create)
        .service(visits::get)
        .service(visits::accept)
        .service(visits::decline)
        .service(visits::cancel)
        .service(visits::calendar)
        .service(lessons::submit)
        .service(lessons::of_visit)
        .service(knowledge::list)
        .service(knowledge::leaders)
        .service(insight::map)
        .service(insight::network)
        .service(insight::history)
        .service(knowledge::stats)
        .service(privacy::own_export)
        .service(privacy::user_export)
        .service(privacy::organisation_export)
        .service(privacy::user_erasure)
        .service(privacy::organisation_erasure)
}

/// The document's paths and schemas, as the operations declare them, with
/// what applies to all of them (the `API-Version` header, the storable-text
/// pattern, the problem types, who needs a token).
fn collected() -> utoipa::openapi::OpenApi {
    use utoipa::Modify;
    let mut doc = ApiDoc::openapi();
    let mut schemas = Vec::new();
    let parts: [&dyn OpenApiFactory; 3] = [&health::healthz, &health::readyz, &api()];
    for part in parts {
        doc.paths.merge(part.paths());
        part.schemas(&mut schemas);
    }
    webhooks_catalogue::schemas(&mut schemas);
    doc.components
        .get_or_insert_with(utoipa::openapi::Components::new)
        .schemas
        .extend(schemas);
    for modifier in [
        &ApiVersionHeader as &dyn Modify,
        &responses::TokenSecurity,
        &StorableText,
        &ProblemTypes,
    ] {
        modifier.modify(&mut doc);
    }
    doc
}

/// The single route table of the application: the probes, the API (see
/// [`api`]) and its documentation. Any other method on a documented path
/// gets 405 with `Allow` (from the document: HEAD wherever GET is).
pub fn routes(cfg: &mut web::ServiceConfig, doc: utoipa::openapi::OpenApi) {
    for (path, allowed) in allowed_methods(&doc) {
        let allow = allowed.join(", ");
        let guard = guard::fn_guard(move |ctx| !allowed.contains(&ctx.head().method.as_str()));
        cfg.service(
            web::resource(path)
                .guard(guard)
                .to(problem::method_not_allowed(allow)),
        );
    }
    cfg.service(health::healthz)
        .service(health::readyz)
        // Before the /api/v1 scope, which would otherwise claim these paths.
        .service(web::resource("/api/v1/docs").to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/api/v1/docs/"))
                .finish()
        }))
        .service(SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", doc))
        .service(api());
}

/// Each documented path as routed (the API's under `/api/v1`) with the
/// methods it answers, in the order `Allow` lists them.
fn allowed_methods(doc: &utoipa::openapi::OpenApi) -> Vec<(String, Vec<&'static str>)> {
    doc.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let full = match item.servers {
                Some(_) => path.clone(),
                None => format!("/api/v1{path}"),
            };
            let has = [
                (item.get.is_some(), "GET"),
                (item.get.is_some(), "HEAD"),
                (item.post.is_some(), "POST"),
                (item.put.is_some(), "PUT"),
                (item.patch.is_some(), "PATCH"),
                (item.delete.is_some(), "DELETE"),
            ];
            let methods = has
                .into_iter()
                .filter(|(h, _)| *h)
                .map(|(_, m)| m)
                .collect();
            (full, methods)
        })
        .collect()
}

/// The OpenAPI document of this installation, as the NL API Design Rules
/// want it: the server's URL carries the major version (`…/api/v1`) and the
/// paths are relative to it (the probes outside it name their own server);
/// a contact (who runs this installation: the mail sender); an operationId
/// per operation that no other shares (from method and path, so it never
/// changes while the route does not).
pub fn openapi(base: &str, sender: &str) -> utoipa::openapi::OpenApi {
    let doc = collected();
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    value["servers"] = serde_json::json!([{
        "url": format!("{base}/api/v1"),
        "description": "This installation's API, version 1",
    }]);
    let email = sender
        .rsplit_once('<')
        .map_or(sender, |(_, rest)| rest.trim_end_matches('>'))
        .trim();
    value["info"]["contact"] = serde_json::json!({
        "name": "Beheer van deze Meeloop-installatie",
        "email": email,
        "url": base,
    });
    if let Some(paths) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
        let old = std::mem::take(paths);
        for (path, mut item) in old {
            let relative = match path.strip_prefix("/api/v1") {
                Some(rest) => rest.to_string(),
                None => {
                    item["servers"] = serde_json::json!([{ "url": base }]);
                    path
                }
            };
            if let Some(operations) = item.as_object_mut() {
                for (method, operation) in operations.iter_mut() {
                    if operation.get("responses").is_some() {
                        operation["operationId"] = operation_id(method, &relative).into();
                    }
                }
            }
            paths.insert(relative, item);
        }
    }
    value["webhooks"] = webhooks_catalogue::section();
    serde_json::from_value(value).unwrap_or(doc)
}

/// The `webhooks` section: what Meeloop posts to partners' endpoints
/// (OpenAPI 3.1), one entry per event type, signed per Standard Webhooks.
mod webhooks_catalogue {
    use serde_json::{json, Value};
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};

    use crate::domain::webhook::{EventType, TEST_EVENT};
    use crate::service::webhook_queue::{
        WebhookLessonData, WebhookOrganisationData, WebhookTestData, WebhookVisitData,
    };

    fn add<T: ToSchema + PartialSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }

    pub(super) fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        add::<WebhookVisitData>(schemas);
        add::<WebhookLessonData>(schemas);
        add::<WebhookOrganisationData>(schemas);
        add::<WebhookTestData>(schemas);
    }

    fn about(event: &str) -> (&'static str, &'static str, &'static str) {
        match event {
            "visit.requested" => ("WebhookVisitData", "A visit was requested", "A coordinator asked a host for a shadow visit."),
            "visit.accepted" => ("WebhookVisitData", "A visit was accepted", "The host took one of the proposed days (`date`)."),
            "visit.declined" => ("WebhookVisitData", "A visit was declined", "The host said no (the reason stays private)."),
            "visit.cancelled" => ("WebhookVisitData", "A visit was cancelled", "One side called the visit off (`cancelledBy`)."),
            "visit.expired" => ("WebhookVisitData", "A request expired", "The host did not answer in time."),
            "visit.completed" => ("WebhookVisitData", "A visit was held", "The visit's day has passed."),
            "lesson.published" => ("WebhookLessonData", "A lesson was published", "A lesson entered the knowledge base; its text only for partners with `lessons:read`."),
            "organisation.updated" => ("WebhookOrganisationData", "An organisation changed", "An organisation's public profile or expertise changed (`changed`)."),
            _ => ("WebhookTestData", "A test message", "Sent on request (`POST /partner/webhooks/{id}/test`), whatever the endpoint subscribed to."),
        }
    }

    pub(super) fn section() -> Value {
        let header = |name: &str, description: &str, example: &str| {
            json!({
                "name": name, "in": "header", "required": true, "description": description,
                "schema": {"type": "string"}, "example": example,
            })
        };
        let mut section = serde_json::Map::new();
        let events = EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .chain([TEST_EVENT]);
        for event in events {
            let (data, summary, description) = about(event);
            let operation = json!({
                "summary": summary,
                "description": format!("{description} Signed per Standard Webhooks 1.0: verify `webhook-signature` over `webhook-id.webhook-timestamp.body` with the endpoint's secret (docs/webhooks.md). Retried with backoff until the endpoint answers 2xx; order is not guaranteed."),
                "operationId": format!("webhook{}", event.split(['.', '_']).map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
                }).collect::<String>()),
                "tags": ["webhooks"],
                "parameters": [
                    header("webhook-id", "The message's id: the same on every attempt; drop repeats by it.", "msg_6f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f"),
                    header("webhook-timestamp", "Seconds since 1970 when this attempt was signed; refuse old ones (5 minutes).", "1772443800"),
                    header("webhook-signature", "`v1,` and the base64 HMAC-SHA256; during a secret rotation two, separated by a space.", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["type", "timestamp", "data"],
                        "properties": {
                            "type": {"type": "string", "const": event},
                            "timestamp": {"type": "string", "format": "date-time", "description": "When it happened"},
                            "data": {"$ref": format!("#/components/schemas/{data}")},
                        },
                    }}},
                },
                "responses": {
                    "2XX": {"description": "Received. Any other answer, or none within the timeout, is tried again later."},
                },
            });
            section.insert(event.to_string(), json!({"post": operation}));
        }
        Value::Object(section)
    }
}

/// `GET /visits/{id}/calendar.ics` → `getVisitsIdCalendarIcs`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schemas are registered by name: two types with one name would make
    /// the document describe one of them wrongly (as it once did a webhook
    /// payload's lesson and the API's).
    #[test]
    fn no_two_schemas_share_a_name() {
        let mut schemas = Vec::new();
        let parts: [&dyn OpenApiFactory; 3] = [&health::healthz, &health::readyz, &api()];
        for part in parts {
            part.schemas(&mut schemas);
        }
        webhooks_catalogue::schemas(&mut schemas);
        let mut seen = std::collections::HashMap::new();
        for (name, schema) in schemas {
            let text = serde_json::to_string(&schema).unwrap();
            if let Some(before) = seen.insert(name.clone(), text.clone()) {
                assert_eq!(before, text, "two schemas are named {name}");
            }
        }
    }
}
