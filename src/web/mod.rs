//! Server-rendered pages. For now: the pages behind email links (the
//! invitation and the lessons form: GET shows, POST answers) and the
//! stylesheet. Pages call the same
//! service functions as the JSON API.

pub mod invitations;
pub mod lessons;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

/// The one stylesheet, compiled in: pages load nothing from elsewhere.
const CSS: &str = include_str!("../../assets/meeloop.css");

/// Nothing external, no scripts, no framing, forms only to ourselves.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/invitations/{token}")
            .route(web::get().to(invitations::show))
            .route(web::head().to(invitations::show))
            .route(web::post().to(invitations::answer))
            .default_service(web::to(|| async {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, "GET, HEAD, POST"))
                    .finish()
            })),
    )
    .service(
        web::resource("/lessons-forms/{token}")
            .route(web::get().to(lessons::show))
            .route(web::head().to(lessons::show))
            .route(web::post().to(lessons::submit))
            .default_service(web::to(|| async {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, "GET, HEAD, POST"))
                    .finish()
            })),
    )
    .service(
        web::resource("/follow-ups/{token}")
            .route(web::get().to(lessons::followup_show))
            .route(web::head().to(lessons::followup_show))
            .route(web::post().to(lessons::followup_submit))
            .default_service(web::to(|| async {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, "GET, HEAD, POST"))
                    .finish()
            })),
    )
    .service(
        web::resource("/assets/meeloop.css").route(web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/css; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
                .body(CSS)
        })),
    );
}

/// A rendered page with the headers every page carries.
fn page(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(html) => {
            let mut response = HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header(("X-Robots-Tag", "noindex, nofollow"))
                .body(html);
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "page did not render");
            HttpResponse::InternalServerError().finish()
        }
    }
}
