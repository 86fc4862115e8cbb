//! One small sort for the core's few sorts (a day's opening spans, the grid starts tried for
//! alternatives, table ids checked for duplicates): heapsort, a few hundred bytes of wasm per
//! element type where the standard library's sorts take several kilobytes each. The slices are
//! small and the keys totally ordered, so stability and speed on large inputs do not matter;
//! heapsort stays O(n log n) on any input.

/// Sorts `items` ascending.
pub(crate) fn sort<T: Ord>(items: &mut [T]) {
    if items.is_sorted() {
        return;
    }
    let len = items.len();
    for start in (0..len / 2).rev() {
        sift_down(items, start, len);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

/// Restores the max-heap property of `items[..end]` below `node`.
fn sift_down<T: Ord>(items: &mut [T], mut node: usize, end: usize) {
    loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && items[child] < items[child + 1] {
            child += 1;
        }
        if items[node] >= items[child] {
            return;
        }
        items.swap(node, child);
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_library() {
        let mut seed: u64 = 7;
        for len in 0..60 {
            for _ in 0..20 {
                let mut items: Vec<(u8, u8)> = (0..len)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        ((seed >> 60) as u8, (seed >> 56) as u8 & 3)
                    })
                    .collect();
                let mut expected = items.clone();
                expected.sort_unstable();
                sort(&mut items);
                assert_eq!(items, expected);
            }
        }
    }
}
