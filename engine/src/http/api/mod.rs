//! The Pusher HTTP API under `/apps/{app_id}/...`: authentication, then one small controller
//! per route. `POST /users/{user_id}/terminate_connections` without the app in the path is
//! served too, with the app found by `auth_key`, because the official Python SDK sends it so.
//!
//! Every request is checked in the same order: the app exists (404), the method fits the
//! route (405), the body fits `max_request_size` (413), the signature is valid (401), and only
//! then the controller runs. Errors are JSON `{"error": "..."}` saying exactly what was wrong.

mod channels;
mod connections;
mod events;
mod users;

use super::response::{self, Reply};
use crate::app::App;
use crate::auth;
use crate::state::ServerState;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH};
use hyper::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a client may take to send a request body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A response, or the error that replaces it.
type ApiResult = Result<Reply, ApiError>;

/// An HTTP API error: a status and a message saying exactly what was wrong.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn into_reply(self) -> Reply {
        response::error(self.status, &self.message)
    }
}

/// An authenticated request, as controllers see it.
pub struct ApiRequest {
    /// The app the request is for.
    pub app: Arc<App>,
    /// Decoded query parameters.
    pub params: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
}

impl ApiRequest {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The comma-separated `info` attributes asked for.
    pub fn info(&self) -> Vec<String> {
        info_list(self.param("info"))
    }
}

/// Splits an `info` value (`user_count,subscription_count`) into attribute names.
pub fn info_list(info: Option<&str>) -> Vec<String> {
    info.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The route a path names, with its decoded parameters.
enum Route {
    Events,
    BatchEvents,
    Channels,
    Channel(String),
    ChannelUsers(String),
    Connections,
    TerminateUser(String),
}

impl Route {
    fn parse(segments: &[String]) -> Option<Route> {
        let route = match segments {
            [events] if events == "events" => Route::Events,
            [batch] if batch == "batch_events" => Route::BatchEvents,
            [channels] if channels == "channels" => Route::Channels,
            [channels, name] if channels == "channels" => Route::Channel(name.clone()),
            [channels, name, users] if channels == "channels" && users == "users" => {
                Route::ChannelUsers(name.clone())
            }
            [connections] if connections == "connections" => Route::Connections,
            [users, id, terminate] if users == "users" && terminate == "terminate_connections" => {
                Route::TerminateUser(id.clone())
            }
            _ => return None,
        };
        Some(route)
    }

    /// The route's name in the metrics' `route` label.
    fn name(&self) -> &'static str {
        match self {
            Route::Events => "events",
            Route::BatchEvents => "batch_events",
            Route::Channels => "channels",
            Route::Channel(_) => "channel",
            Route::ChannelUsers(_) => "channel_users",
            Route::Connections => "connections",
            Route::TerminateUser(_) => "terminate_user",
        }
    }

    fn method(&self) -> Method {
        match self {
            Route::Events | Route::BatchEvents | Route::TerminateUser(_) => Method::POST,
            _ => Method::GET,
        }
    }
}

/// How a path names the app a request is for.
enum AppRef {
    /// By id: `/apps/{app_id}/...`.
    Id(String),
    /// By the `auth_key` parameter, on routes without the app in the path.
    Key,
}

/// The route a path (prefix stripped) asks for and how it names the app; `None` when it
/// names no route.
fn resolve(path: &str) -> Option<(AppRef, Route)> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    match segments.split_first() {
        Some((apps, rest)) if apps == "apps" && !rest.is_empty() => {
            Some((AppRef::Id(rest[0].clone()), Route::parse(&rest[1..])?))
        }
        _ => match Route::parse(&segments) {
            Some(route @ Route::TerminateUser(_)) => Some((AppRef::Key, route)),
            _ => None,
        },
    }
}

/// Serves a request whose path (prefix stripped) starts with `/apps/` or `/users/`; returns
/// the name of the route it asked for (`not_found` when none) with the response.
pub async fn serve(
    request: Request<Incoming>,
    path: &str,
    state: Arc<ServerState>,
) -> (&'static str, Reply) {
    let Some((app, route)) = resolve(path) else {
        return ("not_found", not_found().into_reply());
    };
    let name = route.name();
    let reply = match handle(request, path, app, route, state).await {
        Ok(reply) => reply,
        Err(error) => error.into_reply(),
    };
    (name, reply)
}

async fn handle(
    request: Request<Incoming>,
    path: &str,
    app: AppRef,
    route: Route,
    state: Arc<ServerState>,
) -> ApiResult {
    let params: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let app = match app {
        AppRef::Id(id) => state.app_by_id(&id).await.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No matching application for ID [{id}]."),
            )
        })?,
        AppRef::Key => app_by_key(&state, &params).await?,
    };
    if request.method() != route.method() {
        let mut refused = response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!(
                "Method not allowed: {path} accepts {} only.",
                route.method()
            ),
        );
        refused.headers_mut().insert(
            ALLOW,
            HeaderValue::from_str(route.method().as_str()).expect("a method is a valid header"),
        );
        return Ok(refused);
    }
    let method = request.method().to_string();
    let body = read_body(request, state.config.max_request_size).await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    auth::verify_request(
        &app.config(),
        &method,
        path,
        &params,
        &body,
        now,
        state.config.timestamp_window,
    )
    .map_err(|error| ApiError::new(StatusCode::UNAUTHORIZED, error.to_string()))?;

    let request = ApiRequest { app, params, body };
    match route {
        Route::Events => events::trigger(&request).await,
        Route::BatchEvents => events::trigger_batch(&request).await,
        Route::Channels => channels::index(&request).await,
        Route::Channel(name) => channels::show(&request, &name).await,
        Route::ChannelUsers(name) => channels::users(&request, &name).await,
        Route::Connections => Ok(connections::count(&request).await),
        Route::TerminateUser(user_id) => Ok(users::terminate(&request, &user_id)),
    }
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not found.")
}

/// The app named by the `auth_key` parameter, for routes without the app id in the path.
async fn app_by_key(
    state: &ServerState,
    params: &[(String, String)],
) -> Result<Arc<App>, ApiError> {
    let key = params
        .iter()
        .find(|(name, _)| name == "auth_key")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    state.app_by_key(key).await.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No matching application for key [{key}]."),
        )
    })
}

/// Reads the whole body, refusing more than `limit` bytes (413) or a client that stalls (408).
async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload too large: the request is over max_request_size ({limit} bytes)."),
        )
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let collect = Limited::new(request.into_body(), limit).collect();
    match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Bad request: the body could not be read.",
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "Request timeout: the body did not arrive in time.",
        )),
    }
}
