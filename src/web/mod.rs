//! Server-rendered pages. For now: the pages behind email links (the
//! invitation and the lessons form: GET shows, POST answers) and the
//! stylesheet. Pages call the same
//! service functions as the JSON API.

pub mod account;
pub mod admin;
pub mod charts;
pub mod follows;
pub mod followups;
pub mod insight;
pub mod invitations;
pub mod knowledge;
pub mod lessons;
pub mod members;
pub mod organisation;
pub mod peers;
pub mod privacy;
pub mod request;
pub mod session;
pub mod sessions;
pub mod sign_in;
pub mod sso;
pub mod statements;
pub mod two_step;
pub mod unsubscribe;
pub mod visits;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::account::{Role, User};
use crate::domain::organisation::Language;
pub use session::{Nav, Session, WebError};

/// What a page handler answers: a page, or an error page in its language.
pub type PageResult = Result<HttpResponse, WebError>;

/// A posted form or a query string as `T` (fields it cannot read are left
/// default). A value that cannot be stored (U+0000) refuses the whole form
/// with a 400 page naming the field: nothing reaches the services.
pub fn decode<T: serde::de::DeserializeOwned + Default>(
    bytes: &[u8],
    lang: Language,
) -> Result<T, WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
    if let Some((name, _)) = crate::domain::unstorable_field(&pairs) {
        let name = name.escape_default();
        return Err(WebError::page(
            StatusCode::BAD_REQUEST,
            lang,
            ("Dat gaat niet", "That does not work"),
            match lang {
                Language::Nl => format!("Het veld '{name}' bevat een teken dat niet kan worden opgeslagen (U+0000, een NUL-teken). Er is niets opgeslagen; ga terug en haal het weg."),
                Language::En => format!("The field '{name}' contains a character that cannot be stored (U+0000, a NUL character). Nothing was saved; go back and remove it."),
            },
        ));
    }
    Ok(serde_urlencoded::from_bytes(bytes).unwrap_or_default())
}

/// The one stylesheet, compiled in: pages load nothing from elsewhere.
const CSS: &str = include_str!("../../assets/meeloop.css");

/// Nothing external, no scripts, no framing, forms only to ourselves.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page's resource: GET (and HEAD, which link scanners and browsers
/// use) shows, POST acts; any other method gets 405 with `Allow`.
macro_rules! page {
    ($path:expr, get: $get:expr) => {
        web::resource($path)
            .route(web::get().to($get))
            .route(web::head().to($get))
            .default_service(web::to(|| allow("GET, HEAD")))
    };
    ($path:expr, post: $post:expr) => {
        web::resource($path)
            .route(web::post().to($post))
            .default_service(web::to(|| allow("POST")))
    };
    ($path:expr, get: $get:expr, post: $post:expr) => {
        web::resource($path)
            .route(web::get().to($get))
            .route(web::head().to($get))
            .route(web::post().to($post))
            .default_service(web::to(|| allow("GET, HEAD, POST")))
    };
}

