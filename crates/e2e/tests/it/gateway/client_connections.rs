//! The gateway's own HTTP/1.1 server, seen from raw client sockets: requests one after the
//! other and pipelined on one connection, `Expect: 100-continue`, chunked request bodies,
//! HTTP/1.0 clients, HEAD, and requests that cannot be read.

use super::*;

/// An API proxying everything to an echo backend, deployed and answering.
async fn echo_api(server: &TestServer) -> (Invoke, Backend) {
    let backend = Backend::echo().await;
    let client = server.client();
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(server, &api);
    let raw = invoke.ready("/prod/warm-up").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    (invoke, backend)
}

/// One answer read from a raw connection: status, headers (lower-case names), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn echo(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one answer (`Content-Length`, chunked, or until the close) from `stream`, keeping
/// what follows in `buf`. `head_request` answers have no body.
async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>, head_request: bool) -> Answer {
    let end = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end;
        }
        let mut more = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut more))
            .await
            .expect("no answer in time")
            .unwrap();
        assert!(n > 0, "the connection closed before an answer: {buf:?}");
        buf.extend_from_slice(&more[..n]);
    };
    let head = String::from_utf8(buf.drain(..end + 4).collect()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    if head_request || status == 100 {
        return answer;
    }
    if let Some(length) = answer.header("content-length") {
        let length: usize = length.parse().unwrap();
        assert!(fill(stream, buf, length).await, "the body was cut");
        answer.body = buf.drain(..length).collect();
    } else if answer.header("transfer-encoding") == Some("chunked") {
        answer.body = read_chunked(stream, buf)
            .await
            .expect("a whole chunked body");
    } else {
        stream.read_to_end(buf).await.unwrap();
        answer.body = std::mem::take(buf);
    }
    answer
}

