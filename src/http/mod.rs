//! The JSON API: thin handlers that parse, call one service function and
//! map the result; the one route table; the OpenAPI document.

pub mod admin;
pub mod auth;
pub mod body;
pub mod client;
pub mod extract;
pub mod health;
pub mod knowledge;
pub mod lang;
pub mod lessons;
pub mod matches;
pub mod organisations;
pub mod partners;
pub mod problem;
pub mod query;
pub mod responses;
pub mod topics;
pub mod visits;

use actix_web::http::header;
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Sent as the `API-Version` header on every response (NL API Design Rules).
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
    paths(
        health::healthz,
        health::readyz,
        organisations::list,
        organisations::get,
        organisations::patch,
        organisations::expertise,
        organisations::put_expertise,
        organisations::delete_expertise,
        topics::list,
        matches::list,
        matches::explain,
        auth::login,
        auth::logout,
        auth::me,
        partners::token,
        partners::me,
        auth::change_password,
        admin::audit,
        admin::organisations::list,
        admin::organisations::create,
        admin::organisations::set_status,
        admin::topics::list,
        admin::topics::create,
        admin::topics::update,
        admin::users::list,
        admin::users::create,
        admin::users::update,
        admin::users::reset_password,
        admin::partners::list,
        admin::partners::create,
        admin::partners::update,
        admin::outbox::list,
        admin::outbox::requeue,
        visits::list,
        visits::create,
        visits::get,
        visits::accept,
        visits::decline,
        visits::cancel,
        visits::calendar,
        lessons::submit,
        lessons::of_visit,
        knowledge::list,
        knowledge::leaders,
        knowledge::stats,
    ),
    modifiers(&ApiVersionHeader, &BearerAuth, &StorableText, &ProblemTypes),
    tags(
        (name = "directory", description = "Organisations, their expertise and the topic catalogue"),
        (name = "matching", description = "Finding the peers most worth visiting"),
        (name = "auth", description = "Logging in and out"),
        (name = "visits", description = "Shadow visits: request, answer, schedule"),
        (name = "lessons", description = "Lessons learned after a visit"),
        (name = "admin", description = "For those who run the service"),
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

/// The single route table of the application.
pub fn routes(cfg: &mut web::ServiceConfig, doc: utoipa::openapi::OpenApi) {
    cfg.service(get_resource("/healthz", health::healthz))
        .service(get_resource("/readyz", health::readyz))
        // Before the /api/v1 scope, which would otherwise claim these paths.
        .service(web::resource("/api/v1/docs").to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/api/v1/docs/"))
                .finish()
        }))
        .service(SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", doc))
        .service(
            web::scope("/api/v1")
                .service(get_resource("/organisations", organisations::list))
                .service(
                    web::resource("/organisations/{id}")
                        .route(web::get().to(organisations::get))
                        .route(web::head().to(organisations::get))
                        .route(web::patch().to(organisations::patch))
                        .default_service(web::to(problem::method_not_allowed("GET, HEAD, PATCH"))),
                )
                .service(get_resource(
                    "/organisations/{id}/expertise",
                    organisations::expertise,
                ))
                .service(
                    web::resource("/organisations/{id}/expertise/{topic}")
                        .route(web::put().to(organisations::put_expertise))
                        .route(web::delete().to(organisations::delete_expertise))
                        .default_service(web::to(problem::method_not_allowed("PUT, DELETE"))),
                )
                .service(get_resource("/topics", topics::list))
                .service(get_resource("/matches", matches::list))
                .service(get_resource("/matches/explain", matches::explain))
                .service(post_resource("/auth/login", auth::login))
                .service(post_resource("/auth/logout", auth::logout))
                .service(get_resource("/me", auth::me))
                .service(post_resource("/auth/token", partners::token))
                .service(get_resource("/partner", partners::me))
                .service(
                    web::resource("/me/password")
                        .route(web::put().to(auth::change_password))
                        .default_service(web::to(problem::method_not_allowed("PUT"))),
                )
                .service(get_resource("/admin/audit", admin::audit))
                .service(list_create_resource(
                    "/admin/organisations",
                    admin::organisations::list,
                    admin::organisations::create,
                ))
                .service(patch_resource(
                    "/admin/organisations/{id}",
                    admin::organisations::set_status,
                ))
                .service(list_create_resource(
                    "/admin/topics",
                    admin::topics::list,
                    admin::topics::create,
                ))
                .service(patch_resource(
                    "/admin/topics/{slug}",
                    admin::topics::update,
                ))
                .service(list_create_resource(
                    "/admin/users",
                    admin::users::list,
                    admin::users::create,
                ))
                .service(patch_resource("/admin/users/{id}", admin::users::update))
                .service(post_resource(
                    "/admin/users/{id}/password-reset",
                    admin::users::reset_password,
                ))
                .service(list_create_resource(
                    "/admin/partners",
                    admin::partners::list,
                    admin::partners::create,
                ))
                .service(patch_resource(
                    "/admin/partners/{clientId}",
                    admin::partners::update,
                ))
                .service(list_create_resource(
                    "/visits",
                    visits::list,
                    visits::create,
                ))
                .service(get_resource("/visits/{id}", visits::get))
                .service(post_resource("/visits/{id}/accept", visits::accept))
                .service(post_resource("/visits/{id}/decline", visits::decline))
                .service(post_resource("/visits/{id}/cancel", visits::cancel))
                .service(get_resource("/visits/{id}/calendar.ics", visits::calendar))
                .service(
                    web::resource("/visits/{id}/lessons")
                        .route(web::get().to(lessons::of_visit))
                        .route(web::head().to(lessons::of_visit))
                        .route(web::post().to(lessons::submit))
                        .default_service(web::to(problem::method_not_allowed("GET, HEAD, POST"))),
                )
                .service(get_resource("/lessons", knowledge::list))
                .service(get_resource("/topics/{slug}/leaders", knowledge::leaders))
                .service(get_resource("/stats", knowledge::stats))
                .service(get_resource("/admin/outbox", admin::outbox::list))
                .service(post_resource(
                    "/admin/outbox/{id}/requeue",
                    admin::outbox::requeue,
                )),
        );
}

