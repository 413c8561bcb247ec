//! A Redis server of the test's own (`redis-server` on a free loopback port, no persistence),
//! killed when dropped.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Redis server.
#[derive(Debug)]
pub struct Redis {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// With TLS: the TLS port and the PEM files of a CA of the test's own.
    tls: Option<Tls>,
}

/// A Redis server's TLS: its port, which requires clients to show a certificate signed by
/// the same CA (`tls-auth-clients yes`, Redis's default), and the PEM texts.
#[derive(Debug)]
pub struct Tls {
    pub port: u16,
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

impl Redis {
    /// Starts a server. Panics with what to install when Redis is missing.
    pub fn start() -> Redis {
        let mut redis = Redis {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir for Redis"),
            tls: None,
        };
        redis.run();
        redis
    }

    /// Starts a server that also speaks TLS on a port of its own, with a server certificate
    /// for `localhost` from a CA made for the test, and that requires clients to show a
    /// certificate from that CA.
    pub fn start_tls() -> Redis {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let dir = tempfile::tempdir().expect("temp dir for Redis");
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "test Redis CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf = |names: Vec<String>| {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(names)
                .unwrap()
                .signed_by(&key, &ca, &ca_key)
                .unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = leaf(vec!["localhost".to_owned()]);
        let (client_cert_pem, client_key_pem) = leaf(vec!["causeway".to_owned()]);
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("server.pem"), server_cert).unwrap();
        std::fs::write(dir.path().join("server.key"), server_key).unwrap();
        let mut redis = Redis {
            child: None,
            port: free_port(),
            dir,
            tls: Some(Tls {
                port: free_port(),
                ca_pem: ca.pem(),
                client_cert_pem,
                client_key_pem,
            }),
        };
        redis.run();
        redis
    }

    /// The TLS side of a server made by [`Redis::start_tls`].
    pub fn tls(&self) -> &Tls {
        self.tls.as_ref().expect("a Redis server with TLS")
    }

    /// The `rediss://` URL of a server made by [`Redis::start_tls`].
    pub fn tls_url(&self) -> String {
        format!("rediss://localhost:{}/", self.tls().port)
    }

    /// Starts the server (again, after [`Redis::stop`]) on the same port, and waits until it
    /// answers PING.
    pub fn run(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(self.dir.path());
        if let Some(tls) = &self.tls {
            let file = |name: &str| self.dir.path().join(name).display().to_string();
            command
                .args(["--tls-port", &tls.port.to_string()])
                .args(["--tls-cert-file", &file("server.pem")])
                .args(["--tls-key-file", &file("server.key")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args(["--tls-auth-clients", "yes"]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("these tests need redis-server: install it (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0_u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The keys matching `pattern` (`redis-cli --scan`), sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--scan", "--pattern", pattern])
            .output()
            .expect("run redis-cli");
        let mut keys: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
