//! A broken receiver costs its neighbours nothing (SPEC §5 "Isolation"): real local
//! receivers that hang, fail, throttle or answer slowly, beside healthy ones.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::{Answer, Receiver};
use crate::common::scene::{received, wait_for_delivery, webhook_to};
use crate::common::{Api, TestApp};

/// A console that may deliver to this machine, with the default 15 s timeout.
async fn console(retry_schedule: &str) -> TestApp {
    let schedule = retry_schedule.parse().unwrap();
    TestApp::spawn_with(|settings| {
        settings.allow_private_targets = vec!["127.0.0.1/32".parse().unwrap()];
        settings.retry_schedule = schedule;
    })
    .await
}

/// Forty webhooks on a receiver that never answers, each with a backlog of sends that can
/// only time out.
async fn forty_hanging_webhooks(api: &Api) -> Receiver {
    let hanging = Receiver::start().await;
    hanging.always(Answer::Slowly(Duration::from_secs(3600)));
    for n in 0..40 {
        let url = format!("{}/{n}", hanging.url);
        webhook_to(api, &url, &["order.refunded"]).await;
    }
    for _ in 0..25 {
        api.publish(json!({"event_type": "order.refunded", "data": {}}))
            .await;
    }
    received(&hanging, 40, Duration::from_secs(5)).await;
    hanging
}

