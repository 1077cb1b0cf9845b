//! Workbooks on their way to the user: built in memory (the small ones) or streamed as the
//! writer produces them (a unit's form, which may hold 100,000 records), and the HTTP answer
//! that carries either.

use std::io::{self, Write};

use axum::{
    body::Body,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio::sync::mpsc;

/// Media type of an xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Chunks of a streamed file, in order; an error ends it early (the download then fails).
pub type Chunks = mpsc::Receiver<io::Result<Vec<u8>>>;

/// A workbook to download.
pub struct Workbook {
    /// Suggested file name.
    pub file_name: String,
    /// Its bytes.
    pub content: Content,
}

/// The bytes of a workbook.
pub enum Content {
    /// Built whole, in memory.
    Bytes(Vec<u8>),
    /// Being written: sent as they come, never held whole.
    Chunks(Chunks),
}

impl Workbook {
    /// A workbook built whole in memory.
    pub fn in_memory(file_name: String, bytes: Vec<u8>) -> Self {
        Workbook {
            file_name,
            content: Content::Bytes(bytes),
        }
    }

    /// Writes the whole workbook to `out` as its bytes come; how many were written. On an
    /// error, `out` holds part of the file only.
    pub async fn write_to(self, out: &mut impl Write) -> io::Result<u64> {
        match self.content {
            Content::Bytes(b) => out.write_all(&b).map(|()| b.len() as u64),
            Content::Chunks(mut rx) => {
                let mut n = 0;
                while let Some(chunk) = rx.recv().await {
                    let chunk = chunk?;
                    out.write_all(&chunk)?;
                    n += chunk.len() as u64;
                }
                Ok(n)
            }
        }
    }
}

/// A response body sending `chunks` as they come.
pub fn stream_body(chunks: Chunks) -> Body {
    Body::from_stream(futures_util::stream::unfold(chunks, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// A `200 OK` with `body` as the attachment `file_name` of type `media_type`.
pub fn attachment(body: Body, file_name: &str, media_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

impl IntoResponse for Workbook {
    fn into_response(self) -> Response {
        let body = match self.content {
            Content::Bytes(b) => Body::from(b),
            Content::Chunks(rx) => stream_body(rx),
        };
        attachment(body, &self.file_name, XLSX)
    }
}

/// Bytes handed on per chunk.
const CHUNK: usize = 256 * 1024;

/// Bytes held back until [`ChunkWriter::finish`]: more than a zip's end record (22 bytes), so
/// that a file whose writing failed never reaches the user whole.
const TAIL: usize = 64;

/// A `Write` (for a writer running on a blocking thread) handing its bytes on in chunks to a
/// [`Content::Chunks`] being sent. The last bytes go only with [`ChunkWriter::finish`].
pub struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    /// A writer and the chunks it will send.
    pub fn new() -> (Self, Chunks) {
        let (tx, rx) = mpsc::channel(2);
        let w = ChunkWriter {
            tx,
            buf: Vec::with_capacity(CHUNK + TAIL),
        };
        (w, rx)
    }

    fn send(&self, chunk: io::Result<Vec<u8>>) -> io::Result<()> {
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was abandoned"))
    }

    /// Sends the bytes held back: the file is complete.
    pub fn finish(mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.buf);
        self.send(Ok(rest))
    }

    /// Ends the file with an error instead (the download fails).
    pub fn fail(self, e: impl std::fmt::Display) {
        let _ = self.send(Err(io::Error::other(e.to_string())));
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK + TAIL {
            let tail = self.buf.split_off(self.buf.len() - TAIL);
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + TAIL));
            self.buf.extend_from_slice(&tail);
            self.send(Ok(chunk))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut rx: Chunks) -> Vec<io::Result<Vec<u8>>> {
        std::iter::from_fn(|| rx.blocking_recv()).collect()
    }

    #[test]
    fn a_chunk_writer_sends_every_byte_in_order_and_the_last_ones_only_when_finished() {
        let (mut w, rx) = ChunkWriter::new();
        let data: Vec<u8> = (0..(3 * CHUNK + 1000)).map(|i| (i % 251) as u8).collect();
        let reader = std::thread::spawn(move || drain(rx));
        for piece in data.chunks(7_000) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap();
        let got: Vec<u8> = reader
            .join()
            .unwrap()
            .into_iter()
            .flat_map(|c| c.unwrap())
            .collect();
        assert_eq!(got, data);
    }

    #[test]
    fn a_failed_file_never_arrives_whole() {
        let (mut w, rx) = ChunkWriter::new();
        let data = vec![7u8; CHUNK + 5_000];
        let reader = std::thread::spawn(move || drain(rx));
        w.write_all(&data).unwrap();
        w.fail("the database went away");
        let chunks = reader.join().unwrap();
        let last = chunks.last().unwrap();
        assert!(last.is_err(), "the download ends with the error");
        let sent: usize = chunks
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .map(Vec::len)
            .sum();
        assert!(sent <= data.len() - TAIL, "sent {sent} of {}", data.len());
    }
}
