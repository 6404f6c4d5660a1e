// Rust test program for the addr2line mode: generics, closures, trait
// methods, inlined functions.
use std::collections::BTreeMap;

trait Shape {
    fn area(&self) -> f64;
}
struct Rect {
    w: f64,
    h: f64,
}
impl Shape for Rect {
    #[inline(never)]
    fn area(&self) -> f64 {
        self.w * self.h
    }
}
#[inline(never)]
fn biggest<T: PartialOrd + Copy>(v: &[T]) -> T {
    let mut b = v[0];
    for &x in v {
        if x > b {
            b = x;
        }
    }
    b
}
#[inline(always)]
fn twice(x: u64) -> u64 {
    x.wrapping_mul(2) ^ (x >> 3)
}
#[inline(never)]
fn count(words: &[String]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for w in words {
        *m.entry(w.as_str()).or_insert(0) += 1;
    }
    m
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let r: Box<dyn Shape> = Box::new(Rect { w: args.len() as f64, h: 2.0 });
    let n = args.len() as u64;
    let f = |k: u64| twice(k + n);
    let v: Vec<u64> = (0..n + 5).map(f).collect();
    let m = count(&args);
    println!("{} {} {} {}", r.area(), biggest(&v), biggest(&[1.5, n as f64]), m.len());
}
