//! `POST /apps/{id}/events` and `POST /apps/{id}/batch_events`: publish from the server side.

use super::channels::attributes;
use super::ApiError;
use super::{info_list, ApiRequest, ApiResult};
use crate::channels::census::{Census, Filter};
use crate::channels::name::ChannelKind;
use crate::http::response;
use hyper::StatusCode;
use serde_json::{Map, Value};

/// One event to publish, validated.
struct Event {
    name: String,
    data: String,
    channels: Vec<String>,
    socket_id: Option<String>,
    info: Vec<String>,
}

/// Publishes one event to one or more channels.
pub async fn trigger(request: &ApiRequest) -> ApiResult {
    let body = json_object(request)?;
    let event = Event::parse(&body, "", request)?;
    request.app.publish(
        &event.channels,
        &event.name,
        &event.data,
        event.socket_id.as_deref(),
    );
    if event.info.is_empty() {
        return Ok(response::json(StatusCode::OK, &Value::Object(Map::new())));
    }
    let census = census_of(request, &event.channels).await;
    let channels: Map<String, Value> = event
        .channels
        .iter()
        .map(|channel| {
            let attrs = attributes(&census, channel, &event.info);
            (channel.clone(), Value::Object(attrs))
        })
        .collect();
    Ok(response::json(
        StatusCode::OK,
        &serde_json::json!({ "channels": channels }),
    ))
}

/// Publishes several events, each to one channel.
pub async fn trigger_batch(request: &ApiRequest) -> ApiResult {
    let body = json_object(request)?;
    let Some(Value::Array(items)) = body.get("batch") else {
        return Err(invalid(
            "The batch field is required and must be an array of events.",
        ));
    };
    if let Some(limit) = request.app.config().max_events_per_batch {
        if items.len() > limit {
            return Err(invalid(&format!(
                "The batch holds {} events, over the app's max_events_per_batch ({limit}).",
                items.len()
            )));
        }
    }
    let events = items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(item) => Event::parse(item, &format!("batch.{index}."), request),
            _ => Err(invalid(&format!("batch.{index} must be an object."))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    for event in &events {
        request.app.publish(
            &event.channels,
            &event.name,
            &event.data,
            event.socket_id.as_deref(),
        );
    }
    let asked: Vec<String> = events
        .iter()
        .filter(|event| !event.info.is_empty())
        .map(|event| event.channels[0].clone())
        .collect();
    let census = census_of(request, &asked).await;
    let results: Vec<Value> = events
        .iter()
        .map(|event| Value::Object(attributes(&census, &event.channels[0], &event.info)))
        .collect();
    if results
        .iter()
        .all(|attrs| attrs.as_object().is_some_and(Map::is_empty))
    {
        // Reverb answers an object, not a list, when no event has attributes to report.
        return Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({ "batch": {} }),
        ));
    }
    Ok(response::json(
        StatusCode::OK,
        &serde_json::json!({ "batch": results }),
    ))
}

impl Event {
    /// Reads one event; `at` prefixes field names in errors (`batch.2.`).
    fn parse(
        fields: &Map<String, Value>,
        at: &str,
        request: &ApiRequest,
    ) -> Result<Event, ApiError> {
        let string = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(invalid(&format!("The {at}{name} field must be a string."))),
        };
        let name =
            string("name")?.ok_or_else(|| invalid(&format!("The {at}name field is required.")))?;
        let data = string("data")?.ok_or_else(|| {
            invalid(&format!(
                "The {at}data field is required and must be a string."
            ))
        })?;
        let channels = match (fields.get("channels"), string("channel")?) {
            (Some(Value::Array(list)), _) => list
                .iter()
                .enumerate()
                .map(|(i, channel)| match channel {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid(&format!(
                        "The {at}channels.{i} field must be a string."
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            (Some(_), _) => {
                return Err(invalid(&format!(
                    "The {at}channels field must be an array."
                )))
            }
            (None, Some(channel)) => vec![channel],
            (None, None) => {
                return Err(invalid(&format!(
                    "The {at}channels field is required when {at}channel is not present."
                )))
            }
        };
        if channels.is_empty() {
            return Err(invalid(&format!(
                "The {at}channels field must name a channel."
            )));
        }
        if let Some(limit) = request.app.config().max_channels_per_event {
            if channels.len() > limit {
                return Err(invalid(&format!(
                    "The {at}channels field lists {} channels, over the app's max_channels_per_event ({limit}).",
                    channels.len()
                )));
            }
        }
        for channel in &channels {
            ChannelKind::of(channel)
                .map_err(|error| invalid(&format!("{at}channels: {}", error.message())))?;
        }
        Ok(Event {
            name,
            data,
            channels,
            socket_id: string("socket_id")?,
            info: info_list(string("info")?.as_deref()),
        })
    }
}

/// The census of the channels whose `info` was asked for: one channel's alone, or every
/// channel's when several are named; nothing is asked of the cluster when none is.
async fn census_of(request: &ApiRequest, channels: &[String]) -> Census {
    match channels {
        [] => Census::default(),
        [channel] => request.app.census(Filter::Channel(channel.clone())).await,
        _ => request.app.census(Filter::All).await,
    }
}

fn json_object(request: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(body)) => Ok(body),
        Ok(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Bad request: the body must be a JSON object.",
        )),
        Err(error) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Bad request: the body is not valid JSON ({error})."),
        )),
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}
