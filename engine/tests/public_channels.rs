//! Public channels and publishing: subscribing, what `Server::publish` delivers and to whom,
//! unsubscribing, apps isolated from each other on one server, and which channel names are
//! valid.

mod support;

use serde_json::json;
use support::{
    assert_next_is_marker, expect_each_refused, names, occupied_channels, publish, start_one,
    start_two_apps, subscribe_frame, subscribe_private, subscribed_frame, Client, Refusal, KEY,
};

#[tokio::test]
async fn subscribing_to_a_public_channel_succeeds_with_empty_data() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    client
        .send_json(json!({"event": "pusher:subscribe", "data": {"channel": "news"}}))
        .await;
    let frame = client.next_json().await;
    assert_eq!(frame, subscribed_frame("news"));
}

#[tokio::test]
async fn publish_delivers_the_event_with_its_data_string_unchanged_to_every_subscriber() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::subscribed(addr, "news").await;
    let (mut b, _) = Client::subscribed(addr, "news").await;

    // Odd spacing and non-ASCII: the data string must arrive byte for byte.
    let data = r#"{ "n":1,  "text": "héllo \"world\"" }"#;
    let queued = publish(&server, &["news"], "update", data);
    assert_eq!(queued, 2);

    for client in [&mut a, &mut b] {
        let frame = client.next_json().await;
        assert_eq!(
            frame,
            json!({"event": "update", "data": data, "channel": "news"})
        );
    }
}

#[tokio::test]
async fn publish_to_several_channels_reaches_the_subscribers_of_each() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::subscribed(addr, "one").await;
    let (mut b, _) = Client::subscribed(addr, "two").await;

    let queued = publish(&server, &["one", "two", "nobody"], "e", "{}");
    assert_eq!(queued, 2);
    assert_eq!(a.next_json().await["channel"], "one");
    assert_eq!(b.next_json().await["channel"], "two");
}

#[tokio::test]
async fn publish_with_except_socket_id_skips_that_socket() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::subscribed(addr, "news").await;
    let (mut b, _) = Client::subscribed(addr, "news").await;

    let queued = server
        .publish(
            "app-1",
            &names(&["news"]),
            "update",
            r#"{"secret":true}"#,
            Some(&id_a),
        )
        .unwrap();
    assert_eq!(queued, 1);
    assert_eq!(b.next_json().await["event"], "update");
    assert_next_is_marker(&server, &mut a, "news", "after-except").await;
}

#[tokio::test]
async fn unsubscribing_stops_delivery() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::subscribed(addr, "news").await;
    let (mut b, _) = Client::subscribed(addr, "news").await;
    a.subscribe("other").await;

    a.unsubscribe("news").await;
    let queued = publish(&server, &["news"], "update", "{}");
    assert_eq!(queued, 1);
    assert_eq!(b.next_json().await["event"], "update");
    assert_next_is_marker(&server, &mut a, "other", "after-unsubscribe").await;
}

#[tokio::test]
async fn apps_on_one_server_are_isolated() {
    let server = start_two_apps();
    let addr = server.local_addr();
    let (mut on_app_1, _) = Client::connect(addr, "key-1").await;
    let (mut on_app_2, _) = Client::connect(addr, "key-2").await;
    on_app_1.subscribe("news").await;
    on_app_2.subscribe("news").await;

    let queued = publish(&server, &["news"], "for-app-1", "{}");
    assert_eq!(queued, 1);
    assert_eq!(on_app_1.next_json().await["event"], "for-app-1");

    let queued = server
        .publish("app-2", &names(&["news"]), "for-app-2", "{}", None)
        .unwrap();
    assert_eq!(queued, 1);
    let frame = on_app_2.next_json().await;
    assert_eq!(
        frame["event"], "for-app-2",
        "app-2 must not see app-1's event"
    );

    assert!(server
        .publish("app-3", &names(&["news"]), "e", "{}", None)
        .is_err());
}

#[tokio::test]
async fn invalid_channel_names_get_4200_invalid_channel_name() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    let too_long = "a".repeat(165);
    let private_too_long = format!("private-{}", "a".repeat(157));
    let bad = [
        "has space",
        "star*",
        "slash/",
        "quote\"",
        "emoji-\u{1F600}",
        "#other",
        "#server-to-user",
        &too_long,
        &private_too_long,
    ];
    expect_each_refused(
        &mut client,
        bad.map(|name| subscribe_frame(name, None, None)),
        4200,
        Refusal::StartsWith("Invalid channel name"),
    )
    .await;
    assert!(occupied_channels(&server).is_empty());
}

#[tokio::test]
async fn channel_name_of_164_characters_is_accepted() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let public = "a".repeat(164);
    client.subscribe(&public).await;
    let private = format!("private-{}", "b".repeat(156));
    assert_eq!(private.len(), 164);
    subscribe_private(&mut client, &socket_id, &private).await;
    client.subscribe("a_b-c=d@e,f.g;h").await;
    assert_eq!(occupied_channels(&server).len(), 3);
}
