// SPDX-License-Identifier: MIT
//! The Tokio baseline of bench/run.sh: the workloads of bench/spawn_yield.c,
//! pingpong.c and lock.c written for Tokio as its users would, on a
//! current_thread runtime (one thread, as coscope's loop).  Each repetition
//! builds a fresh runtime, as coscope's benchmarks use a fresh loop; the clock
//! covers spawn + run + join inside it.  Best of --reps (default 3).
//!
//! Usage: coscope-bench-tokio spawn_yield|pingpong|lock [--reps N] [--scale F]
//! Prints seconds=S.
use std::time::Instant;
use tokio::sync::{mpsc, Mutex};
use std::sync::Arc;

async fn spawn_yield(n: usize) -> f64 {
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(tokio::spawn(async {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    t0.elapsed().as_secs_f64()
}

async fn pingpong(rounds: usize) -> f64 {
    let (tx1, mut rx1) = mpsc::unbounded_channel::<usize>();
    let (tx2, mut rx2) = mpsc::unbounded_channel::<usize>();
    let t0 = Instant::now();
    let consumer = tokio::spawn(async move {
        for _ in 0..rounds {
            let v = rx1.recv().await.unwrap();
            tx2.send(v).unwrap();
        }
    });
    let producer = tokio::spawn(async move {
        for i in 0..rounds {
            tx1.send(i).unwrap();
            rx2.recv().await.unwrap();
        }
    });
    producer.await.unwrap();
    consumer.await.unwrap();
    t0.elapsed().as_secs_f64()
}

async fn lock(n: usize) -> f64 {
    let m = Arc::new(Mutex::new(0u64));
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(100);
    for _ in 0..100 {
        let m = m.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..n {
                let mut g = m.lock().await;
                tokio::task::yield_now().await;
                *g += 1;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(*m.lock().await, 100 * n as u64);
    secs
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).cloned().unwrap_or_default();
    let mut reps = 3;
    let mut scale = 1.0f64;
    let mut i = 2;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "--reps" => reps = args[i + 1].parse().expect("--reps N"),
            "--scale" => scale = args[i + 1].parse().expect("--scale F"),
            _ => panic!("unknown option {}", args[i]),
        }
        i += 2;
    }
    let scaled = |n: f64| ((n * scale) as usize).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let s = match which.as_str() {
            "spawn_yield" => rt.block_on(spawn_yield(scaled(100_000.0))),
            "pingpong" => rt.block_on(pingpong((scaled(1_000_000.0) / 2).max(1))),
            "lock" => rt.block_on(lock(scaled(10_000.0))),
            _ => {
                eprintln!("usage: coscope-bench-tokio spawn_yield|pingpong|lock [--reps N] [--scale F]");
                std::process::exit(2);
            }
        };
        best = best.min(s);
    }
    println!("seconds={:.6}", best);
}
