//! The tunnel in a real private network, built from Linux network namespaces:
//!
//! ```text
//!   client ns ── 10.231.0.0/24 ── gateway ns ── 10.232.0.0/24 ── private ns
//!   (curl)                        causeway serve                   causeway nlb-node
//!                                 (admin, invoke, link listener)   backend (python http.server)
//! ```
//!
//! The private namespace's firewall drops every connection that starts outside it (like a
//! NAT'd private network): the test first proves that the gateway namespace cannot open a
//! connection to the backend, then that the invoke URL reaches it anyway, through the
//! connections the node dials out. Then it drops the tunnel's connections, restarts the
//! gateway, and presents a bad credential.
//!
//! Needs root, `ip` (iproute2), `iptables`, `curl` and `python3`; without them the test says
//! so and returns (`.ci/run` installs them).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GW_CLIENT_SIDE: &str = "10.231.0.1";
const CLIENT: &str = "10.231.0.2";
const GW_PRIVATE_SIDE: &str = "10.232.0.1";
const PRIVATE: &str = "10.232.0.2";
const BACKEND_PORT: u16 = 18_850;
const MARKER: &str = "served-from-the-private-network";

fn run(args: &[&str]) -> std::process::Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"))
}

fn ok(args: &[&str]) {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Why this host cannot run the test, if it cannot.
fn missing_prerequisite() -> Option<String> {
    let uid = run(&["id", "-u"]);
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not running as root".to_owned());
    }
    for tool in ["ip", "iptables", "curl", "python3", "ss"] {
        if !run(&["sh", "-c", &format!("command -v {tool}")])
            .status
            .success()
        {
            return Some(format!("'{tool}' is not installed"));
        }
    }
    let probe = format!("cwprobe{}", std::process::id());
    if !run(&["ip", "netns", "add", &probe]).status.success() {
        return Some("network namespaces cannot be created here".to_owned());
    }
    let firewall = run(&[
        "ip",
        "netns",
        "exec",
        &probe,
        "iptables",
        "-A",
        "INPUT",
        "-m",
        "conntrack",
        "--ctstate",
        "ESTABLISHED,RELATED",
        "-j",
        "ACCEPT",
    ]);
    let _ = run(&["ip", "netns", "del", &probe]);
    if !firewall.status.success() {
        return Some("iptables with conntrack does not work in a namespace here".to_owned());
    }
    None
}

/// Three namespaces and two veth pairs, deleted on drop (with every process in them).
struct Network {
    client: String,
    gateway: String,
    private: String,
    children: Vec<Child>,
}

