//! A minimal HTTP/1.1 keep-alive client: the load generators need exact control of each request
//! and nothing between them and the socket.

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Conn {
    reader: BufReader<TcpStream>,
}

pub async fn connect(endpoint: &str) -> anyhow::Result<Conn> {
    let stream = TcpStream::connect(endpoint).await.with_context(|| format!("connect {endpoint}"))?;
    stream.set_nodelay(true)?;
    Ok(Conn { reader: BufReader::new(stream) })
}

pub struct Response {
    pub status: u16,
    pub keep_alive: bool,
    pub body: Vec<u8>,
    /// `name=value` of each Set-Cookie (attributes dropped).
    pub cookies: Vec<String>,
}

/// Send `head` (request line and headers, ending with the blank line) and `body`; read the
/// response.
pub async fn send(conn: &mut Conn, head: &str, body: &[u8]) -> anyhow::Result<Response> {
    let stream = conn.reader.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut line = String::new();
    if conn.reader.read_line(&mut line).await? == 0 {
        bail!("connection closed");
    }
    let http10 = line.starts_with("HTTP/1.0");
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (mut length, mut close) = (None, http10);
    let mut cookies = Vec::new();
    loop {
        line.clear();
        conn.reader.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.trim().eq_ignore_ascii_case("set-cookie") {
                cookies.extend(v.trim().split(';').next().map(str::to_string));
            }
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            if k == "content-length" {
                length = v.parse::<usize>().ok();
            } else if k == "connection" {
                close = v == "close";
            }
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            conn.reader.read_exact(&mut body).await?;
        }
        None if status == 204 || status == 304 => {}
        None => {
            conn.reader.read_to_end(&mut body).await?;
            close = true;
        }
    }
    Ok(Response { status, keep_alive: !close, body, cookies })
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A portal password sign-in (head, body). The CSRF token is the browser's own choice, repeated
/// in the cookie and the form, as double-submit allows.
pub fn signin_request(endpoint: &str, user: &str, password: &str) -> (String, String) {
    let body = format!("csrf=bench-csrf&next=%2Fstart%2F&username={}&password={}", form_encode(user), form_encode(password));
    let head = format!(
        "POST /start/signin HTTP/1.1\r\nHost: {endpoint}\r\nCookie: gh_csrf=bench-csrf\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    (head, body)
}

/// One client sending the same request over and over on a keep-alive connection until
/// `deadline`: the latency of each answer `ok` accepts, and how many it did not.
pub async fn closed_loop(
    endpoint: &str,
    head: &str,
    body: &[u8],
    deadline: std::time::Instant,
    ok: impl Fn(&Response) -> bool,
) -> anyhow::Result<Measured> {
    let mut conn = connect(endpoint).await?;
    let (mut latencies, mut errors) = (Vec::new(), 0u64);
    while std::time::Instant::now() < deadline {
        let t = std::time::Instant::now();
        let r = send(&mut conn, head, body).await?;
        if ok(&r) {
            latencies.push(t.elapsed());
        } else {
            errors += 1;
        }
        if !r.keep_alive {
            conn = connect(endpoint).await?;
        }
    }
    Ok((latencies, errors))
}

/// What one client measured: the latency of each accepted answer, and how many were not.
pub type Measured = (Vec<std::time::Duration>, u64);

/// Wait for every client and pool what they measured.
pub async fn gather(clients: Vec<tokio::task::JoinHandle<anyhow::Result<Measured>>>) -> anyhow::Result<Measured> {
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for c in clients {
        let (l, e) = c.await??;
        latencies.extend(l);
        errors += e;
    }
    Ok((latencies, errors))
}
