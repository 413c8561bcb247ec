//! Tests of the `causeway` binary as a user runs it: real process, real port, real signals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod netns;

struct Running {
    child: Child,
    admin: SocketAddr,
    lines: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed assertion must not leave a server behind (it would keep its ports, and
        // any file descriptors it inherited, open after the test run).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Running {
    start_with(data_dir, Stdio::null())
}

fn start_with(data_dir: &std::path::Path, stderr: Stdio) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args([
            "serve",
            "--admin-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
            "--link-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let admin = loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "serve exited early: {lines:?}"
        );
        let line = line.trim_end().to_owned();
        lines.push(line.clone());
        if let Some(addr) = line.strip_prefix("admin listening on ") {
            break addr.parse().unwrap();
        }
    };
    // Read the rest of the banner (it ends with the path-style invoke URL), then keep
    // draining so the child never blocks on a full pipe.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        lines.push(line.trim_end().to_owned());
        if line.contains("_user_request_") {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = reader.read_to_string(&mut sink);
    });
    Running {
        child,
        admin,
        lines,
    }
}

impl Running {
    /// The gateway's address, from the banner.
    fn gateway(&self) -> SocketAddr {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix("gateway listening on "))
            .expect("the banner names the gateway")
            .parse()
            .unwrap()
    }
}

/// Deploys the API `id` to a stage `prod`.
fn deploy_prod(admin: SocketAddr, id: &str) {
    let (status, body) = http(
        admin,
        "POST",
        &format!("/restapis/{id}/deployments"),
        r#"{"stageName":"prod"}"#,
    );
    assert_eq!(status, 201, "{body}");
}