impl Network {
    fn build() -> Network {
        let id = std::process::id() % 100_000;
        let net = Network {
            client: format!("cw-c-{id}"),
            gateway: format!("cw-g-{id}"),
            private: format!("cw-p-{id}"),
            children: Vec::new(),
        };
        for ns in [&net.client, &net.gateway, &net.private] {
            ok(&["ip", "netns", "add", ns]);
            ok(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let (c, g1, g2, p) = (
            format!("cwc{id}"),
            format!("cwg{id}"),
            format!("cwh{id}"),
            format!("cwp{id}"),
        );
        ok(&["ip", "link", "add", &c, "type", "veth", "peer", "name", &g1]);
        ok(&["ip", "link", "set", &c, "netns", &net.client]);
        ok(&["ip", "link", "set", &g1, "netns", &net.gateway]);
        ok(&["ip", "link", "add", &g2, "type", "veth", "peer", "name", &p]);
        ok(&["ip", "link", "set", &g2, "netns", &net.gateway]);
        ok(&["ip", "link", "set", &p, "netns", &net.private]);
        for (ns, dev, addr) in [
            (&net.client, &c, CLIENT),
            (&net.gateway, &g1, GW_CLIENT_SIDE),
            (&net.gateway, &g2, GW_PRIVATE_SIDE),
            (&net.private, &p, PRIVATE),
        ] {
            ok(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                dev,
            ]);
            ok(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        // The private network accepts no connection from outside: only replies to the ones
        // it opens, and its own loopback traffic.
        for rule in [
            vec![
                "-A",
                "INPUT",
                "-m",
                "conntrack",
                "--ctstate",
                "ESTABLISHED,RELATED",
                "-j",
                "ACCEPT",
            ],
            vec!["-A", "INPUT", "-i", "lo", "-j", "ACCEPT"],
            vec!["-A", "INPUT", "-j", "DROP"],
        ] {
            let mut args = vec!["ip", "netns", "exec", net.private.as_str(), "iptables"];
            args.extend(rule);
            ok(&args);
        }
        net
    }

    fn spawn(&mut self, ns: &str, args: &[&str]) -> Arc<Mutex<Vec<String>>> {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        self.children.push(child);
        lines
    }

    /// `curl` from a namespace: (HTTP status, body); status 0 when no connection was made.
    fn curl(&self, ns: &str, method: &str, url: &str, body: Option<&str>) -> (u16, String) {
        let mut args = vec![
            "ip",
            "netns",
            "exec",
            ns,
            "curl",
            "-s",
            "--max-time",
            "3",
            "-X",
            method,
            "-w",
            "\n%{http_code}",
        ];
        if let Some(body) = body {
            args.extend([
                "-H",
                "content-type: application/json",
                "--data-binary",
                body,
            ]);
        }
        args.push(url);
        let out = run(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (status.trim().parse().unwrap_or(0), body.to_owned())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.client, &self.gateway, &self.private] {
            let _ = run(&["ip", "netns", "del", ns]);
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map(|i| i + start.len()).unwrap_or(0);
    let to = text[from..]
        .find(end)
        .map(|i| from + i)
        .unwrap_or(text.len());
    &text[from..to]
}

fn json_field(text: &str, name: &str) -> String {
    between(text, &format!("\"{name}\":\""), "\"").to_owned()
}

#[test]
fn invoke_reaches_a_backend_that_accepts_no_inbound_connection() {
    if let Some(reason) = missing_prerequisite() {
        eprintln!("skipping the network namespace test: {reason}");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_causeway");
    let data = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("hello.txt"), MARKER).unwrap();
    let mut net = Network::build();
    let (gw, private, client) = (net.gateway.clone(), net.private.clone(), net.client.clone());

    // The backend, in the private namespace, on every address it has.
    let site_dir = site.path().display().to_string();
    net.spawn(
        &private,
        &[
            "python3",
            "-m",
            "http.server",
            &BACKEND_PORT.to_string(),
            "--bind",
            "0.0.0.0",
            "--directory",
            &site_dir,
        ],
    );
    let serve_args = |data: &str| -> Vec<String> {
        [
            bin,
            "serve",
            "--data-dir",
            data,
            "--admin-listen",
            &format!("{GW_CLIENT_SIDE}:4580"),
            "--gateway-listen",
            &format!("{GW_CLIENT_SIDE}:8080"),
            "--link-listen",
            &format!("{GW_PRIVATE_SIDE}:4590"),
            "--link-name",
            GW_PRIVATE_SIDE,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let data_dir = data.path().display().to_string();
    let args = serve_args(&data_dir);
    let gateway_out = net.spawn(&gw, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_for("the gateway to start", Duration::from_secs(10), || {
        gateway_out
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("link listening on"))
    });
    wait_for("the backend to start", Duration::from_secs(10), || {
        let out = run(&[
            "ip",
            "netns",
            "exec",
            &private,
            "curl",
            "-s",
            &format!("http://127.0.0.1:{BACKEND_PORT}/hello.txt"),
        ]);
        String::from_utf8_lossy(&out.stdout).contains(MARKER)
    });

    // 1. The private network is closed to the gateway.
    let (status, _) = net.curl(
        &gw,
        "GET",
        &format!("http://{PRIVATE}:{BACKEND_PORT}/hello.txt"),
        None,
    );
    assert_eq!(
        status, 0,
        "the gateway namespace could open a connection into the private one"
    );

    // 2. Configure: an NLB (served by a node), its target group and listener, a node
    //    credential, a VPC link and an API through it.
    let admin = format!("http://{GW_CLIENT_SIDE}:4580");
    let elb = |form: &str| {
        let (status, body) = net.curl(&client, "POST", &format!("{admin}/?{form}"), Some(""));
        assert_eq!(status, 200, "{form}: {body}");
        body
    };
    let lb = elb(
        "Action=CreateLoadBalancer&Version=2015-12-01&Name=private&Type=network&Scheme=internal&Subnets.member.1=subnet-1",
    );
    let lb_arn = between(&lb, "<LoadBalancerArn>", "<").to_owned();
    let dns = between(&lb, "<DNSName>", "<").to_owned();
    let tg = elb(&format!(
        "Action=CreateTargetGroup&Version=2015-12-01&Name=backends&Protocol=TCP&Port={BACKEND_PORT}&VpcId=vpc-1&TargetType=ip"
    ));
    let tg_arn = between(&tg, "<TargetGroupArn>", "<").to_owned();
    elb(&format!(
        "Action=RegisterTargets&Version=2015-12-01&TargetGroupArn={tg_arn}&Targets.member.1.Id=127.0.0.1&Targets.member.1.Port={BACKEND_PORT}"
    ));
    elb(&format!(
        "Action=CreateListener&Version=2015-12-01&LoadBalancerArn={lb_arn}&Protocol=TCP&Port=80&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn={tg_arn}"
    ));
    let (status, node) = net.curl(
        &client,
        "POST",
        &format!("{admin}/causeway/nodes"),
        Some(&format!(r#"{{"loadBalancerArns":["{lb_arn}"]}}"#)),
    );
    assert_eq!(status, 201, "{node}");
    let (node_id, token) = (json_field(&node, "id"), json_field(&node, "token"));
    let (status, link) = net.curl(
        &client,
        "POST",
        &format!("{admin}/vpclinks"),
        Some(&format!(
            r#"{{"name":"private","targetArns":["{lb_arn}"]}}"#
        )),
    );
    assert_eq!(status, 202, "{link}");
    let link_id = json_field(&link, "id");
    let (status, api) = net.curl(
        &client,
        "POST",
        &format!("{admin}/restapis"),
        Some(r#"{"name":"private","tags":{"_custom_id_":"priv"}}"#),
    );
    assert_eq!(status, 201, "{api}");
    let root = json_field(&api, "rootResourceId");
    let (_, proxy) = net.curl(
        &client,
        "POST",
        &format!("{admin}/restapis/priv/resources/{root}"),
        Some(r#"{"pathPart":"{proxy+}"}"#),
    );
    let proxy_id = json_field(&proxy, "id");
    let method = format!("{admin}/restapis/priv/resources/{proxy_id}/methods/ANY");
    assert_eq!(
        net.curl(
            &client,
            "PUT",
            &method,
            Some(r#"{"authorizationType":"NONE","requestParameters":{"method.request.path.proxy":true}}"#)
        )
        .0,
        201
    );
    let integration = r#"{"type":"HTTP_PROXY","httpMethod":"ANY","connectionType":"VPC_LINK","connectionId":"${stageVariables.VPCLINK}","uri":"http://${stageVariables.VPCNLB}/{proxy}","requestParameters":{"integration.request.path.proxy":"method.request.path.proxy"}}"#;
    assert_eq!(
        net.curl(
            &client,
            "PUT",
            &format!("{method}/integration"),
            Some(integration)
        )
        .0,
        201
    );
    let deployment =
        format!(r#"{{"stageName":"prod","variables":{{"VPCLINK":"{link_id}","VPCNLB":"{dns}"}}}}"#);
    let (status, body) = net.curl(
        &client,
        "POST",
        &format!("{admin}/restapis/priv/deployments"),
        Some(&deployment),
    );
    assert_eq!(status, 201, "{body}");

    // 3. The node dials out from the private network; the link turns AVAILABLE and the
    //    invoke URL reaches the backend.
    let cert = data
        .path()
        .join("link")
        .join("cert.pem")
        .display()
        .to_string();
    let node_args = |token: &str| -> Vec<String> {
        [
            bin,
            "nlb-node",
            "--gateway",
            &format!("{GW_PRIVATE_SIDE}:4590"),
            "--gateway-name",
            GW_PRIVATE_SIDE,
            "--ca",
            &cert,
            "--node-id",
            &node_id,
            "--token",
            token,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let args = node_args(&token);
    net.spawn(
        &private,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let link_url = format!("{admin}/vpclinks/{link_id}");
    wait_for(
        "the VPC link to become AVAILABLE",
        Duration::from_secs(10),
        || {
            net.curl(&client, "GET", &link_url, None)
                .1
                .contains("\"AVAILABLE\"")
        },
    );
    let invoke =
        format!("http://{GW_CLIENT_SIDE}:8080/restapis/priv/prod/_user_request_/hello.txt");
    wait_for(
        "the invoke URL to reach the backend",
        Duration::from_secs(10),
        || net.curl(&client, "GET", &invoke, None) == (200, MARKER.to_owned()),
    );
    // Still closed: the tunnel is the only way in.
    assert_eq!(
        net.curl(
            &gw,
            "GET",
            &format!("http://{PRIVATE}:{BACKEND_PORT}/hello.txt"),
            None
        )
        .0,
        0
    );

    // 4. Drop the tunnel's connections (from the private side): traffic resumes.
    ok(&[
        "ip",
        "netns",
        "exec",
        &private,
        "ss",
        "-K",
        "dst",
        GW_PRIVATE_SIDE,
    ]);
    let dropped = Instant::now();
    wait_for(
        "traffic to resume after the tunnel dropped",
        Duration::from_secs(5),
        || net.curl(&client, "GET", &invoke, None).0 == 200,
    );
    eprintln!(
        "traffic resumed {:?} after the tunnel connections were dropped",
        dropped.elapsed()
    );

    // 5. Restart the gateway: the node rejoins.
    let gateway = net.children.remove(1);
    let pid = gateway.id().to_string();
    ok(&["kill", "-TERM", &pid]);
    let mut gateway = gateway;
    let _ = gateway.wait();
    let args = serve_args(&data_dir);
    let restarted = net.spawn(&gw, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_for("the gateway to restart", Duration::from_secs(10), || {
        restarted
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("link listening on"))
    });
    let back = Instant::now();
    wait_for(
        "the node to rejoin after the gateway restarted",
        Duration::from_secs(10),
        || net.curl(&client, "GET", &invoke, None) == (200, MARKER.to_owned()),
    );
    eprintln!(
        "traffic flowed {:?} after the gateway restarted",
        back.elapsed()
    );

    // 6. A node with a bad credential is refused.
    let args = node_args("not-the-token");
    let refused = net.spawn(
        &private,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    wait_for(
        "the bad credential to be refused",
        Duration::from_secs(10),
        || {
            refused
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("wrong credential"))
        },
    );
}