fn host(invoke: &Invoke) -> String {
    format!("{}.execute-api.localhost", invoke.api)
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let server = TestServer::start().await;
    let (invoke, _backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let host = host(&invoke);
    // Three requests in one write, one with a body.
    let requests = format!(
        "GET /prod/one HTTP/1.1\r\nHost: {host}\r\n\r\n\
         POST /prod/two HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello\
         GET /prod/three HTTP/1.1\r\nHost: {host}\r\n\r\n"
    );
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    for (path, body) in [("/one", ""), ("/two", "hello"), ("/three", "")] {
        let answer = read_answer(&mut stream, &mut buf, false).await;
        assert_eq!(answer.status, 200);
        let echo = answer.echo();
        assert_eq!(echo["path"], path);
        assert_eq!(echo["body"], body);
        assert!(answer.header("x-amzn-requestid").is_some());
        assert!(answer.header("date").is_some());
    }
}

#[tokio::test]
async fn long_heads_large_bodies_and_small_requests_take_turns_on_one_connection() {
    // The connection's buffers start small, grow with a long head or a large body, and are
    // let go before the connection waits for its next request: every request is answered
    // whole on the one connection, whatever came before it.
    let server = TestServer::start().await;
    let (invoke, _backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let host = host(&invoke);
    let mut buf = Vec::new();
    for round in 0..2 {
        // A head six times the first read's room, arriving in pieces.
        let long = "v".repeat(6_000);
        let head =
            format!("GET /prod/long-{round} HTTP/1.1\r\nHost: {host}\r\nX-Long: {long}\r\n\r\n");
        for piece in head.as_bytes().chunks(700) {
            stream.write_all(piece).await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let answer = read_answer(&mut stream, &mut buf, false).await;
        assert_eq!(answer.status, 200);
        let echo = answer.echo();
        assert_eq!(echo["path"], format!("/long-{round}"));
        assert_eq!(echo["headers"]["x-long"], long.as_str());
        // A body of 300 KB, echoed back in an answer larger still.
        let body: String = (0..300_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let request = format!(
            "POST /prod/big-{round} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream, &mut buf, false).await;
        assert_eq!(answer.status, 200);
        let echo = answer.echo();
        assert_eq!(echo["path"], format!("/big-{round}"));
        assert_eq!(echo["body"], body.as_str());
        // Small requests after them.
        for i in 0..3 {
            let request = format!("GET /prod/small-{round}-{i} HTTP/1.1\r\nHost: {host}\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let answer = read_answer(&mut stream, &mut buf, false).await;
            assert_eq!(answer.status, 200);
            assert_eq!(answer.echo()["path"], format!("/small-{round}-{i}"));
        }
    }
    assert!(buf.is_empty(), "nothing beyond the answers: {buf:?}");
}

#[tokio::test]
async fn client_headers_reach_the_backend_in_their_order_and_case() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let host = host(&invoke);
    let request = format!(
        "GET /prod/h?x=1 HTTP/1.1\r\nHost: {host}\r\nX-First: 1\r\nx-MiXeD-Case: 2\r\n\
         CONNECTION: keep-alive\r\nX-First: 3\r\nX-FORWARDED-FOR: 10.1.2.3\r\n\
         X-Forwarded-Proto: https\r\nTE: trailers\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(answer.status, 200);
    let seen = backend.last();
    let names: Vec<&str> = seen.headers.iter().map(|(n, _)| n.as_str()).collect();
    let client: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.eq_ignore_ascii_case("x-first") || n.eq_ignore_ascii_case("x-mixed-case"))
        .collect();
    assert_eq!(client, ["X-First", "x-MiXeD-Case", "X-First"], "{names:?}");
    let firsts: Vec<&str> = seen
        .headers
        .iter()
        .filter(|(n, _)| n == "X-First")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(firsts, ["1", "3"]);
    // Hop-by-hop headers stop here, whatever their case; the forwarding headers are the
    // gateway's, the client's address added to the chain it sent.
    assert_eq!(seen.header("connection"), None, "{names:?}");
    assert_eq!(seen.header("te"), None, "{names:?}");
    assert_eq!(seen.header_count("x-forwarded-for"), 1);
    assert_eq!(seen.header("x-forwarded-for"), Some("10.1.2.3, 127.0.0.1"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert_eq!(seen.query(), Some("x=1"));
}

#[tokio::test]
async fn an_absolute_form_target_is_routed_by_its_own_host() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let host = host(&invoke);
    // The Host header names no API: the target's host wins (RFC 9112 §3.2.2).
    let request = format!(
        "GET http://{host}:{}/prod/abs/x?q=%20 HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n",
        server.gateway_addr().port()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(
        answer.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&answer.body)
    );
    let seen = backend.last();
    assert_eq!(seen.path(), "/abs/x");
    assert_eq!(seen.query(), Some("q=%20"));
}

#[tokio::test]
async fn expect_100_continue_gets_its_interim_answer_before_the_body() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let head = format!(
        "PUT /prod/upload HTTP/1.1\r\nHost: {}\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
        host(&invoke)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let interim = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(interim.status, 100);
    stream.write_all(b"data").await.unwrap();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echo()["body"], "data");
    assert_eq!(
        backend.last().header("expect"),
        None,
        "Expect is hop-by-hop"
    );
}

#[tokio::test]
async fn chunked_request_bodies_reach_the_backend_whole() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let head = format!(
        "POST /prod/chunks HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        host(&invoke)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The chunks arrive in pieces.
    for piece in ["5\r\nhel", "lo\r\n", "6;ext=1\r\n world\r\n", "0\r\n\r\n"] {
        stream.write_all(piece.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut buf = Vec::new();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echo()["body"], "hello world");
    let seen = backend.last();
    assert_eq!(seen.header("content-length"), Some("11"));
    assert_eq!(seen.header("transfer-encoding"), None);
}

#[tokio::test]
async fn http_1_0_clients_get_a_length_and_the_connection_closes() {
    let server = TestServer::start().await;
    let (invoke, _backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let request = format!("GET /prod/old HTTP/1.0\r\nHost: {}\r\n\r\n", host(&invoke));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echo()["path"], "/old");
    assert_eq!(answer.header("connection"), Some("close"));
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "nothing follows, and the connection ends");
}

#[tokio::test]
async fn head_answers_have_headers_and_no_body() {
    let server = TestServer::start().await;
    let backend = Backend::start(|_| Reply::new(200).header("Content-Type", "text/plain")).await;
    let client = server.client();
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(invoke.ready("/prod/warm-up").await.status, 200);
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let request = format!(
        "HEAD /prod/x HTTP/1.1\r\nHost: {h}\r\n\r\nGET /prod/y HTTP/1.1\r\nHost: {h}\r\n\r\n",
        h = host(&invoke)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let head = read_answer(&mut stream, &mut buf, true).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/plain"));
    // The next answer starts right after the head: the HEAD answer carried no body.
    let next = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(next.status, 200);
    assert_eq!(backend.requests().len(), 3);
}

#[tokio::test]
async fn requests_that_cannot_be_read_are_refused_and_the_connection_closes() {
    let server = TestServer::start().await;
    let cases: [(Vec<u8>, u16); 6] = [
        (b"NOT A REQUEST\r\n\r\n".to_vec(), 400),
        // Bytes a URI may not hold, and a target in no form a server takes.
        (b"GET /prod/a<b HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), 400),
        (
            b"GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"POST /prod/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"POST /prod/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            {
                let mut big = b"GET /prod/x HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
                big.resize(big.len() + 70_000, b'a');
                big.extend_from_slice(b"\r\n\r\n");
                big
            },
            431,
        ),
    ];
    for (request, status) in cases {
        let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
        // The server may answer before it has read everything: a failed write is fine.
        let _ = stream.write_all(&request).await;
        let mut buf = Vec::new();
        let answer = read_answer(&mut stream, &mut buf, false).await;
        assert_eq!(
            answer.status,
            status,
            "{:?}",
            String::from_utf8_lossy(&request[..20])
        );
        assert_eq!(answer.header("connection"), Some("close"));
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread_and_the_connection_closes() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let before = backend.requests().len();
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let head = format!(
        "POST /prod/big HTTP/1.1\r\nHost: {}\r\nContent-Length: 20000000\r\n\r\n",
        host(&invoke)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(backend.requests().len(), before);
}

#[tokio::test]
async fn http_1_0_clients_that_ask_keep_their_connection() {
    let server = TestServer::start().await;
    let (invoke, _backend) = echo_api(&server).await;
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let mut buf = Vec::new();
    for path in ["/one", "/two"] {
        let request = format!(
            "GET /prod{path} HTTP/1.0\r\nHost: {}\r\nConnection: keep-alive\r\n\r\n",
            host(&invoke)
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream, &mut buf, false).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("connection"), Some("keep-alive"));
        assert_eq!(answer.echo()["path"], path);
    }
}

#[tokio::test]
async fn a_chunked_body_that_breaks_off_closes_the_connection_after_the_answer() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let before = backend.requests().len();
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let request = format!(
        "POST /prod/chunks HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\nGET /prod/next HTTP/1.1\r\nHost: a\r\n\r\n",
        host(&invoke)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let answer = read_answer(&mut stream, &mut buf, false).await;
    // The body could not be read: the client's fault, answered with the BAD_REQUEST_BODY
    // gateway response before the integration ran.
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.header("x-amzn-errortype"),
        Some("BadRequestException")
    );
    assert_eq!(answer.body, br#"{"message":"Invalid request body"}"#);
    assert_eq!(answer.header("connection"), Some("close"));
    // What followed the broken body is not taken for a request.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(
        rest.is_empty() && buf.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    assert_eq!(backend.requests().len(), before);
}

#[tokio::test]
async fn a_body_the_client_stops_sending_before_its_end_is_a_bad_request_body() {
    let server = TestServer::start().await;
    let (invoke, backend) = echo_api(&server).await;
    let before = backend.requests().len();
    for framing in [
        "Content-Length: 10\r\n\r\nhello",
        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ] {
        let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
        let request = format!(
            "POST /prod/cut HTTP/1.1\r\nHost: {}\r\n{framing}",
            host(&invoke)
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        // The client says it sends no more: the body will never be whole.
        stream.shutdown().await.unwrap();
        let mut buf = Vec::new();
        let answer = read_answer(&mut stream, &mut buf, false).await;
        // The client's fault, not the integration's (no 504 "Internal server error").
        assert_eq!(answer.status, 400, "{framing}");
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("BadRequestException")
        );
        assert_eq!(answer.body, br#"{"message":"Invalid request body"}"#);
        assert_eq!(answer.header("connection"), Some("close"));
    }
    assert_eq!(backend.requests().len(), before);
}

#[tokio::test]
async fn a_request_head_that_does_not_complete_in_time_closes_the_connection() {
    let server = TestServer::start_with(|config| {
        config.request_head_timeout = Duration::from_millis(300);
    })
    .await;
    let (invoke, _backend) = echo_api(&server).await;
    // An idle kept connection is left alone...
    let mut idle = TcpStream::connect(server.gateway_addr()).await.unwrap();
    // ...a head that stops half way is not.
    let mut slow = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let started = std::time::Instant::now();
    slow.write_all(format!("GET /prod/slow HTTP/1.1\r\nHost: {}\r\n", host(&invoke)).as_bytes())
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
        .await
        .expect("the connection must close")
        .unwrap();
    assert!(rest.is_empty(), "no answer is written: {rest:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request = format!("GET /prod/late HTTP/1.1\r\nHost: {}\r\n\r\n", host(&invoke));
    idle.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let answer = read_answer(&mut idle, &mut buf, false).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echo()["path"], "/late");
}

#[tokio::test]
async fn a_request_body_that_pauses_too_long_closes_the_connection_without_an_answer() {
    const LIMIT: Duration = Duration::from_secs(1);
    let server = TestServer::start_with(|config| {
        config.request_body_timeout = LIMIT;
    })
    .await;
    let (invoke, backend) = echo_api(&server).await;
    let before = backend.requests().len();
    // A body that keeps coming, if slowly, is read whole: each pause is well under the
    // limit (room for a busy machine that stalls a while), though all of them together are
    // longer.
    let mut steady = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let head = format!(
        "POST /prod/steady HTTP/1.1\r\nHost: {}\r\nContent-Length: 5\r\n\r\n",
        host(&invoke)
    );
    steady.write_all(head.as_bytes()).await.unwrap();
    for byte in b"hello" {
        tokio::time::sleep(Duration::from_millis(300)).await;
        steady.write_all(&[*byte]).await.unwrap();
    }
    let mut buf = Vec::new();
    let answer = read_answer(&mut steady, &mut buf, false).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echo()["body"], "hello");
    // One that stops is not: the connection closes, nothing is answered or sent on.
    for framing in [
        "Content-Length: 10\r\n\r\nabc",
        "Transfer-Encoding: chunked\r\n\r\n5\r\nab",
    ] {
        let mut stalled = TcpStream::connect(server.gateway_addr()).await.unwrap();
        let started = std::time::Instant::now();
        let request = format!(
            "POST /prod/stalled HTTP/1.1\r\nHost: {}\r\n{framing}",
            host(&invoke)
        );
        stalled.write_all(request.as_bytes()).await.unwrap();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest))
            .await
            .expect("the connection must close")
            .unwrap();
        assert!(
            rest.is_empty(),
            "no answer is written: {:?}",
            String::from_utf8_lossy(&rest)
        );
        assert!(started.elapsed() >= LIMIT);
    }
    assert_eq!(backend.requests().len(), before + 1);
}
