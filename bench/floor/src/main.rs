//! `floor DIR`: read every `*.md` file below DIR once, on all cores; print files and bytes.
use std::{fs, path::PathBuf, sync::atomic::*, thread};

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("usage: floor DIR"));
    let (mut dirs, mut files) = (vec![root], Vec::new());
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let (p, t) = (e.path(), e.file_type().unwrap());
            if t.is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                dirs.push(p);
            } else if t.is_file() && p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    let (next, bytes) = (AtomicUsize::new(0), AtomicU64::new(0));
    thread::scope(|s| {
        for _ in 0..thread::available_parallelism().map_or(1, |n| n.get()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = files.get(i) else { break };
                bytes.fetch_add(fs::read(p).map_or(0, |b| b.len() as u64), Ordering::Relaxed);
            });
        }
    });
    println!("{} files, {} bytes", files.len(), bytes.load(Ordering::Relaxed));
}
