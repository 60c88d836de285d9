//! RESP2 on the wire through the `redis-protocol` crate: commands out as
//! arrays of bulk strings, replies in as [`Reply`] frames sliced from the
//! receive buffer without copying.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::decode::decode_bytes_mut;
use redis_protocol::resp2::encode::extend_encode_borrowed;
use redis_protocol::resp2::types::{BorrowedFrame, BytesFrame};

/// One reply (or pushed pub/sub message) from Redis.
pub type Reply = BytesFrame;

/// Appends `args` as one command (an array of bulk strings) to `out`.
pub fn encode_command(out: &mut BytesMut, args: &[&[u8]]) {
    let parts: Vec<BorrowedFrame<'_>> = args.iter().map(|a| BorrowedFrame::BulkString(a)).collect();
    extend_encode_borrowed(out, &BorrowedFrame::Array(&parts), false)
        .expect("encoding into a growable buffer cannot fail");
}

/// One command as its own buffer.
pub fn command(args: &[&[u8]]) -> Bytes {
    let mut out = BytesMut::new();
    encode_command(&mut out, args);
    out.freeze()
}

/// Splits the next complete frame off the front of `buf`, `Ok(None)` when
/// more bytes are needed. An error means the stream is not RESP: the
/// connection must be dropped.
pub fn next_frame(buf: &mut BytesMut) -> Result<Option<Reply>, String> {
    match decode_bytes_mut(buf) {
        Ok(Some((frame, _, _))) => Ok(Some(frame)),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("bad RESP from redis: {e:?}")),
    }
}

/// The reply's bytes if it is a (simple or bulk) string.
pub fn as_bytes(reply: &Reply) -> Option<&Bytes> {
    match reply {
        BytesFrame::BulkString(b) | BytesFrame::SimpleString(b) => Some(b),
        _ => None,
    }
}

/// The reply as an integer (integers, or strings holding one).
pub fn as_int(reply: &Reply) -> Option<i64> {
    match reply {
        BytesFrame::Integer(i) => Some(*i),
        other => std::str::from_utf8(as_bytes(other)?).ok()?.parse().ok(),
    }
}

/// The reply's elements if it is an array (`Null` counts as empty).
pub fn as_array(reply: &Reply) -> Option<&[Reply]> {
    match reply {
        BytesFrame::Array(items) => Some(items),
        BytesFrame::Null => Some(&[]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            &command(&[b"SET", b"k", b"a b"])[..],
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n"
        );
    }

    #[test]
    fn frames_are_split_off_as_they_complete() {
        let mut buf = BytesMut::from(&b"+OK\r\n:42\r\n*2\r\n$1\r\na\r\n$-1\r\n*1\r\n$5\r\nhel"[..]);
        assert_eq!(
            as_bytes(&next_frame(&mut buf).unwrap().unwrap()).unwrap(),
            "OK"
        );
        assert_eq!(as_int(&next_frame(&mut buf).unwrap().unwrap()), Some(42));
        let array = next_frame(&mut buf).unwrap().unwrap();
        let items = as_array(&array).unwrap();
        assert_eq!(as_bytes(&items[0]).unwrap(), "a");
        assert_eq!(items[1], BytesFrame::Null);
        assert_eq!(
            next_frame(&mut buf).unwrap(),
            None,
            "incomplete frame waits"
        );
        buf.extend_from_slice(b"lo\r\n");
        assert!(next_frame(&mut buf).unwrap().is_some());
        assert!(buf.is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(next_frame(&mut BytesMut::from(&b"?what\r\n"[..])).is_err());
    }
}
