//! `flotilla-server healthcheck [URL]`: asks the server running in this container whether it
//! is ready (`GET /readyz`; by default on FLOTILLA_LISTEN's port over loopback) and exits 0
//! when it answers 200. The image has no shell and no HTTP client of its own: this is its
//! health check.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use url::Url;

/// How long connecting, asking and reading may each take.
const TIMEOUT: Duration = Duration::from_secs(4);

/// `/readyz` of the server listening on `listen`, over loopback when it listens on all
/// interfaces.
pub fn default_url(listen: SocketAddr) -> Url {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let address = SocketAddr::new(ip, listen.port());
    Url::parse(&format!("http://{address}/readyz")).unwrap_or_else(|_| unreachable!())
}

/// Whether `url` (plain `http://`) answers 200; why not, otherwise.
pub fn check(url: &Url) -> Result<(), String> {
    if url.scheme() != "http" {
        return Err(format!(
            "{url}: only http:// is asked (the check runs beside the server)"
        ));
    }
    let host = url.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let address = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address for {host}"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        &url[url::Position::BeforePath..]
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot ask {address}: {e}"))?;
    // The status line's first bytes are all it needs (`HTTP/1.1 200`).
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("no answer from {address}: {e}")),
        }
    }
    let status = String::from_utf8_lossy(&head[..read]);
    match status.split(' ').nth(1) {
        Some("200") => Ok(()),
        Some(code) => Err(format!("{url} answered {code}")),
        None => Err(format!("not an HTTP answer from {address}")),
    }
}