async fn webhook(api: &Api, id: i64) -> Value {
    api.get(&format!("/api/v1/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_healthy_webhook_beside_forty_hanging_ones_gets_every_event_at_once() {
    let app = console("1s").await;
    let api = app.api().await;
    let _hanging = forty_hanging_webhooks(&api).await;
    let healthy = Receiver::start().await;
    webhook_to(&api, &healthy.url, &["order.purchased"]).await;

    let mut published = Vec::new();
    for n in 0..20 {
        published.push(Instant::now());
        let (status, _) = api
            .publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let got = received(&healthy, 20, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 20, "every event reached the healthy webhook");
    for request in &got {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let n = body["data"]["n"].as_u64().unwrap() as usize;
        let late = request.at.duration_since(published[n]);
        assert!(
            late < Duration::from_secs(1),
            "event {n} arrived {late:?} late"
        );
    }
}

#[tokio::test]
async fn a_retry_beside_hanging_webhooks_is_sent_when_it_is_due() {
    let app = console("1s").await;
    let api = app.api().await;
    let _hanging = forty_hanging_webhooks(&api).await;
    let flaky = Receiver::start().await;
    flaky.answer_with(&[500]);
    webhook_to(&api, &flaky.url, &["order.purchased"]).await;

    api.publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;

    let got = received(&flaky, 2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2, "the retry came");
    let waited = got[1].at.duration_since(got[0].at);
    assert!(
        waited < Duration::from_millis(2500),
        "a retry due after 1 s (±20 %) came after {waited:?}"
    );
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_makes_its_webhook_failing_until_a_probe_succeeds() {
    let app = console("200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.always(Answer::Status(503));
    let id = webhook_to(&api, &receiver.url, &["order.purchased"]).await;

    for n in 0..10 {
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let failing = loop {
        let shown = webhook(&api, id).await;
        if shown["health"] == "failing" || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failing["health"], "failing", "{failing}");
    assert_eq!(failing["status"], "active");
    assert!(failing["failing_since"].is_string(), "{failing}");
    assert!(
        failing["failing_reason"].as_str().unwrap().contains("503"),
        "{failing}"
    );
    assert!(failing["next_probe_at"].is_string(), "{failing}");

    // The queue waits without spending tries: nothing arrives before the probe (the first
    // is 5 s away), though the retries' 200 ms pass again and again. Tries already on the
    // wire when the circuit opened land first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tried = receiver.received().len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        receiver.received().len(),
        tried,
        "the queue waits for the probe"
    );
    let list = app.get_page("/settings/webhooks").await;
    assert!(
        list.text("tbody").contains("Failing"),
        "{}",
        list.text("tbody")
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("webhook_console_webhooks_failing 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("webhook_console_webhook_next_probe_seconds{"),
        "{metrics}"
    );
    assert!(metrics.contains(r#"reason="http_status""#), "{metrics}");
    assert!(
        !metrics.contains(&receiver.url),
        "the public /metrics names no URL: {metrics}"
    );

    // Five seconds on, the probe goes out.
    receiver.always(Answer::Status(200));
    app.advance(Duration::from_secs(5));
    let recovered = wait_until(Duration::from_secs(5), || async {
        let page: Value = api
            .get(&format!("/api/v1/webhooks/{id}/deliveries"))
            .await
            .json()
            .await
            .unwrap();
        let data = page["data"].as_array().unwrap().clone();
        data.len() == 10 && data.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(recovered, "the probe succeeded and the backlog followed");
    assert_eq!(webhook(&api, id).await["health"], "healthy");
}

#[tokio::test]
async fn pressing_redeliver_again_and_again_never_overlaps_sends() {
    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.always(Answer::Slowly(Duration::from_millis(800)));
    let id = webhook_to(&api, &receiver.url, &["order.purchased"]).await;
    api.publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;
    let delivery = wait_for_delivery(&api, id, |d| d["status"] == "succeeded").await;
    let redeliver = format!(
        "/api/v1/webhooks/{id}/deliveries/{}/redeliver",
        delivery["id"]
    );

    for _ in 0..3 {
        let pressed = api.post_empty(&redeliver).await;
        assert_eq!(pressed.status(), StatusCode::ACCEPTED);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    let got = received(&receiver, 3, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        receiver.most_at_once(),
        1,
        "one send of a delivery at a time"
    );
    let got_after = receiver.received().len();
    assert!(
        (2..=4).contains(&got_after) && got.len() >= 2,
        "the first send, then the presses made while one was under way, one after another: {got_after}"
    );
    wait_for_delivery(&api, id, |d| d["status"] == "succeeded").await;
}

#[tokio::test]
async fn max_per_second_spaces_a_webhooks_deliveries() {
    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let refused = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Too fast", "url": receiver.url, "events": ["*"], "max_per_second": 0}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = refused.json().await.unwrap();
    assert!(refused.to_string().contains("max_per_second"), "{refused}");
    let created = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Paced", "url": receiver.url, "events": ["*"], "max_per_second": 4}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["max_per_second"], 4);

    for n in 0..9 {
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }

    let got = received(&receiver, 9, Duration::from_secs(6)).await;
    assert_eq!(got.len(), 9);
    let span = got[8].at.duration_since(got[0].at);
    assert!(
        span >= Duration::from_millis(1800),
        "9 deliveries at 4 per second take 2 s, not {span:?}"
    );
}

#[tokio::test]
async fn an_admin_sets_max_deliveries_per_second_in_the_form() {
    let app = console("1h").await;
    let id = app
        .create_webhook("Paced by hand", "https://paced.example.com/hooks", &["*"])
        .await;
    let edit = app.get_page(&format!("/settings/webhooks/{id}/edit")).await;
    assert!(edit.has("input#max_per_second[name='max_per_second']"));

    let save_with_cap = |cap: &'static str| {
        let path = format!("/settings/webhooks/{id}/edit");
        let app = &app;
        async move {
            let fields = [
                ("name", "Paced by hand"),
                ("url", "https://paced.example.com/hooks"),
                ("notification_type", "REST"),
                ("events", "*"),
                ("max_per_second", cap),
            ];
            app.post_form(&path, &fields).await
        }
    };

    let wrong = save_with_cap("fast").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = crate::common::Page::from(wrong).await;
    assert!(page.text("#max-per-second-error").contains("whole number"));

    let saved = save_with_cap("25").await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let detail = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert!(detail.text(".properties").contains("25"));
}

async fn wait_until<F, Fut>(within: Duration, check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_cap_written_as_a_whole_float_is_taken_and_an_odd_one_refused() {
    let app = console("1h").await;
    let api = app.api().await;
    let id = webhook_to(&api, "https://capped.example.com/hooks", &["*"]).await;

    let whole = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"max_per_second": 25.0}),
        )
        .await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(webhook(&api, id).await["max_per_second"], 25);
    for odd in [json!(2.5), json!("fast"), json!(20000)] {
        let refused = api
            .patch(
                &format!("/api/v1/webhooks/{id}"),
                json!({"max_per_second": odd}),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{odd}");
    }
    let removed = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"max_per_second": null}),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(webhook(&api, id).await["max_per_second"].is_null());
}

/// A receiver that takes each request and hangs up before answering.
async fn hanging_up_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut connection, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut start = [0u8; 64];
                let _ = connection.read(&mut start).await;
                // Dropped mid-request: no status line, no body.
            });
        }
    });
    url
}

#[tokio::test]
async fn a_receiver_dying_mid_request_counts_as_failing_and_neighbours_carry_on() {
    let app = console("100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms").await;
    let api = app.api().await;
    let dying = webhook_to(&api, &hanging_up_receiver().await, &["order.refunded"]).await;
    let healthy = Receiver::start().await;
    webhook_to(&api, &healthy.url, &["order.purchased"]).await;

    for n in 0..6 {
        api.publish(json!({"event_type": "order.refunded", "data": {"n": n}}))
            .await;
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }

    assert_eq!(received(&healthy, 6, Duration::from_secs(5)).await.len(), 6);
    let failing = wait_until(Duration::from_secs(10), || async {
        webhook(&api, dying).await["health"] == "failing"
    })
    .await;
    assert!(failing, "{}", webhook(&api, dying).await);
    let page: Value = api
        .get(&format!("/api/v1/webhooks/{dying}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    let tried = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["attempt_count"].as_i64() >= Some(1))
        .expect("a delivery was tried");
    assert_eq!(tried["attempts"][0]["error_code"], "connect", "{tried}");
}
