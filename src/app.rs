//! Building the application: state, middleware and the HTTP server.

use std::net::{IpAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, Service};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpMessage, HttpServer};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};

use crate::auth::jwt::JwtKeys;
use crate::auth::limits::{ApiLimiter, LoginLimiter};
use crate::config::Settings;
use crate::db::DbPool;
use crate::http;
use crate::mail::Mailer;
use crate::service::accounts::SessionCache;
use crate::service::matching::MatchIndex;

/// Shared by every request handler.
pub struct AppState {
    pub pool: DbPool,
    pub jwt: Arc<JwtKeys>,
    pub login_limiter: LoginLimiter,
    pub api_limiter: ApiLimiter,
    pub trusted_proxies: Vec<IpAddr>,
    pub matching: Arc<MatchIndex>,
    pub sessions: SessionCache,
    /// Base of links in emails, without a trailing slash. (The transport
    /// belongs to the delivery worker alone: handlers only queue.)
    pub base_url: String,
    pub visits: crate::domain::visit::VisitRules,
}

/// A bound, ready-to-run server. Binding happens in [`Application::build`],
/// so tests can ask for port 0 and read the real port before running.
pub struct Application {
    port: u16,
    server: Server,
    /// The delivery worker to run beside the server (unless `mail.deliver` is off).
    worker: Option<(DbPool, Mailer)>,
    /// The visit scheduler and its interval (unless `jobs.run` is off).
    scheduler: Option<(crate::jobs::Scheduler, Duration)>,
    shutdown_timeout: Duration,
}

impl Application {
    pub fn build(settings: &Settings, pool: DbPool) -> std::io::Result<Application> {
        let jwt = Arc::new(settings.jwt_keys().map_err(std::io::Error::other)?);
        settings
            .matching
            .validate()
            .map_err(|e| std::io::Error::other(format!("configuration: {e}")))?;
        let max_staleness = Duration::from_millis(settings.database.max_staleness_ms);
        settings
            .visits
            .validate()
            .map_err(|e| std::io::Error::other(format!("configuration: {e}")))?;
        let mut mailer = Mailer::from_settings(settings)
            .map_err(|e| std::io::Error::other(format!("configuration: {e}")))?;
        let listener = TcpListener::bind(settings.bind_address())?;
        let port = listener.local_addr()?.port();
        if settings.server.public_url.is_none() {
            // Port 0 asked for any free port: links must carry the real one.
            mailer.base_url = format!("http://{}:{port}", settings.server.host);
        }
        let base_url = mailer.base_url.clone();
        let worker = mailer.deliver.then(|| (pool.clone(), mailer));
        if !(1..=86_400).contains(&settings.jobs.interval_secs) {
            return Err(std::io::Error::other(
                "configuration: jobs.interval_secs must be 1 to 86400",
            ));
        }
        let matching = Arc::new(MatchIndex::new(settings.matching, max_staleness));
        let scheduler = settings.jobs.run.then(|| {
            (
                crate::jobs::Scheduler::new(
                    pool.clone(),
                    matching.clone(),
                    base_url.clone(),
                    settings.visits,
                ),
                Duration::from_secs(settings.jobs.interval_secs),
            )
        });
        let state = web::Data::new(AppState {
            pool,
            jwt,
            login_limiter: LoginLimiter::new(
                settings.auth.login_burst,
                Duration::from_millis(settings.auth.login_refill_ms),
            ),
            api_limiter: ApiLimiter::new(
                settings.auth.api_burst,
                Duration::from_millis(settings.auth.api_refill_ms),
            ),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            matching,
            sessions: SessionCache::new(max_staleness),
            base_url,
            visits: settings.visits,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(http::body::MAX_BODY_BYTES))
                .configure(crate::web::routes)
                .configure(http::routes)
                // Unknown paths: a page for people in a browser, problem+json for the API.
                .default_service(web::to(crate::web::no_route))
                .wrap(
                    DefaultHeaders::new()
                        .add(("API-Version", http::API_VERSION))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                // Echo the request id so a user can quote it and we can find the log lines.
                .wrap_fn(|req, srv| {
                    let request_id = req.extensions().get::<RequestId>().copied();
                    let response = srv.call(req);
                    async move {
                        let mut response = response.await?;
                        if let Some(id) = request_id {
                            if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
                                response
                                    .headers_mut()
                                    .insert(HeaderName::from_static("x-request-id"), value);
                            }
                        }
                        Ok(response)
                    }
                })
                .wrap(TracingLogger::<RedactedSpans>::new())
        })
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(10));
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers.max(1));
        }
        let server = server.listen(listener)?.run();
        Ok(Application {
            port,
            server,
            worker,
            scheduler,
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_secs),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGTERM or Ctrl-C, then finishes in-flight requests and
    /// the mail round in progress (each up to `server.shutdown_timeout_secs`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|(pool, mailer)| {
            actix_web::rt::spawn(crate::mail::worker::run(
                pool,
                mailer.transport,
                mailer.sender,
                mailer.poll,
                stopped,
            ))
        });
        let scheduler = self.scheduler.map(|(scheduler, interval)| {
            actix_web::rt::spawn(scheduler.run(interval, stop.subscribe()))
        });
        let result = self.server.await;
        let _ = stop.send(true);
        if let Some(worker) = worker {
            // Unfinished claims are taken over by another worker when their lease ends.
            let _ = tokio::time::timeout(self.shutdown_timeout, worker).await;
        }
        if let Some(scheduler) = scheduler {
            // A job cut short rolls back; the next round does it again.
            let _ = tokio::time::timeout(self.shutdown_timeout, scheduler).await;
        }
        result
    }
}

/// Request spans as tracing-actix-web's default, except that the path is
/// logged with the secret part of email links (`/invitations/{token}`,
/// `/lessons-forms/{token}`, `/follow-ups/{token}`) replaced: whoever reads the logs must not be able to answer for a host.
pub struct RedactedSpans;

impl RootSpanBuilder for RedactedSpans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let target = redact_path(request.path());
        let client_ip = request
            .connection_info()
            .realip_remote_addr()
            .unwrap_or("")
            .to_string();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %target,
            http.client_ip = %client_ip,
            http.status_code = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// `/invitations/<token>` → `/invitations/***`; the query string is dropped
/// (it may carry anything).
pub fn redact_path(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    for i in 1..parts.len() {
        if matches!(parts[i - 1], "invitations" | "lessons-forms" | "follow-ups")
            && !parts[i].is_empty()
        {
            parts[i] = "***";
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_tokens_never_reach_the_logs() {
        assert_eq!(
            super::redact_path("/invitations/AbC-123_x"),
            "/invitations/***"
        );
        assert_eq!(
            super::redact_path("/lessons-forms/AbC-123_x"),
            "/lessons-forms/***"
        );
        assert_eq!(super::redact_path("/follow-ups/x"), "/follow-ups/***");
        assert_eq!(super::redact_path("/api/v1/visits/3"), "/api/v1/visits/3");
        assert_eq!(super::redact_path("/invitations/"), "/invitations/");
    }
}
