//! Schemas cannot be turned against the server (SPEC §6): a schema that applies itself
//! twice per level, a backtracking pattern or absurdly nested data costs the publisher a
//! 422 within a second or two, and everyone else nothing.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::Api;
use crate::common::scene::console;

/// `[[[…inner…]]]`, `depth` levels.
fn nested(depth: usize, inner: Value) -> Value {
    (0..depth).fold(inner, |inner, _| json!([inner]))
}

async fn register(api: &Api, key: &str, schema: Value) -> (StatusCode, Value) {
    let response = api
        .post(
            "/api/v1/event-types",
            json!({"key": key, "group": "Costly", "description": "Tried by an attacker", "schema": schema}),
        )
        .await;
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_schema_that_doubles_its_work_per_level_answers_fast_and_the_server_stays_free() {
    let app = console("1h").await;
    let api = app.api().await;
    let branch = json!({"type": ["array", "integer"], "items": {"$ref": "#"}});
    let (status, body) = register(&api, "costly.twice", json!({"allOf": [branch, branch]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Two attackers at once, as in the report that froze the server.
    let attack = |api: Api| async move {
        let started = Instant::now();
        let data = nested(26, json!("not an integer"));
        let (status, body) = api
            .publish(json!({"event_type": "costly.twice", "data": data}))
            .await;
        (status, body, started.elapsed())
    };
    let attacks = [
        tokio::spawn(attack(app.api_named("Attacker one").await)),
        tokio::spawn(attack(app.api_named("Attacker two").await)),
    ];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let health = app.visitor().get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1), "healthz waited");

    for attack in attacks {
        let (status, body, took) = attack.await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("too costly to check"), "{message}");
        assert!(took < Duration::from_secs(5), "took {took:?}");
    }
    let (status, body) = api
        .publish(json!({"event_type": "costly.twice", "data": nested(26, json!(7))}))
        .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "data that matches is taken: {body}"
    );
}

#[tokio::test]
async fn schemas_that_could_never_finish_or_reach_outside_are_refused_with_the_reason() {
    let app = console("1h").await;
    let api = app.api().await;
    let refused = [
        (json!({"allOf": [{"$ref": "#"}]}), "never end"),
        (
            json!({"items": {"pattern": "^(?:(a|aa)+(?=c)|a*b)$"}}),
            "look-around",
        ),
        (
            json!({"patternProperties": {"^(a)\\1$": {}}}),
            "back-references",
        ),
        (
            json!({"$ref": "https://example.com/schema.json"}),
            "does not point",
        ),
    ];
    for (schema, reason) in refused {
        let (status, body) = register(&api, "costly.refused", schema.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{schema}: {body}");
        let said = body["error"]["details"]["schema"][0].as_str().unwrap();
        assert!(said.contains(reason), "{schema}: {said}");
    }
}

#[tokio::test]
async fn a_pattern_on_thousands_of_strings_is_checked_in_linear_time() {
    let app = console("1h").await;
    let api = app.api().await;
    let schema = json!({"type": "array", "items": {"pattern": "^(?:(a|aa)+c|a*b)$"}});
    let (status, body) = register(&api, "costly.pattern", schema).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let strings: Vec<String> = (0..8000).map(|_| format!("{}b", "a".repeat(25))).collect();
    let started = Instant::now();
    let (status, body) = api
        .publish(json!({"event_type": "costly.pattern", "data": strings}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn data_nested_more_than_32_levels_is_refused_for_every_type() {
    let app = console("1h").await;
    let api = app.api().await;
    let (status, body) = api
        .publish(json!({"event_type": "order.purchased", "data": nested(33, json!(1))}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("32 levels")
    );
    let (status, body) = api
        .publish(json!({"event_type": "order.purchased", "data": nested(31, json!(1))}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn a_type_registered_with_a_schema_and_no_example_gets_one_made_from_the_schema() {
    let app = console("1h").await;
    let api = app.api().await;
    let schema = json!({
        "type": "object",
        "required": ["invoice"],
        "properties": {"invoice": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "examples": ["inv_1001"]},
                "currency": {"enum": ["eur", "usd"]},
                "total": {"type": "number", "minimum": 0}
            }
        }}
    });
    let (status, body) = register(&api, "invoice.sent", schema).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["example"],
        json!({"invoice": {"id": "inv_1001", "currency": "eur", "total": 0}})
    );
}
