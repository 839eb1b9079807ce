//! Support staff answering "did customer X get event Y?": the log refreshing in place, the
//! Deliveries tab finding one delivery across webhooks, the list's counts and the chart.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::location;
use crate::common::scene::{Scene, scene, wait_for_delivery, webhook_to};

#[tokio::test]
async fn the_log_refreshes_in_place_with_only_its_results() {
    let Scene {
        app, api, webhook, ..
    } = scene("1h").await;
    let page = app.get_page(&format!("/settings/webhooks/{webhook}")).await;
    let refresh = page
        .attr("#delivery-log-results", "hx-get")
        .expect("the results reload themselves");
    assert_eq!(refresh, format!("/settings/webhooks/{webhook}/deliveries"));
    assert!(page.has("#delivery-log-results[data-live-refresh]"));
    assert!(page.text("#delivery-log").contains("No deliveries yet"));

    api.publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;
    wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    let partial = app.get_htmx(&refresh).await;
    assert_eq!(partial.status(), StatusCode::OK);
    let html = partial.text().await.unwrap();
    assert!(
        html.starts_with("<div id=\"delivery-log-results\""),
        "{html}"
    );
    assert!(!html.contains("<html"), "one small partial, not the page");
    assert!(html.contains("order.purchased") && html.contains("Succeeded"));

    let filtered = format!("/settings/webhooks/{webhook}?status=failed&event=order.purchased");
    let page = app.get_page(&filtered).await;
    let refresh = page.attr("#delivery-log-results", "hx-get").unwrap();
    assert_eq!(
        refresh,
        format!("/settings/webhooks/{webhook}/deliveries?status=failed&event=order.purchased"),
        "the refresh keeps the filters"
    );
    let without_htmx = app.get(&refresh).await;
    assert_eq!(without_htmx.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&without_htmx),
        format!("{filtered}#delivery-log"),
        "a browser without htmx lands on the page"
    );
}

#[tokio::test]
async fn the_log_pages_from_a_delivery_id_newest_first() {
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene("1h").await;
    receiver.answer_with(&[200; 30]);
    for i in 0..30 {
        api.publish(json!({"event_type": "user.updated", "data": {"i": i}}))
            .await;
    }
    let first = app.get_page(&format!("/settings/webhooks/{webhook}")).await;
    assert_eq!(first.text(".table-summary"), "30 deliveries, newest first");
    let ids: Vec<i64> = first
        .texts(".delivery-log .row-link")
        .iter()
        .map(|id| id.parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 25);
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "newest first");
    let older = first.attr(".pagination a[rel=next]", "href").unwrap();
    assert_eq!(
        older,
        format!(
            "/settings/webhooks/{webhook}?before={}#delivery-log",
            ids[24]
        )
    );
    let second = app.get_page(&older).await;
    assert_eq!(second.texts(".delivery-log .row-link").len(), 5);
    assert!(!second.has(".pagination a[rel=next]"), "nothing older");
    let newer = second.attr(".pagination a[rel=prev]", "href").unwrap();
    let back = app.get_page(&newer).await;
    assert_eq!(
        back.texts(".delivery-log .row-link"),
        first.texts(".delivery-log .row-link"),
        "Newer leads back to the first page"
    );
}

