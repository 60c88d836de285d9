//! Go's concurrent prime sieve: a generator feeds 2, 3, 4, ... into a chain
//! of filter tasks linked by rendezvous channels; each new prime found at the
//! end of the chain adds a filter that drops its multiples.
//!
//! ```text
//! cargo run -p uringo --release --example prime_sieve [count]   # default 100
//! ```

use uringo::chan::{Receiver, Sender};
use uringo::{chan, spawn};

/// Sends 2, 3, 4, ... until the receiver goes away.
async fn generate(tx: Sender<u64>) {
    let mut i = 2;
    while tx.send(i).await.is_ok() {
        i += 1;
    }
}

/// Passes on the values of `rx` that `prime` does not divide.
async fn filter(rx: Receiver<u64>, tx: Sender<u64>, prime: u64) {
    while let Some(i) = rx.recv().await {
        if i % prime != 0 && tx.send(i).await.is_err() {
            break;
        }
    }
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("count must be a number"))
        .unwrap_or(100);
    let primes = uringo::start(async move {
        let (tx, mut rx) = chan::<u64>(0);
        spawn(generate(tx));
        let mut primes = Vec::with_capacity(count);
        for _ in 0..count {
            let prime = rx.recv().await.expect("the chain never ends");
            primes.push(prime);
            let (next_tx, next_rx) = chan(0);
            spawn(filter(rx, next_tx, prime));
            rx = next_rx;
        }
        // Dropping the last receiver closes the chain from the end backwards.
        primes
    });
    assert!(
        primes.windows(2).all(|w| w[0] < w[1]),
        "primes come out in order"
    );
    assert!(
        primes
            .iter()
            .all(|&p| (2..p).take_while(|d| d * d <= p).all(|d| p % d != 0)),
        "every number printed is prime"
    );
    for p in &primes {
        println!("{p}");
    }
}