async fn allow(methods: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, methods))
        .finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page!("/", get: account::home))
        .service(page!("/login", get: account::show, post: account::login))
        .service(page!("/logout", post: account::logout))
        .service(page!("/login/two-step", get: two_step::step_show, post: two_step::step))
        .service(page!("/login/sso/{provider}", get: sso::start))
        .service(page!("/login/sso/{provider}/callback", get: sso::callback))
        .service(page!("/password/forgot", get: sign_in::forgot_show, post: sign_in::forgot))
        .service(page!("/language/{code}", get: account::switch))
        .service(page!("/dashboard", get: visits::dashboard))
        .service(page!("/peers", get: peers::find))
        .service(page!("/toegankelijkheid", get: statements::accessibility))
        .service(page!("/privacy", get: statements::privacy))
        .service(page!("/problems", get: statements::problems))
        .service(page!("/knowledge", get: knowledge::browse))
        .service(page!("/statistics", get: insight::statistics))
        .service(page!("/topics/{slug}", get: insight::topic))
        .service(page!("/organisations/{id}", get: insight::organisation))
        .service(page!("/admin", get: admin::overview))
        .service(page!("/admin/organisations", get: admin::organisations))
        .service(page!("/admin/organisations/import", post: admin::import_organisations))
        .service(page!("/admin/organisations/merge", post: admin::merge_organisations))
        .service(page!("/admin/organisations/{id}/active", post: admin::organisation_active))
        .service(page!("/admin/users", get: admin::users, post: admin::create_user))
        .service(page!("/admin/users/{id}/active", post: admin::user_active))
        .service(page!("/admin/users/{id}/password", post: admin::reset_password))
        .service(page!("/admin/partners", get: admin::partners, post: admin::create_partner))
        .service(page!("/admin/sso", get: admin::sso_show, post: admin::sso_change))
        .service(page!("/admin/partners/{client_id}/active", post: admin::partner_active))
        .service(page!("/admin/mail", get: admin::mail_queue))
        .service(page!("/admin/mail/{id}/requeue", post: admin::requeue))
        .service(page!("/admin/webhooks", get: admin::webhooks))
        .service(page!("/admin/webhooks/{id}", get: admin::webhook))
        .service(page!("/admin/webhooks/{id}/pause", post: admin::webhook_pause))
        .service(page!("/admin/webhooks/{id}/deliveries/{delivery}/redeliver", post: admin::webhook_redeliver))
        .service(page!("/admin/audit", get: admin::audit))
        .service(page!("/admin/{kind}/{id}/export.{format}", get: privacy::admin_export))
        .service(page!("/admin/{kind}/{id}/erase", get: privacy::erase_show, post: privacy::erase))
        .service(page!("/account", get: privacy::show))
        .service(page!("/account/topics", get: follows::show, post: follows::save))
        .service(page!("/account/sessions", get: sessions::show))
        .service(page!("/account/two-step", get: two_step::show, post: two_step::change))
        .service(page!("/account/sessions/end-others", post: sessions::end_others))
        .service(page!("/account/sessions/{id}/end", post: sessions::end_one))
        .service(page!("/account/export.{format}", get: privacy::own_export))
        .service(page!("/organisation", get: organisation::show, post: organisation::update))
        .service(page!("/organisation/expertise", post: organisation::put_expertise))
        .service(page!("/organisation/members", get: members::show, post: members::invite))
        .service(
            page!("/organisation/expertise/{slug}/delete", post: organisation::delete_expertise),
        )
        .service(page!("/visits/new", get: request::show, post: request::create))
        .service(page!("/visits/{id}", get: visits::show))
        .service(page!("/visits/{id}/answer", post: visits::answer))
        .service(page!("/visits/{id}/cancel", post: visits::cancel))
        .service(page!("/visits/{id}/calendar.ics", get: visits::calendar))
        .service(page!("/visits/{id}/lessons", get: lessons::own_show, post: lessons::own_submit))
        // Behind email links: GET and HEAD never change anything.
        .service(page!("/invitations/{token}", get: invitations::show, post: invitations::answer))
        .service(page!("/lessons-forms/{token}", get: lessons::show, post: lessons::submit))
        .service(page!("/unsubscribe/{token}", get: unsubscribe::show, post: unsubscribe::act))
        .service(page!("/welcome/{token}", get: sign_in::welcome_show, post: sign_in::welcome))
        .service(page!("/password/reset/{token}", get: sign_in::reset_show, post: sign_in::reset))
        .service(page!(
            "/follow-ups/{token}",
            get: followups::followup_show,
            post: followups::followup_submit
        ))
        .service(page!("/assets/meeloop.css", get: || async {
            HttpResponse::Ok()
                .content_type("text/css; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
                .body(CSS)
        }));
}

