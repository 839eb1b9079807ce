//! A customer's endpoint on a real local port: it records every request it gets and
//! answers with the statuses a test scripts (then 200 once the script runs out).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub enum Answer {
    Status(u16),
    /// The status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// 200, after this long.
    Slowly(Duration),
    /// 302 to this address.
    Redirect(String),
    /// 200 with a body that never ends.
    Endless,
    /// 500 with every request header echoed in the body and as `x-echo-*` headers, as debug
    /// endpoints and error pages do.
    Echo,
    /// 500 with `X-API-Key` and `Authorization` echoed as PHP's `json_encode` writes them
    /// (`\/`), lower-cased, upper-cased, base64 (alone and after `user:`) and URL-encoded.
    EchoEncoded,
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    answers: Mutex<VecDeque<Answer>>,
    /// Used once the scripted answers run out; 200 when unset.
    always: Mutex<Option<Answer>>,
    /// Requests being answered now, and the most ever at once.
    answering: Mutex<(usize, usize)>,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    server: ServerHandle,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        let shared = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(record))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state,
            server: handle,
        }
    }

    /// The next requests get these statuses, in order.
    pub fn answer_with(&self, statuses: &[u16]) {
        self.script(statuses.iter().map(|status| Answer::Status(*status)));
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.answers.lock().unwrap().extend(answers);
    }

    /// Every request gets this answer once the script runs out.
    pub fn always(&self, answer: Answer) {
        *self.state.always.lock().unwrap() = Some(answer);
    }

    /// The most requests this receiver was answering at the same time.
    pub fn most_at_once(&self) -> usize {
        self.state.answering.lock().unwrap().1
    }

    /// Waits (at most `within`) until every one of `numbers` has arrived, each event read
    /// by its `data.i`; fails naming how many did.
    pub async fn wait_for_numbers(&self, numbers: &[i64], within: Duration) {
        let wanted: std::collections::HashSet<i64> = numbers.iter().copied().collect();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let seen: std::collections::HashSet<i64> = self
                .received()
                .iter()
                .map(|r| {
                    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                    body["data"]["i"].as_i64().unwrap()
                })
                .collect();
            if wanted.is_subset(&seen) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {} acknowledged events arrived",
                wanted.intersection(&seen).count(),
                wanted.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub async fn stop(&self) {
        self.server.stop(true).await;
    }
}

async fn record(request: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    state.received.lock().unwrap().push(Received {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        headers,
        body: body.to_vec(),
        at: std::time::Instant::now(),
    });
    let scripted = state.answers.lock().unwrap().pop_front();
    let answer = scripted
        .or_else(|| state.always.lock().unwrap().clone())
        .unwrap_or(Answer::Status(200));
    let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    match answer {
        Answer::Status(code) => HttpResponse::build(status(code)).body("ok"),
        Answer::RetryAfter(code, seconds) => HttpResponse::build(status(code))
            .insert_header(("Retry-After", seconds.to_string()))
            .finish(),
        Answer::Slowly(delay) => {
            {
                let mut answering = state.answering.lock().unwrap();
                answering.0 += 1;
                answering.1 = answering.1.max(answering.0);
            }
            tokio::time::sleep(delay).await;
            state.answering.lock().unwrap().0 -= 1;
            HttpResponse::Ok().finish()
        }
        Answer::Redirect(location) => HttpResponse::Found()
            .insert_header(("Location", location))
            .finish(),
        Answer::Endless => HttpResponse::Ok().streaming(Endless),
        Answer::Echo => {
            let mut answer = HttpResponse::InternalServerError();
            let mut body = String::new();
            for (name, value) in request.headers() {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                body.push_str(&format!("{name}: {value}\n"));
                answer.insert_header((format!("x-echo-{name}"), value));
            }
            answer.body(body)
        }
        Answer::EchoEncoded => {
            use base64::Engine;
            let base64 = base64::engine::general_purpose::STANDARD;
            let mut body = String::new();
            for name in ["x-api-key", "authorization"] {
                let Some(value) = request.headers().get(name) else {
                    continue;
                };
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let php = serde_json::to_string(&value).unwrap().replace('/', "\\/");
                let url: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                body.push_str(&format!(
                    "php-json {php}\nlower {}\nupper {}\nbase64 {}\nbasic {}\nurl {url}\n",
                    value.to_lowercase(),
                    value.to_uppercase(),
                    base64.encode(&value),
                    base64.encode(format!("user:{value}")),
                ));
            }
            HttpResponse::InternalServerError().body(body)
        }
    }
}

/// A body of `x`s that never ends.
struct Endless;

impl futures_core::Stream for Endless {
    type Item = Result<web::Bytes, actix_web::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(Some(Ok(web::Bytes::from_static(&[b'x'; 1024]))))
    }
}