/// The first `"id"` of a JSON answer.
fn first_id(body: &str) -> String {
    body.split(r#""id":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned()
}

/// Creates the API `id` (pinned with `_custom_id_`) with a GET method on its root, and
/// returns that method's path on the management API.
fn root_get_method(admin: SocketAddr, id: &str) -> String {
    let (status, body) = http(
        admin,
        "POST",
        "/restapis",
        &format!(r#"{{"name":"{id}","tags":{{"_custom_id_":"{id}"}}}}"#),
    );
    assert_eq!(status, 201, "{body}");
    let (_, body) = http(admin, "GET", &format!("/restapis/{id}/resources"), "");
    let method = format!("/restapis/{id}/resources/{}/methods/GET", first_id(&body));
    let (status, body) = http(admin, "PUT", &method, r#"{"authorizationType":"NONE"}"#);
    assert_eq!(status, 201, "{body}");
    method
}

/// GETs `path` from the gateway until it answers `status`, for at most 5 s (a deployment
/// reaches the gateway a moment after the management API answers); the last answer.
fn invoke_until(gateway: SocketAddr, path: &str, status: u16) -> (u16, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = http(gateway, "GET", path, "");
        if answer.0 == status || std::time::Instant::now() >= deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    request(addr, method, path, "application/json", body)
}

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn terminate(mut running: Running) -> std::process::ExitStatus {
    let pid = running.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    running.child.wait().unwrap()
}

#[test]
fn serve_prints_endpoints_serves_and_stops_on_sigterm_keeping_data() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let banner = running.lines.join("\n");
    assert!(
        banner.contains("aws --endpoint-url http://127.0.0.1:"),
        "{banner}"
    );
    assert!(banner.contains("data dir"), "{banner}");
    assert!(
        banner.contains("gateway listening on 127.0.0.1:"),
        "{banner}"
    );
    assert!(banner.contains(".execute-api.localhost:"), "{banner}");
    let (status, body) = http(
        running.admin,
        "POST",
        "/restapis",
        r#"{"name":"kept","tags":{"_custom_id_":"kept1"}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let status = terminate(running);
    assert!(
        status.success(),
        "serve must exit 0 on SIGTERM, got {status}"
    );

    let again = start(dir.path());
    let (status, body) = http(again.admin, "GET", "/restapis/kept1", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""name":"kept""#), "{body}");
    assert!(terminate(again).success());
}

/// The log goes to standard error; written to a file (or a pipe), it is plain text, without
/// the colour codes a terminal gets.
#[test]
fn a_log_written_to_a_file_has_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("causeway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let running = start_with(&dir.path().join("data"), Stdio::from(log));
    let gateway = running.gateway();
    let admin = running.admin;
    let method = root_get_method(admin, "logged");
    // A backend that is not there: the invoke fails, and the log says why.
    let (status, body) = http(
        admin,
        "PUT",
        &format!("{method}/integration"),
        r#"{"type":"HTTP_PROXY","httpMethod":"GET","uri":"http://127.0.0.1:1/"}"#,
    );
    assert_eq!(status, 201, "{body}");
    deploy_prod(admin, "logged");
    let (status, _) = invoke_until(gateway, "/restapis/logged/prod/_user_request_/", 500);
    assert_eq!(status, 500);
    assert!(terminate(running).success());
    let written = std::fs::read_to_string(&log_path).unwrap();
    assert!(written.contains("request failed"), "{written}");
    assert!(
        !written.contains('\u{1b}'),
        "colour codes in the log: {written:?}"
    );
}

/// How often the process `pid` wakes in three seconds, after one to let what it was doing
/// settle.
fn wakes_in_three_seconds(pid: u32) -> u64 {
    std::thread::sleep(Duration::from_secs(1));
    let before = switches(pid);
    std::thread::sleep(Duration::from_secs(3));
    switches(pid) - before
}

/// How many times the process's threads have been switched out, from `/proc`.
fn switches(pid: u32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status =
            std::fs::read_to_string(task.unwrap().path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("voluntary_ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

/// A server with an API deployed and called, then left alone, does not wake: no timer ticks
/// and no thread polls while there is nothing to do (no VPC link, usage plan or NLB node), as
/// an idle nginx does not. It once woke about 20 times a second.
#[cfg(target_os = "linux")]
#[test]
fn an_idle_server_does_not_wake() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let gateway = running.gateway();
    let admin = running.admin;
    let method = root_get_method(admin, "idle");
    for (path, body) in [
        (format!("{method}/responses/200"), "{}".to_owned()),
        (
            format!("{method}/integration"),
            r#"{"type":"MOCK","requestTemplates":{"application/json":"{\"statusCode\": 200}"}}"#
                .to_owned(),
        ),
        (
            format!("{method}/integration/responses/200"),
            r#"{"responseTemplates":{"application/json":"{\"idle\": true}"}}"#.to_owned(),
        ),
    ] {
        let (status, reply) = http(admin, "PUT", &path, &body);
        assert_eq!(status, 201, "{path}: {reply}");
    }
    deploy_prod(admin, "idle");
    let (status, body) = invoke_until(gateway, "/restapis/idle/prod/_user_request_/", 200);
    assert_eq!((status, body.as_str()), (200, r#"{"idle": true}"#));

    let woke = wakes_in_three_seconds(running.child.id());
    assert!(woke <= 3, "the idle server woke {woke} times in 3 s");

    // Then a network load balancer and a VPC link to it: once the link is AVAILABLE, the
    // server has nothing to follow until something changes, and does not wake either.
    let elbv2 = |query: &str| elbv2(admin, query);
    let lb = between(
        &elbv2(
            "Action=CreateLoadBalancer&Name=idle&Type=network&Scheme=internal&Subnets.member.1=subnet-1",
        ),
        "LoadBalancerArn",
    );
    let tg = between(
        &elbv2("Action=CreateTargetGroup&Name=idle&Protocol=TCP&Port=9&VpcId=vpc-1&TargetType=ip"),
        "TargetGroupArn",
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    elbv2(&format!(
        "Action=CreateListener&LoadBalancerArn={}&Protocol=TCP&Port={port}&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn={}",
        encode(&lb),
        encode(&tg)
    ));
    available_link(admin, "idle", &lb);
    let woke = wakes_in_three_seconds(running.child.id());
    assert!(
        woke <= 3,
        "the idle server with a VPC link woke {woke} times in 3 s"
    );
    assert!(terminate(running).success());
}

/// A server whose VPC link goes to a load balancer that an NLB node runs, reached through
/// the node's tunnel, follows the tunnel's coming and going as it happens rather than
/// looking four times a second. What still wakes it is the node's own traffic and the plan
/// pusher's check of admitted nodes (once a second): 3.6 wake-ups a second in all where it
/// was 11.
#[cfg(target_os = "linux")]
#[test]
fn a_server_with_a_tunnelled_load_balancer_does_not_poll_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let admin = running.admin;
    let link_addr = running
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("link listening on "))
        .and_then(|rest| rest.split(' ').next())
        .expect("the banner names the link listener")
        .to_owned();
    let lb = between(
        &elbv2(
            admin,
            "Action=CreateLoadBalancer&Name=far&Type=network&Scheme=internal&Subnets.member.1=subnet-1",
        ),
        "LoadBalancerArn",
    );
    let (status, node) = http(
        admin,
        "POST",
        "/causeway/nodes",
        &format!(r#"{{"name":"far","loadBalancerArns":["{lb}"]}}"#),
    );
    assert_eq!(status, 201, "{node}");
    let node_id = first_id(&node);
    let token = node
        .split(r#""token":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let mut node = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(["nlb-node", "--gateway", &link_addr, "--ca"])
        .arg(dir.path().join("link").join("cert.pem"))
        .args(["--node-id", &node_id])
        .env("CAUSEWAY_NODE_TOKEN", &token)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let link = available_link(admin, "far", &lb);
    let woke = wakes_in_three_seconds(running.child.id());
    let _ = node.kill();
    let _ = node.wait();
    assert!(
        woke <= 15,
        "the server with a tunnelled load balancer woke {woke} times in 3 s"
    );
    // The node's going is still seen, through the registry's signal: the link waits for a
    // node again.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = http(admin, "GET", &format!("/vpclinks/{link}"), "");
        if body.contains(r#""status":"PENDING""#) && body.contains("No NLB node serving") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the link did not follow its node's going: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(terminate(running).success());
}

/// Calls the ELBv2 query API; returns the XML answer.
fn elbv2(admin: SocketAddr, query: &str) -> String {
    let body = format!("Version=2015-12-01&{query}");
    let (status, reply) = request(
        admin,
        "POST",
        "/",
        "application/x-www-form-urlencoded",
        &body,
    );
    assert_eq!(status, 200, "{query}: {reply}");
    reply
}

/// The text of the first `<tag>` of an XML answer.
fn between(text: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = text.find(&open).unwrap() + open.len();
    text[start..].split('<').next().unwrap().to_owned()
}

/// Creates a VPC link named `name` to the load balancer `lb`, waits (up to 10 s) for it to
/// be `AVAILABLE`, and returns its id.
fn available_link(admin: SocketAddr, name: &str, lb: &str) -> String {
    let (status, body) = http(
        admin,
        "POST",
        "/vpclinks",
        &format!(r#"{{"name":"{name}","targetArns":["{lb}"]}}"#),
    );
    assert_eq!(status, 202, "{body}");
    let link = first_id(&body);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = http(admin, "GET", &format!("/vpclinks/{link}"), "");
        if body.contains(r#""status":"AVAILABLE""#) {
            return link;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the link never became AVAILABLE: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Percent-encodes a query value (ARNs carry `:` and `/`).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_second_server_on_the_same_data_dir_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path());
    let second = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args([
            "serve",
            "--admin-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
            "--link-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("in use by another causeway process"),
        "{stderr}"
    );
    assert!(terminate(first).success());
}

#[test]
fn help_documents_the_serve_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--data-dir",
        "--admin-listen",
        "--region",
        "--account-id",
        "--link-listen",
        "--max-integration-timeout-ms",
        "--account-rate-limit",
        "--gateway-tls-listen",
        "--gateway-tls-cert",
        "--gateway-tls-key",
        "--redis-ca",
        "--redis-cert",
        "--redis-key",
        "CAUSEWAY_DATA_DIR",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn nlb_node_help_explains_the_set_up_in_three_steps() {
    let output = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(["nlb-node", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "1. On the gateway host: curl -X POST http://127.0.0.1:4580/causeway/nodes",
        "2. Copy the gateway's {data-dir}/link/cert.pem",
        "3. On the private host: causeway nlb-node --gateway",
        "--gateway",
        "--ca",
        "--node-id",
        "CAUSEWAY_NODE_TOKEN",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[test]
fn a_crash_in_the_middle_of_writes_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let admin = running.admin;
    let (status, body) = http(
        admin,
        "POST",
        "/restapis",
        r#"{"name":"crash","tags":{"_custom_id_":"crash1"}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let root = body
        .split(r#""rootResourceId":""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    // Writers create resources as fast as they can while the process is killed with SIGKILL.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let acknowledged = acknowledged.clone();
            let root = root.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let Ok(mut stream) = TcpStream::connect(admin) else { break };
                    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let body = format!(r#"{{"pathPart":"w{w}-{i}"}}"#);
                    let request = format!(
                        "POST /restapis/crash1/resources/{root} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(request.as_bytes()).is_err() {
                        break;
                    }
                    let mut response = String::new();
                    if stream.read_to_string(&mut response).is_err() || !response.starts_with("HTTP/1.1 201") {
                        break;
                    }
                    acknowledged.lock().unwrap().push(format!("w{w}-{i}"));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let mut running = running;
    running.child.kill().unwrap();
    running.child.wait().unwrap();
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "the writers barely ran: {}",
        acknowledged.len()
    );

    let again = start(dir.path());
    let mut listing = String::new();
    let mut query = "limit=500".to_owned();
    loop {
        let (status, page) = http(
            again.admin,
            "GET",
            &format!("/restapis/crash1/resources?{query}"),
            "",
        );
        assert_eq!(status, 200, "{page}");
        listing.push_str(&page);
        match page
            .split(r#""position":""#)
            .nth(1)
            .and_then(|p| p.split('"').next())
        {
            Some(position) => query = format!("limit=500&position={position}"),
            None => break,
        }
    }
    for name in &acknowledged {
        assert!(
            listing.contains(&format!(r#""pathPart":"{name}""#)),
            "{name} was acknowledged with 201 but did not survive the crash"
        );
    }
    assert!(terminate(again).success());
}

/// `causeway deploy FILE`: imports on first use, updates the same API (found by its title)
/// afterwards, deploys, and prints invoke URLs that answer.
#[test]
fn deploy_imports_then_updates_and_deploys() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path());
    let admin = running.admin;
    let gateway: SocketAddr = running
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("gateway listening on "))
        .unwrap()
        .parse()
        .unwrap();
    let spec = |message: &str| {
        format!(
            r#"openapi: "3.0.1"
info:
  title: deploy-test
  version: "1"
paths:
  /hello:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{{"statusCode": 200}}'
        responses:
          default:
            statusCode: "200"
            responseTemplates:
              application/json: '{{"message": "{message}"}}'
"#
        )
    };
    let file = dir.path().join("api.yaml");
    let deploy = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_causeway"))
            .args(["deploy"])
            .arg(file)
            .args([
                "--stage",
                "prod",
                "--variable",
                "COLOR=blue",
                "--endpoint",
                &format!("http://{admin}"),
                "--gateway",
                &gateway.to_string(),
            ])
            .output()
            .unwrap()
    };
    let invoke = |path: &str| invoke_until(gateway, path, 200);

    std::fs::write(&file, spec("first")).unwrap();
    let out = deploy(&file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("imported"), "{stdout}");
    let url = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("http://{gateway}")))
        .unwrap()
        .to_owned();
    let (status, body) = invoke(&format!("{url}hello"));
    assert_eq!((status, body.as_str()), (200, r#"{"message": "first"}"#));

    std::fs::write(&file, spec("second")).unwrap();
    let out = deploy(&file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("updated API"), "{stdout}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = invoke(&format!("{url}hello"));
        if body == r#"{"message": "second"}"# {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, listed) = http(admin, "GET", "/restapis", "");
    assert_eq!(status, 200);
    assert_eq!(listed.matches("deploy-test").count(), 1, "{listed}");

    // A document that does not parse is refused with the reason and nothing changes.
    std::fs::write(&file, "openapi: [unclosed").unwrap();
    let out = deploy(&file);
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
}
