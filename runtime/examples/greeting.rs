//! A goroutine printing while `main` sleeps: the "hello, world" of tasks.
//!
//! ```text
//! cargo run -p uringo --example greeting
//! ```

use std::time::Duration;

fn main() {
    uringo::start(async {
        uringo::spawn(async {
            for i in 0..5 {
                println!("hello from a goroutine on core {} ({i})", uringo::core_id());
                uringo::time::sleep(Duration::from_millis(100)).await;
            }
        });
        println!("main sleeps for 600 ms");
        uringo::time::sleep(Duration::from_millis(600)).await;
        println!("main wakes up and exits");
    });
}
