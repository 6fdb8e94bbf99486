//! Building the application: state, middleware and the HTTP server.

use std::net::{IpAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpMessage, HttpServer};
use tracing_actix_web::{RequestId, TracingLogger};

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
    pub matching: MatchIndex,
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
            matching: MatchIndex::new(settings.matching, max_staleness),
            sessions: SessionCache::new(max_staleness),
            base_url,
            visits: settings.visits,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(http::body::MAX_BODY_BYTES))
                .configure(http::routes)
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
                .wrap(TracingLogger::default())
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
        let result = self.server.await;
        let _ = stop.send(true);
        if let Some(worker) = worker {
            // Unfinished claims are taken over by another worker when their lease ends.
            let _ = tokio::time::timeout(self.shutdown_timeout, worker).await;
        }
        result
    }
}