/// What every page's frame needs: the language, the menu (when someone is
/// logged in) and where the language switch leads.
pub struct Chrome {
    pub lang: Language,
    pub nav: Nav,
    /// Name, admin?, CSRF token of the logged-in user.
    pub user: Option<(String, bool, String)>,
    /// The language switch's link; pages behind email links have none
    /// (they speak the receiving organisation's language).
    pub switch: Option<String>,
}

impl Chrome {
    pub fn new(lang: Language, back: &str, nav: Nav) -> Self {
        let other = match lang {
            Language::Nl => "en",
            Language::En => "nl",
        };
        let query = serde_urlencoded::to_string([("back", back)]).unwrap_or_default();
        Chrome {
            lang,
            nav,
            user: None,
            switch: Some(format!("/language/{other}?{query}")),
        }
    }

    /// For the pages behind email links: no menu, no switch.
    pub fn link_page(lang: Language) -> Self {
        Chrome {
            lang,
            nav: Nav::None,
            user: None,
            switch: None,
        }
    }

    pub fn with_user(mut self, user: &User, csrf: &str) -> Self {
        self.user = Some((
            user.name.clone(),
            user.role == Role::Admin,
            csrf.to_string(),
        ));
        self
    }

    /// The text in the page's language.
    pub fn t<'a>(&self, nl: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Language::Nl => nl,
            Language::En => en,
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.as_str()
    }

    pub fn current(&self, which: &str) -> bool {
        let name = match self.nav {
            Nav::None => "",
            Nav::Dashboard => "dashboard",
            Nav::Peers => "peers",
            Nav::Knowledge => "knowledge",
            Nav::Statistics => "statistics",
            Nav::Organisation => "organisation",
            Nav::Admin => "admin",
            Nav::Account => "account",
        };
        name == which
    }
}

/// A heading and a message: outcomes and failures.
#[derive(Template)]
#[template(path = "web/message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub heading: String,
    pub message: String,
}

/// Nothing at this path: a browser (asking for HTML, outside `/api/`) gets
/// a page in its language, everyone else the API's problem+json.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !req.path().starts_with("/api/") {
        actix_web::ResponseError::error_response(&WebError::not_found(session::language(&req)))
    } else {
        match crate::http::problem::no_route(req).await {
            Ok(r) => r,
            Err(e) => actix_web::ResponseError::error_response(&e),
        }
    }
}

/// A message page behind an email link, in the link's language.
pub(crate) fn link_message(
    status: StatusCode,
    lang: Language,
    heading: &str,
    message: String,
) -> HttpResponse {
    page(
        status,
        &MessagePage {
            c: Chrome::link_page(lang),
            heading: heading.to_string(),
            message,
        },
    )
}

/// An email link we do not know (or a mangled one).
pub(crate) fn unknown_link(req: &HttpRequest) -> HttpResponse {
    let lang = crate::http::lang::preferred(req);
    let c = Chrome::link_page(lang);
    link_message(
        StatusCode::NOT_FOUND,
        lang,
        c.t("Link niet geldig", "Link not valid"),
        c.t(
            "Deze link is niet (meer) geldig. Controleer of u de hele link uit de e-mail hebt gebruikt.",
            "This link is not valid. Check that you used the whole link from the email.",
        )
        .into(),
    )
}

/// An email link's page when we fail: the link stays valid.
pub(crate) fn link_failure(req: &HttpRequest, e: &crate::service::ServiceError) -> HttpResponse {
    tracing::error!(error = ?e, path = "email link", "page failed");
    let lang = crate::http::lang::preferred(req);
    let c = Chrome::link_page(lang);
    link_message(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        c.t("Even niet beschikbaar", "Temporarily unavailable"),
        c.t(
            "Er ging iets mis. Probeer het over een paar minuten opnieuw; de link blijft geldig.",
            "Something went wrong. Try again in a few minutes; the link stays valid.",
        )
        .into(),
    )
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
