use super::*;

fn row(name: &str, value: &str) -> HeaderRow {
    HeaderRow {
        name: name.into(),
        value: value.into(),
        secret: false,
    }
}

fn message(rows: &[HeaderRow]) -> String {
    CustomHeaders::parse(rows, &[])
        .err()
        .and_then(|e| e.message)
        .map(|m| m.to_string())
        .unwrap_or_default()
}

#[test]
fn a_plain_header_is_kept_as_typed_and_empty_rows_are_skipped() {
    let headers = CustomHeaders::parse(&[row(" X-Tenant ", " acme "), row("", "")], &[]).unwrap();
    let only: Vec<_> = headers.iter().collect();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].name, "X-Tenant");
    assert!(only[0].value == HeaderValue::Set("acme".into()));
}

#[test]
fn reserved_names_are_refused_whatever_their_case() {
    for name in [
        "webhook-signature",
        "Webhook-Id",
        "Content-Type",
        "content-length",
        "HOST",
        "User-Agent",
        "X-API-Key",
        "Transfer-Encoding",
        "Connection",
        "Proxy-Authorization",
        "proxy-authenticate",
        "Content-Encoding",
    ] {
        assert!(message(&[row(name, "x")]).contains("reserved"), "{name}");
    }
}

#[test]
fn names_and_values_must_be_valid_http() {
    assert!(message(&[row("X Tenant", "a")]).contains("not a header name"));
    assert!(message(&[row("X-Tenant:", "a")]).contains("not a header name"));
    assert!(message(&[row("X-Tenant", "a\r\nX-Evil: 1")]).contains("cannot carry"));
    assert!(message(&[row("X-Tenant", "café")]).contains("cannot carry"));
    assert!(message(&[row("X-Tenant", "")]).contains("Give “X-Tenant” a value"));
    assert!(message(&[row("X-Tenant", "a"), row("x-tenant", "b")]).contains("twice"));
    assert!(message(&[row("", "a")]).contains("Give each header a name"));
}

#[test]
fn the_published_patterns_say_what_parse_takes() {
    let reserved = regex::Regex::new(&patterns::reserved()).unwrap();
    let name = regex::Regex::new(patterns::NAME).unwrap();
    let value = regex::Regex::new(patterns::VALUE).unwrap();
    for taken in [
        "Webhook-Id",
        "webhook-x",
        "CONTENT-type",
        "Host",
        "x-api-key",
    ] {
        assert!(reserved.is_match(taken), "{taken}");
        assert!(CustomHeaders::parse(&[row(taken, "v")], &[]).is_err());
    }
    for free in ["X-Tenant", "Authorization", "X-Webhook-Id", "Hosts"] {
        assert!(!reserved.is_match(free) && name.is_match(free), "{free}");
        assert!(
            CustomHeaders::parse(&[row(free, "v")], &[]).is_ok(),
            "{free}"
        );
    }
    assert!(!name.is_match("X Tenant") && !name.is_match("X:"));
    assert!(value.is_match("a b\tc") && !value.is_match(" ") && !value.is_match("a\nb"));
}

#[test]
fn at_most_twenty() {
    let rows: Vec<HeaderRow> = (0..21).map(|n| row(&format!("X-H{n}"), "v")).collect();
    assert!(message(&rows).contains("at most 20"));
    assert!(CustomHeaders::parse(&rows[..20], &[]).is_ok());
}

#[test]
fn an_empty_secret_keeps_the_stored_value_only_when_one_is_stored() {
    let secret = HeaderRow {
        secret: true,
        ..row("Authorization", "")
    };
    let kept =
        CustomHeaders::parse(std::slice::from_ref(&secret), &["authorization".into()]).unwrap();
    assert!(kept.iter().next().unwrap().value == HeaderValue::KeepStored);
    assert!(CustomHeaders::parse(&[secret], &[]).is_err());
}
