//! Reading a reply from a stream with a deadline and a byte cap: a peer can neither stall a
//! probe nor make it buffer more than it asked for.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// How a read ended.
#[derive(Debug)]
pub enum ReadEnd<T> {
    /// The bytes so far satisfied the check.
    Done(T),
    /// The peer closed the connection first.
    Closed,
    /// `max` bytes arrived without satisfying the check.
    Full,
    TimedOut,
    Failed(io::Error),
}

/// Reads into `buf` until `done` accepts its contents.
pub async fn read_until<S, T>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    max: usize,
    deadline: Instant,
    mut done: impl FnMut(&[u8]) -> Option<T>,
) -> ReadEnd<T>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(value) = done(buf) {
            return ReadEnd::Done(value);
        }
        if buf.len() >= max {
            return ReadEnd::Full;
        }
        let room = (max - buf.len()).min(chunk.len());
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk[..room])).await {
            Err(_) => return ReadEnd::TimedOut,
            Ok(Err(err)) => return ReadEnd::Failed(err),
            Ok(Ok(0)) => return ReadEnd::Closed,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes all of `bytes` before `deadline`.
pub async fn write_all<S>(stream: &mut S, bytes: &[u8], deadline: Instant) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    match tokio::time::timeout_at(deadline, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    {
        Ok(result) => result,
        Err(_) => Err(io::Error::from(io::ErrorKind::TimedOut)),
    }
}

impl<T> ReadEnd<T> {
    /// Why no answer was read, for evidence.
    pub fn describe(&self) -> String {
        match self {
            ReadEnd::Done(_) => "answered".into(),
            ReadEnd::Closed => "the server closed the connection without a usable answer".into(),
            ReadEnd::Full => "the answer grew past the read limit without parsing".into(),
            ReadEnd::TimedOut => "no answer before the timeout".into(),
            ReadEnd::Failed(err) => format!("the read failed: {err}"),
        }
    }
}