#[tokio::test]
async fn the_deliveries_tab_finds_a_delivery_across_webhooks() {
    let Scene {
        app, api, receiver, ..
    } = scene("1h").await;
    let other = webhook_to(
        &api,
        &format!("{}/other", receiver.url),
        &["order.refunded"],
    )
    .await;
    let (_, purchased) = api
        .publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;
    let (_, refunded) = api
        .publish(json!({"event_type": "order.refunded", "data": {}}))
        .await;
    wait_for_delivery(&api, other, |d| d["status"] == "succeeded").await;
    let support = app.user("sam@example.com", "support").await;

    let everything = support.get_page("/settings/deliveries").await;
    assert_eq!(everything.texts(".delivery-log tbody tr").len(), 3);

    let refunded_id = refunded["id"].as_str().unwrap();
    let by_event = support
        .get_page(&format!("/settings/deliveries?q={refunded_id}"))
        .await;
    assert_eq!(
        by_event.texts(".delivery-log tbody tr").len(),
        2,
        "one per webhook that got {refunded_id}"
    );

    let delivery: Value = api
        .get(&format!("/api/v1/webhooks/{other}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    let delivery_id = delivery["data"][0]["id"].as_i64().unwrap();
    let by_id = support
        .get_page(&format!("/settings/deliveries?q={delivery_id}"))
        .await;
    assert_eq!(by_id.texts(".delivery-log tbody tr").len(), 1);
    assert_eq!(
        by_id.attr(".delivery-log .row-link", "href").unwrap(),
        format!("/settings/webhooks/{other}/deliveries/{delivery_id}"),
        "every row links to its delivery"
    );
    assert!(
        by_id
            .text(".delivery-log")
            .contains(&format!("Hook {}/other", receiver.url))
    );

    let by_type = support
        .get_page("/settings/deliveries?event=order.purchased&status=succeeded")
        .await;
    assert!(
        by_type
            .text(".delivery-log tbody")
            .contains(purchased["id"].as_str().unwrap()),
        "{}",
        by_type.text(".delivery-log tbody")
    );
    assert_eq!(by_type.texts(".delivery-log tbody tr").len(), 1);

    let hour_ago = app.now().minus(Duration::from_secs(3600)).utc_minutes();
    let until_an_hour_ago = support
        .get_page(&format!("/settings/deliveries?until={hour_ago}"))
        .await;
    assert!(
        until_an_hour_ago
            .text("main")
            .contains("No delivery matches")
    );
    let since_an_hour_ago = support
        .get_page(&format!("/settings/deliveries?from={hour_ago}"))
        .await;
    assert_eq!(since_an_hour_ago.texts(".delivery-log tbody tr").len(), 3);

    // Any text is something a customer may quote: it finds nothing, and says so.
    for quoted in ["q=evt_x", "q=drop+table", "q=%25", "q=0"] {
        let page = support
            .get_page(&format!("/settings/deliveries?{quoted}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{quoted}");
        assert!(
            page.text("main").contains("No delivery matches"),
            "{quoted}"
        );
    }
    for nonsense in ["from=yesterday", "webhook=x"] {
        let response = support
            .get(&format!("/settings/deliveries?{nonsense}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{nonsense}");
        let page = crate::common::Page::from(response).await;
        assert!(page.text(".form-alert").contains("Nothing was searched"));
    }
}

#[tokio::test]
async fn the_list_counts_what_waits_and_the_page_charts_the_day() {
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene("1h").await;
    receiver.answer_with(&[500, 500, 200]);
    for i in 0..3 {
        api.publish(json!({"event_type": "user.deleted", "data": {"i": i}}))
            .await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while receiver.received().len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let list = app.get_page("/settings/webhooks").await;
    assert_eq!(list.text("tbody .backlog"), "2 pending");
    assert_eq!(
        list.attr("tbody .backlog", "href").unwrap(),
        format!("/settings/webhooks/{webhook}?status=pending#delivery-log")
    );
    let exact = list.attr("tbody time", "title").unwrap();
    assert!(exact.ends_with(" UTC"), "exact time on hover: {exact}");
    assert_eq!(list.text("tbody td[data-label='Success (24 h)']"), "33.3%");

    let page = app.get_page(&format!("/settings/webhooks/{webhook}")).await;
    assert_eq!(page.attr(".chart svg", "role").as_deref(), Some("img"));
    assert_eq!(
        page.text(".chart svg desc"),
        "In the last 24 hours: 1 succeeded and 2 failed tries; at most 3 in one hour."
    );
    assert_eq!(page.texts(".chart-table tbody tr").len(), 24);
    assert_eq!(
        page.texts(".chart-table tbody tr:last-child td"),
        ["1", "2"],
        "the table says the same"
    );
}

#[tokio::test]
async fn a_refused_connection_is_explained_in_words() {
    let Scene { app, api, .. } = scene("1h").await;
    // Port 1 on loopback: allowed by the scene, and nothing listens there.
    let webhook = webhook_to(&api, "http://127.0.0.1:1/hooks", &["user.signed_up"]).await;
    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;
    assert_eq!(delivery["attempts"][0]["error_code"], "connect");
    let page = app
        .get_page(&format!(
            "/settings/webhooks/{webhook}/deliveries/{}",
            delivery["id"]
        ))
        .await;
    assert!(
        page.text(".attempt")
            .contains("Connection refused by 127.0.0.1:1: nothing accepts connections there."),
        "{}",
        page.text(".attempt")
    );
}
