//! Shared helpers for the integration tests.

use herald::config::{Config, Overrides, RawConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A fixed mtime for every fixture file, so dates that fall back to mtime are stable.
pub const FIXED_MTIME: u64 = 1_600_000_000;

pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Copy `tests/fixtures/<name>` into a new temporary folder (outside any git checkout).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture_dir(name), dir.path());
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            set_mtime(&target, FIXED_MTIME);
        }
    }
}

pub fn set_mtime(path: &Path, secs: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).unwrap();
}

/// A configuration for `root`, mirror in `out`, on 127.0.0.1 port 0, with extra TOML.
pub fn config_with(root: &Path, out: &Path, extra: &str) -> Arc<Config> {
    let text = format!(
        "[site]\ntitle = \"Test\"\nbase_url = \"https://feeds.example.org\"\nid_authority = \"feeds.example.org,2026\"\n{extra}"
    );
    let raw = RawConfig::parse(&text, Path::new("test.toml")).unwrap();
    let overrides = Overrides {
        content: Some(root.to_path_buf()),
        out: Some(out.to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        base_url: None,
    };
    Arc::new(raw.validate(&overrides, root).unwrap())
}

pub fn config(root: &Path, out: &Path) -> Arc<Config> {
    config_with(root, out, "[content]\ngit_dates = false\n")
}

/// Parse feed bytes with the independent feed-rs parser.
pub fn parse_feed(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("feed-rs cannot parse the feed: {e}"))
}

/// Titles of a parsed feed's entries, in order.
pub fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default())
        .collect()
}

/// Raw HTTP/1.1 over `TcpStream`, the one HTTP client of the blocking tests: requests are
/// written byte for byte, so nothing is normalised (the attack tests rely on that).
pub mod raw {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    #[derive(Debug, Clone)]
    pub struct Response {
        pub status: u16,
        /// Header names lower-cased, in order.
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// Send `request` as is on a new connection, read until the server closes it (the
    /// request should say `Connection: close`), parse the answer. `Err` when the server
    /// closed the connection without a parseable answer.
    pub fn send(addr: SocketAddr, request: &[u8]) -> Result<Response, String> {
        let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        // The server may answer (431, 414) and close before it has read everything; a
        // failed write is then not the failure, a missing answer is.
        let _ = stream.write_all(request);
        read_response(&mut stream)
    }

    /// Read one whole response (until EOF) from `stream` and parse it.
    pub fn read_response(stream: &mut TcpStream) -> Result<Response, String> {
        let mut buf = Vec::new();
        if let Err(e) = stream.read_to_end(&mut buf) {
            if buf.is_empty() {
                return Err(format!("read: {e}"));
            }
        }
        parse(&buf)
    }

    pub fn parse(buf: &[u8]) -> Result<Response, String> {
        let head_end = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("no complete head in {} bytes", buf.len()))?;
        let head = std::str::from_utf8(&buf[..head_end]).map_err(|e| e.to_string())?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let rest = &buf[head_end + 4..];
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
        let body = if chunked { dechunk(rest)? } else { rest.to_vec() };
        if let Some(len) = headers.iter().find(|(n, _)| n == "content-length") {
            let len: usize = len.1.parse().map_err(|_| "bad content-length".to_string())?;
            if len != body.len() && !body.is_empty() {
                return Err(format!("content-length {len} but {} body bytes", body.len()));
            }
        }
        Ok(Response { status, headers, body })
    }

    fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunk")?;
            let size_text = std::str::from_utf8(&rest[..eol]).map_err(|e| e.to_string())?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                .map_err(|e| format!("bad chunk size {size_text:?}: {e}"))?;
            rest = &rest[eol + 2..];
            if size == 0 {
                return Ok(out);
            }
            if rest.len() < size + 2 {
                return Err("truncated chunk".into());
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
    }

    /// `GET path` with extra header lines (each ending in `\r\n`).
    pub fn get_with(addr: SocketAddr, path: &str, extra: &str) -> Result<Response, String> {
        send(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    pub fn get(addr: SocketAddr, path: &str) -> Response {
        get_with(addr, path, "").unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}
