//! `gatehouse serve` as a process: first start prints the secrets once, operations endpoints
//! answer, SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::cli::Cli;
use crate::harness::*;

pub struct Server {
    pub child: Child,
    pub addr: String,
    /// Everything the server printed on stdout up to "listening".
    pub banner: String,
}

impl Server {
    #[allow(clippy::zombie_processes)] // the caller waits in terminate()
    pub fn start(cli: &Cli) -> Server {
        let mut child = cli
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .env("GATEHOUSE_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut banner = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).expect("read") == 0 {
                panic!("server exited before listening: {banner}");
            }
            banner.push_str(&line);
            if let Some(rest) = line.strip_prefix("Gatehouse listening on http://") {
                let addr = rest.split_whitespace().next().expect("address").to_string();
                return Server { child, addr, banner };
            }
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.addr, path)
    }

    /// SIGTERM, then wait: a graceful stop exits 0.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().expect("wait")
    }
}

/// Drop a PostgreSQL test database, disconnecting its sessions.
async fn drop_database(url: &str) {
    use sea_orm::ConnectionTrait;
    let (base, name) = url.rsplit_once('/').expect("database in URL");
    let admin = sea_orm::Database::connect(format!("{base}/postgres")).await.expect("admin connection");
    admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop database");
}

pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_first_start_health_metrics_and_sigterm() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(databases()) {
        eprintln!("-- on {}", db.backend);
        let cli = Cli::for_db(&db);
        let first = Server::start(&cli);
        assert!(first.banner.contains("One-time password:") && first.banner.contains("AWS_SECRET_ACCESS_KEY="), "{}", first.banner);
        let (code, body) = first.get("/healthz");
        assert_eq!((code, body.contains("ok")), (200, true), "{body}");
        let (code, body) = first.get("/readyz");
        assert_eq!(code, 200, "{body}");
        assert!(body.contains(db.backend), "{body}");
        let (code, body) = first.get("/metrics");
        assert_eq!(code, 200);
        for metric in [
            "gatehouse_http_requests_total",
            "gatehouse_http_request_duration_seconds",
            "gatehouse_audit_events_written_total",
            "gatehouse_db_pool_connections",
        ] {
            assert!(body.contains(metric), "{metric} missing from /metrics:\n{body}");
        }
        assert!(body.contains("route=\"/healthz\""), "{body}");
        assert_eq!(first.get("/no-such-page").0, 404);
        // The CLI works on the same database while the server holds it open.
        cli.ok(&["user", "create", "while-serving", "--email", "ws@example.com", "--given-name", "W", "--family-name", "S"]);
        assert!(first.get("/metrics").1.contains("gatehouse_db_pool_idle_connections"));
        assert!(first.terminate().success(), "SIGTERM exits cleanly");

        let second = Server::start(&cli);
        assert!(!second.banner.contains("One-time password") && !second.banner.contains("AWS_SECRET_ACCESS_KEY"), "{}", second.banner);
        assert_eq!(second.get("/healthz").0, 200);
        if db.backend == "postgres" {
            // The database goes away under the running server: ready says so, healthy stays up.
            rt.block_on(drop_database(&db.url));
            let (code, body) = second.get("/readyz");
            assert_eq!(code, 503, "{body}");
            assert!(body.contains("unavailable"), "{body}");
            assert_eq!(second.get("/healthz").0, 200);
        }
        assert!(second.terminate().success());
    }
}
