//! The stand-in customer endpoint the delivery tests rely on: it must record and answer
//! exactly as scripted, or those tests would prove nothing.

use crate::common::receiver::Receiver;

#[tokio::test]
async fn the_receiver_records_each_request_and_answers_as_scripted() {
    let receiver = Receiver::start().await;
    receiver.answer_with(&[503, 429]);
    let client = reqwest::Client::new();

    let mut statuses = Vec::new();
    for attempt in 0..3 {
        let response = client
            .post(&receiver.url)
            .header("webhook-id", "7")
            .body(format!("attempt {attempt}"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }

    assert_eq!(statuses, [503, 429, 200]);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[2].body, b"attempt 2");
    assert_eq!(received[0].header("Webhook-Id"), Some("7"));
    assert_eq!(received[0].path, "/hooks");
    receiver.stop().await;
}