/// A read-only resource: GET and HEAD, and 405 with `Allow` for anything else.
fn get_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(problem::method_not_allowed("GET, HEAD")))
}

/// An action resource: POST only, and 405 with `Allow` for anything else.
fn post_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(problem::method_not_allowed("POST")))
}

/// A collection: GET and HEAD list it, POST adds to it.
fn list_create_resource<L, LA, C, CA>(path: &str, list: L, create: C) -> actix_web::Resource
where
    L: Handler<LA>,
    LA: FromRequest + 'static,
    L::Output: Responder + 'static,
    C: Handler<CA>,
    CA: FromRequest + 'static,
    C::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(list.clone()))
        .route(web::head().to(list))
        .route(web::post().to(create))
        .default_service(web::to(problem::method_not_allowed("GET, HEAD, POST")))
}

/// A resource that is only changed here (it is read elsewhere): PATCH only.
fn patch_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::patch().to(handler))
        .default_service(web::to(problem::method_not_allowed("PATCH")))
}

/// The OpenAPI document of this installation, as the NL API Design Rules
/// want it: the server's URL carries the major version (`…/api/v1`) and the
/// paths are relative to it (the probes outside it name their own server);
/// a contact (who runs this installation: the mail sender); an operationId
/// per operation that no other shares (from method and path, so it never
/// changes while the route does not).
pub fn openapi(base: &str, sender: &str) -> utoipa::openapi::OpenApi {
    let doc = ApiDoc::openapi();
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
    serde_json::from_value(value).unwrap_or(doc)
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
