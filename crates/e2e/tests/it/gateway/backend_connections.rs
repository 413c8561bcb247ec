//! The gateway's connections to HTTP backends: kept alive between requests, dropped when
//! the backend ends them or a client leaves in the middle of an answer, with answers of any
//! length and framing passing through whole. The backends here are raw sockets, so each
//! test sees exactly how many connections the gateway opened.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// How a [`RawBackend`] frames its answers.
#[derive(Clone, Copy)]
enum Framing {
    /// `Content-Length`, the connection kept.
    Length,
    /// `Transfer-Encoding: chunked` in chunks of 10,000 bytes, the connection kept.
    Chunked,
    /// `Content-Length`, half the body at once and the rest 300 ms later.
    Paused,
    /// `Content-Length`, but each connection is closed, unanswered, when its second
    /// request arrives (a backend closing an idle connection just as a request comes).
    DropsSecond,
    /// `Content-Length`, half the body, and then nothing more, the connection held open.
    Stalls,
}

/// A backend on a raw socket that answers every request (`GET`, no body) with `answer`,
/// counts the connections it accepts, and, with `close_after`, closes each connection that
/// long after each answer (as a backend's keep-alive timeout does), without saying so.
struct RawBackend {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl RawBackend {
    async fn start(answer: Vec<u8>, framing: Framing, close_after: Option<Duration>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let answer = Arc::new(answer);
        let accept = tokio::spawn({
            let accepted = accepted.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(raw_serve(stream, answer.clone(), framing, close_after));
                }
            }
        });
        RawBackend {
            addr,
            accepted,
            accept,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for RawBackend {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn raw_serve(
    mut stream: TcpStream,
    answer: Arc<Vec<u8>>,
    framing: Framing,
    close_after: Option<Duration>,
) {
    let mut buf = Vec::new();
    let mut requests = 0;
    loop {
        let read = match close_after {
            Some(after) => match tokio::time::timeout(after, stream.read_buf(&mut buf)).await {
                Ok(read) => read,
                // Idle for `after`: close without a word.
                Err(_) => return,
            },
            None => stream.read_buf(&mut buf).await,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        while let Some(end) = find(&buf, b"\r\n\r\n") {
            buf.drain(..end + 4);
            requests += 1;
            if matches!(framing, Framing::DropsSecond) && requests == 2 {
                return;
            }
            let mut head =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n".to_vec();
            let mut body = Vec::new();
            match framing {
                Framing::Length | Framing::Paused | Framing::DropsSecond | Framing::Stalls => {
                    head.extend_from_slice(
                        format!("Content-Length: {}\r\n\r\n", answer.len()).as_bytes(),
                    );
                    body.extend_from_slice(&answer);
                }
                Framing::Chunked => {
                    head.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    for chunk in answer.chunks(10_000) {
                        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        body.extend_from_slice(chunk);
                        body.extend_from_slice(b"\r\n");
                    }
                    body.extend_from_slice(b"0\r\n\r\n");
                }
            }
            let (first, rest) = match framing {
                Framing::Paused | Framing::Stalls => body.split_at(answer.len() / 2),
                _ => (&body[..], &[][..]),
            };
            if stream.write_all(&head).await.is_err() || stream.write_all(first).await.is_err() {
                return;
            }
            if matches!(framing, Framing::Stalls) {
                // Holds the connection, reading what comes, until the gateway drops it.
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink).await;
                return;
            }
            if !rest.is_empty() {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if stream.write_all(rest).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// An API proxying everything to `backend`, deployed and answering.
async fn api_for(server: &TestServer, backend: &RawBackend) -> Invoke {
    let client = server.client();
    let (api, _) = proxy_api(&client, &format!("http://{}", backend.addr)).await;
    let invoke = Invoke::new(server, &api);
    let raw = invoke.ready("/prod/warm-up").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    invoke
}

/// Switches the integration of `method` on `resource` to streaming its answers
/// (`responseTransferMode: STREAM`, by UpdateIntegration), and redeploys `prod`.
async fn stream_answers(server: &TestServer, api: &str, resource: &str, method: &str) {
    use aws_sdk_apigateway::types::ResponseTransferMode;
    let client = server.client();
    let updated = client
        .update_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .patch_operations(replace("/responseTransferMode", "STREAM"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.response_transfer_mode(),
        Some(&ResponseTransferMode::Stream)
    );
    deploy(&client, api, "prod").await;
}

/// An API proxying everything to `backend` with its answers streamed, deployed and
/// answering.
async fn streamed_api_for(server: &TestServer, backend: &RawBackend) -> Invoke {
    let client = server.client();
    let (api, root) = create_api(&client, "streamed").await;
    let proxy = create_resource(&client, &api, &root, "{proxy+}").await;
    let uri = format!("http://{}/{{proxy}}", backend.addr);
    proxy_route(&client, &api, &proxy, "ANY", &uri, &["proxy"]).await;
    // Deployed for the first time with the integration streaming.
    stream_answers(server, &api, &proxy, "ANY").await;
    let invoke = Invoke::new(server, &api);
    let raw = invoke.ready("/prod/warm-up").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    invoke
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn one_backend_connection_carries_request_after_request() {
    let server = TestServer::start().await;
    let backend = RawBackend::start(b"ok".to_vec(), Framing::Length, None).await;
    let invoke = api_for(&server, &backend).await;
    for i in 0..10 {
        let raw = invoke.get(&format!("/prod/item/{i}")).await;
        assert_eq!(raw.status, 200);
        assert_eq!(raw.body, b"ok");
    }
    assert_eq!(
        backend.accepted(),
        1,
        "every request should reuse the kept connection"
    );
}

#[tokio::test]
async fn long_answers_pass_whole_and_keep_their_connection() {
    let server = TestServer::start().await;
    for framing in [Framing::Length, Framing::Chunked] {
        let answer = pattern(1_500_000);
        let backend = RawBackend::start(answer.clone(), framing, None).await;
        let invoke = api_for(&server, &backend).await;
        for _ in 0..3 {
            let raw = invoke.get("/prod/large").await;
            assert_eq!(raw.status, 200);
            assert_eq!(raw.body.len(), answer.len());
            assert!(raw.body == answer, "the answer changed on the way");
        }
        assert_eq!(backend.accepted(), 1);
    }
}

#[tokio::test]
async fn a_connection_the_backend_closed_while_kept_costs_no_request() {
    let server = TestServer::start().await;
    let backend = RawBackend::start(
        b"ok".to_vec(),
        Framing::Length,
        Some(Duration::from_millis(100)),
    )
    .await;
    let invoke = api_for(&server, &backend).await;
    for i in 0..3 {
        // Longer than the backend keeps an idle connection.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let raw = invoke.get(&format!("/prod/after-idle/{i}")).await;
        assert_eq!(raw.status, 200, "body {:?}", raw.text());
        assert_eq!(raw.body, b"ok");
    }
    assert_eq!(
        backend.accepted(),
        4,
        "a new connection after each idle close"
    );
}

#[tokio::test]
async fn a_client_leaving_mid_answer_spoils_no_later_request() {
    let server = TestServer::start().await;
    let answer = pattern(1_000_000);
    let backend = RawBackend::start(answer.clone(), Framing::Paused, None).await;
    // Streamed, so that the client has the answer's first half while the backend pauses.
    let invoke = streamed_api_for(&server, &backend).await;
    let before = backend.accepted();
    // A client that reads the head and a little of the body, then goes.
    let mut client = TcpStream::connect(server.gateway_addr()).await.unwrap();
    client
        .write_all(
            format!(
                "GET /prod/large HTTP/1.1\r\nHost: {}.execute-api.localhost\r\n\r\n",
                invoke.api
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut some = vec![0u8; 16 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut some))
        .await
        .unwrap()
        .unwrap();
    assert!(read > 0);
    // Gone while the backend pauses in the middle of the body.
    drop(client);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The connection that carried the abandoned answer is not handed to the next request.
    for _ in 0..2 {
        let raw = invoke.get("/prod/large").await;
        assert_eq!(raw.status, 200);
        assert!(raw.body == answer, "the answer changed on the way");
    }
    assert!(
        backend.accepted() > before,
        "the abandoned connection must not be reused"
    );
}

#[tokio::test]
async fn a_request_the_backend_drops_on_a_kept_connection_goes_again_only_if_idempotent() {
    let server = TestServer::start().await;
    let backend = RawBackend::start(b"ok".to_vec(), Framing::DropsSecond, None).await;
    // The warm-up request is the first on the first connection.
    let invoke = api_for(&server, &backend).await;
    assert_eq!(backend.accepted(), 1);
    // The second on that connection is dropped unanswered: a GET goes again, on a new one.
    let raw = invoke.get("/prod/again").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.body, b"ok");
    assert_eq!(backend.accepted(), 2);
    // A POST is never sent twice: the backend may have acted on it.
    let raw = invoke
        .send(invoke.request("POST", "/prod/once").body("{}"))
        .await;
    assert_eq!(raw.status, 500, "body {:?}", raw.text());
    assert_eq!(backend.accepted(), 2, "the POST must not go out again");
}

/// An API for `backend`: GET `/` with an integration of `kind` timed out after
/// `timeout_millis` (streaming its answers when `stream`), deployed to `prod`.
async fn root_api(
    server: &TestServer,
    backend: &RawBackend,
    kind: IntegrationType,
    stream: bool,
    timeout_millis: i32,
) -> String {
    let client = server.client();
    let (api, root) = create_api(&client, "stalls").await;
    put_method(&client, &api, &root, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(kind.clone())
        .integration_http_method("GET")
        .uri(format!("http://{}/", backend.addr))
        .timeout_in_millis(timeout_millis)
        .send()
        .await
        .unwrap();
    if kind == IntegrationType::Http {
        method_response(&client, &api, &root, "GET", "200").await;
        client
            .put_integration_response()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .status_code("200")
            .send()
            .await
            .unwrap();
    }
    if stream {
        stream_answers(server, &api, &root, "GET").await;
    } else {
        deploy(&client, &api, "prod").await;
    }
    api
}

#[tokio::test]
async fn a_proxied_answer_that_stalls_past_the_integration_timeout_times_out() {
    let server = TestServer::start().await;
    let backend = RawBackend::start(pattern(20_000), Framing::Stalls, None).await;
    let api = root_api(&server, &backend, IntegrationType::HttpProxy, false, 500).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod").await;
    let started = Instant::now();
    let raw = invoke.get("/prod").await;
    let elapsed = started.elapsed();
    // A buffered answer (the default) goes out only once whole: one whose body does not
    // end within the timeout is a timeout, and none of it reaches the client.
    assert_gateway_error(&raw, 504, "InternalServerErrorException", TIMED_OUT);
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

/// GETs `/` of `api`'s `prod` stage over a raw connection and reads until the gateway ends
/// the connection: what came, and how long after the request it ended. The answer must end
/// within 5 s (a streamed answer that stalls is cut, it does not hang); a new stage may take
/// a moment to be served, so answers until the first 200 are asked again.
async fn cut_answer(server: &TestServer, api: &str) -> (Vec<u8>, Duration) {
    let request = format!("GET /restapis/{api}/prod/_user_request_/ HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut answer = Vec::new();
    let mut elapsed = Duration::ZERO;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let started = Instant::now();
        answer.clear();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("the stalled answer was not cut")
            .unwrap();
        elapsed = started.elapsed();
        if answer.starts_with(b"HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (answer, elapsed)
}

#[tokio::test]
async fn a_streamed_answer_that_stalls_past_the_integration_timeout_is_cut() {
    let server = TestServer::start().await;
    let backend = RawBackend::start(pattern(20_000), Framing::Stalls, None).await;
    let api = root_api(&server, &backend, IntegrationType::HttpProxy, true, 500).await;
    let (answer, elapsed) = cut_answer(&server, &api).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text:?}");
    assert!(text.contains("content-length: 20000\r\n"), "{text:?}");
    let head = find(&answer, b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        &answer[head..],
        &pattern(20_000)[..10_000],
        "the half that came passes, and no more"
    );
    assert!(
        elapsed >= Duration::from_millis(450),
        "cut before the timeout: {elapsed:?}"
    );
}

#[tokio::test]
async fn a_mapped_answer_that_stalls_past_the_integration_timeout_times_out() {
    let server = TestServer::start().await;
    let backend = RawBackend::start(pattern(20_000), Framing::Stalls, None).await;
    let api = root_api(&server, &backend, IntegrationType::Http, false, 500).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod").await;
    let started = Instant::now();
    let raw = invoke.get("/prod").await;
    let elapsed = started.elapsed();
    // An HTTP integration reads the whole answer before mapping it: a body that does not
    // end within the timeout is a timeout, as on AWS.
    assert_gateway_error(&raw, 504, "InternalServerErrorException", TIMED_OUT);
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_client_that_takes_none_of_an_answer_for_the_send_timeout_is_let_go() {
    let server = TestServer::start_with(|config| {
        config.send_timeout = Duration::from_millis(300);
        // The 16 MB answer goes whole at once, unpaced past its first 10 MB.
        config.stream_bandwidth = None;
    })
    .await;
    let answer = pattern(16 << 20);
    let backend = RawBackend::start(answer.clone(), Framing::Length, None).await;
    // Streamed: a buffered answer may not be over 10 MB.
    let invoke = streamed_api_for(&server, &backend).await;
    let api = invoke.api.clone();
    let raw = invoke.get("/prod/warm-up").await;
    assert_eq!(
        raw.body.len(),
        answer.len(),
        "a client that reads gets it all"
    );

    // A client that asks and then takes nothing: its small receive buffer fills at once.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.gateway_addr()).await.unwrap();
    let request =
        format!("GET /restapis/{api}/prod/_user_request_/big HTTP/1.1\r\nHost: a\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // By now the gateway has given up on it: what it had already handed to the socket
    // comes, then the end, long before the whole answer.
    let mut received = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let reading = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), reading)
        .await
        .expect("the connection was not let go");
    assert!(
        received > 0 && received < answer.len(),
        "received {received} bytes"
    );
}

#[tokio::test]
async fn a_streamed_answer_that_sends_nothing_for_the_idle_timeout_is_cut() {
    let server = TestServer::start_with(|config| {
        config.stream_idle_timeout = Duration::from_millis(300);
    })
    .await;
    let backend = RawBackend::start(pattern(20_000), Framing::Stalls, None).await;
    // The integration's own timeout is far off: the idle timeout cuts the answer first.
    let api = root_api(&server, &backend, IntegrationType::HttpProxy, true, 29_000).await;
    let (answer, elapsed) = cut_answer(&server, &api).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text:?}");
    let head = find(&answer, b"\r\n\r\n").unwrap() + 4;
    assert_eq!(&answer[head..], &pattern(20_000)[..10_000]);
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_buffered_answer_goes_out_with_its_length_and_a_streamed_one_in_chunks() {
    let server = TestServer::start().await;
    let answer = pattern(50_000);
    let backend = RawBackend::start(answer.clone(), Framing::Chunked, None).await;
    // Buffered (the default): the gateway holds the whole answer, so it knows its length.
    let invoke = api_for(&server, &backend).await;
    let raw = invoke.get("/prod/chunked").await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-length").as_deref(), Some("50000"));
    assert_eq!(raw.header("transfer-encoding"), None);
    assert!(raw.body == answer, "the answer changed on the way");
    // Streamed: it goes on as it comes, in chunks.
    let invoke = streamed_api_for(&server, &backend).await;
    let raw = invoke.get("/prod/chunked").await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("transfer-encoding").as_deref(), Some("chunked"));
    assert_eq!(raw.header("content-length"), None);
    assert!(raw.body == answer, "the answer changed on the way");
}

#[tokio::test]
async fn an_answer_over_10_mb_is_an_error_unless_streamed() {
    const LIMIT: usize = 10 * 1024 * 1024;
    let server = TestServer::start().await;
    // Exactly the limit passes.
    let exactly = RawBackend::start(pattern(LIMIT), Framing::Length, None).await;
    let api = root_api(&server, &exactly, IntegrationType::HttpProxy, false, 29_000).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.body.len(), LIMIT);
    // One byte more is refused, whether the backend says so up front (Content-Length) or
    // it turns out as the chunks come, for HTTP_PROXY and HTTP integrations alike.
    for (framing, kind) in [
        (Framing::Length, IntegrationType::HttpProxy),
        (Framing::Chunked, IntegrationType::HttpProxy),
        (Framing::Length, IntegrationType::Http),
        (Framing::Chunked, IntegrationType::Http),
    ] {
        let over = RawBackend::start(pattern(LIMIT + 1), framing, None).await;
        let api = root_api(&server, &over, kind.clone(), false, 29_000).await;
        let invoke = Invoke::new(&server, &api);
        let raw = invoke.ready("/prod").await;
        assert_gateway_error(&raw, 500, "InternalServerErrorException", INTERNAL_ERROR);
    }
    // A streamed answer has no such limit.
    let over = RawBackend::start(pattern(LIMIT + 1), Framing::Chunked, None).await;
    let api = root_api(&server, &over, IntegrationType::HttpProxy, true, 29_000).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert!(
        raw.body == pattern(LIMIT + 1),
        "the answer changed on the way"
    );
}

#[tokio::test]
async fn a_streamed_answer_goes_at_the_set_pace_past_its_first_bytes() {
    // AWS's pace (2 MB/s past the first 10 MB), scaled down: 2 MiB/s past the first MiB.
    let server = TestServer::start_with(|config| {
        config.stream_bandwidth = Some(causeway_server::StreamBandwidth {
            unthrottled_bytes: 1 << 20,
            bytes_per_second: 2 << 20,
        });
    })
    .await;
    let answer = pattern(3 << 20);
    let backend = RawBackend::start(answer.clone(), Framing::Length, None).await;
    let streamed = streamed_api_for(&server, &backend).await;
    let started = Instant::now();
    let raw = streamed.get("/prod/paced").await;
    let elapsed = started.elapsed();
    assert_eq!(raw.status, 200);
    assert!(raw.body == answer, "the answer changed on the way");
    // 2 MiB past the first at 2 MiB/s: about a second.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");

    // A buffered answer (at most 10 MB) is never paced.
    let buffered = api_for(&server, &backend).await;
    let started = Instant::now();
    let raw = buffered.get("/prod/whole").await;
    let elapsed = started.elapsed();
    assert!(raw.body == answer, "the answer changed on the way");
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}

/// `data` decoded from `coding` (`gzip` or `deflate`, the zlib format).
fn decoded(coding: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(data).read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(data).read_to_end(&mut out),
        other => panic!("unexpected coding {other}"),
    }
    .unwrap();
    out
}

#[tokio::test]
async fn answers_are_compressed_for_clients_that_ask_when_the_api_says_so() {
    let server = TestServer::start().await;
    let client = server.client();
    let answer = b"a compressible answer, ".repeat(100);
    let chunked = RawBackend::start(answer.clone(), Framing::Chunked, None).await;
    let (api, root) = create_api(&client, "compressed").await;
    // Answers of 1,000 bytes or more are compressed.
    client
        .update_rest_api()
        .rest_api_id(&api)
        .patch_operations(replace("/minimumCompressionSize", "1000"))
        .send()
        .await
        .unwrap();
    let proxy = create_resource(&client, &api, &root, "{proxy+}").await;
    let uri = format!("http://{}/{{proxy}}", chunked.addr);
    proxy_route(&client, &api, &proxy, "ANY", &uri, &["proxy"]).await;
    // The same answer with a Content-Length: whole with its head.
    let length = RawBackend::start(answer.clone(), Framing::Length, None).await;
    let whole = create_resource(&client, &api, &root, "whole").await;
    proxy_route(
        &client,
        &api,
        &whole,
        "GET",
        &format!("http://{}/", length.addr),
        &[],
    )
    .await;
    // A short answer: under the minimum.
    let short = RawBackend::start(b"short".to_vec(), Framing::Length, None).await;
    let small = create_resource(&client, &api, &root, "small").await;
    proxy_route(
        &client,
        &api,
        &small,
        "GET",
        &format!("http://{}/", short.addr),
        &[],
    )
    .await;
    // A backend that encodes its own answer: left as it is.
    let encoded = Backend::start(|_| {
        Reply::new(200)
            .header("Content-Encoding", "br")
            .body(vec![7u8; 3000])
    })
    .await;
    let own = create_resource(&client, &api, &root, "own").await;
    proxy_route(
        &client,
        &api,
        &own,
        "GET",
        &format!("http://{}/", encoded.addr),
        &[],
    )
    .await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warm-up").await;
    let get = |path: &str, accept: Option<&str>| {
        let mut request = invoke.request("GET", path);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        invoke.send(request)
    };

    for (accept, coding) in [
        ("gzip", "gzip"),
        ("deflate", "deflate"),
        ("gzip;q=0.5, deflate", "deflate"),
        ("gzip, deflate, br", "gzip"),
    ] {
        let raw = get("/prod/text", Some(accept)).await;
        assert_eq!(raw.status, 200);
        assert_eq!(
            raw.header("content-encoding").as_deref(),
            Some(coding),
            "{accept}"
        );
        assert!(raw.body.len() < answer.len(), "{accept}: not smaller");
        assert_eq!(
            raw.header("content-length").as_deref(),
            Some(raw.body.len().to_string().as_str())
        );
        assert!(decoded(coding, &raw.body) == answer, "{accept}: changed");
    }
    // No Accept-Encoding, `*`, `identity` or an unsupported coding first: as it came.
    for accept in [None, Some("*"), Some("identity"), Some("br, gzip;q=0.5")] {
        let raw = get("/prod/text", accept).await;
        assert_eq!(raw.header("content-encoding"), None, "{accept:?}");
        assert!(raw.body == answer, "{accept:?}");
    }
    let raw = get("/prod/whole", Some("gzip")).await;
    assert_eq!(raw.header("content-encoding").as_deref(), Some("gzip"));
    let raw = get("/prod/small", Some("gzip")).await;
    assert_eq!(raw.header("content-encoding"), None);
    assert_eq!(raw.body, b"short");
    let raw = get("/prod/own", Some("gzip")).await;
    assert_eq!(raw.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(raw.body, vec![7u8; 3000]);

    // A streamed answer is never compressed, even one that came whole with its head.
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&whole)
        .http_method("GET")
        .patch_operations(replace("/responseTransferMode", "STREAM"))
        .send()
        .await
        .unwrap();
    stream_answers(&server, &api, &proxy, "ANY").await;
    let mut raw = get("/prod/text", Some("gzip")).await;
    for _ in 0..100 {
        if raw.header("transfer-encoding").as_deref() == Some("chunked") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        raw = get("/prod/text", Some("gzip")).await;
    }
    assert_eq!(
        raw.header("transfer-encoding").as_deref(),
        Some("chunked"),
        "not streamed"
    );
    assert_eq!(raw.header("content-encoding"), None);
    assert!(raw.body == answer);
    let raw = get("/prod/whole", Some("gzip")).await;
    assert_eq!(raw.header("content-encoding"), None);
    assert!(raw.body == answer);
}

#[tokio::test]
async fn a_compressed_request_body_reaches_the_backend_decoded() {
    use std::io::Write;
    let server = TestServer::start().await;
    let backend = Backend::echo().await;
    let client = server.client();
    let (api, _) = proxy_api(&client, &format!("http://{}", backend.addr)).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warm-up").await;
    let plain = b"a compressed request body, ".repeat(40);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&plain).unwrap();
    let gzip = gzip.finish().unwrap();
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&plain).unwrap();
    let zlib = zlib.finish().unwrap();
    for (coding, body) in [("gzip", gzip.clone()), ("deflate", zlib)] {
        let raw = invoke
            .send(
                invoke
                    .request("POST", "/prod/upload")
                    .header("content-encoding", coding)
                    .body(body),
            )
            .await;
        assert_eq!(raw.status, 200, "{coding}: {:?}", raw.text());
        let seen = backend.last();
        assert!(seen.body == plain, "{coding}: the backend got it encoded");
        assert_eq!(seen.header("content-encoding"), None);
    }
    // A body that is not what its coding says is a bad request body, as is one that would
    // be over 10 MB decoded.
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/upload")
                .header("content-encoding", "gzip")
                .body(b"not gzip at all".to_vec()),
        )
        .await;
    assert_gateway_error(
        &raw,
        400,
        "BadRequestException",
        r#"{"message":"Invalid request body"}"#,
    );
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![0u8; 11 << 20]).unwrap();
    let bomb = bomb.finish().unwrap();
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/upload")
                .header("content-encoding", "gzip")
                .body(bomb),
        )
        .await;
    assert_eq!(raw.status, 413, "{:?}", raw.text());
    // A coding the gateway does not decode passes as it came.
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/upload")
                .header("content-encoding", "br")
                .body(b"opaque".to_vec()),
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(backend.last().body, b"opaque");
}
