//! The compat stream types: a native stream behind the poll-based I/O
//! traits, with its split halves. One macro makes them for each native
//! stream (TCP in [`tcp`](super::tcp), Unix in [`unix`](super::unix)), so
//! the two cannot differ.

/// A compat stream `$name` over native `$native`, and its halves.
macro_rules! compat_stream {
    ($name:ident, $native:ty, $read_half:ident, $write_half:ident) => {
        /// A connection implementing `tokio::io::{AsyncRead, AsyncWrite}`,
        /// `futures_io::{AsyncRead, AsyncWrite}` and hyper's
        /// `rt::{Read, Write}` over the native stream.
        ///
        /// Reads copy once, from the provided buffer the kernel filled into
        /// the caller's buffer; when the caller's buffer is the smaller, the
        /// rest waits in the stream for the next read (holding that one
        /// ring buffer until then). Writes copy the caller's bytes into an
        /// owned buffer and submit it; `poll_write` returns `Ready(Ok(n))`
        /// once `n` bytes are accepted, and waits for that write before
        /// accepting the next. An error of an accepted write is returned by
        /// the next write, flush or shutdown.
        ///
        /// Cancel safety is the native API's: dropping a read loses nothing
        /// (the unread rest of a buffer stays in the stream). Dropping the
        /// stream without `poll_flush` cancels a write still in flight, as
        /// dropping a native `write_all` future does; its buffer is kept
        /// until the kernel lets go. Call `flush` (or `shutdown`) before
        /// dropping to be sure it was sent.
        #[derive(Debug)]
        pub struct $name {
            stream: std::rc::Rc<$native>,
            reader: $crate::compat::io::Reader,
            writer: $crate::compat::io::Writer,
        }

        impl $name {
            /// Wraps a native stream.
            pub fn new(stream: $native) -> $name {
                $name {
                    stream: std::rc::Rc::new(stream),
                    reader: Default::default(),
                    writer: Default::default(),
                }
            }

            /// The native stream, for its socket options and addresses.
            pub fn get_ref(&self) -> &$native {
                &self.stream
            }

            /// Splits the stream into a read half and a write half, for
            /// two tasks of this core.
            pub fn into_split(self) -> ($read_half, $write_half) {
                let read = $read_half {
                    stream: self.stream.clone(),
                    reader: self.reader,
                };
                let write = $write_half {
                    stream: self.stream,
                    writer: self.writer,
                };
                (read, write)
            }
        }

        impl From<$native> for $name {
            fn from(stream: $native) -> $name {
                $name::new(stream)
            }
        }

        #[doc = concat!("The read half of [`", stringify!($name), "::into_split`].")]
        #[derive(Debug)]
        pub struct $read_half {
            stream: std::rc::Rc<$native>,
            reader: $crate::compat::io::Reader,
        }

        #[doc = concat!("The write half of [`", stringify!($name), "::into_split`].")]
        /// Dropping it shuts down the write side, so the peer sees end of
        /// stream (as tokio's owned halves do).
        #[derive(Debug)]
        pub struct $write_half {
            stream: std::rc::Rc<$native>,
            writer: $crate::compat::io::Writer,
        }

        impl Drop for $write_half {
            fn drop(&mut self) {
                let _ = self.stream.shutdown(std::net::Shutdown::Write);
            }
        }

        $crate::compat::traits::impl_read!($name);
        $crate::compat::traits::impl_write!($name);
        $crate::compat::traits::impl_read!($read_half);
        $crate::compat::traits::impl_write!($write_half);
    };
}

pub(crate) use compat_stream;
