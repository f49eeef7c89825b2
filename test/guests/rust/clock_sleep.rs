// std::time and std::thread::sleep (poll_oneoff with a relative clock): sleeping 50 ms takes
// at least 50 ms of Instant time; SystemTime is after 2020.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock before 1970");
    if since_epoch.as_secs() < 1_577_836_800 {
        eprintln!("FAIL clock_sleep: SystemTime is before 2020");
        std::process::exit(1);
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(50));
    let slept = start.elapsed();
    if slept < Duration::from_millis(50) {
        eprintln!("FAIL clock_sleep: slept only {:?}", slept);
        std::process::exit(1);
    }
    let a = Instant::now();
    let b = Instant::now();
    if b < a {
        eprintln!("FAIL clock_sleep: Instant went back");
        std::process::exit(1);
    }
    println!("slept at least 50 ms");
    println!("PASS clock_sleep");
}
